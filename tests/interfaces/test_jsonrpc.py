"""JSON-RPC 1.0 (``jsonrpc10``, COMPAT.md 3.2) and JSON-RPC 2.0 (``jsonrpc``).

Through the WSGI app (webtest), directly on the interface (batches), and
over a real socket (``e2e``):

* every method of ``Shapes`` and ``Ledger`` gives the same Python values as
  over JSON-WSP;
* ids of every JSON type come back as they were sent (Ladon 1.0 defect 5);
* bad input of every kind is the protocol's error object, HTTP 200, with no
  traceback or file name (defects 3 and 4);
* the descriptions.

Batches are decoded by the interface into a :class:`~ladon.interfaces.base.Batch`
that the server's :class:`~ladon.server.dispatch.Dispatcher` runs call by
call; the ``batch`` fixture drives that real dispatcher with a chosen
``run``, and the tests named ``test_batch_*_through_the_app`` /
``..._over_http`` check the whole wiring.
"""

from __future__ import annotations

import codecs
import json
import logging
import os
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from webtest import TestApp
from webtest import TestResponse
from werkzeug.datastructures import Headers

from ladon.exceptions.service import ClientFault
from ladon.exceptions.service import ResultError
from ladon.exceptions.service import ServerFault
from ladon.exceptions.service import ServiceFault
from ladon.interfaces.base import ABSENT
from ladon.interfaces.base import Call
from ladon.interfaces.base import Payload
from ladon.interfaces.base import WireRequest
from ladon.interfaces.jsonrpc import JSONRPCInterface
from ladon.interfaces.jsonrpc10 import JSONRPC10Interface
from ladon.ladonizer.registry import build_service
from ladon.server.dispatch import Dispatcher
from ladon.server.dispatch import Exchange
from ladon.server.wsgi import LadonWSGIApplication
from ladon.tasks import ThreadTaskBackend
from ladon.tasks.calls import TaskCalls

DATA = Path(__file__).resolve().parent / "data" / "jsonrpc10"
REGEN = os.environ.get("LADON_REGEN_GOLDEN") == "1"
LEAKS = ("Traceback", ".py", 'File "', "/etc/passwd", "secret")
JSON_CT = {"Content-Type": "application/json"}

# -- helpers -------------------------------------------------------------------------

Runner = Callable[[Call], object]


@pytest.fixture(scope="module")
def shapes_cls(app: LadonWSGIApplication) -> type:
    """The ``Shapes`` class of tests/services/legacy_shapes.py (as the app imported it)."""
    service = app.service("Shapes")
    assert service is not None and isinstance(service.source, type)
    return service.source


@pytest.fixture()
def run_shapes(shapes_cls: type) -> Runner:
    """What the server does with a decoded call: run the method on a new instance."""

    def run(call: Call) -> object:
        return getattr(shapes_cls(), call.method.attr)(*call.args)

    return run


class _Running(Dispatcher):
    """The server's dispatcher, with the service method replaced by ``run``."""

    def __init__(self, run: Runner, debug: bool) -> None:
        super().__init__(TaskCalls(ThreadTaskBackend), debug)
        self._run_call = run

    def invoke(self, exchange: Exchange, call: Call) -> object:
        return self._run_call(call)


def request(body: bytes | str, headers: dict[str, str] | None = None) -> WireRequest:
    data = body.encode() if isinstance(body, str) else body
    given = Headers(headers or JSON_CT)
    return WireRequest(data, given.get("Content-Type", ""), given)


@pytest.fixture()
def batch(shapes_cls: type, run_shapes: Runner) -> Callable[..., Payload]:
    """A request answered by the server's dispatcher on a fresh JSON-RPC 2.0
    interface of ``Shapes``, each decoded call run with ``run``."""

    def answer(
        body: bytes | str,
        run: Runner | None = None,
        *,
        debug: bool = False,
        headers: dict[str, str] | None = None,
    ) -> Payload:
        service = build_service(shapes_cls)
        iface = JSONRPCInterface(service, debug=debug)
        dispatcher = _Running(run or run_shapes, debug)
        return dispatcher.answer(Exchange(service, iface, {}), request(body, headers))

    return answer


@pytest.fixture()
def batch_json(batch: Callable[..., Payload]) -> Callable[..., Any]:
    """The decoded JSON answer of a batch (checked to be a 200 JSON answer)."""

    def answer(body: bytes | str, **kw: Any) -> Any:
        payload = batch(body, **kw)
        assert payload is not None
        assert payload.status == 200
        assert payload.content_type.startswith("application/json")
        assert_no_leak(payload.body)
        return json.loads(payload.body)

    return answer


def post(client: TestApp, iface: str, body: bytes | str, service: str = "Shapes") -> TestResponse:
    data = body.encode() if isinstance(body, str) else body
    return client.post(f"/{service}/{iface}", data, headers=JSON_CT, expect_errors=True)


def dumps(obj: object) -> bytes:
    return json.dumps(obj).encode()


def call10(
    client: TestApp, method: str, params: Any, rid: Any = 1, service: str = "Shapes"
) -> dict[str, Any]:
    resp = post(
        client, "jsonrpc10", dumps({"method": method, "params": params, "id": rid}), service
    )
    assert resp.status_int == 200, resp.body[:300]
    assert resp.content_type == "application/json"
    data: dict[str, Any] = json.loads(resp.body)
    return data


def call20(
    client: TestApp, method: str, params: Any, rid: Any = 1, service: str = "Shapes"
) -> dict[str, Any]:
    req = {"jsonrpc": "2.0", "method": method, "params": params, "id": rid}
    resp = post(client, "jsonrpc", dumps(req), service)
    assert resp.status_int == 200, resp.body[:300]
    assert resp.content_type == "application/json"
    data: dict[str, Any] = json.loads(resp.body)
    return data


