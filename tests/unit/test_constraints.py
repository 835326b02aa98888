"""Declared constraints in the model: what they accept, the Python values
methods get, and the registration errors of constraints that cannot hold."""

from __future__ import annotations

import decimal
import enum
from typing import Annotated
from typing import Any
from typing import Literal

import pytest
from annotated_types import Ge
from annotated_types import Gt
from annotated_types import Interval
from annotated_types import Le
from annotated_types import Len
from annotated_types import Lt
from annotated_types import MaxLen
from annotated_types import MinLen
from annotated_types import MultipleOf
from annotated_types import Predicate

from ladon import LadonType
from ladon import LadonWSGIApplication
from ladon import Pattern
from ladon import ladonize
from ladon.exceptions.base import DefinitionError
from ladon.exceptions.service import ArgumentError
from ladon.exceptions.service import ResultError
from ladon.types.constraints import check_pattern
from ladon.types.convert import Options
from ladon.types.convert import dump
from ladon.types.convert import load
from ladon.types.spec import Constrained
from ladon.types.spec import ListOf
from ladon.types.spec import normalize

OPTS = Options()


class Size(enum.Enum):
    SMALL = 1
    LARGE = 2


def refused(spec: Any, value: Any) -> str:
    with pytest.raises(ArgumentError) as info:
        load(normalize(spec, "t"), value, "v", OPTS)
    return str(info.value)


def test_annotated_types_constraints_become_one_spec() -> None:
    spec = normalize(Annotated[int, Ge(1), Le(64)], "t")
    assert isinstance(spec, Constrained)
    assert (spec.base, spec.constraints.ge, spec.constraints.le) == (int, 1, 64)
    assert load(spec, "64", "v", OPTS) == 64
    assert refused(Annotated[int, Ge(1), Le(64)], 65) == 'Argument "v": must be ≤ 64, got 65'


def test_grouped_constraints_are_expanded() -> None:
    spec = normalize(Annotated[str, Len(2, 3)], "t")
    assert isinstance(spec, Constrained)
    assert (spec.constraints.min_length, spec.constraints.max_length) == (2, 3)
    spec = normalize(Annotated[float, Interval(gt=0, lt=1)], "t")
    assert isinstance(spec, Constrained)
    assert (spec.constraints.gt, spec.constraints.lt) == (0, 1)


def test_an_enum_value_loads_as_its_member_and_dumps_as_its_value() -> None:
    spec = normalize(Size, "t")
    assert load(spec, "2", "v", OPTS) is Size.LARGE
    assert dump(spec, Size.SMALL, "r", OPTS) == 1
    assert "must be one of 1, 2, got 3" in refused(Size, 3)


def test_literal_values_are_the_choices() -> None:
    assert load(normalize(Literal["a", "b"], "t"), "b", "v", OPTS) == "b"
    assert "must be one of a, b" in refused(Literal["a", "b"], "c")


def test_list_length_and_item_rules_are_separate() -> None:
    spec = normalize(Annotated[list[Annotated[int, Ge(0)]], MaxLen(2)], "t")
    assert isinstance(spec, Constrained) and isinstance(spec.base, ListOf)
    assert load(spec, [0, 1], "v", OPTS) == [0, 1]
    assert "must have at most 2 items, got 3 items" in refused(spec, [0, 1, 2])
    assert 'Argument "v[1]": must be ≥ 0' in refused(spec, [0, -1])


def test_multiple_of_is_exact_for_decimal_steps() -> None:
    spec = normalize(Annotated[float, MultipleOf(0.1)], "t")
    assert load(spec, 0.3, "v", OPTS) == 0.3
    spec = normalize(Annotated[decimal.Decimal, MultipleOf(decimal.Decimal("0.05"))], "t")
    assert load(spec, "1.15", "v", OPTS) == decimal.Decimal("1.15")
    assert "multiple of 0.05" in refused(spec, "1.16")


def test_a_result_breaking_its_rules_is_a_result_error() -> None:
    with pytest.raises(ResultError, match=r"must be ≤ 3, got 4"):
        dump(normalize(Annotated[int, Le(3)], "t"), 4, "result", OPTS)


