"""End to end: the real ``suds`` client (``suds-community``) against both SOAP
flavours over a socket.

Every test builds a :class:`suds.client.Client` on the WSDL served at
``/<Service>/<iface>/description`` by a real HTTP server on 127.0.0.1 (the
session ``live_server`` for Shapes and Ledger, a server of this module with its
own thread backend for the task service Jobs), calls methods through suds and
checks the Python values it hands back. Where suds hides what the server did,
the test reads what suds sent (``client.last_sent()``) or the raw reply (a
client built with ``retxml=True``), parsed strictly with lxml.

Every client is built with ``cache=None``, so suds writes nothing under the
user's home and never reads a stale WSDL. Its transport is suds's own
:class:`~suds.transport.http.HttpTransport`, subclassed only to record the HTTP
status of each reply: suds itself reports a fault that came with any status as
HTTP 500.

suds behaviour these tests rely on (client side, not the server's doing):

* array arguments are passed as ``{"item": [...]}``, since every list type is
  a wrapper ``ArrayOfX``; an array result is an ``ArrayOfX`` object whose
  ``item`` is the Python list. A plain Python list is not an array to suds: on
  doc/literal it repeats the parameter element once per value (the server
  answers with a Client fault), on rpc it raises ``suds.TypeNotFound`` before
  sending anything;
* doc/literal wrapper responses are unwrapped: a one-field response gives the
  value itself (``add`` -> ``5``; a task start -> the task id), the flattened
  fields of a LadonType result come back as a ``reply`` object; rpc gives the
  ``result`` part (a typed object for LadonTypes, e.g. ``TaskInfoResponse``);
* an element with no content comes back as ``None`` where suds takes it to be
  nillable and as the empty text ``""`` elsewhere: an empty string result is
  ``None``, an empty list result is ``""``, an empty list field is ``""`` on
  doc/literal (suds looks at the complex type there, not at the element's
  ``nillable``) and ``None`` on rpc; ``xsi:nil`` always gives ``None``,
  complex types included;
* ``None`` leaves out an optional (``minOccurs="0"``) element and any rpc part,
  so trailing defaulted parameters can simply be left out on both flavours;
  ``None`` for a required doc/literal element sends it empty.
  ``suds.null()`` sends ``xsi:nil="true"``, but only where the WSDL declares
  ``nillable="true"``; a WSDL 1.1 rpc part cannot, so there suds sends an
  empty element (an empty string);
* text is escaped except where it already looks like an entity reference:
  ``"a &amp; b"`` is sent as ``a &amp; b`` and so means ``"a & b"``; a
  carriage return is sent raw, so XML line-end handling reads ``"\\r\\n"`` as
  ``"\\n"``. (The server keeps both: its replies write ``&amp;amp;`` and
  ``&#13;``, as the zeep tests show.) All other text round-trips unaltered;
* ``bytes`` values are sent as ``str(value)`` (``"b'abc'"``), so a bytes
  parameter (declared ``xsd:string``, as in Ladon 1.0) is given text;
* ``decimal.Decimal`` is sent exactly but in canonical form, without trailing
  zeros (``Decimal("1.10")`` -> ``1.1``);
* dates and datetimes come back as :mod:`datetime` objects, aware datetimes
  with suds's own tzinfo classes; strings as ``suds.sax.text.Text`` (a ``str``);
* a fault raises ``suds.WebFault``: ``.fault`` has ``faultcode``,
  ``faultstring`` and, when sent, ``detail``; ``.document`` is the reply.
"""

from __future__ import annotations

import datetime
import decimal
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import LiveServer
from lxml import etree

from ladon.server.wsgi import LadonWSGIApplication
from ladon.tasks import ThreadTaskBackend

try:
    import suds
    import suds.client
    from suds.transport import TransportError
    from suds.transport.http import HttpTransport
except ImportError as exc:  # pragma: no cover - only without the test extra
    pytest.fail(
        f"the suds SOAP client is missing ({exc}); install it with: pip install -e '.[test]'",
        pytrace=False,
    )

pytestmark = pytest.mark.e2e

TIMEOUT = 5.0
SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"

FLAVOURS = [pytest.param("soap", id="doclit"), pytest.param("soap11", id="rpc")]
TASK_SUFFIXES = ("", "_progress", "_result", "_cancel", "_wait")
FINISHED = ("succeeded", "failed", "cancelled")

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

UTC = datetime.timezone.utc


