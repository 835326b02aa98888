"""End to end: SOAP 1.2 (``soap12``) and WS-Addressing through real zeep
clients over a socket, and the raw wire where zeep cannot show it.

* zeep's Client takes the soap12 port of the WSDL and calls every kind of
  method: primitives, lists, LadonTypes, defaults, dates, decimals, tasks
  (start, ``_progress``, ``_result``, ``_cancel``) and attachments (inline,
  and MTOM/XOP packages both ways);
* faults arrive as zeep Faults with ``env:Sender``/``env:Receiver`` codes,
  Ladon's subcodes and the HTTP statuses of the SOAP 1.2 HTTP binding;
* the envelope version is checked both ways (VersionMismatch), header blocks
  marked ``mustUnderstand`` are (MustUnderstand);
* zeep's ``WsAddressingPlugin`` works on ``soap``, ``soap11`` and ``soap12``:
  answers relate to the request's MessageID and carry the declared actions;
* names and namespaces: Python names (``customer_name``, ``task_id``) in the
  service's namespace on ``soap12``, and on ``soap``/``soap11`` with
  ``soap_naming="python"``; Ladon 1.0's names otherwise.
"""

from __future__ import annotations

import hashlib
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from typing import cast

import pytest
import requests
import zeep
import zeep.exceptions
from lxml import etree
from test_soap_attachments import xop_answer
from werkzeug.serving import make_server
from zeep.plugins import Plugin
from zeep.transports import Transport
from zeep.wsa import WsAddressingPlugin

from ladon.server.wsgi import LadonWSGIApplication

pytestmark = pytest.mark.e2e

SERVICES = Path(__file__).resolve().parent.parent / "services"
ENV11 = "http://schemas.xmlsoap.org/soap/envelope/"
ENV12 = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
LADON = "urn:ladon:faults"
XOP = "http://www.w3.org/2004/08/xop/include"
GEO = "urn:example:geometry"
SHAPES = "urn:Shapes"
CUSTOM = "{urn:example:headers}Ticket"


def serve(app: LadonWSGIApplication) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        app.close()


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    app = LadonWSGIApplication(
        ["legacy_shapes", "modern_types", "files_service", "geometry"], [str(SERVICES)]
    )
    yield from serve(app)


@pytest.fixture(scope="module")
def python_url() -> Iterator[str]:
    """An application for new deployments: Python names on every SOAP
    interface, a default namespace, one more understood header block."""
    app = LadonWSGIApplication(
        ["legacy_shapes", "geometry"],
        [str(SERVICES)],
        soap_naming="python",
        namespace="https://example.com/ns/{service}",
        soap_headers=[CUSTOM],
    )
    yield from serve(app)


@pytest.fixture(scope="module")
def client() -> Iterator[Callable[..., zeep.Client]]:
    session = requests.Session()
    transport = Transport(session=session, timeout=5, operation_timeout=5)

    def make(wsdl: str, **kw: Any) -> zeep.Client:
        return zeep.Client(wsdl, transport=kw.pop("transport", transport), **kw)

    yield make
    session.close()


def post(
    target: str, body: str | bytes, ctype: str = "application/soap+xml; charset=utf-8"
) -> tuple[int, str, etree._Element]:
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(target, data, {"Content-Type": ctype})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.headers["Content-Type"], etree.fromstring(resp.read())
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.headers["Content-Type"], etree.fromstring(err.read())


def env12(body: str, header: str = "") -> str:
    head = f"<e:Header>{header}</e:Header>" if header else ""
    return f'<e:Envelope xmlns:e="{ENV12}">{head}<e:Body>{body}</e:Body></e:Envelope>'


def qualified(body: str, ns: str) -> str:
    """``body`` with its (first) element in ``ns``: ``soap12`` takes the
    operation element in the service's namespace only (``ns=""``: as it is)."""
    if not body or not ns:
        return body
    name = body[1:].split(">", 1)[0].split()[0].rstrip("/")
    head, _, rest = body.partition(name)
    body = f'{head}o:{name} xmlns:o="{ns}"{rest}'
    start, sep, end = body.rpartition(f"</{name}>")
    return f"{start}</o:{name}>{end}" if sep else body


def env11(body: str, header: str = "") -> str:
    head = f"<e:Header>{header}</e:Header>" if header else ""
    return f'<e:Envelope xmlns:e="{ENV11}">{head}<e:Body>{body}</e:Body></e:Envelope>'


