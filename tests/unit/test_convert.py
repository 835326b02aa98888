"""``convert.load`` / ``convert.dump``: wire values to Python values and back."""

from __future__ import annotations

import datetime
import decimal
import io
import math
import re
from typing import Any

import pytest

from ladon.exceptions.service import ArgumentError
from ladon.exceptions.service import ResultError
from ladon.types.attachment import attachment
from ladon.types.convert import Options
from ladon.types.convert import dump
from ladon.types.convert import load
from ladon.types.ladontype import LadonType
from ladon.types.spec import ListOf
from ladon.types.spec import TypeSpec

OPTS = Options()
UNSAFE = Options(allow_unsafe=True)
UTC = datetime.timezone.utc
D = decimal.Decimal


class Tag(LadonType):
    name = str
    weight = {"type": float, "default": 1.0}


class Item(LadonType):
    name = str
    count = {"type": int, "default": 1}
    note = {"type": str, "nullable": True}
    tags = [Tag]
    price = {"type": D, "nullable": True, "default": D("0.50")}


class Order(LadonType):
    id = int
    items = [Item]
    main = {"type": Item, "nullable": True}


# -- primitives: load ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "wire", "expected"),
    [
        (int, 40, 40),
        (int, "40", 40),
        (int, " -7 ", -7),
        (int, "+3", 3),
        (int, 10**30, 10**30),
        (float, "2.5", 2.5),
        (float, 2.5, 2.5),
        (float, 2, 2.0),
        (float, "1e3", 1000.0),
        (float, "-0.25", -0.25),
        (bool, True, True),
        (bool, False, False),
        (bool, "true", True),
        (bool, "True", True),
        (bool, "false", False),
        (bool, "False", False),
        (bool, "f", False),
        (bool, "0", False),
        (bool, " 0 ", False),
        (bool, "1", True),
        (bool, "no", True),
        (bool, "yes", True),
        (bool, 0, False),
        (bool, 1, True),
        (str, "hello", "hello"),
        (str, "", ""),
        (str, "  spaced  ", "  spaced  "),
        (str, 40, "40"),
        (str, 2.5, "2.5"),
        (str, "caf\u00e9", "caf\u00e9"),
        (str, b"caf\xc3\xa9", "caf\u00e9"),
        (bytes, "caf\u00e9", b"caf\xc3\xa9"),
        (bytes, b"\x00\xff", b"\x00\xff"),
        (bytes, bytearray(b"ab"), b"ab"),
        (
            datetime.datetime,
            "2024-05-01T12:30:00",
            datetime.datetime(2024, 5, 1, 12, 30),
        ),
        (
            datetime.datetime,
            "2024-05-01T12:30:00Z",
            datetime.datetime(2024, 5, 1, 12, 30, tzinfo=UTC),
        ),
        (
            datetime.datetime,
            "2024-05-01T12:30:00z",
            datetime.datetime(2024, 5, 1, 12, 30, tzinfo=UTC),
        ),
        (
            datetime.datetime,
            "2024-05-01T12:30:00.250+02:00",
            datetime.datetime(
                2024, 5, 1, 12, 30, 0, 250000, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
            ),
        ),
        (datetime.datetime, " 2024-05-01 ", datetime.datetime(2024, 5, 1)),
        (datetime.date, "2024-05-01", datetime.date(2024, 5, 1)),
        (datetime.date, datetime.datetime(2024, 5, 1, 9), datetime.date(2024, 5, 1)),
        (D, "12.50", D("12.50")),
        (D, " -0.001 ", D("-0.001")),
        (D, 3, D(3)),
        (D, 0.1, D("0.1")),
        (D, "1" * 60, D("1" * 60)),
    ],
    ids=[
        "int-native",
        "int-text",
        "int-text-spaces",
        "int-plus-sign",
        "int-big-native",
        "float-text",
        "float-native",
        "float-from-int",
        "float-exponent",
        "float-negative",
        "bool-true",
        "bool-false",
        "bool-text-true",
        "bool-text-True",
        "bool-text-false",
        "bool-text-False",
        "bool-text-f",
        "bool-text-0",
        "bool-text-0-spaces",
        "bool-text-1",
        "bool-text-no-is-true",
        "bool-text-yes",
        "bool-int-0",
        "bool-int-1",
        "str",
        "str-empty",
        "str-whitespace-kept",
        "str-from-int",
        "str-from-float",
        "str-unicode",
        "str-from-utf8-bytes",
        "bytes-from-text",
        "bytes-native",
        "bytes-from-bytearray",
        "datetime-naive",
        "datetime-Z",
        "datetime-z",
        "datetime-offset-fraction",
        "datetime-date-only",
        "date",
        "date-from-datetime",
        "decimal-text",
        "decimal-text-spaces",
        "decimal-int",
        "decimal-float",
        "decimal-many-digits",
    ],
)
def test_load_primitive(spec: TypeSpec, wire: object, expected: object) -> None:
    value = load(spec, wire, "a", OPTS)
    assert value == expected
    assert type(value) is type(expected)


