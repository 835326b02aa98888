"""End to end: the real ``zeep`` client against both SOAP flavours over a socket.

Every test loads the WSDL served at ``/<Service>/<iface>/description`` from the
``live_server`` fixture (a real HTTP server on 127.0.0.1), calls methods through
zeep and checks the Python values it hands back. Where zeep cannot show what the
server did (empty arrays, nil objects, faults before a WSDL operation exists),
the envelope is posted raw with :mod:`urllib` and the reply is parsed with lxml.

zeep behaviour these tests rely on (client side, not the server's doing):

* array arguments are passed as ``{"item": [...]}`` because every list type is
  a wrapper ``ArrayOfX`` complexType; a top-level array *result* is unwrapped to
  a plain Python list, a nested one stays ``{"item": [...]}``;
* an element with no items (``<result/>``) comes back as ``None``, so does an
  empty string;
* an ``xsi:nil="true"`` element of a complex type comes back as an object whose
  fields are all ``None`` (zeep ignores ``xsi:nil`` on complex types);
* rpc/encoded message parts cannot be optional, so on ``soap11`` zeep insists on
  every argument: ``xsd.SkipValue`` leaves one out, ``xsd.Nil`` sends a nil.
"""

from __future__ import annotations

import datetime
import decimal
import urllib.error
import urllib.request
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import zeep
import zeep.exceptions
from conftest import LiveServer
from lxml import etree
from zeep import xsd
from zeep.transports import Transport

from ladon import LadonType
from ladon import LadonWSGIApplication
from ladon import ladonize

pytestmark = pytest.mark.e2e

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
TEMPURI = "http://tempuri.org/"
ARRAYS_NS = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"

FLAVOURS = [pytest.param("soap", id="doclit"), pytest.param("soap11", id="rpc")]
SERVICES = ["Shapes", "Ledger"]

SHAPES_METHODS = {
    "add",
    "shout",
    "echo",
    "echo_bytes",
    "negate",
    "half",
    "squares",
    "reverse_words",
    "make_point",
    "mirror",
    "echo_polygon",
    "empty_polygon",
    "mirror_all",
    "measure",
    "divide",
    "fail",
}
LEDGER_METHODS = {
    "add",
    "next_day",
    "shift",
    "total",
    "echo_invoice",
    "maybe",
    "greet",
    "nothing",
    "find_line",
    "power",
}
METHODS = {"Shapes": SHAPES_METHODS, "Ledger": LEDGER_METHODS}

UTC = datetime.timezone.utc


# -- fixtures ---------------------------------------------------------------------------

ClientFactory = Callable[[str, str], zeep.Client]


@pytest.fixture(scope="module")
def zeep_client(live_server: Any) -> Iterator[ClientFactory]:
    """One zeep.Client per (service, interface), built on first use."""
    session = requests.Session()
    transport = Transport(session=session, timeout=5, operation_timeout=5)
    cache: dict[tuple[str, str], zeep.Client] = {}

    def get(service: str, iface: str) -> zeep.Client:
        key = (service, iface)
        if key not in cache:
            cache[key] = zeep.Client(
                f"{live_server.url}/{service}/{iface}/description", transport=transport
            )
        return cache[key]

    yield get
    session.close()


@pytest.fixture(params=FLAVOURS)
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture()
def shapes(zeep_client: ClientFactory, flavour: str) -> Any:
    return zeep_client("Shapes", flavour).service


@pytest.fixture()
def ledger(zeep_client: ClientFactory, flavour: str) -> Any:
    return zeep_client("Ledger", flavour).service


@pytest.fixture()
def omit(flavour: str) -> tuple[Any, ...]:
    """What to pass for a trailing argument the call leaves out.

    doc/literal declares defaulted parameters ``minOccurs="0"``, so zeep lets
    them be left out; rpc parts are always required and need ``SkipValue``.
    """
    return () if flavour == "soap" else (xsd.SkipValue,)


# -- raw helpers ----------------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    status: int
    content_type: str
    body: bytes
    root: etree._Element