def call_jsonwsp(client: TestApp, method: str, args: dict[str, Any], service: str) -> Any:
    resp = post(client, "jsonwsp", dumps({"methodname": method, "args": args}), service)
    data = json.loads(resp.body)
    assert data["type"] == "jsonwsp/response", data
    return data["result"]


def assert_no_leak(body: bytes) -> None:
    text = body.decode("utf-8", "replace")
    for marker in LEAKS:
        assert marker not in text, f"{marker!r} leaked in {text[:500]!r}"


def error10(resp: TestResponse) -> dict[str, Any]:
    """The ``error`` member of a jsonrpc10 error response (checked for shape)."""
    assert resp.status_int == 200, resp.body[:300]
    assert resp.content_type == "application/json"
    assert_no_leak(resp.body)
    data = json.loads(resp.body)
    assert list(data) == ["result", "error", "id"]
    assert data["result"] is None
    err: dict[str, Any] = data["error"]
    assert list(err) == ["code", "string", "detail", "filename", "lineno", "hint"]
    assert err["filename"] is None and err["lineno"] is None
    assert isinstance(err["detail"], list)
    err["_id"] = data["id"]
    return err


def error20(resp: TestResponse) -> dict[str, Any]:
    """The ``error`` member of a JSON-RPC 2.0 error response (checked for shape)."""
    assert resp.status_int == 200, resp.body[:300]
    assert resp.content_type == "application/json"
    assert_no_leak(resp.body)
    data = json.loads(resp.body)
    return check_error20(data)


def check_error20(data: dict[str, Any]) -> dict[str, Any]:
    assert list(data) == ["jsonrpc", "error", "id"]
    assert data["jsonrpc"] == "2.0"
    err: dict[str, Any] = data["error"]
    assert list(err) == ["code", "message", "data"]
    assert isinstance(err["code"], int) and isinstance(err["message"], str)
    assert set(err["data"]) == {"code", "detail", "hint"}
    err["_id"] = data["id"]
    return err


# -- parity with JSON-WSP ------------------------------------------------------------

INVOICE = {
    "number": 12,
    "issued": "2024-02-28",
    "created": "2024-02-28T23:30:00",
    "total": "10.50",
    "note": None,
    "lines": [{"text": "tea", "amount": "2.25"}, {"text": "cake", "amount": "8.25"}],
    "paid": True,
}
POLYGON = {
    "name": "tri",
    "points": [{"x": 0, "y": 0}, {"x": 3, "y": 0}, {"x": 0, "y": 4}],
    "style": {"color": "red", "dashed": True, "width": 1.5},
    "tags": ["a", "b"],
}

#: (service, method, named args in declaration order, expected Python value)
PARITY: list[tuple[str, str, dict[str, Any], Any]] = [
    ("Shapes", "add", {"a": 2, "b": 3}, 5),
    ("Shapes", "shout", {"text": "héllo"}, "HÉLLO!"),
    ("Shapes", "echo", {"text": " a &amp; <b> "}, " a &amp; <b> "),
    ("Shapes", "echo_bytes", {"data": "bytes ü"}, "bytes ü"),
    ("Shapes", "negate", {"flag": True}, False),
    ("Shapes", "half", {"x": 1.0}, 0.5),
    ("Shapes", "squares", {"numbers": [1, 2, 3]}, [1, 4, 9]),
    ("Shapes", "reverse_words", {"words": ["a", "b", "c"]}, ["c", "b", "a"]),
    ("Shapes", "make_point", {"x": 1, "y": 2}, {"x": 1, "y": 2}),
    ("Shapes", "mirror", {"p": {"x": 1, "y": 2}}, {"x": 2, "y": 1}),
    ("Shapes", "echo_polygon", {"polygon": POLYGON}, None),
    ("Shapes", "empty_polygon", {"name": "nothing"}, None),
    ("Shapes", "mirror_all", {"points": [{"x": 1, "y": 2}]}, [{"x": 2, "y": 1}]),
    ("Shapes", "measure", {"value": 2.5}, {"exact": 2.5, "whole": 2}),
    ("Shapes", "divide", {"a": 9, "b": 3}, 3),
    ("Shapes", "divide", {"a": 9}, 4),
    ("Ledger", "add", {"a": -2, "b": 3}, 1),
    ("Ledger", "next_day", {"day": "2024-02-28"}, "2024-02-29"),
    ("Ledger", "shift", {"when": "2024-02-28T23:30:00", "hours": 2}, "2024-02-29T01:30:00"),
    ("Ledger", "shift", {"when": "2024-02-28T23:30:00"}, "2024-02-29T00:30:00"),
    ("Ledger", "total", {"invoice": INVOICE}, "10.50"),
    ("Ledger", "echo_invoice", {"invoice": INVOICE}, None),
    ("Ledger", "maybe", {"text": "x"}, "x"),
    ("Ledger", "maybe", {"text": None}, None),
    ("Ledger", "maybe", {}, None),
    ("Ledger", "greet", {"name": "Ann", "punctuation": "?"}, "Hello, Ann?"),
    ("Ledger", "greet", {"name": "Ann"}, "Hello, Ann!"),
    ("Ledger", "greet", {}, "Hello, world!"),
    ("Ledger", "nothing", {}, []),
    ("Ledger", "find_line", {"text": "tea"}, {"amount": "1.50", "text": "tea"}),
    ("Ledger", "find_line", {}, None),
    ("Ledger", "power", {"base": 2, "exponent": 62}, 2**62),
]
PARITY_IDS = [f"{s}.{m}({','.join(a)})" for s, m, a, _ in PARITY]


