"""``int`` on the SOAP interfaces is ``xsd:long``, as their WSDLs publish it:
an argument beyond -2**63 .. 2**63-1 (a parameter, a field of an object, an
item of a list, at any depth) is the Client/Sender fault any argument of the
wrong type gets, naming it and the range; a result beyond it is a Server/
Receiver fault. The JSON interfaces, whose descriptions publish no range
(JSON Schema ``integer``, JSON-WSP ``number``), take and send any integer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import pytest
from annotated_types import Ge
from lxml import etree
from werkzeug.test import Client

from ladon import LadonType
from ladon import LadonWSGIApplication
from ladon import ladonize

ENV11 = "http://schemas.xmlsoap.org/soap/envelope/"
ENV12 = "http://www.w3.org/2003/05/soap-envelope"
LADON = "urn:ladon:faults"
SOAP_IFACES = ["soap", "soap11", "soap12"]
LONG_MAX = 2**63 - 1
LONG_MIN = -(2**63)
RANGE = f"({LONG_MIN} to {LONG_MAX})"


class Box(LadonType):
    n = int
    ns = [int]


class Counter:
    """Integers in and out."""

    @ladonize()
    def echo(self, a: int) -> str:
        return str(a)

    @ladonize()
    def total(self, a: list[int]) -> str:
        return str(sum(a))

    @ladonize()
    def unbox(self, b: Box) -> str:
        return f"{b.n} {sum(b.ns)}"

    @ladonize()
    def unboxall(self, boxes: list[Box]) -> str:
        return str(sum(b.n for b in boxes))

    @ladonize()
    def natural(self, a: Annotated[int, Ge(0)]) -> str:
        return str(a)

    @ladonize()
    def big(self, bits: int) -> int:
        return 1 << bits

    @ladonize()
    def bigbox(self, bits: int) -> Box:
        box = Box()
        box.n = 1
        box.ns = [1, 2**bits]
        return box


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    app = LadonWSGIApplication([Counter])
    yield Client(app)
    app.close()


def qualified(body: str, ns: str) -> str:
    """``body`` with its (first) element in ``ns``, as ``soap12`` reads it."""
    name = body[1:].split(">", 1)[0].split()[0].rstrip("/")
    head, _, rest = body.partition(name)
    body = f'{head}o:{name} xmlns:o="{ns}"{rest}'
    start, sep, end = body.rpartition(f"</{name}>")
    return f"{start}</o:{name}>{end}" if sep else body


def call(client: Client, iface: str, body: str) -> tuple[int, etree._Element]:
    env = ENV12 if iface == "soap12" else ENV11
    if iface == "soap12":
        body = qualified(body, "urn:Counter")
    data = f'<e:Envelope xmlns:e="{env}"><e:Body>{body}</e:Body></e:Envelope>'
    ctype = "application/soap+xml; charset=utf-8" if iface == "soap12" else "text/xml"
    resp = client.post(f"/Counter/{iface}", data=data, headers={"Content-Type": ctype})
    try:
        text = resp.get_data(as_text=True)
        assert "Traceback" not in text and ".py" not in text
        return resp.status_code, etree.fromstring(resp.get_data())
    finally:
        resp.close()


def fault(status: int, root: etree._Element) -> tuple[int, str, str]:
    """(HTTP status, code with its subcodes, message) of a fault answer."""
    f11 = root.find(f"{{{ENV11}}}Body/{{{ENV11}}}Fault")
    if f11 is not None:
        return status, f11.findtext("faultcode") or "", f11.findtext("faultstring") or ""
    ns = {"e": ENV12}
    (f12,) = root.iterfind("e:Body/e:Fault", ns)
    codes = [str(v.text) for v in f12.iterfind(".//e:Value", ns)]
    return status, " ".join(codes), f12.findtext("e:Reason/e:Text", namespaces=ns) or ""


def result(status: int, root: etree._Element) -> str:
    assert status == 200, etree.tostring(root)[:500]
    return str(root.xpath("string(//*[local-name()='result'])"))


@pytest.mark.parametrize("iface", SOAP_IFACES)
@pytest.mark.parametrize(
    "value", [LONG_MAX, LONG_MIN, 0, -1], ids=["max", "min", "zero", "minus-one"]
)
def test_an_int_within_xsd_long_is_taken(client: Client, iface: str, value: int) -> None:
    assert result(*call(client, iface, f"<echo><a>{value}</a></echo>")) == str(value)


@pytest.mark.parametrize("iface", SOAP_IFACES)
@pytest.mark.parametrize(
    "text",
    [f"  {LONG_MAX}\n", f"+{LONG_MAX}", "0" * 30 + "42", f"-{'0' * 30}{-LONG_MIN}"],
    ids=["blanks", "plus-sign", "leading-zeros", "zeros-and-min"],
)
def test_long_texts_of_in_range_integers_are_taken(client: Client, iface: str, text: str) -> None:
    assert result(*call(client, iface, f"<echo><a>{text}</a></echo>")) == str(int(text))


@pytest.mark.parametrize("iface", SOAP_IFACES)
@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (str(LONG_MAX + 1), str(LONG_MAX + 1)),
        (str(LONG_MIN - 1), str(LONG_MIN - 1)),
        (str(2**200), str(2**200)[:37] + "..."),
        ("9" * 5000, "9" * 37 + "..."),
    ],
    ids=["max-plus-one", "min-minus-one", "200-bits", "5000-digits"],
)
def test_an_int_argument_beyond_xsd_long_is_the_fault_of_a_bad_argument(
    client: Client, iface: str, value: str, shown: str
) -> None:
    status, code, message = fault(*call(client, iface, f"<echo><a>{value}</a></echo>"))
    # exactly what a text that is no integer gets: same status, same codes
    bad_status, bad_code, bad_message = fault(*call(client, iface, "<echo><a>abc</a></echo>"))
    assert bad_message == "Argument \"a\": expected an integer, got 'abc'"
    assert (status, code) == (bad_status, bad_code)
    if iface == "soap12":
        assert (status, code) == (400, "env:Sender c:ArgumentError")
    else:
        assert (status, code) == (500, "SOAP-ENV:Client")
    assert message.startswith('Argument "a": the integer is out of the range of xsd:long')
    assert RANGE in message and message.endswith(f", got {shown}")


@pytest.mark.parametrize("iface", SOAP_IFACES)
@pytest.mark.parametrize(
    ("body", "path"),
    [
        (f"<total><a><item>1</item><item>2</item><item>{2**63}</item></a></total>", "a[2]"),
        # an item the fast path leaves to the slow one (an attribute), and a nil one
        (
            f'<total><a><item x="1">1</item><item xsi:nil="true" xmlns:xsi='
            f'"http://www.w3.org/2001/XMLSchema-instance"/><item>{2**64}</item></a></total>',
            "a[2]",
        ),
        (f"<unbox><b><n>{2**63}</n></b></unbox>", "b.n"),
        (
            f"<unbox><b><n>1</n><ns><item>1</item><item>{-(2**63) - 1}</item></ns></b></unbox>",
            "b.ns[1]",
        ),
        (
            f"<unboxall><boxes><item><n>1</n></item><item><n>{2**63}</n></item></boxes></unboxall>",
            "boxes[1].n",
        ),
        # the WSDL's restriction of an Annotated int is based on xsd:long too
        (f"<natural><a>{2**63}</a></natural>", "a"),
    ],
    ids=["list", "list-slow-path", "field", "list-in-field", "field-in-list", "annotated"],
)
def test_an_int_beyond_xsd_long_is_refused_at_any_depth(
    client: Client, iface: str, body: str, path: str
) -> None:
    status, code, message = fault(*call(client, iface, body))
    assert code in ("SOAP-ENV:Client", "env:Sender c:ArgumentError")
    assert message.startswith(f'Argument "{path}": the integer is out of the range of xsd:long')
    assert RANGE in message


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_ints_within_range_in_lists_and_fields_are_taken(client: Client, iface: str) -> None:
    body = f"<unbox><b><n>{LONG_MIN}</n><ns><item>{LONG_MAX}</item><item>-1</item></ns></b></unbox>"
    assert result(*call(client, iface, body)) == f"{LONG_MIN} {LONG_MAX - 1}"


@pytest.mark.parametrize("iface", SOAP_IFACES)
@pytest.mark.parametrize(
    ("body", "path"),
    [("<big><bits>70</bits></big>", "result"), ("<bigbox><bits>63</bits></bigbox>", "ns[1]")],
    ids=["result", "item-of-a-field"],
)
def test_an_int_result_beyond_xsd_long_is_a_server_fault(
    client: Client, iface: str, body: str, path: str
) -> None:
    status, code, message = fault(*call(client, iface, body))
    if iface == "soap12":
        assert (status, code) == (500, "env:Receiver c:ResultError")
    else:
        assert (status, code) == (500, "SOAP-ENV:Server")
    assert "out of the range of xsd:long" in message and RANGE in message
    # the path names the value (a flattened LadonType result on soap: its field)
    assert f'"{path}"' in message or f'"result.{path}"' in message


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_an_int_result_at_the_edge_of_xsd_long_is_sent(client: Client, iface: str) -> None:
    assert result(*call(client, iface, "<big><bits>62</bits></big>")) == str(2**62)


def test_the_json_interfaces_publish_no_range_and_take_any_integer(client: Client) -> None:
    huge = 2**70
    resp = client.post(
        "/Counter/jsonrpc", json={"jsonrpc": "2.0", "method": "echo", "params": [huge], "id": 1}
    )
    assert resp.get_json()["result"] == str(huge)
    resp = client.post("/Counter/jsonwsp", json={"methodname": "big", "args": {"bits": 70}})
    assert resp.get_json()["result"] == huge
    # their descriptions say integer / number, with no 64-bit format
    schema = client.post(
        "/Counter/jsonrpc", json={"jsonrpc": "2.0", "method": "rpc.discover", "id": 1}
    ).get_json()["result"]
    (param,) = schema["methods"][[m["name"] for m in schema["methods"]].index("echo")]["params"]
    assert param["schema"] == {"type": "integer"}