def test_dict_fields_take_the_rules_as_keys() -> None:
    class Legacy(LadonType):
        code = {"type": str, "pattern": "[A-Z]{3}", "max_length": 3}
        weight = {"type": float, "ge": 0, "lt": 10}

    fields = {f.name: f for f in Legacy.ladon_type_info().fields}
    assert isinstance(fields["code"].type, Constrained)
    assert fields["code"].type.constraints.pattern == "[A-Z]{3}"
    with pytest.raises(ArgumentError, match=r'"Legacy.weight": must be < 10'):
        load(Legacy, {"code": "ABC", "weight": 10}, "Legacy", OPTS)


@pytest.mark.parametrize(
    ("declared", "says"),
    [
        (Annotated[int, Ge(5), Le(1)], "no value can be ≥ 5 and ≤ 1"),
        (Annotated[int, Gt(1), Lt(2)], "no integer can be > 1 and < 2"),
        (Annotated[str, MinLen(3), MaxLen(2)], "min_length 3 is more than max_length 2"),
        (Annotated[str, Pattern("[a-z")], "unclosed class"),
        (Annotated[str, Pattern("(?=a)b")], "(?...) groups"),
        (Annotated[str, Pattern(r"\d+")], r"uses \d"),
        (Annotated[str, Pattern("^a$")], "leave out the anchor"),
        (Annotated[str, Ge(1)], "ge does not apply to text"),
        (Annotated[int, MaxLen(1)], "max_length does not apply to numbers"),
        (Annotated[bool, Ge(0)], "ge does not apply to this type"),
        (Annotated[int, Ge(1.5)], "give an integer bound"),
        (Annotated[int, MultipleOf(0)], "multiple_of must be > 0"),
        (Annotated[int, Predicate(bool)], "not a constraint Ladon enforces"),
        (Annotated[Size, Ge(1)], "its values are the only rule"),
        (Literal["a", 1], "all str or all int"),
        (Annotated[Literal["ab", "c"], MaxLen(1)], "the choice 'ab' must have at most 1"),
    ],
    ids=lambda x: x if isinstance(x, str) else None,
)
def test_a_constraint_that_cannot_hold_is_a_registration_error_naming_the_place(
    declared: Any, says: str
) -> None:
    _assert_refused_parameter(declared, says)


def _assert_refused_parameter(declared: Any, says: str) -> None:
    """Registering ``add(a: declared)`` fails naming the place and ``says``."""
    with pytest.raises(DefinitionError) as info:

        class Calc:
            @ladonize(declared, rtype=int)
            def add(self, a):  # type: ignore[no-untyped-def]
                return 1

        LadonWSGIApplication([Calc])
    message = str(info.value)
    assert "Calc.add" in message and "parameter 'a'" in message
    assert says in message, message


def test_a_default_must_keep_the_rules() -> None:
    # the message says which rule (0 is an int all right)
    with pytest.raises(
        DefinitionError, match=r"parameter 'a': default 0 breaks its rules: must be ≥ 1"
    ):

        class Calc:
            @ladonize()
            def add(self, a: Annotated[int, Ge(1)] = 0) -> int:
                return a

    with pytest.raises(
        DefinitionError, match=r"Item.price: default -1.0 breaks its rules: must be > 0"
    ):

        class Item(LadonType):
            price: Annotated[float, Gt(0)] = -1.0

    with pytest.raises(
        DefinitionError, match=r"Old.code: default 'x' breaks its rules: must match"
    ):

        class Old(LadonType):
            code = {"type": str, "pattern": "[A-Z]+", "default": "x"}

    with pytest.raises(DefinitionError, match=r"parameter 'a': default 'x' does not have the"):

        class Calc2:
            @ladonize()
            def add(self, a: Annotated[int, Ge(1)] = "x") -> int:  # type: ignore[assignment]
                return a


def test_a_field_rule_that_cannot_hold_names_the_type_and_field() -> None:
    with pytest.raises(DefinitionError, match=r"Item.price: no value can be"):

        class Item(LadonType):
            price: Annotated[float, Gt(1), Lt(1)]