def test_parity_cases_cover_every_method(app: LadonWSGIApplication) -> None:
    covered = {(s, m) for s, m, _, _ in PARITY}
    for name in ("Shapes", "Ledger"):
        service = app.service(name)
        assert service is not None
        missing = {m for m in service.methods if (name, m) not in covered} - {"fail"}
        assert not missing, f"{name}: no parity case for {sorted(missing)}"


@pytest.mark.parametrize(("service", "method", "args", "expected"), PARITY, ids=PARITY_IDS)
def test_jsonrpc10_positional_result_equals_jsonwsp_result(
    client: TestApp, service: str, method: str, args: dict[str, Any], expected: Any
) -> None:
    reference = call_jsonwsp(client, method, args, service)
    if expected is not None:
        assert reference == expected
    data = call10(client, method, list(args.values()), 7, service)
    assert data == {"result": reference, "id": 7, "error": None}
    assert list(data) == ["result", "id", "error"]  # Ladon 1.0 member order


@pytest.mark.parametrize(
    "params",
    [{"a": 1, "b": 2}, {}, 5, "1, 2", None, True],
    ids=["object", "empty-object", "number", "string", "null", "boolean"],
)
def test_jsonrpc10_params_that_are_not_an_array_are_an_error_object(
    client: TestApp, params: Any
) -> None:
    # JSON-RPC 1.0: "params - An Array of objects to pass as arguments".
    data = call10(client, "add", params, "n")
    assert (data["result"], data["id"]) == (None, "n")
    assert data["error"]["code"] == "client"
    assert data["error"]["string"] == '"params" must be a JSON array of positional arguments'


@pytest.mark.parametrize("named", [False, True], ids=["positional", "named"])
@pytest.mark.parametrize(("service", "method", "args", "expected"), PARITY, ids=PARITY_IDS)
def test_jsonrpc20_result_equals_jsonwsp_result(
    client: TestApp, service: str, method: str, args: dict[str, Any], expected: Any, named: bool
) -> None:
    reference = call_jsonwsp(client, method, args, service)
    params = args if named else list(args.values())
    data = call20(client, method, params, 7, service)
    assert data == {"jsonrpc": "2.0", "result": reference, "id": 7}
    assert list(data) == ["jsonrpc", "result", "id"]


def test_jsonrpc20_params_may_be_left_out(client: TestApp) -> None:
    resp = post(client, "jsonrpc", '{"jsonrpc": "2.0", "method": "greet", "id": 1}', "Ledger")
    assert json.loads(resp.body) == {"jsonrpc": "2.0", "result": "Hello, world!", "id": 1}


def test_numbers_as_strings_are_accepted_as_in_ladon_10(client: TestApp) -> None:
    assert call10(client, "add", ["40", 2])["result"] == 42
    assert call20(client, "add", ["40", 2])["result"] == 42


# -- ids -----------------------------------------------------------------------------

IDS: list[Any] = [7, 0, -3, 2**70, "abc", "", "7", None, 1.5]
ID_IDS = ["int", "zero", "negative", "bigint", "str", "empty-str", "digits-str", "null", "float"]


@pytest.mark.parametrize("rid", IDS, ids=ID_IDS)
def test_jsonrpc10_echoes_the_id_in_its_own_json_type(client: TestApp, rid: Any) -> None:
    data = call10(client, "add", [1, 2], rid)
    assert data["id"] == rid and type(data["id"]) is type(rid)


@pytest.mark.parametrize("rid", IDS, ids=ID_IDS)
def test_jsonrpc10_error_echoes_the_id_in_its_own_json_type(client: TestApp, rid: Any) -> None:
    resp = post(client, "jsonrpc10", dumps({"method": "add", "params": [1], "id": rid}))
    err = error10(resp)
    assert err["_id"] == rid and type(err["_id"]) is type(rid)


@pytest.mark.parametrize("rid", IDS, ids=ID_IDS)
def test_jsonrpc20_echoes_the_id_in_its_own_json_type(client: TestApp, rid: Any) -> None:
    data = call20(client, "add", [1, 2], rid)
    assert data["id"] == rid and type(data["id"]) is type(rid)


@pytest.mark.parametrize("rid", IDS, ids=ID_IDS)
def test_jsonrpc20_error_echoes_the_id_in_its_own_json_type(client: TestApp, rid: Any) -> None:
    err = error20(post(client, "jsonrpc", dumps({"jsonrpc": "2.0", "method": "x", "id": rid})))
    assert err["code"] == -32601
    assert err["_id"] == rid and type(err["_id"]) is type(rid)


# -- jsonrpc10 errors ----------------------------------------------------------------

ERRORS10: list[tuple[str, bytes, Any, str]] = [
    # (id, body, id expected in the answer, text expected in "string")
    ("not-json", b"{not json", None, "not valid JSON"),
    ("invalid-utf8", b'{"method": "echo", "params": ["\xff"], "id": 1}', None, "not valid utf-8"),
    ("too-deep", b"[" * 100_000 + b"]" * 100_000, None, "nested too deeply"),
    ("array", b"[1, 2]", None, "JSON object"),
    ("scalar", b"5", None, "JSON object"),
    ("nan", b'{"method": "half", "params": [NaN], "id": 1}', None, "NaN"),
    ("no-method", b'{"params": [1, 2], "id": 3}', 3, '"method"'),
    ("no-params", b'{"method": "add", "id": 3}', 3, '"params"'),
    ("no-id", b'{"method": "add", "params": [1, 2]}', None, '"id"'),
    ("params-string", b'{"method": "add", "params": "1, 2", "id": 3}', 3, '"params"'),
    ("params-null", b'{"method": "add", "params": null, "id": 3}', 3, '"params"'),
    ("method-not-string", b'{"method": 5, "params": [], "id": 3}', 3, "method"),
    ("unknown-method", b'{"method": "nope", "params": [], "id": 3}', 3, "no method 'nope'"),
    ("missing-arg", b'{"method": "add", "params": [2], "id": 3}', 3, 'Argument "b"'),
    ("too-many-args", b'{"method": "add", "params": [1, 2, 3], "id": 3}', 3, "takes 2"),
    ("wrong-type", b'{"method": "add", "params": [1, "x"], "id": 3}', 3, 'Argument "b"'),
    ("wrong-nested-type", b'{"method": "mirror", "params": [{"x": 1}], "id": 3}', 3, "y"),
    ("named", b'{"method": "add", "params": {"a": 1, "b": 2}, "id": 3}', 3, '"params" must be'),
    ("float-for-int", b'{"method": "add", "params": [2.5, 1], "id": 3}', 3, 'Argument "a"'),
]


