"""SOAP with attachments on the ``soap`` interface (and inline on ``soap11``).

* zeep and suds send and receive attachments inline, as the WSDL's
  ``xsd:base64Binary`` says;
* a client that sends a ``multipart/related`` request (SOAP with
  Attachments: an ``href="cid:..."`` attribute, an ``xop:Include`` child or
  ``cid:`` text) gets an XOP answer: the envelope, then one MIME part per
  attachment, referenced by ``xop:Include``; zeep decodes such an answer
  transparently (checked with a transport that posts multipart requests);
* the WSDL wraps the bodies of methods with attachments in
  ``mime:multipartRelated`` and still loads in both clients.
"""

from __future__ import annotations

import base64
import hashlib
import io
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
import requests
import suds.client
import zeep
import zeep.exceptions
from lxml import etree
from werkzeug.serving import make_server
from zeep.transports import Transport

from ladon.server.wsgi import LadonWSGIApplication
from ladon.wire.multipart import close_parts
from ladon.wire.multipart import read_multipart

pytestmark = pytest.mark.e2e

SERVICES = Path(__file__).resolve().parent.parent / "services"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XOP = "http://www.w3.org/2004/08/xop/include"
MIME = "http://schemas.xmlsoap.org/wsdl/mime/"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
BOUNDARY = "soapBoundary"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    app = LadonWSGIApplication(["files_service"], [str(SERVICES)], max_attachments=3)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/Files"
    server.shutdown()
    server.server_close()
    thread.join(5)
    app.close()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- inline (zeep, suds) --------------------------------------------------------------


@pytest.mark.parametrize("iface", ["soap", "soap11"])
def test_zeep_sends_and_receives_attachments_inline(base_url: str, iface: str) -> None:
    client = zeep.Client(f"{base_url}/{iface}/description")
    data = bytes(range(256)) * 50
    assert client.service.digest(data) == sha(data)
    assert client.service.make("ab", 3) == b"ababab"
    assert client.service.sizes({"item": [b"1", b"22", b""]}) == [1, 2, 0]


def test_zeep_round_trips_attachments_inside_types(base_url: str) -> None:
    client = zeep.Client(f"{base_url}/soap/description")
    folder = {"title": "t", "documents": {"item": [{"name": "a", "content": b"xyz"}]}}
    result = client.service.echo_folder(folder)
    assert result["documents"]["item"][0]["content"] == b"xyz"
    assert client.service.make_many(2) == [b"part 0", b"part 1"]


def test_suds_sends_and_receives_attachments_as_base64(base_url: str) -> None:
    client = suds.client.Client(f"{base_url}/soap/description", cache=None)
    assert client.service.digest(base64.b64encode(b"abc").decode()) == sha(b"abc")
    assert base64.b64decode(client.service.make("ab", 2)) == b"abab"


def test_wsdl_describes_mime_parts_only_where_attachments_go(base_url: str) -> None:
    with urllib.request.urlopen(f"{base_url}/soap/description") as resp:
        wsdl = etree.fromstring(resp.read())
    ns = {"w": WSDL, "mime": MIME}

    def has_mime(op: str, direction: str) -> bool:
        path = f"w:binding/w:operation[@name='{op}']/w:{direction}/mime:multipartRelated"
        return bool(wsdl.xpath(path, namespaces=ns))

    assert has_mime("digest", "input") and not has_mime("digest", "output")
    assert has_mime("make", "output") and not has_mime("make", "input")
    assert has_mime("echo_folder", "input") and has_mime("echo_folder", "output")
    assert not has_mime("request_header", "input")


# -- SOAP with Attachments (raw multipart requests) -------------------------------------


def envelope(body: str) -> bytes:
    return (
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}" xmlns:t="http://tempuri.org/" '
        f'xmlns:xop="{XOP}"><soap:Body>{body}</soap:Body></soap:Envelope>'
    ).encode()


def swa_request(env: bytes, files: list[tuple[str, bytes]]) -> bytes:
    out = [
        f"--{BOUNDARY}\r\nContent-Type: text/xml; charset=utf-8\r\n"
        "Content-ID: <root>\r\n\r\n".encode(),
        env,
        b"\r\n",
    ]
    for cid, data in files:
        out.append(
            f"--{BOUNDARY}\r\nContent-Type: application/octet-stream\r\n"
            f"Content-ID: {cid}\r\n\r\n".encode()
        )
        out += [data, b"\r\n"]
    out.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(out)


def post(url: str, body: bytes, ctype: str) -> tuple[int, str, bytes]:
    req = urllib.request.Request(url, body, {"Content-Type": ctype, "SOAPAction": '""'})
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read()


def post_swa(base_url: str, env: bytes, files: list[tuple[str, bytes]]) -> tuple[int, str, bytes]:
    ctype = f'multipart/related; type="text/xml"; start="<root>"; boundary={BOUNDARY}'
    return post(f"{base_url}/soap", swa_request(env, files), ctype)


def xop_answer(ctype: str, body: bytes) -> tuple[etree._Element, dict[str, bytes]]:
    """The envelope of an XOP answer and its parts by Content-ID."""
    assert ctype.startswith("multipart/related;") and 'type="application/xop+xml"' in ctype
    boundary = ctype.split("boundary=")[1].split(";")[0].encode()
    parts = read_multipart(io.BytesIO(body).read, boundary)
    try:
        assert parts[0].headers["content-id"] == "<rpc-part>"
        assert parts[0].content_type.startswith("application/xop+xml")
        root = etree.fromstring(parts[0].file.read())
        return root, {p.headers["content-id"]: p.file.read() for p in parts[1:]}
    finally:
        close_parts(parts)


