"""The service model: ``@ladonize``, method and service descriptions, and
service discovery."""

from __future__ import annotations

from .decorator import MethodSpec as MethodSpec
from .decorator import ladonize as ladonize
from .model import MethodInfo as MethodInfo
from .model import MethodKind as MethodKind
from .model import ParamInfo as ParamInfo
from .model import ServiceInfo as ServiceInfo
