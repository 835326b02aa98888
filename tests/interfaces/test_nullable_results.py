"""A method that may return None says so in every description: the JSON
ones (the ``ret_info`` of JSON-WSP's, JSON-RPC 1.0's and 2.0's) mark it ``nullable``,
as they mark nullable parameters and fields, and the wire carries null."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from webtest import TestApp

from ladon import LadonWSGIApplication
from ladon import ladonize


class Lookup:
    """Finds things, or not."""

    @ladonize()
    def find(self, name: str) -> str | None:
        return None if name == "none" else name.upper()

    @ladonize()
    def count(self, name: str) -> int:
        return len(name)


@pytest.fixture(scope="module")
def client() -> Iterator[TestApp]:
    app = LadonWSGIApplication([Lookup])
    yield TestApp(app)
    app.close()


@pytest.mark.parametrize("iface", ["jsonwsp", "jsonrpc10", "jsonrpc"])
def test_a_nullable_result_is_marked_in_the_json_descriptions(client: TestApp, iface: str) -> None:
    resp = client.get(f"/Lookup/{iface}/description")
    methods = json.loads(resp.body)["methods"]
    assert methods["find"]["ret_info"]["nullable"] is True
    assert "nullable" not in methods["count"]["ret_info"]


def test_the_wire_carries_null(client: TestApp) -> None:
    body = json.dumps({"methodname": "find", "args": {"name": "none"}}).encode()
    resp = client.post("/Lookup/jsonwsp", body, headers={"Content-Type": "application/json"})
    assert json.loads(resp.body)["result"] is None
