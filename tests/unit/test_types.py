"""``LadonType``: declaration forms, field order, inheritance, instances, filters."""

from __future__ import annotations

import datetime
from typing import Any
from typing import ClassVar
from typing import Optional

import pytest

from ladon.exceptions.base import DefinitionError
from ladon.exceptions.ladonizer import DefaultArgTypeMismatch
from ladon.exceptions.ladonizer import NeedToDefineParseTimeException
from ladon.types.convert import Options
from ladon.types.convert import dump
from ladon.types.convert import load
from ladon.types.ladontype import FieldInfo
from ladon.types.ladontype import LadonType
from ladon.types.spec import ListOf

OPTS = Options()


class Money(LadonType):
    amount = float
    currency = str


def _fields(cls: type[LadonType]) -> dict[str, FieldInfo]:
    return {f.name: f for f in cls.ladon_type_info().fields}


# -- Ladon 1.0 declaration forms -------------------------------------------------


def test_bare_type_declares_a_mandatory_field() -> None:
    class Item(LadonType):
        name = str
        price = Money

    fields = _fields(Item)
    assert fields["name"].type is str
    assert fields["price"].type is Money
    for f in fields.values():
        assert (f.nullable, f.has_default, f.is_list, f.optional) == (False, False, False, False)
        with pytest.raises(LookupError):
            f.missing_value()


def test_one_item_list_declares_an_optional_list_field() -> None:
    class Item(LadonType):
        tags = [str]
        prices = [Money]

    fields = _fields(Item)
    assert fields["tags"].type == ListOf(str)
    assert fields["prices"].type == ListOf(Money)
    assert fields["tags"].is_list and fields["tags"].optional
    assert fields["tags"].missing_value() == []


def test_dict_declaration_with_every_key() -> None:
    def upper(s: str) -> str:
        return s.upper()

    class Item(LadonType):
        name = {
            "type": str,
            "doc": ["The name.", "Shown to users."],
            "nullable": True,
            "default": "unnamed",
            "filters": {"incoming": [upper], "outgoing": upper},
        }

    f = _fields(Item)["name"]
    assert f.type is str
    assert f.doc == ("The name.", "Shown to users.")
    assert f.nullable is True
    assert f.default == "unnamed"
    assert f.missing_value() == "unnamed"
    assert f.filters == {"incoming": (upper,), "outgoing": (upper,)}


def test_dict_declaration_doc_as_a_string_is_split_into_lines() -> None:
    class Item(LadonType):
        name = {"type": str, "doc": "first\nsecond"}

    assert _fields(Item)["name"].doc == ("first", "second")


def test_dict_declaration_with_list_type() -> None:
    class Item(LadonType):
        tags = {"type": [str], "doc": "labels"}

    f = _fields(Item)["tags"]
    assert f.type == ListOf(str)
    assert f.missing_value() == []


def test_dict_nullable_without_default_is_none_when_missing() -> None:
    class Item(LadonType):
        note = {"type": str, "nullable": True}

    f = _fields(Item)["note"]
    assert f.optional is True
    assert f.missing_value() is None


def test_dict_default_none_is_allowed_only_when_nullable() -> None:
    class Ok(LadonType):
        note = {"type": str, "nullable": True, "default": None}

    assert _fields(Ok)["note"].missing_value() is None
    with pytest.raises(DefaultArgTypeMismatch, match=r"Bad\.note"):

        class Bad(LadonType):
            note = {"type": str, "default": None}


@pytest.mark.parametrize(
    ("declared", "default"),
    [
        (int, "1"),
        (int, True),
        (str, 1),
        ([int], ["x"]),
        (datetime.date, datetime.datetime(2024, 1, 1)),
    ],
    ids=["str-for-int", "bool-for-int", "int-for-str", "bad-list", "datetime-for-date"],
)
def test_dict_default_of_the_wrong_type_is_a_definition_error(
    declared: object, default: object
) -> None:
    with pytest.raises(DefaultArgTypeMismatch, match=r"Bad\.value"):

        class Bad(LadonType):
            value = {"type": declared, "default": default}


def test_dict_field_without_type_names_class_and_field() -> None:
    with pytest.raises(DefinitionError) as excinfo:

        class Broken(LadonType):
            label = {"doc": "no type here", "nullable": True}

    assert not isinstance(excinfo.value, KeyError)
    assert "Broken.label" in str(excinfo.value)
    assert "'type'" in str(excinfo.value)


def test_dict_field_with_unknown_key_is_rejected() -> None:
    with pytest.raises(DefinitionError, match=r"Broken\.label.*'nulable'"):

        class Broken(LadonType):
            label = {"type": str, "nulable": True}