@pytest.mark.parametrize(
    ("body", "rid", "text"), [c[1:] for c in ERRORS10], ids=[c[0] for c in ERRORS10]
)
def test_jsonrpc10_bad_request_is_a_client_error_with_http_200(
    client: TestApp, body: bytes, rid: Any, text: str
) -> None:
    err = error10(post(client, "jsonrpc10", body))
    assert err["code"] == "client"
    assert text.lower() in err["string"].lower()
    assert err["_id"] == rid


def test_jsonrpc10_client_fault_of_the_method(client: TestApp) -> None:
    err = error10(
        post(client, "jsonrpc10", dumps({"method": "fail", "params": ["client"], "id": 4}))
    )
    assert err == {
        "code": "client",
        "string": "you asked for it",
        "detail": [],
        "filename": None,
        "lineno": None,
        "hint": "",
        "_id": 4,
    }


def test_jsonrpc10_server_fault_keeps_its_detail(client: TestApp) -> None:
    err = error10(
        post(client, "jsonrpc10", dumps({"method": "fail", "params": ["server"], "id": 4}))
    )
    assert (err["code"], err["string"], err["detail"]) == (
        "server",
        "backend down: server",
        ["custom detail text"],
    )


def test_jsonrpc10_unexpected_exception_is_a_server_error_without_traceback(
    client: TestApp, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.CRITICAL, logger="ladon"):
        err = error10(
            post(client, "jsonrpc10", dumps({"method": "fail", "params": ["x"], "id": 4}))
        )
    assert (err["code"], err["string"], err["_id"]) == ("server", "Internal server error", 4)
    assert [line.split(": ")[0] for line in err["detail"]] == ["request id"]


# -- jsonrpc 2.0 errors --------------------------------------------------------------

ERRORS20: list[tuple[str, bytes, int, Any, str]] = [
    # (id, body, code, id expected in the answer, text expected in "message")
    ("not-json", b"{not json", -32700, None, "not valid JSON"),
    ("blank-body", b"  \n", -32700, None, "only blanks"),
    (
        "invalid-utf8",
        b'{"jsonrpc": "2.0", "method": "echo", "params": ["\xff"], "id": 1}',
        -32700,
        None,
        "not valid utf-8",
    ),
    ("too-deep", b"{" + b'"a":{' * 100_000 + b"}" * 100_001, -32700, None, "nested too deeply"),
    ("nan", b'{"jsonrpc": "2.0", "method": "half", "params": [NaN], "id": 1}', -32700, None, "NaN"),
    ("id-beyond-double", b'{"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": 1e400}', -32700, None, "1e400"),
    ("param-beyond-double", b'{"jsonrpc": "2.0", "method": "half", "params": [-2E+999], "id": 1}', -32700, None, "range of a double"),
    ("scalar", b"5", -32600, None, "JSON object"),
    ("string", b'"add"', -32600, None, "JSON object"),
    ("null", b"null", -32600, None, "JSON object"),
    ("no-jsonrpc", b'{"method": "add", "params": [1, 2], "id": 1}', -32600, 1, '"jsonrpc"'),
    ("jsonrpc-1.0", b'{"jsonrpc": "1.0", "method": "add", "id": 1}', -32600, 1, '"jsonrpc"'),
    ("jsonrpc-number", b'{"jsonrpc": 2.0, "method": "add", "id": 1}', -32600, 1, '"jsonrpc"'),
    ("no-method", b'{"jsonrpc": "2.0", "params": [1, 2], "id": 1}', -32600, 1, '"method"'),
    ("method-number", b'{"jsonrpc": "2.0", "method": 1, "id": 1}', -32600, 1, '"method"'),
    ("no-method-no-id", b'{"jsonrpc": "2.0", "params": [1, 2]}', -32600, None, '"method"'),
    ("params-string", b'{"jsonrpc": "2.0", "method": "add", "params": "x", "id": 1}', -32600, 1, '"params"'),
    ("params-null", b'{"jsonrpc": "2.0", "method": "add", "params": null, "id": 1}', -32600, 1, '"params"'),
    ("id-true", b'{"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": true}', -32600, None, '"id"'),
    ("id-array", b'{"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": [1]}', -32600, None, '"id"'),
    ("id-object", b'{"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": {}}', -32600, None, '"id"'),
    ("unknown-method", b'{"jsonrpc": "2.0", "method": "nope", "id": 1}', -32601, 1, "no method 'nope'"),
    # rpc.discover answers the OpenRPC document (test_openrpc.py); other rpc.* names are unknown
    ("reserved-method", b'{"jsonrpc": "2.0", "method": "rpc.other", "id": 1}', -32601, 1, "rpc.other"),
    ("empty-method", b'{"jsonrpc": "2.0", "method": "", "id": 1}', -32601, 1, "method"),
    ("missing-arg", b'{"jsonrpc": "2.0", "method": "add", "params": [2], "id": 1}', -32602, 1, 'Argument "b"'),
    ("missing-named", b'{"jsonrpc": "2.0", "method": "add", "params": {"b": 2}, "id": 1}', -32602, 1, 'Argument "a"'),
    ("no-params-needed", b'{"jsonrpc": "2.0", "method": "add", "id": 1}', -32602, 1, 'Argument "a"'),
    ("too-many-args", b'{"jsonrpc": "2.0", "method": "add", "params": [1, 2, 3], "id": 1}', -32602, 1, "takes 2"),
    ("wrong-type", b'{"jsonrpc": "2.0", "method": "add", "params": [1, "x"], "id": 1}', -32602, 1, 'Argument "b"'),
    ("wrong-nested", b'{"jsonrpc": "2.0", "method": "mirror", "params": [{"x": 1}], "id": 1}', -32602, 1, "y"),
    ("unknown-named", b'{"jsonrpc": "2.0", "method": "add", "params": {"a": 1, "b": 2, "c": 3}, "id": 1}', -32602, 1, "'c'"),
    ("list-for-int", b'{"jsonrpc": "2.0", "method": "add", "params": [[1], 2], "id": 1}', -32602, 1, 'Argument "a"'),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "code", "rid", "text"), [c[1:] for c in ERRORS20], ids=[c[0] for c in ERRORS20]
)
def test_jsonrpc20_bad_request_gets_its_standard_error_code_with_http_200(
    client: TestApp, body: bytes, code: int, rid: Any, text: str
) -> None:
    err = error20(post(client, "jsonrpc", body))
    assert err["code"] == code
    assert text.lower() in err["message"].lower()
    assert err["data"]["code"] == "client"
    assert err["_id"] == rid


