"""Hostile input against every interface (issue 8): whatever a client sends,
the answer is the protocol's fault or the right 4xx, in under a second, with
bounded memory, and no traceback, file path or module name in the body.

Requests go straight into the WSGI app (no HTTP server), so the environ can
be as broken as a client or a proxy can make it.
"""

from __future__ import annotations

import codecs
import dataclasses
import gzip
import io
import json
import sys
import time
import tracemalloc
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from ladon import LadonType
from ladon import ladonize
from ladon.server.wsgi import LadonWSGIApplication

SERVICES = Path(__file__).resolve().parents[1] / "services"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
LEAKS = (
    "Traceback",
    'File "',
    ".py",
    "/work/",
    "site-packages",
    "ladon.server",
    "ladon.interfaces",
    "ladon.types",
    "lxml.etree",
    "Error:",
)
LIMIT = 2 * 1024 * 1024
SMALL_LIMIT = 64 * 1024
MEMORY = 64 * 1024 * 1024


@pytest.fixture(scope="module")
def app() -> Iterator[LadonWSGIApplication]:
    application = LadonWSGIApplication(["legacy_shapes"], [str(SERVICES)], max_content_length=LIMIT)
    yield application
    application.close()


@pytest.fixture(scope="module")
def small_app() -> Iterator[LadonWSGIApplication]:
    """Bodies over 64 KiB are refused."""
    application = LadonWSGIApplication(
        ["legacy_shapes"], [str(SERVICES)], max_content_length=SMALL_LIMIT
    )
    yield application
    application.close()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float  # CPU time of the calling thread
    peak: int
    wall: float = 0.0  # wall-clock time: what a sleep or a block shows

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Input:
    """``wsgi.input`` over bytes or a generator of chunks."""

    def __init__(self, data: bytes | Iterator[bytes]) -> None:
        self.chunks = iter([data]) if isinstance(data, bytes) else data
        self.buffer = b""

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self.buffer) < n:
            try:
                self.buffer += next(self.chunks)
            except StopIteration:
                break
        if n < 0:
            out, self.buffer = self.buffer, b""
        else:
            out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out


def request(
    app: LadonWSGIApplication,
    path: str,
    body: bytes | Iterator[bytes] = b"",
    *,
    method: str = "POST",
    content_type: str = "application/json",
    length: str | None = None,
    extra: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
) -> Answer:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": Input(body),
        "CONTENT_TYPE": content_type,
    }
    if length is not None:
        environ["CONTENT_LENGTH"] = length
    elif isinstance(body, bytes):
        environ["CONTENT_LENGTH"] = str(len(body))
    environ.update(extra or {})
    for key in drop:
        environ.pop(key, None)
    seen: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> None:
        seen.append((status, headers))

    tracemalloc.start()
    # CPU time of this thread (the app answers in it): what a quadratic
    # parse would blow up, and what other work on the machine leaves alone
    started, began = time.thread_time(), time.monotonic()
    try:
        result = app(environ, start_response)
        data = b"".join(result)
        close = getattr(result, "close", None)
        if close is not None:
            close()
        seconds, wall = time.thread_time() - started, time.monotonic() - began
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    status, headers = seen[0]
    return Answer(int(status.split()[0]), dict(headers), data, seconds, peak, wall)


def assert_clean(answer: Answer, *, budget: float = 1.0) -> None:
    assert answer.seconds < budget, f"took {answer.seconds:.2f} s of CPU"
    # a request that sleeps or blocks uses no CPU: wall time, loosely (a
    # loaded machine stretches it, never tenfold)
    assert answer.wall < 10 * budget + 5, f"took {answer.wall:.2f} s"
    assert answer.peak < MEMORY, f"peak memory {answer.peak / 2**20:.1f} MiB"
    for marker in LEAKS:
        assert marker not in answer.text, f"{marker!r} leaked: {answer.text[:300]!r}"


# -- faults by interface ------------------------------------------------------------------


def soap_fault(answer: Answer, code: str = "Client") -> str:
    assert answer.status == 500, (answer.status, answer.body[:300])
    root = etree.fromstring(answer.body)
    fault = root.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault is not None, answer.body[:300]
    assert fault.findtext("faultcode") == f"SOAP-ENV:{code}"
    return fault.findtext("faultstring") or ""


def soap12_fault(answer: Answer, code: str = "Sender") -> str:
    """A SOAP 1.2 fault: HTTP 400 for Sender faults, 500 for the others."""
    assert answer.status == (400 if code == "Sender" else 500), (answer.status, answer.body[:300])
    assert answer.headers["Content-Type"].startswith("application/soap+xml")
    root = etree.fromstring(answer.body)
    ns = {"e": SOAP12_ENV}
    fault = root.find("e:Body/e:Fault", ns)
    assert fault is not None, answer.body[:300]
    assert fault.findtext("e:Code/e:Value", namespaces=ns) == f"env:{code}"
    return fault.findtext("e:Reason/e:Text", namespaces=ns) or ""


def envelope_ns(iface: str) -> str:
    return SOAP12_ENV if iface == "soap12" else SOAP_ENV


def op(iface: str, name: str, ns: str = "urn:Shapes") -> tuple[str, str]:
    """The open and close tags of the Body's operation element: ``soap12``
    takes it in the service's namespace only."""
    if iface == "soap12":
        return f'<o:{name} xmlns:o="{ns}">', f"</o:{name}>"
    return f"<{name}>", f"</{name}>"


def jsonwsp_fault(answer: Answer) -> str:
    assert answer.status == 200, (answer.status, answer.body[:300])
    data = json.loads(answer.body)
    assert data["type"] == "jsonwsp/fault", data
    assert data["fault"]["code"] == "client", data
    return str(data["fault"]["string"])


def jsonrpc10_fault(answer: Answer) -> str:
    assert answer.status == 200, (answer.status, answer.body[:300])
    data = json.loads(answer.body)
    assert data["result"] is None and data["error"]["code"] == "client", data
    return str(data["error"]["string"])


def jsonrpc_fault(answer: Answer) -> str:
    assert answer.status == 200, (answer.status, answer.body[:300])
    data = json.loads(answer.body)
    assert data["jsonrpc"] == "2.0" and data["error"]["code"] in (-32700, -32600, -32602), data
    return str(data["error"]["message"])


def xmlrpc_fault(answer: Answer) -> str:
    assert answer.status == 200, (answer.status, answer.body[:300])
    root = etree.fromstring(answer.body)
    members = {
        m.findtext("name"): m.find("value") for m in root.iterfind("fault/value/struct/member")
    }
    code = members["faultCode"]
    assert code is not None and int(code.findtext("int") or code.findtext("i4") or "0") < 0
    string = members["faultString"]
    assert string is not None
    return str(string.findtext("string") or string.text)


FAULTS: dict[str, Callable[[Answer], str]] = {
    "soap": soap_fault,
    "soap11": soap_fault,
    "soap12": soap12_fault,
    "jsonwsp": jsonwsp_fault,
    "jsonrpc10": jsonrpc10_fault,
    "jsonrpc": jsonrpc_fault,
    "xmlrpc": xmlrpc_fault,
}
XML_IFACES = ["soap", "soap11", "soap12", "xmlrpc"]
SOAP_IFACES = ["soap", "soap11", "soap12"]
JSON_IFACES = ["jsonwsp", "jsonrpc10", "jsonrpc"]


