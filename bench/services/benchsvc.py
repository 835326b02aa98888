"""Benchmark service written in the Ladon 1.0 service-module style.

The same module is served by both the new Ladon (this repository) and the
old ``ladon==1.0.7`` from PyPI, because the new framework keeps Ladon 1.0's
service-module API.
"""

from __future__ import annotations

from ladon.compat import PORTABLE_STRING
from ladon.ladonizer import ladonize
from ladon.types.ladontype import LadonType


class MinMax(LadonType):
    min = int
    max = int


class BenchService:
    @ladonize(int, int, rtype=int)
    def add(self, a: int, b: int) -> int:
        return a + b

    @ladonize(PORTABLE_STRING, rtype=PORTABLE_STRING)
    def echo(self, s: str) -> str:
        return s

    @ladonize([int], rtype=MinMax)
    def minmax(self, values: list[int]) -> MinMax:
        r = MinMax()
        r.min = min(values)
        r.max = max(values)
        return r