def elements(
    el: etree._Element, path: str, ns: dict[str, str] | None = None
) -> list[etree._Element]:
    """The elements an XPath selects (typed for mypy)."""
    found = el.xpath(path, namespaces=ns or {})
    assert isinstance(found, list)
    return [e for e in found if isinstance(e, etree._Element)]


def fault12(root: etree._Element) -> tuple[str, list[str], str]:
    ns = {"e": ENV12}
    (fault,) = elements(root, "e:Body/e:Fault", ns)
    code = fault.findtext("e:Code/e:Value", namespaces=ns) or ""
    subs = []
    for v in elements(fault, ".//e:Subcode/e:Value", ns):
        value = v.text or ""
        subs.append(etree.QName(value if ":" not in value else _resolve(v, value)).text)
    (text,) = elements(fault, "e:Reason/e:Text", ns)
    assert text.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    return code, subs, text.text or ""


def _resolve(el: etree._Element, qname: str | None) -> str:
    assert qname is not None
    prefix, local = qname.split(":")
    return f"{{{el.nsmap[prefix]}}}{local}"


# -- the WSDL and plain calls ------------------------------------------------------------------


def test_zeep_binds_the_soap12_port(client: Callable[..., zeep.Client], url: str) -> None:
    c = client(f"{url}/Shapes/soap12/description")
    port = c.wsdl.services["Shapes"].ports["ShapesSoap12"]
    assert type(port.binding).__name__ == "Soap12Binding"
    assert port.binding_options["address"] == f"{url}/Shapes/soap12"
    assert c.service.add(40, 2) == 42


def test_every_kind_of_value_through_soap12(client: Callable[..., zeep.Client], url: str) -> None:
    shapes = client(f"{url}/Shapes/soap12/description").service
    assert shapes.shout("hé") == "HÉ!"
    assert shapes.echo("  a &amp; b <c>  ") == "  a &amp; b <c>  "
    assert shapes.negate(True) is False
    assert shapes.half(5) == 2.5
    assert shapes.squares({"item": [1, 2, 3]}) == [1, 4, 9]
    assert shapes.divide(7) == 3  # the default divisor
    p = shapes.mirror({"x": 1, "y": 2})
    assert (p.x, p.y) == (2, 1)
    poly = shapes.echo_polygon(
        {"name": "t", "points": {"item": [{"x": 0, "y": 1}]}, "style": {"dashed": True}}
    )
    assert (poly.name, poly.points.item[0].y, poly.style.color) == ("t", 1, "black")
    ledger = client(f"{url}/Ledger/soap12/description").service
    import datetime
    import decimal

    assert ledger.next_day(datetime.date(2024, 2, 28)) == datetime.date(2024, 2, 29)
    inv = ledger.echo_invoice(
        {
            "number": 7,
            "issued": datetime.date(2024, 1, 2),
            "created": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
            "total": decimal.Decimal("1.10"),
            "note": None,
            "lines": {"item": [{"text": "tea", "amount": decimal.Decimal("1.10")}]},
        }
    )
    assert (inv.number, str(inv.total), inv.paid) == (7, "1.10", False)


def test_the_answer_is_soap12_in_the_service_namespace(url: str) -> None:
    status, ctype, root = post(
        f"{url}/Geometry/soap12",
        env12(qualified("<greet><customer_name>Zoë</customer_name></greet>", GEO)),
    )
    assert status == 200 and ctype == "application/soap+xml; charset=utf-8"
    (resp,) = elements(root, "e:Body/*", {"e": ENV12})
    assert resp.tag == f"{{{GEO}}}greetResponse"
    assert [c.tag for c in resp] == [f"{{{GEO}}}result"]
    assert resp[0].text == "Hello, Zoë."


def test_python_names_and_the_service_namespace_in_zeep(
    client: Callable[..., zeep.Client], url: str
) -> None:
    c = client(f"{url}/Geometry/soap12/description")
    assert c.wsdl.types.get_element(f"{{{GEO}}}greet") is not None
    assert c.service.greet(customer_name="Ann", excited=True) == "Hello, Ann!"
    s = c.service.summarize({"item": [1.5, -2.0, 4.0]}, {"x": 0, "y": 9})
    assert (s.count, s.total, s.all_positive, s.farthest.x, s.farthest.y) == (3, 3.5, False, 4, 9)


