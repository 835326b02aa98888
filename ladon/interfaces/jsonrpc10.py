"""JSON-RPC 1.0 (Ladon 1.0's ``jsonrpc10``).

Request ``{"method": M, "params": [...], "id": X}``: the three members are
required. ``params`` is an array (JSON-RPC 1.0 knows no named arguments):
positional, in declaration order; trailing optional parameters may be left
out (Ladon 1.0 required them all).

Response ``{"result": R, "id": X, "error": null}`` (Ladon 1.0's member order);
the id comes back in its own JSON type (Ladon 1.0 turned numbers into
strings). Error::

    {"result": null,
     "error": {"code": "client"|"server", "string": ..., "detail": [lines],
               "filename": null, "lineno": null, "hint": ...},
     "id": X}

``id`` is ``null`` when the request could not be read as a JSON object with
an ``id``. Every error is HTTP 200, as Ladon 1.0 clients expect.

Description (``/<Service>/jsonrpc10/description``): the JSON-WSP layout with
``"type": "jsonrpc/description"``, ``"version": "1.0"``, type attributes as
bare type names (``{"Point": {"x": "number", "y": "number"}}``) and the doc
lines always included.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import ClassVar

from ..exceptions.service import MalformedRequest
from ..exceptions.service import ServiceFault
from ..ladonizer.model import ParamInfo
from ..wire.schema import json_type
from ._json import default_text
from ._json import dumps_bytes
from ._json import dumps_value
from ._json import fault_members
from ._json import loads_request
from .base import Call
from .base import Interface
from .base import Payload
from .base import RequestFault
from .base import WireRequest


def _rpc_param(order: int, p: ParamInfo) -> dict[str, Any]:
    d: dict[str, Any] = {
        "type": json_type(p.type),
        "def_order": order,
        "optional": p.optional,
        "doc_lines": list(p.doc),
    }
    if p.optional:
        d["default"] = default_text(p.default)
    if p.nullable:
        d["nullable"] = True
    return d


def rpc_description(iface: Interface, base_url: str, version: str) -> dict[str, Any]:
    """The JSON-RPC description of ``iface``'s service.

    The JSON-WSP description layout with ``"type": "jsonrpc/description"``,
    type attributes as bare type names and every doc line included.

    :param iface: the interface (its service and endpoint URL are described).
    :param base_url: the application's public URL.
    :param version: the ``version`` member (``"1.0"`` or ``"2.0"``).

    .. versionadded:: 2.0
    """
    service = iface.service
    types = {
        t.__name__: {f.name: json_type(f.type) for f in t.ladon_type_info().fields}
        for t in service.types
    }
    methods = {
        m.name: {
            "params": {p.name: _rpc_param(i, p) for i, p in enumerate(m.params, 1)},
            "doc_lines": list(m.doc),
            "ret_info": {
                "type": json_type(m.rtype),
                **({"nullable": True} if m.rtype_nullable else {}),
                "doc_lines": list(m.rtype_doc),
            },
        }
        for m in service.methods.values()
    }
    return {
        "servicename": service.name,
        "url": iface.endpoint_url(base_url),
        "type": "jsonrpc/description",
        "version": version,
        "types": types,
        "methods": methods,
    }


class JSONRPC10Interface(Interface):
    """The ``jsonrpc10`` interface.

    .. versionadded:: 2.0
    """

    name: ClassVar[str] = "jsonrpc10"
    content_type: ClassVar[str] = "application/json; charset=utf-8"
    #: Errors found reading the body (too large, bad length, unknown
    #: coding) are answered with this interface's fault.
    http_errors_as_faults: ClassVar[bool] = True

    def decode_call(self, request: WireRequest) -> Call:
        req = loads_request(request.body, request.content_type)
        rid = req.get("id")
        try:
            for key in ("method", "params", "id"):
                if key not in req:
                    raise MalformedRequest(f'The request has no "{key}" member')
            m = self.method(req["method"])
            params = req["params"]
            if not isinstance(params, list):  # JSON-RPC 1.0: "An Array of objects"
                raise MalformedRequest('"params" must be a JSON array of positional arguments')
            args = self.bind_positional(m, params)
        except ServiceFault as fault:
            raise RequestFault(fault, rid) from None
        return Call(m, args, id=rid)

    def encode_result(self, call: Call, result: object) -> Payload:
        # PERF: written around the result (the bytes the encoder writes for
        # {"result": R, "id": X, "error": null})
        body = (
            b'{"result": '
            + dumps_value(self.dump_result(call, result))
            + b', "id": '
            + dumps_bytes(call.id)
            + b', "error": null}'
        )
        return Payload(body, self.content_type)

    def encode_fault(self, fault: ServiceFault, call: Call | None) -> Payload:
        if call is not None:
            rid = call.id
        elif isinstance(fault, RequestFault):
            rid = fault.id
        else:
            rid = None
        out = {
            "result": None,
            "error": fault_members(fault),
            "id": rid,
        }
        return Payload(dumps_bytes(out), self.content_type)

    def describe(self, base_url: str, query: Mapping[str, str]) -> Payload:
        return Payload(dumps_bytes(rpc_description(self, base_url, "1.0")), self.content_type)
