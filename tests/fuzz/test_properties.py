"""Property tests: every request parser and the type conversion answer any
input with a result or a fault, never an escaping exception.

Run briefly here (a few hundred examples each); ``bench/fuzz_long.py`` runs
the same properties for minutes and keeps the inputs it found in
``tests/fuzz/corpus/``, which the replay test below runs on every CI run.
"""

from __future__ import annotations

import datetime
import decimal
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from werkzeug.datastructures import EnvironHeaders

from ladon.exceptions.service import ServiceFault
from ladon.interfaces.base import Batch
from ladon.interfaces.base import Call
from ladon.interfaces.base import Interface
from ladon.interfaces.base import Outcome
from ladon.interfaces.base import WireRequest
from ladon.server.wsgi import LadonWSGIApplication
from ladon.types.attachment import attachment
from ladon.types.convert import Options
from ladon.types.convert import dump
from ladon.types.convert import load
from ladon.types.spec import ListOf

from .strategies import json_request
from .strategies import plain
from .strategies import xml_request

SERVICES = Path(__file__).resolve().parents[1] / "services"
CORPUS = Path(__file__).resolve().parent / "corpus"
EXAMPLES = int(os.environ.get("LADON_FUZZ_EXAMPLES", "100"))
FAST = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)
IFACES = ["soap", "soap11", "soap12", "jsonwsp", "jsonrpc10", "jsonrpc", "xmlrpc", "http"]
JSON_CT = {"Content-Type": "application/json"}
XML_CT = {"Content-Type": "text/xml"}


@pytest.fixture(scope="module")
def interfaces() -> dict[str, Interface]:
    app = LadonWSGIApplication(["legacy_shapes", "modern_types"], [str(SERVICES)])
    shapes = app.service("Shapes")
    assert shapes is not None
    out = {}
    for name in IFACES:
        iface = app.interface(shapes, name)
        assert iface is not None
        out[name] = iface
    return out


def decode(
    iface: Interface, body: bytes, headers: dict[str, str], path: str = "", method: str = "POST"
) -> None:
    """Decode, and when that works, encode a fault and a result for each
    call (and the answer of a batch): every step may fail with a fault only."""
    ctype = headers.get("Content-Type", "")
    request = WireRequest(
        body, ctype, EnvironHeaders({"CONTENT_TYPE": ctype}), method, path, query=path[-9:]
    )
    try:
        decoded = iface.decode_call(request)
    except ServiceFault as fault:
        iface.encode_fault(fault, None)
        return
    calls = decoded.items if isinstance(decoded, Batch) else (decoded,)
    for call in calls:
        if not isinstance(call, Call):
            iface.encode_fault(call, None)
            continue
        iface.encode_fault(ServiceFault("server", "x"), call)
        try:
            iface.encode_result(call, None)
        except ServiceFault:
            pass
    if isinstance(decoded, Batch):
        outcomes = [
            Outcome(c) if isinstance(c, Call) else Outcome(None, fault=c) for c in decoded.items
        ]
        iface.encode_batch(decoded, outcomes)


@pytest.mark.parametrize("name", ["jsonwsp", "jsonrpc10", "jsonrpc"])
@FAST
@given(data=st.data())
def test_json_parsers_never_escape(interfaces: dict[str, Interface], name: str, data: Any) -> None:
    body = data.draw(json_request(name) | st.binary(max_size=200))
    decode(interfaces[name], body, JSON_CT)


HTTP_PATHS = st.sampled_from(
    ["/echo", "/add", "/nope", "", "/echo/tasks/x", "/draw/tasks/x/result", "/a/tasks/b/cancel"]
) | st.text(max_size=30).map(lambda t: "/" + t)
JSON_ARGS = st.dictionaries(st.sampled_from(["text", "a", "b", "points", "x"]), plain, max_size=3)


@FAST
@given(
    path=HTTP_PATHS,
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD"]),
    body=JSON_ARGS.map(lambda d: json.dumps(d, default=str).encode())
    | json_request("jsonwsp")
    | st.binary(max_size=200),
    ctype=st.sampled_from(["application/json", "application/problem+json", "", "text/plain"])
    | st.text(max_size=40),
)
def test_the_http_interface_never_escapes(
    interfaces: dict[str, Interface], path: str, method: str, body: bytes, ctype: str
) -> None:
    decode(interfaces["http"], body, {"Content-Type": ctype}, path, method)


XML_CHARSETS = ["utf-8", "iso-8859-1", "utf-16", "utf-32", "cp037", "zlib", "bogus", '"utf-8"']