def test_ladon10_names_stay_on_soap_and_soap11_by_default(
    client: Callable[..., zeep.Client], url: str
) -> None:
    for iface in ("soap", "soap11"):
        c = client(f"{url}/Geometry/{iface}/description")
        assert c.service.greet(**{"customer-name": "Ann", "excited": False}) == "Hello, Ann."
    wsdl = etree.fromstring(requests.get(f"{url}/Geometry/soap/description", timeout=5).content)
    assert wsdl.get("targetNamespace") == "http://tempuri.org/"


def test_soap_naming_python_gives_soap_and_soap11_python_names(
    client: Callable[..., zeep.Client], python_url: str
) -> None:
    for iface in ("soap", "soap11", "soap12"):
        c = client(f"{python_url}/Geometry/{iface}/description")
        assert c.service.greet(customer_name="Bo", excited=False) == "Hello, Bo."
        s = c.service.summarize({"item": [2.0]}, {"x": 0, "y": 0})
        assert (s.count, s.all_positive) == (1, True)
        wsdl = etree.fromstring(
            requests.get(f"{python_url}/Geometry/{iface}/description", timeout=5).content
        )
        assert wsdl.get("targetNamespace") == GEO
        # a service without ladon_namespace takes the application's default
        shapes = etree.fromstring(
            requests.get(f"{python_url}/Shapes/{iface}/description", timeout=5).content
        )
        assert shapes.get("targetNamespace") == "https://example.com/ns/Shapes"


# -- faults ------------------------------------------------------------------------------------


def test_client_fault_is_a_sender_fault_with_ladon_subcode_and_http_400(
    client: Callable[..., zeep.Client], url: str
) -> None:
    c = client(f"{url}/Geometry/soap12/description")
    with pytest.raises(zeep.exceptions.Fault) as info:
        c.service.refuse("client")
    assert info.value.message == "you asked for it"
    assert info.value.code == "env:Sender"
    assert [q.text for q in info.value.subcodes] == [f"{{{LADON}}}ClientFault"]
    hint = info.value.detail.find(f"{{{LADON}}}hint")
    assert hint is not None and hint.text == "call it with another how"
    status, _, root = post(
        f"{url}/Geometry/soap12", env12(qualified("<refuse><how>client</how></refuse>", GEO))
    )
    assert status == 400
    assert fault12(root) == ("env:Sender", [f"{{{LADON}}}ClientFault"], "you asked for it")


def test_server_fault_is_a_receiver_fault_with_its_detail_and_http_500(
    client: Callable[..., zeep.Client], url: str
) -> None:
    c = client(f"{url}/Geometry/soap12/description")
    with pytest.raises(zeep.exceptions.Fault) as info:
        c.service.refuse("server")
    assert info.value.code == "env:Receiver"
    assert info.value.detail.find(f"{{{LADON}}}detail").text == "the database is away"
    status, _, _ = post(
        f"{url}/Geometry/soap12", env12(qualified("<refuse><how>x</how></refuse>", GEO))
    )
    assert status == 500


def test_unexpected_errors_are_receiver_faults_that_leak_nothing(url: str) -> None:
    req = urllib.request.Request(
        f"{url}/Shapes/soap12",
        env12(qualified("<fail><how>boom</how></fail>", SHAPES)).encode(),
        {"Content-Type": "application/soap+xml"},
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=5)
    body = info.value.read()
    info.value.close()
    assert info.value.code == 500
    code, subs, text = fault12(etree.fromstring(body))
    assert (code, subs, text) == (
        "env:Receiver",
        [f"{{{LADON}}}UnexpectedError"],
        "Internal server error",
    )
    for secret in (b"passwd", b"Traceback", b".py", b"RuntimeError"):
        assert secret not in body


@pytest.mark.parametrize(
    ("body", "subcode", "mentions"),
    [
        ("<add><a>x</a><b>1</b></add>", "ArgumentError", '"a"'),
        ("<add><a>1</a></add>", "ArgumentError", '"b"'),
        ("<nosuch/>", "UnknownMethod", "nosuch"),
        ("", "MalformedRequest", "empty"),
    ],
    ids=["wrong-type", "missing", "unknown-method", "empty-body"],
)
def test_bad_requests_are_sender_faults_naming_the_problem(
    url: str, body: str, subcode: str, mentions: str
) -> None:
    status, _, root = post(f"{url}/Shapes/soap12", env12(qualified(body, SHAPES)))
    code, subs, text = fault12(root)
    assert (status, code, subs) == (400, "env:Sender", [f"{{{LADON}}}{subcode}"])
    assert mentions in text