def test_jsonrpc20_client_fault_of_the_method_is_32000(client: TestApp) -> None:
    err = error20(
        post(
            client,
            "jsonrpc",
            dumps({"jsonrpc": "2.0", "method": "fail", "params": ["client"], "id": "f"}),
        )
    )
    assert err == {
        "code": -32000,
        "message": "you asked for it",
        "data": {"code": "client", "detail": [], "hint": ""},
        "_id": "f",
    }  # fmt: skip


def test_jsonrpc20_server_fault_of_the_method_is_32001_with_its_detail(client: TestApp) -> None:
    err = error20(
        post(
            client,
            "jsonrpc",
            dumps({"jsonrpc": "2.0", "method": "fail", "params": ["server"], "id": 2}),
        )
    )
    assert err == {
        "code": -32001,
        "message": "backend down: server",
        "data": {"code": "server", "detail": ["custom detail text"], "hint": ""},
        "_id": 2,
    }  # fmt: skip


def test_jsonrpc20_unexpected_exception_is_32001_without_traceback(
    client: TestApp, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.CRITICAL, logger="ladon"):
        resp = post(
            client, "jsonrpc", dumps({"jsonrpc": "2.0", "method": "fail", "params": ["x"], "id": 2})
        )
    err = error20(resp)
    assert (err["code"], err["message"]) == (-32001, "Internal server error")
    assert err["data"]["detail"] == [f"request id: {resp.headers['X-Request-ID']}"]


def test_jsonrpc20_utf16_request_with_bom_is_understood(client: TestApp) -> None:
    body = (
        codecs.BOM_UTF16_LE
        + '{"jsonrpc": "2.0", "method": "shout", "params": ["é"], "id": 1}'.encode("utf-16-le")
    )
    assert json.loads(post(client, "jsonrpc", body).body)["result"] == "É!"


def test_jsonrpc20_unknown_charset_is_a_parse_error(client: TestApp) -> None:
    resp = client.post(
        "/Shapes/jsonrpc",
        b"{}",
        headers={"Content-Type": "application/json; charset=nope"},
        expect_errors=True,
    )
    assert error20(resp)["code"] == -32700


# -- notifications (JSON-RPC 2.0) ---------------------------------------------------

NOTIFICATIONS = [
    ("call", b'{"jsonrpc": "2.0", "method": "add", "params": [1, 2]}'),
    ("named", b'{"jsonrpc": "2.0", "method": "divide", "params": {"a": 4}}'),
    ("unknown-method", b'{"jsonrpc": "2.0", "method": "nope"}'),
    ("bad-params", b'{"jsonrpc": "2.0", "method": "add", "params": ["x", 1]}'),
    ("params-not-structured", b'{"jsonrpc": "2.0", "method": "add", "params": 5}'),
    ("client-fault", b'{"jsonrpc": "2.0", "method": "fail", "params": ["client"]}'),
]


@pytest.mark.parametrize("body", [b for _, b in NOTIFICATIONS], ids=[n for n, _ in NOTIFICATIONS])
def test_jsonrpc20_notification_is_not_answered_through_the_interface(
    run_shapes: Runner, shapes_cls: type, body: bytes
) -> None:
    iface = JSONRPCInterface(build_service(shapes_cls))
    try:
        call = iface.decode_call(request(body))
        assert isinstance(call, Call)
    except ServiceFault as fault:
        payload = iface.encode_fault(fault, None)
    else:
        try:
            payload = iface.encode_result(call, run_shapes(call))
        except ServiceFault as fault:
            payload = iface.encode_fault(fault, call)
    assert (payload.status, payload.body) == (204, b"")


@pytest.mark.parametrize("body", [b for _, b in NOTIFICATIONS], ids=[n for n, _ in NOTIFICATIONS])
def test_jsonrpc20_notification_is_answered_204_without_body_through_the_app(
    client: TestApp, body: bytes
) -> None:
    # NOTE: needs the app to send no Content-Type with a 204 (webtest's lint
    # rejects it), see the module docstring of ladon.interfaces.jsonrpc.
    resp = post(client, "jsonrpc", body)
    assert (resp.status_int, resp.body) == (204, b"")


