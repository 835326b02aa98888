"""JSON-RPC 2.0 (https://www.jsonrpc.org/specification).

Request ``{"jsonrpc": "2.0", "method": M, "params": [...] | {...}, "id": X}``:
``params`` may be left out (no arguments) and is positional (an array, in
declaration order, trailing optional parameters may be left out) or named
(an object). ``id`` is a string, a number or ``null``; without it the
request is a *notification*: the method runs and nothing is answered (HTTP
204, empty body), errors included, as the specification requires.

Response ``{"jsonrpc": "2.0", "result": R, "id": X}`` (the id in its own JSON
type) or ``{"jsonrpc": "2.0", "error": {"code", "message", "data"}, "id": X}``
with ``id`` ``null`` when it could not be read from the request. Every
error is HTTP 200 (as for the other JSON protocols). ``data`` is always
``{"code": "client"|"server", "detail": [lines], "hint": str}``, the Ladon
fault members (``detail`` carries a traceback only in debug mode).

Error codes:

======  ================  ==================================================
code    message           when
======  ================  ==================================================
-32700  (the reason)      the body is not JSON: malformed, not valid in its
                          charset, empty, or nested too deeply; or it
                          could not be read (too large, bad length or
                          Content-Encoding: HTTP 413, 400, 411 or 415)
-32600  (the reason)      not a Request object: not an object, ``jsonrpc``
                          not ``"2.0"``, ``method`` not a string, ``params``
                          neither array nor object, ``id`` of another type,
                          empty or oversized batch
-32601  (the reason)      the service has no such method
-32602  (the reason)      an argument is missing, unknown or of the wrong
                          type (the message names it)
-32603  Internal error    the server failed outside the method (logged, no
                          traceback unless in debug mode)
-32603  (the reason)      the method's result does not match its declared
                          type
-32000  faultstring       the method raised a :class:`ClientFault`
-32001  faultstring       the method raised a :class:`ServerFault`, or failed
                          unexpectedly ("Internal server error", the request
                          id in ``data.detail``), in a batch as in a single
                          call
======  ================  ==================================================

Batches: a JSON array of requests is answered by an array of responses
(none for notifications; HTTP 204 with an empty body when every element is
a notification); each element is decoded, run and answered on its own
(:meth:`~JSONRPCInterface.decode_call` gives a :class:`~.base.Batch`, the
server runs each call as a single one, :meth:`~JSONRPCInterface.encode_batch`
writes the array). A batch holds at most :attr:`JSONRPCInterface.max_batch`
elements.

Description (``/<Service>/jsonrpc/description``): the ``jsonrpc10`` one
(``"type": "jsonrpc/description"``) with ``"version": "2.0"``. The method
``rpc.discover`` (no parameters) answers with the service's OpenRPC 1.3
document (:mod:`ladon.interfaces.openrpc`), unless the service has a
method of that name itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import ClassVar

from ..exceptions.service import ServerFault
from ..exceptions.service import ServiceFault
from ..ladonizer.model import MethodInfo
from ..ladonizer.model import MethodKind
from ..types.convert import Converted
from ._json import dumps_bytes
from ._json import dumps_value
from ._json import loads_json
from ._rpc import INTERNAL_ERROR as INTERNAL_ERROR
from ._rpc import INVALID_PARAMS as INVALID_PARAMS
from ._rpc import INVALID_REQUEST as INVALID_REQUEST
from ._rpc import METHOD_NOT_FOUND as METHOD_NOT_FOUND
from ._rpc import PARSE_ERROR as PARSE_ERROR
from ._rpc import InvalidRequest as InvalidRequest
from ._rpc import standard_code
from .base import ABSENT
from .base import Batch
from .base import Call
from .base import Interface
from .base import Outcome
from .base import Payload
from .base import RequestFault
from .base import WireRequest
from .jsonrpc10 import rpc_description
from .openrpc import DISCOVER
from .openrpc import openrpc_document

#: ``rpc.discover``, answered by the interface itself.
DISCOVER_METHOD = MethodInfo(
    DISCOVER,
    "",
    (),
    str,
    doc=("The OpenRPC document of the service.",),
    kind=MethodKind.INTROSPECTION,
)

#: A :class:`ClientFault` raised by the method.
CLIENT_FAULT = -32000
#: A :class:`ServerFault` raised by the method.
SERVER_FAULT = -32001


class InternalError(ServerFault):
    """An unexpected exception while running a call (-32603).

    .. versionadded:: 2.0
    """

    def __init__(self, detail: str | None = None) -> None:
        super().__init__("Internal error", detail=detail)


def error_code(fault: ServiceFault) -> int:
    """The JSON-RPC 2.0 error code of a fault (see the module docstring)."""
    if isinstance(fault, RequestFault):
        fault = fault.original
    if isinstance(fault, InternalError):
        return INTERNAL_ERROR
    code = standard_code(fault)
    if code is not None:
        return code
    return CLIENT_FAULT if fault.is_client else SERVER_FAULT


def _valid_id(value: object) -> bool:
    return value is None or (isinstance(value, str | int | float) and not isinstance(value, bool))


class JSONRPCInterface(Interface):
    """The ``jsonrpc`` interface (JSON-RPC 2.0).

    .. versionadded:: 2.0
    """

    name: ClassVar[str] = "jsonrpc"
    content_type: ClassVar[str] = "application/json; charset=utf-8"
    #: Errors found reading the body (too large, bad length, unknown
    #: coding) are answered with this interface's fault.
    http_errors_as_faults: ClassVar[bool] = True
    #: Largest number of requests in one batch.
    max_batch: ClassVar[int] = 1000

    # -- requests ------------------------------------------------------------------

    def decode_call(self, request: WireRequest) -> Call | Batch:
        data = loads_json(request.body, request.content_type)
        if not isinstance(data, list):
            return self._decode(data)
        if not data:
            raise InvalidRequest("A batch must hold at least one request")
        if len(data) > self.max_batch:
            raise InvalidRequest(f"A batch may hold at most {self.max_batch} requests")
        items: list[Call | ServiceFault] = []
        for item in data:
            try:
                items.append(self._decode(item))
            except ServiceFault as fault:
                items.append(fault)
        return Batch(tuple(items))

    def _decode(self, data: object) -> Call:
        """Check one Request object and bind its arguments.

        :raises RequestFault: wrapping the fault, with the id to answer with.
        """
        rid: object = ABSENT
        notification = False
        try:
            if not isinstance(data, dict):
                raise InvalidRequest("A request must be a JSON object")
            rid = data.get("id", ABSENT)
            if rid is not ABSENT and not _valid_id(rid):
                rid = ABSENT
                raise InvalidRequest('"id" must be a string, a number or null')
            if data.get("jsonrpc") != "2.0":
                raise InvalidRequest('The request must have "jsonrpc": "2.0"')
            name = data.get("method")
            if not isinstance(name, str):
                raise InvalidRequest('"method" must be a string')
            notification = rid is ABSENT
            if name == DISCOVER and name not in self.service.methods:
                m = DISCOVER_METHOD
            else:
                m = self.method(name)
            params = data.get("params", ABSENT)
            if params is ABSENT:
                args = self.bind_named(m, {})
            elif isinstance(params, list):
                args = self.bind_positional(m, params)
            elif isinstance(params, dict):
                args = self.bind_named(m, params)
            else:
                raise InvalidRequest('"params" must be an array or an object')
        except ServiceFault as fault:
            raise RequestFault(fault, rid, notification) from None
        return Call(m, args, id=rid, notification=notification)

    def run_introspection(self, call: Call) -> object:
        """Answer ``rpc.discover``: the service's OpenRPC document."""
        if call.method is DISCOVER_METHOD:
            return Converted(openrpc_document(self.service))
        return super().run_introspection(call)

    # -- answers -------------------------------------------------------------------

    def encode_result(self, call: Call, result: object) -> Payload:
        if call.notification:
            return Payload(b"", self.content_type, 204)
        # PERF: written around the result (the bytes the encoder writes)
        body = (
            b'{"jsonrpc": "2.0", "result": '
            + dumps_value(self.dump_result(call, result))
            + b', "id": '
            + dumps_bytes(call.id)
            + b"}"
        )
        return Payload(body, self.content_type)

    def encode_fault(self, fault: ServiceFault, call: Call | None) -> Payload:
        return self._payload(self._error_object(fault, call))

    def encode_batch(self, batch: Batch, outcomes: Sequence[Outcome]) -> Payload:
        """The array of responses (none for notifications); HTTP 204 with an
        empty body when every element was a notification."""
        responses = []
        for outcome in outcomes:
            response = self._answer(outcome)
            if response is not None:
                responses.append(response)
        if not responses:
            return Payload(b"", self.content_type, 204)
        return Payload(dumps_bytes(responses), self.content_type)

    def _answer(self, outcome: Outcome) -> dict[str, Any] | None:
        call = outcome.call
        if outcome.fault is None and call is not None:
            try:
                return self._result_object(call, outcome.result)
            except ServiceFault as fault:  # the result does not fit its type
                return self._error_object(fault, call)
        # NOTE: an unexpected exception is -32001 "Internal server error" in a
        # batch as in a single call (a server error of the method, in the
        # range the specification leaves to implementations)
        return self._error_object(outcome.fault or InternalError(), call)

    def _payload(self, response: dict[str, Any] | None) -> Payload:
        if response is None:
            return Payload(b"", self.content_type, 204)
        return Payload(dumps_bytes(response), self.content_type)

    def _result_object(self, call: Call, result: object) -> dict[str, Any] | None:
        if call.notification:
            return None
        return {"jsonrpc": "2.0", "result": self.dump_result(call, result), "id": call.id}

    def _error_object(self, fault: ServiceFault, call: Call | None) -> dict[str, Any] | None:
        rid: object = ABSENT
        notification = False
        if call is not None:
            rid, notification = call.id, call.notification
        elif isinstance(fault, RequestFault):
            rid, notification = fault.id, fault.notification
        if notification:
            return None
        error = {
            "code": error_code(fault),
            "message": fault.faultstring,
            "data": {
                "code": fault.faultcode,
                "detail": fault.detail.splitlines() if fault.detail else [],
                "hint": fault.hint,
            },
        }
        return {"jsonrpc": "2.0", "error": error, "id": None if rid is ABSENT else rid}

    # -- description ---------------------------------------------------------------

    def describe(self, base_url: str, query: Mapping[str, str]) -> Payload:
        return Payload(dumps_bytes(rpc_description(self, base_url, "2.0")), self.content_type)
