"""HTTP behaviour of the WSGI application (COMPAT.md section 2 and the Policy).

Docs pages, routing statuses, body size limits, description URLs, and the
fault every interface gives for malformed input or an unexpected exception.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from typing import cast

import pytest
from lxml import etree
from webtest import TestApp
from webtest import TestResponse

from ladon.server.wsgi import LadonWSGIApplication

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"
SERVICE_MODULES = ["legacy_shapes", "modern_types"]

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
LEAKS = ("Traceback", ".py", 'File "')
SOAP_IFACES = ["soap", "soap11"]

AppFactory = Callable[..., LadonWSGIApplication]


@pytest.fixture()
def make_app() -> Iterator[AppFactory]:
    """Build extra applications (with options) and close them afterwards."""
    made: list[LadonWSGIApplication] = []

    def factory(**options: Any) -> LadonWSGIApplication:
        application = LadonWSGIApplication(SERVICE_MODULES, [str(SERVICES_DIR)], **options)
        made.append(application)
        return application

    yield factory
    for application in made:
        application.close()


# -- helpers -------------------------------------------------------------------


def post_json(client: TestApp, body: bytes, content_type: str = "application/json") -> TestResponse:
    return client.post(
        "/Shapes/jsonwsp", body, headers={"Content-Type": content_type}, expect_errors=True
    )


def post_soap(client: TestApp, iface: str, body: bytes) -> TestResponse:
    return client.post(
        f"/Shapes/{iface}",
        body,
        headers={"Content-Type": "text/xml; charset=utf-8"},
        expect_errors=True,
    )


def envelope(inner: str, ns: str = SOAP_ENV) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>'
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{ns}"><SOAP-ENV:Body>{inner}'
        f"</SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode()


def assert_no_leak(body: bytes | str) -> None:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    for marker in LEAKS:
        assert marker not in text, f"{marker!r} leaked in {text[:500]!r}"


def jsonwsp_fault(resp: TestResponse) -> dict[str, Any]:
    """Check a response is a JSON-WSP fault (HTTP 200) and return its ``fault``."""
    assert resp.status_int == 200
    assert resp.content_type == "application/json"
    data = json.loads(resp.body)
    assert data["type"] == "jsonwsp/fault"
    assert data["version"] == "1.0"
    fault: dict[str, Any] = data["fault"]
    assert set(fault) >= {"code", "string", "detail", "hint"}
    return fault


def soap_fault(resp: TestResponse) -> tuple[str, str, str]:
    """Check a response is a SOAP 1.1 Fault (HTTP 500); (faultcode, faultstring, detail)."""
    assert resp.status_int == 500
    assert resp.content_type == "text/xml"
    root = etree.fromstring(resp.body)
    assert root.tag == f"{{{SOAP_ENV}}}Envelope"
    fault = root.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault is not None, resp.body
    code_el = fault.find("faultcode")
    string_el = fault.find("faultstring")
    assert code_el is not None and string_el is not None
    detail_el = fault.find("detail")
    detail = "" if detail_el is None else "".join(cast(Iterator[str], detail_el.itertext()))
    return code_el.text or "", string_el.text or "", detail


def wsgi_call(
    application: LadonWSGIApplication, environ: dict[str, Any]
) -> tuple[str, dict[str, str], bytes]:
    """Call the app directly with a hand-built environ: (status, headers, body)."""
    seen: dict[str, Any] = {}

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: object = None
    ) -> None:
        seen["status"] = status
        seen["headers"] = dict(headers)

    chunks = application(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    return seen["status"], seen["headers"], body


class TrackingInput(io.BytesIO):
    """A wsgi.input that records how many bytes were read from it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def base_environ(body: bytes, **extra: Any) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/Shapes/jsonwsp",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/json",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": TrackingInput(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    environ.update(extra)
    return environ


ADD_BODY = b'{"methodname": "add", "args": {"a": 2, "b": 3}}'