def text_of(root: etree._Element, local: str) -> str:
    (el,) = cast("list[etree._Element]", root.xpath(f"//*[local-name()='{local}']"))
    return str(el.text)


@pytest.mark.parametrize(
    "reference",
    [
        '<t:data href="cid:file1"/>',
        '<t:data><xop:Include href="cid:file1"/></t:data>',
        "<t:data>cid:file1</t:data>",
        "<t:data>cidx:0</t:data>",
    ],
    ids=["swa-href", "xop-include", "swaref-text", "cidx"],
)
def test_attachment_parameter_from_a_mime_part(base_url: str, reference: str) -> None:
    data = b"\x00\x01binary\r\n--not a boundary\r\n" * 1000
    env = envelope(f"<t:digest>{reference}</t:digest>")
    status, ctype, body = post_swa(base_url, env, [("<file1>", data)])
    assert status == 200, body[:500]
    assert text_of(etree.fromstring(body), "result") == sha(data)


def test_attachment_result_of_a_multipart_request_is_an_xop_package(base_url: str) -> None:
    env = envelope(
        "<t:echo_folder><t:folder><title>x</title><documents>"
        '<item><name>a</name><content href="cid:a"/></item>'
        '<item><name>b</name><content href="cid:b"/></item>'
        "</documents></t:folder></t:echo_folder>"
    )
    status, ctype, body = post_swa(base_url, env, [("<a>", b"AAA"), ("<b>", b"BBBB")])
    assert status == 200
    root, parts = xop_answer(ctype, body)
    hrefs = [el.get("href") for el in root.iter(f"{{{XOP}}}Include")]
    assert hrefs == ["cid:ladon-attachment-1", "cid:ladon-attachment-2"]
    assert parts == {"<ladon-attachment-1>": b"AAA", "<ladon-attachment-2>": b"BBBB"}


def test_plain_request_gets_inline_base64(base_url: str) -> None:
    env = envelope("<t:make><t:text>hi</t:text><t:repeat>2</t:repeat></t:make>")
    status, ctype, body = post(f"{base_url}/soap", env, "text/xml; charset=utf-8")
    assert status == 200 and ctype.startswith("text/xml")
    assert base64.b64decode(text_of(etree.fromstring(body), "result")) == b"hihi"


class MultipartTransport(Transport):
    """A zeep transport that posts every envelope as a SOAP-with-Attachments
    package (one root part), as MIME-capable SOAP stacks do."""

    def post(self, address: str, message: bytes, headers: dict[str, str]) -> requests.Response:
        headers = dict(headers)
        headers["Content-Type"] = (
            f'multipart/related; type="text/xml"; start="<root>"; boundary={BOUNDARY}'
        )
        response = super().post(address, swa_request(message, []), headers)  # type: ignore[no-untyped-call]
        return cast(requests.Response, response)


def test_zeep_decodes_an_xop_answer(base_url: str) -> None:
    client = zeep.Client(f"{base_url}/soap/description", transport=MultipartTransport())  # type: ignore[no-untyped-call]
    assert client.service.make("xy", 2) == b"xyxy"
    assert client.service.make_many(3) == [b"part 0", b"part 1", b"part 2"]
    assert client.service.request_header("x") is None  # no attachment: a plain answer


# -- faults ----------------------------------------------------------------------------------


def fault_string(status: int, body: bytes) -> tuple[str, str]:
    assert status == 500, body[:300]
    root = etree.fromstring(body)
    text = body.decode()
    assert "Traceback" not in text and ".py" not in text
    return text_of(root, "faultcode"), text_of(root, "faultstring")


@pytest.mark.parametrize(
    ("reference", "files", "message"),
    [
        ('<t:data href="cid:nope"/>', [("<file1>", b"x")], "names no attachment"),
        ("<t:data>cidx:5</t:data>", [("<file1>", b"x")], "carries 1"),
        ('<t:data href="cid:file1"/>', [(f"<f{i}>", b"x") for i in range(4)], "more than 3"),
    ],
    ids=["unknown-cid", "cidx-out-of-range", "too-many-parts"],
)
def test_bad_attachment_requests_are_client_faults(
    base_url: str, reference: str, files: list[tuple[str, bytes]], message: str
) -> None:
    status, _, body = post_swa(base_url, envelope(f"<t:digest>{reference}</t:digest>"), files)
    code, string = fault_string(status, body)
    assert code == "SOAP-ENV:Client" and message in string


def test_reference_without_parts_and_bad_base64(base_url: str) -> None:
    for content, message in (("cid:file1", "carries none"), ("not base64!", "attachment")):
        env = envelope(f"<t:digest><t:data>{content}</t:data></t:digest>")
        code, string = fault_string(*post(f"{base_url}/soap", env, "text/xml")[::2])
        assert code == "SOAP-ENV:Client" and '"data"' in string and message in string


def test_an_argument_given_twice_is_a_client_fault(base_url: str) -> None:
    env = envelope("<t:make><t:text>a</t:text><t:text>b</t:text><t:repeat>1</t:repeat></t:make>")
    code, string = fault_string(*post(f"{base_url}/soap", env, "text/xml")[::2])
    assert code == "SOAP-ENV:Client" and '"text"' in string and "more than once" in string


def test_attachment_answer_refused_on_interfaces_without_attachments(base_url: str) -> None:
    body = b'{"method": "make", "params": ["a", 1], "id": 1}'
    _, _, data = post(f"{base_url}/jsonrpc10", body, "application/json")
    assert b"cannot carry" in data
