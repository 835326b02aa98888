"""OpenRPC 1.3 documents (https://spec.open-rpc.org) of a service, what
JSON-RPC 2.0's ``rpc.discover`` answers: every method with its named
parameters and result, their JSON Schemas the ones the OpenAPI document
publishes (constraints included), shared types as components.

.. versionadded:: 2.0
"""

from __future__ import annotations

from typing import Any

from ..ladonizer.model import MethodInfo
from ..ladonizer.model import MethodKind
from ..ladonizer.model import ServiceInfo
from ._jsonschema import SchemaBuilder
from ._rpc import INVALID_PARAMS

OPENRPC_VERSION = "1.3.2"
#: The method answering with the document (the OpenRPC service discovery
#: method).
DISCOVER = "rpc.discover"


def _method(m: MethodInfo, builder: SchemaBuilder) -> dict[str, Any]:
    out: dict[str, Any] = {"name": m.name}
    doc = "\n".join(m.doc).strip()
    if doc:
        out["summary"] = doc.split("\n\n")[0].replace("\n", " ")[:200]
        out["description"] = doc
    params = []
    for p in m.params:
        param: dict[str, Any] = {"name": p.name, "required": not p.optional}
        schema = builder.slot(p)
        description = schema.pop("description", None)
        if description:
            param["description"] = description
        param["schema"] = schema
        params.append(param)
    out["params"] = params
    result: dict[str, Any] = {"name": "result", "schema": builder.result(m)}
    rdoc = "\n".join(m.rtype_doc).strip()
    if rdoc:
        result["description"] = rdoc
    out["result"] = result
    out["paramStructure"] = "either"
    if m.params:
        out["errors"] = [
            {
                "code": INVALID_PARAMS,
                "message": "An argument is missing, unknown, of the wrong type or "
                "breaks a declared constraint",
            }
        ]
    return out


def openrpc_document(service: ServiceInfo) -> dict[str, Any]:
    """The OpenRPC document of ``service`` on JSON-RPC 2.0.

    .. versionadded:: 2.0
    """
    builder = SchemaBuilder("#/components/schemas/{}".format)
    methods = [
        _method(m, builder)
        for m in service.methods.values()
        if m.kind is not MethodKind.INTROSPECTION
    ]
    info: dict[str, Any] = {"title": service.name, "version": "1.0"}
    if service.doc:
        info["description"] = service.doc
    doc: dict[str, Any] = {"openrpc": OPENRPC_VERSION, "info": info, "methods": methods}
    if builder.components:
        doc["components"] = {"schemas": dict(sorted(builder.components.items()))}
    return doc
