"""SOAP envelopes on the wire, beside the Body's method call: the action of
a SOAP 1.2 request's media type, WS-Addressing faults, fault codes of the
two SOAP versions, envelope structure, charsets, base64 attachments, MTOM
packages and the MIME binding of the WSDLs.

Every refusal is the interface's own fault (HTTP 500 ``SOAP-ENV:Client`` on
SOAP 1.1, 400 ``env:Sender`` on SOAP 1.2) with a message naming the problem.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from lxml import etree
from werkzeug.test import Client

from ladon.exceptions.service import ClientFault
from ladon.ladonizer import ladonize
from ladon.server.wsgi import LadonWSGIApplication
from ladon.types.attachment import attachment
from ladon.wire.multipart import close_parts
from ladon.wire.multipart import read_multipart

ENV11 = "http://schemas.xmlsoap.org/soap/envelope/"
ENV12 = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
XOP = "http://www.w3.org/2004/08/xop/include"
LADON = "urn:ladon:faults"
NS = "urn:example:vault"
WSA_FAULT = f"{WSA}/soap/fault"
#: WS-Addressing's own faults carry its own action (SOAP binding, section 6)
WSA_OWN_FAULT = f"{WSA}/fault"
BOUNDARY = "envelopeTestBoundary"
SOAP_IFACES = ["soap", "soap11", "soap12"]


class Quota(ClientFault):
    """A service's own fault, with its own SOAP 1.2 subcode."""

    soap_subcode = "{urn:mine}Quota"


class Vault:
    """Files and greetings, in urn:example:vault."""

    ladon_namespace = NS

    @ladonize()
    def greet(self, name: str) -> str:
        return f"Hello, {name}."

    @ladonize()
    def count(self, text: str) -> int:
        return len(text)

    @ladonize()
    def store(self, data: attachment) -> str:
        content = data.read()
        if len(content) > 16:
            raise Quota("The vault takes 16 bytes at most")
        return hashlib.sha256(content).hexdigest()

    @ladonize()
    def fetch(self, text: str) -> attachment:
        data = text.encode()
        return attachment(io.BytesIO(data), len(data), {"Content-Type": "text/plain"})


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    app = LadonWSGIApplication([Vault])
    yield Client(app)
    app.close()


def action_of(method: str) -> str:
    """The input action of a Vault method (WS-Addressing's default pattern)."""
    return f"{NS}:VaultPortType:{method}Request"


def envelope(iface: str, body: str, header: str = "", after: str = "") -> bytes:
    env = ENV12 if iface == "soap12" else ENV11
    head = f"<e:Header>{header}</e:Header>" if header else ""
    return (
        f'<e:Envelope xmlns:e="{env}">{head}<e:Body>{body}</e:Body>{after}</e:Envelope>'
    ).encode()


def greet(iface: str, name: str = "Ann") -> str:
    if iface == "soap12":
        return f'<greet xmlns="{NS}"><name>{name}</name></greet>'
    return f'<greet xmlns="http://tempuri.org/"><name>{name}</name></greet>'


@dataclass
class Reply:
    """What the application answered."""

    status_code: int
    content_type: str
    data: bytes

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")


def post(
    client: Client, iface: str, body: bytes, ctype: str | None = None, path: str = "Vault"
) -> Reply:
    if ctype is None:
        ctype = "application/soap+xml; charset=utf-8" if iface == "soap12" else "text/xml"
    resp = client.post(f"/{path}/{iface}", data=body, headers={"Content-Type": ctype})
    try:
        return Reply(resp.status_code, resp.content_type, resp.get_data())
    finally:
        resp.close()


def wsa_header(action: str, message_id: str = "", extra: str = "") -> str:
    mid = f'<a:MessageID xmlns:a="{WSA}">{message_id}</a:MessageID>' if message_id else ""
    act = f'<a:Action xmlns:a="{WSA}">{action}</a:Action>' if action else ""
    return act + mid + extra


