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
    with pytest.raises(DefinitionError) as info:

        class Calc:
            @ladonize(declared, rtype=int)
            def add(self, a):  # type: ignore[no-untyped-def]
                return 1

        LadonWSGIApplication([Calc])
    message = str(info.value)
    assert "Calc.add" in message and "parameter 'a'" in message
    assert says in message


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