# -- clients ----------------------------------------------------------------------------


class StatusTransport(HttpTransport):  # type: ignore[misc]  # suds is untyped
    """suds's HTTP transport, recording the HTTP status of every reply."""

    def __init__(self) -> None:
        super().__init__(timeout=TIMEOUT)
        self.statuses: list[int] = []

    def send(self, request: Any) -> Any:
        try:
            reply = super().send(request)
        except TransportError as err:
            self.statuses.append(err.httpcode)
            raise
        self.statuses.append(reply.code)
        return reply


def make_client(base_url: str, service: str, iface: str, **options: Any) -> Any:
    return suds.client.Client(
        f"{base_url}/{service}/{iface}/description",
        cache=None,
        transport=StatusTransport(),
        **options,
    )


ClientFactory = Callable[..., Any]


@pytest.fixture(scope="module")
def jobs_server() -> Iterator[LiveServer]:
    """The task service on its own live server and thread backend."""
    app = LadonWSGIApplication(
        ["task_services"],
        [str(SERVICES_DIR)],
        tasks=ThreadTaskBackend(max_workers=2, result_ttl=60.0),
    )
    server = LiveServer(app)
    yield server
    server.stop()
    app.close()


@pytest.fixture(scope="module")
def suds_client(live_server: LiveServer, jobs_server: LiveServer) -> ClientFactory:
    """One suds client per (service, interface, raw), built on first use;
    ``raw=True`` gives a client whose calls return the reply bytes."""
    cache: dict[tuple[str, str, bool], Any] = {}

    def get(service: str, iface: str, raw: bool = False) -> Any:
        key = (service, iface, raw)
        if key not in cache:
            base = jobs_server.url if service == "Jobs" else live_server.url
            cache[key] = make_client(base, service, iface, retxml=raw)
        return cache[key]

    return get


@pytest.fixture(params=FLAVOURS)
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture()
def shapes_client(suds_client: ClientFactory, flavour: str) -> Any:
    return suds_client("Shapes", flavour)


@pytest.fixture()
def shapes(shapes_client: Any) -> Any:
    return shapes_client.service


@pytest.fixture()
def ledger_client(suds_client: ClientFactory, flavour: str) -> Any:
    return suds_client("Ledger", flavour)


@pytest.fixture()
def ledger(ledger_client: Any) -> Any:
    return ledger_client.service


@pytest.fixture()
def jobs_client(suds_client: ClientFactory, flavour: str) -> Any:
    return suds_client("Jobs", flavour)


@pytest.fixture()
def jobs(jobs_client: Any) -> Any:
    return jobs_client.service


# -- XML helpers ------------------------------------------------------------------------


def parse_strict(body: bytes) -> etree._Element:
    """Parse as namespace-well-formed XML (lxml raises on an undeclared prefix)."""
    root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    for el in root.iter():
        if isinstance(el.tag, str):
            assert ":" not in etree.QName(el).localname, el.tag
            for key in el.attrib:
                assert ":" not in etree.QName(key).localname, key
    return root


def children(el: etree._Element) -> list[etree._Element]:
    return [c for c in el if isinstance(c.tag, str)]


def fields_of(el: etree._Element) -> dict[str, etree._Element]:
    return {etree.QName(c).localname: c for c in children(el)}


def is_nil(el: etree._Element) -> bool:
    return el.get(XSI_NIL) == "true"


def reply_holder(reply: bytes, flavour: str) -> etree._Element:
    """The element holding the result of a raw reply: ``<result>``, or on
    doc/literal for a LadonType result the response element itself."""
    root = parse_strict(reply)
    assert etree.QName(root).namespace == SOAP_ENV
    body = root.find(f"{{{SOAP_ENV}}}Body")
    assert body is not None
    resp = children(body)[0]
    found = fields_of(resp)
    if list(found) == ["result"]:
        return found["result"]
    assert flavour == "soap", etree.tostring(resp)
    return resp


def sent_arguments(client: Any) -> dict[str, etree._Element]:
    """The argument elements of the request suds sent last, by local name."""
    root = parse_strict(str(client.last_sent()).encode("utf-8"))
    body = root.find(f"{{{SOAP_ENV}}}Body")
    assert body is not None
    return fields_of(children(body)[0])


# -- WSDL loading -----------------------------------------------------------------------