def resolve(el: etree._Element, qname: str) -> str:
    prefix, _, name = qname.rpartition(":")
    return f"{{{el.nsmap[prefix]}}}{name}" if prefix else qname


def fault(resp: Reply, iface: str) -> tuple[str, list[str], str]:
    """(code, SOAP 1.2 subcodes outermost first, message) of a fault answer,
    checking its HTTP status and that it leaks nothing."""
    text = resp.text
    assert "Traceback" not in text and ".py" not in text
    root = etree.fromstring(resp.data)
    if iface != "soap12":
        assert resp.status_code == 500, text[:300]
        (faultcode,) = root.iterfind(f"{{{ENV11}}}Body/{{{ENV11}}}Fault/faultcode")
        string = root.findtext(f"{{{ENV11}}}Body/{{{ENV11}}}Fault/faultstring") or ""
        return resolve(faultcode, faultcode.text or ""), [], string
    ns = {"e": ENV12}
    (f,) = root.iterfind("e:Body/e:Fault", ns)
    (value,) = f.iterfind("e:Code/e:Value", ns)
    subcodes = []
    sub = f.find("e:Code/e:Subcode", ns)
    while sub is not None:
        v = sub.find("e:Value", ns)
        assert v is not None
        subcodes.append(resolve(v, v.text or ""))
        sub = sub.find("e:Subcode", ns)
    code = resolve(value, value.text or "")
    assert resp.status_code == (400 if code == f"{{{ENV12}}}Sender" else 500), text[:300]
    return code, subcodes, f.findtext("e:Reason/e:Text", namespaces=ns) or ""


def wsa_values(resp: Reply, name: str) -> list[str]:
    root = etree.fromstring(resp.data)
    return [str(e.text) for e in root.iter(f"{{{WSA}}}{name}")]


def problem_headers(resp: Reply, iface: str) -> list[str]:
    """The ``wsa:ProblemHeaderQName`` [Details] of a WS-Addressing fault,
    resolved: in ``env:Detail`` on SOAP 1.2, in a ``wsa:FaultDetail`` header
    block on SOAP 1.1 (WS-Addressing 1.0 SOAP binding, section 6)."""
    root = etree.fromstring(resp.data)
    if iface == "soap12":
        path = f"{{{ENV12}}}Body/{{{ENV12}}}Fault/{{{ENV12}}}Detail/{{{WSA}}}ProblemHeaderQName"
    else:
        path = f"{{{ENV11}}}Header/{{{WSA}}}FaultDetail/{{{WSA}}}ProblemHeaderQName"
    return [resolve(e, (e.text or "").strip()) for e in root.iterfind(path)]


def result(resp: Reply) -> str:
    assert resp.status_code == 200, resp.text[:500]
    return str(etree.fromstring(resp.data).xpath("string(//*[local-name()='result'])"))


CLIENT11 = f"{{{ENV11}}}Client"
SENDER = f"{{{ENV12}}}Sender"


def client_code(iface: str) -> str:
    return SENDER if iface == "soap12" else CLIENT11


# -- 1. the action parameter of application/soap+xml ---------------------------------------


@pytest.mark.parametrize(
    "ctype",
    [
        'application/soap+xml; charset=utf-8; action="{action}"',
        "application/soap+xml;action={action};charset=utf-8",
        'application/soap+xml; charset=utf-8; action=""',
        "application/soap+xml; charset=utf-8",
        'application/soap+xml; charset=utf-8; action="urn:no-operation-declares-it"',
    ],
    ids=["quoted", "token", "empty", "none", "unknown-action"],
)
def test_a_matching_or_absent_action_parameter_changes_nothing(client: Client, ctype: str) -> None:
    ctype = ctype.format(action=action_of("greet"))
    assert result(post(client, "soap12", envelope("soap12", greet("soap12")), ctype)) == (
        "Hello, Ann."
    )


