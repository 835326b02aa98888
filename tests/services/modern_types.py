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

    @ladonize()
    def find_line(self, text: str = "") -> Line | None:
        """The line of that text; None for no text."""
        return Line(text=text, amount=decimal.Decimal("1.50")) if text else None

    @ladonize()
    def power(self, base: int, exponent: int) -> int:
        """``base ** exponent``; beyond 64 bits a fault on SOAP, whose WSDL says xsd:long."""
        if exponent > 4096:
            raise ValueError("exponent too large")
        return int(base**exponent)