def xml_call(iface: str, inner: str, prolog: str = "") -> bytes:
    """An ``echo(text)`` call whose argument is ``inner`` (markup allowed)."""
    if iface == "xmlrpc":
        body = (
            "<methodCall><methodName>echo</methodName><params><param><value><string>"
            f"{inner}</string></value></param></params></methodCall>"
        )
    else:
        start, end = op(iface, "echo")
        body = (
            f'<e:Envelope xmlns:e="{envelope_ns(iface)}"><e:Body>{start}<text>{inner}</text>'
            f"{end}</e:Body></e:Envelope>"
        )
    return (prolog + body).encode()


def json_call(iface: str, value: Any) -> bytes:
    if iface == "jsonwsp":
        return json.dumps({"methodname": "echo", "args": {"text": value}}).encode()
    if iface == "jsonrpc10":
        return json.dumps({"method": "echo", "params": [value], "id": 1}).encode()
    return json.dumps({"jsonrpc": "2.0", "method": "echo", "params": [value], "id": 1}).encode()


def xml_ctype(iface: str) -> str:
    """The media type of an XML interface's requests."""
    return "application/soap+xml" if iface == "soap12" else "text/xml"


def xml_post(app: LadonWSGIApplication, iface: str, body: bytes, **kw: Any) -> Answer:
    return request(app, f"/Shapes/{iface}", body, content_type=xml_ctype(iface), **kw)


def json_post(app: LadonWSGIApplication, iface: str, body: bytes, **kw: Any) -> Answer:
    return request(app, f"/Shapes/{iface}", body, content_type="application/json", **kw)


# -- XML: entities, DTDs, bombs ---------------------------------------------------------------

BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>"
)
QUADRATIC = '<?xml version="1.0"?><!DOCTYPE q [<!ENTITY a "' + "x" * 50_000 + '">]>'
EXTERNAL_FILE = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY ext SYSTEM "file:///etc/passwd">]>'
EXTERNAL_NET = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY ext SYSTEM "http://127.0.0.1:9/x">]>'
PARAMETER = (
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>'
)
DTD_FETCH = '<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://127.0.0.1:9/x.dtd">'

ENTITY_CASES = [
    (BILLION_LAUGHS, "&lol9;"),
    (QUADRATIC, "&a;" * 2000),
    (EXTERNAL_FILE, "&ext;"),
    (EXTERNAL_NET, "&ext;"),
    (PARAMETER, "x"),
    (DTD_FETCH, "x"),
    ("", "&undefined;"),
]
ENTITY_IDS = [
    "billion-laughs",
    "quadratic",
    "xxe-file",
    "xxe-net",
    "parameter-entity",
    "dtd",
    "undefined",
]


@pytest.mark.parametrize("iface", XML_IFACES)
@pytest.mark.parametrize(("prolog", "inner"), ENTITY_CASES, ids=ENTITY_IDS)
def test_entities_and_dtds_are_refused(
    app: LadonWSGIApplication, iface: str, prolog: str, inner: str
) -> None:
    answer = xml_post(app, iface, xml_call(iface, inner, prolog))
    assert_clean(answer)
    text = FAULTS[iface](answer)
    assert "root:" not in text and "lollol" not in text


@pytest.mark.parametrize("iface", XML_IFACES)
def test_xinclude_is_not_processed(app: LadonWSGIApplication, iface: str) -> None:
    inner = (
        '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd" parse="text"/>'
    )
    answer = xml_post(app, iface, xml_call(iface, inner))
    assert_clean(answer)
    assert "root:" not in answer.text
    FAULTS[iface](answer)  # elements where a string belongs


# Wherever the DOCTYPE hides in the prolog: the parser is asked whenever
# the root element is not the first markup (after an XML declaration).
DOCTYPE_PROLOGS = {
    "alone": "<!DOCTYPE Envelope>",
    "after-declaration": '<?xml version="1.0"?>\n  <!DOCTYPE Envelope>',
    "after-a-comment-with-a-tag": "<!-- <e:Envelope> --><!DOCTYPE Envelope>",
    "after-a-pi": '<?xml-stylesheet href="x"?><!DOCTYPE Envelope>',
    "after-many-blanks": '<?xml version="1.0"?>' + " " * 100 + "<!DOCTYPE Envelope>",
}


@pytest.mark.parametrize("iface", SOAP_IFACES)
@pytest.mark.parametrize("prolog", DOCTYPE_PROLOGS.values(), ids=DOCTYPE_PROLOGS.keys())
def test_any_doctype_in_soap_is_a_client_fault(
    app: LadonWSGIApplication, iface: str, prolog: str
) -> None:
    answer = xml_post(app, iface, xml_call(iface, "hi", prolog))
    assert_clean(answer)
    assert "DOCTYPE" in FAULTS[iface](answer)


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_a_doctype_in_utf16_is_a_client_fault(app: LadonWSGIApplication, iface: str) -> None:
    body = xml_call(iface, "hi", '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE Envelope>')
    answer = xml_post(app, iface, body.decode().encode("utf-16"))
    assert_clean(answer)
    assert "DOCTYPE" in FAULTS[iface](answer)


@pytest.mark.parametrize("iface", ["soap", "soap11"])
def test_wrong_envelope_namespace_is_version_mismatch(
    app: LadonWSGIApplication, iface: str
) -> None:
    body = (
        b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><echo>'
        b"<text>x</text></echo></e:Body></e:Envelope>"
    )
    answer = xml_post(app, iface, body)
    assert_clean(answer)
    assert "SOAP 1.1" in soap_fault(answer, "VersionMismatch")


@pytest.mark.parametrize(
    "namespace", [SOAP_ENV, "urn:x", ""], ids=["soap11-envelope", "other", "no-namespace"]
)
def test_other_envelopes_on_soap12_are_version_mismatch_or_malformed(
    app: LadonWSGIApplication, namespace: str
) -> None:
    body = f'<e:Envelope xmlns:e="{namespace}"><e:Body><echo><text>x</text></echo></e:Body></e:Envelope>'
    if not namespace:
        body = "<Envelope><Body><echo><text>x</text></echo></Body></Envelope>"
    answer = xml_post(app, "soap12", body.encode())
    assert_clean(answer)
    if namespace == SOAP_ENV:  # SOAP 1.2 appendix A: a SOAP 1.1 fault
        assert "SOAP 1.2" in soap_fault(answer, "VersionMismatch")
    else:
        assert "SOAP 1.2" in soap12_fault(answer, "VersionMismatch")