def test_an_action_parameter_equal_to_wsa_action_works(client: Client) -> None:
    action = action_of("greet")
    body = envelope("soap12", greet("soap12"), wsa_header(action, "urn:uuid:1"))
    resp = post(client, "soap12", body, f'application/soap+xml; action="{action}"')
    assert result(resp) == "Hello, Ann."
    assert wsa_values(resp, "RelatesTo") == ["urn:uuid:1"]


def test_an_action_parameter_other_than_wsa_action_is_action_mismatch(client: Client) -> None:
    message_id = f"urn:uuid:{uuid.uuid4()}"
    body = envelope("soap12", greet("soap12"), wsa_header(action_of("greet"), message_id))
    resp = post(client, "soap12", body, 'application/soap+xml; action="urn:something:else"')
    code, subcodes, message = fault(resp, "soap12")
    # WS-Addressing 1.0 SOAP binding 6.4.1
    assert (code, subcodes) == (
        SENDER,
        [f"{{{WSA}}}InvalidAddressingHeader", f"{{{WSA}}}ActionMismatch"],
    )
    assert "urn:something:else" in message and "wsa:Action" in message
    assert problem_headers(resp, "soap12") == [f"{{{WSA}}}Action"]
    assert wsa_values(resp, "Action") == [WSA_OWN_FAULT]
    assert wsa_values(resp, "RelatesTo") == [message_id]


def test_an_action_parameter_naming_another_operation_is_a_sender_fault(client: Client) -> None:
    ctype = f'application/soap+xml; charset=utf-8; action="{action_of("count")}"'
    code, subcodes, message = fault(
        post(client, "soap12", envelope("soap12", greet("soap12")), ctype), "soap12"
    )
    assert (code, subcodes) == (SENDER, [f"{{{LADON}}}OperationMismatch"])
    assert "count" in message and "greet" in message


def test_the_action_of_an_mtom_root_part_is_read_too(client: Client) -> None:
    # WCF: the root part names the SOAP media type, and its action, in ``type``
    root_type = (
        'application/xop+xml; charset=utf-8; type="application/soap+xml; '
        f'action=\\"{action_of("count")}\\""'
    )
    resp = post_xop(client, envelope("soap12", greet("soap12")), root_type)
    code, subcodes, message = fault(xop_root(resp)[0], "soap12")
    assert subcodes == [f"{{{LADON}}}OperationMismatch"] and "count" in message


@pytest.mark.parametrize("iface", ["soap", "soap11"])
def test_soap11_reads_no_action_parameter(client: Client, iface: str) -> None:
    ctype = f'text/xml; action="{action_of("count")}"'
    assert result(post(client, iface, envelope(iface, greet(iface)), ctype)) == "Hello, Ann."


# -- 2. WS-Addressing faults found while reading the headers -----------------------------


REPLY_ELSEWHERE = (
    f'<a:ReplyTo xmlns:a="{WSA}"><a:Address>http://elsewhere.invalid/</a:Address></a:ReplyTo>'
)


FAULT_TO_ELSEWHERE = (
    f'<a:FaultTo xmlns:a="{WSA}"><a:Address>http://elsewhere.invalid/</a:Address></a:FaultTo>'
)
INVALID_HEADER = f"{{{WSA}}}InvalidAddressingHeader"
ONLY_ANONYMOUS = f"{{{WSA}}}OnlyAnonymousAddressSupported"


