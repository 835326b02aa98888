"""JSON-RPC 2.0's ``rpc.discover`` answers an OpenRPC document (issue 16)
that validates against the OpenRPC meta-schema (vendored in
``data/openrpc``, see its README) and carries the same schemas as the
OpenAPI document."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry
from referencing import Resource
from referencing.jsonschema import DRAFT7
from webtest import TestApp

from ladon.server.wsgi import LadonWSGIApplication

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data" / "openrpc"
SERVICES = ["Limits", "Calculator", "Jobs", "Files", "Shapes"]


@pytest.fixture(scope="module")
def client() -> Iterator[TestApp]:
    app = LadonWSGIApplication(
        [
            "constrained",
            "task_services",
            "legacy_shapes",
            str(ROOT / "examples" / "calculator.py"),
            str(ROOT / "examples" / "attachments.py"),
        ],
        [str(ROOT / "tests" / "services")],
    )
    yield TestApp(app)
    app.close()


@pytest.fixture(scope="module")
def meta_validator() -> jsonschema.Draft7Validator:
    meta = json.loads((DATA / "meta-schema.json").read_text())
    tools = json.loads((DATA / "json-schema-tools-meta-schema.json").read_text())
    registry: Registry[Any] = (
        Registry()
        .with_resource(
            "https://meta.json-schema.tools",
            Resource.from_contents(tools, default_specification=DRAFT7),
        )
        .with_resource(
            "https://meta.json-schema.tools/",
            Resource.from_contents(tools, default_specification=DRAFT7),
        )
    )
    return jsonschema.Draft7Validator(meta, registry=registry)


def discover(client: TestApp, service: str) -> dict[str, Any]:
    r = client.post_json(
        f"/{service}/jsonrpc", {"jsonrpc": "2.0", "method": "rpc.discover", "id": 7}
    )
    assert r.json["id"] == 7
    return r.json["result"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("service", SERVICES)
def test_the_document_validates_against_the_openrpc_meta_schema(
    client: TestApp, meta_validator: jsonschema.Draft7Validator, service: str
) -> None:
    doc = discover(client, service)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in meta_validator.iter_errors(doc)]
    assert errors == []
    assert doc["openrpc"].startswith("1.3")


def test_the_meta_schema_refuses_a_broken_document(
    meta_validator: jsonschema.Draft7Validator,
) -> None:
    assert not meta_validator.is_valid({"openrpc": "1.3.2", "info": {"title": "x"}, "methods": []})
    assert not meta_validator.is_valid(
        {"openrpc": "1.3.2", "info": {"title": "x", "version": "1"}, "methods": [{"params": []}]}
    )


def test_every_method_is_described_with_the_openapi_schemas(client: TestApp) -> None:
    doc = discover(client, "Limits")
    openapi = client.get("/Limits/http/description").json
    methods = {m["name"]: m for m in doc["methods"]}
    assert set(methods) == {p.strip("/") for p in openapi["paths"]}
    (value,) = methods["ge"]["params"]
    assert value == {"name": "value", "required": True, "schema": {"type": "integer", "minimum": 1}}
    body = openapi["paths"]["/ge"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["value"] == value["schema"]
    assert doc["components"]["schemas"]["Item"] == openapi["components"]["schemas"]["Item"]
    assert methods["order"]["result"]["schema"] == {
        "type": "string",
        "pattern": openapi["components"]["schemas"]["Item"]["properties"]["price"]["pattern"],
    }


def test_a_service_method_named_rpc_discover_wins(tmp_path: Path) -> None:
    from ladon import ladonize

    class Own:
        @ladonize(rtype=str, override_method_name="rpc.discover")
        def discover(self) -> str:
            return "mine"

    app = LadonWSGIApplication([Own])
    r = TestApp(app).post_json(
        "/Own/jsonrpc", {"jsonrpc": "2.0", "method": "rpc.discover", "id": 1}
    )
    assert r.json["result"] == "mine"