@pytest.mark.parametrize("iface", SOAP_IFACES)
@pytest.mark.parametrize(
    "body",
    [
        '<e:Envelope xmlns:e="{env}"><e:Header/></e:Envelope>',
        '<e:Envelope xmlns:e="{env}"><e:Body/></e:Envelope>',
        "<notsoap/>",
    ],
    ids=["no-body", "empty-body", "not-an-envelope"],
)
def test_soap_shapes(app: LadonWSGIApplication, iface: str, body: str) -> None:
    answer = xml_post(app, iface, body.format(env=envelope_ns(iface)).encode())
    assert_clean(answer)
    if iface == "soap12" and body == "<notsoap/>":
        # SOAP 1.2 part 1, 5.4.6: a root other than env:Envelope is a VersionMismatch
        soap12_fault(answer, "VersionMismatch")
    else:
        FAULTS[iface](answer)


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_an_undefined_entity_is_named_in_the_fault(app: LadonWSGIApplication, iface: str) -> None:
    answer = xml_post(app, iface, xml_call(iface, "a&nope;b"))
    assert_clean(answer)
    assert "Entity 'nope' not defined" in FAULTS[iface](answer)


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_a_utf32_document_with_its_byte_order_mark_is_read(
    app: LadonWSGIApplication, iface: str
) -> None:
    body = xml_call(iface, "h\u00e9llo").decode().encode("utf-32")
    answer = xml_post(app, iface, body)
    assert answer.status == 200, answer.text
    assert "h\u00e9llo" in answer.text