# -- batches (JSON-RPC 2.0), on the interface -----------------------------------------


#: The batch example of the JSON-RPC 2.0 specification, on Shapes.
SPEC_BATCH = """[
    {"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": "1"},
    {"jsonrpc": "2.0", "method": "shout", "params": ["hi"]},
    {"jsonrpc": "2.0", "method": "divide", "params": {"a": 42}, "id": 2},
    {"foo": "boo"},
    {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
    {"jsonrpc": "2.0", "method": "fail", "params": ["client"], "id": 9.5},
    {"jsonrpc": "2.0", "method": "add", "params": [1, "x"], "id": null}
]"""
SPEC_BATCH_ANSWER = [
    ("result", 3, "1"),
    ("result", 21, 2),
    ("error", -32600, None),
    ("error", -32601, "5"),
    ("error", -32000, 9.5),
    ("error", -32602, None),
]


def summary(responses: list[dict[str, Any]]) -> list[tuple[str, Any, Any]]:
    assert isinstance(responses, list), f"not a batch answer: {responses!r}"
    out = []
    for r in responses:
        if "error" in r:
            check_error20(r)
            out.append(("error", r["error"]["code"], r["id"]))
        else:
            assert list(r) == ["jsonrpc", "result", "id"]
            out.append(("result", r["result"], r["id"]))
    return out


def test_batch_answers_each_element_in_order_and_skips_notifications(
    batch_json: Callable[..., Any],
) -> None:
    assert summary(batch_json(SPEC_BATCH)) == SPEC_BATCH_ANSWER


@pytest.mark.parametrize(
    "body",
    [
        '{"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": 1}',
        '  \n {"jsonrpc": "2.0"}',
        "{not json",
        "",
        '"[not a batch]"',
        "5",
    ],
    ids=["object", "object-after-blanks", "malformed-object", "empty", "string", "number"],
)
def test_a_body_that_is_not_an_array_is_answered_as_one_call(
    batch: Callable[..., Payload], body: str
) -> None:
    payload = batch(body)
    assert isinstance(json.loads(payload.body), dict)


def test_batch_after_blanks_and_bom_is_recognised(batch_json: Callable[..., Any]) -> None:
    body = (
        codecs.BOM_UTF8 + b'\r\n\t [{"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": 1}]'
    )
    assert summary(batch_json(body)) == [("result", 3, 1)]


def test_utf16_batch_is_recognised(batch_json: Callable[..., Any]) -> None:
    body = (
        codecs.BOM_UTF16_BE
        + '[{"jsonrpc": "2.0", "method": "shout", "params": ["é"], "id": 1}]'.encode("utf-16-be")
    )
    assert summary(batch_json(body)) == [("result", "É!", 1)]


def test_batch_of_notifications_only_is_answered_204_without_body(
    batch: Callable[..., Payload],
) -> None:
    payload = batch(
        '[{"jsonrpc": "2.0", "method": "add", "params": [1, 2]},'
        ' {"jsonrpc": "2.0", "method": "nope"}]'
    )
    assert payload is not None and (payload.status, payload.body) == (204, b"")


@pytest.mark.parametrize(
    ("body", "code", "text"),
    [
        ("[]", -32600, "at least one"),
        ("[ ]", -32600, "at least one"),
        (
            '[{"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": 1}',
            -32700,
            "not valid JSON",
        ),
        ("[" * 100_000 + "]" * 100_000, -32700, "nested too deeply"),
        ("[" + ", ".join(["{}"] * 1001) + "]", -32600, "at most 1000"),
    ],
    ids=["empty", "empty-with-blank", "malformed", "too-deep", "too-many"],
)
def test_bad_batch_is_one_error_with_null_id(
    batch_json: Callable[..., Any], body: str, code: int, text: str
) -> None:
    data = batch_json(body)
    err = check_error20(data)
    assert err["code"] == code and text.lower() in err["message"].lower()
    assert err["_id"] is None


def test_batch_of_non_objects_gives_one_invalid_request_each(
    batch_json: Callable[..., Any],
) -> None:
    assert summary(batch_json('[1, "x", null, [], true]')) == [("error", -32600, None)] * 5


def test_batch_element_raising_an_unexpected_exception_is_internal_error_without_traceback(
    batch_json: Callable[..., Any], run_shapes: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    def run(call: Call) -> object:
        if call.method.name == "shout":
            raise RuntimeError("secret internal state /etc/passwd")
        return run_shapes(call)

    body = (
        '[{"jsonrpc": "2.0", "method": "shout", "params": ["a"], "id": 1},'
        ' {"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": 2}]'
    )
    with caplog.at_level(logging.ERROR, logger="ladon"):
        data = batch_json(body, run=run)
    # as a single call answers it: -32001, "Internal server error"
    assert data[0]["error"]["code"] == -32001
    assert data[0]["error"]["message"] == "Internal server error"
    assert data[0]["error"]["data"]["code"] == "server"
    assert "secret" not in json.dumps(data[0])
    assert data[1]["result"] == 3
    assert any("secret" in str(r.exc_info) for r in caplog.records)  # logged, not sent


def test_batch_internal_error_carries_the_traceback_in_debug_mode(
    batch: Callable[..., Payload], caplog: pytest.LogCaptureFixture
) -> None:
    def run(call: Call) -> object:
        raise RuntimeError("boom")

    with caplog.at_level(logging.CRITICAL, logger="ladon"):
        payload = batch(
            '[{"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": 1}]', run, debug=True
        )
    assert payload is not None
    detail = json.loads(payload.body)[0]["error"]["data"]["detail"]
    assert detail[0].startswith("Traceback") and "RuntimeError: boom" in detail


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        (ClientFault("no", hint="try yes"), -32000),
        (ServerFault("down", detail="a\nb"), -32001),
        (ResultError("result", "expected an integer"), -32603),
    ],
    ids=["client-fault", "server-fault", "result-error"],
)
def test_batch_element_fault_raised_by_run_is_that_elements_error(
    batch_json: Callable[..., Any], fault: Exception, code: int
) -> None:
    def run(call: Call) -> object:
        raise fault

    data = batch_json('[{"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": "k"}]', run=run)
    err = check_error20(data[0])
    assert (err["code"], err["message"], err["_id"]) == (code, str(fault), "k")