@pytest.mark.parametrize(
    ("iface", "make", "media"),
    [
        ("soap", env11, "text/xml"),
        ("soap11", env11, "text/xml"),
        ("soap12", env12, "application/soap+xml"),
    ],
)
def test_the_content_type_charset_decodes_an_envelope_without_declaration(
    url: str, iface: str, make: Callable[[str], str], media: str
) -> None:
    # No XML declaration: the charset of the Content-Type says how the
    # bytes are encoded (RFC 7303; Ladon 1.0 read it too).
    ns = SHAPES if iface == "soap12" else ""
    body = make(qualified("<echo><text>café crème</text></echo>", ns)).encode("iso-8859-1")
    status, _, root = post(f"{url}/Shapes/{iface}", body, f"{media}; charset=iso-8859-1")
    assert status == 200, etree.tostring(root)[:600]
    assert [e.text for e in root.iter() if etree.QName(e).localname == "result"] == ["café crème"]
    # a declaration still says it for itself (and the header's UTF-8 is no override)
    declared = b"<?xml version='1.0' encoding='iso-8859-1'?>" + body
    for ctype in (f"{media}; charset=utf-8", media):
        status, _, root = post(f"{url}/Shapes/{iface}", declared, ctype)
        assert status == 200, etree.tostring(root)[:600]
    # US-ASCII is read as UTF-8, its superset: a mislabelled UTF-8 body passes
    utf8 = make(qualified("<echo><text>café</text></echo>", ns)).encode()
    status, _, root = post(f"{url}/Shapes/{iface}", utf8, f"{media}; charset=us-ascii")
    assert status == 200, etree.tostring(root)[:600]


def test_not_xml_is_a_sender_fault(url: str) -> None:
    status, ctype, root = post(f"{url}/Shapes/soap12", "<not xml")
    assert status == 400 and ctype.startswith("application/soap+xml")
    assert fault12(root)[1] == [f"{{{LADON}}}MalformedRequest"]


# -- versions ----------------------------------------------------------------------------------


def test_a_soap11_envelope_on_soap12_gets_a_soap11_version_mismatch_with_upgrade(url: str) -> None:
    status, ctype, root = post(
        f"{url}/Shapes/soap12", env11("<add><a>1</a><b>2</b></add>"), "text/xml; charset=utf-8"
    )
    assert status == 500 and ctype.startswith("text/xml")
    assert root.tag == f"{{{ENV11}}}Envelope"
    assert (
        root.findtext(f"{{{ENV11}}}Body/{{{ENV11}}}Fault/faultcode") == "SOAP-ENV:VersionMismatch"
    )
    (supported,) = root.iterfind(f".//{{{ENV12}}}Upgrade/{{{ENV12}}}SupportedEnvelope")
    assert _resolve(supported, supported.get("qname")) == f"{{{ENV12}}}Envelope"


@pytest.mark.parametrize("iface", ["soap", "soapdocumentliteral", "soap11"])
def test_a_soap12_envelope_on_soap11_interfaces_gets_version_mismatch(url: str, iface: str) -> None:
    status, _, root = post(f"{url}/Shapes/{iface}", env12("<add><a>1</a><b>2</b></add>"))
    assert status == 500
    assert (
        root.findtext(f"{{{ENV11}}}Body/{{{ENV11}}}Fault/faultcode") == "SOAP-ENV:VersionMismatch"
    )


def test_an_unknown_envelope_on_soap12_gets_a_soap12_version_mismatch(url: str) -> None:
    status, _, root = post(
        f"{url}/Shapes/soap12",
        '<e:Envelope xmlns:e="urn:not-soap"><e:Body><add/></e:Body></e:Envelope>',
    )
    assert status == 500
    assert fault12(root)[0] == "env:VersionMismatch"
    assert root.find(f"{{{ENV12}}}Header/{{{ENV12}}}Upgrade") is not None


# -- mustUnderstand ----------------------------------------------------------------------------


def test_an_unknown_must_understand_header_is_a_must_understand_fault(url: str) -> None:
    header = '<t:Ticket xmlns:t="urn:example:headers" e:mustUnderstand="true">1</t:Ticket>'
    status, _, root = post(
        f"{url}/Shapes/soap12", env12(qualified("<add><a>1</a><b>2</b></add>", SHAPES), header)
    )
    assert status == 500
    code, subs, text = fault12(root)
    assert (code, subs) == ("env:MustUnderstand", [])
    assert "{urn:example:headers}Ticket" in text
    (nu,) = root.iterfind(f"{{{ENV12}}}Header/{{{ENV12}}}NotUnderstood")
    assert _resolve(nu, nu.get("qname")) == "{urn:example:headers}Ticket"


