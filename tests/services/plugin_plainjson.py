"""A tiny third-party interface used to prove the plug-in API: ``plainjson``.

Request ``{"method": "add", "args": {"a": 1, "b": 2}}``; response
``{"result": 3}``; fault ``{"error": "message", "code": "client"}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import ClassVar

from ladon.exceptions.service import MalformedRequest
from ladon.exceptions.service import ServiceFault
from ladon.interfaces import Call
from ladon.interfaces import Interface
from ladon.interfaces import Payload
from ladon.interfaces import WireRequest


class PlainJSONInterface(Interface):
    name: ClassVar[str] = "plainjson"
    content_type: ClassVar[str] = "application/json"

    def decode_call(self, request: WireRequest) -> Call:
        try:
            req = json.loads(request.body)
        except ValueError:
            raise MalformedRequest("not JSON") from None
        if not isinstance(req, dict) or not isinstance(req.get("args", {}), dict):
            raise MalformedRequest("expected {method, args}")
        m = self.method(req.get("method"))
        return Call(m, self.bind_named(m, req.get("args", {})))

    def encode_result(self, call: Call, result: object) -> Payload:
        return Payload(
            json.dumps({"result": self.dump_result(call, result)}).encode(), self.content_type
        )

    def encode_fault(self, fault: ServiceFault, call: Call | None) -> Payload:
        body = {"error": fault.faultstring, "code": fault.faultcode}
        return Payload(
            json.dumps(body).encode(), self.content_type, 400 if fault.is_client else 500
        )

    def describe(self, base_url: str, query: Mapping[str, str]) -> Payload:
        methods = sorted(self.service.methods)
        return Payload(json.dumps({"methods": methods}).encode(), self.content_type)