def big_json_body(size: int) -> bytes:
    """A valid JSON-WSP request of at least ``size`` bytes."""
    return json.dumps({"methodname": "echo", "args": {"text": "x" * size}}).encode()


# -- docs pages ------------------------------------------------------------------


def test_catalog_page_lists_both_services_with_class_docstrings(client: TestApp) -> None:
    resp = client.get("/")
    assert resp.status_int == 200
    assert resp.content_type == "text/html"
    assert "charset=" in resp.headers["Content-Type"]
    html = resp.text
    assert 'href="/Shapes"' in html
    assert 'href="/Ledger"' in html
    assert "Geometry on the wire: nested types, lists, nullable fields." in html
    assert "Dates, decimals, optional and nullable values." in html
    assert "None" not in html  # Ladon 1.0 showed "None" for lost class docstrings


@pytest.mark.parametrize("path", ["/shapes", "/Shapes", "/SHAPES", "/shapes/"], ids=str)
def test_service_page_is_found_case_insensitively(client: TestApp, path: str) -> None:
    resp = client.get(path)
    assert resp.status_int == 200
    assert resp.content_type == "text/html"
    assert "<h1>Shapes</h1>" in resp.text


def test_service_page_lists_methods_params_types_and_class_doc(client: TestApp) -> None:
    html = client.get("/shapes").text
    assert "Geometry on the wire: nested types, lists, nullable fields." in html
    for method in ("add", "make_point", "mirror", "empty_polygon", "squares", "fail"):
        assert f'id="method-{method}"' in html
    # parameters, their types, their @param docs, the return doc
    assert "<code>a</code>" in html and "<code>b</code>" in html
    assert "the first term" in html and "the second term" in html
    assert "the sum" in html
    assert '<span class="type">int</span>' in html
    # LadonTypes are documented and linked
    for type_name in ("Point", "Polygon", "Style", "Measure"):
        assert f'id="type-{type_name}"' in html
        assert f'href="#type-{type_name}"' in html
    assert "CSS colour name" in html
    # an optional parameter shows its default
    assert "optional, default <code>2</code>" in html


def test_service_page_links_each_interface_description(client: TestApp) -> None:
    html = client.get("/shapes").text
    for iface in ("jsonwsp", "soap", "soap11", "jsonrpc10", "jsonrpc", "xmlrpc"):
        link = f'href="/Shapes/{iface}/description"'
        assert link in html
        assert client.get(f"/Shapes/{iface}/description").status_int == 200
    # Ladon 1.0's alias of soap is named on soap's row, and still answers
    assert "soapdocumentliteral" in html
    assert 'href="/Shapes/soapdocumentliteral/description"' not in html
    assert client.get("/Shapes/soapdocumentliteral/description").status_int == 200


def test_service_page_shows_rest_style_param_docs(client: TestApp) -> None:
    html = client.get("/ledger").text
    assert "Dates, decimals, optional and nullable values." in html
    assert "first term" in html and "second term" in html
    assert ":param" not in html


def test_pages_under_script_name_link_with_the_prefix(client: TestApp) -> None:
    html = client.get("/", extra_environ={"SCRIPT_NAME": "/api"}).text
    assert 'href="/api/Shapes"' in html
    html = client.get("/Shapes", extra_environ={"SCRIPT_NAME": "/api"}).text
    assert 'href="/api/Shapes/soap/description"' in html


# -- routing statuses --------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/Nope"),
        ("GET", "/Nope/jsonwsp/description"),
        ("POST", "/Nope/jsonwsp"),
        ("GET", "/Shapes/nope/description"),
        ("POST", "/Shapes/nope"),
        ("GET", "/Shapes/JSONWSP/description"),  # interface names are case-sensitive
    ],
    ids=[
        "unknown-service-page",
        "unknown-service-description",
        "unknown-service-call",
        "unknown-interface-description",
        "unknown-interface-call",
        "interface-name-case-sensitive",
    ],
)
def test_unknown_service_or_interface_is_404(client: TestApp, method: str, path: str) -> None:
    if method == "GET":
        resp = client.get(path, expect_errors=True)
    else:
        resp = client.post(
            path, ADD_BODY, headers={"Content-Type": "application/json"}, expect_errors=True
        )
    assert resp.status_int == 404
    assert_no_leak(resp.body)


