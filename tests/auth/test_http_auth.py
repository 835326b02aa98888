"""Authentication on the one request path, in process (webtest): Basic,
Bearer and RemoteUser on every interface, ``kw["principal"]``, refusals
and their headers, protected docs, CORS, and no secret in any log."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import auth_app
import pytest
from webtest import TestApp
from webtest import TestResponse

from ladon import LadonWSGIApplication
from ladon.auth import BasicAuth
from ladon.auth import Principal
from ladon.auth import UsernameToken
from ladon.wire.schema import WSSE

from .conftest import basic
from .conftest import bearer
from .wire import INTERFACES
from .wire import answer
from .wire import request


def _post(
    app: TestApp, iface: str, method: str, args: dict[str, object], **headers: str
) -> TestResponse:
    body, ctype = request(iface, method, args)
    return app.post(
        f"/Vault/{iface}", body, headers={"Content-Type": ctype, **headers}, expect_errors=True
    )


@pytest.fixture(scope="module")
def web(vault_app: LadonWSGIApplication) -> TestApp:
    return TestApp(vault_app)


@pytest.mark.parametrize("iface", INTERFACES)
def test_the_method_sees_the_caller_whatever_the_scheme(web: TestApp, iface: str) -> None:
    for authorization, expected in (
        (basic("root", "root-pw"), "root:admin"),
        (bearer("alice"), "alice:"),
        (bearer("root"), "root:admin"),
    ):
        r = _post(web, iface, "whoami", {}, Authorization=authorization)
        got = answer(iface, r.status_int, r.body)
        assert got.ok and got.value == expected, r.text


def test_an_expired_or_forged_token_is_refused_with_the_reason(web: TestApp) -> None:
    r = _post(web, "jsonrpc", "add", {"a": 1, "b": 2}, Authorization=bearer("alice", lifetime=-60))
    assert r.status_int == 401
    assert "the token has expired" in r.json["error"]["message"]
    forged = bearer("alice")[:-4] + "AAAA"
    r = _post(web, "jsonrpc", "add", {"a": 1, "b": 2}, Authorization=forged)
    assert r.status_int == 401 and "not valid" in r.json["error"]["message"]
    assert forged.split()[1] not in r.text


@pytest.mark.parametrize(
    "authorization",
    ["Basic", "Basic !!!", "Basic " + "QUJD", "Basic " + "A" * 20000, "Bearer", "Bearer a b"],
    ids=["empty", "not-base64", "no-colon", "huge", "empty-token", "spaced-token"],
)
def test_malformed_credentials_are_refused_not_crashed_on(web: TestApp, authorization: str) -> None:
    r = _post(web, "jsonwsp", "ping", {}, Authorization=authorization)
    assert r.status_int == 401
    assert r.json["fault"]["string"].startswith(("Malformed", "Authentication failed"))
    assert r.headers.getall("WWW-Authenticate")


def test_another_authorization_scheme_is_not_looked_at(web: TestApp) -> None:
    r = _post(web, "jsonwsp", "ping", {}, Authorization="Negotiate abc")
    assert r.status_int == 200 and r.json["result"] == "pong"
    r = _post(web, "jsonwsp", "add", {"a": 1, "b": 2}, Authorization="Negotiate abc")
    assert r.status_int == 401 and r.json["fault"]["string"].startswith("Authentication required")


def test_remote_user_from_the_server_in_front() -> None:
    app = auth_app.make_app(kind="remote")
    try:
        web = TestApp(app)
        body, ctype = request("jsonwsp", "whoami", {})
        r = web.post(
            "/Vault/jsonwsp",
            body,
            headers={"Content-Type": ctype},
            extra_environ={"REMOTE_USER": "root"},
        )
        assert r.json["result"] == "root:admin"
        r = web.post("/Vault/jsonwsp", body, headers={"Content-Type": ctype}, expect_errors=True)
        # the server in front challenges: without a scheme to offer, a 401
        # (which must carry a challenge) cannot be sent
        assert r.status_int == 403
        assert "WWW-Authenticate" not in r.headers
        assert r.json["fault"]["string"].startswith("Authentication required")
    finally:
        app.close()


#: A name no task store or answer can hold: a lone surrogate, as a JWT's
#: JSON (``"\\ud800"``) or a ``surrogateescape``-decoded header gives it.
UNENCODABLE = "\ud800x"


def _unencodable(user: str, password: str) -> Principal | None:
    return Principal(user + UNENCODABLE)


def test_a_verify_giving_an_unencodable_name_refuses_the_credentials() -> None:
    app = LadonWSGIApplication([auth_app.Vault], auth=[BasicAuth(_unencodable)])
    r = _post(TestApp(app), "jsonwsp", "whoami", {}, Authorization=basic("alice", "x"))
    assert r.status_int == 401 and r.headers.getall("WWW-Authenticate")
    assert r.json["fault"]["string"] == (
        "Authentication failed: the user name or a role cannot be used"
    )
    app.close()


@pytest.mark.parametrize(
    ("method", "args"),
    [("whoami", {}), ("count", {"n": 1}), ("count_progress", {"task_id": "f" * 40})],
    ids=["call", "task-start", "task-read"],
)
def test_a_token_whose_subject_utf8_cannot_encode_is_refused(
    web: TestApp, method: str, args: dict[str, object]
) -> None:
    """Not a 500 on a task start or read (the owner is stored and compared
    as UTF-8), nor a caller on a plain call."""
    r = _post(web, "jsonrpc", method, args, Authorization=bearer(UNENCODABLE))
    assert r.status_int == 401, r.text
    assert r.json["error"]["message"].startswith("Authentication failed")


def test_remote_user_that_utf8_cannot_encode_is_refused() -> None:
    app = auth_app.make_app(kind="remote")
    body, ctype = request("jsonwsp", "count", {"n": 1})
    r = TestApp(app).post(
        "/Vault/jsonwsp",
        body,
        headers={"Content-Type": ctype},
        extra_environ={"REMOTE_USER": "\udcff\udcfe"},  # surrogateescape'd bytes
        expect_errors=True,
    )
    assert r.status_int == 403 and "WWW-Authenticate" not in r.headers
    assert r.json["fault"]["string"].startswith("Authentication failed")
    app.close()


def test_username_token_roles_that_utf8_cannot_encode_refuse_the_token() -> None:
    token = UsernameToken(auth_app.PASSWORDS.get, roles=lambda user: [UNENCODABLE])
    app = LadonWSGIApplication([auth_app.Vault], auth=[token])
    security = (
        f'<wsse:Security xmlns:wsse="{WSSE}"><wsse:UsernameToken>'
        "<wsse:Username>alice</wsse:Username><wsse:Password>alice-pw</wsse:Password>"
        "</wsse:UsernameToken></wsse:Security>"
    )
    body, ctype = request("soap", "add", {"a": 1, "b": 2}, security)
    r = TestApp(app).post("/Vault/soap", body, headers={"Content-Type": ctype}, status=500)
    got = answer("soap", r.status_int, r.body)
    assert got.code == "wsse:FailedAuthentication" and "cannot be used" in got.message
    app.close()


def test_notifications_and_batches_are_refused_per_call(web: TestApp) -> None:
    note = json.dumps({"jsonrpc": "2.0", "method": "add", "params": [1, 2]})
    r = web.post(
        "/Vault/jsonrpc", note, headers={"Content-Type": "application/json"}, expect_errors=True
    )
    assert r.status_int == 401 and r.body == b""
    batch = json.dumps(
        [
            {"jsonrpc": "2.0", "method": "ping", "id": 1},
            {"jsonrpc": "2.0", "method": "audit", "id": 2},
        ]
    )
    r = web.post(
        "/Vault/jsonrpc",
        batch,
        headers={"Content-Type": "application/json", "Authorization": basic("bob", "bob-pw")},
    )
    first, second = r.json
    assert first["result"] == "pong"
    assert second["error"]["message"].startswith("Access denied")


def test_the_caller_is_checked_before_the_arguments_on_http_soap12_and_in_batches(
    web: TestApp,
) -> None:
    """Wrong arguments to a method the caller may not call: the caller's
    refusal (401/403), never the argument fault (which would tell an
    anonymous caller the method's rules)."""
    bad = {"a": "not-a-number", "b": 3}
    r = web.post_json("/Vault/http/add", bad, expect_errors=True)
    assert r.status_int == 401 and "Authentication required" in r.json["detail"]
    r = web.post_json(
        "/Vault/http/add", bad, headers={"Authorization": basic("bob", "no")}, expect_errors=True
    )
    assert r.status_int == 401 and "Authentication failed" in r.json["detail"]
    r = web.post_json(
        "/Vault/http/add",
        bad,
        headers={"Authorization": basic("bob", "bob-pw")},
        expect_errors=True,
    )
    assert r.status_int == 422 and "not-a-number" in r.json["detail"]
    envelope = (
        '<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body>'
        '<add xmlns="urn:Vault"><a>not-a-number</a><b>3</b></add></e:Body></e:Envelope>'
    )
    r = web.post(
        "/Vault/soap12",
        envelope,
        headers={"Content-Type": "application/soap+xml"},
        expect_errors=True,
    )
    assert r.status_int == 401 and b"not-a-number" not in r.body
    r = web.post(
        "/Vault/soap12",
        envelope,
        headers={"Content-Type": "application/soap+xml", "Authorization": basic("bob", "bob-pw")},
        expect_errors=True,
    )
    assert r.status_int == 400 and b"not-a-number" in r.body
    batch = json.dumps(
        [
            {"jsonrpc": "2.0", "method": "audit", "params": {"nope": 1}, "id": 1},
            {"jsonrpc": "2.0", "method": "add", "params": ["x", 2], "id": 2},
        ]
    )
    r = web.post(
        "/Vault/jsonrpc",
        batch,
        headers={"Content-Type": "application/json", "Authorization": basic("bob", "bob-pw")},
    )
    first, second = r.json
    assert first["id"] == 1 and first["error"]["message"].startswith("Access denied")
    assert second["id"] == 2 and second["error"]["code"] == -32602


@pytest.mark.parametrize(
    ("path", "body", "ctype"),
    [
        ("/Vault/jsonrpc", b"{{{", "application/json"),
        ("/Vault/jsonwsp", b"{{{", "application/json"),
        ("/Vault/http/ping", b"{{{", "application/json"),
        ("/Vault/xmlrpc", b"<<", "text/xml"),
        ("/Vault/soap11", b"<x", "text/xml"),
        ("/Vault/soap12", b"<x", "application/soap+xml"),
        ("/Vault/jsonrpc", b'{"jsonrpc": "2.0", "method": "nope", "id": 3}', "application/json"),
    ],
    ids=["jsonrpc", "jsonwsp", "http", "xmlrpc", "soap11", "soap12", "unknown-method"],
)
def test_wrong_credentials_come_first_even_when_the_request_names_no_method(
    web: TestApp, path: str, body: bytes, ctype: str
) -> None:
    """A body that does not parse, or an unknown method, with a wrong
    password: 401 with the challenges (the refusal of the caller comes
    first, as on any call); without credentials, or with right ones, the
    request's own fault."""
    wrong = web.post(
        path,
        body,
        headers={"Content-Type": ctype, "Authorization": basic("bob", "no")},
        expect_errors=True,
    )
    assert wrong.status_int == 401, wrong.text[:300]
    assert "Authentication failed" in wrong.text and wrong.headers.getall("WWW-Authenticate")
    if b"nope" in body:
        assert wrong.json["id"] == 3  # the answer still repeats the request's id
    for headers in ({}, {"Authorization": basic("bob", "bob-pw")}):
        own = web.post(path, body, headers={"Content-Type": ctype, **headers}, expect_errors=True)
        assert own.status_int != 401 and "Authentication" not in own.text, own.text[:300]


def test_wsse_only_application_answers_soap_refusals_as_soap_faults() -> None:
    app = LadonWSGIApplication([auth_app.Vault], auth=[UsernameToken(auth_app.PASSWORDS.get)])
    try:
        web = TestApp(app)
        r = _post(web, "soap", "add", {"a": 1, "b": 2})
        assert r.status_int == 500  # no HTTP scheme to challenge with: a SOAP fault
        assert answer("soap", 500, r.body).code == "wsse:SecurityTokenUnavailable"
        assert "WWW-Authenticate" not in r.headers
        # SOAP 1.2: the Sender fault's own status, as a wrong password gets
        envelope = (
            '<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body>'
            '<add xmlns="urn:Vault"><a>1</a><b>2</b></add>'
            "</e:Body></e:Envelope>"
        )
        r = web.post(
            "/Vault/soap12",
            envelope,
            headers={"Content-Type": "application/soap+xml; charset=utf-8"},
            expect_errors=True,
        )
        assert r.status_int == 400, r.text
        assert "env:Sender" in r.text and "SecurityTokenUnavailable" in r.text
        assert "WWW-Authenticate" not in r.headers
        r = _post(web, "jsonwsp", "add", {"a": 1, "b": 2})
        # the JSON interfaces have only the HTTP status, and no scheme to
        # offer in a challenge: refused
        assert r.status_int == 403
        assert "WWW-Authenticate" not in r.headers
        assert "UsernameToken" not in r.json["fault"]["hint"]
    finally:
        app.close()


@pytest.fixture(scope="module")
def docs_app() -> Iterator[TestApp]:
    app = auth_app.make_app(protect_docs=True)
    yield TestApp(app)
    app.close()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/Vault",
        "/Vault/soap/description",
        "/Vault/soap?wsdl",
        "/Vault/jsonwsp/description",
        "/Vault/http/description",
        "/_ladon/openapi.json",
    ],
)
def test_protected_docs_need_credentials(docs_app: TestApp, path: str) -> None:
    r = docs_app.get(path, expect_errors=True)
    assert r.status_int == 401
    assert 'Basic realm="Ladon", charset="UTF-8"' in r.headers.getall("WWW-Authenticate")
    r = docs_app.get(path, headers={"Authorization": basic("bob", "wrong")}, expect_errors=True)
    assert r.status_int == 401
    r = docs_app.get(path, headers={"Authorization": basic("bob", "bob-pw")}, expect_errors=True)
    assert r.status_int in (200, 301, 308)
    r = docs_app.get(path, headers={"Authorization": bearer("alice")}, expect_errors=True)
    assert r.status_int in (200, 301, 308)


