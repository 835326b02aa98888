"""JSON numbers on the JSON interfaces: a number with a fraction or an
exponent is read from its text where the parameter is a ``Decimal`` or a
``str`` (Ladon 1.0 parsed JSON numbers as text, COMPAT.md 1.3: ``0.10``
stays ``0.10``, ``1e2`` for a ``str`` is ``"1e2"``), a ``float`` parameter
gets a plain float, and a number beyond a double's range (``1e400``) is
refused before anything runs: no JSON answer could carry it back (an id
or a mirror of ``1e400`` used to run the method, then fail writing the
answer with a bare HTTP 500).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from webtest import TestApp

from ladon import LadonWSGIApplication
from ladon import ladonize

CALLS: list[str] = []


class Numbers:
    """Numbers echoed with their Python type."""

    @ladonize()
    def amount(self, value: Decimal) -> str:
        CALLS.append("amount")
        return f"{type(value).__name__} {value}"

    @ladonize()
    def text(self, value: str) -> str:
        CALLS.append("text")
        return f"{type(value).__name__} {value}"

    @ladonize()
    def ratio(self, value: float) -> str:
        CALLS.append("ratio")
        return f"{type(value).__name__} {value!r}"


@pytest.fixture(scope="module")
def client() -> Iterator[TestApp]:
    app = LadonWSGIApplication([Numbers])
    yield TestApp(app)
    app.close()


def post(client: TestApp, iface: str, body: str) -> Any:
    resp = client.post(
        f"/Numbers/{iface}",
        body.encode(),
        headers={"Content-Type": "application/json"},
        expect_errors=True,
    )
    assert b"Traceback" not in resp.body
    return resp.status_int, json.loads(resp.body)


def result(client: TestApp, iface: str, method: str, raw: str) -> Any:
    if iface == "jsonwsp":
        status, data = post(
            client, iface, f'{{"methodname": "{method}", "args": {{"value": {raw}}}}}'
        )
    elif iface == "jsonrpc":
        status, data = post(
            client, iface, f'{{"jsonrpc": "2.0", "method": "{method}", "params": [{raw}], "id": 1}}'
        )
    else:
        status, data = post(client, iface, f'{{"method": "{method}", "params": [{raw}], "id": 1}}')
    assert status == 200, data
    return data["result"]


IFACES = ["jsonwsp", "jsonrpc", "jsonrpc10"]
CASES = [
    ("amount", "0.10", "Decimal 0.10"),
    ("amount", "3.14159265358979323846264", "Decimal 3.14159265358979323846264"),
    ("amount", "12345678901234567890.123", "Decimal 12345678901234567890.123"),
    ("amount", "-0.0", "Decimal -0.0"),
    ("amount", "42", "Decimal 42"),
    ("text", "1e2", "str 1e2"),
    ("text", "10.50", "str 10.50"),
    ("text", "-1.5E-7", "str -1.5E-7"),
    ("text", "40", "str 40"),
    ("ratio", "0.10", "float 0.1"),
    ("ratio", "1e2", "float 100.0"),
    ("ratio", "5e-324", "float 5e-324"),
    ("ratio", "7", "float 7.0"),
]


@pytest.mark.parametrize("iface", IFACES)
@pytest.mark.parametrize(("method", "raw", "expected"), CASES)
def test_a_json_number_is_read_from_its_text(
    client: TestApp, iface: str, method: str, raw: str, expected: str
) -> None:
    assert result(client, iface, method, raw) == expected


def test_an_exponent_is_still_no_decimal_as_text(client: TestApp) -> None:
    """The text of a JSON number is what the client wrote; as a string it
    stays under ``xsd:decimal``'s rule (no exponent)."""
    status, data = post(client, "jsonwsp", '{"methodname": "amount", "args": {"value": "1e2"}}')
    assert data["type"] == "jsonwsp/fault" and "decimal" in data["fault"]["string"]


@pytest.mark.parametrize(
    ("iface", "body"),
    [
        ("jsonrpc", '{"jsonrpc": "2.0", "method": "text", "params": ["x"], "id": 1e400}'),
        (
            "jsonrpc",
            '[{"jsonrpc": "2.0", "method": "text", "params": ["x"], "id": 1},'
            ' {"jsonrpc": "2.0", "method": "text", "params": ["y"], "id": -1e400}]',
        ),
        ("jsonrpc10", '{"method": "text", "params": ["x"], "id": 1e400}'),
        ("jsonwsp", '{"methodname": "text", "args": {"value": "x"}, "mirror": 1e400}'),
        ("jsonwsp", '{"methodname": "ratio", "args": {"value": 1e309}}'),
    ],
    ids=["jsonrpc-id", "jsonrpc-batch", "jsonrpc10-id", "jsonwsp-mirror", "jsonwsp-arg"],
)
def test_a_number_beyond_a_double_is_refused_before_the_call(
    client: TestApp, iface: str, body: str
) -> None:
    CALLS.clear()
    status, data = post(client, iface, body)
    assert CALLS == []
    text = json.dumps(data)
    assert "beyond the range of a double" in text
    if iface == "jsonrpc":
        assert (status, data["error"]["code"], data["id"]) == (200, -32700, None)
    elif iface == "jsonwsp":
        assert data["type"] == "jsonwsp/fault" and data["fault"]["code"] == "client"
    else:
        assert data["result"] is None and data["error"]["code"] == "client"