def test_load_datetime_with_z_is_utc_aware() -> None:
    value = load(datetime.datetime, "2024-05-01T12:30:00Z", "a", OPTS)
    assert value.utcoffset() == datetime.timedelta(0)


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("2024-02-01Z", datetime.date(2024, 2, 1)),
        ("2024-02-01+02:00", datetime.date(2024, 2, 1)),
        ("2024-02-01-05:00", datetime.date(2024, 2, 1)),
        (" 2024-02-29z ", datetime.date(2024, 2, 29)),
    ],
)
def test_load_date_takes_the_xsd_time_zone(wire: str, expected: datetime.date) -> None:
    """``xsd:date`` allows a time zone (JAXB sends one); the date is taken
    as written."""
    assert load(datetime.date, wire, "a", OPTS) == expected


@pytest.mark.parametrize(
    "wire",
    [
        "2024-02-30Z",
        "2024-02-01+2:00",
        "2024-02-01 Z",
        "2024-02-01T",
        "2024-02-01+99:99",
        "2024-02-01-14:01",
        "2024-02-01+\u0661\u0662:00",
    ],
)
def test_load_date_refuses_a_broken_zone(wire: str) -> None:
    with pytest.raises(ArgumentError, match="expected an ISO 8601 date"):
        load(datetime.date, wire, "a", OPTS)


def test_load_datetime_takes_the_end_of_a_day() -> None:
    """``xsd:dateTime``'s 24:00:00 is the next day's midnight."""
    utc = datetime.timezone.utc
    assert load(datetime.datetime, "2024-12-31T24:00:00Z", "a", OPTS) == datetime.datetime(
        2025, 1, 1, tzinfo=utc
    )
    assert load(datetime.datetime, "2024-02-28T24:00:00.000", "a", OPTS) == datetime.datetime(
        2024, 2, 29
    )
    for wrong in ["2024-02-28T24:00:01", "2024-02-28T24:30:00", "9999-12-31T24:00:00"]:
        with pytest.raises(ArgumentError, match="expected an ISO 8601 date and time"):
            load(datetime.datetime, wrong, "a", OPTS)


def test_load_bytes_uses_the_method_encoding() -> None:
    assert load(bytes, "caf\u00e9", "a", Options(encoding="latin-1")) == b"caf\xe9"
    assert load(str, b"caf\xe9", "a", Options(encoding="latin-1")) == "caf\u00e9"