def test_protected_docs_keep_static_files_public_and_guard_introspection(docs_app: TestApp) -> None:
    assert docs_app.get("/_ladon/static/ladon.css").status_int == 200
    body, ctype = request("xmlrpc", "system.listMethods", {})
    r = docs_app.post("/Vault/xmlrpc", body, headers={"Content-Type": ctype}, expect_errors=True)
    assert r.status_int == 401
    r = docs_app.post(
        "/Vault/xmlrpc",
        body,
        headers={"Content-Type": ctype, "Authorization": basic("bob", "bob-pw")},
    )
    assert b"whoami" in r.body


@pytest.mark.parametrize("kind", ["remote", "wsse"])
@pytest.mark.parametrize(
    "path",
    [
        "/_ladon/tasks",
        "/_ladon/api/tasks",
        "/_ladon/metrics",
        "/",
        "/Vault",
        "/Vault/soap/description",
        "/Vault/soap?wsdl",
        "/_ladon/openapi.json",
    ],
)
def test_an_app_with_no_http_scheme_refuses_operator_and_docs_requests_with_403(
    kind: str, path: str
) -> None:
    # RemoteUser (the server in front challenges) or UsernameToken alone:
    # no challenge to send, and a 401 must carry one (docs/security.rst)
    auth = (
        auth_app.authenticators("remote")
        if kind == "remote"
        else [UsernameToken(auth_app.PASSWORDS.get)]
    )
    app = LadonWSGIApplication([auth_app.Vault], auth=auth, protect_docs=True)
    try:
        r = TestApp(app).get(path, expect_errors=True)
        assert r.status_int == 403, r.text
        assert "WWW-Authenticate" not in r.headers
        assert "Authentication required" in r.text
    finally:
        app.close()


