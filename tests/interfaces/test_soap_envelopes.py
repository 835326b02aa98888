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
import time
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
MISSING_ADDRESS = f"{{{WSA}}}MissingAddressInEPR"
ANONYMOUS = f"{WSA}/anonymous"


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
        # an endpoint reference without wsa:Address (SOAP binding 6.4.1)
        (
            f'<a:ReplyTo xmlns:a="{WSA}"><a:ReferenceParameters/></a:ReplyTo>'
            + wsa_header(action_of("greet"), "{mid}"),
            [INVALID_HEADER, MISSING_ADDRESS],
            "ReplyTo",
        ),
        (
            wsa_header(action_of("greet"), "{mid}", f'<a:FaultTo xmlns:a="{WSA}"/>'),
            [INVALID_HEADER, MISSING_ADDRESS],
            "FaultTo",
        ),
    ],
    ids=["reply-elsewhere", "fault-elsewhere", "no-action", "reply-no-address", "fault-no-address"],
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


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_action_not_supported_names_the_action_in_its_details(client: Client, iface: str) -> None:
    """WS-Addressing 1.0 SOAP binding 6.4.5: [Details] ``wsa:ProblemAction``
    holding the action (``env:Detail`` on SOAP 1.2, a ``wsa:FaultDetail``
    header block on SOAP 1.1)."""
    message_id = f"urn:uuid:{uuid.uuid4()}"
    resp = post(
        client, iface, envelope(iface, greet(iface), wsa_header("urn:no&amp;pe", message_id))
    )
    code, subcodes, message = fault(resp, iface)
    if iface == "soap12":
        assert (code, subcodes) == (SENDER, [f"{{{WSA}}}ActionNotSupported"])
        where = f"{{{ENV12}}}Body/{{{ENV12}}}Fault/{{{ENV12}}}Detail"
    else:
        assert code == f"{{{WSA}}}ActionNotSupported"
        where = f"{{{ENV11}}}Header/{{{WSA}}}FaultDetail"
    assert "'urn:no&pe'" in message
    (details,) = etree.fromstring(resp.data).iterfind(where)
    assert [c.tag for c in details] == [f"{{{WSA}}}ProblemAction"]
    (action,) = details[0]
    assert (action.tag, action.text) == (f"{{{WSA}}}Action", "urn:no&pe")
    assert wsa_values(resp, "RelatesTo") == [message_id]
    # a fault's size does not grow with the request: a long action is not repeated
    resp = post(client, iface, envelope(iface, greet(iface), wsa_header("urn:" + "x" * 3000)))
    assert fault(resp, iface)[0] in (SENDER, f"{{{WSA}}}ActionNotSupported")
    assert not list(etree.fromstring(resp.data).iter(f"{{{WSA}}}ProblemAction"))


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


# -- 8. reference parameters echoed (WS-Addressing 1.0 Core 3.4, SOAP binding 2.3) -----------


def epr(name: str, params: str, address: str = ANONYMOUS) -> str:
    """A ``wsa:ReplyTo``/``wsa:FaultTo`` holding ``params`` as its reference parameters."""
    return (
        f'<a:{name} xmlns:a="{WSA}" xmlns:q="urn:q"><a:Address>{address}</a:Address>'
        f"<a:ReferenceParameters>{params}</a:ReferenceParameters></a:{name}>"
    )


CORR = '<x:Corr xmlns:x="urn:x">42</x:Corr>'
#: attributes (one escaped, one qualified), mixed content, a child and a QName
#: value whose prefix (q) is declared on an ancestor in the request
CTX = (
    '<y:Ctx xmlns:y="urn:y" y:kind="a&amp;b &lt;c&gt;" plain="p">t &lt; u'
    '<y:inner q="1">q:val</y:inner> &amp; tail</y:Ctx>'
)
IS_REF = f"{{{WSA}}}IsReferenceParameter"


def action_for(iface: str, method: str) -> str:
    """The input action of a Vault method (Ladon 1.0's naming on SOAP 1.1:
    a URL ending in the method's name)."""
    return action_of(method) if iface == "soap12" else f"http://localhost/Vault/{iface}/{method}"


def header_blocks(resp: Reply) -> list[etree._Element]:
    root = etree.fromstring(resp.data)
    env = etree.QName(root).namespace
    return [c for c in root.iterfind(f"{{{env}}}Header/*")]