@pytest.mark.parametrize(
    ("spec", "wire", "reason"),
    [
        (int, "2.5", "expected an integer"),
        (int, 2.5, "expected an integer"),
        (int, 2.0, "expected an integer"),
        (int, "", "expected an integer"),
        (int, "forty", "expected an integer"),
        (int, "0x10", "expected an integer"),
        (int, "1_000", "expected an integer"),
        (int, True, "expected an integer"),
        (int, [1], "expected an integer"),
        (int, {"a": 1}, "expected an integer"),
        (float, "abc", "expected a number"),
        (float, "", "expected a number"),
        (float, False, "expected a number"),
        (float, "nan", "finite"),
        (float, "NaN", "finite"),
        (float, "inf", "finite"),
        (float, "-Infinity", "finite"),
        (float, math.nan, "finite"),
        (float, math.inf, "finite"),
        (float, 10**400, "too large"),
        (bool, "", "expected a boolean"),
        (bool, "   ", "expected a boolean"),
        (bool, 2.5, "expected a boolean"),
        (bool, [True], "expected a boolean"),
        (str, True, "expected a string"),
        (str, [], "expected a string"),
        (str, {}, "expected a string"),
        (str, b"\xff\xfe", "not valid UTF-8"),
        (bytes, 5, "expected a string"),
        (bytes, "\ud800", "cannot be encoded"),
        (datetime.datetime, "yesterday", "ISO 8601"),
        (datetime.datetime, "2024-13-01T00:00:00", "ISO 8601"),
        (datetime.datetime, 1714566600, "ISO 8601"),
        (datetime.date, "2024-02-30", "ISO 8601"),
        (datetime.date, "2024-05-01T12:30:00", "ISO 8601"),
        (datetime.date, 20240501, "ISO 8601"),
        (D, "abc", "expected a decimal"),
        (D, "", "expected a decimal"),
        (D, True, "expected a decimal"),
        (D, "NaN", "finite"),
        (D, "Infinity", "finite"),
        (D, "sNaN", "finite"),
        (D, [1], "expected a decimal"),
    ],
    ids=[
        "int-from-2.5-text",
        "int-from-float",
        "int-from-whole-float",
        "int-empty",
        "int-word",
        "int-hex",
        "int-underscore",
        "int-from-bool",
        "int-from-list",
        "int-from-dict",
        "float-word",
        "float-empty",
        "float-from-bool",
        "float-nan-text",
        "float-NaN-text",
        "float-inf-text",
        "float-minus-infinity-text",
        "float-nan-native",
        "float-inf-native",
        "float-huge-int",
        "bool-empty",
        "bool-blank",
        "bool-float",
        "bool-list",
        "str-from-bool",
        "str-from-list",
        "str-from-dict",
        "str-from-bad-bytes",
        "bytes-from-int",
        "bytes-unencodable",
        "datetime-word",
        "datetime-month-13",
        "datetime-epoch-number",
        "date-feb-30",
        "date-with-time",
        "date-number",
        "decimal-word",
        "decimal-empty",
        "decimal-bool",
        "decimal-nan",
        "decimal-infinity",
        "decimal-snan",
        "decimal-list",
    ],
)
def test_load_rejects_bad_primitive(spec: TypeSpec, wire: object, reason: str) -> None:
    with pytest.raises(ArgumentError) as excinfo:
        load(spec, wire, "param", OPTS)
    assert excinfo.value.path == "param"
    assert str(excinfo.value).startswith('Argument "param": ')
    assert reason in str(excinfo.value)
    assert excinfo.value.faultcode == "client"


def test_load_bytes_unencodable_for_the_method_encoding() -> None:
    with pytest.raises(ArgumentError, match="cannot be encoded as ascii"):
        load(bytes, "caf\u00e9", "a", Options(encoding="ascii"))


def test_load_error_message_shows_the_bad_value_and_shortens_it() -> None:
    with pytest.raises(ArgumentError) as excinfo:
        load(int, "2.5", "n", OPTS)
    assert str(excinfo.value) == "Argument \"n\": expected an integer, got '2.5'"
    with pytest.raises(ArgumentError) as excinfo:
        load(int, "x" * 500, "n", OPTS)
    assert len(str(excinfo.value)) < 120


@pytest.mark.parametrize(
    "spec",
    [int, float, bool, str, bytes, datetime.datetime, datetime.date, D, Tag],
    ids=lambda s: s.__name__,
)
def test_load_none_is_rejected_unless_nullable(spec: TypeSpec) -> None:
    with pytest.raises(ArgumentError, match=r'"p": expected .*, got null'):
        load(spec, None, "p", OPTS)
    assert load(spec, None, "p", OPTS, nullable=True) is None


# -- huge numbers ------------------------------------------------------------------


def test_load_huge_integer_text_is_an_error_not_a_crash() -> None:
    with pytest.raises(ArgumentError, match="too long") as excinfo:
        load(int, "1" * 5000, "n", OPTS)
    assert len(str(excinfo.value)) < 200


def test_load_huge_number_text_for_float_is_rejected() -> None:
    with pytest.raises(ArgumentError, match="finite"):
        load(float, "1" * 5000, "x", OPTS)