def parse_strict(body: bytes) -> etree._Element:
    """Parse as namespace-well-formed XML (lxml raises on an undeclared prefix)."""
    root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    for el in root.iter():
        if isinstance(el.tag, str):
            assert ":" not in etree.QName(el).localname, el.tag
            for key in el.attrib:
                assert ":" not in etree.QName(key).localname, key
    return root


def http(url: str, body: bytes | None = None) -> tuple[int, str, bytes]:
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
    req = urllib.request.Request(url, data=body, headers=headers if body is not None else {})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.headers["Content-Type"], err.read()


def post_raw(base_url: str, service: str, flavour: str, method_xml: str) -> Raw:
    envelope = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body>{method_xml}</s:Body></s:Envelope>'
    )
    status, ctype, body = http(f"{base_url}/{service}/{flavour}", envelope.encode("utf-8"))
    return Raw(status, ctype, body, parse_strict(body))


def response_element(raw: Raw) -> etree._Element:
    assert raw.status == 200, raw.body
    body = raw.root.find(f"{{{SOAP_ENV}}}Body")
    assert body is not None
    return body[0]


def result_element(raw: Raw) -> etree._Element:
    """The ``<result>`` child of the response element (qualified or not)."""
    resp = response_element(raw)
    found = [c for c in resp if etree.QName(c).localname == "result"]
    assert len(found) == 1, etree.tostring(resp)
    return found[0]


def fault_of(raw: Raw) -> tuple[str, str, str | None]:
    assert raw.status == 500, raw.body
    assert raw.content_type.startswith("text/xml"), raw.content_type
    fault = raw.root.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault is not None, raw.body
    code = fault.findtext("faultcode")
    string = fault.findtext("faultstring")
    assert code is not None and string is not None
    return code, string, fault.findtext("detail")


def is_nil(el: etree._Element) -> bool:
    return el.get(XSI_NIL) == "true"


def children(el: etree._Element) -> list[etree._Element]:
    return [c for c in el if isinstance(c.tag, str)]


# -- WSDL loading ---------------------------------------------------------------------


@pytest.mark.parametrize("iface", ["soap", "soapdocumentliteral", "soap11"])
@pytest.mark.parametrize("service", SERVICES)
def test_zeep_loads_the_wsdl_with_every_method_bound_to_the_live_endpoint(
    zeep_client: ClientFactory, live_server: Any, service: str, iface: str
) -> None:
    client = zeep_client(service, iface)
    port = client.wsdl.services[service].ports[service]
    assert set(port.binding._operations) == METHODS[service]
    # the alias describes the same endpoint as ``soap``
    endpoint = "soap" if iface == "soapdocumentliteral" else iface
    assert port.binding_options["address"] == f"{live_server.url}/{service}/{endpoint}"


@pytest.mark.parametrize("iface", ["soap", "soapdocumentliteral", "soap11"])
@pytest.mark.parametrize("service", SERVICES)
def test_wsdl_is_namespace_valid_xml_served_as_text_xml(
    live_server: Any, service: str, iface: str
) -> None:
    status, ctype, body = http(f"{live_server.url}/{service}/{iface}/description")
    assert status == 200
    assert ctype.startswith("text/xml")
    root = parse_strict(body)
    assert etree.QName(root).localname == "definitions"


def test_the_alias_answers_like_soap(zeep_client: ClientFactory) -> None:
    assert zeep_client("Shapes", "soapdocumentliteral").service.add(40, 2) == 42
    assert zeep_client("Ledger", "soapdocumentliteral").service.greet("alias", ".") == (
        "Hello, alias."
    )


# -- Shapes: primitives ---------------------------------------------------------------


@pytest.mark.parametrize(("a", "b", "total"), [(2, 3, 5), (-7, 2, -5), (2**40, 1, 2**40 + 1)])
def test_add_returns_the_integer_sum(shapes: Any, a: int, b: int, total: int) -> None:
    result = shapes.add(a, b)
    assert result == total
    assert type(result) is int


