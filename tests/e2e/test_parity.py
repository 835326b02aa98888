"""End to end: every interface gives the same answers, each through its real client.

Every method of the test services ``Shapes`` (``legacy_shapes``) and ``Ledger``
(``modern_types``) is called over a socket (the session ``live_server``) on
``soap`` and ``soap11`` (with zeep and with suds), ``jsonwsp``
(:class:`ladon.clients.jsonwsp.JSONWSPClient`), ``xmlrpc``
(:class:`xmlrpc.client.ServerProxy`), ``jsonrpc10`` and ``jsonrpc`` (plain
HTTP POSTs with :mod:`urllib`: positional params on 1.0, named and positional
params on 2.0).

How a case is checked:

* a case is a method and its arguments as plain Python (``str``, ``bytes``,
  ``int``, ``float``, ``bool``, ``None``, dates, datetimes, ``Decimal``,
  lists, and dicts for LadonTypes); a parameter left out of ``args`` is left
  out of the call;
* the expected value comes from calling the service class directly, the
  arguments loaded with :func:`ladon.types.convert.load` and the result
  dumped with :func:`ladon.types.convert.dump` into the canonical plain form
  (fields by name, ``Decimal`` as exact text, dates and datetimes as ISO text,
  ``bytes`` as text in the method's encoding) -- nothing is hard-coded;
* a per-client *builder* turns the plain arguments into what that client
  takes, a per-client *normaliser* turns what it hands back into the canonical
  form, walking the declared return type. Both undo only documented client
  behaviour (each rule says which); the comparison is strict about types
  (``True`` is not ``1``, ``"5"`` is not ``5``);
* aware datetimes are compared as instants (both sides converted to UTC:
  ``datetime`` equality), since a server may write another offset for the
  same instant.

Client behaviour the builders and normalisers account for (client side, not
the server's doing; see the docstrings of ``test_zeep.py`` and
``test_suds.py``):

* zeep and suds take arrays as ``{"item": [...]}`` (every list is a wrapper
  ``ArrayOfX`` type). zeep unwraps a top-level array result to a list but
  leaves a nested one as ``{"item": [...]}``; suds gives an ``ArrayOfX``
  object for both;
* zeep reads an element with no content (an empty string, an empty array) as
  ``None``; suds reads an empty string as ``None`` and an empty array as
  ``""`` (or ``None`` for a nested one on rpc). So ``None`` is read back as
  ``""`` for a non-nullable ``str``/``bytes`` and as ``[]`` for a list; where
  ``None`` is itself a possible answer (a nullable string) the two cannot be
  told apart and such a case is left out for these clients;
* zeep reads an ``xsi:nil`` LadonType as an object whose fields are all
  ``None``; read back as ``None`` where the field is nullable;
* zeep's rpc parts are all required: a left-out parameter is sent as
  ``xsd.SkipValue``, an explicit ``None`` as ``xsd.Nil``;
* suds sends ``bytes`` as their ``repr`` (so it is given the text), a
  ``Decimal`` without trailing zeros (so it is given the exact text) and a
  carriage return raw (XML reads it as a line feed) and text that already
  looks like an entity reference (``&amp;``) unescaped; ``None`` leaves an
  argument out, and ``suds.null()`` on rpc sends an empty string, so a ``None``
  argument is left out (the nullable parameters here default to ``None``);
  suds drops empty ``<item/>`` elements of a string array it reads;
* zeep writes a date before the year 1000 with fewer than four digits
  (``1-01-01``), which is no valid ``xsd:date``: such a case is left out for zeep;
* XML-RPC has no time zone and no fractions of a second: an aware datetime
  is sent as ISO text (the server accepts it), the server answers in UTC with
  whole seconds, so for ``xmlrpc`` the expected datetimes are projected the
  same way; a date comes back as a datetime at midnight. ``xmlrpc.client``
  cannot send an ``int`` beyond 32 bits (sent as a string of digits, which
  the server accepts), a ``Decimal`` (sent as text), a ``date`` (sent as a
  datetime at midnight), and, like suds, writes a carriage return raw;
* the JSON clients send dates, datetimes and ``Decimal`` as text and
  ``bytes`` as text in the method's encoding.

The same cases are also sent as one JSON-RPC 2.0 batch (each call beside a
notification, which must not be answered) and as one XML-RPC
``system.multicall`` per service.

Faults: for every interface, bad requests (malformed body, empty body, a
body of the wrong shape, unknown method, missing argument, argument of the
wrong type (top level, inside a LadonType, a bad date), and ``Shapes.fail`` raising a ClientFault, a ServerFault or an
unexpected exception) are posted raw so the HTTP status and the exact shape of
the fault or error object can be checked (SOAP: 500 with ``SOAP-ENV:Client``
or ``SOAP-ENV:Server``; JSON-WSP, JSON-RPC 1.0/2.0 and XML-RPC: 200), and the
same faults are raised through the real clients where they can be sent.
"""

from __future__ import annotations

import datetime
import decimal
import importlib
import itertools
import json
import re
import sys
import urllib.error
import urllib.request
import xmlrpc.client
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import pytest
import requests
import suds
import suds.client
import suds.sudsobject
import zeep
import zeep.exceptions
import zeep.helpers
from conftest import SERVICES_DIR
from conftest import LiveServer
from lxml import etree
from zeep import xsd
from zeep.transports import Transport

from ladon.clients.jsonwsp import JSONWSPClient
from ladon.clients.jsonwsp import JSONWSPFault
from ladon.ladonizer.model import MethodInfo
from ladon.ladonizer.model import ServiceInfo
from ladon.ladonizer.registry import build_service
from ladon.types.convert import Options
from ladon.types.convert import dump
from ladon.types.convert import load
from ladon.types.ladontype import LadonType
from ladon.types.spec import ListOf
from ladon.types.spec import TypeSpec

pytestmark = pytest.mark.e2e

TIMEOUT = 5.0
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
UTC = datetime.timezone.utc
MINUS5 = datetime.timezone(datetime.timedelta(hours=-5))
PLUS0530 = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
D = decimal.Decimal

# The services, imported the way the app imports them (same module objects).
if str(SERVICES_DIR) not in sys.path:
    sys.path.append(str(SERVICES_DIR))
SERVICE_CLASSES: dict[str, type] = {
    "Shapes": importlib.import_module("legacy_shapes").Shapes,
    "Ledger": importlib.import_module("modern_types").Ledger,
}
SERVICES: dict[str, ServiceInfo] = {
    name: build_service(cls) for name, cls in SERVICE_CLASSES.items()
}
#: Methods with no successful call: covered by the fault tests instead.
FAULT_ONLY = {("Shapes", "fail")}


