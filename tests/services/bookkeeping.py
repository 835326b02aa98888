"""Values a client sends more than once: PHP's SoapClient writes a value it
reuses once, with an id, and refers to it the second time (SOAP encoding's
``href``/``id``, ``enc:ref``/``enc:id``). Used by tests/clients (PHP) and
tests/interfaces/test_soap_references.py."""

from __future__ import annotations

from ladon import LadonType
from ladon import ladonize


class Money(LadonType):
    """An amount in a currency."""

    amount: float
    currency: str


class Entry(LadonType):
    """A line of the books."""

    name: str
    value: Money


class Bookkeeping:
    """Entries and tags, in urn:example:bookkeeping."""

    ladon_namespace = "urn:example:bookkeeping"

    @ladonize()
    def balance(self, entries: list[Entry], tags: list[str]) -> str:
        """Each entry as ``name=amount currency``, then the tags."""
        lines = "; ".join(f"{e.name}={e.value.amount:g} {e.value.currency}" for e in entries)
        return f"{lines} | {','.join(tags)}"

    @ladonize()
    def merge(self, first: list[str], second: list[str]) -> list[str]:
        """The items of both lists, in order."""
        return first + second

    @ladonize()
    def add(self, a: int, b: int) -> int:
        """Sum two integers."""
        return a + b