def test_shout_uppercases_unicode(shapes: Any) -> None:
    assert shapes.shout("hé") == "HÉ!"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("HÉ!", id="accents"),
        pytest.param("smile \U0001f600 ok", id="emoji"),
        pytest.param("a &amp; b <c>", id="entities"),
        pytest.param("x & y < z > w \" ' q", id="specials"),
        pytest.param("  a &amp; b <c>  ", id="outer-spaces"),
        pytest.param("\n\tindented\r\n", id="outer-newlines"),
        pytest.param("a  &  b", id="spaces-around-amp"),
    ],
)
def test_echo_returns_text_unaltered(shapes: Any, text: str) -> None:
    assert shapes.echo(text) == text


def test_echo_text_with_spaces_around_entities_is_kept_on_the_wire(
    live_server: Any, flavour: str
) -> None:
    raw = post_raw(
        live_server.url,
        "Shapes",
        flavour,
        "<echo><text>  a &amp; b &lt;c&gt; <![CDATA[<d>]]>  </text></echo>",
    )
    assert result_element(raw).text == "  a & b <c> <d>  "


def test_echo_of_an_empty_string_sends_an_empty_non_nil_result(
    shapes: Any, live_server: Any, flavour: str
) -> None:
    # zeep reads an empty string element as None
    assert shapes.echo("") in (None, "")
    result = result_element(post_raw(live_server.url, "Shapes", flavour, "<echo><text/></echo>"))
    assert not is_nil(result)
    assert (result.text or "") == ""


@pytest.mark.parametrize(
    ("data", "expected"),
    [(b"abc", "abc"), ("héllo \U0001f600".encode(), "héllo \U0001f600")],
    ids=["ascii", "utf8"],
)
def test_echo_bytes_round_trips_as_the_declared_xsd_string(
    shapes: Any, data: bytes, expected: str
) -> None:
    # bytes are declared xsd:string (as in Ladon 1.0): zeep sends the UTF-8 text
    # and hands back str
    assert shapes.echo_bytes(data) == expected


@pytest.mark.parametrize("flag", [True, False])
def test_negate_flips_a_boolean(shapes: Any, flag: bool) -> None:
    assert shapes.negate(flag) is (not flag)


@pytest.mark.parametrize(("x", "half"), [(5, 2.5), (2e-05, 1e-05), (-3.0, -1.5)])
def test_half_returns_a_float(shapes: Any, x: float, half: float) -> None:
    result = shapes.half(x)
    assert isinstance(result, float)
    assert result == half


# -- Shapes: lists --------------------------------------------------------------------


def test_squares_maps_a_list_of_ints(shapes: Any) -> None:
    assert shapes.squares({"item": [1, 2, 3]}) == [1, 4, 9]


def test_squares_of_a_single_item(shapes: Any) -> None:
    assert shapes.squares({"item": [7]}) == [49]


def test_reverse_words_returns_a_list_of_strings(shapes: Any) -> None:
    assert shapes.reverse_words({"item": ["un", "deux", "trois é"]}) == ["trois é", "deux", "un"]


def test_squares_of_an_empty_list_is_an_empty_result_element(
    shapes: Any, live_server: Any, flavour: str
) -> None:
    # zeep maps an array element with no items to None
    assert shapes.squares({"item": []}) in (None, [])
    raw = post_raw(live_server.url, "Shapes", flavour, "<squares><numbers/></squares>")
    result = result_element(raw)
    assert children(result) == []
    assert not is_nil(result)  # an empty list, not None


def test_mirror_all_swaps_every_point(shapes: Any) -> None:
    points = {"item": [{"x": 1, "y": 2}, {"x": -3, "y": 4}]}
    result = shapes.mirror_all(points)
    assert [(p.x, p.y) for p in result] == [(2, 1), (4, -3)]


def test_mirror_all_of_no_points_is_an_empty_result_element(
    shapes: Any, live_server: Any, flavour: str
) -> None:
    assert shapes.mirror_all({"item": []}) in (None, [])
    raw = post_raw(live_server.url, "Shapes", flavour, "<mirror_all><points/></mirror_all>")
    result = result_element(raw)
    assert children(result) == []
    assert not is_nil(result)