# -- clients ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientKind:
    """One way of calling the service: a real client on one interface."""

    id: str
    iface: str
    family: str  # zeep | suds | jsonwsp | jsonrpc10 | jsonrpc | xmlrpc
    positional: bool = False

    @property
    def soap(self) -> bool:
        return self.family in ("zeep", "suds")


CLIENTS = [
    ClientKind("zeep-soap", "soap", "zeep"),
    ClientKind("zeep-soap11", "soap11", "zeep"),
    ClientKind("suds-soap", "soap", "suds"),
    ClientKind("suds-soap11", "soap11", "suds"),
    ClientKind("jsonwsp", "jsonwsp", "jsonwsp"),
    ClientKind("jsonrpc10", "jsonrpc10", "jsonrpc10", positional=True),
    ClientKind("jsonrpc-named", "jsonrpc", "jsonrpc"),
    ClientKind("jsonrpc-positional", "jsonrpc", "jsonrpc", positional=True),
    ClientKind("xmlrpc", "xmlrpc", "xmlrpc", positional=True),
]
CLIENT_IDS = {c.id for c in CLIENTS}


# -- the cases ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    service: str
    method: str
    id: str
    args: Mapping[str, Any] = field(default_factory=dict)
    #: client id or family -> why the client cannot express or observe the case
    cannot: Mapping[str, str] = field(default_factory=dict)
    #: holds characters XML 1.0 cannot carry (control characters): not for SOAP
    not_xml_text: bool = False


NOT_NONE = "reads an empty element as None: '' and None cannot be told apart for a nullable value"
SUDS_EMPTY_ITEMS = "suds drops empty <item/> elements of a string array it reads"
SUDS_ENTITIES = "suds sends text that already looks like an entity reference unescaped"
ZEEP_SHORT_YEAR = (
    "zeep writes a year before 1000 with fewer than four digits ('1-01-01'), not a valid "
    "xsd:date (the server rightly refuses it)"
)
RAW_CR = "sends a carriage return raw, which XML line-end handling reads as a line feed"

POLYGON_FULL = {
    "name": "tri é \U0001f600",
    "points": [{"x": 0, "y": 0}, {"x": 3, "y": -4}, {"x": 2**40, "y": -(2**40)}],
    "style": {"color": "red", "dashed": True, "width": 1.5},
    "tags": ["a", "b c", "ünï"],
}
INVOICE_FULL = {
    "number": 2**62,
    "issued": datetime.date(2024, 2, 29),
    "created": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    "total": D("3.15"),
    "note": "  see <attached> & sign \U0001f600 ",
    "lines": [
        {"text": "tea é", "amount": D("1.10")},
        {"text": "cake", "amount": D("2.05")},
    ],
    "paid": True,
}
INVOICE_MINIMAL = {
    "number": 0,
    "issued": datetime.date(1999, 12, 31),
    "created": datetime.datetime(1999, 12, 31, 23, 59, 59),
    "total": D("0"),
    "lines": [],
}

