"""SOAP arguments that do not fit their declared type are Client faults
(both flavours), never silently read as something else."""

from __future__ import annotations

import pytest
from lxml import etree
from webtest import TestApp

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


def call(client: TestApp, iface: str, body: str) -> tuple[int, str]:
    env = (
        f'<e:Envelope xmlns:e="{SOAP_ENV}"><e:Body xmlns="http://tempuri.org/">{body}'
        "</e:Body></e:Envelope>"
    )
    resp = client.post(
        f"/Shapes/{iface}", env.encode(), {"Content-Type": "text/xml"}, expect_errors=True
    )
    root = etree.fromstring(resp.body)
    if resp.status_int == 500:
        code = root.findtext(f".//{{{SOAP_ENV}}}Fault/faultcode")
        return 500, f"{code} {root.findtext(f'.//{{{SOAP_ENV}}}Fault/faultstring')}"
    return resp.status_int, etree.tostring(root).decode()


CASES = [
    ("<squares><numbers>5</numbers></squares>", '"numbers": expected a list'),
    ("<mirror_all><points>junk</points></mirror_all>", '"points": expected a list'),
    ("<half><x><y>1</y></x></half>", '"x": expected a number, got an object'),
    ("<shout><text>a<b>x</b></text></shout>", '"text": expected a string, got an object'),
    ("<mirror><p><x>1</x><x>2</x><y>3</y></p></mirror>", '"p.x": is given more than once'),
    ("<add><a>1</a><a>2</a><b>3</b></add>", '"a": is given more than once'),
    (
        "<mirror_all><points><item><x><z>1</z></x><y>1</y></item></points></mirror_all>",
        '"points[0].x": expected an integer, got an object',
    ),
]


@pytest.mark.parametrize("iface", ["soap", "soap11"])
@pytest.mark.parametrize(("body", "message"), CASES, ids=[c[1] for c in CASES])
def test_ill_typed_argument_is_a_client_fault(
    client: TestApp, iface: str, body: str, message: str
) -> None:
    status, text = call(client, iface, body)
    assert status == 500
    assert text.startswith("SOAP-ENV:Client ")
    assert message in text


@pytest.mark.parametrize("iface", ["soap", "soap11"])
def test_well_typed_arguments_still_work(client: TestApp, iface: str) -> None:
    status, text = call(client, iface, "<mirror><p><x>1</x><y>2</y></p></mirror>")
    assert status == 200 and ">2<" in text and ">1<" in text
    status, text = call(client, iface, "<shout><text><![CDATA[a<b]]></text></shout>")
    assert status == 200 and "A&lt;B!" in text


XSI = "http://www.w3.org/2001/XMLSchema-instance"


@pytest.mark.parametrize("iface", ["soap", "soap11"])
@pytest.mark.parametrize(
    ("items", "message"),
    [
        (
            f'<item>1</item><item xmlns:i="{XSI}" i:nil="true"/>',
            '"numbers[1]": expected int, got null',
        ),
        ("<item>1</item><item></item>", '"numbers[1]": expected an integer'),
        ("<item>1</item><item><x>2</x></item>", '"numbers[1]": expected an integer, got an object'),
        ("<item>1</item><item>1_0</item>", '"numbers[1]": expected an integer'),
    ],
    ids=["nil-item", "empty-item", "element-item", "underscore"],
)
def test_bad_items_of_a_number_list(client: TestApp, iface: str, items: str, message: str) -> None:
    status, text = call(client, iface, f"<squares><numbers>{items}</numbers></squares>")
    assert status == 500 and text.startswith("SOAP-ENV:Client ") and message in text


@pytest.mark.parametrize("iface", ["soap", "soap11"])
def test_number_list_with_blanks_and_cdata(client: TestApp, iface: str) -> None:
    items = "<item> 2 </item>\n  <item><![CDATA[3]]></item>"
    status, text = call(client, iface, f"<squares><numbers>{items}</numbers></squares>")
    assert status == 200 and ">4<" in text and ">9<" in text
