"""A SOAP request is read and answered the same the first time and every
time after. The SOAP interfaces remember what they learnt from earlier
requests (an operation element's tag, a parameter element's tag, a method
whose parameters are all numbers and strings, a method's response tags) and
take a shorter path for a call they recognise; whatever a request holds,
that path gives the answer the full one gives, or leaves the request to it.

Each case runs on a fresh application: its first request takes the full
path, the repeats the remembered one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lxml import etree
from werkzeug.test import Client

from ladon import LadonWSGIApplication
from ladon import ladonize

ENV11 = "http://schemas.xmlsoap.org/soap/envelope/"
ENV12 = "http://www.w3.org/2003/05/soap-envelope"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SOAP_IFACES = ["soap", "soap11", "soap12"]


class Pairs:
    """Numbers and strings in and out."""

    @ladonize()
    def add(self, a: int, b: int) -> int:
        return a + b

    @ladonize()
    def echo(self, text: str) -> str:
        return text

    @ladonize()
    def repeat(self, text: str, times: int = 2) -> str:
        return text * times

    @ladonize()
    def power(self, bits: int) -> int:
        return 1 << bits


def envelope(iface: str, method: str, params: str) -> bytes:
    env = ENV12 if iface == "soap12" else ENV11
    return (
        f'<e:Envelope xmlns:e="{env}" xmlns:xsi="{XSI}"><e:Body>'
        f'<o:{method} xmlns:o="urn:Pairs">{params}</o:{method}>'
        "</e:Body></e:Envelope>"
    ).encode()


def post(client: Client, iface: str, body: bytes) -> tuple[int, str, bytes]:
    ctype = "application/soap+xml; charset=utf-8" if iface == "soap12" else "text/xml"
    resp = client.post(f"/Pairs/{iface}", data=body, headers={"Content-Type": ctype})
    try:
        return resp.status_code, resp.headers["Content-Type"], resp.get_data()
    finally:
        resp.close()


def outcome(answer: tuple[int, str, bytes]) -> str:
    """The result's text, or the fault's message, of an answer."""
    root = etree.fromstring(answer[2])
    if answer[0] == 200:
        return str(root.xpath("string(//*[local-name()='result'])"))
    reason = root.xpath("string(//faultstring | //*[local-name()='Text'])")
    return f"fault: {reason!s}"


#: (method, parameter elements, what the answer says)
CASES = {
    "plain": ("add", "<o:a>1</o:a><o:b>2</o:b>", "3"),
    "negative": ("add", "<o:a>-1</o:a><o:b>2</o:b>", "1"),
    "blanks": ("add", "<o:a> 1 </o:a><o:b>\n2</o:b>", "3"),
    "plus-sign": ("add", "<o:a>+1</o:a><o:b>2</o:b>", "3"),
    "leading-zeros": ("add", "<o:a>0001</o:a><o:b>2</o:b>", "3"),
    "swapped": ("add", "<o:b>2</o:b><o:a>1</o:a>", "3"),
    "eighteen-digits": ("add", f"<o:a>{'9' * 18}</o:a><o:b>1</o:b>", str(10**18)),
    "empty": ("add", "<o:a/><o:b>2</o:b>", 'fault: Argument "a": expected an integer'),
    "not-a-number": ("add", "<o:a>x</o:a><o:b>2</o:b>", 'fault: Argument "a": expected an integer'),
    "other-digits": (
        "add",
        "<o:a>\u0661</o:a><o:b>2</o:b>",
        'fault: Argument "a": expected an integer',
    ),
    "underscore": (
        "add",
        "<o:a>1_000</o:a><o:b>2</o:b>",
        'fault: Argument "a": expected an integer',
    ),
    "twice": ("add", "<o:a>1</o:a><o:a>2</o:a>", 'fault: Argument "a": is given more than once'),
    "missing": ("add", "<o:a>1</o:a>", 'fault: Argument "b": is not optional and was not given'),
    "unknown": ("add", "<o:a>1</o:a><o:b>2</o:b><o:c>3</o:c>", "fault: has no parameter"),
    "nil": ("add", '<o:a xsi:nil="true"/><o:b>2</o:b>', 'fault: Argument "a": expected'),
    "beyond-long": (
        "add",
        f"<o:a>{2**63}</o:a><o:b>0</o:b>",
        'fault: Argument "a": the integer is out',
    ),
    "child-element": (
        "add",
        "<o:a><o:x>1</o:x></o:a><o:b>2</o:b>",
        'fault: Argument "a": expected',
    ),
    "echo": ("echo", "<o:text>hi &amp; bye</o:text>", "hi & bye"),
    "echo-cr": ("echo", "<o:text>a&#13;b</o:text>", "a\rb"),
    "echo-empty": ("echo", "<o:text/>", ""),
    "echo-typed": ("echo", '<o:text xsi:type="xsd:string">typed</o:text>', "typed"),
    "echo-unicode": ("echo", "<o:text>\u00e9\u4e2d\U0001f600</o:text>", "\u00e9\u4e2d\U0001f600"),
    "echo-nil": ("echo", '<o:text xsi:nil="true"/>', 'fault: Argument "text": expected'),
    "nil-is-the-default": ("repeat", '<o:text>ab</o:text><o:times xsi:nil="true"/>', "abab"),
    "default": ("repeat", "<o:text>ab</o:text>", "abab"),
    "both": ("repeat", "<o:text>ab</o:text><o:times>3</o:times>", "ababab"),
    "result-in-long": ("power", "<o:bits>62</o:bits>", str(2**62)),
    "result-beyond-long": ("power", "<o:bits>63</o:bits>", "fault: "),
}


@pytest.fixture()
def client() -> Iterator[Client]:
    app = LadonWSGIApplication([Pairs])
    yield Client(app)
    app.close()


@pytest.mark.parametrize("iface", SOAP_IFACES)
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_request_is_answered_alike_every_time(
    client: Client, iface: str, case: tuple[str, str, str]
) -> None:
    method, params, expected = case
    body = envelope(iface, method, params.replace("o:", "") if iface == "soap" else params)
    first = post(client, iface, body)
    said = outcome(first)
    if expected.startswith("fault: "):
        assert said.startswith("fault: ") and expected[7:] in said, said
    else:
        assert said == expected, first
    for _ in range(3):
        assert post(client, iface, body) == first


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_a_method_learnt_in_one_namespace_is_read_alike_in_another(
    client: Client, iface: str
) -> None:
    # the names are remembered by the whole tag, namespace included
    for params in ("<o:a>1</o:a><o:b>2</o:b>", '<p:a xmlns:p="urn:other">1</p:a><o:b>2</o:b>'):
        answers = {post(client, iface, envelope(iface, "add", params)) for _ in range(3)}
        assert len(answers) == 1, answers
