"""SOAP encoding's multi-reference values in requests: an element with
``href="#x"`` (SOAP 1.1) or ``enc:ref="x"`` (SOAP 1.2) is read as the
element whose ``id`` (``enc:id``) is ``x``, as PHP's SoapClient (a value it
sends twice) and Axis (``multiRef`` elements beside the call) write them.
References that cannot be followed are client faults naming the argument;
they can neither loop nor multiply the work of reading a request. Elements
carrying absurdly many attributes are refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from werkzeug.test import Client

from ladon.interfaces._soapvalues import MAX_ATTRIBUTES
from ladon.server.wsgi import LadonWSGIApplication

SERVICES = Path(__file__).resolve().parents[1] / "services"
ENV11 = "http://schemas.xmlsoap.org/soap/envelope/"
ENV12 = "http://www.w3.org/2003/05/soap-envelope"
ENC11 = "http://schemas.xmlsoap.org/soap/encoding/"
ENC12 = "http://www.w3.org/2003/05/soap-encoding"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"
#: the namespace of the operation elements, as each WSDL gives it
OPERATION_NS = {
    "soap": "http://tempuri.org/",
    "soap11": "urn:Bookkeeping",
    "soap12": "urn:example:bookkeeping",
}
SOAP_IFACES = ["soap", "soap11", "soap12"]


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    app = LadonWSGIApplication(["bookkeeping"], [str(SERVICES)])
    yield Client(app)
    app.close()


def call(client: Client, iface: str, method: str, args: str, after: str = "") -> tuple[int, str]:
    """Post ``<method>args</method>`` (then ``after``, in the Body); the
    result's text, or the fault's string."""
    env = ENV12 if iface == "soap12" else ENV11
    body = (
        f'<e:Envelope xmlns:e="{env}" xmlns:enc="{ENC12 if iface == "soap12" else ENC11}" '
        f'xmlns:xsi="{XSI}" xmlns:xsd="{XSD}" xmlns:ns="{OPERATION_NS[iface]}"><e:Body>'
        f"<ns:{method}>{args}</ns:{method}>{after}</e:Body></e:Envelope>"
    )
    ctype = "application/soap+xml; charset=utf-8" if iface == "soap12" else "text/xml"
    resp = client.post(f"/Bookkeeping/{iface}", data=body.encode(), content_type=ctype)
    root = etree.fromstring(resp.get_data())
    if resp.status_code != 200:
        text = root.findtext(f".//{{{ENV11}}}Fault/faultstring")
        if text is None:
            text = root.findtext(f".//{{{ENV12}}}Reason/{{{ENV12}}}Text")
        return resp.status_code, text or ""
    results = root.findall(".//{*}result")
    assert len(results) == 1, resp.get_data()
    items = [i.text or "" for i in results[0]]
    return 200, ",".join(items) if len(results[0]) else results[0].text or ""


def refused(status: int, iface: str) -> bool:
    return status == (400 if iface == "soap12" else 500)


# -- read as the element referred to ------------------------------------------------------


def test_soap11_multiref_values_beside_the_call_axis_style(client: Client) -> None:
    """Axis: every complex value a multiRef beside the call; a list, a
    LadonType field, a scalar and a list item by reference."""
    status, text = call(
        client,
        "soap11",
        "balance",
        '<entries href="#id0"/><tags href="#id1"/>',
        '<multiRef id="id0" enc:root="0" xsi:type="enc:Array" enc:arrayType="ns:Entry[2]">'
        '<item href="#id2"/>'
        '<item xsi:type="ns:Entry"><name xsi:type="xsd:string">cake</name>'
        '<value href="#id3"/></item></multiRef>'
        '<multiRef id="id1" enc:root="0" xsi:type="enc:Array">'
        '<item xsi:type="xsd:string">a</item><item href="#id4"/></multiRef>'
        '<multiRef id="id2" enc:root="0" xsi:type="ns:Entry">'
        '<name href="#id4"/><value href="#id3"/></multiRef>'
        '<multiRef id="id3" enc:root="0" xsi:type="ns:Money">'
        '<amount xsi:type="xsd:double">2.5</amount><currency>EUR</currency></multiRef>'
        '<multiRef id="id4" enc:root="0" xsi:type="xsd:string">tea</multiRef>',
    )
    assert (status, text) == (200, "tea=2.5 EUR; cake=2.5 EUR | a,tea")


def inline(iface: str, ref: str) -> str:
    """PHP's form: the value written once with an id, referred to after."""
    id_attr = "enc:id" if iface == "soap12" else "id"
    ref_attr = "enc:ref" if iface == "soap12" else "href"
    return (
        f'<entries><item><name {id_attr}="n1">tea</name><value {id_attr}="m1">'
        "<amount>2.5</amount><currency>EUR</currency></value></item>"
        f'<item><name>cake</name><value {ref_attr}="{ref}m1"/></item>'
        f'<item><name {ref_attr}="{ref}n1"/><value {ref_attr}="{ref}m1"/></item></entries>'
        f'<tags><item>x</item><item {ref_attr}="{ref}n1"/></tags>'
    )


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_a_value_written_once_and_referred_to_php_style(client: Client, iface: str) -> None:
    status, text = call(client, iface, "balance", inline(iface, "#"))
    assert (status, text) == (200, "tea=2.5 EUR; cake=2.5 EUR; tea=2.5 EUR | x,tea")


