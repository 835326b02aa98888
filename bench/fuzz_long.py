"""A longer fuzzing run of every request parser (hypothesis).

Usage (from the repository root, in the dev venv)::

    python bench/fuzz_long.py                 # 20,000 inputs per interface (~5 min)
    python bench/fuzz_long.py --examples 2000 # quicker

Each interface gets generated requests (nearly-right JSON or XML requests,
mutated, truncated and bit-flipped ones, and raw bytes, from
``tests/fuzz/strategies.py``). Every answer must be a result or a fault:
an exception escaping the interface is printed with its input and makes the
script exit 1. Inputs that produced an outcome not seen before (a result,
or a fault message of a new kind) are written to ``tests/fuzz/corpus/<iface>/``
(at most ``--keep`` per interface); ``tests/fuzz/test_properties.py`` replays
that corpus on every test run.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "services")]

from hypothesis import HealthCheck  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from werkzeug.datastructures import EnvironHeaders  # noqa: E402

from ladon.exceptions.service import ServiceFault  # noqa: E402
from ladon.interfaces.base import Batch  # noqa: E402
from ladon.interfaces.base import WireRequest  # noqa: E402
from ladon.server.wsgi import LadonWSGIApplication  # noqa: E402
from tests.fuzz.strategies import json_request  # noqa: E402
from tests.fuzz.strategies import xml_request  # noqa: E402

CORPUS = REPO / "tests" / "fuzz" / "corpus"
IFACES = ["soap", "soap11", "soap12", "jsonwsp", "jsonrpc10", "jsonrpc", "xmlrpc"]
XML = {"soap", "soap11", "soap12", "xmlrpc"}


def outcome(iface: Any, body: bytes, headers: dict[str, str]) -> str:
    """``result``, ``batch`` or the kind of fault (its text without numbers
    and quoted values)."""
    ctype = headers.get("Content-Type", "")
    request = WireRequest(body, ctype, EnvironHeaders({"CONTENT_TYPE": ctype}))
    try:
        call = iface.decode_call(request)
    except ServiceFault as fault:
        iface.encode_fault(fault, None)
        text = re.sub(r"'[^']*'|\"[^\"]*\"|\d+", "_", fault.faultstring)
        return f"{fault.faultcode}: {text[:60]}"
    if isinstance(call, Batch):
        return "batch"
    iface.encode_fault(ServiceFault("server", "x"), call)
    return f"call {call.method.name}"


def fuzz(name: str, iface: Any, examples: int) -> tuple[int, int, dict[str, bytes]]:
    """Run ``examples`` inputs through one interface: (inputs, escapes, first
    input of each kind of outcome)."""
    headers = {"Content-Type": "text/xml" if name in XML else "application/json"}
    kinds: dict[str, bytes] = {}
    count = [0, 0]
    gen = xml_request(name) if name in XML else json_request(name)

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(body=gen | st.binary(max_size=400))
    def run(body: bytes) -> None:
        count[0] += 1
        try:
            kind = outcome(iface, body, headers)
        except Exception as exc:  # an escape: the bug this run looks for
            count[1] += 1
            print(f"ESCAPE on {name}: {type(exc).__name__}: {exc}\n  input: {body[:300]!r}")
            kind = f"escape {type(exc).__name__}"
        kinds.setdefault(kind, body)

    run()
    return count[0], count[1], kinds


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--examples", type=int, default=20_000, help="inputs per interface")
    parser.add_argument("--keep", type=int, default=40, help="corpus files kept per interface")
    args = parser.parse_args()
    app = LadonWSGIApplication(["legacy_shapes", "modern_types"])
    shapes = app.service("Shapes")
    assert shapes is not None
    escapes = 0
    print(f"{'interface':10} {'inputs':>8} {'kinds':>6} {'kept':>5} {'escapes':>8} {'seconds':>8}")
    for name in IFACES:
        started = time.perf_counter()
        inputs, escaped, kinds = fuzz(name, app.interface(shapes, name), args.examples)
        seconds = time.perf_counter() - started
        folder = CORPUS / name
        folder.mkdir(parents=True, exist_ok=True)
        kept = 0
        for body in sorted(kinds.values(), key=len)[: args.keep]:
            (folder / hashlib.sha1(body).hexdigest()[:16]).write_bytes(body)
            kept += 1
        escapes += escaped
        print(f"{name:10} {inputs:>8} {len(kinds):>6} {kept:>5} {escaped:>8} {seconds:>8.1f}")
    return 1 if escapes else 0


if __name__ == "__main__":
    sys.exit(main())