def echoed(resp: Reply) -> list[etree._Element]:
    """The header blocks of an answer marked as reference parameters."""
    return [b for b in header_blocks(resp) if b.get(IS_REF) is not None]


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_reply_to_reference_parameters_are_header_blocks_of_the_answer(
    client: Client, iface: str
) -> None:
    header = wsa_header(action_for(iface, "greet"), "urn:uuid:r1", epr("ReplyTo", CORR + CTX))
    resp = post(client, iface, envelope(iface, greet(iface), header))
    assert result(resp) == "Hello, Ann."
    assert wsa_values(resp, "RelatesTo") == ["urn:uuid:r1"]
    corr, ctx = echoed(resp)
    assert (corr.tag, corr.text, corr.get(IS_REF)) == ("{urn:x}Corr", "42", "true")
    assert dict(corr.attrib.items()) == {IS_REF: "true"}
    # a faithful copy: namespaces, attributes, children, mixed content
    assert ctx.tag == "{urn:y}Ctx" and ctx.get(IS_REF) == "true"
    assert ctx.get("{urn:y}kind") == "a&b <c>" and ctx.get("plain") == "p"
    assert ctx.text == "t < u"
    (inner,) = ctx
    assert (inner.tag, inner.get("q"), inner.text, inner.tail) == (
        "{urn:y}inner",
        "1",
        "q:val",
        " & tail",
    )
    assert inner.nsmap.get("q") == "urn:q"  # the QName value keeps its meaning


@pytest.mark.parametrize("iface", SOAP_IFACES)
@pytest.mark.parametrize(
    ("blocks", "expected"),
    [
        (epr("ReplyTo", CORR), ["{urn:x}Corr"]),
        (epr("ReplyTo", CORR) + epr("FaultTo", CTX), ["{urn:y}Ctx"]),
        (epr("FaultTo", CTX), ["{urn:y}Ctx"]),
        (
            epr("ReplyTo", CORR) + f'<a:FaultTo xmlns:a="{WSA}"><a:Address>{ANONYMOUS}</a:Address>'
            "</a:FaultTo>",
            [],
        ),
    ],
    ids=["reply-to", "fault-to-wins", "fault-to-alone", "fault-to-without-params"],
)
def test_a_fault_echoes_the_fault_endpoints_reference_parameters(
    client: Client, iface: str, blocks: str, expected: list[str]
) -> None:
    # WS-Addressing 1.0 Core 3.4: a fault goes to [fault endpoint] if there
    # is one, else to [reply endpoint]
    ns = NS if iface == "soap12" else "http://tempuri.org/"
    body = f'<count xmlns="{ns}"><text><x/></text></count>'
    header = wsa_header(action_for(iface, "count"), "urn:uuid:f1", blocks)
    resp = post(client, iface, envelope(iface, body, header))
    assert fault(resp, iface)[0] == client_code(iface)
    assert wsa_values(resp, "RelatesTo") == ["urn:uuid:f1"]
    assert [b.tag for b in echoed(resp)] == expected


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_reference_parameters_over_64_kib_are_an_invalid_addressing_header(
    client: Client, iface: str
) -> None:
    big = f'<x:Blob xmlns:x="urn:x">{"z" * 40_000}</x:Blob>'
    header = wsa_header(action_for(iface, "greet"), "urn:uuid:b1", epr("ReplyTo", big))
    # one EPR under the cap is fine
    resp = post(client, iface, envelope(iface, greet(iface), header))
    assert result(resp) == "Hello, Ann." and len(echoed(resp)) == 1
    # two together over it: refused, the second named, nothing echoed
    resp = post(client, iface, envelope(iface, greet(iface), header + epr("FaultTo", big)))
    code, subcodes, message = fault(resp, iface)
    if iface == "soap12":
        assert (code, subcodes) == (SENDER, [INVALID_HEADER])
    else:
        assert code == INVALID_HEADER
    assert "64 KiB" in message and "reference parameters" in message
    assert problem_headers(resp, iface) == [f"{{{WSA}}}FaultTo"]
    assert wsa_values(resp, "RelatesTo") == ["urn:uuid:b1"]
    assert echoed(resp) == [] and len(resp.data) < 4000