@pytest.mark.parametrize("iface", SOAP_IFACES)
@pytest.mark.parametrize(
    ("header", "codes", "problem"),
    [
        # the MessageID comes after the block at fault: it is related to all the same
        (
            REPLY_ELSEWHERE + wsa_header(action_of("greet"), "{mid}"),
            [INVALID_HEADER, ONLY_ANONYMOUS],
            "ReplyTo",
        ),
        (
            wsa_header(action_of("greet"), "{mid}", FAULT_TO_ELSEWHERE),
            [INVALID_HEADER, ONLY_ANONYMOUS],
            "FaultTo",
        ),
        (wsa_header("", "{mid}"), [f"{{{WSA}}}MessageAddressingHeaderRequired"], "Action"),
    ],
    ids=["reply-elsewhere", "fault-elsewhere", "no-action"],
)
def test_addressing_faults_carry_the_fault_action_and_relate_to_the_request(
    client: Client, iface: str, header: str, codes: list[str], problem: str
) -> None:
    message_id = f"urn:uuid:{uuid.uuid4()}"
    body = envelope(iface, greet(iface), header.replace("{mid}", message_id))
    resp = post(client, iface, body)
    code, subcodes, _ = fault(resp, iface)
    # WS-Addressing 1.0 SOAP binding 6 and 6.4: SOAP 1.2 nests the subsubcode
    # under wsa:InvalidAddressingHeader; SOAP 1.1 has no subcodes, its
    # faultcode is the most specific code
    if iface == "soap12":
        assert (code, subcodes) == (SENDER, codes)
    else:
        assert code == codes[-1]
    assert problem_headers(resp, iface) == [f"{{{WSA}}}{problem}"]
    assert wsa_values(resp, "Action") == [WSA_OWN_FAULT]
    assert wsa_values(resp, "RelatesTo") == [message_id]


def test_an_addressing_fault_without_message_id_relates_to_nothing(client: Client) -> None:
    resp = post(client, "soap12", envelope("soap12", greet("soap12"), REPLY_ELSEWHERE))
    assert fault(resp, "soap12")[1] == [INVALID_HEADER, ONLY_ANONYMOUS]
    assert wsa_values(resp, "Action") == [WSA_OWN_FAULT]
    assert wsa_values(resp, "RelatesTo") == []


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_only_anonymous_is_one_fault_with_its_details_once(client: Client, iface: str) -> None:
    # the Detail (SOAP 1.2) or the wsa:FaultDetail header (SOAP 1.1) holds
    # the problem header alone, and SOAP 1.1's detail stays the Body's
    body = envelope(iface, greet(iface), REPLY_ELSEWHERE + FAULT_TO_ELSEWHERE)
    resp = post(client, iface, body)
    code, subcodes, message = fault(resp, iface)
    assert "wsa:ReplyTo" in message and "anonymous" in message
    assert problem_headers(resp, iface) == [f"{{{WSA}}}ReplyTo"]
    root = etree.fromstring(resp.data)
    if iface == "soap12":
        (detail,) = root.iterfind(f".//{{{ENV12}}}Detail")
        assert [c.tag for c in detail] == [f"{{{WSA}}}ProblemHeaderQName"]
    else:
        assert root.find(f".//{{{ENV11}}}Fault/detail") is None
        assert code == ONLY_ANONYMOUS


# -- 3. a service's own soap_subcode ---------------------------------------------------------


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_a_service_subcode_is_soap12s_alone(client: Client, iface: str) -> None:
    body = f'<store xmlns="{NS if iface == "soap12" else "http://tempuri.org/"}"><data>'
    body += "QUFBQUFBQUFBQUFBQUFBQUFBQUFB</data></store>"  # 20 bytes
    code, subcodes, message = fault(post(client, iface, envelope(iface, body)), iface)
    assert "16 bytes at most" in message
    if iface == "soap12":
        assert (code, subcodes) == (SENDER, ["{urn:mine}Quota"])
    else:  # SOAP 1.1 has no subcodes: the faultcode stays SOAP-ENV:Client
        assert code == CLIENT11


# -- 4. envelope structure ---------------------------------------------------------------------