# -- Shapes: LadonTypes -----------------------------------------------------------------


def test_make_point_returns_a_point(shapes: Any) -> None:
    p = shapes.make_point(1, 2)
    assert (p.x, p.y) == (1, 2)


def test_mirror_swaps_the_coordinates_of_a_point(shapes: Any) -> None:
    p = shapes.mirror({"x": 1, "y": 2})
    assert (p.x, p.y) == (2, 1)


def test_measure_returns_the_fields_of_the_type(shapes: Any) -> None:
    m = shapes.measure(2.5)
    assert m.whole == 2
    assert m.exact == 2.5


def test_ladontype_result_shape_on_the_wire(live_server: Any, flavour: str) -> None:
    raw = post_raw(live_server.url, "Shapes", flavour, "<measure><value>2.5</value></measure>")
    resp = response_element(raw)
    if flavour == "soap":
        # document/literal keeps Ladon 1.0's flattened shape
        holder = resp
        assert etree.QName(resp).namespace == TEMPURI
    else:
        holder = result_element(raw)
    assert [etree.QName(c).localname for c in children(holder)] == ["exact", "whole"]
    assert [c.text for c in children(holder)] == ["2.5", "2"]


def test_echo_polygon_round_trips_points_style_and_tags(shapes: Any) -> None:
    poly = {
        "name": "tri é",
        "points": {"item": [{"x": 0, "y": 0}, {"x": 3, "y": 0}, {"x": 0, "y": 4}]},
        "style": {"color": "red", "dashed": True, "width": 1.5},
        "tags": {"item": ["a", "b c"]},
    }
    result = shapes.echo_polygon(poly)
    assert result.name == "tri é"
    assert [(p.x, p.y) for p in result.points.item] == [(0, 0), (3, 0), (0, 4)]
    assert (result.style.color, result.style.dashed, result.style.width) == ("red", True, 1.5)
    assert result.tags.item == ["a", "b c"]


def test_echo_polygon_fills_style_defaults(shapes: Any) -> None:
    poly = {"name": "n", "points": {"item": [{"x": 1, "y": 1}]}, "style": {"dashed": True}}
    result = shapes.echo_polygon(poly)
    assert (result.style.color, result.style.dashed, result.style.width) == ("black", True, None)


def test_echo_polygon_with_no_style_sends_a_nil_style(
    shapes: Any, live_server: Any, flavour: str
) -> None:
    poly = {"name": "n", "points": {"item": [{"x": 1, "y": 2}]}, "style": None, "tags": None}
    result = shapes.echo_polygon(poly)
    assert result.name == "n"
    assert [(p.x, p.y) for p in result.points.item] == [(1, 2)]
    # zeep ignores xsi:nil on complex types: it gives either None or all-None fields
    assert result.style is None or (
        result.style.color,
        result.style.dashed,
        result.style.width,
    ) == (None, None, None)

    raw = post_raw(
        live_server.url,
        "Shapes",
        flavour,
        "<echo_polygon><polygon><name>n</name><points><item><x>1</x><y>2</y></item></points>"
        '<style xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:nil="true"/>'
        "</polygon></echo_polygon>",
    )
    holder = response_element(raw) if flavour == "soap" else result_element(raw)
    fields = {etree.QName(c).localname: c for c in children(holder)}
    assert list(fields) == ["name", "points", "style", "tags"]
    assert is_nil(fields["style"])
    assert children(fields["style"]) == []


