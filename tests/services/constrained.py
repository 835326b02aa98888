"""A service whose parameters, results, fields and list items carry every
kind of declared constraint (issue 16)."""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Annotated
from typing import Literal

from annotated_types import Ge
from annotated_types import Gt
from annotated_types import Interval
from annotated_types import Le
from annotated_types import Len
from annotated_types import Lt
from annotated_types import MaxLen
from annotated_types import MinLen
from annotated_types import MultipleOf

from ladon import LadonType
from ladon import Pattern
from ladon import ladonize


class Color(enum.Enum):
    """A colour of the palette."""

    RED = "red"
    GREEN = "green"


class Item(LadonType):
    """A line of an order."""

    name: Annotated[str, MinLen(1), MaxLen(20), Pattern("[a-z ]+")]
    price: Annotated[Decimal, Ge(0)]
    quantity: Annotated[int, Interval(ge=1, le=99)] = 1
    color: Color = Color.RED


class LegacyItem(LadonType):
    """Ladon 1.0 dict fields with the constraints as keys."""

    code = {"type": str, "pattern": "[A-Z]{3}", "doc": "three capitals"}
    weight = {"type": float, "gt": 0, "lt": 1000}
    tags = {"type": [str], "max_length": 2}


class Limits:
    """One method per kind of constraint: each echoes its argument."""

    @ladonize()
    def ge(self, value: Annotated[int, Ge(1)]) -> int:
        return value

    @ladonize()
    def gt(self, value: Annotated[float, Gt(0)]) -> float:
        return value

    @ladonize()
    def le(self, value: Annotated[int, Le(64)]) -> int:
        return value

    @ladonize()
    def lt(self, value: Annotated[float, Lt(1.5)]) -> float:
        return value

    @ladonize()
    def multiple(self, value: Annotated[int, MultipleOf(5)]) -> int:
        return value

    @ladonize()
    def minlen(self, value: Annotated[str, MinLen(2)]) -> str:
        return value

    @ladonize()
    def maxlen(self, value: Annotated[str, MaxLen(3)]) -> str:
        return value

    @ladonize()
    def length(self, value: Annotated[list[int], Len(1, 2)]) -> list[int]:
        return value

    @ladonize()
    def interval(self, value: Annotated[int, Interval(gt=0, lt=10)]) -> int:
        return value

    @ladonize()
    def pattern(self, value: Annotated[str, Pattern("[a-z]+")]) -> str:
        return value

    @ladonize()
    def dotted(self, value: Annotated[str, Pattern("a.b")]) -> str:
        """``.`` is any character but a line end (CR, LF) in all three dialects."""
        return value

    @ladonize()
    def amount(self, value: Decimal) -> Decimal:
        """A Decimal: its text must be xsd:decimal's (no exponent, digits 0-9)."""
        return value

    @ladonize()
    def color(self, value: Color) -> Color:
        return value

    @ladonize()
    def size(self, value: Literal["S", "M", "L"]) -> str:
        return value

    @ladonize()
    def items(self, value: list[Annotated[int, Ge(0)]]) -> list[int]:
        return value

    @ladonize()
    def order(self, items: list[Item]) -> Decimal:
        """The total of an order."""
        return sum((i.price * i.quantity for i in items), Decimal(0))

    @ladonize()
    def legacy(self, item: LegacyItem) -> LegacyItem:
        return item

    @ladonize()
    def echo_item(self, value: Item) -> Item:
        """A LadonType result with constrained fields."""
        return value

    @ladonize()
    def ranks(self, value: Annotated[int, Ge(0), Le(10)]) -> list[Annotated[int, Ge(0)]]:
        """A list result of constrained items."""
        return list(range(value))

    @ladonize(Annotated[int, Ge(0), Le(10)], rtype=Annotated[int, Le(10)])
    def double(self, value: int) -> int:
        """Declared in Ladon 1.0 style; the result may break its rule."""
        return value * 2

    @ladonize()
    def paint(self, name: Annotated[str, MaxLen(10)] = "x") -> Color:
        """Returns a colour name that is not one of the Color values for
        ``name == "bad"`` (a bug in the service)."""
        return "blue" if name == "bad" else Color.GREEN  # type: ignore[return-value]