@pytest.mark.parametrize(
    "filters",
    [{"sideways": [str.upper]}, ["incoming"], {"incoming": ["not callable"]}],
    ids=["unknown-kind", "not-a-dict", "not-callable"],
)
def test_bad_filters_are_rejected(filters: object) -> None:
    with pytest.raises(DefinitionError, match=r"Broken\.label"):

        class Broken(LadonType):
            label = {"type": str, "filters": filters}


@pytest.mark.parametrize(
    "value",
    [5, "text", 2.5, None, (int,), object()],
    ids=["int", "str", "float", "None", "tuple", "object"],
)
def test_attribute_that_is_not_a_declaration_is_a_definition_error(value: object) -> None:
    with pytest.raises(DefinitionError, match=r"Broken\.oops"):

        class Broken(LadonType):
            name = str
            oops = value


def test_unsupported_field_type_is_a_definition_error_naming_the_field() -> None:
    with pytest.raises(NeedToDefineParseTimeException, match=r"Broken\.data"):

        class Broken(LadonType):
            data = dict[str, int]


def test_methods_properties_and_private_attributes_are_not_fields() -> None:
    class Item(LadonType):
        name = str
        _cache = 5

        def shout(self) -> str:
            return str(self.name).upper()

        @property
        def size(self) -> int:
            return len(str(self.name))

        @classmethod
        def build(cls) -> Item:
            return cls(name="x")

        @staticmethod
        def helper() -> int:
            return 1

    assert list(_fields(Item)) == ["name"]
    assert Item.build().shout() == "X"


def test_classvar_annotation_is_not_a_field() -> None:
    class Item(LadonType):
        name = str
        kind: ClassVar[str] = "item"

    assert list(_fields(Item)) == ["name"]


# -- annotation form -------------------------------------------------------------------


def test_annotation_form_with_defaults_optional_and_lists() -> None:
    class Item(LadonType):
        name: str
        count: int = 3
        ratio: Optional[float]  # noqa: UP045 - the Optional spelling is supported
        note: str | None = None
        tags: list[str]
        prices: list[Money]
        price: Money

    fields = _fields(Item)
    assert (fields["name"].type, fields["name"].optional) == (str, False)
    assert (fields["count"].type, fields["count"].default, fields["count"].nullable) == (
        int,
        3,
        False,
    )
    assert (fields["ratio"].type, fields["ratio"].nullable, fields["ratio"].has_default) == (
        float,
        True,
        False,
    )
    assert fields["ratio"].missing_value() is None
    assert (fields["note"].type, fields["note"].nullable, fields["note"].default) == (
        str,
        True,
        None,
    )
    assert fields["tags"].type == ListOf(str)
    assert fields["tags"].missing_value() == []
    assert fields["prices"].type == ListOf(Money)
    assert fields["price"].type is Money


def test_annotation_default_of_wrong_type_is_rejected() -> None:
    with pytest.raises(DefaultArgTypeMismatch, match=r"Bad\.count"):

        class Bad(LadonType):
            count: int = "three"  # type: ignore[assignment]


def test_annotation_with_unsupported_type_is_rejected() -> None:
    with pytest.raises(NeedToDefineParseTimeException, match=r"Bad\.data"):

        class Bad(LadonType):
            data: dict[str, int]


def test_annotation_over_a_legacy_declaration_is_not_a_default() -> None:
    class Item(LadonType):
        name: str = str  # type: ignore[assignment]
        tags: list[str] = [str]  # type: ignore[list-item]

    fields = _fields(Item)
    assert fields["name"].has_default is False
    assert fields["tags"].has_default is False


def test_mixed_annotation_and_legacy_forms() -> None:
    class Item(LadonType):
        name: str
        tags = [str]
        note = {"type": str, "nullable": True}

    assert list(_fields(Item)) == ["name", "note", "tags"]


# -- order and inheritance ---------------------------------------------------------


def test_fields_are_in_alphabetical_order_whatever_the_declaration_order() -> None:
    class Measure(LadonType):
        whole = int
        exact = float
        middle: str
        alpha: int = 1

    assert [f.name for f in Measure.ladon_type_info().fields] == [
        "alpha",
        "exact",
        "middle",
        "whole",
    ]


def test_fields_are_inherited_and_can_be_extended_and_redeclared() -> None:
    class Base(LadonType):
        name = str
        size = int
        created: datetime.date

    class Child(Base):
        size = float  # type: ignore[assignment]  # another type: as with annotations
        extra = [int]

    assert [f.name for f in Base.ladon_type_info().fields] == ["created", "name", "size"]
    fields = _fields(Child)
    assert list(fields) == ["created", "extra", "name", "size"]
    assert fields["size"].type is float
    assert fields["created"].type is datetime.date
    assert _fields(Base)["size"].type is int


