"""CPU-time companion of ``bench_core.py``: the same apps and requests
(``wsgi_driver.py``), each implementation in its own process under its own
interpreter, timed with ``time.process_time`` (best of N slices), which
wanders far less than wall-clock time on a machine shared with other work.

Prints calls per CPU-second per implementation and benchmark over several
runs (the spread is the range over the runs), the ratios of the medians,
and the speed targets of issues 12 and 15 against Ladon 1.0.7 and Spyne
(SOAP 1.2 against their SOAP 1.1).

    python bench/bench_cpu.py              # 3 runs, ~2 min of CPU (longer on a busy machine)
    python bench/bench_cpu.py --runs 5

It uses the venvs of ``bench_core.py`` (``../bench-venvs``; create them
once with ``python bench/bench_core.py --quick``).
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_core  # noqa: E402
import wsgi_driver  # noqa: E402

#: Issue 12, item 16, and issue 15: (benchmark, peer, least speed-up of
#: ladon over the peer).
TARGETS: tuple[tuple[str, str, float], ...] = (
    ("jsonwsp_add", "ladon107", 5.0),
    ("jsonwsp_add", "spyne", 15.0),
    ("jsonwsp_echo10k", "ladon107", 3.0),
    ("soap_add", "ladon107", 8.0),
    ("soap_add", "spyne", 12.0),
    ("soap_minmax100", "ladon107", 8.0),
    # issue 15: SOAP 1.2 against the peers' SOAP 1.1 (they have no SOAP 1.2)
    ("soap12_add", "ladon107", 8.0),
    ("soap12_minmax100", "ladon107", 8.0),
)
IMPLS = ("ladon", "ladon107", "spyne")


def worker(impl: str, slices: int, seconds: float) -> dict[str, float | None]:
    """Calls per CPU-second of each benchmark (best of ``slices``)."""
    app_for, requests, _info = wsgi_driver.build(impl, str(HERE.parent))
    rates: dict[str, float | None] = {}
    for name, req in requests.items():
        app = app_for(name)
        if wsgi_driver.verify(app, req) is not None:
            rates[name] = None
            continue
        base = wsgi_driver.base_environ(req)
        best = 0.0
        for _ in range(slices):
            calls = 0
            start = time.process_time()
            while time.process_time() - start < seconds:
                for _ in range(50):
                    environ = base.copy()
                    environ["wsgi.input"] = io.BytesIO(req.body)
                    result = app(environ, wsgi_driver._start_response)
                    for _chunk in result:
                        pass
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()
                calls += 50
            best = max(best, calls / (time.process_time() - start))
        rates[name] = best
    return rates


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--slices", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.4)
    parser.add_argument("--venv-dir", type=Path, default=bench_core.default_venv_dir())
    parser.add_argument("--worker", choices=IMPLS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.slices, args.seconds)))
        return 0
    pythons = {"ladon": Path(sys.executable)}
    for impl in ("ladon107", "spyne"):
        pythons[impl] = bench_core.venv_python((args.venv_dir / impl).resolve())
        if not pythons[impl].exists():
            raise SystemExit(f"no venv {impl} in {args.venv_dir}: run bench_core.py once first")
    runs: dict[str, list[dict[str, float | None]]] = {impl: [] for impl in IMPLS}
    for n in range(args.runs):
        for impl in IMPLS:  # one implementation at a time, interleaved by run
            cmd = [str(pythons[impl]), __file__, "--worker", impl]
            cmd += ["--slices", str(args.slices), "--seconds", str(args.seconds)]
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            runs[impl].append(json.loads(done.stdout.splitlines()[-1]))
        print(f"run {n + 1}/{args.runs}", file=sys.stderr)
    # the peers answer the soap12 requests with their SOAP 1.1
    benches = list(wsgi_driver.BENCHMARKS)

    def rates(impl: str, bench: str) -> list[float]:
        return [r for run in runs[impl] if (r := run.get(bench)) is not None]

    print(f"calls per CPU-second, best of {args.slices} x {args.seconds} s, {args.runs} runs")
    print(f"{'':10}" + "".join(f"{b:>26}" for b in benches))
    for impl in IMPLS:
        cells = []
        for b in benches:
            got = rates(impl, b)
            cells.append(
                f"{statistics.median(got):>12,.0f} ({min(got):,.0f}..{max(got):,.0f})"
                if got
                else f"{'failed':>26}"
            )
        print(f"{impl:10}" + "".join(f"{c:>26}" for c in cells))
    print("targets (issues 12 and 15), ratio of the medians (range of the per-run ratios):")
    met = True
    for bench, peer, goal in TARGETS:
        ours, theirs = rates("ladon", bench), rates(peer, bench)
        ratio = statistics.median(ours) / statistics.median(theirs)
        pairs = [a / b for a, b in zip(ours, theirs, strict=False)]
        ok = ratio >= goal
        met = met and ok
        print(
            f"  {bench:16} vs {peer:9} >= {goal:g}x: {ratio:.2f}x "
            f"({min(pairs):.2f}x..{max(pairs):.2f}x)  {'met' if ok else 'NOT MET'}"
        )
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