def test_no_letter_folds_into_a_service_name() -> None:
    """Paths are read as UTF-8: the Kelvin sign (U+212A), which lower-cases
    to k, does not reach the service Bookkeeping (names are ASCII)."""
    app = LadonWSGIApplication(["bookkeeping"], [str(SERVICES_DIR)])
    try:
        client = TestApp(app)
        assert client.get("/bookkeeping/jsonwsp/description").status_int == 200
        resp = client.get("/Boo%E2%84%AAkeeping/jsonwsp/description", expect_errors=True)
        assert resp.status_int == 404
        assert_no_leak(resp.body)
    finally:
        app.close()


@pytest.mark.parametrize("iface", ["jsonwsp", "soap", "soap11", "soapdocumentliteral"], ids=str)
@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("GET", "/deeper/path"), ("PUT", ""), ("DELETE", "")],
    ids=["get", "get-deeper", "put", "delete"],
)
def test_non_post_on_an_endpoint_is_405_with_allow_post(
    client: TestApp, iface: str, method: str, suffix: str
) -> None:
    path = f"/Shapes/{iface}{suffix}"
    if method == "GET":
        resp = client.get(path, expect_errors=True)
    elif method == "PUT":
        resp = client.put(path, ADD_BODY, expect_errors=True)
    else:
        resp = client.delete(path, expect_errors=True)
    assert resp.status_int == 405
    assert resp.headers["Allow"] == "POST"
    assert resp.content_type == "text/plain"
    assert "must be posted" in resp.text


# -- body size limits and Content-Length --------------------------------------------


def test_body_over_limit_is_413(make_app: AppFactory) -> None:
    client = TestApp(make_app(max_content_length=1000))
    resp = client.post(
        "/Shapes/jsonwsp",
        big_json_body(2000),
        headers={"Content-Type": "application/json"},
        expect_errors=True,
    )
    assert resp.status_int == 413


def test_declared_length_over_limit_is_refused_before_reading(make_app: AppFactory) -> None:
    application = make_app(max_content_length=1000)
    body = big_json_body(2000)
    environ = base_environ(body, CONTENT_LENGTH=str(len(body)))
    status, _, _ = wsgi_call(application, environ)
    assert status.startswith("413")
    assert environ["wsgi.input"].bytes_read == 0


def test_body_under_limit_is_served(make_app: AppFactory) -> None:
    client = TestApp(make_app(max_content_length=1000))
    resp = client.post("/Shapes/jsonwsp", ADD_BODY, headers={"Content-Type": "application/json"})
    assert resp.json["result"] == 5


def test_chunked_body_over_limit_is_413_without_reading_it_all(make_app: AppFactory) -> None:
    application = make_app(max_content_length=1000)
    environ = base_environ(
        big_json_body(100_000),
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input_terminated": True},
    )
    status, _, _ = wsgi_call(application, environ)
    assert status.startswith("413")
    assert environ["wsgi.input"].bytes_read <= 1001


def test_chunked_body_under_limit_is_served(make_app: AppFactory) -> None:
    application = make_app(max_content_length=1000)
    environ = base_environ(
        ADD_BODY, HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input_terminated": True}
    )
    status, headers, body = wsgi_call(application, environ)
    assert status.startswith("200")
    assert headers["Content-Type"].startswith("application/json")
    assert json.loads(body)["result"] == 5


@pytest.mark.parametrize(
    "length",
    ["abc", "-5", "1e3", "12abc", " - 1"],
    ids=["word", "negative", "exponent", "suffix", "spaced-negative"],
)
def test_bad_content_length_is_400(client: TestApp, length: str) -> None:
    environ = base_environ(ADD_BODY, CONTENT_LENGTH=length)
    status, _, body = wsgi_call(client.app, environ)
    assert status.startswith("400")
    assert_no_leak(body)