CASES: list[Case] = [
    # -- Shapes: primitives
    Case("Shapes", "add", "small", {"a": 2, "b": 3}),
    Case("Shapes", "add", "negative", {"a": -7, "b": 2}),
    Case("Shapes", "add", "big-ints", {"a": 2**62, "b": 2**40}),
    Case("Shapes", "add", "zeros", {"a": 0, "b": 0}),
    Case("Shapes", "add", "int64-max", {"a": 2**63 - 1, "b": 0}),
    Case("Shapes", "add", "int64-min", {"a": -(2**63), "b": 0}),
    Case("Shapes", "shout", "unicode", {"text": "hé \U0001f600"}),
    Case("Shapes", "shout", "empty", {"text": ""}),
    Case("Shapes", "shout", "sharp-s", {"text": "straße"}),
    Case("Shapes", "echo", "specials", {"text": "x & y < z > w \" ' q ü"}),
    Case(
        "Shapes",
        "echo",
        "entity-lookalike",
        {"text": "a &amp; b &lt;c&gt; &#65;"},
        cannot={"suds": SUDS_ENTITIES},
    ),
    Case("Shapes", "echo", "outer-whitespace", {"text": "  \t a  &  b \n "}),
    Case("Shapes", "echo", "empty", {"text": ""}),
    Case("Shapes", "echo", "digits", {"text": "0042"}),
    Case("Shapes", "echo", "spaces-only", {"text": "   "}),
    Case("Shapes", "echo", "newline-only", {"text": "\n"}),
    Case("Shapes", "echo", "cdata-end", {"text": "a ]]> b"}),
    Case("Shapes", "echo", "invisible", {"text": "\u00a0x\u200dy\u2028z\ufeff"}),
    Case(
        "Shapes",
        "echo",
        "crlf",
        {"text": "line\r\nnext"},
        cannot={"suds": "suds " + RAW_CR, "xmlrpc": "xmlrpc.client " + RAW_CR},
    ),
    Case("Shapes", "echo_bytes", "ascii", {"data": b"abc"}),
    Case("Shapes", "echo_bytes", "utf8", {"data": "héllo \U0001f600".encode()}),
    Case("Shapes", "echo_bytes", "empty", {"data": b""}),
    Case("Shapes", "echo_bytes", "control-chars", {"data": b"\x00\x01\x7f\x1b"}, not_xml_text=True),
    Case("Shapes", "negate", "true", {"flag": True}),
    Case("Shapes", "negate", "false", {"flag": False}),
    Case("Shapes", "half", "int-arg", {"x": 5}),
    Case("Shapes", "half", "tiny", {"x": 2e-05}),
    Case("Shapes", "half", "negative", {"x": -3.0}),
    Case("Shapes", "half", "third", {"x": 2 / 3}),
    Case("Shapes", "half", "huge", {"x": 1e300}),
    Case("Shapes", "half", "float-max", {"x": 1.7976931348623157e308}),
    Case("Shapes", "half", "subnormal", {"x": 5e-324}),
    Case("Shapes", "half", "negative-zero", {"x": -0.0}),
    # -- Shapes: lists
    Case("Shapes", "squares", "three", {"numbers": [1, 2, 3]}),
    Case("Shapes", "squares", "one", {"numbers": [7]}),
    Case("Shapes", "squares", "empty", {"numbers": []}),
    Case("Shapes", "squares", "big", {"numbers": [2**31, -(2**31), 3037000499]}),
    Case("Shapes", "reverse_words", "unicode", {"words": ["un", "deux", "trois é"]}),
    Case("Shapes", "reverse_words", "empty", {"words": []}),
    Case(
        "Shapes",
        "reverse_words",
        "empty-strings",
        {"words": ["", "a", ""]},
        cannot={"suds": SUDS_EMPTY_ITEMS},
    ),
    # -- Shapes: LadonTypes
    Case("Shapes", "make_point", "small", {"x": 1, "y": 2}),
    Case("Shapes", "make_point", "big", {"x": -5, "y": 2**40}),
    Case("Shapes", "make_point", "int64-edges", {"x": 2**63 - 1, "y": -(2**63)}),
    Case("Shapes", "mirror", "point", {"p": {"x": 1, "y": -2}}),
    Case("Shapes", "echo_polygon", "full", {"polygon": POLYGON_FULL}),
    Case("Shapes", "echo_polygon", "name-only", {"polygon": {"name": "bare"}}),
    Case(
        "Shapes",
        "echo_polygon",
        "empty-lists-and-defaults",
        {"polygon": {"name": "", "points": [], "tags": [], "style": {"width": None}}},
    ),
    Case(
        "Shapes",
        "echo_polygon",
        "style-none",
        {"polygon": {"name": "p", "points": [{"x": 1, "y": 1}], "style": None, "tags": ["t"]}},
    ),
    Case("Shapes", "empty_polygon", "named", {"name": "nothing here"}),
    Case("Shapes", "empty_polygon", "empty-name", {"name": ""}),
    Case("Shapes", "mirror_all", "two", {"points": [{"x": 1, "y": 2}, {"x": -3, "y": 4}]}),
    Case("Shapes", "mirror_all", "empty", {"points": []}),
    Case("Shapes", "measure", "fraction", {"value": 2.5}),
    Case("Shapes", "measure", "negative", {"value": -0.75}),
    Case("Shapes", "measure", "whole", {"value": 3.0}),
    Case("Shapes", "measure", "large", {"value": 1e18}),
    Case("Shapes", "divide", "both", {"a": 7, "b": 2}),
    Case("Shapes", "divide", "negative", {"a": -9, "b": 4}),
    Case("Shapes", "divide", "default-b", {"a": 9}),
    # -- Ledger
    Case("Ledger", "add", "small", {"a": 20, "b": 22}),
    Case("Ledger", "add", "int64-edges", {"a": -(2**62), "b": 2**62 - 1}),
    Case("Ledger", "next_day", "leap", {"day": datetime.date(2024, 2, 28)}),
    Case("Ledger", "next_day", "new-year", {"day": datetime.date(2023, 12, 31)}),
    Case("Ledger", "next_day", "year-9998", {"day": datetime.date(9998, 12, 31)}),
    Case(
        "Ledger",
        "next_day",
        "year-1",
        {"day": datetime.date(1, 1, 1)},
        cannot={"zeep": ZEEP_SHORT_YEAR},
    ),
    Case(
        "Ledger",
        "shift",
        "utc",
        {"when": datetime.datetime(2024, 1, 1, 23, tzinfo=UTC), "hours": 3},
    ),
    Case(
        "Ledger",
        "shift",
        "offset-and-micros",
        {"when": datetime.datetime(2024, 3, 1, 12, 0, 0, 123456, tzinfo=MINUS5), "hours": -2},
    ),
    Case("Ledger", "shift", "naive-default-hours", {"when": datetime.datetime(2024, 1, 1, 23, 30)}),
    Case(
        "Ledger",
        "shift",
        "naive-micros",
        {"when": datetime.datetime(2024, 1, 1, 0, 0, 0, 999999), "hours": 0},
    ),
    Case(
        "Ledger",
        "shift",
        "half-hour-offset",
        {"when": datetime.datetime(2024, 3, 1, 0, 0, 0, 1, tzinfo=PLUS0530), "hours": 0},
    ),
    Case("Ledger", "shift", "century", {"when": datetime.datetime(2000, 1, 1), "hours": 876000}),
    Case("Ledger", "total", "two-lines", {"invoice": INVOICE_FULL}),
    Case("Ledger", "total", "no-lines", {"invoice": INVOICE_MINIMAL}),
    Case(
        "Ledger",
        "total",
        "precise",
        {
            "invoice": {
                **INVOICE_MINIMAL,
                "lines": [
                    {"text": "a", "amount": D("0.1000000000000000000000000001")},
                    {"text": "b", "amount": D("-1E-7")},
                    {"text": "c", "amount": D("1000000000000000000000.50")},
                ],
            }
        },
    ),
    Case(
        "Ledger",
        "total",
        "exponents-and-negative-zero",
        {
            "invoice": {
                **INVOICE_MINIMAL,
                "lines": [
                    {"text": "k", "amount": D("1E+3")},
                    {"text": "z", "amount": D("-0.00")},
                    {"text": "t", "amount": D("1E-30")},
                ],
            }
        },
    ),
    Case("Ledger", "echo_invoice", "full", {"invoice": INVOICE_FULL}),
    Case("Ledger", "echo_invoice", "minimal", {"invoice": INVOICE_MINIMAL}),
    Case(
        "Ledger",
        "echo_invoice",
        "note-none-offset",
        {
            "invoice": {
                **INVOICE_FULL,
                "note": None,
                "paid": False,
                "created": datetime.datetime(2024, 6, 1, 8, 0, 0, 500000, tzinfo=MINUS5),
            }
        },
    ),
    Case(
        "Ledger",
        "echo_invoice",
        "note-empty",
        {"invoice": {**INVOICE_MINIMAL, "note": ""}},
        cannot={"zeep": "zeep " + NOT_NONE, "suds": "suds " + NOT_NONE},
    ),
    Case(
        "Ledger",
        "echo_invoice",
        "extremes",
        {
            "invoice": {
                **INVOICE_MINIMAL,
                "number": -(2**63),
                "total": D("12345678901234567890123456789.000"),
                "lines": [{"text": "neg", "amount": D("-1E+5")}],
            }
        },
    ),
    Case("Ledger", "maybe", "text", {"text": " x y é "}),
    Case("Ledger", "maybe", "spaces", {"text": "  "}),
    Case("Ledger", "maybe", "none", {"text": None}),
    Case("Ledger", "maybe", "left-out", {}),
    Case(
        "Ledger",
        "maybe",
        "empty",
        {"text": ""},
        cannot={"zeep": "zeep " + NOT_NONE, "suds": "suds " + NOT_NONE},
    ),
    Case("Ledger", "greet", "defaults", {}),
    Case("Ledger", "greet", "both", {"name": "Zoë", "punctuation": "?"}),
    Case("Ledger", "greet", "name-only", {"name": "\U0001f600"}),
    Case("Ledger", "greet", "punctuation-only", {"punctuation": "."}),
    Case("Ledger", "greet", "empty-strings", {"name": "", "punctuation": ""}),
    Case("Ledger", "greet", "cjk", {"name": "名前", "punctuation": "！"}),
    Case("Ledger", "nothing", "no-args", {}),
    Case("Ledger", "find_line", "found", {"text": "tea"}),
    Case("Ledger", "find_line", "none", {}),
    Case("Ledger", "power", "int64-max", {"base": 2, "exponent": 62}),
    Case("Ledger", "power", "negative", {"base": -3, "exponent": 3}),
]