def test_batch_element_with_a_result_of_the_wrong_type_is_internal_error(
    batch_json: Callable[..., Any],
) -> None:
    data = batch_json(
        '[{"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": 1}]', run=lambda call: "five"
    )
    err = check_error20(data[0])
    assert err["code"] == -32603 and "result" in err["message"]


def test_batch_calls_run_once_per_valid_element_in_order(
    batch_json: Callable[..., Any], run_shapes: Runner
) -> None:
    seen: list[tuple[str, list[Any]]] = []

    def run(call: Call) -> object:
        seen.append((call.method.name, call.args))
        return run_shapes(call)

    batch_json(SPEC_BATCH, run=run)
    assert seen == [("add", [1, 2]), ("shout", ["hi"]), ("divide", [42, 2]), ("fail", ["client"])]


def test_single_request_is_answered_with_result_through_encode_result(shapes_cls: type) -> None:
    iface = JSONRPCInterface(build_service(shapes_cls))
    call = iface.decode_call(
        request(b'{"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": 1}')
    )
    assert isinstance(call, Call)
    with pytest.raises(ResultError):
        iface.encode_result(call, "five")
    payload = iface.encode_fault(ResultError("result", "expected an integer"), call)
    assert json.loads(payload.body)["error"]["code"] == -32603


# -- batches through the app ---------------------------------------------------------------


def test_batch_answers_each_element_through_the_app(client: TestApp) -> None:
    resp = post(client, "jsonrpc", SPEC_BATCH)
    assert resp.status_int == 200 and resp.content_type == "application/json"
    assert summary(json.loads(resp.body)) == SPEC_BATCH_ANSWER


def test_batch_runs_methods_of_the_right_service_through_the_app(client: TestApp) -> None:
    body = (
        '[{"jsonrpc": "2.0", "method": "next_day", "params": ["2024-02-28"], "id": 1},'
        ' {"jsonrpc": "2.0", "method": "greet", "id": 2}]'
    )
    data = json.loads(post(client, "jsonrpc", body, "Ledger").body)
    assert summary(data) == [("result", "2024-02-29", 1), ("result", "Hello, world!", 2)]


def test_empty_batch_is_one_invalid_request_error_through_the_app(client: TestApp) -> None:
    err = error20(post(client, "jsonrpc", "[]"))
    assert (err["code"], err["_id"]) == (-32600, None)


def test_batch_element_raising_unexpectedly_has_no_traceback_through_the_app(
    client: TestApp, caplog: pytest.LogCaptureFixture
) -> None:
    body = '[{"jsonrpc": "2.0", "method": "fail", "params": ["x"], "id": 1}]'
    with caplog.at_level(logging.CRITICAL, logger="ladon"):
        resp = post(client, "jsonrpc", body)
    assert resp.status_int == 200
    assert_no_leak(resp.body)
    err = check_error20(json.loads(resp.body)[0])
    single = check_error20(json.loads(post(client, "jsonrpc", body[1:-1]).body))
    assert err["code"] == single["code"] == -32001
    assert err["message"] == single["message"] == "Internal server error"


def test_batch_of_notifications_is_answered_204_through_the_app(client: TestApp) -> None:
    resp = post(client, "jsonrpc", '[{"jsonrpc": "2.0", "method": "add", "params": [1, 2]}]')
    assert (resp.status_int, resp.body) == (204, b"")


# -- descriptions --------------------------------------------------------------------


@pytest.mark.parametrize(("iface", "version"), [("jsonrpc10", "1.0"), ("jsonrpc", "2.0")])
def test_description_is_the_jsonrpc_description_document(
    client: TestApp, iface: str, version: str
) -> None:
    resp = client.get(f"/Shapes/{iface}/description")
    assert resp.status_int == 200 and resp.content_type == "application/json"
    desc = json.loads(resp.body)
    assert list(desc) == ["servicename", "url", "type", "version", "types", "methods"]
    assert desc["servicename"] == "Shapes"
    assert desc["url"] == f"http://localhost/Shapes/{iface}"
    assert (desc["type"], desc["version"]) == ("jsonrpc/description", version)
    assert desc["types"]["Point"] == {"x": "number", "y": "number"}
    assert desc["types"]["Polygon"] == {
        "name": "string",
        "points": ["Point"],
        "style": "Style",
        "tags": ["string"],
    }
    add = desc["methods"]["add"]
    assert add["doc_lines"][0] == "Sum two integers."
    assert add["params"]["a"] == {
        "type": "number",
        "def_order": 1,
        "optional": False,
        "doc_lines": ["the first term"],
    }
    assert add["ret_info"] == {"type": "number", "doc_lines": ["the sum"]}


def test_description_lists_optional_params_with_their_default(client: TestApp) -> None:
    desc = json.loads(client.get("/Ledger/jsonrpc10/description").body)
    shift = desc["methods"]["shift"]["params"]
    assert shift["hours"] == {
        "type": "number",
        "def_order": 2,
        "optional": True,
        "doc_lines": [],
        "default": "1",
    }
    assert desc["types"]["Invoice"]["issued"] == "date"
    assert desc["methods"]["nothing"]["ret_info"]["type"] == ["number"]