@pytest.mark.parametrize("iface", ["soap", "soapdocumentliteral", "soap11"])
@pytest.mark.parametrize(
    ("service", "methods"), [("Shapes", SHAPES_METHODS), ("Ledger", LEDGER_METHODS)]
)
def test_suds_loads_the_wsdl_with_every_method_bound_to_the_live_endpoint(
    suds_client: ClientFactory, live_server: LiveServer, service: str, methods: set[str], iface: str
) -> None:
    client = suds_client(service, iface)
    (svc,) = client.wsdl.services
    assert svc.name == service
    (port,) = svc.ports
    assert set(port.methods) == methods
    endpoint = "soap" if iface == "soapdocumentliteral" else iface
    assert port.location == f"{live_server.url}/{service}/{endpoint}"


@pytest.mark.parametrize("iface", ["soap", "soapdocumentliteral", "soap11"])
def test_suds_loads_the_task_wsdl_with_the_five_calls_of_every_task(
    suds_client: ClientFactory, jobs_server: LiveServer, iface: str
) -> None:
    (port,) = suds_client("Jobs", iface).wsdl.services[0].ports
    names = set(port.methods)
    tasks = {n for n in names if not n.endswith(TASK_SUFFIXES[1:])}
    assert {"square", "report", "numbers", "explode"} <= tasks
    assert names == {t + s for t in tasks for s in TASK_SUFFIXES}
    endpoint = "soap" if iface == "soapdocumentliteral" else iface
    assert port.location == f"{jobs_server.url}/Jobs/{endpoint}"


def test_the_alias_answers_like_soap(suds_client: ClientFactory) -> None:
    assert suds_client("Shapes", "soapdocumentliteral").service.add(40, 2) == 42
    assert suds_client("Ledger", "soapdocumentliteral").service.greet("alias", ".") == (
        "Hello, alias."
    )


# -- Shapes: primitives -----------------------------------------------------------------


@pytest.mark.parametrize(("a", "b", "total"), [(2, 3, 5), (-7, 2, -5), (2**40, 1, 2**40 + 1)])
def test_add_returns_the_integer_sum(shapes: Any, a: int, b: int, total: int) -> None:
    result = shapes.add(a, b)
    assert result == total
    assert type(result) is int


def test_shout_uppercases_unicode(shapes: Any) -> None:
    result = shapes.shout("hé")
    assert isinstance(result, str)
    assert result == "HÉ!"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("HÉ!", id="accents"),
        pytest.param("smile \U0001f600 ok", id="emoji"),
        pytest.param("x & y < z > w \" ' q", id="specials"),
        pytest.param("  a & b <c>  ", id="outer-spaces"),
        pytest.param("\n\tindented\n ", id="outer-newlines"),
        pytest.param("a  &  b", id="spaces-around-amp"),
    ],
)
def test_echo_returns_text_unaltered(shapes: Any, text: str) -> None:
    assert shapes.echo(text) == text


@pytest.mark.parametrize(
    ("text", "sent"),
    [
        pytest.param("a &amp; b &lt;c>", "a & b <c>", id="entity-text"),
        pytest.param("\tx\r\n", "\tx\n", id="carriage-return"),
    ],
)
def test_echo_returns_exactly_what_suds_sent(
    shapes: Any, shapes_client: Any, text: str, sent: str
) -> None:
    # suds leaves text that already looks like an entity reference unescaped,
    # and sends a carriage return raw (XML reads it as a line end)
    result = shapes.echo(text)
    assert sent_arguments(shapes_client)["text"].text == sent
    assert result == sent


def test_echo_of_an_empty_string_is_an_empty_non_nil_result(
    shapes: Any, suds_client: ClientFactory, flavour: str
) -> None:
    # suds reads an empty simple element as None
    assert shapes.echo("") is None
    result = reply_holder(suds_client("Shapes", flavour, raw=True).service.echo(""), flavour)
    assert not is_nil(result)
    assert (result.text or "") == ""


@pytest.mark.parametrize("text", ["abc", "héllo \U0001f600"], ids=["ascii", "utf8"])
def test_echo_bytes_round_trips_text_as_the_declared_xsd_string(shapes: Any, text: str) -> None:
    # suds would send bytes as their repr, so the xsd:string is given text
    assert shapes.echo_bytes(text) == text


@pytest.mark.parametrize("flag", [True, False])
def test_negate_flips_a_boolean(shapes: Any, flag: bool) -> None:
    assert shapes.negate(flag) is (not flag)