# -- description URLs ---------------------------------------------------------------


def jsonwsp_url(client: TestApp, **kw: Any) -> str:
    return str(client.get("/Shapes/jsonwsp/description", **kw).json["url"])


def wsdl_location(client: TestApp, iface: str, **kw: Any) -> str:
    root = etree.fromstring(client.get(f"/Shapes/{iface}/description", **kw).body)
    addresses = root.findall(f".//{{{WSDL_SOAP}}}address")
    assert len(addresses) == 1
    return str(addresses[0].get("location"))


def test_description_url_defaults_to_the_environ(client: TestApp) -> None:
    assert jsonwsp_url(client) == "http://localhost/Shapes/jsonwsp"
    assert wsdl_location(client, "soap") == "http://localhost/Shapes/soap"
    assert wsdl_location(client, "soap11") == "http://localhost/Shapes/soap11"


def test_description_url_uses_server_name_port_and_script_name_without_a_host_header(
    client: TestApp,
) -> None:
    env = {
        "HTTP_HOST": "",
        "SERVER_NAME": "svc.internal",
        "SERVER_PORT": "8080",
        "SCRIPT_NAME": "/api",
    }
    assert jsonwsp_url(client, extra_environ=env) == "http://svc.internal:8080/api/Shapes/jsonwsp"
    assert (
        wsdl_location(client, "soap", extra_environ=env)
        == "http://svc.internal:8080/api/Shapes/soap"
    )


def test_description_url_omits_the_default_https_port(client: TestApp) -> None:
    env = {"wsgi.url_scheme": "https", "SERVER_NAME": "svc.example", "SERVER_PORT": "443"}
    assert jsonwsp_url(client, extra_environ={**env, "HTTP_HOST": ""}) == (
        "https://svc.example/Shapes/jsonwsp"
    )
    assert jsonwsp_url(client, extra_environ={**env, "HTTP_HOST": "svc.example:443"}) == (
        "https://svc.example/Shapes/jsonwsp"
    )


def test_configured_base_url_is_used_verbatim(make_app: AppFactory) -> None:
    client = TestApp(make_app(base_url="https://example.org/svc"))
    forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    assert jsonwsp_url(client, headers=forged) == "https://example.org/svc/Shapes/jsonwsp"
    assert wsdl_location(client, "soap", headers=forged) == "https://example.org/svc/Shapes/soap"
    assert wsdl_location(client, "soap11") == "https://example.org/svc/Shapes/soap11"
    wsdl = client.get("/Shapes/soap/description").text
    assert 'soapAction="https://example.org/svc/Shapes/soap/add"' in wsdl


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("svc.example:8443", "http://svc.example:8443"),
        ("svc.example", "http://svc.example"),
        ("svc.example:80", "http://svc.example"),
        ("10.1.2.3:9000", "http://10.1.2.3:9000"),
        ("[::1]:8080", "http://[::1]:8080"),
        ("[::1]", "http://[::1]"),
    ],
)
def test_the_host_header_names_the_public_url_as_pep_3333_says(
    client: TestApp, host: str, expected: str
) -> None:
    # e.g. ``ladon serve --host 0.0.0.0``: SERVER_NAME is 0.0.0.0, which no
    # remote client can reach; the Host header is what the client reached.
    env = {"SERVER_NAME": "0.0.0.0", "SERVER_PORT": "8080", "HTTP_HOST": host}
    assert jsonwsp_url(client, extra_environ=env) == f"{expected}/Shapes/jsonwsp"
    assert wsdl_location(client, "soap", extra_environ=env) == f"{expected}/Shapes/soap"
    assert wsdl_location(client, "soap11", extra_environ=env) == f"{expected}/Shapes/soap11"