@pytest.mark.parametrize("iface", SOAP_IFACES)
@pytest.mark.parametrize("with_header", [False, True], ids=["plain", "with-header"])
def test_two_bodies_are_refused(client: Client, iface: str, with_header: bool) -> None:
    env = ENV12 if iface == "soap12" else ENV11
    header = wsa_header(action_of("greet"), "urn:uuid:2") if with_header else ""
    second = f'<e:Body xmlns:e="{env}">{greet(iface, "Eve")}</e:Body>'
    code, _, message = fault(
        post(client, iface, envelope(iface, greet(iface), header, second)), iface
    )
    assert code == client_code(iface) and "more than one Body" in message


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_two_headers_are_refused(client: Client, iface: str) -> None:
    env = ENV12 if iface == "soap12" else ENV11
    body = (
        f'<e:Envelope xmlns:e="{env}"><e:Header/><e:Header><x:y xmlns:x="urn:x"/></e:Header>'
        f"<e:Body>{greet(iface)}</e:Body></e:Envelope>"
    ).encode()
    code, _, message = fault(post(client, iface, body), iface)
    assert code == client_code(iface) and "more than one Header" in message


@pytest.mark.parametrize(
    "after",
    ['<x:trailer xmlns:x="urn:x"/>', f'<e:Header xmlns:e="{ENV12}"/>'],
    ids=["element", "header"],
)
def test_soap12_refuses_elements_after_the_body(client: Client, after: str) -> None:
    code, _, message = fault(
        post(client, "soap12", envelope("soap12", greet("soap12"), after=after)), "soap12"
    )
    assert code == SENDER and ("after the Body" in message or "before the Body" in message)


def test_soap12_refuses_other_elements_before_the_body(client: Client) -> None:
    body = (
        f'<e:Envelope xmlns:e="{ENV12}"><x:extra xmlns:x="urn:x"/>'
        f"<e:Body>{greet('soap12')}</e:Body></e:Envelope>"
    ).encode()
    code, _, message = fault(post(client, "soap12", body), "soap12")
    assert code == SENDER and "{urn:x}extra" in message


@pytest.mark.parametrize("iface", ["soap", "soap11"])
def test_soap11_keeps_elements_after_the_body(client: Client, iface: str) -> None:
    body = envelope(iface, greet(iface), after='<x:trailer xmlns:x="urn:x"/>')
    assert result(post(client, iface, body)) == "Hello, Ann."


@pytest.mark.parametrize("value", ["yes", "TRUE", "2", ""])
def test_soap12_must_understand_must_be_a_boolean(client: Client, value: str) -> None:
    header = f'<t:Ticket xmlns:t="urn:x" xmlns:e="{ENV12}" e:mustUnderstand="{value}">1</t:Ticket>'
    code, _, message = fault(
        post(client, "soap12", envelope("soap12", greet("soap12"), header)), "soap12"
    )
    assert code == SENDER and "mustUnderstand" in message and "xs:boolean" in message


@pytest.mark.parametrize("value", [" false ", "0"])
def test_soap12_must_understand_false_is_fine(client: Client, value: str) -> None:
    header = f'<t:Ticket xmlns:t="urn:x" xmlns:e="{ENV12}" e:mustUnderstand="{value}">1</t:Ticket>'
    assert (
        result(post(client, "soap12", envelope("soap12", greet("soap12"), header))) == "Hello, Ann."
    )


def test_soap11_must_understand_stays_lenient(client: Client) -> None:
    header = f'<t:Ticket xmlns:t="urn:x" xmlns:e="{ENV11}" e:mustUnderstand="yes">1</t:Ticket>'
    assert result(post(client, "soap", envelope("soap", greet("soap"), header))) == "Hello, Ann."


# -- 5. charsets -------------------------------------------------------------------------------


@pytest.mark.parametrize("media", ["application/soap+xml", "text/xml"])
@pytest.mark.parametrize("charset", ["x-bogus", '"x-bogus"', "zlib"])
def test_soap12_refuses_an_unknown_charset(client: Client, media: str, charset: str) -> None:
    resp = post(
        client, "soap12", envelope("soap12", greet("soap12")), f"{media}; charset={charset}"
    )
    code, subcodes, message = fault(resp, "soap12")
    assert (code, subcodes) == (SENDER, [f"{{{LADON}}}MalformedRequest"])
    assert charset.strip('"') in message and "charset" in message