def test_operator_endpoints_challenge_when_the_app_has_http_schemes(docs_app: TestApp) -> None:
    for path in ("/_ladon/tasks", "/_ladon/api/tasks", "/_ladon/metrics"):
        r = docs_app.get(path, expect_errors=True)
        assert r.status_int == 401
        assert 'Basic realm="Ladon", charset="UTF-8"' in r.headers.getall("WWW-Authenticate")


def test_docs_are_public_by_default_and_show_who_may_call(web: TestApp) -> None:
    page = web.get("/Vault").text
    assert 'id="authentication"' in page
    for label in ("HTTP Basic", "Bearer token", "WS-Security UsernameToken"):
        assert label in page
    assert 'data-access="anonymous">public<' in page
    assert 'data-access="authenticated">sign-in required<' in page
    assert 'data-access="roles: admin">role admin<' in page
    assert 'id="cred-password"' in page and 'id="cred-token"' in page
    assert web.get("/Vault/soap/description").status_int == 200


def test_cors_preflight_and_answers_only_for_listed_origins() -> None:
    app = auth_app.make_app(cors_origins=["https://portal.example.com", "http://127.0.0.1:9"])
    try:
        web = TestApp(app)
        pre = {
            "Origin": "https://portal.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        }
        r = web.options("/Vault/jsonrpc", headers=pre)
        assert r.status_int == 204
        assert r.headers["Access-Control-Allow-Origin"] == "https://portal.example.com"
        allowed = r.headers["Access-Control-Allow-Headers"]
        for name in ("Authorization", "Content-Type", "Idempotency-Key"):
            assert name in allowed
        assert "POST" in r.headers["Access-Control-Allow-Methods"]
        r = web.options(
            "/Vault/jsonrpc", headers={**pre, "Origin": "https://evil.example"}, expect_errors=True
        )
        assert r.status_int == 403 and "Access-Control-Allow-Origin" not in r.headers
        body, ctype = request("jsonrpc", "add", {"a": 1, "b": 2})
        headers = {"Content-Type": ctype, "Authorization": basic("bob", "bob-pw")}
        r = web.post(
            "/Vault/jsonrpc", body, headers={**headers, "Origin": "HTTPS://Portal.Example.com"}
        )
        assert r.headers["Access-Control-Allow-Origin"] == "HTTPS://Portal.Example.com"
        assert "WWW-Authenticate" in r.headers["Access-Control-Expose-Headers"]
        r = web.post("/Vault/jsonrpc", body, headers={**headers, "Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in r.headers
        # a shared cache keeps answers apart per Origin, with one or without
        assert r.headers["Vary"] == "Origin"
        r = web.post("/Vault/jsonrpc", body, headers=headers)
        assert "Access-Control-Allow-Origin" not in r.headers
        assert r.headers["Vary"] == "Origin"
        assert web.get("/Vault/jsonrpc/description").headers["Vary"] == "Origin"
    finally:
        app.close()


def test_no_cors_headers_without_origins(web: TestApp) -> None:
    r = web.options(
        "/Vault/jsonrpc",
        headers={"Origin": "https://portal.example.com", "Access-Control-Request-Method": "POST"},
        expect_errors=True,
    )
    assert "Access-Control-Allow-Origin" not in r.headers


def test_no_password_or_token_in_any_log(web: TestApp, caplog: pytest.LogCaptureFixture) -> None:
    token = bearer("alice", lifetime=-60).split()[1]
    with caplog.at_level(logging.DEBUG):
        for iface in INTERFACES:
            _post(
                web, iface, "add", {"a": 1, "b": 2}, Authorization=basic("bob", "secret-wrong-pw")
            )
            _post(web, iface, "add", {"a": 1, "b": 2}, Authorization=basic("bob", "bob-pw"))
            _post(web, iface, "add", {"a": 1, "b": 2}, Authorization="Bearer " + token)
    text = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert "Basic authentication failed for user 'bob'" in text
    for secret in ("secret-wrong-pw", "bob-pw", token, basic("bob", "bob-pw").split()[1]):
        assert secret not in text


def test_the_openapi_document_names_the_security_schemes_of_the_app(web: TestApp) -> None:
    from openapi_spec_validator import validate

    doc = web.get("/Vault/http/description").json
    validate(doc)
    assert doc["components"]["securitySchemes"] == {
        "basicAuth": {"type": "http", "scheme": "basic"},
        "bearerAuth": {"type": "http", "scheme": "bearer"},
    }
    paths = doc["paths"]
    assert "security" not in paths["/ping"]["post"]  # a public method
    add = paths["/add"]["post"]
    assert add["security"] == [{"basicAuth": []}, {"bearerAuth": []}]
    assert "401" in add["responses"] and "403" not in add["responses"]
    assert "403" in paths["/audit"]["post"]["responses"]  # admin only
    # the task resources of a protected task method are protected too
    status = next(p for p in paths if p.startswith("/count/tasks/") and p.count("/") == 3)
    assert paths[status]["get"]["security"] == add["security"]


def test_a_task_never_receives_the_callers_credentials(web: TestApp) -> None:
    headers = {"Authorization": basic("bob", "bob-pw"), "Cookie": "session=s3cret"}
    started = web.post_json(
        "/Vault/jsonwsp", {"methodname": "request_keys", "args": {}}, headers=headers
    ).json
    task_id = started["result"]["task_id"]
    for _ in range(500):
        progress = web.post_json(
            "/Vault/jsonwsp",
            {"methodname": "request_keys_progress", "args": {"task_id": task_id}},
            headers=headers,
        ).json["result"]
        if progress["state"] not in ("pending", "running"):
            break
        time.sleep(0.01)
    result = web.post_json(
        "/Vault/jsonwsp",
        {"methodname": "request_keys_result", "args": {"task_id": task_id}},
        headers=headers,
    ).json["result"]
    assert "HTTP_HOST" in result  # the request's other headers are there, as in Ladon 1.0
    for secret in ("HTTP_AUTHORIZATION", "HTTP_COOKIE", "HTTP_PROXY_AUTHORIZATION"):
        assert secret not in result