@pytest.mark.parametrize(
    "header",
    [
        '<t:Ticket xmlns:t="urn:example:headers">1</t:Ticket>',
        '<t:Ticket xmlns:t="urn:example:headers" e:mustUnderstand="false">1</t:Ticket>',
        '<t:Ticket xmlns:t="urn:example:headers" e:mustUnderstand="true" '
        'e:role="http://www.w3.org/2003/05/soap-envelope/role/none">1</t:Ticket>',
        '<t:Ticket xmlns:t="urn:example:headers" e:mustUnderstand="1" e:role="urn:other-node">1</t:Ticket>',
        '<w:Security xmlns:w="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" e:mustUnderstand="true"/>',
    ],
    ids=["optional", "false", "role-none", "other-role", "wsse-security"],
)
def test_headers_not_for_ladon_to_understand_are_ignored(url: str, header: str) -> None:
    status, _, root = post(
        f"{url}/Shapes/soap12", env12(qualified("<add><a>1</a><b>2</b></add>", SHAPES), header)
    )
    assert status == 200
    assert root.xpath("string(//*[local-name()='result'])") == "3"


def test_the_application_may_understand_more_headers(python_url: str) -> None:
    header = '<t:Ticket xmlns:t="urn:example:headers" e:mustUnderstand="true">1</t:Ticket>'
    add = qualified("<add><a>1</a><b>2</b></add>", "https://example.com/ns/Shapes")
    status, _, _ = post(f"{python_url}/Shapes/soap12", env12(add, header))
    assert status == 200


def test_must_understand_on_soap11(url: str) -> None:
    header = '<t:Ticket xmlns:t="urn:example:headers" e:mustUnderstand="1">1</t:Ticket>'
    status, _, root = post(
        f"{url}/Shapes/soap", env11("<add><a>1</a><b>2</b></add>", header), "text/xml"
    )
    assert status == 500
    assert root.findtext(f"{{{ENV11}}}Body/{{{ENV11}}}Fault/faultcode") == "SOAP-ENV:MustUnderstand"


# -- WS-Addressing -----------------------------------------------------------------------------


class Recorder(Plugin):
    """Keeps the envelopes zeep sends and receives."""

    def __init__(self) -> None:
        self.sent: list[etree._Element] = []
        self.received: list[etree._Element] = []

    def egress(self, envelope: Any, http_headers: Any, operation: Any, binding_options: Any) -> Any:
        self.sent.append(envelope)
        return envelope, http_headers

    def ingress(self, envelope: Any, http_headers: Any, operation: Any) -> Any:
        self.received.append(envelope)
        return envelope, http_headers


def wsa(envelope: etree._Element, name: str) -> list[str]:
    """The texts of the ``wsa:`` header blocks ``name`` (not of elements of
    that name in a fault's details)."""
    return [
        str(e.text)
        for e in envelope.iter(f"{{{WSA}}}{name}")
        if (parent := e.getparent()) is not None and etree.QName(parent).localname == "Header"
    ]


@pytest.mark.parametrize("iface", ["soap", "soap11", "soap12"])
def test_zeep_ws_addressing_plugin_gets_related_answers(
    client: Callable[..., zeep.Client], url: str, iface: str
) -> None:
    rec = Recorder()
    c = client(f"{url}/Geometry/{iface}/description", plugins=[WsAddressingPlugin(), rec])
    arg = "customer_name" if iface == "soap12" else "customer-name"
    assert c.service.greet(**{arg: "Ann", "excited": False}) == "Hello, Ann."
    sent, got = rec.sent[-1], rec.received[-1]
    request_ids = wsa(sent, "MessageID")
    assert request_ids  # zeep sent WS-Addressing headers
    assert wsa(got, "RelatesTo") == [request_ids[0]]
    (action,) = wsa(got, "Action")
    op = next(iter(c.wsdl.bindings.values()))._operations["greet"]
    assert wsa(sent, "Action")[0] == op.abstract.wsa_action
    wsdl = etree.fromstring(requests.get(f"{url}/Geometry/{iface}/description", timeout=5).content)
    found = wsdl.xpath(
        "//*[local-name()='portType']/*[@name='greet']/*[local-name()='output']/@*[local-name()='Action']"
    )
    assert isinstance(found, list)
    (declared,) = found
    assert action == declared
    # faults carry the fault action and relate to the request too
    with pytest.raises(zeep.exceptions.Fault):
        c.service.refuse("client")
    assert wsa(rec.received[-1], "Action") == [f"{WSA}/soap/fault"]
    assert wsa(rec.received[-1], "RelatesTo") == [wsa(rec.sent[-1], "MessageID")[0]]