def test_description_is_the_same_for_both_versions_but_version_and_url(client: TestApp) -> None:
    one = json.loads(client.get("/Ledger/jsonrpc10/description").body)
    two = json.loads(client.get("/Ledger/jsonrpc/description").body)
    for d in (one, two):
        del d["version"], d["url"]
    assert one == two


# -- golden files (jsonrpc10 wire contract) ---------------------------------------------

GOLDEN: list[tuple[str, bytes | None]] = [
    ("add", dumps({"method": "add", "params": [2, 3], "id": 7})),
    ("make_point", dumps({"method": "make_point", "params": [1, 2], "id": "p"})),
    ("empty_polygon", dumps({"method": "empty_polygon", "params": ["nothing"], "id": None})),
    ("fault_client", dumps({"method": "fail", "params": ["client"], "id": 1})),
    ("fault_unknown_method", dumps({"method": "nope", "params": [], "id": 1})),
    ("fault_missing_param", dumps({"method": "add", "params": [2], "id": 1})),
    ("description", None),
]


@pytest.mark.parametrize(("name", "body"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_jsonrpc10_wire_output_matches_golden_file(
    client: TestApp, name: str, body: bytes | None
) -> None:
    if body is None:
        resp = client.get("/Shapes/jsonrpc10/description")
    else:
        resp = post(client, "jsonrpc10", body)
    assert resp.status_int == 200 and resp.content_type == "application/json"
    path = DATA / f"{name}.json"
    if REGEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(json.loads(resp.body), indent=2, ensure_ascii=False) + "\n")
        return
    got = json.loads(resp.body, object_pairs_hook=list)
    assert got == json.loads(path.read_bytes(), object_pairs_hook=list), f"{path.name} differs"


# -- interface objects ------------------------------------------------------------------


def test_interfaces_are_registered_under_their_names(app: LadonWSGIApplication) -> None:
    assert app.interfaces["jsonrpc10"] is JSONRPC10Interface
    assert app.interfaces["jsonrpc"] is JSONRPCInterface


def test_jsonrpc10_decode_call_binds_trailing_defaults(shapes_cls: type) -> None:
    iface = JSONRPC10Interface(build_service(shapes_cls))
    call = iface.decode_call(request(b'{"method": "divide", "params": [9], "id": 1}'))
    assert isinstance(call, Call)
    assert (call.method.name, call.args, call.id, call.mirror) == ("divide", [9, 2], 1, ABSENT)


# -- over a real socket ------------------------------------------------------------------


def http_post(url: str, body: bytes) -> tuple[int, str, bytes]:
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, resp.headers.get("Content-Type", ""), resp.read()


E2E_CALLS: list[tuple[str, str, bytes, Any]] = [
    ("jsonrpc10", "Shapes", dumps({"method": "add", "params": [2, 3], "id": 7}), {"result": 5, "id": 7, "error": None}),
    ("jsonrpc10", "Ledger", dumps({"method": "next_day", "params": ["2024-12-31"], "id": None}), {"result": "2025-01-01", "id": None, "error": None}),
    ("jsonrpc", "Shapes", dumps({"jsonrpc": "2.0", "method": "mirror", "params": [{"x": 1, "y": 2}], "id": "m"}), {"jsonrpc": "2.0", "result": {"x": 2, "y": 1}, "id": "m"}),
    ("jsonrpc", "Ledger", dumps({"jsonrpc": "2.0", "method": "total", "params": {"invoice": INVOICE}, "id": 1.5}), {"jsonrpc": "2.0", "result": "10.50", "id": 1.5}),
]  # fmt: skip


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("iface", "service", "body", "expected"),
    E2E_CALLS,
    ids=["10-add", "10-date", "20-mirror", "20-decimal"],
)
def test_call_over_http(
    live_server: Any, iface: str, service: str, body: bytes, expected: Any
) -> None:
    status, ctype, data = http_post(f"{live_server.url}/{service}/{iface}", body)
    assert (status, ctype.split(";")[0]) == (200, "application/json")
    assert json.loads(data) == expected


@pytest.mark.e2e
@pytest.mark.parametrize("iface", ["jsonrpc10", "jsonrpc"])
def test_malformed_body_is_an_error_object_with_http_200_over_http(
    live_server: Any, iface: str
) -> None:
    status, _, data = http_post(f"{live_server.url}/Shapes/{iface}", b"{not json")
    assert status == 200
    assert_no_leak(data)
    answer = json.loads(data)
    assert answer["id"] is None
    assert answer["error"]["code"] == ("client" if iface == "jsonrpc10" else -32700)


@pytest.mark.e2e
def test_notification_is_answered_204_without_body_over_http(live_server: Any) -> None:
    body = b'{"jsonrpc": "2.0", "method": "add", "params": [1, 2]}'
    assert http_post(f"{live_server.url}/Shapes/jsonrpc", body)[::2] == (204, b"")


@pytest.mark.e2e
@pytest.mark.parametrize("iface", ["jsonrpc10", "jsonrpc"])
def test_description_over_http(live_server: Any, iface: str) -> None:
    with urllib.request.urlopen(
        f"{live_server.url}/Shapes/{iface}/description", timeout=10
    ) as resp:
        desc = json.loads(resp.read())
    assert desc["type"] == "jsonrpc/description"
    assert desc["url"] == f"{live_server.url}/Shapes/{iface}"


@pytest.mark.e2e
def test_batch_over_http(live_server: Any) -> None:
    status, _, data = http_post(f"{live_server.url}/Shapes/jsonrpc", SPEC_BATCH.encode())
    assert status == 200
    assert summary(json.loads(data)) == SPEC_BATCH_ANSWER