def test_empty_polygon_has_empty_lists_and_no_style(
    shapes: Any, live_server: Any, flavour: str
) -> None:
    result = shapes.empty_polygon("e")
    assert result.name == "e"
    assert result.points in (None, [], {"item": []}) or result.points.item == []
    assert result.tags in (None, [], {"item": []}) or result.tags.item == []

    raw = post_raw(
        live_server.url, "Shapes", flavour, "<empty_polygon><name>e</name></empty_polygon>"
    )
    holder = response_element(raw) if flavour == "soap" else result_element(raw)
    fields = {etree.QName(c).localname: c for c in children(holder)}
    assert fields["name"].text == "e"
    for name in ("points", "tags"):
        assert children(fields[name]) == []
        assert not is_nil(fields[name])
    assert is_nil(fields["style"])


def test_list_items_use_the_arrays_namespace_on_doclit(live_server: Any) -> None:
    raw = post_raw(
        live_server.url,
        "Shapes",
        "soap",
        "<squares><numbers><item>2</item><item>5</item></numbers></squares>",
    )
    items = children(result_element(raw))
    assert [etree.QName(i).namespace for i in items] == [ARRAYS_NS, ARRAYS_NS]
    assert [i.text for i in items] == ["4", "25"]


# -- Shapes: defaults -----------------------------------------------------------------


def test_divide_uses_the_default_divisor_when_b_is_omitted(
    shapes: Any, omit: tuple[Any, ...]
) -> None:
    assert shapes.divide(7, *omit) == 3


def test_divide_uses_the_given_divisor(shapes: Any) -> None:
    assert shapes.divide(7, 3) == 2


# -- Ledger ---------------------------------------------------------------------------


def test_ledger_add(ledger: Any) -> None:
    assert ledger.add(20, 22) == 42


def test_next_day_crosses_a_leap_day(ledger: Any) -> None:
    result = ledger.next_day(datetime.date(2024, 2, 28))
    assert result == datetime.date(2024, 2, 29)
    assert type(result) is datetime.date


@pytest.mark.parametrize(
    ("when", "hours", "expected"),
    [
        (
            datetime.datetime(2024, 1, 1, 23, tzinfo=UTC),
            3,
            datetime.datetime(2024, 1, 2, 2, tzinfo=UTC),
        ),
        (
            datetime.datetime(
                2024, 3, 1, 12, 0, 0, 123456, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))
            ),
            2,
            datetime.datetime(2024, 3, 1, 19, 0, 0, 123456, tzinfo=UTC),
        ),
    ],
    ids=["utc", "offset-micro"],
)
def test_shift_keeps_an_aware_datetime(
    ledger: Any, when: datetime.datetime, hours: int, expected: datetime.datetime
) -> None:
    result = ledger.shift(when, hours)
    assert result.tzinfo is not None
    assert result.utcoffset() == when.utcoffset()
    assert result == expected


def test_shift_defaults_to_one_hour(ledger: Any, omit: tuple[Any, ...]) -> None:
    when = datetime.datetime(2024, 1, 1, 23, 30, tzinfo=UTC)
    assert ledger.shift(when, *omit) == datetime.datetime(2024, 1, 2, 0, 30, tzinfo=UTC)


def _invoice(**changes: Any) -> dict[str, Any]:
    inv: dict[str, Any] = {
        "number": 7,
        "issued": datetime.date(2024, 1, 2),
        "created": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        "total": decimal.Decimal("1.10"),
        "note": None,
        "lines": {
            "item": [
                {"text": "tea é", "amount": decimal.Decimal("1.10")},
                {"text": "cake", "amount": decimal.Decimal("2.05")},
            ]
        },
        "paid": True,
    }
    inv.update(changes)
    return inv


def test_total_sums_decimals_exactly(ledger: Any) -> None:
    result = ledger.total(_invoice())
    assert isinstance(result, decimal.Decimal)
    assert result == decimal.Decimal("3.15")
    assert str(result) == "3.15"


def test_total_keeps_full_decimal_precision(ledger: Any) -> None:
    lines = {
        "item": [
            {"text": "a", "amount": decimal.Decimal("0.1000000000000000000000000001")},
            {"text": "b", "amount": decimal.Decimal("-1E-7")},
        ]
    }
    assert ledger.total(_invoice(lines=lines)) == decimal.Decimal("0.0999999000000000000000000001")