def test_soap12_refs_may_omit_the_hash(client: Client) -> None:
    """SOAP 1.2 types enc:ref as an IDREF (no '#'); PHP writes '#' at first."""
    status, text = call(client, "soap12", "balance", inline("soap12", ""))
    assert (status, text) == (200, "tea=2.5 EUR; cake=2.5 EUR; tea=2.5 EUR | x,tea")


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_a_list_by_reference_is_not_lost(client: Client, iface: str) -> None:
    """Before: read as an empty list, HTTP 200."""
    id_attr, ref_attr = ("enc:id", "enc:ref") if iface == "soap12" else ("id", "href")
    args = f'<first {id_attr}="l1"><item>a</item><item>b</item></first><second {ref_attr}="#l1"/>'
    assert call(client, iface, "merge", args) == (200, "a,b,a,b")


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_a_scalar_by_reference_through_a_chain(client: Client, iface: str) -> None:
    id_attr, ref_attr = ("enc:id", "enc:ref") if iface == "soap12" else ("id", "href")
    args = f'<a {id_attr}="x" {ref_attr}="#y"/><b {id_attr}="y">40</b>'
    assert call(client, iface, "add", args) == (200, "80")


def test_soap11_attributes_of_the_target_count_nil(client: Client) -> None:
    after = '<multiRef id="x" xsi:type="xsd:long" xsi:nil="true"/>'
    status, text = call(client, "soap11", "add", '<a href="#x"/><b>1</b>', after)
    assert status == 500 and 'Argument "a"' in text and "null" in text


def test_soap_href_of_another_form_is_no_reference(client: Client) -> None:
    """``href="cid:..."`` names an attachment; other URIs are not followed."""
    args = '<first href="http://example.com/x"><item>a</item></first><second/>'
    assert call(client, "soap", "merge", args) == (200, "a")


def test_soap12_href_is_not_soap12_encoding(client: Client) -> None:
    args = '<first id="l1"><item>a</item></first><second href="#l1"/>'
    assert call(client, "soap12", "merge", args) == (200, "a")