def test_load_huge_number_text_in_a_list_reports_the_item_path() -> None:
    with pytest.raises(ArgumentError) as excinfo:
        load(ListOf(int), ["1", "1" * 5000], "ns", OPTS)
    assert excinfo.value.path == "ns[1]"


@pytest.mark.parametrize(
    "spec",
    [float, str, ListOf(int)],
    ids=["float", "str", "list"],
)
def test_load_huge_native_integer_in_a_non_int_slot_is_an_argument_error(spec: TypeSpec) -> None:
    # describe_value() must not repr() a number of more than 4300 digits.
    with pytest.raises(ArgumentError):
        load(spec, 10**5000, "x", OPTS)


# -- lists ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "wire", "expected"),
    [
        (ListOf(int), ["1", 2, " 3 "], [1, 2, 3]),
        (ListOf(int), (1, 2), [1, 2]),
        (ListOf(str), [], []),
        (ListOf(str), None, []),
        (ListOf(str), "", []),
        (ListOf(str), "  ", []),
        (ListOf(ListOf(int)), [["1"], [], [2, 3]], [[1], [], [2, 3]]),
        (ListOf(bool), ["f", "x", False, "0"], [False, True, False, False]),
    ],
    ids=[
        "ints-mixed",
        "tuple",
        "empty",
        "null-is-empty",
        "empty-xml-element",
        "blank-xml-element",
        "nested",
        "bools",
    ],
)
def test_load_list(spec: TypeSpec, wire: object, expected: object) -> None:
    assert load(spec, wire, "l", OPTS) == expected


def test_load_nullable_list_keeps_null() -> None:
    assert load(ListOf(int), None, "l", OPTS, nullable=True) is None


@pytest.mark.parametrize(
    "wire",
    ["1,2", 5, {"a": 1}, True],
    ids=["text", "int", "dict", "bool"],
)
def test_load_list_rejects_non_lists(wire: object) -> None:
    with pytest.raises(ArgumentError, match=r'"l": expected a list'):
        load(ListOf(int), wire, "l", OPTS)


def test_load_list_item_errors_name_the_index() -> None:
    with pytest.raises(ArgumentError) as excinfo:
        load(ListOf(int), [1, 2, "x"], "numbers", OPTS)
    assert excinfo.value.path == "numbers[2]"
    assert str(excinfo.value).startswith('Argument "numbers[2]": expected an integer')


def test_load_null_list_item_is_an_error_with_index() -> None:
    with pytest.raises(ArgumentError, match=r'"names\[1\]": expected str, got null'):
        load(ListOf(str), ["a", None], "names", OPTS)


def test_load_nested_list_error_path() -> None:
    with pytest.raises(ArgumentError) as excinfo:
        load(ListOf(ListOf(int)), [[1], [2, "b"]], "grid", OPTS)
    assert excinfo.value.path == "grid[1][1]"


# -- objects -------------------------------------------------------------------------


def test_load_nested_objects() -> None:
    wire = {
        "id": "7",
        "items": [
            {"name": "pen", "count": "3", "tags": [{"name": "blue", "weight": "0.5"}]},
            {"name": "ink", "note": "black", "price": "2.10"},
        ],
        "main": {"name": "pad"},
        "ignored": "extra keys are ignored",
    }
    order = load(Order, wire, "order", OPTS)
    assert isinstance(order, Order)
    assert order.id == 7
    pen, ink = order.items
    assert (pen.name, pen.count, pen.note, pen.price) == ("pen", 3, None, D("0.50"))
    assert pen.tags == [Tag(name="blue", weight=0.5)]
    assert (ink.count, ink.note, ink.tags, ink.price) == (1, "black", [], D("2.10"))
    assert order.main == Item(name="pad")
    assert not hasattr(order, "ignored")


def test_load_missing_fields_take_default_empty_list_or_none() -> None:
    item = load(Item, {"name": "x"}, "item", OPTS)
    assert item.count == 1
    assert item.tags == []
    assert item.note is None
    assert item.price == D("0.50")


def test_load_missing_list_fields_get_a_fresh_list_each_time() -> None:
    a = load(Item, {"name": "a"}, "a", OPTS)
    b = load(Item, {"name": "b"}, "b", OPTS)
    a.tags.append(Tag(name="t"))
    assert b.tags == []
    assert Item.ladon_type_info().fields[-1].missing_value() == []