def test_decimals_are_written_in_xsd_decimal_form(live_server: Any, flavour: str) -> None:
    raw = post_raw(
        live_server.url,
        "Ledger",
        flavour,
        "<total><invoice><created>2024-01-02T03:04:05Z</created><issued>2024-01-02</issued>"
        "<lines><item><text>t</text><amount>-0.00000010</amount></item></lines>"
        "<number>1</number><total>1000</total></invoice></total>",
    )
    # xsd:decimal has no exponent form (Python writes this sum -1E-7)
    assert result_element(raw).text == "-0.00000010"


def test_echo_invoice_round_trips_every_field(ledger: Any) -> None:
    result = ledger.echo_invoice(_invoice())
    assert result.number == 7
    assert result.issued == datetime.date(2024, 1, 2)
    assert result.created == datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert result.created.utcoffset() == datetime.timedelta(0)
    assert str(result.total) == "1.10"
    assert result.note is None
    assert result.paid is True
    assert [(ln.text, str(ln.amount)) for ln in result.lines.item] == [
        ("tea é", "1.10"),
        ("cake", "2.05"),
    ]


def test_echo_invoice_with_a_note_and_default_paid(ledger: Any) -> None:
    inv = _invoice(note="  see <attached> & sign  ")
    del inv["paid"]
    result = ledger.echo_invoice(inv)
    assert result.note == "  see <attached> & sign  "
    assert result.paid is False


def test_echo_invoice_sends_note_none_as_nil(live_server: Any, flavour: str) -> None:
    raw = post_raw(
        live_server.url,
        "Ledger",
        flavour,
        "<echo_invoice><invoice><created>2024-01-02T03:04:05Z</created>"
        "<issued>2024-01-02</issued><lines/><number>1</number><total>1.10</total>"
        "</invoice></echo_invoice>",
    )
    holder = response_element(raw) if flavour == "soap" else result_element(raw)
    fields = {etree.QName(c).localname: c for c in children(holder)}
    assert list(fields) == ["created", "issued", "lines", "note", "number", "paid", "total"]
    assert is_nil(fields["note"])
    assert fields["total"].text == "1.10"
    assert fields["paid"].text == "false"


def test_maybe_returns_text(ledger: Any) -> None:
    assert ledger.maybe(" x y ") == " x y "


def test_maybe_with_an_explicit_nil_returns_none(ledger: Any) -> None:
    assert ledger.maybe(xsd.Nil) is None


def test_maybe_with_none_returns_none_on_doclit(zeep_client: ClientFactory) -> None:
    # rpc parts are never nillable for zeep, so only doc/literal takes a bare None
    assert zeep_client("Ledger", "soap").service.maybe(None) is None


def test_maybe_omitted_returns_none(ledger: Any, omit: tuple[Any, ...]) -> None:
    if not omit:
        assert ledger.maybe() is None
    else:
        assert ledger.maybe(*omit) is None


def test_maybe_none_is_a_nil_result_on_the_wire(live_server: Any, flavour: str) -> None:
    raw = post_raw(
        live_server.url,
        "Ledger",
        flavour,
        '<maybe><text xmlns:x="http://www.w3.org/2001/XMLSchema-instance" x:nil="true"/></maybe>',
    )
    assert is_nil(result_element(raw))


def test_greet_with_no_arguments_uses_both_defaults(
    ledger: Any, flavour: str, omit: tuple[Any, ...]
) -> None:
    result = ledger.greet() if flavour == "soap" else ledger.greet(*omit, *omit)
    assert result == "Hello, world!"


def test_greet_with_arguments(ledger: Any) -> None:
    assert ledger.greet("Zoë", "?") == "Hello, Zoë?"


def test_nothing_returns_an_empty_list(ledger: Any, live_server: Any, flavour: str) -> None:
    assert ledger.nothing() in (None, [])
    result = result_element(post_raw(live_server.url, "Ledger", flavour, "<nothing/>"))
    assert children(result) == []
    assert not is_nil(result)


# -- faults through zeep ----------------------------------------------------------------


