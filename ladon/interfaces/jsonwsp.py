"""JSON-WSP 1.0/1.1 (Ladon 1.0's JSON protocol).

Request ``{"methodname": M, "args": {...}, "mirror": any}``; response
``{"servicename", "servicenumber", "result", "reflection", "type":
"jsonwsp/response", "version": "1.0", "methodname"}``; fault
``{"type": "jsonwsp/fault", "version": "1.0", "fault": {"code", "string",
"detail", "filename", "lineno", "hint"}}`` (always HTTP 200, as Ladon 1.0
clients expect). Description: ``jsonwsp/description`` version 1.1.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import ClassVar

from ..exceptions.service import MalformedRequest
from ..exceptions.service import ServiceFault
from ..ladonizer.model import ParamInfo
from ..ladonizer.model import ServiceInfo
from ..types.attachment import attachment
from ..types.convert import Options
from ..types.convert import dump
from ..types.ladontype import FieldInfo
from ..wire.multipart import collect_attachments
from ..wire.multipart import related_response
from ..wire.schema import json_type
from ..wire.schema import rule_keys
from ._json import default_text
from ._json import dumps_bytes
from ._json import dumps_value
from ._json import fault_members
from ._json import loads_json
from .base import ABSENT
from .base import Call
from .base import Interface
from .base import Payload
from .base import WireRequest

#: How a response refers to its n-th attachment part (Ladon 1.0's names).
_ATTACHMENT_REF = "cid:ladon-attachment-{}"


def _doc(lines: tuple[str, ...], include: bool) -> list[str]:
    return list(lines) if include else []


class JSONWSPInterface(Interface):
    """The ``jsonwsp`` interface.

    .. versionadded:: 2.0
    """

    name: ClassVar[str] = "jsonwsp"
    content_type: ClassVar[str] = "application/json; charset=utf-8"
    #: Errors found reading the body (too large, bad length, unknown
    #: coding) are answered with this interface's fault.
    http_errors_as_faults: ClassVar[bool] = True

    accepts_attachments: ClassVar[bool] = True

    def decode_call(self, request: WireRequest) -> Call:
        req = loads_json(request.body, request.content_type)
        if req.__class__ is not dict:
            raise MalformedRequest("The request must be a JSON object")
        name = req.get("methodname")
        # PERF: self.method()'s look-up without its frame (it says what is wrong)
        m = self.service.methods.get(name) if name.__class__ is str else None
        if m is None:
            m = self.method(name)
        args = req.get("args", {})
        if args is None:
            args = {}
        if not isinstance(args, dict):
            raise MalformedRequest('"args" must be a JSON object of named arguments')
        attachments = request.attachments
        return Call(
            m,
            self.bind_named(m, args, attachments),
            id=req.get("id", ABSENT),
            mirror=req.get("mirror", ABSENT),
            attachments=attachments,
        )

    def __init__(self, service: ServiceInfo, *, debug: bool = False) -> None:
        super().__init__(service, debug=debug)
        # The start of every answer, up to its result (Ladon 1.0's order).
        self._head = (
            b'{"servicename": '
            + dumps_bytes(service.name)
            + b', "servicenumber": '
            + dumps_bytes(service.number)
            + b', "result": '
        )
        #: method name -> the end of its answers, after the result
        self._tails: dict[str, bytes] = {}

    def encode_result(self, call: Call, result: object) -> Payload:
        value = self.dump_result(call, result)
        files: list[attachment] = []
        if call.method.returns_attachments:
            value, files = collect_attachments(value, _ATTACHMENT_REF.format)
        if not files and call.mirror is ABSENT and call.id is ABSENT:
            # PERF: the usual answer, written around its result: the same
            # bytes as the whole object through the encoder.
            name = call.method.name
            tail = self._tails.get(name)
            if tail is None:
                tail = self._tails[name] = (
                    b', "type": "jsonwsp/response", "version": "1.0", "methodname": '
                    + dumps_bytes(name)
                    + b"}"
                )
            return Payload(b"".join((self._head, dumps_value(value), tail)), self.content_type)
        out: dict[str, Any] = {
            "servicename": self.service.name,
            "servicenumber": self.service.number,
            "result": value,
        }
        if call.mirror is not ABSENT:
            out["reflection"] = call.mirror
        out["type"] = "jsonwsp/response"
        out["version"] = "1.0"
        out["methodname"] = call.method.name
        if call.id is not ABSENT:
            out["id"] = call.id
        if files:
            stream = related_response(dumps_bytes(out), self.content_type, files)
            ctype = (
                f'multipart/related; type="application/json"; '
                f"boundary={stream.boundary}; charset=utf-8"
            )
            return Payload(b"", ctype, stream=stream)
        return Payload(dumps_bytes(out), self.content_type)

    def encode_fault(self, fault: ServiceFault, call: Call | None) -> Payload:
        out: dict[str, Any] = {
            "type": "jsonwsp/fault",
            "version": "1.0",
            "fault": fault_members(fault),
        }
        if call is not None and call.mirror is not ABSENT:
            out["reflection"] = call.mirror
        if call is not None and call.id is not ABSENT:
            out["id"] = call.id
        return Payload(dumps_bytes(out), self.content_type)

    # -- description -------------------------------------------------------------

    def _field(self, f: FieldInfo, include_doc: bool) -> dict[str, Any]:
        d: dict[str, Any] = {"type": json_type(f.type), **rule_keys(f.type)}
        if f.nullable:
            d["nullable"] = True
        if f.has_default:
            d["default"] = dump(f.type, f.default, f.name, Options(), f.nullable)
        if include_doc and f.doc:
            d["doc"] = list(f.doc)
        return d

    def _param(self, order: int, p: ParamInfo, include_doc: bool) -> dict[str, Any]:
        d: dict[str, Any] = {
            "type": json_type(p.type),
            **rule_keys(p.type),
            "def_order": order,
            "optional": p.optional,
            "doc_lines": _doc(p.doc, include_doc),
        }
        if p.optional:
            d["default"] = default_text(p.default)
        if p.nullable:
            d["nullable"] = True
        return d

    def description(self, base_url: str, include_doc: bool) -> dict[str, Any]:
        """The description as a dict (also used by the docs pages)."""
        types = {
            t.__name__: {f.name: self._field(f, include_doc) for f in t.ladon_type_info().fields}
            for t in self.service.types
        }
        methods = {}
        for m in self.service.methods.values():
            methods[m.name] = {
                "params": {
                    p.name: self._param(i, p, include_doc) for i, p in enumerate(m.params, 1)
                },
                "doc_lines": _doc(m.doc, include_doc),
                "ret_info": {
                    "type": json_type(m.rtype),
                    **rule_keys(m.rtype),
                    **({"nullable": True} if m.rtype_nullable else {}),
                    "doc_lines": _doc(m.rtype_doc, include_doc),
                },
            }
        return {
            "servicename": self.service.name,
            "url": self.endpoint_url(base_url),
            "type": "jsonwsp/description",
            "version": "1.1",
            "types": types,
            "methods": methods,
        }

    def describe(self, base_url: str, query: Mapping[str, str]) -> Payload:
        include_doc = bool(query.get("include_doc"))
        return Payload(dumps_bytes(self.description(base_url, include_doc)), self.content_type)