def test_load_null_list_field_is_an_empty_list() -> None:
    assert load(Item, {"name": "x", "tags": None}, "item", OPTS).tags == []


def test_load_null_nullable_field_is_none_even_with_a_default() -> None:
    assert load(Item, {"name": "x", "price": None}, "item", OPTS).price is None


def test_load_null_for_a_non_nullable_field_is_an_error() -> None:
    with pytest.raises(ArgumentError, match=r'"item\.count": expected int, got null'):
        load(Item, {"name": "x", "count": None}, "item", OPTS)


def test_load_missing_mandatory_field_is_an_error() -> None:
    with pytest.raises(ArgumentError) as excinfo:
        load(Item, {"count": 1}, "item", OPTS)
    assert excinfo.value.path == "item.name"
    assert str(excinfo.value) == 'Argument "item.name": is not optional and was not given'


@pytest.mark.parametrize(
    "wire",
    ["text", [1], 5, True],
    ids=["text", "list", "int", "bool"],
)
def test_load_object_from_a_non_mapping_is_an_error(wire: object) -> None:
    with pytest.raises(ArgumentError, match=r'"item": expected an object \(Item\)'):
        load(Item, wire, "item", OPTS)


def test_load_object_accepts_an_instance_as_is() -> None:
    tag = Tag(name="a", weight=2.0)
    assert load(Tag, tag, "t", OPTS) is tag


@pytest.mark.parametrize(
    ("wire", "path"),
    [
        ({"id": 1, "items": [{"name": "a"}] * 3 + [{"name": None}]}, "order.items[3].name"),
        ({"id": 1, "items": [{"name": "a"}, {}]}, "order.items[1].name"),
        (
            {"id": 1, "items": [{"name": "a", "tags": [{"name": "t", "weight": "x"}]}]},
            "order.items[0].tags[0].weight",
        ),
        ({"id": 1, "items": [{"name": "a", "tags": ["t"]}]}, "order.items[0].tags[0]"),
        ({"id": 1, "main": {"name": "a", "count": "2.5"}}, "order.main.count"),
        ({"id": "one"}, "order.id"),
        ({"id": 1, "items": {"name": "a"}}, "order.items"),
    ],
    ids=[
        "null-name",
        "missing-name",
        "nested-weight",
        "tag-not-object",
        "main-count",
        "id",
        "items-not-list",
    ],
)
def test_load_error_path_points_at_the_bad_value(wire: dict[str, Any], path: str) -> None:
    with pytest.raises(ArgumentError) as excinfo:
        load(Order, wire, "order", OPTS)
    assert excinfo.value.path == path
    assert str(excinfo.value).startswith(f'Argument "{path}": ')


def test_load_error_path_items_3_name() -> None:
    wire = [{"name": "a"}, {"name": "b"}, {"name": "c"}, {"name": ["not", "text"]}]
    with pytest.raises(ArgumentError) as excinfo:
        load(ListOf(Item), wire, "items", OPTS)
    assert excinfo.value.path == "items[3].name"
    assert str(excinfo.value) == 'Argument "items[3].name": expected a string, got a list'


def test_load_attachment_passes_an_attachment_through() -> None:
    att = attachment(io.BytesIO(b"data"))
    assert load(attachment, att, "file", OPTS) is att
    with pytest.raises(ArgumentError, match="expected an attachment"):
        load(attachment, "data", "file", OPTS)