@pytest.mark.parametrize(
    "host", ["evil/../x", "a b", "x@evil.example", 'x"><script>', "x" * 300, " "]
)
def test_a_host_header_that_is_no_host_name_is_not_used(client: TestApp, host: str) -> None:
    env = {"SERVER_NAME": "svc.internal", "SERVER_PORT": "80", "HTTP_HOST": host}
    assert jsonwsp_url(client, extra_environ=env) == "http://svc.internal/Shapes/jsonwsp"


PROXY_HEADERS = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "public.example",
    "X-Forwarded-Prefix": "/gw",
}


def test_forwarded_headers_are_ignored_without_trust_proxy(client: TestApp) -> None:
    assert jsonwsp_url(client, headers=PROXY_HEADERS) == "http://localhost/Shapes/jsonwsp"
    assert wsdl_location(client, "soap", headers=PROXY_HEADERS) == "http://localhost/Shapes/soap"


def test_forwarded_headers_are_used_with_trust_proxy(make_app: AppFactory) -> None:
    client = TestApp(make_app(trust_proxy=True))
    assert jsonwsp_url(client, headers=PROXY_HEADERS) == "https://public.example/gw/Shapes/jsonwsp"
    assert (
        wsdl_location(client, "soap", headers=PROXY_HEADERS)
        == "https://public.example/gw/Shapes/soap"
    )
    # without the headers the environ is still used
    assert jsonwsp_url(client) == "http://localhost/Shapes/jsonwsp"


def test_pages_link_under_the_forwarded_prefix_behind_a_trusted_proxy(
    make_app: AppFactory,
) -> None:
    # a proxy serving https://public.example/gw/ from the application's root:
    # the page links, its css and js and the console's endpoint are the
    # public ones, as in the descriptions
    client = TestApp(make_app(trust_proxy=True))
    html = client.get("/", headers=PROXY_HEADERS).text
    assert 'href="/gw/Shapes"' in html
    assert 'href="/gw/_ladon/static/ladon.css' in html
    html = client.get("/Shapes", headers=PROXY_HEADERS).text
    assert 'href="/gw/Shapes/soap/description"' in html
    assert 'src="/gw/_ladon/static/ladon.js' in html
    assert '"/gw/Shapes/jsonwsp"' in html or "/gw/Shapes/jsonwsp" in html
    assert 'href="/Shapes/soap/description"' not in html
    # without the headers the environ is still used
    assert 'href="/Shapes/soap/description"' in client.get("/Shapes").text


def test_pages_link_under_the_path_of_the_base_url(make_app: AppFactory) -> None:
    client = TestApp(make_app(base_url="https://example.org/svc"))
    assert 'href="/svc/Shapes"' in client.get("/").text
    html = client.get("/Shapes").text
    assert 'href="/svc/Shapes/soap/description"' in html
    assert 'src="/svc/_ladon/static/ladon.js' in html


# -- malformed input: JSON-WSP --------------------------------------------------------


JSONWSP_BAD = [
    pytest.param(b"{not json", "application/json", "not valid JSON", id="not-json"),
    pytest.param(b"[]", "application/json", "must be a JSON object", id="array-not-object"),
    pytest.param(
        b'{"methodname": 5}',
        "application/json",
        "does not name a method",
        id="methodname-not-string",
    ),
    pytest.param(
        b'{"args": {}}', "application/json", "does not name a method", id="methodname-missing"
    ),
    pytest.param(
        b'{"methodname": "add", "args": [1, 2]}',
        "application/json",
        '"args" must be a JSON object',
        id="args-not-object",
    ),
    pytest.param(
        b'{"methodname": "nope", "args": {}}',
        "application/json",
        "no method 'nope'",
        id="unknown-method",
    ),
    pytest.param(
        b'{"methodname": "add", "args": {"a": 1}}',
        "application/json",
        '"b"',
        id="missing-mandatory-arg",
    ),
    pytest.param(
        b'{"methodname": "add", "args": {"a": "x", "b": 1}}',
        "application/json",
        '"a"',
        id="wrong-type",
    ),
    pytest.param(
        b'{"methodname": "add", "args": {"a": 1, "b": 2, "zz": 3}}',
        "application/json",
        "'zz'",
        id="unknown-arg",
    ),
    pytest.param(
        b'{"methodname": "echo", "args": {"text": "\xc3\x28"}}',
        "application/json",
        "not valid utf-8",
        id="invalid-utf8",
    ),
    pytest.param(
        ADD_BODY, "application/json; charset=bogus-xyz", "Unknown charset", id="bogus-charset"
    ),
    pytest.param(b"   \n", "application/json", "only blanks", id="blank-body"),
    pytest.param(
        b'{"methodname": "add", "args": {"a": NaN, "b": 1}}',
        "application/json",
        "NaN",
        id="nan-constant",
    ),
]


