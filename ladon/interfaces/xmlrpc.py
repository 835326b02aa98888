"""XML-RPC."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from ..exceptions.service import MalformedRequest
from ..exceptions.service import ServiceFault
from .base import Call
from .base import Interface
from .base import Payload


class XMLRPCInterface(Interface):
    """The ``xmlrpc`` interface.

    .. versionadded:: 2.0
    """

    name: ClassVar[str] = "xmlrpc"
    content_type: ClassVar[str] = "application/json; charset=utf-8"

    def decode_call(self, body: bytes, headers: Mapping[str, str]) -> Call:
        raise MalformedRequest("not implemented yet")

    def encode_result(self, call: Call, result: object) -> Payload:
        raise NotImplementedError

    def encode_fault(self, fault: ServiceFault, call: Call | None) -> Payload:
        return Payload(fault.faultstring.encode(), "text/plain; charset=utf-8", 200)