# -- primitives: dump ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "value", "wire"),
    [
        (int, 5, 5),
        (int, -(10**30), -(10**30)),
        (float, 0.5, 0.5),
        (float, 1 / 3, 0.3333333333333333),
        (float, 2, 2.0),
        (bool, True, True),
        (bool, False, False),
        (str, "caf\u00e9", "caf\u00e9"),
        (str, b"caf\xc3\xa9", "caf\u00e9"),
        (bytes, b"caf\xc3\xa9", "caf\u00e9"),
        (bytes, "text", "text"),
        (datetime.datetime, datetime.datetime(2024, 5, 1, 12, 30), "2024-05-01T12:30:00"),
        (
            datetime.datetime,
            datetime.datetime(2024, 5, 1, 12, 30, tzinfo=UTC),
            "2024-05-01T12:30:00+00:00",
        ),
        (datetime.date, datetime.date(2024, 5, 1), "2024-05-01"),
        (datetime.date, datetime.datetime(2024, 5, 1, 23, 59), "2024-05-01"),
        (D, D("12.50"), "12.50"),
        (D, D("1E+3"), "1000"),
        (D, D("-0.001"), "-0.001"),
        (D, 7, "7"),
    ],
    ids=[
        "int",
        "int-big",
        "float",
        "float-repr",
        "float-from-int",
        "bool-true",
        "bool-false",
        "str",
        "str-from-bytes",
        "bytes",
        "bytes-given-text",
        "datetime-naive",
        "datetime-utc",
        "date",
        "date-from-datetime",
        "decimal",
        "decimal-exponent-written-out",
        "decimal-negative",
        "decimal-from-int",
    ],
)
def test_dump_primitive(spec: TypeSpec, value: object, wire: object) -> None:
    out = dump(spec, value, "result", OPTS)
    assert out == wire
    assert type(out) is type(wire)


def test_dump_bytes_uses_the_method_encoding() -> None:
    assert dump(bytes, b"caf\xe9", "r", Options(encoding="latin-1")) == "caf\u00e9"


@pytest.mark.parametrize(
    ("spec", "value", "reason"),
    [
        (int, 2.7, "expected int, got float"),
        (int, True, "expected int, got bool"),
        (int, "5", "expected int, got str"),
        (float, "2.5", "expected float, got str"),
        (float, True, "expected float, got bool"),
        (float, math.nan, "NaN and infinity"),
        (float, math.inf, "NaN and infinity"),
        (float, -math.inf, "NaN and infinity"),
        (bool, 1, "expected bool, got int"),
        (bool, "true", "expected bool, got str"),
        (str, 5, "expected str, got int"),
        (str, b"\xff", "not valid UTF-8"),
        (bytes, 5, "expected str, got int"),
        (datetime.datetime, datetime.date(2024, 5, 1), "expected datetime"),
        (datetime.datetime, "2024-05-01", "expected datetime"),
        (datetime.date, "2024-05-01", "expected date"),
        (D, 2.5, "finite Decimal"),
        (D, D("NaN"), "finite Decimal"),
        (D, D("Infinity"), "finite Decimal"),
        (D, True, "finite Decimal"),
    ],
    ids=[
        "int-float",
        "int-bool",
        "int-str",
        "float-str",
        "float-bool",
        "float-nan",
        "float-inf",
        "float-minus-inf",
        "bool-int",
        "bool-str",
        "str-int",
        "str-bad-bytes",
        "bytes-int",
        "datetime-date",
        "datetime-str",
        "date-str",
        "decimal-float",
        "decimal-nan",
        "decimal-inf",
        "decimal-bool",
    ],
)
def test_dump_rejects_wrong_types(spec: TypeSpec, value: object, reason: str) -> None:
    with pytest.raises(ResultError) as excinfo:
        dump(spec, value, "result", OPTS)
    assert excinfo.value.path == "result"
    assert str(excinfo.value).startswith('Method result "result": ')
    assert reason in str(excinfo.value)
    assert excinfo.value.faultcode == "server"


@pytest.mark.parametrize(
    "value",
    [10**400, 10**5000],
    ids=["400-digits", "5000-digits"],
)
def test_dump_integer_too_large_for_a_float_is_a_result_error(value: int) -> None:
    with pytest.raises(ResultError, match='"result"'):
        dump(float, value, "result", OPTS)


def test_dump_none_is_rejected_unless_nullable() -> None:
    with pytest.raises(ResultError, match=r'"result": expected int, got None'):
        dump(int, None, "result", OPTS)
    assert dump(int, None, "result", OPTS, nullable=True) is None


