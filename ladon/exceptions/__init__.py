"""Exceptions: faults a service raises (:mod:`.service`) and definition errors
raised at import time when ``@ladonize`` or a ``LadonType`` is misused
(:mod:`.ladonizer`)."""

from __future__ import annotations

from .base import DefinitionError as DefinitionError
from .base import LadonError as LadonError
from .service import ArgumentError as ArgumentError
from .service import ClientFault as ClientFault
from .service import MalformedRequest as MalformedRequest
from .service import ServerFault as ServerFault
from .service import ServiceFault as ServiceFault
from .service import UnknownMethod as UnknownMethod