BROKEN_DOCUMENTS = {
    "truncated": lambda good: good[: len(good) // 2],
    "mismatched-tag": lambda good: good.replace(b"</e:Body>", b"</e:Bod>"),
    "unclosed-start-tag": lambda good: good[: good.index(b"<e:Body") + 5],
    "two-roots": lambda good: good + good,
    "bad-utf8": lambda good: good.replace(b"hello", b"hel\xfflo"),
    "doctype": lambda good: b"<!DOCTYPE e:Envelope>" + good,
}


@pytest.mark.parametrize("iface", SOAP_IFACES)
@pytest.mark.parametrize("broken", BROKEN_DOCUMENTS.values(), ids=BROKEN_DOCUMENTS.keys())
def test_a_broken_document_leaves_the_next_request_whole(
    app: LadonWSGIApplication, iface: str, broken: Callable[[bytes], bytes]
) -> None:
    """Requests parsed one after another on one thread (which keeps one
    parser): a document broken anywhere is a client fault, and the next
    well-formed one is read as if it came first."""
    good = xml_call(iface, "hello")
    for _ in range(2):
        answer = xml_post(app, iface, broken(good))
        assert_clean(answer)
        FAULTS[iface](answer)
        answer = xml_post(app, iface, good)
        assert answer.status == 200, answer.text
        assert b"hello" in answer.body and b"Fault" not in answer.body


@pytest.fixture(scope="module")
def big_app() -> Iterator[LadonWSGIApplication]:
    """Bodies up to 16 MiB (the default ``max_content_length``) are read."""
    application = LadonWSGIApplication(
        ["legacy_shapes"], [str(SERVICES)], max_content_length=16 * 1024 * 1024
    )
    yield application
    application.close()


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_a_document_over_10_mb_of_small_values_is_read(
    big_app: LadonWSGIApplication, iface: str
) -> None:
    """libxml2 refuses a buffer over 10,000,000 bytes without XML_PARSE_HUGE:
    a body fed to the parser whole would be refused for its size alone,
    below ``max_content_length``, though none of its values is large."""
    env = envelope_ns(iface)
    start, end = op(iface, "echo")
    padding = "<x:i>y</x:i>" * 1_000_000
    body = (
        f'<e:Envelope xmlns:e="{env}"><e:Header><x:pad xmlns:x="urn:pad">{padding}</x:pad>'
        f"</e:Header><e:Body>{start}<text>hello</text>{end}</e:Body></e:Envelope>"
    ).encode()
    assert 10_000_000 < len(body) < 16 * 1024 * 1024
    answer = xml_post(big_app, iface, body)
    assert answer.status == 200, answer.body[:300]
    assert b"hello" in answer.body and b"Fault" not in answer.body


@pytest.mark.parametrize("iface", ["soap", "xmlrpc"])
def test_a_text_over_10_mb_is_a_fault_that_says_so(
    big_app: LadonWSGIApplication, iface: str
) -> None:
    """libxml2's limit on one value (huge_tree stays off) is a client fault
    that names it and what to do, not "not well-formed XML"."""
    answer = xml_post(big_app, iface, xml_call(iface, "y" * 10_500_000))
    message = FAULTS[iface](answer)
    assert message.startswith("The request holds a text over 10,000,000 bytes"), message
    assert "attachments" in message and "MTOM/XOP" in message
    assert "well-formed" not in message and "XML_PARSE_HUGE" not in message


def header_call(iface: str, header: str) -> bytes:
    env = envelope_ns(iface)
    start, end = op(iface, "echo")
    return (
        f'<e:Envelope xmlns:e="{env}"><e:Header>{header}</e:Header><e:Body>{start}'
        f"<text>x</text>{end}</e:Body></e:Envelope>"
    ).encode()


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_thousands_of_must_understand_headers_get_a_short_fault(
    app: LadonWSGIApplication, iface: str
) -> None:
    flag = "true" if iface == "soap12" else "1"
    header = "".join(f'<h{i} xmlns="urn:h" e:mustUnderstand="{flag}"/>' for i in range(5_000))
    answer = xml_post(app, iface, header_call(iface, header))
    assert_clean(answer)
    assert len(answer.body) < 8000
    if iface == "soap12":
        text = soap12_fault(answer, "MustUnderstand")
    else:
        text = soap_fault(answer, "MustUnderstand")
    assert "and 4980 more" in text


@pytest.mark.parametrize("iface", SOAP_IFACES)
@pytest.mark.parametrize(
    "header",
    [
        f'<a:Action xmlns:a="{WSA}">' + "x" * 100_000 + "</a:Action>",
        f'<a:Action xmlns:a="{WSA}">&lt;script&gt;alert(1)&lt;/script&gt;</a:Action>',
        f'<a:MessageID xmlns:a="{WSA}">m</a:MessageID>',
        f'<a:Action xmlns:a="{WSA}"/>',
        f'<a:Action xmlns:a="{WSA}">urn:x</a:Action><a:ReplyTo xmlns:a="{WSA}"><a:Address>'
        "http://127.0.0.1:9/steal</a:Address></a:ReplyTo>",
        f'<a:Action xmlns:a="{WSA}">urn:x</a:Action><a:FaultTo xmlns:a="{WSA}"/>',
        f'<a:Action xmlns:a="{WSA}"><nested><deep/></nested></a:Action>',
    ],
    ids=[
        "huge-action",
        "script-action",
        "no-action",
        "empty-action",
        "reply-elsewhere",
        "fault-to-nowhere",
        "markup-action",
    ],
)
def test_hostile_ws_addressing_headers_are_addressing_faults(
    app: LadonWSGIApplication, iface: str, header: str
) -> None:
    answer = xml_post(app, iface, header_call(iface, header))
    assert_clean(answer)
    assert "<script>" not in answer.text
    assert len(answer.body) < 4000
    root = etree.fromstring(answer.body)
    if iface == "soap12":
        soap12_fault(answer)
        # the innermost subcode: OnlyAnonymousAddressSupported is nested
        # under InvalidAddressingHeader (WS-Addressing SOAP binding 6.4.1)
        sub = root.xpath("string((.//*[local-name()='Subcode'])[last()]/*[local-name()='Value'])")
        assert str(sub).split(":")[1] in (
            "ActionNotSupported",
            "MessageAddressingHeaderRequired",
            "OnlyAnonymousAddressSupported",
            "MissingAddressInEPR",
        )
    else:
        assert answer.status == 500
        code = root.findtext(".//faultcode") or ""
        assert code.split(":")[1] in (
            "ActionNotSupported",
            "MessageAddressingHeaderRequired",
            "OnlyAnonymousAddressSupported",
            "MissingAddressInEPR",
        )


NOT_XML = [b"hello", b"<a><b></a>", b"\x00\x01\x02", b"<?xml version='1.0'?>", b"   "]


@pytest.mark.parametrize("iface", XML_IFACES)
@pytest.mark.parametrize(
    "body", NOT_XML, ids=["text", "unbalanced", "binary", "prolog-only", "blank"]
)
def test_not_xml(app: LadonWSGIApplication, iface: str, body: bytes) -> None:
    answer = xml_post(app, iface, body)
    assert_clean(answer)
    FAULTS[iface](answer)


@pytest.mark.parametrize("iface", XML_IFACES)
def test_invalid_utf8_xml(app: LadonWSGIApplication, iface: str) -> None:
    answer = xml_post(app, iface, xml_call(iface, "ok").replace(b"ok", b"\xff\xfe\xfa"))
    assert_clean(answer)
    FAULTS[iface](answer)


@pytest.mark.parametrize("iface", XML_IFACES)
def test_utf16_xml_with_bom_works(app: LadonWSGIApplication, iface: str) -> None:
    text = xml_call(iface, "h\u00e9 \u263a").decode()
    body = codecs.BOM_UTF16_LE + ('<?xml version="1.0" encoding="UTF-16"?>' + text).encode(
        "utf-16-le"
    )
    answer = xml_post(app, iface, body)
    assert answer.status == 200, answer.body[:300]
    assert "h\u00e9 \u263a" in answer.text


@pytest.mark.parametrize("iface", XML_IFACES)
def test_deep_xml_nesting(app: LadonWSGIApplication, iface: str) -> None:
    depth = 100_000
    answer = xml_post(app, iface, xml_call(iface, "<a>" * depth + "</a>" * depth))
    assert_clean(answer, budget=2.0)
    FAULTS[iface](answer)


@pytest.mark.parametrize("iface", XML_IFACES)
def test_huge_integer_in_xml(app: LadonWSGIApplication, iface: str) -> None:
    digits = "9" * 1_000_000
    if iface == "xmlrpc":
        body = (
            "<methodCall><methodName>add</methodName><params><param><value><int>"
            f"{digits}</int></value></param><param><value><int>1</int></value></param>"
            "</params></methodCall>"
        ).encode()
    else:
        start, end = op(iface, "add")
        body = (
            f'<e:Envelope xmlns:e="{envelope_ns(iface)}"><e:Body>{start}<a>{digits}</a><b>1</b>'
            f"{end}</e:Body></e:Envelope>"
        ).encode()
    answer = xml_post(app, iface, body)
    assert_clean(answer)
    FAULTS[iface](answer)


# -- attributes and SOAP encoding's references --------------------------------------------------


def many_attributes(iface: str, count: int) -> bytes:
    """``echo_bytes`` whose argument element carries ``count`` attributes."""
    attrs = " ".join(f'a{i}="{i}"' for i in range(count))
    if iface == "xmlrpc":
        body = (
            "<methodCall><methodName>echo_bytes</methodName><params><param>"
            f"<value><base64 {attrs}>eA==</base64></value></param></params></methodCall>"
        )
    else:
        body = (
            f'<e:Envelope xmlns:e="{envelope_ns(iface)}"><e:Body><m:echo_bytes xmlns:m="urn:Shapes">'
            f"<m:data {attrs}>eA==</m:data></m:echo_bytes></e:Body></e:Envelope>"
        )
    return body.encode()


@pytest.mark.parametrize("iface", XML_IFACES)
def test_100k_attributes_on_one_element_are_answered_at_once(
    app: LadonWSGIApplication, iface: str
) -> None:
    """Reading xsi:nil went through every attribute for each one (lxml finds
    each value by name again): 100k attributes took about a minute."""
    answer = xml_post(app, iface, many_attributes(iface, 100_000))
    assert_clean(answer, budget=2.0)
    if iface == "xmlrpc":  # XML-RPC reads no attributes: the right answer
        assert answer.status == 200 and b"<base64>eA==</base64>" in answer.body
    else:
        assert "carries 100000 attributes; at most 1000" in FAULTS[iface](answer)


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_list_items_with_attributes_and_children_are_answered_at_once(
    app: LadonWSGIApplication, iface: str
) -> None:
    """A list of numbers whose items carry an attribute and a child: the
    test for the quick path was an XPath union, merged in quadratic time."""
    items = '<item a="1"><c/></item>' * 50_000
    body = (
        f'<e:Envelope xmlns:e="{envelope_ns(iface)}"><e:Body><m:squares xmlns:m="urn:Shapes">'
        f"<numbers>{items}</numbers></m:squares></e:Body></e:Envelope>"
    ).encode()
    answer = xml_post(app, iface, body)
    assert_clean(answer, budget=2.0)
    assert '"numbers[0]": expected an integer, got an object' in FAULTS[iface](answer)


class Node(LadonType):
    """A tree: a type that holds itself."""

    name: str
    children: list[Node]


class Trees:
    @ladonize()
    def count(self, tree: Node) -> int:
        """The nodes of the tree."""
        return 1 + sum(self.count(c) for c in tree.children)


@pytest.fixture(scope="module")
def trees_app() -> Iterator[LadonWSGIApplication]:
    application = LadonWSGIApplication([Trees], max_content_length=LIMIT)
    yield application
    application.close()


def tree_call(iface: str, tree: str, nodes: list[tuple[str, str]]) -> bytes:
    """``count(tree)``, the nodes ``(id, children)`` written beside its
    fields (an unknown field is not read; the Body may hold nothing else
    on soap and soap12). References are ``href="#x"``, ``enc:ref`` on SOAP 1.2."""
    soap12 = iface == "soap12"
    id_attr = "enc:id" if soap12 else "id"
    defs = "".join(
        f'<n {id_attr}="{key}"><name>{key}</name><children>{children}</children></n>'
        for key, children in nodes
    )
    tree = tree.replace("href=", "enc:ref=") if soap12 else tree
    defs = defs.replace("href=", "enc:ref=") if soap12 else defs
    return (
        f'<e:Envelope xmlns:e="{envelope_ns(iface)}" '
        'xmlns:enc="http://www.w3.org/2003/05/soap-encoding"><e:Body>'
        f'<m:count xmlns:m="urn:Trees"><tree>{tree}<defs>{defs}</defs></tree></m:count>'
        "</e:Body></e:Envelope>"
    ).encode()


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_billion_laughs_by_references_is_refused_at_once(
    trees_app: LadonWSGIApplication, iface: str
) -> None:
    """Ten nodes each referring ten times to the next: 10**10 nodes read."""
    levels = 10
    nodes = [
        (f"n{k}", f'<item href="#n{k + 1}"/>' * 10 if k < levels else "") for k in range(levels + 1)
    ]
    tree = '<name>root</name><children><item href="#n0"/></children>'
    answer = request(
        trees_app, f"/Trees/{iface}", tree_call(iface, tree, nodes), content_type=xml_ctype(iface)
    )
    # 100k elements and attributes read, then refused: a bound, not a speed
    # (unchecked, the bomb is 10**10 reads)
    assert_clean(answer, budget=8.0)
    text = FAULTS[iface](answer)
    assert text.startswith('Argument "tree.children[0].children[')
    assert "the values read through references (href/id) amount to more than 100000" in text


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_references_nesting_too_deep_are_refused(
    trees_app: LadonWSGIApplication, iface: str
) -> None:
    """A chain of 1000 nodes, each the child of the one before: no deeper
    than a document may nest (and no RecursionError)."""
    count = 1000
    nodes = [(f"n{k}", f'<item href="#n{k + 1}"/>' if k < count else "") for k in range(count + 1)]
    tree = '<name>root</name><children><item href="#n0"/></children>'
    answer = request(
        trees_app, f"/Trees/{iface}", tree_call(iface, tree, nodes), content_type=xml_ctype(iface)
    )
    assert_clean(answer)
    assert "would nest deeper than 256 levels" in FAULTS[iface](answer)


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_a_tree_holding_itself_is_a_cycle(trees_app: LadonWSGIApplication, iface: str) -> None:
    tree = '<name>root</name><children><item href="#a"/></children>'
    nodes = [("a", '<item href="#b"/>'), ("b", '<item href="#a"/>')]
    answer = request(
        trees_app, f"/Trees/{iface}", tree_call(iface, tree, nodes), content_type=xml_ctype(iface)
    )
    assert_clean(answer)
    text = FAULTS[iface](answer)
    assert text == (
        'Argument "tree.children[0].children[0].children[0]": '
        "the reference to id 'a' makes a cycle: the value would contain itself"
    )


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_a_tree_by_references_is_read(trees_app: LadonWSGIApplication, iface: str) -> None:
    nodes = [("a", '<item href="#b"/><item href="#b"/>'), ("b", "")]
    tree = '<name>root</name><children><item href="#a"/><item href="#b"/></children>'
    answer = request(
        trees_app, f"/Trees/{iface}", tree_call(iface, tree, nodes), content_type=xml_ctype(iface)
    )
    assert_clean(answer)
    assert answer.status == 200 and b">5</" in answer.body


class Grower:
    @ladonize()
    def grow(self, depth: int) -> Node:
        """A chain of ``depth`` nodes below the root."""
        root = node = Node(name="root", children=[])
        for k in range(depth):
            child = Node(name=str(k), children=[])
            node.children = [child]
            node = child
        return root

    @ladonize(tasktype=True)
    def grow_later(self, depth: int) -> Node:
        return self.grow(depth)


@pytest.fixture
def python_default_recursion() -> Iterator[None]:
    """The interpreter's default recursion limit (1000), as a server runs
    with: an earlier test (mypy's) may leave it raised in this process."""
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    yield
    sys.setrecursionlimit(before)


def json_tree(depth: int) -> dict[str, Any]:
    tree: dict[str, Any] = {"name": "leaf", "children": []}
    for _ in range(depth):
        tree = {"name": "n", "children": [tree]}
    return tree


@pytest.mark.parametrize("depth", [200, 450])
@pytest.mark.parametrize("iface", [*JSON_IFACES, "http"])
@pytest.mark.usefixtures("python_default_recursion")
def test_a_json_argument_nested_deeper_than_the_conversion_is_a_client_fault(
    trees_app: LadonWSGIApplication, iface: str, depth: int
) -> None:
    # the JSON parser takes a few hundred levels; reading them into
    # LadonTypes must not end in a RecursionError answered as a server error
    if iface == "http":
        body = json.dumps({"tree": json_tree(depth)}).encode()
        answer = request(trees_app, "/Trees/http/count", body)
        assert_clean(answer)
        assert answer.status == 422, answer.body[:300]
        problem = json.loads(answer.body)
        assert problem["path"] == "tree" and "nested too deeply" in problem["detail"]
        return
    call: dict[str, Any]
    if iface == "jsonwsp":
        call = {"methodname": "count", "args": {"tree": json_tree(depth)}}
    elif iface == "jsonrpc10":
        call = {"method": "count", "params": [json_tree(depth)], "id": 1}
    else:
        call = {"jsonrpc": "2.0", "method": "count", "params": [json_tree(depth)], "id": 1}
    answer = request(trees_app, "/Trees/" + iface, json.dumps(call).encode())
    assert_clean(answer)
    assert FAULTS[iface](answer) == 'Argument "tree": is nested too deeply to be read'


@pytest.fixture(scope="module")
def grower_app() -> Iterator[LadonWSGIApplication]:
    application = LadonWSGIApplication([Grower])
    yield application
    application.close()


def grow_call(iface: str, method: str, depth: int) -> tuple[str, bytes, str]:
    if iface in SOAP_IFACES:
        start, end = op(iface, method, "urn:Grower")
        body = (
            f'<e:Envelope xmlns:e="{envelope_ns(iface)}"><e:Body>'
            f"{start}<depth>{depth}</depth>{end}</e:Body></e:Envelope>"
        )
        return f"/Grower/{iface}", body.encode(), xml_ctype(iface)
    if iface == "xmlrpc":
        body = (
            f"<methodCall><methodName>{method}</methodName><params><param><value>"
            f"<int>{depth}</int></value></param></params></methodCall>"
        )
        return "/Grower/xmlrpc", body.encode(), "text/xml"
    if iface == "jsonwsp":
        data: dict[str, Any] = {"methodname": method, "args": {"depth": depth}}
    elif iface == "jsonrpc10":
        data = {"method": method, "params": [depth], "id": 1}
    else:
        data = {"jsonrpc": "2.0", "method": method, "params": [depth], "id": 1}
    return f"/Grower/{iface}", json.dumps(data).encode(), "application/json"


@pytest.mark.parametrize("iface", [*SOAP_IFACES, *JSON_IFACES, "xmlrpc"])
@pytest.mark.usefixtures("python_default_recursion")
def test_a_result_nested_deeper_than_the_conversion_is_a_server_fault_saying_so(
    grower_app: LadonWSGIApplication, iface: str, caplog: pytest.LogCaptureFixture
) -> None:
    path, body, ctype = grow_call(iface, "grow", 100)
    assert request(grower_app, path, body, content_type=ctype).status == 200
    path, body, ctype = grow_call(iface, "grow", 600)
    answer = request(grower_app, path, body, content_type=ctype)
    assert_clean(answer)
    assert "Method result" in answer.text
    assert "is nested too deeply to be written" in answer.text
    assert "Internal server error" not in answer.text
    assert answer.status == (200 if iface in (*JSON_IFACES, "xmlrpc") else 500)
    # logged as the service's bug it is, without a traceback
    assert "nested too deeply" in caplog.text and "Traceback" not in caplog.text


@pytest.mark.usefixtures("python_default_recursion")
def test_a_task_whose_result_is_nested_too_deeply_fails_saying_so(
    grower_app: LadonWSGIApplication,
) -> None:
    path, body, ctype = grow_call("jsonwsp", "grow_later", 600)
    answer = request(grower_app, path, body, content_type=ctype)
    task_id = json.loads(answer.body)["result"]["task_id"]
    status = b""
    for _ in range(200):
        body = json.dumps(
            {"methodname": "grow_later_wait", "args": {"task_id": task_id, "timeout": 5}}
        ).encode()
        status = request(grower_app, "/Grower/jsonwsp", body).body
        if b'"failed"' in status:
            break
    assert b'"failed"' in status, status[:300]
    assert b"nested too deeply to be written" in status


# -- JSON -------------------------------------------------------------------------------------

BAD_JSON = [
    b"{not json",
    b" \r\n\t",
    b"[1, 2",
    b'{"a": NaN}',
    b'{"a": Infinity}',
    b'{"a": -Infinity}',
    b"\xff\xfe\x00{",
    b'{"methodname": "echo", "args": {"text": "\xff"}}',
    b"null",
    b"42",
    b'"methodname"',
]
BAD_JSON_IDS = [
    "malformed",
    "blanks",
    "truncated",
    "nan",
    "infinity",
    "minus-infinity",
    "bad-bom",
    "invalid-utf8",
    "null",
    "number",
    "string",
]


@pytest.mark.parametrize("iface", JSON_IFACES)
@pytest.mark.parametrize("body", BAD_JSON, ids=BAD_JSON_IDS)
def test_bad_json(app: LadonWSGIApplication, iface: str, body: bytes) -> None:
    answer = json_post(app, iface, body)
    assert_clean(answer)
    FAULTS[iface](answer)


@pytest.mark.parametrize("iface", [*XML_IFACES, *JSON_IFACES])
def test_an_empty_post_is_the_interface_fault_with_http_400(
    app: LadonWSGIApplication, iface: str
) -> None:
    ctype = xml_ctype(iface) if iface in XML_IFACES else "application/json"
    answer = request(app, f"/Shapes/{iface}", b"", content_type=ctype)
    assert_clean(answer)
    if iface in ("soap", "soap11"):  # SOAP 1.1: every fault is HTTP 500
        assert "empty" in soap_fault(answer)
        return
    if iface == "soap12":  # a Sender fault: HTTP 400 (SOAP 1.2 HTTP binding)
        assert "empty" in soap12_fault(answer)
        return
    assert answer.status == 400, answer.body[:300]
    assert "empty" in FAULTS[iface](dataclasses.replace(answer, status=200))


@pytest.mark.parametrize("iface", JSON_IFACES)
def test_deep_json_nesting(app: LadonWSGIApplication, iface: str) -> None:
    answer = json_post(app, iface, b"[" * 30_000 + b"]" * 30_000)
    assert_clean(answer)
    FAULTS[iface](answer)
    answer = json_post(
        app, iface, json_call(iface, "x").replace(b'"x"', b'{"a":' * 20_000 + b"1" + b"}" * 20_000)
    )
    assert_clean(answer)
    FAULTS[iface](answer)


@pytest.mark.parametrize("iface", JSON_IFACES)
def test_huge_integer_in_json(app: LadonWSGIApplication, iface: str) -> None:
    body = json_call(iface, 0).replace(b"0", b"9" * 1_000_000).replace(b'"echo"', b'"half"')
    answer = json_post(app, iface, body)
    assert_clean(answer)
    FAULTS[iface](answer)


@pytest.mark.parametrize("iface", JSON_IFACES)
def test_lone_surrogates_are_answered(app: LadonWSGIApplication, iface: str) -> None:
    answer = json_post(app, iface, json_call(iface, "a\ud800b"))
    assert_clean(answer)
    assert answer.status == 200
    data = json.loads(answer.body)
    assert "error" in data or data.get("type") == "jsonwsp/fault" or "result" in data


#: Where a key comes twice: the request's own member, a member of a nested
#: object (in an array too), beside colons in strings, in a long request
#: (each: a function of the interface).
DUPLICATES: dict[str, Callable[[str], bytes]] = {
    "member": lambda iface: (
        b'{"methodname": "echo", "methodname": "add", "args": {"text": "x"}}'
        if iface == "jsonwsp"
        else json_call(iface, "x")[:-1] + b', "id": 2, "id": 3}'
    ),
    "nested": lambda iface: json_call(iface, {"k": 1}).replace(b'{"k": 1}', b'{"k": 1, "k": 2}'),
    "in-array": lambda iface: json_call(iface, [{"k": 1}]).replace(
        b'{"k": 1}', b'{"k": 1, "k": 2}'
    ),
    "colons-in-strings": lambda iface: json_call(iface, ["a:b", {"k": "c:d"}]).replace(
        b'{"k": "c:d"}', b'{"k": "c:d", "k": "e"}'
    ),
    "long": lambda iface: json_call(iface, ["x" * 600, {"k": 1}]).replace(
        b'{"k": 1}', b'{"k": 1, "k": 2}'
    ),
}


@pytest.mark.parametrize("iface", JSON_IFACES)
@pytest.mark.parametrize("where", DUPLICATES.values(), ids=DUPLICATES.keys())
def test_duplicate_keys_are_refused(
    app: LadonWSGIApplication, iface: str, where: Callable[[str], bytes]
) -> None:
    answer = json_post(app, iface, where(iface))
    assert_clean(answer)
    assert "more than once" in FAULTS[iface](answer)


@pytest.mark.parametrize("iface", JSON_IFACES)
def test_colons_in_strings_are_no_duplicate(app: LadonWSGIApplication, iface: str) -> None:
    """A request whose strings hold colons (beside the members' own) is read
    whole."""
    answer = json_post(app, iface, json_call(iface, "a: b : c"))
    assert answer.status == 200, answer.text
    data = json.loads(answer.body)
    assert data["result"] == "a: b : c", data


@pytest.mark.parametrize("iface", JSON_IFACES)
def test_utf16_json_with_bom_works(app: LadonWSGIApplication, iface: str) -> None:
    body = codecs.BOM_UTF16_LE + json_call(iface, "h\u00e9").decode().encode("utf-16-le")
    answer = json_post(app, iface, body)
    assert answer.status == 200 and "h\u00e9" in answer.text, answer.text[:300]


@pytest.mark.parametrize("iface", JSON_IFACES)
@pytest.mark.parametrize(
    "value",
    [[1, 2], {"a": 1}, None, True, 1.5, [[["deep"]]]],
    ids=["list", "object", "null", "bool", "float", "nested-list"],
)
def test_wrong_argument_shapes(app: LadonWSGIApplication, iface: str, value: Any) -> None:
    answer = json_post(app, iface, json_call(iface, value))
    assert_clean(answer)
    if value in (True, 1.5):  # numbers and booleans are text to a str (Ladon 1.0 rule)
        assert answer.status == 200
    else:
        FAULTS[iface](answer)


@pytest.mark.parametrize(
    ("iface", "body"),
    [
        ("jsonwsp", b'{"methodname": 5, "args": {}}'),
        ("jsonwsp", b'{"methodname": "echo", "args": []}'),
        ("jsonwsp", b'{"args": {}}'),
        ("jsonwsp", b"[]"),
        ("jsonrpc10", b'{"method": "echo", "params": "x", "id": 1}'),
        ("jsonrpc10", b'{"method": ["echo"], "params": [], "id": 1}'),
        ("jsonrpc10", b'{"params": [], "id": 1}'),
        ("jsonrpc", b'{"jsonrpc": "2.0", "method": "echo", "params": 5, "id": 1}'),
        ("jsonrpc", b'{"jsonrpc": "1.0", "method": "echo", "id": 1}'),
        ("jsonrpc", b'{"jsonrpc": "2.0", "method": "echo", "id": {"a": 1}}'),
    ],
    ids=lambda v: v if isinstance(v, str) else v.decode()[:40],
)
def test_wrong_request_shapes(app: LadonWSGIApplication, iface: str, body: bytes) -> None:
    answer = json_post(app, iface, body)
    assert_clean(answer)
    FAULTS[iface](answer)


# -- bodies, lengths, encodings ---------------------------------------------------------------


def body_fault(answer: Answer, iface: str, status: int) -> str:
    """The protocol's own fault answering a body the server could not read
    (too large, bad length, unknown coding...); its message. The HTTP status
    is the error's (``status``), except on SOAP 1.1 whose faults are always
    500 (SOAP 1.1 section 6.2, WS-I Basic Profile R1126; suds reads a fault
    at 500 only)."""
    soap11 = iface in ("soap", "soap11")
    assert answer.status == (500 if soap11 else status), (answer.status, answer.body[:300])
    assert not answer.headers["Content-Type"].startswith("text/plain"), answer.text[:300]
    # the helpers check the fault's shape at the status their faults usually have
    usual = 500 if soap11 else 400 if iface == "soap12" else 200
    return FAULTS[iface](dataclasses.replace(answer, status=usual))


@pytest.mark.parametrize("iface", list(FAULTS))
def test_body_over_the_limit_is_413_before_reading(
    small_app: LadonWSGIApplication, iface: str
) -> None:
    def endless() -> Iterator[bytes]:
        yield from ()  # a generator that fails when read
        raise AssertionError("the body was read")

    answer = request(small_app, f"/Shapes/{iface}", endless(), length=str(SMALL_LIMIT + 1))
    message = body_fault(answer, iface, 413)
    assert message == f"The request body is over the limit of {SMALL_LIMIT} bytes"
    assert_clean(answer)


@pytest.mark.parametrize("iface", list(FAULTS))
def test_chunked_body_over_the_limit_is_refused_not_truncated(
    small_app: LadonWSGIApplication, iface: str
) -> None:
    sent: list[int] = []

    def chunks() -> Iterator[bytes]:
        for _ in range(1000):
            sent.append(1)
            yield b" " * 4096

    answer = request(
        small_app,
        f"/Shapes/{iface}",
        chunks(),
        length="",
        extra={"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True},
        drop=("CONTENT_LENGTH",),
    )
    assert "over the limit" in body_fault(answer, iface, 413)
    assert len(sent) * 4096 <= SMALL_LIMIT + 2 * 65536  # stopped soon after the limit
    assert_clean(answer)


@pytest.mark.parametrize("iface", ["soap", "soap12", "jsonwsp"])
def test_multipart_body_over_the_limit_is_the_protocols_413(
    small_app: LadonWSGIApplication, iface: str
) -> None:
    def endless() -> Iterator[bytes]:
        yield from ()
        raise AssertionError("the body was read")

    answer = request(
        small_app,
        f"/Shapes/{iface}",
        endless(),
        content_type="multipart/related; boundary=zz",
        length=str(1024**3),  # over the attachments' limit too
    )
    assert "over the limit" in body_fault(answer, iface, 413)
    assert_clean(answer)


@pytest.mark.parametrize("iface", list(FAULTS))
@pytest.mark.parametrize(
    ("length", "status", "message"),
    [
        ("999999999999999999999", 413, f"The request body is over the limit of {LIMIT} bytes"),
        ("100", 400, "The request body is shorter than its Content-Length"),
        ("-5", 400, "Content-Length must be a non-negative number"),
        ("abc", 400, "Content-Length must be a non-negative number"),
        ("1e3", 400, "Content-Length must be a non-negative number"),
    ],
    ids=["huge", "short-body", "negative", "text", "float"],
)
def test_bad_content_lengths(
    app: LadonWSGIApplication, iface: str, length: str, status: int, message: str
) -> None:
    answer = request(app, f"/Shapes/{iface}", b'{"x": 1}', length=length)
    assert body_fault(answer, iface, status) == message
    assert_clean(answer)


@pytest.mark.parametrize("iface", list(FAULTS))
def test_post_without_length_or_chunking_is_411(app: LadonWSGIApplication, iface: str) -> None:
    answer = request(app, f"/Shapes/{iface}", b"{}", drop=("CONTENT_LENGTH",))
    assert body_fault(answer, iface, 411) == "A request body needs a Content-Length"
    assert_clean(answer)


@pytest.mark.parametrize(
    "path", ["/Shapes/soap/description", "/Shapes/jsonwsp/description", "/Shapes", "/"]
)
def test_a_query_string_of_raw_bytes_that_are_not_utf8_is_400(
    app: LadonWSGIApplication, path: str
) -> None:
    # raw bytes, as wsgiref and mod_wsgi pass them (gunicorn refuses the line)
    query = "skin=\xff" if path in ("/Shapes", "/") else "include_doc=\xff"
    answer = request(app, path, method="GET", extra={"QUERY_STRING": query})
    assert (answer.status, answer.text) == (400, "The query string is not valid UTF-8\n")
    assert_clean(answer)


class _BrokenInput:
    """A request body the server fails to read after its first bytes (the
    client went away: mod_wsgi's OSError; gunicorn raises its own errors)."""

    def __init__(self) -> None:
        self.first = b'{"method'

    def read(self, n: int = -1) -> bytes:
        data, self.first = self.first, b""
        if not data:
            raise OSError("request data read error")
        return data


@pytest.mark.parametrize("iface", list(FAULTS))
@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
def test_a_body_the_server_fails_to_read_is_the_protocols_400(
    app: LadonWSGIApplication, iface: str, chunked: bool
) -> None:
    extra: dict[str, Any] = {"wsgi.input": _BrokenInput()}
    if chunked:
        extra.update({"wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"})
    ctype = "application/json" if iface in JSON_IFACES else xml_ctype(iface)
    answer = request(
        app,
        f"/Shapes/{iface}",
        b"",
        content_type=ctype,
        length=None if chunked else "100",
        extra=extra,
        drop=("CONTENT_LENGTH",) if chunked else (),
    )
    assert body_fault(answer, iface, 400).startswith("The request body could not be read")
    assert_clean(answer)


@pytest.mark.parametrize("iface", list(FAULTS))
@pytest.mark.parametrize(
    "charset",
    ["bogus", "zlib", "rot13", "x" * 300, "punycode", "undefined"],
    ids=["bogus", "bytes-codec", "rot13", "long", "punycode", "undefined"],
)
def test_bogus_charsets(app: LadonWSGIApplication, iface: str, charset: str) -> None:
    body = json_call(iface, "x") if iface in JSON_IFACES else xml_call(iface, "x")
    ctype = (
        "application/json" if iface in JSON_IFACES else xml_ctype(iface)
    ) + f"; charset={charset}"
    answer = request(app, f"/Shapes/{iface}", body, content_type=ctype)
    assert_clean(answer)
    if iface in JSON_IFACES:
        FAULTS[iface](answer)  # the declared charset decodes JSON
    elif iface == "soap12":  # the SOAP 1.2 binding's charset is the document's
        message = FAULTS[iface](answer)
        # a text codec that cannot read the document (punycode, undefined) says so
        assert "Unknown charset" in message or f"cannot be decoded as {charset}" in message
    else:
        assert answer.status in (200, 500)  # SOAP 1.1 XML takes its own declaration


@pytest.mark.parametrize("iface", XML_IFACES)
@pytest.mark.parametrize("charset", ["utf-16", "utf-32-be", "cp037"])
def test_a_charset_the_bytes_do_not_fit_is_the_protocols_fault(
    app: LadonWSGIApplication, iface: str, charset: str
) -> None:
    # a document without declaration is decoded with the declared charset
    ctype = xml_ctype(iface) + f"; charset={charset}"
    answer = request(app, f"/Shapes/{iface}", xml_call(iface, "x"), content_type=ctype)
    assert "not well-formed" in FAULTS[iface](answer)


@pytest.mark.parametrize("iface", list(FAULTS))
@pytest.mark.parametrize(
    "ctype",
    [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=zz",
        "multipart/related",
        "multipart/related; boundary=",
        "garbage/;;;==",
        "",
    ],
    ids=["form", "form-data", "no-boundary", "empty-boundary", "garbage", "none"],
)
def test_odd_content_types(app: LadonWSGIApplication, iface: str, ctype: str) -> None:
    answer = request(app, f"/Shapes/{iface}", b"a=1&b=2", content_type=ctype)
    assert_clean(answer)
    multipart = ctype.startswith("multipart/")
    if multipart and iface not in ("soap", "soap11", "soap12"):
        # a malformed multipart body (JSON-WSP takes attachments), or a
        # multipart request to an interface taking none, is a bad HTTP
        # request, 400, with the protocol's fault saying why
        assert answer.status == 400
        answer = dataclasses.replace(answer, status=200)
    message = FAULTS[iface](answer)
    if multipart and iface in ("soap11", "jsonrpc10", "jsonrpc", "xmlrpc"):
        assert message == f"The {iface} interface takes no multipart requests: " + (
            "send the request itself as the body"
        )


def gzip_bomb() -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb") as f:
        block = b"\0" * 1024 * 1024
        for _ in range(64):
            f.write(block)
    return buf.getvalue()


@pytest.mark.parametrize("iface", list(FAULTS))
def test_gzip_bomb_is_capped(app: LadonWSGIApplication, iface: str) -> None:
    bomb = gzip_bomb()
    assert len(bomb) < LIMIT
    answer = request(app, f"/Shapes/{iface}", bomb, extra={"HTTP_CONTENT_ENCODING": "gzip"})
    message = body_fault(answer, iface, 413)
    assert message == f"The decoded request body is over the limit of {LIMIT} bytes"
    assert_clean(answer)


@pytest.mark.parametrize("iface", XML_IFACES + JSON_IFACES)
def test_gzip_request_bodies_work(app: LadonWSGIApplication, iface: str) -> None:
    body = json_call(iface, "zipped") if iface in JSON_IFACES else xml_call(iface, "zipped")
    ctype = "application/json" if iface in JSON_IFACES else xml_ctype(iface)
    answer = request(
        app,
        f"/Shapes/{iface}",
        gzip.compress(body),
        content_type=ctype,
        extra={"HTTP_CONTENT_ENCODING": "gzip"},
    )
    assert answer.status == 200 and "zipped" in answer.text, answer.text[:300]


@pytest.mark.parametrize("iface", list(FAULTS))
def test_broken_gzip_and_unknown_encodings(app: LadonWSGIApplication, iface: str) -> None:
    path = f"/Shapes/{iface}"
    answer = request(app, path, b"not gzip", extra={"HTTP_CONTENT_ENCODING": "gzip"})
    assert body_fault(answer, iface, 400) == "The request body is not valid gzip data"
    assert_clean(answer)
    truncated = gzip.compress(json_call("jsonwsp", "x"))[:-12]
    answer = request(app, path, truncated, extra={"HTTP_CONTENT_ENCODING": "gzip"})
    assert body_fault(answer, iface, 400) == "The request body is truncated gzip data"
    answer = request(app, path, b"{}", extra={"HTTP_CONTENT_ENCODING": "br"})
    message = body_fault(answer, iface, 415)
    assert message == "Content-Encoding must be gzip or deflate (or none), not 'br'"
    assert_clean(answer)


# -- paths, queries, environ ------------------------------------------------------------------


def test_environ_without_query_string(app: LadonWSGIApplication) -> None:
    for path, method in [("/", "GET"), ("/Shapes", "GET"), ("/Shapes/soap/description", "GET")]:
        answer = request(app, path, method=method, drop=("QUERY_STRING",))
        assert answer.status == 200
    answer = request(app, "/Shapes/jsonwsp", json_call("jsonwsp", "x"), drop=("QUERY_STRING",))
    assert answer.status == 200


@pytest.mark.parametrize(
    "path",
    ["/" + "a" * 100_000, "/Shapes/" + "b" * 100_000, "/Shapes/jsonwsp/" + "c/" * 50_000],
    ids=["service", "interface", "deep"],
)
def test_long_paths(app: LadonWSGIApplication, path: str) -> None:
    answer = request(app, path, method="GET")
    assert answer.status in (404, 405)
    assert_clean(answer)
    assert len(answer.body) < 2000


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/<script>alert(1)</script>", ""),
        ("/Shapes/<script>alert(1)</script>", ""),
        ("/Shapes/jsonwsp/description", "include_doc=<script>alert(1)</script>"),
        ("/", "skin=<script>alert(1)</script>"),
        ("/Shapes", "skin=%3Cscript%3Ealert(1)%3C/script%3E"),
    ],
    ids=["service", "interface", "description-query", "catalog-skin", "service-skin"],
)
def test_script_is_never_reflected(app: LadonWSGIApplication, path: str, query: str) -> None:
    answer = request(app, path, method="GET", extra={"QUERY_STRING": query})
    assert_clean(answer)
    assert "<script>" not in answer.text
    if answer.status >= 400:
        assert answer.headers.get("X-Content-Type-Options") == "nosniff"


@pytest.mark.parametrize(
    "path",
    [
        "/skins/../../../../etc/passwd.css",
        "/skins/..%2f..%2f..%2fetc%2fpasswd.css",
        "/skins/%2e%2e/%2e%2e/etc/passwd.css",
        "/skins//etc/passwd.css",
        "/skins/x/../../../../../etc/hosts.js",
    ],
    ids=["dotdot", "encoded-slash", "encoded-dots", "absolute", "nested"],
)
def test_skins_traversal(app: LadonWSGIApplication, path: str) -> None:
    answer = request(app, path, method="GET")
    assert answer.status in (400, 403, 404)
    assert "root:" not in answer.text and "localhost" not in answer.text
    assert_clean(answer)