def test_soap12_reads_known_charsets(client: Client) -> None:
    body = envelope("soap12", greet("soap12", "Zoë")).decode().encode("iso-8859-1")
    resp = post(client, "soap12", body, "application/soap+xml; charset=ISO-8859-1")
    assert result(resp) == "Hello, Zoë."


@pytest.mark.parametrize("iface", ["soap", "soap11"])
def test_soap11_keeps_reading_an_unknown_charset_as_its_document_says(
    client: Client, iface: str
) -> None:
    resp = post(client, iface, envelope(iface, greet(iface)), "text/xml; charset=x-bogus")
    assert result(resp) == "Hello, Ann."


@pytest.mark.parametrize("iface", SOAP_IFACES)
@pytest.mark.parametrize("charset", ["undefined"])
def test_a_charset_that_decodes_nothing_is_the_clients_fault(
    client: Client, iface: str, charset: str
) -> None:
    resp = post(client, iface, envelope(iface, greet(iface)), f"text/xml; charset={charset}")
    code, _, message = fault(resp, iface)
    assert code == client_code(iface) and charset in message


# -- 6. base64 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_bad_base64_says_neither_base64_nor_reference(client: Client, iface: str) -> None:
    body = f'<store xmlns="{NS if iface == "soap12" else "http://tempuri.org/"}"><data>'
    body += "!!!notbase64</data></store>"
    code, _, message = fault(post(client, iface, envelope(iface, body)), iface)
    assert code == client_code(iface)
    assert '"data"' in message and "neither valid base64" in message
    assert "attachment reference" in message and "!!!notbase64" in message


@pytest.mark.parametrize("iface", ["soap", "soap12"])
def test_good_base64_and_references_still_work(client: Client, iface: str) -> None:
    ns = NS if iface == "soap12" else "http://tempuri.org/"
    body = envelope(iface, f'<store xmlns="{ns}"><data> QUJD\n </data></store>')
    assert result(post(client, iface, body)) == hashlib.sha256(b"ABC").hexdigest()
    for ref in ("cidx:0", " CID:f1 "):
        env = envelope(iface, f'<store xmlns="{ns}"><data>{ref}</data></store>')
        resp = post_xop(client, env, root_type(iface), [("<f1>", b"xyz")])
        assert result(xop_root(resp)[0]) == hashlib.sha256(b"xyz").hexdigest()


# -- 7. MTOM/XOP answers and the MIME binding ----------------------------------------------


def root_type(iface: str) -> str:
    media = "application/soap+xml" if iface == "soap12" else "text/xml"
    return f'application/xop+xml; charset=utf-8; type="{media}"'


def post_xop(
    client: Client,
    env: bytes,
    root: str,
    files: list[tuple[str, bytes]] = [],  # noqa: B006 - never changed
    iface: str = "soap12",
    related_type: str = "application/xop+xml",
) -> Reply:
    parts = [
        f"--{BOUNDARY}\r\nContent-Type: {root}\r\nContent-ID: <root>\r\n\r\n".encode(),
        env,
        b"\r\n",
    ]
    for cid, data in files:
        parts += [
            f"--{BOUNDARY}\r\nContent-Type: application/octet-stream\r\nContent-ID: {cid}\r\n\r\n".encode(),
            data,
            b"\r\n",
        ]
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    ctype = f'multipart/related; type="{related_type}"; start="<root>"; boundary={BOUNDARY}'
    if "soap+xml" in root:
        iface = "soap12"
    elif iface == "soap12":
        iface = "soap"
    return post(client, iface, b"".join(parts), ctype)


def xop_root(resp: Reply) -> tuple[Reply, dict[str, bytes]]:
    """The root part of an XOP answer, as a response of its own, and the
    other parts by Content-ID."""
    ctype = resp.content_type
    assert ctype.startswith("multipart/related;") and 'type="application/xop+xml"' in ctype, ctype
    boundary = ctype.split("boundary=")[1].split(";")[0].encode()
    parts = read_multipart(io.BytesIO(resp.data).read, boundary)
    try:
        assert parts[0].content_type.startswith("application/xop+xml")
        root = Reply(resp.status_code, parts[0].content_type, parts[0].file.read())
        return root, {p.headers["content-id"]: p.file.read() for p in parts[1:]}
    finally:
        close_parts(parts)