def test_the_wsdl_declares_actions_and_addressing(url: str) -> None:
    wsdl = etree.fromstring(requests.get(f"{url}/Geometry/soap12/description", timeout=5).content)
    ns = {
        "w": "http://schemas.xmlsoap.org/wsdl/",
        "wsam": "http://www.w3.org/2007/05/addressing/metadata",
    }
    (inp,) = elements(wsdl, "w:portType/w:operation[@name='greet']/w:input", ns)
    assert (
        inp.get(f"{{{ns['wsam']}}}Action") == "urn:example:geometry:GeometryPortType:greetRequest"
    )
    assert wsdl.xpath("w:binding/*[local-name()='UsingAddressing']", namespaces=ns)


def wsa_header(action: str, extra: str = "") -> str:
    return (
        f'<a:Action xmlns:a="{WSA}">{action}</a:Action>'
        f'<a:MessageID xmlns:a="{WSA}">urn:uuid:{uuid.uuid4()}</a:MessageID>{extra}'
    )


def test_a_wrong_action_is_action_not_supported(url: str) -> None:
    status, _, root = post(
        f"{url}/Geometry/soap12",
        env12(
            qualified("<greet><customer_name>x</customer_name></greet>", GEO),
            wsa_header("urn:wrong"),
        ),
    )
    assert status == 400
    assert fault12(root)[:2] == ("env:Sender", [f"{{{WSA}}}ActionNotSupported"])
    assert wsa(root, "Action") == [f"{WSA}/fault"]
    problem = f"{{{WSA}}}ProblemAction/{{{WSA}}}Action"
    assert root.findtext(f".//{{{ENV12}}}Detail/{problem}") == "urn:wrong"
    status, _, root = post(
        f"{url}/Geometry/soap",
        env11("<greet><customer-name>x</customer-name></greet>", wsa_header("urn:wrong")),
        "text/xml",
    )
    assert status == 500
    code = root.find(f".//{{{ENV11}}}Fault/faultcode")
    assert code is not None and _resolve(code, code.text or "") == f"{{{WSA}}}ActionNotSupported"
    assert root.findtext(f"{{{ENV11}}}Header/{{{WSA}}}FaultDetail/{problem}") == "urn:wrong"


def test_a_reply_address_elsewhere_is_refused(url: str) -> None:
    reply = (
        f'<a:ReplyTo xmlns:a="{WSA}"><a:Address>http://elsewhere.invalid/</a:Address></a:ReplyTo>'
    )
    action = "urn:example:geometry:GeometryPortType:greetRequest"
    status, _, root = post(
        f"{url}/Geometry/soap12",
        env12(
            qualified("<greet><customer_name>x</customer_name></greet>", GEO),
            wsa_header(action, reply),
        ),
    )
    assert status == 400
    # WS-Addressing 1.0 SOAP binding 6.4.1: a subsubcode of InvalidAddressingHeader
    assert fault12(root)[:2] == (
        "env:Sender",
        [f"{{{WSA}}}InvalidAddressingHeader", f"{{{WSA}}}OnlyAnonymousAddressSupported"],
    )
    detail = root.findtext(f".//{{{ENV12}}}Detail/{{{WSA}}}ProblemHeaderQName")
    assert detail == "wsa:ReplyTo"


class ReplyElsewhere(Plugin):
    """Adds a ``wsa:ReplyTo`` other than the anonymous address to the
    WS-Addressing headers zeep's ``WsAddressingPlugin`` wrote."""

    def egress(self, envelope: Any, http_headers: Any, operation: Any, binding_options: Any) -> Any:
        (header,) = elements(envelope, "*[local-name()='Header']")
        reply = etree.SubElement(header, f"{{{WSA}}}ReplyTo")
        etree.SubElement(reply, f"{{{WSA}}}Address").text = "http://elsewhere.invalid/replies"
        return envelope, http_headers


