"""Request ids: a sane ``X-Request-ID`` is kept, anything else replaced by a
new one; the id is echoed, on every log line of the call, and in the
detail of an "Internal server error" fault on every interface."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator

import pytest
from werkzeug.test import Client

from ladon.observe import JSONFormatter
from ladon.observe import RequestIdFilter
from ladon.server.wsgi import LadonWSGIApplication

NEW_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(scope="module")
def app() -> Iterator[LadonWSGIApplication]:
    import ops_app

    application = ops_app.make_app()
    yield application
    application.close()


@pytest.fixture()
def client(app: LadonWSGIApplication) -> Client:
    return Client(app)


def call(
    client: Client, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    response = client.post(
        "/Jobs/jsonwsp",
        json={"methodname": "add", "args": {"a": 1, "b": 2}},
        headers=headers or {},
    )
    return response.status_code, dict(response.headers), response.get_data()


@pytest.mark.parametrize(
    "sent",
    ["abc-123", "0af76519-16cd-43dd-8448-eb211c80319c", "req:frontend/7@eu=+_.", "x" * 128],
    ids=["simple", "uuid", "punctuation", "longest"],
)
def test_a_sane_request_id_is_echoed(client: Client, sent: str) -> None:
    status, headers, body = call(client, {"X-Request-ID": sent})
    assert status == 200 and b'"result": 3' in body
    assert headers["X-Request-ID"] == sent


@pytest.mark.parametrize(
    "sent",
    ["x" * 129, "has space", "semi;colon", 'quote"', "<script>", "", "tab\there", "é"],
    ids=["too-long", "space", "semicolon", "quote", "markup", "empty", "tab", "non-ascii"],
)
def test_an_insane_request_id_is_replaced_by_a_new_one(client: Client, sent: str) -> None:
    status, headers, _ = call(client, {"X-Request-ID": sent})
    assert status == 200
    assert NEW_ID.fullmatch(headers["X-Request-ID"]), headers["X-Request-ID"]


def test_without_a_request_id_every_answer_gets_a_new_one(client: Client) -> None:
    seen = set()
    for path in ("/", "/Jobs", "/Jobs/soap/description", "/_ladon/health", "/nowhere"):
        response = client.get(path)
        assert NEW_ID.fullmatch(response.headers["X-Request-ID"]), path
        seen.add(response.headers["X-Request-ID"])
    assert len(seen) == 5


@pytest.mark.parametrize("log_requests", [False, True], ids=["plain", "request-log"])
def test_every_kind_of_answer_carries_exactly_one_request_id(log_requests: bool) -> None:
    """Calls, pages, assets, descriptions, errors, a gzipped HEAD and a CORS
    preflight (answered by its wrapper alone): one X-Request-ID each, with
    and without the structured request log (two ways of writing it)."""
    import ops_app

    app = ops_app.make_app(cors_origins=["https://portal.example"], log_requests=log_requests)
    try:
        client = Client(app)
        origin = {"Origin": "https://portal.example"}
        answers = [
            client.post(
                "/Jobs/jsonwsp",
                json={"methodname": "add", "args": {"a": 1, "b": 2}},
                headers=origin,
            ),
            client.post("/Jobs/jsonwsp", data=b"{oops", content_type="application/json"),
            client.get("/"),
            client.get("/_ladon/static/ladon.css"),
            client.head("/Jobs/soap/description", headers={"Accept-Encoding": "gzip"}),
            client.get("/nowhere"),
            client.open(
                "/Jobs/jsonwsp",
                method="OPTIONS",
                headers={**origin, "Access-Control-Request-Method": "POST"},
            ),
        ]
        for answer in answers:
            ids = answer.headers.getlist("X-Request-ID")
            assert len(ids) == 1 and NEW_ID.fullmatch(ids[0]), (answer.request.path, ids)
        assert answers[-1].status_code == 204  # the preflight
        assert answers[4].headers["Content-Encoding"] == "gzip"
    finally:
        app.close()


def test_request_ids_can_be_turned_off() -> None:
    import ops_app

    app = ops_app.make_app(request_ids=False)
    response = Client(app).get("/_ladon/health")
    assert "X-Request-ID" not in response.headers


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.addFilter(RequestIdFilter())
        self.setFormatter(JSONFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture()
def logged() -> Iterator[Collect]:
    handler = Collect()
    root = logging.getLogger()
    root.addHandler(handler)
    old = root.level
    root.setLevel(logging.INFO)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old)


def test_every_log_line_of_the_call_carries_its_request_id(client: Client, logged: Collect) -> None:
    response = client.post(
        "/Jobs/jsonwsp",
        json={"methodname": "explode", "args": {}},
        headers={"X-Request-ID": "ticket-4711"},
    )
    fault = response.get_json()["fault"]
    assert fault["string"] == "Internal server error"
    assert fault["detail"] == ["request id: ticket-4711"]
    records = [json.loads(line) for line in logged.lines]
    errors = [r for r in records if r["level"] == "ERROR"]
    assert errors, records
    assert all(r["request_id"] == "ticket-4711" for r in errors)
    assert "the secret state of the server" in errors[0]["exception"]
    # outside a request, no id
    logging.getLogger("ladon").warning("between requests")
    assert "request_id" not in json.loads(logged.lines[-1])


#: An unexpected error as each interface carries it, and where its detail is.
FAULTS = {
    "jsonwsp": ("application/json", b'{"methodname": "explode", "args": {}}'),
    "jsonrpc": (
        "application/json",
        b'{"jsonrpc": "2.0", "method": "explode", "params": {}, "id": 1}',
    ),
    "jsonrpc10": ("application/json", b'{"method": "explode", "params": [], "id": 1}'),
    "xmlrpc": (
        "text/xml",
        b"<?xml version='1.0'?><methodCall><methodName>explode</methodName>"
        b"<params></params></methodCall>",
    ),
    "soap": ("text/xml", b"explode"),
    "soap11": ("text/xml", b"explode"),
    "soap12": ("application/soap+xml", b"explode"),
}


def _soap(iface: str, app: LadonWSGIApplication) -> bytes:
    env = (
        "http://www.w3.org/2003/05/soap-envelope"
        if iface == "soap12"
        else "http://schemas.xmlsoap.org/soap/envelope/"
    )
    ns = "urn:Jobs" if iface != "soap" else "http://tempuri.org/"
    return (
        f'<e:Envelope xmlns:e="{env}" xmlns:m="{ns}"><e:Body><m:explode/></e:Body></e:Envelope>'
    ).encode()


@pytest.mark.parametrize("iface", [*FAULTS, "http"], ids=[*FAULTS, "http"])
def test_internal_server_error_names_the_request_id_on_every_interface(
    app: LadonWSGIApplication, client: Client, iface: str
) -> None:
    rid = f"support-case-{iface}"
    if iface == "http":
        response = client.post("/Jobs/http/explode", json={}, headers={"X-Request-ID": rid})
    else:
        ctype, body = FAULTS[iface]
        if iface.startswith("soap"):
            body = _soap(iface, app)
        response = client.post(
            f"/Jobs/{iface}",
            data=body,
            content_type=ctype,
            headers={"X-Request-ID": rid, "SOAPAction": '""'},
        )
    text = response.get_data(as_text=True)
    assert response.headers["X-Request-ID"] == rid
    assert "Internal server error" in text, text
    assert f"request id: {rid}" in text, text
    assert "secret state" not in text
    assert "Traceback" not in text