@pytest.mark.parametrize("count", [6_000, 100_000])
def test_reference_parameters_with_many_attributes_are_answered_at_once(
    client: Client, count: int
) -> None:
    # 6000 attributes fit in 64 KiB and are echoed, 100000 do not; neither
    # is copied in quadratic time
    attrs = " ".join(f"a{i}='v'" for i in range(count))
    header = wsa_header(action_of("greet"), "urn:uuid:m1", epr("ReplyTo", f"<p {attrs}/>"))
    started = time.perf_counter()
    resp = post(client, "soap12", envelope("soap12", greet("soap12"), header))
    assert time.perf_counter() - started < 1.0
    if count < 10_000:
        (p,) = echoed(resp)
        assert len(p.attrib) == count + 1
    else:
        assert fault(resp, "soap12")[1] == [INVALID_HEADER]


def test_an_is_reference_parameter_attribute_sent_is_written_true_once(client: Client) -> None:
    param = f'<x:Corr xmlns:x="urn:x" xmlns:w="{WSA}" w:IsReferenceParameter="0">42</x:Corr>'
    header = wsa_header(action_of("greet"), "urn:uuid:r2", epr("ReplyTo", param))
    resp = post(client, "soap12", envelope("soap12", greet("soap12"), header))
    (corr,) = echoed(resp)
    assert corr.get(IS_REF) == "true"
    assert b'IsReferenceParameter="0"' not in resp.data


# -- 9. the operation element: its namespace, and one per Body -----------------------------


LADON10_NAMESPACES = {"soap": "http://tempuri.org/", "soap11": "urn:Vault"}
WSDL_NAMESPACES = {**LADON10_NAMESPACES, "soap12": NS}


@pytest.fixture(scope="module")
def python_client() -> Iterator[Client]:
    """Python naming on every SOAP interface: the service's namespace."""
    app = LadonWSGIApplication([Vault], soap_naming="python")
    yield Client(app)
    app.close()


def op(name: str, ns: str | None, inner: str = "<text>abc</text>") -> str:
    """The operation element ``name`` in ``ns`` (``None``: unqualified)."""
    if ns is None:
        return f"<{name}>{inner}</{name}>"
    return f'<o:{name} xmlns:o="{ns}">{inner}</o:{name}>'


@pytest.mark.parametrize("ns", ["urn:wrong", "urn:example:VAULT"])
def test_an_operation_element_in_another_namespace_is_an_unknown_method_on_soap12(
    client: Client, ns: str
) -> None:
    resp = post(client, "soap12", envelope("soap12", op("count", ns)))
    code, subcodes, message = fault(resp, "soap12")
    assert code == SENDER and subcodes == [f"{{{LADON}}}UnknownMethod"]
    assert ns in message and "count" in message
    assert NS in message  # the namespace the WSDL publishes


def test_soap12_refuses_an_unqualified_operation_element(client: Client) -> None:
    code, subcodes, message = fault(
        post(client, "soap12", envelope("soap12", op("count", None))), "soap12"
    )
    assert (code, subcodes) == (SENDER, [f"{{{LADON}}}UnknownMethod"])
    assert "no namespace" in message and NS in message


@pytest.mark.parametrize("iface", ["soap", "soap11"])
@pytest.mark.parametrize(
    "ns", [None, "http://tempuri.org/", "urn:Vault", "urn:wrong", "http://example.com/ws"]
)
def test_ladon10_naming_takes_what_ladon10_took(client: Client, iface: str, ns: str | None) -> None:
    # COMPAT.md 3.3/3.4: Ladon 1.0 ignored namespaces and prefixes (and read
    # soap and soap11 requests alike): the local name names the operation
    assert result(post(client, iface, envelope(iface, op("count", ns)))) == "3"


@pytest.mark.parametrize("iface", SOAP_IFACES)
@pytest.mark.parametrize("ns", [None, "http://tempuri.org/", "urn:Vault"])
def test_python_naming_takes_the_service_namespace_only(
    python_client: Client, iface: str, ns: str | None
) -> None:
    assert result(post(python_client, iface, envelope(iface, op("count", NS)))) == "3"
    code, _, message = fault(post(python_client, iface, envelope(iface, op("count", ns))), iface)
    assert code == client_code(iface) and NS in message