def test_an_optional_annotated_parameter_is_nullable() -> None:
    class Calc:
        @ladonize()
        def f(self, a: Annotated[int | None, Ge(1)] = None) -> int:
            return a or 0

    app = LadonWSGIApplication([Calc])
    (p,) = app.services[0].methods["f"].params
    assert p.nullable and isinstance(p.type, Constrained)


@pytest.mark.parametrize(
    ("regex", "good", "bad"),
    [("[a-z]+", "abc", "abc\n"), ("a.c", "abc", "a\nc"), ("(ab|cd){2}", "abcd", "ab")],
)
def test_a_pattern_matches_the_whole_value(regex: str, good: str, bad: str) -> None:
    compiled = check_pattern(regex)
    assert compiled.fullmatch(good)
    assert not compiled.fullmatch(bad)


def test_a_constrained_float_still_refuses_infinity_and_nan() -> None:
    spec = normalize(Annotated[float, Ge(0)], "t")
    for bad in (float("inf"), float("nan")):
        with pytest.raises(ArgumentError, match="finite"):
            load(spec, bad, "v", OPTS)
    assert load(spec, 2.5, "v", OPTS) == 2.5


INF, NAN = float("inf"), float("nan")
#: (declaration, what the registration error says): bounds no description
#: can publish (JSON has no infinity, XML Schema's xsd:double has no "inf",
#: an int is published as 64-bit xsd:long).
UNPUBLISHABLE = [
    (Annotated[float, Le(INF)], "le must be a finite number, got inf"),
    (Annotated[float, Ge(NAN)], "ge must be a finite number, got nan"),
    (Annotated[float, Interval(ge=-INF, lt=1)], "ge must be a finite number, got -inf"),
    (Annotated[float, MultipleOf(INF)], "multiple_of must be a finite number"),
    (Annotated[float, MultipleOf(NAN)], "multiple_of must be a finite number"),
    (Annotated[int, Lt(INF)], "lt must be a finite number"),
    (Annotated[decimal.Decimal, Le(decimal.Decimal("Infinity"))], "le must be a finite number"),
    (Annotated[decimal.Decimal, Ge(decimal.Decimal("NaN"))], "ge must be a finite number"),
    (Annotated[decimal.Decimal, Gt(decimal.Decimal("sNaN"))], "gt must be a finite number"),
    (
        Annotated[decimal.Decimal, MultipleOf(decimal.Decimal("-Infinity"))],
        "multiple_of must be a finite number",
    ),
    (Annotated[int, Le(10**30)], "le=1000000000000000000000000000000 is beyond the 64-bit"),
    (Annotated[int, Ge(-(2**63) - 1)], "ge=-9223372036854775809 is beyond the 64-bit range"),
    (Annotated[int, Gt(2**63)], "int is published as 64-bit xsd:long"),
    (Annotated[int, Lt(2.0**70)], "int is published as 64-bit xsd:long"),
    (Annotated[int, Interval(ge=0, le=2**64)], "int is published as 64-bit xsd:long"),
    (Annotated[int, MultipleOf(2**64)], "multiple_of=18446744073709551616 is beyond"),
    (Literal[1, 2**63], "the choice 9223372036854775808 is beyond the 64-bit range"),
    (Annotated[float, Le(10**400)], "is beyond the range of a float (xsd:double)"),
    (Annotated[decimal.Decimal, Le(decimal.Decimal("1e1001"))], "exponent beyond +/-1000"),
]


@pytest.mark.parametrize(("declared", "says"), UNPUBLISHABLE, ids=lambda x: None)
def test_a_bound_no_description_can_publish_is_a_registration_error(
    declared: Any, says: str
) -> None:
    _assert_refused_parameter(declared, says)


def test_the_largest_bounds_that_can_be_published_register() -> None:
    class Calc:
        @ladonize()
        def add(
            self,
            a: Annotated[int, Ge(-(2**63)), Le(2**63 - 1), MultipleOf(2**62)],
            b: Annotated[float, Le(1.7e308)],
            c: Annotated[decimal.Decimal, Ge(decimal.Decimal("-1e1000"))],
            d: Literal[-9223372036854775808, 9223372036854775807],  # type: ignore[valid-type]
        ) -> int:
            return 1

    LadonWSGIApplication([Calc]).close()


