"""Lists of ints and of strings as SOAP arguments: a method whose
parameters are all ``int``, ``str`` or lists of them is read on a short
path when its request is the usual one (one plain element per parameter,
its items plain elements with text). Whatever the request, the answer must
be the one the general path gives: the same values, or the same fault.

Each case is sent twice, to a method the short path reads (``ints`` /
``strs``) and to one it cannot (``ints_slow`` / ``strs_slow``: an extra
``float`` parameter with a default sends every call down the general path),
on SOAP 1.1 and 1.2, and the two answers are compared.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import pytest
from lxml import etree
from werkzeug.test import Client

from ladon import LadonWSGIApplication
from ladon import ladonize

ENV11 = "http://schemas.xmlsoap.org/soap/envelope/"
ENV12 = "http://www.w3.org/2003/05/soap-envelope"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NS = "urn:Lists"


class Lists:
    """Lists in, their Python repr out."""

    @ladonize()
    def ints(self, n: int, a: list[int], s: str) -> str:
        return repr((n, a, s))

    @ladonize()
    def ints_slow(self, n: int, a: list[int], s: str, unused: float = 0.0) -> str:
        return repr((n, a, s))

    @ladonize()
    def strs(self, n: int, a: list[str], s: str) -> str:
        return repr((n, a, s))

    @ladonize()
    def strs_slow(self, n: int, a: list[str], s: str, unused: float = 0.0) -> str:
        return repr((n, a, s))


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    app = LadonWSGIApplication([Lists])
    yield Client(app)
    app.close()


def answer(client: Client, iface: str, method: str, items: str) -> tuple[int, str]:
    """(HTTP status, result or "fault: code message") of ``method(7, [items], "x")``."""
    env = ENV12 if iface == "soap12" else ENV11
    data = (
        f'<e:Envelope xmlns:e="{env}" xmlns:t="{NS}" xmlns:xsi="{XSI}"><e:Body>'
        f"<t:{method}><t:n>7</t:n><t:a>{items}</t:a><t:s>x</t:s></t:{method}>"
        "</e:Body></e:Envelope>"
    )
    ctype = "application/soap+xml; charset=utf-8" if iface == "soap12" else "text/xml"
    resp = client.post(f"/Lists/{iface}", data=data, headers={"Content-Type": ctype})
    try:
        body = resp.get_data()
        assert b"Traceback" not in body
        root = etree.fromstring(body)
        fault = root.xpath("//*[local-name()='Fault']")
        if fault:
            codes = cast(
                "list[str]",
                root.xpath(
                    "//*[local-name()='faultcode' or local-name()='Value']/text()"
                    " | //*[local-name()='faultstring' or local-name()='Text']/text()"
                ),
            )
            return resp.status_code, "fault: " + " ".join(map(str, codes))
        return resp.status_code, str(root.xpath("string(//*[local-name()='result'])"))
    finally:
        resp.close()


def items(*texts: str) -> str:
    return "".join(f"<t:item>{t}</t:item>" for t in texts)


INT_CASES = {
    "plain": items("1", "-2", "30"),
    "one": items("5"),
    "eighteen-digits": items("9" * 18, "-" + "9" * 17),
    "long-max": items(str(2**63 - 1), str(-(2**63))),
    "beyond-long": items("1", str(2**63)),
    "blanks": items(" 1", "2\n", "\t3 "),
    "plus-sign": items("+4"),
    "leading-zeros": items("007"),
    "underscore": items("1_000"),
    "not-a-number": items("1", "two"),
    "empty-item": items("1", "", "3"),
    "self-closed-item": "<t:item>1</t:item><t:item/>",
    "comment-inside": "<t:item>1<!-- x -->2</t:item><t:item>3</t:item>",
    "cdata": "<t:item><![CDATA[12]]></t:item><t:item>3</t:item>",
    "char-refs": "<t:item>&#49;&#50;</t:item>",
    "pretty": "\n  <t:item>1</t:item>\n  <t:item>2</t:item>\n",
    "text-between": "<t:item>1</t:item>junk<t:item>2</t:item>",
    "nil-item": '<t:item>1</t:item><t:item xsi:nil="true"/>',
    "typed-item": '<t:item xsi:type="xsd:int">1</t:item><t:item>2</t:item>',
    "nested-item": "<t:item><t:item>1</t:item></t:item>",
    "other-tag": "<t:value>1</t:value><t:item>2</t:item>",
    "empty-list": "",
    "blank-list": "  ",
    "text-not-items": "1 2 3",
    "hundred": items(*(str(i * 37 - 999) for i in range(100))),
}

STR_CASES = {
    "plain": items("a", "b c", "d"),
    "entities": items("&lt;&amp;&gt;", "&quot;'"),
    "unicode": items("\u00e9t\u00e9", "\U0001f600", "\u05e9\u05dc\u05d5\u05dd"),
    "blanks-kept": items("  a  ", "\tb\n"),
    "empty-item": items("a", "", "c"),
    "cdata": "<t:item><![CDATA[<x>]]></t:item>",
    "comment-inside": "<t:item>a<!-- x -->b</t:item>",
    "nil-item": '<t:item>a</t:item><t:item xsi:nil="true"/>',
    "nested-item": "<t:item>a<t:b>c</t:b></t:item>",
    "pretty": "\n  <t:item>a</t:item>\n",
    "empty-list": "",
}


@pytest.mark.parametrize("iface", ["soap", "soap12"])
@pytest.mark.parametrize("case", sorted(INT_CASES))
def test_a_list_of_ints_reads_as_on_the_general_path(client: Client, iface: str, case: str) -> None:
    fast = answer(client, iface, "ints", INT_CASES[case])
    slow = answer(client, iface, "ints_slow", INT_CASES[case])
    assert fast == slow


@pytest.mark.parametrize("iface", ["soap", "soap12"])
@pytest.mark.parametrize("case", sorted(STR_CASES))
def test_a_list_of_strs_reads_as_on_the_general_path(client: Client, iface: str, case: str) -> None:
    fast = answer(client, iface, "strs", STR_CASES[case])
    slow = answer(client, iface, "strs_slow", STR_CASES[case])
    assert fast == slow


def test_the_usual_lists_are_read_exactly(client: Client) -> None:
    values = [i * 37 - 999 for i in range(100)]
    assert answer(client, "soap", "ints", INT_CASES["hundred"]) == (200, repr((7, values, "x")))
    assert answer(client, "soap", "strs", STR_CASES["unicode"]) == (
        200,
        repr((7, ["\u00e9t\u00e9", "\U0001f600", "\u05e9\u05dc\u05d5\u05dd"], "x")),
    )
    status, text = answer(client, "soap", "ints", INT_CASES["beyond-long"])
    assert status == 500 and "fault: " in text and "xsd:long" in text