def test_two_operation_elements_in_the_body_are_refused_on_soap12_and_python_naming(
    client: Client, python_client: Client
) -> None:
    body = op("count", NS) + op("greet", NS, "<name>Eve</name>")
    for c, iface in ((client, "soap12"), (python_client, "soap"), (python_client, "soap11")):
        code, _, message = fault(post(c, iface, envelope(iface, body)), iface)
        assert code == client_code(iface)
        assert "The SOAP Body holds 2 elements; a request calls one operation" in message


@pytest.mark.parametrize("iface", ["soap", "soap11"])
def test_with_ladon10_naming_the_first_body_element_is_the_call(client: Client, iface: str) -> None:
    # COMPAT.md 3.3: "The first element in Body is the method"; Ladon 1.0
    # read no other (multi-reference values with an id included)
    ns = WSDL_NAMESPACES[iface]
    for extra in (op("greet", ns, "<name>Eve</name>"), '<v id="r1">x</v>', "<w>no id</w>"):
        assert result(post(client, iface, envelope(iface, op("count", ns) + extra))) == "3"


@pytest.mark.parametrize("iface", ["soap", "soap11", "soap12"])
def test_an_element_with_an_id_after_the_operation_is_soap11s_alone(
    python_client: Client, iface: str
) -> None:
    # SOAP 1.1 encoding (rpc/encoded): multi-reference values follow the call
    body = op("count", NS) + '<v id="r1">x</v>'
    resp = post(python_client, iface, envelope(iface, body))
    if iface == "soap11":
        assert result(resp) == "3"
        body += "<w>no id</w>"
        message = fault(post(python_client, iface, envelope(iface, body)), iface)[2]
        assert "holds 3 elements" in message and "id attribute" in message
    else:
        assert "holds 2 elements" in fault(resp, iface)[2]


# -- 10. the root element -------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [f'<s:Foo xmlns:s="{ENV12}"/>', f'<s:Foo xmlns:s="{ENV11}"/>', "<foo/>"],
    ids=["soap12-namespace", "soap11-namespace", "no-namespace"],
)
def test_soap12_answers_any_root_but_env_envelope_with_version_mismatch(
    client: Client, body: str
) -> None:
    # SOAP 1.2 part 1, 5.4.6 (and 5.4.7): a root not env:Envelope, by
    # namespace or local name: a SOAP 1.2 VersionMismatch, HTTP 500, with
    # the env:Upgrade header
    resp = post(client, "soap12", body.encode())
    code, subcodes, message = fault(resp, "soap12")
    assert (code, subcodes) == (f"{{{ENV12}}}VersionMismatch", [])
    assert resp.status_code == 500 and "SOAP 1.2" in message
    root = etree.fromstring(resp.data)
    (upgrade,) = root.iterfind(f"{{{ENV12}}}Header/{{{ENV12}}}Upgrade")
    assert upgrade.find(f"{{{ENV12}}}SupportedEnvelope") is not None


@pytest.mark.parametrize("iface", ["soap", "soap11"])
@pytest.mark.parametrize("body", [f'<s:Foo xmlns:s="{ENV11}"/>', "<foo/>"])
def test_soap11_answers_a_root_that_is_no_envelope_as_not_soap(
    client: Client, iface: str, body: str
) -> None:
    # SOAP 1.1 section 4.4.1: VersionMismatch is about the Envelope's
    # namespace; another root is no SOAP message (a Client fault)
    code, _, message = fault(post(client, iface, body.encode()), iface)
    assert code == CLIENT11 and "not a SOAP envelope" in message


# -- the media type of SOAP 1.2 requests ----------------------------------------------------


@pytest.mark.parametrize(
    "ctype",
    [
        "application/soap+xml",
        "application/soap+xml; charset=utf-8",
        "Application/SOAP+XML ; charset=UTF-8",
        f'application/soap+xml; action="{action_of("greet")}"',
    ],
)
def test_soap12_takes_application_soap_xml_in_any_spelling(client: Client, ctype: str) -> None:
    reply = post(client, "soap12", envelope("soap12", greet("soap12")), ctype)
    assert result(reply) == "Hello, Ann."