# -- references that cannot be followed --------------------------------------------------


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_an_unknown_id_is_a_client_fault_naming_it(client: Client, iface: str) -> None:
    ref_attr = "enc:ref" if iface == "soap12" else "href"
    args = f'<first><item>a</item></first><second {ref_attr}="#nowhere"/>'
    status, text = call(client, iface, "merge", args)
    assert refused(status, iface)
    assert text == ("Argument \"second\": refers to id 'nowhere', which no element of the Body has")


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_an_id_given_twice_is_a_client_fault(client: Client, iface: str) -> None:
    id_attr, ref_attr = ("enc:id", "enc:ref") if iface == "soap12" else ("id", "href")
    args = (
        f'<first {id_attr}="d"><item>a</item></first>'
        f'<second><item {id_attr}="d">b</item><item {ref_attr}="#d"/></second>'
    )
    status, text = call(client, iface, "merge", args)
    assert refused(status, iface)
    assert 'Argument "second[1]"' in text and "'d', which more than one element has" in text


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_a_reference_cycle_is_a_client_fault(client: Client, iface: str) -> None:
    id_attr, ref_attr = ("enc:id", "enc:ref") if iface == "soap12" else ("id", "href")
    args = f'<a {id_attr}="x" {ref_attr}="#y"/><b {id_attr}="y" {ref_attr}="#x"/>'
    status, text = call(client, iface, "add", args)
    assert refused(status, iface)
    assert text.startswith('Argument "a": the reference to id ')
    assert "makes a cycle" in text


def test_an_element_referring_to_itself_is_a_cycle(client: Client) -> None:
    status, text = call(client, "soap", "add", '<a id="x" href="#x"/><b>1</b>')
    assert status == 500 and "id 'x' makes a cycle" in text


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_references_cannot_multiply_the_work(client: Client, iface: str) -> None:
    """One big value referred to by many items: the references are refused
    once they would read far more than the request holds."""
    id_attr, ref_attr = ("enc:id", "enc:ref") if iface == "soap12" else ("id", "href")
    big = "<pad/>" * 2000
    args = (
        f'<entries><item {id_attr}="e"><name>n</name>'
        f"<value><amount>1</amount><currency>EUR</currency></value>{big}</item>"
        + f'<item {ref_attr}="#e"/>' * 500
        + "</entries><tags/>"
    )
    status, text = call(client, iface, "balance", args)
    assert refused(status, iface)
    assert text.startswith('Argument "entries[')
    assert "the values read through references (href/id) amount to more than 100000" in text


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_references_within_the_budget_are_read(client: Client, iface: str) -> None:
    id_attr, ref_attr = ("enc:id", "enc:ref") if iface == "soap12" else ("id", "href")
    args = (
        f'<entries><item {id_attr}="e"><name>n</name>'
        "<value><amount>1</amount><currency>EUR</currency></value></item>"
        + f'<item {ref_attr}="#e"/>' * 3000
        + "</entries><tags/>"
    )
    status, text = call(client, iface, "balance", args)
    assert status == 200 and text.count("n=1 EUR") == 3001


# -- attributes --------------------------------------------------------------------------


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_more_attributes_than_the_limit_are_refused(client: Client, iface: str) -> None:
    many = " ".join(f'a{i}="{i}"' for i in range(MAX_ATTRIBUTES + 1))
    status, text = call(client, iface, "add", f"<a {many}>1</a><b>2</b>")
    assert refused(status, iface)
    assert text == (
        f'Argument "a": its element carries {MAX_ATTRIBUTES + 1} attributes; '
        f"at most {MAX_ATTRIBUTES} are read on one element"
    )
    status, text = call(client, iface, "merge", f"<first><item {many}>x</item></first><second/>")
    assert refused(status, iface) and text.startswith('Argument "first[0]": its element carries')


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_up_to_the_limit_and_nil_are_read(client: Client, iface: str) -> None:
    many = " ".join(f'a{i}="{i}"' for i in range(MAX_ATTRIBUTES - 1))
    assert call(client, iface, "add", f'<a {many} xsi:nil="false">1</a><b>2</b>') == (200, "3")
    status, text = call(client, iface, "add", f'<a {many} xsi:nil="true"/><b>2</b>')
    assert refused(status, iface) and 'Argument "a"' in text and "null" in text