@pytest.mark.parametrize("iface", ["soap", "soap12"])
def test_zeep_reads_only_anonymous_address_supported_as_the_spec_nests_it(
    client: Callable[..., zeep.Client], url: str, iface: str
) -> None:
    rec = Recorder()
    plugins = [WsAddressingPlugin(), ReplyElsewhere(), rec]
    c = client(f"{url}/Geometry/{iface}/description", plugins=plugins)
    arg = "customer_name" if iface == "soap12" else "customer-name"
    with pytest.raises(zeep.exceptions.Fault) as info:
        c.service.greet(**{arg: "Ann", "excited": False})
    got = info.value
    assert "wsa:ReplyTo" in got.message and "anonymous" in got.message
    answer = rec.received[-1]
    assert wsa(answer, "RelatesTo") == [wsa(rec.sent[-1], "MessageID")[0]]
    if iface == "soap12":
        # WS-Addressing 1.0 SOAP binding 6.4.1: S:Sender / wsa:InvalidAddressingHeader /
        # wsa:OnlyAnonymousAddressSupported, [Details] wsa:ProblemHeaderQName
        assert got.code == "env:Sender"
        assert got.subcodes == [
            etree.QName(WSA, "InvalidAddressingHeader"),
            etree.QName(WSA, "OnlyAnonymousAddressSupported"),
        ]
        assert got.detail is not None
        (problem,) = got.detail.iterfind(f"{{{WSA}}}ProblemHeaderQName")
    else:
        # SOAP 1.1 (binding section 6): the most specific code is the faultcode,
        # the [Details] a wsa:FaultDetail header block
        (faultcode,) = elements(answer, "//faultcode")
        assert _resolve(faultcode, faultcode.text) == f"{{{WSA}}}OnlyAnonymousAddressSupported"
        (problem,) = elements(answer, "//*[local-name()='FaultDetail']/*")
    assert _resolve(problem, problem.text) == f"{{{WSA}}}ReplyTo"


class ReplyWithReferenceParameters(Plugin):
    """Adds an anonymous ``wsa:ReplyTo`` with a reference parameter to the
    WS-Addressing headers zeep's ``WsAddressingPlugin`` wrote."""

    def egress(self, envelope: Any, http_headers: Any, operation: Any, binding_options: Any) -> Any:
        (header,) = elements(envelope, "*[local-name()='Header']")
        reply = etree.SubElement(header, f"{{{WSA}}}ReplyTo")
        etree.SubElement(reply, f"{{{WSA}}}Address").text = f"{WSA}/anonymous"
        params = etree.SubElement(reply, f"{{{WSA}}}ReferenceParameters")
        corr = etree.SubElement(params, "{urn:x}Corr", {"kind": "a&b"}, nsmap={"x": "urn:x"})
        corr.text = "42"
        return envelope, http_headers


@pytest.mark.parametrize("iface", ["soap", "soap11", "soap12"])
def test_zeep_gets_the_reply_to_reference_parameters_back_as_header_blocks(
    client: Callable[..., zeep.Client], url: str, iface: str
) -> None:
    # WS-Addressing 1.0 Core 3.4, SOAP binding 2.3: each reference parameter
    # of [reply endpoint] is a header block of the reply, marked
    # wsa:IsReferenceParameter="true"
    rec = Recorder()
    plugins = [WsAddressingPlugin(), ReplyWithReferenceParameters(), rec]
    c = client(f"{url}/Geometry/{iface}/description", plugins=plugins)
    arg = "customer_name" if iface == "soap12" else "customer-name"
    assert c.service.greet(**{arg: "Ann", "excited": False}) == "Hello, Ann."
    answer = rec.received[-1]
    (corr,) = elements(
        answer, "*[local-name()='Header']/*[@wsa:IsReferenceParameter]", {"wsa": WSA}
    )
    assert (corr.tag, corr.text, corr.get("kind")) == ("{urn:x}Corr", "42", "a&b")
    assert corr.get(f"{{{WSA}}}IsReferenceParameter") == "true"
    assert wsa(answer, "RelatesTo") == [wsa(rec.sent[-1], "MessageID")[0]]


# -- tasks -------------------------------------------------------------------------------------


def test_a_task_runs_to_its_result_over_soap12(
    client: Callable[..., zeep.Client], url: str
) -> None:
    geo = client(f"{url}/Geometry/soap12/description").service
    task_id = geo.count_to(4)
    assert isinstance(task_id, str) and len(task_id) >= 32  # TaskInfoResponse.task_id
    import time

    deadline = time.monotonic() + 10
    while True:
        progress = geo.count_to_progress(task_id)
        if progress.state == "succeeded" or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert (progress.task_id, progress.state, progress.progress) == (task_id, "succeeded", 1.0)
    result = geo.count_to_result(task_id)
    assert (result.count, result.total, result.all_positive) == (4, 10.0, True)
    assert geo.count_to_cancel(task_id).state == "succeeded"
    with pytest.raises(zeep.exceptions.Fault) as info:
        geo.count_to_result("no-such-task")
    assert info.value.code == "env:Sender"