def test_client_fault_reaches_zeep(shapes: Any) -> None:
    with pytest.raises(zeep.exceptions.Fault) as info:
        shapes.fail("client")
    assert info.value.message == "you asked for it"
    assert info.value.code.endswith("Client")


def test_server_fault_reaches_zeep_with_its_detail(shapes: Any) -> None:
    with pytest.raises(zeep.exceptions.Fault) as info:
        shapes.fail("server")
    assert info.value.message == "backend down: server"
    assert info.value.code.endswith("Server")
    assert info.value.detail is not None
    assert info.value.detail.text == "custom detail text"


def test_unexpected_error_reaches_zeep_as_a_generic_server_fault(shapes: Any) -> None:
    with pytest.raises(zeep.exceptions.Fault) as info:
        shapes.fail("boom")
    assert info.value.message == "Internal server error"
    assert info.value.code.endswith("Server")


def test_missing_argument_reaches_zeep_as_a_client_fault(shapes: Any) -> None:
    with pytest.raises(zeep.exceptions.Fault) as info:
        shapes.add(1, xsd.SkipValue)
    assert info.value.code.endswith("Client")
    assert '"b"' in info.value.message


# -- faults on the wire ---------------------------------------------------------------


def test_unexpected_error_leaks_nothing(live_server: Any, flavour: str) -> None:
    raw = post_raw(live_server.url, "Shapes", flavour, "<fail><how>boom</how></fail>")
    code, string, _detail = fault_of(raw)
    assert code == "SOAP-ENV:Server"
    assert string == "Internal server error"
    for secret in (b"passwd", b"Traceback", b".py", b"secret", b"RuntimeError"):
        assert secret not in raw.body


@pytest.mark.parametrize(
    ("method_xml", "code", "string", "detail"),
    [
        ("<fail><how>client</how></fail>", "SOAP-ENV:Client", "you asked for it", None),
        (
            "<fail><how>server</how></fail>",
            "SOAP-ENV:Server",
            "backend down: server",
            "custom detail text",
        ),
    ],
    ids=["client", "server"],
)
def test_service_faults_are_http_500_with_qualified_codes(
    live_server: Any, flavour: str, method_xml: str, code: str, string: str, detail: str | None
) -> None:
    got = fault_of(post_raw(live_server.url, "Shapes", flavour, method_xml))
    assert got == (code, string, detail)


@pytest.mark.parametrize(
    ("service", "method_xml", "mentions"),
    [
        pytest.param("Shapes", "<add><a>x</a><b>1</b></add>", ['"a"'], id="shapes-wrong-type"),
        pytest.param("Shapes", "<add><a>1</a></add>", ['"b"'], id="shapes-missing"),
        pytest.param("Shapes", "<nosuch/>", ["nosuch"], id="shapes-unknown-method"),
        pytest.param(
            "Shapes", "<add><a>1</a><b>2</b><c>3</c></add>", ["'c'"], id="shapes-extra-arg"
        ),
        pytest.param("Ledger", "<add><a>1</a><b>1.5</b></add>", ['"b"'], id="ledger-wrong-type"),
        pytest.param(
            "Ledger", "<next_day><day>soon</day></next_day>", ['"day"'], id="ledger-bad-date"
        ),
        pytest.param("Ledger", "<next_day/>", ['"day"'], id="ledger-missing"),
        pytest.param("Ledger", "<launch/>", ["launch"], id="ledger-unknown-method"),
    ],
)
def test_bad_requests_are_client_faults_naming_the_problem(
    live_server: Any, flavour: str, service: str, method_xml: str, mentions: list[str]
) -> None:
    raw = post_raw(live_server.url, service, flavour, method_xml)
    code, string, _detail = fault_of(raw)
    assert code == "SOAP-ENV:Client"
    for word in mentions:
        assert word in string
    assert b"Traceback" not in raw.body


# -- namespace validity of sampled responses ------------------------------------------


