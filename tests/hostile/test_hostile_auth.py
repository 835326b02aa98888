"""Hostile credentials (issue 13): whatever a client puts in the
``Authorization`` header, a ``wsse:Security`` header or an ``Origin``, the
answer is the interface's refusal (401, or the SOAP fault with its OASIS
code), in under a second, with bounded memory, and no traceback, path,
password or token in it."""

from __future__ import annotations

import base64
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from test_hostile import SOAP_ENV
from test_hostile import Answer
from test_hostile import assert_clean
from test_hostile import request

from ladon.server.wsgi import LadonWSGIApplication

SERVICES = Path(__file__).resolve().parents[1] / "services"
if str(SERVICES) not in sys.path:
    sys.path.append(str(SERVICES))

import auth_app  # noqa: E402

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
BODIES = {
    "jsonwsp": (b'{"methodname": "add", "args": {"a": 1, "b": 2}}', "application/json"),
    "jsonrpc": (
        b'{"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": 1}',
        "application/json",
    ),
    "jsonrpc10": (b'{"method": "add", "params": [1, 2], "id": 1}', "application/json"),
    "xmlrpc": (
        b"<methodCall><methodName>add</methodName><params><param><value><int>1</int></value>"
        b"</param><param><value><int>2</int></value></param></params></methodCall>",
        "text/xml",
    ),
    "soap": (
        f'<e:Envelope xmlns:e="{SOAP_ENV}"><e:Body><add><a>1</a><b>2</b></add></e:Body></e:Envelope>'.encode(),
        "text/xml",
    ),
}


@pytest.fixture(scope="module")
def app() -> Iterator[LadonWSGIApplication]:
    application = auth_app.make_app(cors_origins=["https://ok.example"])
    yield application
    application.close()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


AUTHORIZATIONS = [
    "Basic " + "A" * 1_000_000,
    "Basic " + _b64(b"\xff\xfe:\x00\x01"),
    "Basic " + _b64(b"user\x00name:pw"),
    "Basic " + _b64("ü:ß".encode("latin-1")),
    "Basic " + _b64(b":" * 5000),
    "Basic " + _b64(b"alice:" + b"x" * 100_000),
    "Basic ====",
    "Basic \u00e9\u00e8",
    "basic " + _b64(b"alice:wrong"),
    "Bearer " + "a.b.c" * 10_000,
    "Bearer " + "\x7f" * 40,
    "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJyb290In0.",
    "Bearer eyJhbGciOiJIUzI1NiIsImtpZCI6WzFdfQ.e30.AAAA",
    "Bearer " + _b64(b"{" * 5000),
]


@pytest.mark.parametrize("iface", list(BODIES))
@pytest.mark.parametrize("authorization", AUTHORIZATIONS, ids=range(len(AUTHORIZATIONS)))
def test_hostile_authorization_headers(
    app: LadonWSGIApplication, iface: str, authorization: str
) -> None:
    body, ctype = BODIES[iface]
    answer = request(
        app,
        f"/Vault/{iface}",
        body,
        content_type=ctype,
        extra={"HTTP_AUTHORIZATION": authorization},
    )
    assert_clean(answer)
    assert answer.status == 401, answer.text[:300]
    secret = authorization.split(" ", 1)[1][:40]
    assert len(secret) < 8 or secret not in answer.text


def _wsse(security: str) -> bytes:
    return (
        f'<e:Envelope xmlns:e="{SOAP_ENV}" xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}">'
        f"<e:Header>{security}</e:Header><e:Body><add><a>1</a><b>2</b></add></e:Body></e:Envelope>"
    ).encode()


def _token(inner: str) -> str:
    return f"<wsse:Security><wsse:UsernameToken>{inner}</wsse:UsernameToken></wsse:Security>"


SECURITY_HEADERS = [
    _token("<wsse:Username>" + "u" * 100_000 + "</wsse:Username><wsse:Password>x</wsse:Password>"),
    _token(
        "<wsse:Username>alice</wsse:Username><wsse:Password>" + "p" * 100_000 + "</wsse:Password>"
    ),
    _token(
        "<wsse:Username>alice</wsse:Username><wsse:Password>x</wsse:Password><wsse:Nonce>"
        + "A" * 100_000
        + "</wsse:Nonce>"
    ),
    _token(
        "<wsse:Username>alice</wsse:Username><wsse:Password>x</wsse:Password><wsu:Created>0000-00-00T00:00:00Z</wsu:Created>"
    ),
    _token(
        "<wsse:Username>alice</wsse:Username><wsse:Password>x</wsse:Password><wsu:Created>9999-12-31T23:59:59.999999999+14:00</wsu:Created>"
    ),
    _token(
        "<wsse:Username>alice</wsse:Username><wsse:Password>x</wsse:Password><wsu:Created>2020-01-01T24:00:00Z</wsu:Created>"
    ),
    _token(
        "<wsse:Username>alice</wsse:Username><wsse:Password>x</wsse:Password><wsse:Nonce EncodingType='hex'>00</wsse:Nonce>"
    ),
    _token("<wsse:Username>alice</wsse:Username>" + "<wsse:Password>x</wsse:Password>" * 1000),
    "<wsse:Security>" + "<wsse:UsernameToken/>" * 5000 + "</wsse:Security>",
    "<wsse:Security><wsu:Timestamp><wsu:Expires>never</wsu:Expires></wsu:Timestamp></wsse:Security>",
    "<wsse:Security><wsu:Timestamp><wsu:Created><x/></wsu:Created></wsu:Timestamp></wsse:Security>",
    "<wsse:Security/><wsse:Security/>",
    "<wsse:Security>" + "<a>" * 200 + "</a>" * 200 + "</wsse:Security>",
    _token("<wsse:Username>\u202ealice</wsse:Username><wsse:Password>alice-pw</wsse:Password>"),
]


@pytest.mark.parametrize("security", SECURITY_HEADERS, ids=range(len(SECURITY_HEADERS)))
def test_hostile_security_headers(app: LadonWSGIApplication, security: str) -> None:
    answer = request(app, "/Vault/soap", _wsse(security), content_type="text/xml")
    assert_clean(answer)
    assert answer.status in (401, 500), answer.text[:300]
    root = etree.fromstring(answer.body)
    code = root.findtext(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault/faultcode")
    assert code in (
        "wsse:InvalidSecurity",
        "wsse:FailedAuthentication",
        "wsse:SecurityTokenUnavailable",
    ), answer.text[:300]


@pytest.mark.parametrize(
    "origin",
    [
        "null",
        "https://ok.example:99999",
        "x" * 100_000,
        "https://ok.example/../",
        "\u00e9://a",
        "https://[::1",
    ],
)
def test_hostile_origins(app: LadonWSGIApplication, origin: str) -> None:
    body, ctype = BODIES["jsonwsp"]
    for method, extra in (
        ("OPTIONS", {"HTTP_ORIGIN": origin, "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST"}),
        ("POST", {"HTTP_ORIGIN": origin}),
    ):
        answer: Answer = request(
            app, "/Vault/jsonwsp", body, method=method, content_type=ctype, extra=extra
        )
        assert_clean(answer)
        assert "Access-Control-Allow-Origin" not in answer.headers
        assert answer.status in (401, 403)