def method_of(case: Case) -> MethodInfo:
    return SERVICES[case.service].methods[case.method]


def why_not(case: Case, client: ClientKind) -> str | None:
    """Why ``client`` cannot send or observe ``case`` (``None``: it can)."""
    for key in (client.id, client.family):
        if key in case.cannot:
            return case.cannot[key]
    if case.not_xml_text and client.soap:
        return "XML 1.0 cannot carry these control characters (text-safe values only on SOAP)"
    if client.positional:
        given = [p.name in case.args for p in method_of(case).params]
        if given != sorted(given, reverse=True):  # a left-out one before a given one
            return "positional parameters cannot leave out one before a given one"
    return None


def parity_params() -> Iterator[Any]:
    """Every (case, client) pair the client can send and observe. The pairs
    left out are those of :func:`why_not` (each one a documented limit of
    the client, checked by hand); ``test_every_method_is_reachable_by_every_client``
    makes sure no method is left out for any client."""
    for case, client in itertools.product(CASES, CLIENTS):
        if why_not(case, client) is None:
            yield pytest.param(
                case, client, id=f"{case.service}.{case.method}[{case.id}]@{client.id}"
            )


# -- expected values ----------------------------------------------------------------------


def expected_of(case: Case) -> Any:
    """The canonical plain answer: the class called directly, its result dumped."""
    info = method_of(case)
    opts = Options(encoding=info.encoding)
    kwargs = {
        p.name: load(p.type, case.args[p.name], p.name, opts, nullable=p.nullable)
        for p in info.params
        if p.name in case.args
    }
    service = SERVICES[case.service]
    result = getattr(service.factory(), info.attr)(**kwargs)
    return dump(info.rtype, result, "result", opts, nullable=info.rtype_nullable)


def canon(spec: TypeSpec, value: Any, *, xmlrpc_wire: bool = False) -> Any:
    """Make canonical plain values comparable.

    Aware datetimes become UTC (same instant, same value). With
    ``xmlrpc_wire``, datetimes are projected on what XML-RPC carries: UTC
    without a zone, whole seconds (the server truncates).
    """
    if isinstance(spec, ListOf):
        if isinstance(value, list):
            return [canon(spec.item, v, xmlrpc_wire=xmlrpc_wire) for v in value]
        return value
    if isinstance(spec, type) and issubclass(spec, LadonType):
        if isinstance(value, dict):
            types = {f.name: f.type for f in spec.ladon_type_info().fields}
            return {
                k: canon(types[k], v, xmlrpc_wire=xmlrpc_wire) if k in types else v
                for k, v in value.items()
            }
        return value
    if spec is datetime.datetime and isinstance(value, str):
        try:
            when = datetime.datetime.fromisoformat(value)
        except ValueError:
            return value
        if when.tzinfo is not None:
            when = when.astimezone(UTC)
            if xmlrpc_wire:
                when = when.replace(tzinfo=None)
        if xmlrpc_wire:
            when = when.replace(microsecond=0)
        return when.isoformat()
    return value


def typed(value: Any) -> Any:
    """Tag every scalar with its type, so ``True`` never equals ``1`` (and
    floats by their repr, so ``-0.0`` is not ``0.0``)."""
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    if isinstance(value, float):
        return ("float", repr(value))
    return (type(value).__name__, value)


# -- argument builders --------------------------------------------------------------------


def _json_arg(value: Any, encoding: str) -> Any:
    """Plain Python -> JSON: dates, datetimes and Decimals as text, bytes decoded."""
    if isinstance(value, dict):
        return {k: _json_arg(v, encoding) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_arg(v, encoding) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value, "f")  # xsd:decimal's form, as the server reads text
    if isinstance(value, bytes):
        return value.decode(encoding)
    return value


def _soap_arg(value: Any, family: str, encoding: str) -> Any:
    """Plain Python -> zeep/suds: arrays as ``{"item": [...]}``; for suds
    bytes as their text and Decimals as their exact text (xsd:decimal's
    form: no exponent)."""
    if isinstance(value, dict):
        return {k: _soap_arg(v, family, encoding) for k, v in value.items()}
    if isinstance(value, list):
        return {"item": [_soap_arg(v, family, encoding) for v in value]}
    if family == "suds" and isinstance(value, bytes):
        return value.decode(encoding)  # suds would send str(b"...")
    if family == "suds" and isinstance(value, decimal.Decimal):
        return format(value, "f")  # suds would drop trailing zeros
    return value