@pytest.mark.parametrize(("x", "half"), [(5, 2.5), (2e-05, 1e-05), (-3.0, -1.5)])
def test_half_returns_a_float(shapes: Any, x: float, half: float) -> None:
    result = shapes.half(x)
    assert type(result) is float
    assert result == half


# -- Shapes: lists ----------------------------------------------------------------------


def test_squares_maps_a_list_of_ints(shapes: Any) -> None:
    assert shapes.squares({"item": [1, 2, 3]}).item == [1, 4, 9]


def test_squares_of_a_single_item(shapes: Any) -> None:
    assert shapes.squares({"item": [7]}).item == [49]


def test_reverse_words_returns_a_list_of_strings(shapes: Any) -> None:
    result = shapes.reverse_words({"item": ["un", "deux", "trois é"]})
    assert result.item == ["trois é", "deux", "un"]


def test_squares_of_an_empty_list_is_an_empty_non_nil_result(
    shapes: Any, shapes_client: Any, suds_client: ClientFactory, flavour: str
) -> None:
    assert shapes.squares({"item": []}) == ""
    assert children(sent_arguments(shapes_client)["numbers"]) == []
    raw = suds_client("Shapes", flavour, raw=True).service.squares({"item": []})
    result = reply_holder(raw, flavour)
    assert children(result) == []
    assert not is_nil(result)  # an empty list, not None


def test_a_plain_python_list_is_not_an_array_to_suds(shapes: Any, flavour: str) -> None:
    if flavour == "soap":
        # sent as <numbers>1</numbers><numbers>2</numbers>: refused, not read as []
        with pytest.raises(suds.WebFault) as info:
            shapes.squares([1, 2])
        assert info.value.fault.faultcode == "SOAP-ENV:Client"
        assert '"numbers": is given more than once' in info.value.fault.faultstring
        assert "<item>" in info.value.fault.faultstring
        with pytest.raises(suds.WebFault) as info:
            shapes.squares([1])  # <numbers>1</numbers>: text where a list belongs
        assert '"numbers": expected a list' in info.value.fault.faultstring
    else:
        with pytest.raises(suds.TypeNotFound):
            shapes.squares([1, 2])


def test_mirror_all_swaps_every_point(shapes: Any) -> None:
    result = shapes.mirror_all({"item": [{"x": 1, "y": 2}, {"x": -3, "y": 4}]})
    assert [(p.x, p.y) for p in result.item] == [(2, 1), (4, -3)]


def test_mirror_all_of_no_points_is_an_empty_non_nil_result(
    shapes: Any, suds_client: ClientFactory, flavour: str
) -> None:
    assert shapes.mirror_all({"item": []}) == ""
    raw = suds_client("Shapes", flavour, raw=True).service.mirror_all({"item": []})
    result = reply_holder(raw, flavour)
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
    assert (m.whole, m.exact) == (2, 2.5)
    assert (type(m.whole), type(m.exact)) == (int, float)


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


@pytest.mark.parametrize("nothing", [None, suds.null()], ids=["none", "null"])
def test_echo_polygon_with_no_style_gets_a_nil_style_back(
    shapes: Any, shapes_client: Any, suds_client: ClientFactory, flavour: str, nothing: Any
) -> None:
    poly = {"name": "n", "points": {"item": [{"x": 1, "y": 2}]}, "style": nothing}
    result = shapes.echo_polygon(poly)
    assert result.name == "n"
    assert [(p.x, p.y) for p in result.points.item] == [(1, 2)]
    assert result.style is None
    sent = fields_of(sent_arguments(shapes_client)["polygon"])
    if nothing is None:
        assert "style" not in sent  # minOccurs="0": None leaves it out
    else:
        assert is_nil(sent["style"])  # nillable="true": null() sends a nil

    raw = suds_client("Shapes", flavour, raw=True).service.echo_polygon(poly)
    fields = fields_of(reply_holder(raw, flavour))
    assert list(fields) == ["name", "points", "style", "tags"]
    assert is_nil(fields["style"])
    assert children(fields["style"]) == []


def test_empty_polygon_has_empty_lists_and_no_style(
    shapes: Any, suds_client: ClientFactory, flavour: str
) -> None:
    result = shapes.empty_polygon("e")
    assert result.name == "e"
    empty_list = "" if flavour == "soap" else None
    assert (result.points, result.tags) == (empty_list, empty_list)
    assert result.style is None

    raw = suds_client("Shapes", flavour, raw=True).service.empty_polygon("e")
    fields = fields_of(reply_holder(raw, flavour))
    assert fields["name"].text == "e"
    for name in ("points", "tags"):
        assert children(fields[name]) == []
        assert not is_nil(fields[name])
    assert is_nil(fields["style"])


