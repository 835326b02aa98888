"""What the RPC interfaces (JSON-RPC 2.0, XML-RPC) share: the standard
error codes of the JSON-RPC specification and of the XML-RPC "fault code
interoperability" specification, which agree."""

from __future__ import annotations

from ..exceptions.service import ArgumentError
from ..exceptions.service import MalformedRequest
from ..exceptions.service import ResultError
from ..exceptions.service import ServiceFault
from ..exceptions.service import UnknownMethod

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603


class InvalidRequest(MalformedRequest):
    """The body parses but is not a request of the protocol (-32600).

    .. versionadded:: 2.0
    """


def standard_code(fault: ServiceFault) -> int | None:
    """The standard code of a fault the framework raised while decoding a
    request or encoding a result; ``None`` for a fault of the service."""
    if isinstance(fault, InvalidRequest):
        return INVALID_REQUEST
    if isinstance(fault, MalformedRequest):
        return PARSE_ERROR
    if isinstance(fault, UnknownMethod):
        return METHOD_NOT_FOUND
    if isinstance(fault, ArgumentError):
        return INVALID_PARAMS
    if isinstance(fault, ResultError):
        return INTERNAL_ERROR
    return None