@pytest.mark.parametrize(
    ("spec", "value", "wire"),
    [
        (int, 2.7, 2),
        (int, "42", 42),
        (int, D("3.9"), 3),
        (float, "2.5", 2.5),
        (float, D("0.25"), 0.25),
        (bool, 1, True),
        (bool, "", False),
        (str, 5, "5"),
        (str, 2.5, "2.5"),
    ],
    ids=[
        "int-from-float",
        "int-from-text",
        "int-from-decimal",
        "float-from-text",
        "float-from-decimal",
        "bool-from-int",
        "bool-from-empty-text",
        "str-from-int",
        "str-from-float",
    ],
)
def test_dump_allow_unsafe_coerces(spec: TypeSpec, value: object, wire: object) -> None:
    out = dump(spec, value, "result", UNSAFE)
    assert out == wire
    assert type(out) is type(wire)


@pytest.mark.parametrize(
    ("spec", "value"),
    [(int, "abc"), (int, math.inf), (float, "abc"), (float, D("NaN")), (str, None)],
    ids=["int-word", "int-inf", "float-word", "float-nan-decimal", "str-none"],
)
def test_dump_allow_unsafe_still_rejects_impossible_values(spec: TypeSpec, value: object) -> None:
    with pytest.raises(ResultError):
        dump(spec, value, "result", UNSAFE)


def test_dump_allow_unsafe_in_an_object_field() -> None:
    class Measure(LadonType):
        whole = int
        exact = float

    # a float in the int field is the point (mypy says so too)
    with pytest.raises(ResultError, match=r'"r\.whole": expected int, got float'):
        dump(Measure, Measure(whole=2.7, exact=2.7), "r", OPTS)  # type: ignore[arg-type]
    assert dump(Measure, Measure(whole=2.7, exact=2.7), "r", UNSAFE) == {"exact": 2.7, "whole": 2}  # type: ignore[arg-type]


# -- lists and objects: dump -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "wire"),
    [([1, 2], [1, 2]), ((1, 2), [1, 2]), ([], []), (iter([3]), [3]), (range(2), [0, 1])],
    ids=["list", "tuple", "empty", "iterator", "range"],
)
def test_dump_list(value: object, wire: list[int]) -> None:
    assert dump(ListOf(int), value, "r", OPTS) == wire


@pytest.mark.parametrize(
    "value",
    ["12", b"12", {"a": 1}, 5],
    ids=["str", "bytes", "dict", "int"],
)
def test_dump_list_rejects_non_lists(value: object) -> None:
    with pytest.raises(ResultError, match=r'"r": expected a list'):
        dump(ListOf(int), value, "r", OPTS)


def test_dump_object_fields_are_alphabetical_and_missing_ones_filled() -> None:
    out = dump(Order, Order(id=1, items=[Item(name="pen")]), "result", OPTS)
    assert out == {
        "id": 1,
        "items": [{"count": 1, "name": "pen", "note": None, "price": "0.50", "tags": []}],
        "main": None,
    }
    assert list(out) == ["id", "items", "main"]
    assert list(out["items"][0]) == ["count", "name", "note", "price", "tags"]


def test_dump_object_from_a_mapping() -> None:
    assert dump(Tag, {"weight": 2, "name": "t", "extra": 1}, "r", OPTS) == {
        "name": "t",
        "weight": 2.0,
    }


def test_dump_object_unset_mandatory_field_is_an_error() -> None:
    with pytest.raises(ResultError) as excinfo:
        dump(Order, Order(items=[]), "result", OPTS)
    assert excinfo.value.path == "result.id"
    assert "mandatory field was not set" in str(excinfo.value)


def test_dump_object_of_the_wrong_class_is_an_error() -> None:
    with pytest.raises(ResultError, match=r'"result": expected Tag, got Item'):
        dump(Tag, Item(name="x"), "result", OPTS)