# -- Shapes: defaults -----------------------------------------------------------------


def test_divide_uses_the_default_divisor_when_b_is_left_out(
    shapes: Any, shapes_client: Any
) -> None:
    assert shapes.divide(7) == 3
    assert list(sent_arguments(shapes_client)) == ["a"]


def test_divide_uses_the_given_divisor(shapes: Any) -> None:
    assert shapes.divide(7, 3) == 2


# -- Ledger -----------------------------------------------------------------------------


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
    assert isinstance(result, datetime.datetime)
    assert result.utcoffset() == when.utcoffset()
    assert result == expected


def test_shift_defaults_to_one_hour(ledger: Any) -> None:
    when = datetime.datetime(2024, 1, 1, 23, 30, tzinfo=UTC)
    assert ledger.shift(when) == datetime.datetime(2024, 1, 2, 0, 30, tzinfo=UTC)


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
    assert str(result) == "3.15"


def test_total_keeps_full_decimal_precision(ledger: Any) -> None:
    lines = {
        "item": [
            {"text": "a", "amount": decimal.Decimal("0.1000000000000000000000000001")},
            {"text": "b", "amount": decimal.Decimal("-1E-7")},
        ]
    }
    result = ledger.total(_invoice(lines=lines))
    assert str(result) == "0.0999999000000000000000000001"


def test_echo_invoice_round_trips_every_field(ledger: Any) -> None:
    result = ledger.echo_invoice(_invoice())
    assert result.number == 7
    assert result.issued == datetime.date(2024, 1, 2)
    assert type(result.issued) is datetime.date
    assert result.created == datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert result.created.utcoffset() == datetime.timedelta(0)
    assert isinstance(result.total, decimal.Decimal)
    assert result.total == decimal.Decimal("1.10")  # sent by suds as 1.1
    assert result.note is None
    assert result.paid is True
    assert [(ln.text, ln.amount) for ln in result.lines.item] == [
        ("tea é", decimal.Decimal("1.10")),
        ("cake", decimal.Decimal("2.05")),
    ]


def test_echo_invoice_with_a_note_and_default_paid(ledger: Any, ledger_client: Any) -> None:
    inv = _invoice(note="  see <attached> & sign  ")
    del inv["paid"]
    result = ledger.echo_invoice(inv)
    assert result.note == "  see <attached> & sign  "
    assert result.paid is False
    assert "paid" not in fields_of(sent_arguments(ledger_client)["invoice"])


def test_echo_invoice_sends_a_null_note_as_nil(
    ledger: Any, ledger_client: Any, suds_client: ClientFactory, flavour: str
) -> None:
    # Invoice.note is nillable="true" in both WSDLs, so suds.null() sends a nil
    inv = _invoice(note=suds.null())
    assert ledger.echo_invoice(inv).note is None
    assert is_nil(fields_of(sent_arguments(ledger_client)["invoice"])["note"])
    raw = suds_client("Ledger", flavour, raw=True).service.echo_invoice(inv)
    fields = fields_of(reply_holder(raw, flavour))
    assert list(fields) == ["created", "issued", "lines", "note", "number", "paid", "total"]
    assert is_nil(fields["note"])


def test_maybe_returns_text(ledger: Any) -> None:
    assert ledger.maybe(" x y ") == " x y "


def test_maybe_with_none_leaves_the_argument_out_and_returns_none(
    ledger: Any, ledger_client: Any, suds_client: ClientFactory, flavour: str
) -> None:
    assert ledger.maybe(None) is None
    assert sent_arguments(ledger_client) == {}
    assert ledger.maybe() is None
    assert is_nil(reply_holder(suds_client("Ledger", flavour, raw=True).service.maybe(), flavour))