@pytest.mark.parametrize(("body", "content_type", "message"), JSONWSP_BAD)
def test_jsonwsp_malformed_request_gives_client_fault(
    client: TestApp, body: bytes, content_type: str, message: str
) -> None:
    resp = post_json(client, body, content_type)
    fault = jsonwsp_fault(resp)
    assert fault["code"] == "client"
    assert message.lower() in fault["string"].lower()
    assert_no_leak(resp.body)


def test_jsonwsp_empty_post_is_a_client_fault_with_http_400(client: TestApp) -> None:
    resp = post_json(client, b"")
    assert resp.status_int == 400
    data = json.loads(resp.body)
    assert data["type"] == "jsonwsp/fault" and data["fault"]["code"] == "client"
    assert data["fault"]["string"] == "The request body is empty; expected a jsonwsp request"


def test_a_missing_argument_and_a_missing_field_are_said_alike(client: TestApp) -> None:
    param = jsonwsp_fault(post_json(client, b'{"methodname": "add", "args": {"a": 1}}'))
    field = jsonwsp_fault(post_json(client, b'{"methodname": "mirror", "args": {"p": {"x": 1}}}'))
    assert param["string"] == 'Argument "b": is not optional and was not given'
    assert field["string"] == 'Argument "p.y": is not optional and was not given'


def test_jsonwsp_missing_mandatory_arg_says_not_optional(client: TestApp) -> None:
    fault = jsonwsp_fault(post_json(client, b'{"methodname": "add", "args": {"a": 1}}'))
    assert "not optional" in fault["string"]


def test_jsonwsp_utf16_body_with_bom_is_decoded(client: TestApp) -> None:
    body = json.dumps(
        {"methodname": "echo", "args": {"text": "h\u00e9llo \u2603"}}, ensure_ascii=False
    ).encode("utf-16")
    assert body.startswith((b"\xff\xfe", b"\xfe\xff"))
    resp = post_json(client, body)
    assert resp.status_int == 200
    assert resp.json["type"] == "jsonwsp/response"
    assert resp.json["result"] == "h\u00e9llo \u2603"


def test_jsonwsp_declared_latin1_charset_is_used(client: TestApp) -> None:
    body = '{"methodname": "echo", "args": {"text": "caf\u00e9"}}'.encode("latin-1")
    resp = post_json(client, body, "application/json; charset=iso-8859-1")
    assert resp.json["result"] == "caf\u00e9"


