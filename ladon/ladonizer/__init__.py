"""The service model: ``@ladonize``, method and service descriptions, and
service discovery."""

from __future__ import annotations

from .decorator import CallbackSpec as CallbackSpec
from .decorator import MethodSpec as MethodSpec
from .decorator import callback_method as callback_method
from .decorator import ladonize as ladonize
from .model import MethodInfo as MethodInfo
from .model import MethodKind as MethodKind
from .model import ParamInfo as ParamInfo
from .model import ServiceInfo as ServiceInfo