def test_maybe_with_null_sends_a_nil_on_doclit(
    suds_client: ClientFactory, ledger_client: Any, flavour: str
) -> None:
    ledger = ledger_client.service
    assert ledger.maybe(suds.null()) is None
    text = sent_arguments(ledger_client)["text"]
    if flavour == "soap":
        assert is_nil(text)
        reply = suds_client("Ledger", flavour, raw=True).service.maybe(suds.null())
        assert is_nil(reply_holder(reply, flavour))
    else:
        # an rpc part is never nillable to suds: null() sends the empty string,
        # which the server echoes (and suds reads as None again)
        assert not is_nil(text)
        assert (text.text or "") == ""
        reply = suds_client("Ledger", flavour, raw=True).service.maybe(suds.null())
        result = reply_holder(reply, flavour)
        assert not is_nil(result)
        assert (result.text or "") == ""


def test_greet_with_no_arguments_uses_both_defaults(ledger: Any) -> None:
    assert ledger.greet() == "Hello, world!"


def test_greet_with_arguments(ledger: Any) -> None:
    assert ledger.greet("Zoë", "?") == "Hello, Zoë?"


def test_greet_with_only_the_second_argument(ledger: Any) -> None:
    assert ledger.greet(punctuation="?") == "Hello, world?"


def test_nothing_returns_an_empty_list(
    ledger: Any, suds_client: ClientFactory, flavour: str
) -> None:
    assert ledger.nothing() == ""
    result = reply_holder(suds_client("Ledger", flavour, raw=True).service.nothing(), flavour)
    assert children(result) == []
    assert not is_nil(result)


# -- faults -----------------------------------------------------------------------------


def _fault(client: Any, call: Callable[[], object]) -> tuple[Any, str, int]:
    """Run a call that must fail: (the fault, the reply text, the HTTP status)."""
    with pytest.raises(suds.WebFault) as info:
        call()
    return info.value.fault, str(info.value.document), client.options.transport.statuses[-1]


def test_client_fault_reaches_suds(shapes: Any, shapes_client: Any) -> None:
    fault, _reply, status = _fault(shapes_client, lambda: shapes.fail("client"))
    assert status == 500
    assert fault.faultcode == "SOAP-ENV:Client"
    assert fault.faultstring == "you asked for it"
    assert getattr(fault, "detail", None) is None


def test_server_fault_reaches_suds_with_its_detail(shapes: Any, shapes_client: Any) -> None:
    fault, _reply, status = _fault(shapes_client, lambda: shapes.fail("server"))
    assert status == 500
    assert fault.faultcode == "SOAP-ENV:Server"
    assert fault.faultstring == "backend down: server"
    assert fault.detail == "custom detail text"


def test_unexpected_error_reaches_suds_as_a_generic_server_fault(
    shapes: Any, shapes_client: Any
) -> None:
    fault, reply, status = _fault(shapes_client, lambda: shapes.fail("boom"))
    assert status == 500
    assert fault.faultcode == "SOAP-ENV:Server"
    assert fault.faultstring == "Internal server error"
    for secret in ("passwd", "Traceback", ".py", "secret", "RuntimeError"):
        assert secret not in reply


def test_missing_argument_reaches_suds_as_a_client_fault(shapes: Any, shapes_client: Any) -> None:
    # doc/literal: suds sends the required <b> empty; rpc: it leaves the part out
    fault, _reply, status = _fault(shapes_client, lambda: shapes.add(1, None))
    assert status == 500
    assert fault.faultcode == "SOAP-ENV:Client"
    assert '"b"' in fault.faultstring


def test_a_wrongly_typed_argument_reaches_suds_as_a_client_fault(
    shapes: Any, shapes_client: Any
) -> None:
    fault, _reply, status = _fault(shapes_client, lambda: shapes.add("x", 1))
    assert status == 500
    assert fault.faultcode == "SOAP-ENV:Client"
    assert '"a"' in fault.faultstring


def test_without_raising_suds_hands_back_status_500_and_the_fault(
    live_server: LiveServer, flavour: str
) -> None:
    client = make_client(live_server.url, "Shapes", flavour, faults=False)
    status, fault = client.service.fail("server")
    assert status == 500
    assert (fault.faultcode, fault.faultstring) == ("SOAP-ENV:Server", "backend down: server")
    assert client.options.transport.statuses == [500]
    assert client.service.add(1, 2) == (200, 3)


# -- tasks ------------------------------------------------------------------------------


def start(jobs: Any, method: str, *args: object) -> str:
    info = getattr(jobs, method)(*args)
    # doc/literal unwraps the one-field TaskInfoResponse to the id itself
    task_id = info if isinstance(info, str) else info["task-id"]
    assert isinstance(task_id, str) and task_id
    return str(task_id)


