"""A calculator written in the modern (annotation) form, with nested types."""

from __future__ import annotations

import math

from ladon import ClientFault
from ladon import LadonType
from ladon import ladonize


class Operand(LadonType):
    """A labelled number."""

    label: str
    value: float


class Statistics(LadonType):
    """Summary of a list of operands."""

    count: int
    total: float
    mean: float | None = None
    smallest: Operand | None = None
    largest: Operand | None = None


class Calculator:
    """Arithmetic over SOAP, JSON-WSP and the other interfaces."""

    @ladonize()
    def add(self, a: int, b: int) -> int:
        """Add two integers.

        :param a: the first term
        :param b: the second term
        :rtype: the sum
        """
        return a + b

    @ladonize()
    def divide(self, a: float, b: float = 1.0) -> float:
        """Divide ``a`` by ``b``.

        :param b: must not be zero
        """
        if b == 0:
            raise ClientFault("Cannot divide by zero", hint="pass a non-zero b")
        quotient = a / b
        if not math.isfinite(quotient):
            raise ClientFault("The quotient is too large for a float", hint="pass a larger b")
        return quotient

    @ladonize()
    def statistics(self, operands: list[Operand]) -> Statistics:
        """Count, total, mean, smallest and largest of labelled numbers."""
        total = sum(o.value for o in operands)
        if not math.isfinite(total):
            raise ClientFault("The total is too large for a float")
        stats = Statistics(count=len(operands), total=total)
        if operands:
            stats.mean = stats.total / len(operands)
            stats.smallest = min(operands, key=lambda o: o.value)
            stats.largest = max(operands, key=lambda o: o.value)
        return stats