@pytest.mark.parametrize(
    "ctype", ["text/xml; charset=utf-8", "application/xml", "text/plain", "", "application/soap"]
)
def test_a_soap12_envelope_sent_as_another_media_type_is_refused_with_415(
    client: Client, ctype: str
) -> None:
    # SOAP 1.2 part 2, 7.1.4 and 7.5.2.2: its media type is
    # application/soap+xml; the HTTP binding answers an unsupported one 415
    resp = post(client, "soap12", envelope("soap12", greet("soap12")), ctype)
    assert resp.status_code == 415, resp.text[:300]
    assert resp.content_type.startswith("application/soap+xml")
    root = etree.fromstring(resp.data)
    ns = {"e": ENV12}
    assert root.findtext("e:Body/e:Fault/e:Code/e:Value", namespaces=ns) == "env:Sender"
    message = root.findtext("e:Body/e:Fault/e:Reason/e:Text", namespaces=ns) or ""
    assert "application/soap+xml" in message
    assert (ctype.split(";")[0] or "no Content-Type") in message
    assert "Traceback" not in resp.text


def test_a_soap11_envelope_sent_as_text_xml_to_soap12_still_gets_version_mismatch(
    client: Client,
) -> None:
    # a SOAP 1.1 client learns the version first (SOAP 1.2 part 1, appendix A)
    resp = post(client, "soap12", envelope("soap", greet("soap")), "text/xml; charset=utf-8")
    assert resp.status_code == 500, resp.text[:300]
    root = etree.fromstring(resp.data)
    assert (root.findtext(".//faultcode") or "").endswith("VersionMismatch")


@pytest.mark.parametrize("iface", ["soap", "soap11"])
def test_soap11_interfaces_keep_taking_any_media_type(client: Client, iface: str) -> None:
    # Ladon 1.0's clients: text/xml, application/xml, even application/soap+xml
    for ctype in ("text/xml", "application/xml", "application/soap+xml", ""):
        assert result(post(client, iface, envelope(iface, greet(iface)), ctype)) == "Hello, Ann."


class Taken(ClientFault):
    """A fault of the service's own, with a status of its own."""

    http_status = 409


class Ledger:
    @ladonize()
    def claim(self, name: str) -> str:
        raise Taken(f"{name} is taken")


@pytest.mark.parametrize(("iface", "status"), [("soap12", 400), ("jsonwsp", 409)])
def test_a_sender_fault_is_400_on_soap12_whatever_status_the_service_gave_it(
    iface: str, status: int
) -> None:
    # SOAP 1.2 part 2, 7.5.2.2: env:Sender -> 400; the protocols with
    # statuses of their own keep the service's
    app = LadonWSGIApplication([Ledger])
    try:
        c = Client(app)
        if iface == "soap12":
            body = envelope(iface, '<claim xmlns="urn:Ledger"><name>x</name></claim>')
            resp = post(c, iface, body, path="Ledger")
            code, _, message = fault(resp, iface)
            assert code == SENDER
        else:
            raw = c.post(
                "/Ledger/jsonwsp",
                data=b'{"methodname": "claim", "args": {"name": "x"}}',
                headers={"Content-Type": "application/json"},
            )
            resp = Reply(raw.status_code, raw.content_type, raw.get_data())
            raw.close()
            message = resp.text
        assert resp.status_code == status and "x is taken" in message
    finally:
        app.close()


class Numbers:
    @ladonize()
    def total(self, values: list[int]) -> int:
        return sum(values)


XSD = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


@pytest.mark.parametrize(
    ("iface", "nillable"), [("soap", "true"), ("soap11", "true"), ("soap12", None)]
)
def test_list_items_are_nillable_only_in_ladon_10s_wsdls_and_a_nil_item_is_refused(
    iface: str, nillable: str | None
) -> None:
    # soap and soap11 keep Ladon 1.0's ArrayOfX (items nillable); soap12
    # declares what the server takes: no list holds a nil item
    app = LadonWSGIApplication([Numbers])
    try:
        c = Client(app)
        wsdl = etree.fromstring(c.get(f"/Numbers/{iface}/description").get_data())
        (item,) = wsdl.iterfind(f".//{{{XSD}}}complexType[@name='ArrayOfint']//{{{XSD}}}element")
        assert item.get("nillable") == nillable
        ns = "urn:Numbers" if iface == "soap12" else "http://tempuri.org/"
        items = f'<item>1</item><item xmlns:i="{XSI}" i:nil="true"/><item>3</item>'
        body = envelope(iface, f'<total xmlns="{ns}"><values>{items}</values></total>')
        code, _, message = fault(post(c, iface, body, path="Numbers"), iface)
        assert code == client_code(iface)
        assert message == 'Argument "values[1]": expected int, got null'
    finally:
        app.close()