def test_an_unpublishable_bound_on_a_field_item_or_dict_field_names_it() -> None:
    with pytest.raises(DefinitionError, match=r"Reading\.celsius: le must be a finite number"):

        class Reading(LadonType):
            celsius: Annotated[float, Le(INF)]

    with pytest.raises(DefinitionError, match=r"Counts\.n: ge=.* int is published as 64-bit"):

        class Counts(LadonType):
            n: list[Annotated[int, Ge(-(2**64))]]

    with pytest.raises(DefinitionError, match=r"Old\.weight: lt must be a finite number, got nan"):

        class Old(LadonType):
            weight = {"type": float, "lt": NAN}

    with pytest.raises(DefinitionError, match=r"Old2\.count: le=.* is beyond the 64-bit"):

        class Old2(LadonType):
            count = {"type": int, "le": 10**20}

    with pytest.raises(DefinitionError, match=r"parameter 'xs'.*multiple_of must be a finite"):

        class Calc:
            @ladonize()
            def add(self, xs: list[Annotated[float, MultipleOf(NAN)]]) -> int:
                return 1


@pytest.mark.parametrize(
    ("spec", "text", "says"),
    [
        (decimal.Decimal, "1e1", "expected a decimal number as XML Schema writes it"),
        (decimal.Decimal, "\u0663", "expected a decimal number as XML Schema writes it"),
        (decimal.Decimal, "1_0", "expected a decimal number as XML Schema writes it"),
        (decimal.Decimal, "NaN", "expected a finite decimal number"),
        (decimal.Decimal, "-Infinity", "expected a finite decimal number"),
        (decimal.Decimal, "\u20281", "expected a decimal number as XML Schema writes it"),
        (decimal.Decimal, "one", "expected a decimal number, got"),
        (float, "\u0661", "expected a number as XML Schema writes it"),
        (float, "1_0", "expected a number as XML Schema writes it"),
        (float, "\xa01", "expected a number as XML Schema writes it"),
        (float, "INF", "expected a finite number"),
        (float, "-INF", "expected a finite number"),
        (float, "NaN", "expected a finite number"),
        (int, "\u0661", "expected an integer as XML Schema writes it"),
        (int, "1_000", "expected an integer as XML Schema writes it"),
        (int, "\u30001", "expected an integer as XML Schema writes it"),
        (int, "1e3", "expected an integer, got"),
        (ListOf(int), ["1", "\x0c2"], 'Argument "v[1]": expected an integer as XML Schema'),
        (ListOf(int), ["1", "2_0"], 'Argument "v[1]": expected an integer as XML Schema'),
        (ListOf(int), ["\u0661"], 'Argument "v[0]": expected an integer as XML Schema'),
    ],
    ids=ascii,
)
def test_numbers_as_text_are_read_in_xml_schema_form_only(spec: Any, text: Any, says: str) -> None:
    """What int(), float() and Decimal() read beyond XML Schema's lexical
    spaces (the ones every description publishes) is refused."""
    with pytest.raises(ArgumentError) as info:
        load(spec, text, "v", OPTS)
    assert says in str(info.value), str(info.value)


@pytest.mark.parametrize(
    ("spec", "value", "loaded"),
    [
        (decimal.Decimal, " +1.50\n", decimal.Decimal("1.50")),
        (decimal.Decimal, ".5", decimal.Decimal("0.5")),
        (decimal.Decimal, "7.", decimal.Decimal("7")),
        (decimal.Decimal, 1e-7, decimal.Decimal("1E-7")),  # a JSON number: as it is
        (decimal.Decimal, 10**30, decimal.Decimal(10**30)),
        (float, "\t-1.5E+2 ", -150.0),
        (float, ".5e-1", 0.05),
        (int, " -007\r\n", -7),
        (ListOf(int), ["1", " 2", "+3", "-4"], [1, 2, 3, -4]),
    ],
    ids=ascii,
)
def test_numbers_in_xml_schema_form_are_read(spec: Any, value: Any, loaded: Any) -> None:
    assert load(spec, value, "v", OPTS) == loaded