# -- attachments -------------------------------------------------------------------------------

BOUNDARY = "mtomBoundary"


class MTOMTransport(Transport):
    """Posts every envelope as an MTOM/XOP package (SOAP 1.2), the way Java
    and .NET stacks send attachments; ``files`` become extra parts."""

    files: dict[str, bytes] = {}

    def post(self, address: str, message: bytes, headers: dict[str, str]) -> requests.Response:
        parts = [
            f"--{BOUNDARY}\r\nContent-Type: application/xop+xml; charset=UTF-8; "
            'type="application/soap+xml"\r\nContent-ID: <root>\r\n\r\n'.encode(),
            message,
            b"\r\n",
        ]
        for cid, data in self.files.items():
            parts += [
                f"--{BOUNDARY}\r\nContent-Type: application/octet-stream\r\n"
                f"Content-ID: <{cid}>\r\n\r\n".encode(),
                data,
                b"\r\n",
            ]
        parts.append(f"--{BOUNDARY}--\r\n".encode())
        headers = dict(headers)
        headers["Content-Type"] = (
            'multipart/related; type="application/xop+xml"; start="<root>"; '
            f'start-info="application/soap+xml"; boundary={BOUNDARY}'
        )
        response = super().post(address, b"".join(parts), headers)  # type: ignore[no-untyped-call]
        return cast(requests.Response, response)


def test_attachments_inline_through_zeep(client: Callable[..., zeep.Client], url: str) -> None:
    files = client(f"{url}/Files/soap12/description").service
    data = bytes(range(256)) * 20
    assert files.digest(data) == hashlib.sha256(data).hexdigest()
    assert files.make("ab", 2) == b"abab"


def test_mtom_packages_both_ways(client: Callable[..., zeep.Client], url: str) -> None:
    c = client(f"{url}/Files/soap12/description", transport=MTOMTransport())  # type: ignore[no-untyped-call]
    # an XOP request gets an XOP package back, which zeep decodes
    assert c.service.make("xy", 2) == b"xyxy"
    assert c.service.make_many(2) == [b"part 0", b"part 1"]
    data = b"\x00binary\r\n--x\r\n" * 500
    body = f'<digest xmlns:xop="{XOP}"><data><xop:Include href="cid:file1"/></data></digest>'
    body = qualified(body, "urn:Files")
    MTOMTransport.files = {"file1": data}
    try:
        resp = MTOMTransport().post(  # type: ignore[no-untyped-call]
            f"{url}/Files/soap12", env12(body).encode(), {"Content-Type": "application/soap+xml"}
        )
    finally:
        MTOMTransport.files = {}
    assert resp.status_code == 200, resp.text[:500]
    # the answer to an XOP request is an XOP package, its root part the envelope
    root, parts = xop_answer(resp.headers["Content-Type"], resp.content)
    assert root.xpath("string(//*[local-name()='result'])") == hashlib.sha256(data).hexdigest()
    assert parts == {}


# -- every example service ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def examples_url() -> Iterator[str]:
    import importlib.util
    import sys

    examples = Path(__file__).resolve().parents[2] / "examples"
    modules = []
    for name in ("calculator", "tasks", "attachments", "templates"):
        qualified = f"_ladon_soap12_example_{name}"
        module = sys.modules.get(qualified)
        if module is None:
            spec = importlib.util.spec_from_file_location(qualified, examples / f"{name}.py")
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[qualified] = module
            spec.loader.exec_module(module)
        modules.append(module)
    yield from serve(LadonWSGIApplication(modules))


@pytest.mark.parametrize("iface", ["soap", "soap11", "soap12"])
def test_zeep_loads_every_example_wsdl(
    client: Callable[..., zeep.Client], examples_url: str, iface: str
) -> None:
    services = ["Calculator", "TaskService", "InstanceService", "Files", "Service1", "ServiceN"]
    for name in services:
        c = client(f"{examples_url}/{name}/{iface}/description")
        assert c.wsdl.services[name].ports
    calc = client(f"{examples_url}/Calculator/{iface}/description").service
    assert calc.add(2, 40) == 42
    stats = calc.statistics({"item": [{"label": "a", "value": 1.0}, {"label": "b", "value": 3.0}]})
    assert (stats.count, stats.total, stats.largest.label) == (2, 4.0, "b")
