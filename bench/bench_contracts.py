"""Typed contracts (issue 16): what the ``http`` interface and declared
constraints cost, measured in-process against a baseline in the same run.

Usage (from the repository root)::

    python bench/bench_contracts.py            # ~30 s: 9 rounds x 0.5 s per cell
    python bench/bench_contracts.py --quick    # ~8 s:  3 rounds x 0.2 s per cell

Cells (each a WSGI call straight into the application, no socket):

* ``jsonwsp_add`` / ``http_add``: ``add(a, b)`` through JSON-WSP and through
  the ``http`` interface (target: as fast, ratio >= 1.0 within noise).
* ``jsonwsp_plain10`` / ``jsonwsp_checked10``: a method taking a LadonType
  of ten fields, without and with a constraint on every field (target: the
  checked call costs at most 15% more, ratio >= 0.87).
* ``http_plain10`` / ``http_checked10``: the same through ``http``.

Cells run round-robin so that drifts of the machine hit every cell alike;
the median calls/s over the rounds is reported, then for each pair the
median of the per-round ratios (the two cells of a pair run back to back).
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated
from typing import Any

from annotated_types import Ge
from annotated_types import Le
from annotated_types import MaxLen

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ladon import LadonType  # noqa: E402
from ladon import LadonWSGIApplication  # noqa: E402
from ladon import Pattern  # noqa: E402
from ladon import ladonize  # noqa: E402


class Plain10(LadonType):
    a: int
    b: int
    c: int
    d: int
    e: float
    f: float
    g: str
    h: str
    i: str
    j: int


class Checked10(LadonType):
    a: Annotated[int, Ge(0), Le(1000)]
    b: Annotated[int, Ge(0)]
    c: Annotated[int, Le(1000)]
    d: Annotated[int, Ge(-5), Le(5)]
    e: Annotated[float, Ge(0.0)]
    f: Annotated[float, Le(100.0)]
    g: Annotated[str, MaxLen(20)]
    h: Annotated[str, Pattern("[a-z]+")]
    i: Annotated[str, MaxLen(8)]
    j: Annotated[int, Ge(1), Le(12)]


class Bench:
    @ladonize()
    def add(self, a: int, b: int) -> int:
        return a + b

    @ladonize()
    def plain10(self, rec: Plain10) -> int:
        return rec.a

    @ladonize()
    def checked10(self, rec: Checked10) -> int:
        return rec.a


RECORD = {
    "a": 7,
    "b": 3,
    "c": 999,
    "d": -2,
    "e": 1.5,
    "f": 99.0,
    "g": "hello world",
    "h": "abcdef",
    "i": "short",
    "j": 12,
}


def caller(app: LadonWSGIApplication, path: str, body: bytes) -> Callable[[], int]:
    base = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
    }
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> None:
        statuses.append(status)

    def call() -> int:
        environ = dict(base)
        environ["wsgi.input"] = io.BytesIO(body)
        out = b"".join(app(environ, start_response))
        if not statuses.pop().startswith("200"):
            raise RuntimeError(f"{path}: {out[:200]!r}")
        return len(out)

    return call


def cells(app: LadonWSGIApplication) -> dict[str, Callable[[], int]]:
    def wsp(method: str, args: dict[str, Any]) -> bytes:
        return json.dumps({"methodname": method, "args": args}).encode()

    rec = {"rec": RECORD}
    return {
        "jsonwsp_add": caller(app, "/Bench/jsonwsp", wsp("add", {"a": 2, "b": 3})),
        "http_add": caller(app, "/Bench/http/add", json.dumps({"a": 2, "b": 3}).encode()),
        "jsonwsp_plain10": caller(app, "/Bench/jsonwsp", wsp("plain10", rec)),
        "jsonwsp_checked10": caller(app, "/Bench/jsonwsp", wsp("checked10", rec)),
        "http_plain10": caller(app, "/Bench/http/plain10", json.dumps(rec).encode()),
        "http_checked10": caller(app, "/Bench/http/checked10", json.dumps(rec).encode()),
    }


def rate(call: Callable[[], int], seconds: float) -> float:
    n = 0
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        for _ in range(50):
            call()
        n += 50
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - started)


#: (numerator, denominator, least ratio, what it says)
TARGETS = (
    ("http_add", "jsonwsp_add", 0.95, "http as fast as JSON-WSP"),
    ("jsonwsp_checked10", "jsonwsp_plain10", 0.87, "10 checked fields cost <= 15% (JSON-WSP)"),
    ("http_checked10", "http_plain10", 0.87, "10 checked fields cost <= 15% (http)"),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds x 0.2 s per cell")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--seconds", type=float)
    args = parser.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 9)
    seconds = args.seconds or (0.2 if args.quick else 0.5)
    app = LadonWSGIApplication([Bench])
    table = cells(app)
    for call in table.values():  # warm up (caches, first-call paths)
        for _ in range(200):
            call()
    results: dict[str, list[float]] = {name: [] for name in table}
    for _ in range(rounds):
        for name, call in table.items():
            results[name].append(rate(call, seconds))
    medians = {name: statistics.median(values) for name, values in results.items()}
    print(f"{'cell':<20} {'calls/s (median)':>18}   rounds: {rounds} x {seconds} s")
    for name, value in medians.items():
        print(f"{name:<20} {value:>18,.0f}")
    print()
    ok = True
    for num, den, least, what in TARGETS:
        # the median of the rounds' own ratios: the two cells of a pair run
        # one after the other, so a drift of the machine hits both
        ratio = statistics.median(n / d for n, d in zip(results[num], results[den], strict=True))
        met = ratio >= least
        ok &= met
        print(
            f"{num} / {den} = {ratio:.3f}  (target >= {least}: {what})  {'met' if met else 'MISSED'}"
        )
    app.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