@pytest.mark.parametrize("iface", ["soap", "soap12"])
def test_the_answer_to_an_xop_request_is_an_xop_package_without_attachments(
    client: Client, iface: str
) -> None:
    ns = NS if iface == "soap12" else "http://tempuri.org/"
    env = envelope(
        iface,
        f'<store xmlns="{ns}" xmlns:xop="{XOP}"><data><xop:Include href="cid:f1"/></data></store>',
    )
    resp = post_xop(client, env, root_type(iface), [("<f1>", b"abc")])
    assert resp.status_code == 200
    root, parts = xop_root(resp)
    assert result(root) == hashlib.sha256(b"abc").hexdigest() and parts == {}


@pytest.mark.parametrize("iface", ["soap", "soap12"])
def test_the_answer_to_an_xop_request_carries_its_attachments(client: Client, iface: str) -> None:
    ns = NS if iface == "soap12" else "http://tempuri.org/"
    resp = post_xop(
        client, envelope(iface, f'<fetch xmlns="{ns}"><text>hey</text></fetch>'), root_type(iface)
    )
    root, parts = xop_root(resp)
    assert parts == {"<ladon-attachment-1>": b"hey"}


@pytest.mark.parametrize("iface", ["soap", "soap12"])
def test_a_fault_of_an_xop_call_is_an_xop_package(client: Client, iface: str) -> None:
    ns = NS if iface == "soap12" else "http://tempuri.org/"
    env = envelope(iface, f'<store xmlns="{ns}"><data>cidx:0</data></store>')
    resp = post_xop(client, env, root_type(iface), [("<f1>", b"x" * 17)])
    assert resp.status_code == (400 if iface == "soap12" else 500)
    root, parts = xop_root(resp)
    assert "16 bytes at most" in fault(root, iface)[2] and parts == {}


def test_a_soap_with_attachments_request_keeps_a_plain_answer(client: Client) -> None:
    # SwA (root part text/xml, not XOP): an XOP package only for attachments
    env = envelope("soap", '<store xmlns="http://tempuri.org/"><data href="cid:f1"/></store>')
    resp = post_xop(client, env, "text/xml; charset=utf-8", [("<f1>", b"abc")], "soap", "text/xml")
    assert resp.content_type.startswith("text/xml")
    assert result(resp) == hashlib.sha256(b"abc").hexdigest()


@pytest.mark.parametrize("iface", ["soap", "soap12"])
def test_the_wsdl_binds_mime_parts_where_attachments_go(client: Client, iface: str) -> None:
    wsdl = etree.fromstring(client.get(f"/Vault/{iface}/description").data)
    ns = {"w": "http://schemas.xmlsoap.org/wsdl/", "mime": "http://schemas.xmlsoap.org/wsdl/mime/"}

    def mime(op: str, direction: str) -> list[etree._Element]:
        path = f"w:binding/w:operation[@name='{op}']/w:{direction}/mime:multipartRelated"
        found = wsdl.xpath(path, namespaces=ns)
        assert isinstance(found, list)
        return [e for e in found if isinstance(e, etree._Element)]

    assert mime("store", "input") and not mime("store", "output")
    assert mime("fetch", "output") and not mime("fetch", "input")
    assert not mime("greet", "input") and not mime("greet", "output")
    (related,) = mime("store", "input")
    soap_ns = (
        "http://schemas.xmlsoap.org/wsdl/soap12/"
        if iface == "soap12"
        else ("http://schemas.xmlsoap.org/wsdl/soap/")
    )
    assert related.find(f"{{{ns['mime']}}}part/{{{soap_ns}}}body") is not None