@pytest.mark.parametrize(
    ("service", "method_xml"),
    [
        ("Shapes", "<empty_polygon><name>e</name></empty_polygon>"),
        ("Shapes", "<mirror_all><points><item><x>1</x><y>2</y></item></points></mirror_all>"),
        ("Shapes", "<measure><value>1e-05</value></measure>"),
        ("Shapes", "<echo><text>\U0001f600 &amp;</text></echo>"),
        ("Shapes", "<fail><how>server</how></fail>"),
        ("Ledger", '<maybe><text xmlns:i="urn:x" i:nil="1" /></maybe>'),
        ("Ledger", "<nothing/>"),
        ("Ledger", "<greet/>"),
    ],
    ids=[
        "empty_polygon",
        "mirror_all",
        "measure",
        "echo",
        "fault",
        "maybe-nil",
        "nothing",
        "greet",
    ],
)
def test_sampled_responses_are_namespace_valid_xml(
    live_server: Any, flavour: str, service: str, method_xml: str
) -> None:
    # post_raw parses strictly: an undeclared prefix fails here
    raw = post_raw(live_server.url, service, flavour, method_xml)
    assert raw.content_type.startswith("text/xml")
    assert etree.QName(raw.root).namespace == SOAP_ENV
    assert raw.body.startswith(b"<?xml")


# -- the WSDL never promises less than the server sends ------------------------------------


def test_a_nil_ladontype_result_reaches_zeep_as_none(ledger: Any) -> None:
    found = ledger.find_line("tea")
    assert (found.text, found.amount) == ("tea", decimal.Decimal("1.50"))
    assert ledger.find_line("") is None


def test_an_int_result_beyond_xsd_long_is_a_server_fault(ledger: Any) -> None:
    assert ledger.power(2, 63 - 1) == 2**62
    assert ledger.power(-2, 63) == -(2**63)  # the lowest xsd:long
    with pytest.raises(zeep.exceptions.Fault) as info:
        ledger.power(2, 63)
    assert info.value.code.endswith("Server")
    assert "out of the range of xsd:long" in info.value.message


def test_the_wsdl_publishes_int_as_xsd_long(zeep_client: ClientFactory, flavour: str) -> None:
    wsdl = etree.fromstring(
        requests.get(f"{zeep_client('Ledger', flavour).wsdl.location}", timeout=5).content
    )
    xs = "{http://www.w3.org/2001/XMLSchema}"
    types = {el.get("type") for el in wsdl.iter(f"{xs}element") if el.get("name") == "base"}
    types |= {el.get("type") for el in wsdl.iter() if el.get("name") == "base"}
    assert types - {None} == {"xsd:long"}


class Reading(LadonType):
    value: int


class Meter:
    """Results that break xsd:long deep inside: the fault names where."""

    @ladonize()
    def readings(self, big_at: int) -> list[Reading]:
        return [Reading(value=2**70 if i == big_at else i) for i in range(3)]

    @ladonize()
    def reading(self) -> Reading:
        return Reading(value=-(2**64))

    @ladonize()
    def counts(self, big_at: int) -> list[int]:
        return [2**64 if i == big_at else i for i in range(3)]


@pytest.fixture(scope="module")
def meter_url() -> Iterator[str]:
    app = LadonWSGIApplication([Meter])
    server = LiveServer(app)
    yield server.url
    server.stop()
    app.close()


@pytest.mark.parametrize("iface", ["soap", "soap11", "soap12"])
def test_an_int_beyond_xsd_long_inside_a_result_is_named_by_its_path(
    meter_url: str, iface: str
) -> None:
    meter = zeep.Client(f"{meter_url}/Meter/{iface}/description").service
    assert [r.value for r in meter.readings(-1)] == [0, 1, 2]
    for method, args, path in (
        ("readings", (1,), "result[1].value"),
        ("reading", (), "result.value"),
        ("counts", (2,), "result[2]"),
    ):
        with pytest.raises(zeep.exceptions.Fault) as info:
            meter[method](*args)
        assert info.value.message.startswith(f'Method result "{path}": the integer is out of'), (
            info.value.message
        )