def test_type_info_names_class_and_keeps_its_own_docstring() -> None:
    class Documented(LadonType):
        """A documented type.

        With two paragraphs.
        """

        name = str

    class Undocumented(Documented):
        pass

    info = Documented.ladon_type_info()
    assert info.cls is Documented
    assert info.name == "Documented"
    assert info.doc == "A documented type.\n\nWith two paragraphs."
    assert Undocumented.ladon_type_info().doc == ""


def test_dependencies_are_the_direct_ladontypes_once() -> None:
    class Line(LadonType):
        price = Money
        prices = [Money]
        label = str

    class Order(LadonType):
        lines = [Line]

    assert Line.ladon_type_info().dependencies() == [Money]
    assert Order.ladon_type_info().dependencies() == [Line]


# -- instances -------------------------------------------------------------------------


def test_keyword_construction_sets_fields() -> None:
    m = Money(amount=2.5, currency="EUR")
    assert (m.amount, m.currency) == (2.5, "EUR")


def test_no_argument_construction_then_attribute_assignment() -> None:
    m = Money()
    m.amount = 1.0
    m.currency = "USD"
    assert m == Money(amount=1.0, currency="USD")


def test_keyword_construction_rejects_unknown_fields() -> None:
    with pytest.raises(TypeError, match="'colour'"):
        Money(amount=1.0, colour="red")  # type: ignore[call-arg]


def test_prime_dict_construction_converts_values() -> None:
    m = Money(prime_dict={"amount": "2.5", "currency": "EUR"})
    assert m == Money(amount=2.5, currency="EUR")


def test_equality_compares_field_values_and_types() -> None:
    class Other(LadonType):
        amount = float
        currency = str

    assert Money(amount=1.0, currency="EUR") == Money(amount=1.0, currency="EUR")
    assert Money(amount=1.0, currency="EUR") != Money(amount=2.0, currency="EUR")
    assert Money(amount=1.0, currency="EUR") != Other(amount=1.0, currency="EUR")


def test_equality_counts_unset_optional_fields_as_their_missing_value() -> None:
    class Item(LadonType):
        name = str
        tags = [str]
        note = {"type": str, "nullable": True}
        count: int = 0

    assert Item(name="a") == Item(name="a", tags=[], note=None, count=0)


def test_instances_are_unhashable() -> None:
    with pytest.raises(TypeError):
        hash(Money(amount=1.0, currency="EUR"))


def test_repr_shows_set_fields_in_alphabetical_order() -> None:
    m = Money()
    m.currency = "EUR"
    m.amount = 1.5
    assert repr(m) == "Money(amount=1.5, currency='EUR')"
    assert repr(Money()) == "Money()"


# -- filters applied by convert.load / convert.dump -----------------------------------


def _recording_type(log: list[tuple[str, Any]]) -> type[LadonType]:
    def step(kind: str, fn: Any) -> Any:
        def apply(value: Any) -> Any:
            log.append((kind, value))
            return fn(value)

        return apply

    class Filtered(LadonType):
        value = {
            "type": int,
            "filters": {
                "incoming_raw": [step("incoming_raw", lambda v: v.strip())],
                "incoming": [
                    step("incoming", lambda v: v * 10),
                    step("incoming2", lambda v: v + 1),
                ],
                "outgoing": [step("outgoing", lambda v: v // 10)],
                "outgoing_raw": [step("outgoing_raw", str)],
            },
        }

    return Filtered


def test_incoming_filters_run_raw_first_then_on_the_converted_value_in_order() -> None:
    log: list[tuple[str, Any]] = []
    cls = _recording_type(log)
    obj = load(cls, {"value": "  4 "}, "arg", OPTS)
    assert obj.value == 41
    assert log == [("incoming_raw", "  4 "), ("incoming", 4), ("incoming2", 40)]


def test_outgoing_filters_run_on_the_python_value_then_on_the_wire_value() -> None:
    log: list[tuple[str, Any]] = []
    cls = _recording_type(log)
    assert dump(cls, cls(value=41), "result", OPTS) == {"value": "4"}
    assert log == [("outgoing", 41), ("outgoing_raw", 4)]


def test_incoming_filters_do_not_run_for_a_missing_field() -> None:
    calls: list[object] = []

    class Item(LadonType):
        note = {
            "type": str,
            "nullable": True,
            "filters": {"incoming_raw": [calls.append], "incoming": [calls.append]},
        }

    assert load(Item, {}, "arg", OPTS).note is None
    assert calls == []


def test_incoming_filter_errors_are_reported_after_raw_filtering() -> None:
    class Item(LadonType):
        count = {"type": int, "filters": {"incoming_raw": [lambda v: v + "x"]}}

    with pytest.raises(Exception, match=r'"arg\.count"'):
        load(Item, {"count": "4"}, "arg", OPTS)