def wait_finished(jobs: Any, method: str, task_id: str) -> Any:
    """Poll ``<method>_progress`` until the task has ended; return that status."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        status = getattr(jobs, f"{method}_progress")(task_id)
        assert status["task-id"] == task_id
        assert 0.0 <= status.progress <= 1.0
        if status.state in FINISHED:
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"task {method} still {status.state} after {TIMEOUT} s")
        time.sleep(0.002)


def test_a_task_starts_reports_progress_and_gives_its_result(jobs: Any) -> None:
    task_id = start(jobs, "square", 7)
    status = wait_finished(jobs, "square", task_id)
    assert status.state == "succeeded"
    assert status.progress == 1.0
    assert isinstance(status.duration, float)
    assert isinstance(status.starttime, float)
    result = jobs.square_result(task_id)
    assert result == 49
    assert type(result) is int
    assert jobs.square_result(task_id) == 49  # can be fetched again


def test_a_structured_task_result(jobs: Any) -> None:
    task_id = start(jobs, "report", "disks é", 3)
    assert wait_finished(jobs, "report", task_id).state == "succeeded"
    report = jobs.report_result(task_id)
    assert report.name == "disks é"
    assert report.sizes.item == [0, 1, 2]
    assert report.note is None


def test_a_list_task_result(jobs: Any) -> None:
    task_id = start(jobs, "numbers", 4)
    assert wait_finished(jobs, "numbers", task_id).state == "succeeded"
    assert jobs.numbers_result(task_id).item == [0, 1, 2, 3]


def test_a_failed_task_result_is_a_server_fault(jobs: Any, jobs_client: Any) -> None:
    task_id = start(jobs, "explode", "disk full")
    assert wait_finished(jobs, "explode", task_id).state == "failed"
    fault, reply, status = _fault(jobs_client, lambda: jobs.explode_result(task_id))
    assert status == 500
    assert fault.faultcode == "SOAP-ENV:Server"
    assert "disk full" in fault.faultstring
    assert "Traceback" not in reply


# -- namespace validity of what suds received -------------------------------------------


SAMPLES = [
    pytest.param("Shapes", "empty_polygon", ("e",), id="empty_polygon"),
    pytest.param(
        "Shapes",
        "echo_polygon",
        ({"name": "n", "points": {"item": [{"x": 1, "y": 2}]}, "style": None},),
        id="echo_polygon-nil",
    ),
    pytest.param("Shapes", "mirror_all", ({"item": [{"x": 1, "y": 2}]},), id="mirror_all"),
    pytest.param("Shapes", "measure", (1e-05,), id="measure"),
    pytest.param("Shapes", "echo", ("\U0001f600 &amp; <",), id="echo"),
    pytest.param("Ledger", "maybe", (), id="maybe-nil"),
    pytest.param("Ledger", "nothing", (), id="nothing"),
    pytest.param("Ledger", "greet", (), id="greet"),
    pytest.param("Jobs", "square", (3,), id="task-start"),
]


@pytest.mark.parametrize(("service", "method", "args"), SAMPLES)
def test_replies_to_suds_are_namespace_valid_xml(
    suds_client: ClientFactory, flavour: str, service: str, method: str, args: tuple[Any, ...]
) -> None:
    client = suds_client(service, flavour, raw=True)
    reply = getattr(client.service, method)(*args)
    assert reply.startswith(b"<?xml")
    root = parse_strict(reply)  # an undeclared prefix fails here
    assert etree.QName(root).namespace == SOAP_ENV
    assert client.options.transport.statuses[-1] == 200


# -- the WSDL never promises less than the server sends ------------------------------------


def test_a_nil_ladontype_result_reaches_suds_as_none(
    suds_client: ClientFactory, flavour: str
) -> None:
    ledger = suds_client("Ledger", flavour).service
    found = ledger.find_line("tea")
    assert (found.text, decimal.Decimal(str(found.amount))) == ("tea", decimal.Decimal("1.50"))
    assert ledger.find_line("") is None


def test_an_int_result_beyond_xsd_long_is_a_server_fault_for_suds(
    suds_client: ClientFactory, flavour: str
) -> None:
    ledger = suds_client("Ledger", flavour).service
    assert ledger.power(2, 62) == 2**62
    with pytest.raises(suds.WebFault) as info:
        ledger.power(2, 63)
    assert "out of the range of xsd:long" in str(info.value.fault.faultstring)