def test_dump_object_none_for_a_non_nullable_field_is_an_error() -> None:
    with pytest.raises(ResultError, match=r'"result\.name": expected str, got None'):
        dump(Tag, Tag(name=None), "result", OPTS)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "path"),
    # wrong values on purpose (mypy says so too)
    [
        (Order(id=1, items=[Item(name="a")] * 3 + [Item(name=5)]), "result.items[3].name"),  # type: ignore[arg-type]
        (
            Order(id=1, items=[Item(name="a", tags=[Tag(name="t", weight="x")])]),  # type: ignore[arg-type]
            "result.items[0].tags[0].weight",
        ),
        (Order(id=1, items=[Item(name="a", tags=["t"])]), "result.items[0].tags[0]"),  # type: ignore[list-item]
        (Order(id=1, main=Item(name="a", count=1.5)), "result.main.count"),  # type: ignore[arg-type]
        (Order(id=1, items=[Item(name="a", price=2.5)]), "result.items[0].price"),  # type: ignore[arg-type]
        (Order(id=True), "result.id"),
        (Order(id=1, items=Item(name="a")), "result.items"),  # type: ignore[arg-type]
    ],
    ids=[
        "name",
        "weight",
        "tag-not-object",
        "main-count",
        "price-float",
        "id-bool",
        "items-not-list",
    ],
)
def test_dump_error_path_points_at_the_bad_value(value: Order, path: str) -> None:
    with pytest.raises(ResultError) as excinfo:
        dump(Order, value, "result", OPTS)
    assert excinfo.value.path == path
    assert str(excinfo.value).startswith(f'Method result "{path}": ')


def test_load_then_dump_round_trip() -> None:
    wire = {
        "id": 3,
        "items": [
            {
                "count": 2,
                "name": "pen",
                "note": None,
                "price": "1.25",
                "tags": [{"name": "x", "weight": 0.5}],
            }
        ],
        "main": None,
    }
    assert dump(Order, load(Order, wire, "o", OPTS), "o", OPTS) == wire


def test_dump_attachment_passes_through() -> None:
    att = attachment(io.BytesIO(b"data"))
    assert dump(attachment, att, "r", OPTS) is att


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, False), (1, True), (2, True), (-1, True), (10**5000, True)],
    ids=["zero", "one", "two", "negative", "huge"],
)
def test_load_bool_from_a_json_number_is_false_only_for_zero(value: int, expected: bool) -> None:
    # Ladon 1.0 read JSON numbers as text: "0" is false, other numbers true.
    assert load(bool, value, "flag", OPTS) is expected


@pytest.mark.parametrize(
    ("spec", "text"),
    [(int, "\u0663"), (int, "1_000"), (float, "1_000.5"), (decimal.Decimal, "1_0")],
    ids=["arabic-indic-digit", "int-underscore", "float-underscore", "decimal-underscore"],
)
def test_load_accepts_only_plain_ascii_numbers(spec: TypeSpec, text: str) -> None:
    with pytest.raises(ArgumentError):
        load(spec, text, "n", OPTS)


def test_decimal_exponents_beyond_the_limit_are_refused_both_ways() -> None:
    with pytest.raises(ArgumentError, match="exponent"):
        load(decimal.Decimal, "1e999999999", "d", OPTS)
    with pytest.raises(ResultError):
        dump(decimal.Decimal, decimal.Decimal("1e999999999"), "result", OPTS)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "22", " 5 ", "+4", "-3", "0"], [1, 22, 5, 4, -3, 0]),
        ([1, "2", 3], [1, 2, 3]),
        ([], []),
    ],
    ids=["texts", "mixed", "empty"],
)
def test_list_of_ints_fast_path_keeps_the_int_rule(
    values: list[object], expected: list[int]
) -> None:
    assert load(ListOf(int), values, "xs", OPTS) == expected


@pytest.mark.parametrize(
    ("values", "where", "message"),
    [
        (["1", "1_000"], "xs[1]", "expected an integer"),
        (["\u0663"], "xs[0]", "expected an integer"),
        (["", "1"], "xs[0]", "expected an integer"),
        (["1", "9" * 5000], "xs[1]", "integer is too long"),
        (["1", True], "xs[1]", "expected an integer"),
        (["1", "2.5"], "xs[1]", "expected an integer"),
    ],
    ids=["underscore", "arabic-indic-digit", "empty-text", "huge", "bool", "float-text"],
)
def test_list_of_ints_fast_path_refuses_what_the_rule_refuses(
    values: list[object], where: str, message: str
) -> None:
    with pytest.raises(ArgumentError, match=rf'"{re.escape(where)}": {message}'):
        load(ListOf(int), values, "xs", OPTS)


def test_list_of_str_fast_path_converts_other_items() -> None:
    assert load(ListOf(str), ["a", 5, "b"], "s", OPTS) == ["a", "5", "b"]
    with pytest.raises(ArgumentError, match=r'"s\[1\]": expected str, got null'):
        load(ListOf(str), ["a", None], "s", OPTS)