# -- malformed input: SOAP ---------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">
<SOAP-ENV:Body><echo><text>&lol9;</text></echo></SOAP-ENV:Body></SOAP-ENV:Envelope>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">
<SOAP-ENV:Body><echo><text>&xxe;</text></echo></SOAP-ENV:Body></SOAP-ENV:Envelope>"""

SOAP_BAD = [
    pytest.param(b"this is not xml", "SOAP-ENV:Client", "not well-formed XML", id="not-xml"),
    pytest.param(b"<a><b></a>", "SOAP-ENV:Client", "not well-formed XML", id="unbalanced-tags"),
    pytest.param(b"", "SOAP-ENV:Client", "empty", id="empty-body"),
    # libxml2 may stop the expansion itself before the DOCTYPE check runs
    pytest.param(BILLION_LAUGHS, "SOAP-ENV:Client", "DOCTYPE|entity", id="billion-laughs"),
    pytest.param(
        b"<!DOCTYPE x>" + envelope("<add><a>1</a><b>2</b></add>").split(b"?>", 1)[1],
        "SOAP-ENV:Client",
        "DOCTYPE",
        id="plain-doctype",
    ),
    pytest.param(EXTERNAL_ENTITY, "SOAP-ENV:Client", "DOCTYPE", id="external-entity"),
    pytest.param(
        b"<notanenvelope/>", "SOAP-ENV:Client", "not a SOAP envelope", id="root-not-envelope"
    ),
    pytest.param(
        envelope("<add><a>1</a><b>2</b></add>", SOAP12_ENV),
        "SOAP-ENV:VersionMismatch",
        "SOAP 1.1",
        id="soap12-namespace",
    ),
    pytest.param(
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV}"><SOAP-ENV:Header/></SOAP-ENV:Envelope>'.encode(),
        "SOAP-ENV:Client",
        "no Body",
        id="missing-body",
    ),
    pytest.param(envelope(""), "SOAP-ENV:Client", "Body is empty", id="empty-body-element"),
    pytest.param(envelope("<nope/>"), "SOAP-ENV:Client", "no method 'nope'", id="unknown-method"),
    pytest.param(envelope("<add><a>1</a></add>"), "SOAP-ENV:Client", '"b"', id="missing-arg"),
    pytest.param(
        envelope("<add><a>x</a><b>1</b></add>"), "SOAP-ENV:Client", '"a"', id="wrong-type"
    ),
    pytest.param(
        envelope("<add><a>1</a><b>2</b><zz>3</zz></add>"),
        "SOAP-ENV:Client",
        "'zz'",
        id="unknown-arg",
    ),
]


@pytest.mark.parametrize("iface", SOAP_IFACES, ids=str)
@pytest.mark.parametrize(("body", "faultcode", "message"), SOAP_BAD)
def test_soap_malformed_request_gives_client_fault(
    client: TestApp, iface: str, body: bytes, faultcode: str, message: str
) -> None:
    started = time.monotonic()
    resp = post_soap(client, iface, body)
    elapsed = time.monotonic() - started
    code, string, _ = soap_fault(resp)
    assert code == faultcode
    assert any(m.lower() in string.lower() for m in message.split("|")), string
    assert_no_leak(resp.body)
    assert b"lollol" not in resp.body
    assert b"root:" not in resp.body
    assert elapsed < 2.0


# -- unexpected exceptions ------------------------------------------------------------------


def test_jsonwsp_unexpected_exception_is_a_generic_server_fault(client: TestApp) -> None:
    resp = post_json(client, b'{"methodname": "fail", "args": {"how": "x"}}')
    fault = jsonwsp_fault(resp)
    assert fault["code"] == "server"
    assert fault["string"] == "Internal server error"
    # only the request id, which is on the log line (docs/operations.rst)
    assert fault["detail"] == [f"request id: {resp.headers['X-Request-ID']}"]
    assert b"/etc/passwd" not in resp.body
    assert b"RuntimeError" not in resp.body
    assert_no_leak(resp.body)


@pytest.mark.parametrize("iface", SOAP_IFACES, ids=str)
def test_soap_unexpected_exception_is_a_generic_server_fault(client: TestApp, iface: str) -> None:
    resp = post_soap(client, iface, envelope("<fail><how>x</how></fail>"))
    code, string, detail = soap_fault(resp)
    assert code == "SOAP-ENV:Server"
    assert string == "Internal server error"
    # only the request id (docs/operations.rst)
    assert detail == f"request id: {resp.headers['X-Request-ID']}"
    assert b"/etc/passwd" not in resp.body
    assert b"RuntimeError" not in resp.body
    assert_no_leak(resp.body)


def test_user_faults_keep_their_code_and_detail(client: TestApp) -> None:
    fault = jsonwsp_fault(post_json(client, b'{"methodname": "fail", "args": {"how": "client"}}'))
    assert (fault["code"], fault["string"]) == ("client", "you asked for it")
    fault = jsonwsp_fault(post_json(client, b'{"methodname": "fail", "args": {"how": "server"}}'))
    assert (fault["code"], fault["string"]) == ("server", "backend down: server")
    assert fault["detail"] == ["custom detail text"]


def test_debug_app_puts_the_traceback_in_the_fault_detail(make_app: AppFactory) -> None:
    client = TestApp(make_app(debug=True))
    fault = jsonwsp_fault(post_json(client, b'{"methodname": "fail", "args": {"how": "x"}}'))
    assert fault["code"] == "server"
    detail = "\n".join(fault["detail"])
    assert "Traceback" in detail
    assert "RuntimeError: secret internal state /etc/passwd" in detail
    for iface in SOAP_IFACES:
        code, _, detail = soap_fault(
            post_soap(client, iface, envelope("<fail><how>x</how></fail>"))
        )
        assert code == "SOAP-ENV:Server"
        assert "Traceback" in detail
        assert "RuntimeError" in detail


# -- Ladon 1.0 style construction --------------------------------------------------------------


@pytest.mark.parametrize(
    ("services", "path_list"),
    [
        (["legacy_shapes"], [str(SERVICES_DIR)]),
        ("legacy_shapes", str(SERVICES_DIR)),
    ],
    ids=["lists", "strings"],
)
def test_ladon1_module_name_and_path_list_form_works(
    services: str | list[str], path_list: str | list[str]
) -> None:
    application = LadonWSGIApplication(services, path_list)
    try:
        client = TestApp(application)
        assert 'href="/Shapes"' in client.get("/").text
        resp = client.post(
            "/Shapes/jsonwsp", ADD_BODY, headers={"Content-Type": "application/json"}
        )
        assert resp.json["result"] == 5
        resp = post_soap(client, "soap", envelope("<add><a>2</a><b>3</b></add>"))
        assert resp.status_int == 200
        assert b"<result>5</result>" in resp.body
    finally:
        application.close()


def test_ladon1_positional_catalog_name_and_description(client: TestApp) -> None:
    application = LadonWSGIApplication(
        ["legacy_shapes"], [str(SERVICES_DIR)], "My Catalog", "Things I serve"
    )
    try:
        html = TestApp(application).get("/").text
        assert "<h1>My Catalog</h1>" in html
        assert "Things I serve" in html
    finally:
        application.close()


@pytest.mark.parametrize("iface", ["soap", "soap11", "jsonwsp"])
def test_endpoint_with_wsdl_query_serves_the_description(client: TestApp, iface: str) -> None:
    described = client.get(f"/Shapes/{iface}/description")
    via_query = client.get(f"/Shapes/{iface}?wsdl")
    assert via_query.status_int == 200
    assert via_query.body == described.body
    assert via_query.content_type == described.content_type


@pytest.mark.parametrize(
    "path",
    ["/_ladon/openapi.json", "/_ladon/static/ladon.css"],
)
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_ladon_2_documents_are_read_only(client: TestApp, path: str, method: str) -> None:
    """Like /_ladon/health: anything but GET and HEAD is 405 with Allow."""
    resp = client.request(path, method=method, body=b"x", expect_errors=True)
    assert resp.status_int == 405, resp.text
    assert resp.headers["Allow"] == "GET, HEAD"
    assert_no_leak(resp.body)
    assert client.get(path).status_int == 200


@pytest.mark.parametrize(
    "path", ["/", "/Shapes", "/Shapes/soap/description", "/Shapes/jsonwsp/description"]
)
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_pages_and_descriptions_answer_any_method_as_ladon_1_did(
    client: TestApp, path: str, method: str
) -> None:
    """COMPAT 2: the service page and the descriptions, whatever the method."""
    resp = client.request(path, method=method, body=b"x", expect_errors=True)
    assert resp.status_int == 200, resp.text
    assert resp.body == client.get(path).body