@pytest.mark.parametrize("name", ["soap", "soap11", "soap12", "xmlrpc"])
@FAST
@given(data=st.data())
def test_xml_parsers_never_escape(interfaces: dict[str, Interface], name: str, data: Any) -> None:
    body = data.draw(xml_request(name) | st.binary(max_size=200))
    # the Content-Type's charset decodes a document that names no encoding
    charset = data.draw(st.sampled_from(XML_CHARSETS) | st.text(max_size=20))
    decode(interfaces[name], body, {"Content-Type": f"{XML_CT['Content-Type']}; charset={charset}"})


@pytest.mark.parametrize("name", IFACES)
@FAST
@given(body=st.binary(max_size=300), ctype=st.text(max_size=40))
def test_any_bytes_and_content_type(
    interfaces: dict[str, Interface], name: str, body: bytes, ctype: str
) -> None:
    decode(interfaces[name], body, {"Content-Type": ctype})


def _specs() -> list[Any]:
    import sys

    if str(SERVICES) not in sys.path:
        sys.path.append(str(SERVICES))
    from legacy_shapes import Point
    from legacy_shapes import Polygon
    from legacy_shapes import Style
    from modern_types import Invoice

    prims = [
        int,
        float,
        bool,
        str,
        bytes,
        datetime.datetime,
        datetime.date,
        decimal.Decimal,
        attachment,
    ]
    from typing import Annotated
    from typing import Literal

    from annotated_types import Ge
    from annotated_types import Len
    from annotated_types import MultipleOf
    from constrained import Color
    from constrained import Item
    from constrained import LegacyItem

    from ladon import Pattern
    from ladon.types.spec import normalize

    constrained = [
        normalize(t, "fuzz")
        for t in (
            Annotated[int, Ge(0), MultipleOf(3)],
            Annotated[str, Len(1, 4), Pattern("[a-z]+( [a-z]+)?")],
            Annotated[list[Annotated[float, Ge(0)]], Len(0, 3)],
            Literal["a", "b"],
            Color,
        )
    ]
    return (
        prims
        + constrained
        + [
            Item,
            LegacyItem,
            ListOf(int),
            ListOf(ListOf(str)),
            Point,
            Polygon,
            Style,
            Invoice,
            ListOf(Polygon),
        ]
    )


SPECS = _specs()


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: getattr(s, "__name__", repr(s)))
@FAST
@given(value=plain, nullable=st.booleans(), strict=st.booleans())
def test_load_answers_a_value_or_an_argument_error(
    spec: Any, value: Any, nullable: bool, strict: bool
) -> None:
    try:
        load(spec, value, "arg", Options(strict=strict), nullable)
    except ServiceFault as fault:
        assert fault.is_client and fault.faultstring.startswith('Argument "arg')


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: getattr(s, "__name__", repr(s)))
@FAST
@given(value=plain | st.builds(object), unsafe=st.booleans())
def test_dump_answers_a_value_or_a_result_error(spec: Any, value: Any, unsafe: bool) -> None:
    try:
        dump(spec, value, "result", Options(allow_unsafe=unsafe))
    except ServiceFault as fault:
        assert not fault.is_client and "result" in fault.faultstring


def _corpus() -> list[Any]:
    if not CORPUS.is_dir():
        return []
    return [
        pytest.param(path, id=f"{path.parent.name}/{path.name}")
        for path in sorted(CORPUS.glob("*/*"))
        if path.is_file()
    ]


@pytest.mark.parametrize("path", _corpus())
def test_the_corpus_of_the_long_run_replays(interfaces: dict[str, Interface], path: Path) -> None:
    name = path.parent.name
    headers = XML_CT if name in ("soap", "soap11", "soap12", "xmlrpc") else JSON_CT
    decode(interfaces[name], path.read_bytes(), headers)


_LONG_TEXTS = st.one_of(
    st.text(min_size=512, max_size=2000),
    st.text(alphabet=st.characters(blacklist_categories=()), min_size=500, max_size=1200),
    st.text(alphabet='ab é😀"\\\n\t\x00', min_size=512, max_size=1500),
    st.text(alphabet="the quick brown fox", min_size=512, max_size=4000),
)


@FAST
@given(text=_LONG_TEXTS | st.text(max_size=600) | st.integers() | st.none())
def test_the_long_text_path_of_the_json_writer_writes_the_same_bytes(text: Any) -> None:
    from ladon.interfaces._json import dumps_bytes
    from ladon.interfaces._json import dumps_value

    assert dumps_value(text) == dumps_bytes(text)


# -- credentials (issue 13) --------------------------------------------------------------

_WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
_WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_TOKEN_PARTS = st.sampled_from(
    [
        "wsse:Username",
        "wsse:Password",
        'wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"',
        "wsse:Nonce",
        "wsu:Created",
        "wsse:Other",
    ]
)
_XML_TEXT = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="<&\x00"), max_size=40
).filter(lambda t: all(c in "\t\n\r" or ord(c) >= 32 for c in t))