def _xmlrpc_arg(value: Any) -> Any:
    """Plain Python -> xmlrpc.client, within what it can write."""
    if isinstance(value, dict):
        return {k: _xmlrpc_arg(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_xmlrpc_arg(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int) and not -(2**31) <= value < 2**31:
        return str(value)  # xmlrpc.client refuses ints beyond 32 bits
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None and value.microsecond == 0:
            return value  # <dateTime.iso8601>
        return value.isoformat()  # xmlrpc.client would drop the zone and fractions
    if isinstance(value, datetime.date):
        return datetime.datetime.combine(value, datetime.time())  # date at midnight
    if isinstance(value, decimal.Decimal):
        return format(value, "f")  # xsd:decimal's form, as the server reads text
    return value


# -- normalisers --------------------------------------------------------------------------

_MISSING = "<missing>"


def _suds_plain(value: Any) -> Any:
    """suds objects -> dicts and lists, suds Text -> str."""
    if isinstance(value, suds.sudsobject.Object):
        return {k: _suds_plain(v) for k, v in suds.sudsobject.asdict(value).items()}
    if isinstance(value, list):
        return [_suds_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def normalise(
    family: str, spec: TypeSpec, value: Any, encoding: str, nullable: bool = False
) -> Any:
    """A client's value -> the canonical plain form of ``spec``."""
    if isinstance(spec, ListOf):
        return _normalise_list(family, spec, value, encoding)
    if isinstance(spec, type) and issubclass(spec, LadonType):
        return _normalise_object(family, spec, value, encoding, nullable)
    return _normalise_scalar(family, spec, value, encoding, nullable)


def _normalise_list(family: str, spec: ListOf, value: Any, encoding: str) -> Any:
    if family in ("zeep", "suds"):
        if value in (None, ""):
            # zeep: an empty array element is None; suds: "" (or None nested on rpc)
            return []
        if isinstance(value, dict) and set(value) == {"item"}:
            value = value["item"]  # the ArrayOfX wrapper (a nested one, on zeep)
            if value is None:  # zeep, for an ArrayOfX without items
                value = []
    if not isinstance(value, list):
        return value
    return [normalise(family, spec.item, v, encoding) for v in value]


def _normalise_object(
    family: str, spec: type[LadonType], value: Any, encoding: str, nullable: bool
) -> Any:
    if not isinstance(value, dict):
        return value
    if family == "zeep" and nullable and value and all(v is None for v in value.values()):
        return None  # zeep reads xsi:nil on a complex type as all-None fields
    # zeep and suds read a left-out element as None; elsewhere a missing member shows
    absent = None if family in ("zeep", "suds") else _MISSING
    out = {
        f.name: normalise(family, f.type, value.get(f.name, absent), encoding, f.nullable)
        for f in spec.ladon_type_info().fields
    }
    out.update({k: v for k, v in value.items() if k not in out})  # extras show up
    return out


def _normalise_scalar(
    family: str, spec: TypeSpec, value: Any, encoding: str, nullable: bool
) -> Any:
    if value is None:
        if family in ("zeep", "suds") and not nullable and spec in (str, bytes):
            return ""  # zeep and suds read an empty string element as None
        return None
    if spec is bytes and isinstance(value, bytes):
        return value.decode(encoding)  # xmlrpc: <base64>
    if spec in (str, bytes) and isinstance(value, str):
        return str(value)  # suds: its Text subclass
    if spec is decimal.Decimal and isinstance(value, decimal.Decimal):
        return format(value, "f")  # zeep and suds give Decimals
    if spec is datetime.date and isinstance(value, datetime.datetime):
        if family == "xmlrpc" and value.time() == datetime.time():
            return value.date().isoformat()  # a date travels as midnight on XML-RPC
        return value.isoformat()
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


# -- fixtures -----------------------------------------------------------------------------


class Callers:
    """Every client, built on first use and kept for the module."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.transport = Transport(session=self.session, timeout=TIMEOUT, operation_timeout=TIMEOUT)
        self._zeep: dict[tuple[str, str], zeep.Client] = {}
        self._suds: dict[tuple[str, str], Any] = {}
        self._jsonwsp: dict[str, JSONWSPClient] = {}
        self._xmlrpc: dict[str, xmlrpc.client.ServerProxy] = {}
        self._ids = itertools.count(1)

    def close(self) -> None:
        for proxy in self._xmlrpc.values():
            proxy("close")()
        self.session.close()

    def zeep(self, service: str, iface: str) -> zeep.Client:
        key = (service, iface)
        if key not in self._zeep:
            self._zeep[key] = zeep.Client(
                f"{self.url}/{service}/{iface}/description", transport=self.transport
            )
        return self._zeep[key]

    def suds(self, service: str, iface: str) -> Any:
        key = (service, iface)
        if key not in self._suds:
            self._suds[key] = suds.client.Client(
                f"{self.url}/{service}/{iface}/description", cache=None, timeout=TIMEOUT
            )
        return self._suds[key]

    def jsonwsp(self, service: str) -> JSONWSPClient:
        if service not in self._jsonwsp:
            self._jsonwsp[service] = JSONWSPClient(
                f"{self.url}/{service}/jsonwsp/description", timeout=TIMEOUT
            )
        return self._jsonwsp[service]

    def xmlrpc(self, service: str) -> xmlrpc.client.ServerProxy:
        if service not in self._xmlrpc:
            self._xmlrpc[service] = xmlrpc.client.ServerProxy(
                f"{self.url}/{service}/xmlrpc", allow_none=True, use_builtin_types=True
            )
        return self._xmlrpc[service]

    def jsonrpc(self, service: str, iface: str, method: str, params: Any) -> Any:
        """A JSON-RPC 1.0 or 2.0 call over plain HTTP; the id must come back as sent."""
        call_id: Any = next(self._ids)
        if iface == "jsonrpc" and call_id % 2:
            call_id = f"call-{call_id}"  # string and number ids, both kept as sent
        body: dict[str, Any] = {"method": method, "params": params, "id": call_id}
        if iface == "jsonrpc":
            body = {"jsonrpc": "2.0", **body}
        status, ctype, raw = post(
            f"{self.url}/{service}/{iface}", json.dumps(body).encode(), "application/json"
        )
        assert status == 200, raw
        assert ctype.startswith("application/json"), ctype
        reply = json.loads(raw)
        assert reply["id"] == call_id and type(reply["id"]) is type(call_id), reply
        if iface == "jsonrpc":
            assert set(reply) == {"jsonrpc", "result", "id"}, reply
            assert reply["jsonrpc"] == "2.0"
        else:
            assert set(reply) == {"result", "error", "id"}, reply
            assert reply["error"] is None, reply
        return reply["result"]

    def call(self, client: ClientKind, case: Case) -> Any:
        """Call ``case`` through ``client``; return what the client hands back."""
        info = method_of(case)
        enc = info.encoding
        if client.family == "zeep":
            kwargs: dict[str, Any] = {}
            for p in info.params:
                if p.name not in case.args:
                    if client.iface == "soap11":
                        kwargs[p.name] = xsd.SkipValue  # rpc parts are all required
                    continue
                value = case.args[p.name]
                kwargs[p.name] = xsd.Nil if value is None else _soap_arg(value, "zeep", enc)
            service = self.zeep(case.service, client.iface).service
            return zeep.helpers.serialize_object(getattr(service, case.method)(**kwargs))
        if client.family == "suds":
            # None leaves an argument out (suds.null() would send "" on rpc)
            kwargs = {
                name: _soap_arg(value, "suds", enc)
                for name, value in case.args.items()
                if value is not None
            }
            service = self.suds(case.service, client.iface).service
            return _suds_plain(getattr(service, case.method)(**kwargs))
        if client.family == "jsonwsp":
            args = {k: _json_arg(v, enc) for k, v in case.args.items()}
            return self.jsonwsp(case.service).call(case.method, **args)
        positional = [case.args[p.name] for p in info.params if p.name in case.args]
        if client.family == "xmlrpc":
            proxy = self.xmlrpc(case.service)
            return getattr(proxy, case.method)(*[_xmlrpc_arg(v) for v in positional])
        params: Any
        if client.positional:
            params = [_json_arg(v, enc) for v in positional]
        else:
            params = {k: _json_arg(v, enc) for k, v in case.args.items()}
        return self.jsonrpc(case.service, client.iface, case.method, params)


@pytest.fixture(scope="module")
def callers(live_server: LiveServer) -> Iterator[Callers]:
    c = Callers(live_server.url)
    yield c
    c.close()


# -- HTTP helpers -------------------------------------------------------------------------


def post(url: str, body: bytes, content_type: str) -> tuple[int, str, bytes]:
    headers = {"Content-Type": content_type}
    if content_type.startswith("text/xml"):
        headers["SOAPAction"] = '""'
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            return resp.status, resp.headers["Content-Type"] or "", resp.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.headers["Content-Type"] or "", err.read()


# -- parity -------------------------------------------------------------------------------


def test_every_method_of_every_service_has_cases() -> None:
    covered = {(c.service, c.method) for c in CASES}
    published = {(s, m) for s, info in SERVICES.items() for m in info.methods}
    assert covered | FAULT_ONLY == published
    assert not covered & FAULT_ONLY
    for case in CASES:
        assert set(case.args) <= {p.name for p in method_of(case).params}, case
        assert set(case.cannot) <= CLIENT_IDS | {c.family for c in CLIENTS}, case


def test_every_method_is_reachable_by_every_client() -> None:
    """No method is left to a subset of the clients by the exclusions."""
    for service, method in {(c.service, c.method) for c in CASES}:
        for client in CLIENTS:
            assert any(
                why_not(c, client) is None
                for c in CASES
                if (c.service, c.method) == (service, method)
            ), (service, method, client.id)


def _check(client: ClientKind, case: Case, got: Any) -> None:
    info = method_of(case)
    xmlrpc_wire = client.family == "xmlrpc"
    expected = canon(info.rtype, expected_of(case), xmlrpc_wire=xmlrpc_wire)
    normalised = normalise(client.family, info.rtype, got, info.encoding, info.rtype_nullable)
    assert typed(canon(info.rtype, normalised, xmlrpc_wire=xmlrpc_wire)) == typed(expected), (
        f"{case.service}.{case.method}[{case.id}]@{client.id}: raw client value {got!r}"
    )


@pytest.mark.parametrize(("case", "client"), list(parity_params()))
def test_same_answer_on_every_interface(callers: Callers, case: Case, client: ClientKind) -> None:
    _check(client, case, callers.call(client, case))


@pytest.mark.parametrize("service", list(SERVICES))
def test_a_jsonrpc_batch_answers_every_case_like_single_calls(
    live_server: LiveServer, service: str
) -> None:
    client = next(c for c in CLIENTS if c.id == "jsonrpc-named")
    cases = [c for c in CASES if c.service == service and why_not(c, client) is None]
    batch: list[dict[str, Any]] = []
    for n, case in enumerate(cases):
        enc = method_of(case).encoding
        params = {k: _json_arg(v, enc) for k, v in case.args.items()}
        batch.append({"jsonrpc": "2.0", "method": case.method, "params": params, "id": n})
        # a notification beside every call: run, never answered
        batch.append({"jsonrpc": "2.0", "method": case.method, "params": params})
    status, ctype, raw = post(
        f"{live_server.url}/{service}/jsonrpc", json.dumps(batch).encode(), "application/json"
    )
    assert status == 200, raw
    assert ctype.startswith("application/json"), ctype
    replies = json.loads(raw)
    assert isinstance(replies, list)
    assert sorted(r["id"] for r in replies) == list(range(len(cases)))
    for reply in replies:
        assert set(reply) == {"jsonrpc", "result", "id"}, reply
        _check(client, cases[reply["id"]], reply["result"])


@pytest.mark.parametrize("service", list(SERVICES))
def test_an_xmlrpc_multicall_answers_every_case_like_single_calls(
    callers: Callers, service: str
) -> None:
    client = next(c for c in CLIENTS if c.id == "xmlrpc")
    cases = [c for c in CASES if c.service == service and why_not(c, client) is None]
    multi = xmlrpc.client.MultiCall(callers.xmlrpc(service))
    for case in cases:
        positional = [case.args[p.name] for p in method_of(case).params if p.name in case.args]
        getattr(multi, case.method)(*[_xmlrpc_arg(v) for v in positional])
    results = multi()
    for n, case in enumerate(cases):
        _check(client, case, results[n])
    with pytest.raises(IndexError):
        results[len(cases)]  # one answer per call, no more


# -- faults on the wire -------------------------------------------------------------------

IFACES = ["soap", "soap11", "jsonwsp", "jsonrpc10", "jsonrpc", "xmlrpc"]
JSON_ID = 11

#: category -> (service, method, named args, positional args) of a well-formed call
CALLS: dict[str, tuple[str, str, dict[str, Any], list[Any]]] = {
    "unknown-method": ("Shapes", "nope", {}, []),
    "missing-argument": ("Shapes", "add", {"a": 2}, [2]),
    "wrong-type": ("Shapes", "add", {"a": "x", "b": 2}, ["x", 2]),
    "wrong-nested-type": ("Shapes", "mirror", {"p": {"x": "one", "y": 2}}, [{"x": "one", "y": 2}]),
    "bad-date": ("Ledger", "next_day", {"day": "soon"}, ["soon"]),
    "client-fault": ("Shapes", "fail", {"how": "client"}, ["client"]),
    "server-fault": ("Shapes", "fail", {"how": "server"}, ["server"]),
    "unexpected-error": ("Shapes", "fail", {"how": "boom"}, ["boom"]),
}
CATEGORIES = ["malformed", "empty", "bad-shape", *CALLS]
SERVER_SIDE = {"server-fault", "unexpected-error"}
CLIENT_SIDE = set(CATEGORIES) - SERVER_SIDE

SOAP_CODE = {c: "SOAP-ENV:Client" if c in CLIENT_SIDE else "SOAP-ENV:Server" for c in CATEGORIES}
LADON_CODE = {c: "client" if c in CLIENT_SIDE else "server" for c in CATEGORIES}
JSONRPC2_CODE = {
    "malformed": -32700,
    "empty": -32700,
    "bad-shape": -32600,
    "unknown-method": -32601,
    "missing-argument": -32602,
    "wrong-type": -32602,
    "wrong-nested-type": -32602,
    "bad-date": -32602,
    "client-fault": -32000,
    "server-fault": -32001,
    "unexpected-error": -32001,
}
XMLRPC_CODE = {
    **JSONRPC2_CODE,
    # a fault of the service: Ladon 1.0's code (COMPAT §3.5)
    "client-fault": 99,
    "server-fault": 99,
    "unexpected-error": 99,
}
EXPECTED_CODE: dict[str, dict[str, Any]] = {
    "soap": SOAP_CODE,
    "soap11": SOAP_CODE,
    "jsonwsp": LADON_CODE,
    "jsonrpc10": LADON_CODE,
    "jsonrpc": JSONRPC2_CODE,
    "xmlrpc": XMLRPC_CODE,
}
#: category -> check of the fault's message
MESSAGE: dict[str, Callable[[str], bool]] = {
    "malformed": lambda s: bool(s),
    "empty": lambda s: "empty" in s,
    "bad-shape": lambda s: bool(s),
    "unknown-method": lambda s: "nope" in s,
    "missing-argument": lambda s: '"b"' in s,
    "wrong-type": lambda s: '"a"' in s,
    "wrong-nested-type": lambda s: '"p.x"' in s,
    "bad-date": lambda s: '"day"' in s,
    "client-fault": lambda s: s == "you asked for it",
    "server-fault": lambda s: s == "backend down: server",
    "unexpected-error": lambda s: s == "Internal server error",
}
LEAKS = (b"Traceback", b".py", b"secret", b"/etc/passwd", b"RuntimeError")


def soap_elements(args: Mapping[str, Any]) -> str:
    return "".join(
        f"<{k}>{soap_elements(v) if isinstance(v, Mapping) else v}</{k}>" for k, v in args.items()
    )


def soap_envelope(method: str, args: Mapping[str, Any]) -> bytes:
    inner = soap_elements(args)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><{method}>{inner}</{method}></s:Body>'
        "</s:Envelope>"
    ).encode()


def bad_request(iface: str, category: str) -> tuple[str, bytes, str]:
    """The service, body and content type of a bad request of ``category`` on ``iface``."""
    xml = iface in ("soap", "soap11", "xmlrpc")
    ctype = "text/xml; charset=utf-8" if xml else "application/json; charset=utf-8"
    if category == "malformed":
        broken = b"<methodCall><methodName>add</methodName" if xml else b'{"method": "add",'
        return "Shapes", broken, ctype
    if category == "empty":
        return "Shapes", b"", ctype
    if category == "bad-shape":
        shapes = {
            "soap": b"<add><a>1</a><b>2</b></add>",  # no Envelope
            "soap11": f'<s:Envelope xmlns:s="{SOAP_ENV}"/>'.encode(),  # no Body
            "jsonwsp": b'{"args": {"a": 1, "b": 2}}',  # no methodname
            "jsonrpc10": b'{"method": "add", "params": [1, 2]}',  # no id
            "jsonrpc": b'{"jsonrpc": "1.0", "method": "add", "params": [1, 2], "id": 11}',
            "xmlrpc": b"<methodResponse><params/></methodResponse>",  # not a methodCall
        }
        return "Shapes", shapes[iface], ctype
    service, method, named, positional = CALLS[category]
    if iface in ("soap", "soap11"):
        return service, soap_envelope(method, named), ctype
    if iface == "xmlrpc":
        return service, xmlrpc.client.dumps(tuple(positional), method).encode(), ctype
    if iface == "jsonwsp":
        body: dict[str, Any] = {"methodname": method, "args": named}
    elif iface == "jsonrpc10":
        body = {"method": method, "params": positional, "id": JSON_ID}
    else:
        body = {"jsonrpc": "2.0", "method": method, "params": named, "id": JSON_ID}
    return service, json.dumps(body).encode(), ctype


@dataclass(frozen=True)
class WireFault:
    code: Any
    string: str
    detail: list[str]


def parse_fault(
    iface: str, status: int, ctype: str, body: bytes, sent_id: Any, http_status: int = 200
) -> WireFault:
    """Check the status and exact shape of a fault answer; return its parts.

    :param http_status: the status expected where the protocol's faults are
        not always HTTP 500 (SOAP 1.1): 200 for a fault of the service, 400
        for a request with no body at all.
    """
    if iface in ("soap", "soap11"):
        assert status == 500, body
        assert ctype.startswith("text/xml"), ctype
        root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
        assert root.tag == f"{{{SOAP_ENV}}}Envelope"
        (soap_body,) = [c for c in root if isinstance(c.tag, str)]
        assert soap_body.tag == f"{{{SOAP_ENV}}}Body"
        (fault,) = list(soap_body)
        assert fault.tag == f"{{{SOAP_ENV}}}Fault"
        names = [c.tag for c in fault]
        assert names in (["faultcode", "faultstring"], ["faultcode", "faultstring", "detail"])
        code = fault.findtext("faultcode") or ""
        prefix, _, local = code.partition(":")
        assert root.nsmap.get(prefix) == SOAP_ENV, code  # a qualified SOAP 1.1 code
        detail = fault.findtext("detail")
        return WireFault(
            f"SOAP-ENV:{local}", fault.findtext("faultstring") or "", detail_lines(detail)
        )
    if iface == "xmlrpc":
        assert status == http_status, body
        assert ctype.startswith("text/xml"), ctype
        with pytest.raises(xmlrpc.client.Fault) as info:
            xmlrpc.client.loads(body)
        assert type(info.value.faultCode) is int
        string, *detail = info.value.faultString.split("\n")
        return WireFault(info.value.faultCode, string, detail)
    assert status == http_status, body
    assert ctype.startswith("application/json"), ctype
    reply = json.loads(body)
    ladon_members = {"code", "string", "detail", "filename", "lineno", "hint"}
    if iface == "jsonwsp":
        assert set(reply) == {"type", "version", "fault"}, reply
        assert (reply["type"], reply["version"]) == ("jsonwsp/fault", "1.0")
        fault = reply["fault"]
        assert set(fault) == ladon_members, fault
        return WireFault(fault["code"], fault["string"], fault["detail"])
    if iface == "jsonrpc10":
        assert set(reply) == {"result", "error", "id"}, reply
        assert reply["result"] is None
        assert reply["id"] == sent_id, reply
        error = reply["error"]
        assert set(error) == ladon_members, error
        return WireFault(error["code"], error["string"], error["detail"])
    assert set(reply) == {"jsonrpc", "error", "id"}, reply
    assert reply["jsonrpc"] == "2.0"
    assert reply["id"] == sent_id, reply
    error = reply["error"]
    assert set(error) == {"code", "message", "data"}, error
    assert type(error["code"]) is int
    assert set(error["data"]) == {"code", "detail", "hint"}, error
    assert error["data"]["code"] == LADON_CODE[_category_of_code(error["code"])], error
    return WireFault(error["code"], error["message"], error["data"]["detail"])


def _category_of_code(code: int) -> str:
    return next(c for c, v in JSONRPC2_CODE.items() if v == code)


def expected_detail(category: str, detail: list[str]) -> list[str]:
    """The detail a fault of ``category`` carries: the service's own, the
    request id of an unexpected error (docs/operations.rst), else none."""
    if category == "server-fault":
        return ["custom detail text"]
    if category == "unexpected-error":
        assert len(detail) == 1 and re.fullmatch(r"request id: [0-9a-f]{32}", detail[0]), detail
        return detail
    return []


def detail_lines(detail: str | None) -> list[str]:
    return [] if detail is None else detail.split("\n")


def fault_params() -> Iterator[Any]:
    for iface, category in itertools.product(IFACES, CATEGORIES):
        yield pytest.param(iface, category, id=f"{iface}-{category}")


@pytest.mark.parametrize(("iface", "category"), list(fault_params()))
def test_bad_request_gets_the_interface_fault(
    live_server: LiveServer, iface: str, category: str
) -> None:
    service, body, ctype = bad_request(iface, category)
    status, got_ctype, reply = post(f"{live_server.url}/{service}/{iface}", body, ctype)
    for leak in LEAKS:
        assert leak not in reply, reply
    # JSON-RPC echoes the id it could read, null otherwise
    readable_id = category not in ("malformed", "empty") and not (
        iface == "jsonrpc10" and category == "bad-shape"
    )
    sent_id = JSON_ID if readable_id else None
    # an empty POST is a bad HTTP request: 400 with the protocol's fault
    http_status = 400 if category == "empty" else 200
    fault = parse_fault(iface, status, got_ctype, reply, sent_id, http_status)
    assert fault.code == EXPECTED_CODE[iface][category], fault
    assert MESSAGE[category](fault.string), fault
    assert fault.detail == expected_detail(category, fault.detail), fault


# -- faults through the real clients --------------------------------------------------------


def _raise_through(callers: Callers, client: ClientKind, category: str) -> Exception:
    """Send a bad call of ``category`` with the real client; return what it raised."""
    name, method, named, positional = CALLS[category]
    try:
        if client.family == "zeep":
            service = callers.zeep(name, client.iface).service
            if category == "missing-argument":
                service.add(2, xsd.SkipValue)
            else:
                getattr(service, method)(**named)
        elif client.family == "suds":
            service = callers.suds(name, client.iface).service
            # suds sends a left-out required doc/literal element empty (a wrong
            # type) and leaves out an rpc part (missing): both name "b"
            getattr(service, method)(**named)
        elif client.family == "jsonwsp":
            if category == "missing-argument":
                # the description-aware client refuses to send it: use the bare endpoint
                bare = JSONWSPClient(url=f"{callers.url}/{name}/jsonwsp", timeout=TIMEOUT)
                bare.call(method, **named)
            else:
                callers.jsonwsp(name).call(method, **named)
        elif client.family == "xmlrpc":
            getattr(callers.xmlrpc(name), method)(*[_xmlrpc_arg(v) for v in positional])
        else:  # pragma: no cover - JSON-RPC has no client beside the raw requests above
            raise AssertionError(client)
    except Exception as exc:  # the test inspects it
        return exc
    raise AssertionError(f"{client.id}: {category} raised nothing")


#: which bad calls each real client can send at all (zeep and suds only call
#: the methods the WSDL lists)
CLIENT_FAULTS = {
    "zeep": [c for c in CALLS if c != "unknown-method"],
    "suds": [c for c in CALLS if c != "unknown-method"],
    "jsonwsp": list(CALLS),
    "xmlrpc": list(CALLS),
}


def client_fault_params() -> Iterator[Any]:
    for client in CLIENTS:
        for category in CLIENT_FAULTS.get(client.family, []):
            yield pytest.param(client, category, id=f"{client.id}-{category}")


@pytest.mark.parametrize(("client", "category"), list(client_fault_params()))
def test_fault_reaches_the_real_client(callers: Callers, client: ClientKind, category: str) -> None:
    exc = _raise_through(callers, client, category)
    code: Any
    expected_code: Any
    detail: list[str]
    if client.family == "zeep":
        assert isinstance(exc, zeep.exceptions.Fault), repr(exc)
        code, string = exc.code, exc.message
        detail = detail_lines(exc.detail.text if exc.detail is not None else None)
        expected_code = SOAP_CODE[category]
    elif client.family == "suds":
        assert isinstance(exc, suds.WebFault), repr(exc)
        code, string = str(exc.fault.faultcode), str(exc.fault.faultstring)
        detail = detail_lines(getattr(exc.fault, "detail", None))
        expected_code = SOAP_CODE[category]
    elif client.family == "jsonwsp":
        assert isinstance(exc, JSONWSPFault), repr(exc)
        code, string, detail = exc.code, exc.string, exc.detail
        expected_code = LADON_CODE[category]
    else:
        assert isinstance(exc, xmlrpc.client.Fault), repr(exc)
        assert type(exc.faultCode) is int
        code = exc.faultCode
        string, *detail = exc.faultString.split("\n")
        expected_code = XMLRPC_CODE[category]
    assert code == expected_code, (code, string)
    assert MESSAGE[category](string), string
    assert detail == expected_detail(category, detail), detail
    for leak in LEAKS:
        assert leak.decode() not in string + "\n".join(detail)
