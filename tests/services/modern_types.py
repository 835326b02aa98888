"""A service written in the annotation form, with the newer primitives."""

from __future__ import annotations

import datetime
import decimal

from ladon import LadonType
from ladon import ladonize


class Invoice(LadonType):
    """An invoice."""

    number: int
    issued: datetime.date
    created: datetime.datetime
    total: decimal.Decimal
    note: str | None = None
    lines: list[Line]
    paid: bool = False


class Line(LadonType):
    text: str
    amount: decimal.Decimal


class Ledger:
    """Dates, decimals, optional and nullable values."""

    @ladonize()
    def add(self, a: int, b: int) -> int:
        """Add two numbers.

        :param a: first term
        :param b: second term
        :rtype: the sum
        """
        return a + b

    @ladonize()
    def next_day(self, day: datetime.date) -> datetime.date:
        return day + datetime.timedelta(days=1)

    @ladonize()
    def shift(self, when: datetime.datetime, hours: int = 1) -> datetime.datetime:
        return when + datetime.timedelta(hours=hours)

    @ladonize()
    def total(self, invoice: Invoice) -> decimal.Decimal:
        return sum((ln.amount for ln in invoice.lines), decimal.Decimal("0"))

    @ladonize()
    def echo_invoice(self, invoice: Invoice) -> Invoice:
        return invoice

    @ladonize()
    def maybe(self, text: str | None = None) -> str | None:
        return text

    @ladonize()
    def greet(self, name: str = "world", punctuation: str = "!") -> str:
        return f"Hello, {name}{punctuation}"

    @ladonize()
    def nothing(self) -> list[int]:
        return []