def _authenticators() -> list[Any]:
    from ladon.auth import BasicAuth
    from ladon.auth import BearerAuth
    from ladon.auth import JWTVerifier
    from ladon.auth import Principal

    def verify(user: str, password: str) -> Principal | None:
        return Principal(user) if password == "pw" else None

    return [
        BasicAuth(verify),
        BearerAuth(JWTVerifier("a-secret-of-more-than-32-bytes-for-fuzz!", audience="x")),
    ]


class _Nonces:
    def __init__(self) -> None:
        self.seen: set[str] = set()

    def claim_nonce(self, key: str, ttl: float) -> bool:
        fresh = key not in self.seen
        self.seen.add(key)
        return fresh


@FAST
@given(
    header=st.text(max_size=300)
    | st.builds(
        lambda s, t: f"{s} {t}",
        st.sampled_from(["Basic", "Bearer", "basic"]),
        st.text(max_size=200),
    )
)
def test_authorization_headers_give_a_principal_nothing_or_a_refusal(header: str) -> None:
    from ladon.auth import AuthFault
    from ladon.auth import AuthRequest

    request = AuthRequest({"HTTP_AUTHORIZATION": header}, "jsonwsp")
    for authenticator in _authenticators():
        try:
            authenticator.authenticate(request)
        except AuthFault as fault:
            assert fault.http_status == 401


@FAST
@given(
    parts=st.lists(st.tuples(_TOKEN_PARTS, _XML_TEXT), max_size=6),
    timestamp=st.none() | _XML_TEXT,
)
def test_security_headers_give_a_principal_nothing_or_a_wsse_fault(
    parts: list[tuple[str, str]], timestamp: str | None
) -> None:
    from ladon.auth import AuthFault
    from ladon.auth import AuthRequest
    from ladon.auth import UsernameToken

    inner = "".join(f"<{tag}>{text}</{tag.split()[0]}>" for tag, text in parts)
    stamp = (
        ""
        if timestamp is None
        else f"<wsu:Timestamp><wsu:Expires>{timestamp}</wsu:Expires></wsu:Timestamp>"
    )
    xml = (
        f'<wsse:Security xmlns:wsse="{_WSSE}" xmlns:wsu="{_WSU}">{stamp}'
        f"<wsse:UsernameToken>{inner}</wsse:UsernameToken></wsse:Security>"
    )
    from lxml import etree

    block = etree.fromstring(xml)
    nonces = _Nonces()
    token = UsernameToken({"alice": "pw"}.get, nonces=nonces)
    try:
        token.authenticate(AuthRequest({}, "soap", (block,)))
    except AuthFault as fault:
        assert (fault.soap_code or "").startswith("{" + _WSSE + "}")


# -- operations (issue 17): request ids, trace headers, Accept-Encoding -------------------


@pytest.fixture(scope="module")
def ops_app() -> Any:
    import sys

    if str(SERVICES) not in sys.path:
        sys.path.append(str(SERVICES))
    import ops_app as module

    application = module.make_app(tasks="thread://", compress_min_size=64)
    yield application
    application.close()


# what a client can put in a header line (no line breaks: the server never passes them)
_HEADER_TEXT = st.text(
    alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]), max_size=200
) | st.sampled_from(["gzip", "*", "gzip;q=0", "", "x" * 129])


@FAST
@given(
    request_id=_HEADER_TEXT,
    accept=_HEADER_TEXT,
    traceparent=_HEADER_TEXT,
    size=st.integers(0, 3000),
)
def test_any_operation_headers_give_a_sane_id_and_the_same_answer(
    ops_app: LadonWSGIApplication, request_id: str, accept: str, traceparent: str, size: int
) -> None:
    import gzip
    import re

    from werkzeug.test import Client

    client = Client(ops_app)
    body = {"methodname": "text", "args": {"size": size}}
    plain = client.post("/Jobs/jsonwsp", json=body)
    response = client.post(
        "/Jobs/jsonwsp",
        json=body,
        headers={
            "X-Request-ID": request_id,
            "Accept-Encoding": accept,
            "traceparent": traceparent,
        },
    )
    assert response.status_code == 200
    echoed = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[A-Za-z0-9._:@/+=-]{1,128}", echoed)
    if re.fullmatch(r"[A-Za-z0-9._:@/+=-]{1,128}", request_id):
        assert echoed == request_id
    data = response.get_data()
    if response.headers.get("Content-Encoding") == "gzip":
        assert int(response.headers["Content-Length"]) == len(data)
        data = gzip.decompress(data)
    assert data == plain.get_data()
