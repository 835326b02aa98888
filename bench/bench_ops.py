"""The cost of the operations features (issue 17) on one call, in process.

Usage (from the repository root, in the dev venv)::

    python bench/bench_ops.py                         # ~1 min
    python bench/bench_ops.py --base /tmp/ladon-base  # also an export of an earlier commit

Each configuration runs in a subprocess of its own: an application serving
``bench/services/benchsvc.py``, called through its WSGI entry point with
the ``jsonwsp_add`` and ``soap_add`` requests of ``wsgi_driver.py``. The
figure is the CPU time of the calling thread per call (``time.thread_time``,
which other processes on a loaded machine disturb far less than the wall
clock), the best of several rounds, next to a bare constant-body WSGI app
measured the same way in the same subprocess (``floor``). Configurations:

``base``        an earlier checkout (``--base``), as it is
``off``         every operations feature off (metrics, tracing, request
                ids, compression)
``defaults``    the defaults where neither extra is installed: request
                ids and compression on, metrics and tracing off
``metrics``     metrics on (prometheus-client)
``tracing``     tracing on, opentelemetry-api without an SDK (no-op spans)
``tracing+sdk`` tracing on with the SDK recording every span (a batch
                processor, an exporter that drops them)
``all+sdk``     metrics, tracing with the SDK, request ids, compression
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent

CONFIGS: dict[str, dict[str, Any]] = {
    "off": {"metrics": False, "tracing": False, "request_ids": False, "compress_min_size": None},
    "defaults": {"metrics": False, "tracing": False},
    "metrics": {
        "metrics": True,
        "tracing": False,
        "request_ids": False,
        "compress_min_size": None,
    },
    "tracing": {"metrics": False, "tracing": True, "request_ids": False, "compress_min_size": None},
    "tracing+sdk": {
        "metrics": False,
        "tracing": True,
        "request_ids": False,
        "compress_min_size": None,
    },
    "all+sdk": {"metrics": True, "tracing": True},
}


def _start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
    return None


def worker(repo: str, options: dict[str, Any], sdk: bool, calls: int, rounds: int) -> None:
    """In the subprocess: print {bench: best seconds per call} as JSON."""
    import io

    sys.path.insert(0, str(BENCH))
    from wsgi_driver import base_environ
    from wsgi_driver import build
    from wsgi_driver import verify

    if sdk:
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.sdk.trace.export import SpanExporter
        from opentelemetry.sdk.trace.export import SpanExportResult

        class Drop(SpanExporter):
            def export(self, spans: Any) -> SpanExportResult:
                return SpanExportResult.SUCCESS

        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(Drop()))
        trace.set_tracer_provider(provider)
    os.environ["LADON_BENCH_APP_OPTIONS"] = json.dumps(options)
    app_for, requests, _info = build("ladon", repo)
    floor_for, floor_requests, _ = build("floor", repo)
    out: dict[str, float] = {}
    for bench in ("jsonwsp_add", "soap_add"):
        for name, make, reqs in (
            (bench, app_for, requests),
            (f"floor_{bench}", floor_for, floor_requests),
        ):
            app = make(bench)
            request = reqs[bench]
            problem = verify(app, request)
            if problem:
                raise RuntimeError(f"{name}: {problem}")
            base = base_environ(request)
            body = request.body
            best = float("inf")
            for _ in range(rounds):
                started = time.thread_time()
                for _ in range(calls):
                    environ = base.copy()
                    environ["wsgi.input"] = io.BytesIO(body)
                    result = app(environ, _start_response)
                    for _chunk in result:
                        pass
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()
                best = min(best, (time.thread_time() - started) / calls)
            out[name] = best
    sys.stdout.write(json.dumps(out) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--base", help="an earlier checkout (git archive export) to compare")
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        spec = json.loads(args.worker)
        worker(spec["repo"], spec["options"], spec["sdk"], args.calls, args.rounds)
        return 0
    runs: list[tuple[str, str, dict[str, Any], bool]] = []
    if args.base:
        runs.append(("base", args.base, {}, False))
    for name, options in CONFIGS.items():
        runs.append((name, str(REPO), options, name.endswith("+sdk")))
    results: dict[str, dict[str, float]] = {}
    for name, repo, options, sdk in runs:
        spec = json.dumps({"repo": repo, "options": options, "sdk": sdk})
        done = subprocess.run(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--worker",
                spec,
                "--calls",
                str(args.calls),
                "--rounds",
                str(args.rounds),
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=repo,
        )
        results[name] = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"  {name:12} done", flush=True)
    reference = "base" if "base" in results else "off"
    print("\nCPU time per call (µs, best of rounds) and against", reference)
    print(f"{'config':12} {'jsonwsp_add':>12} {'ratio':>7} {'soap_add':>10} {'ratio':>7}  floor µs")
    for name, figures in results.items():
        row = [f"{name:12}"]
        for bench in ("jsonwsp_add", "soap_add"):
            # each figure less its own floor: what the framework costs
            cost = figures[bench] - figures[f"floor_{bench}"]
            ref = results[reference][bench] - results[reference][f"floor_{bench}"]
            row.append(f"{cost * 1e6:12.2f} {cost / ref:7.3f}")
        row.append(f"  {figures['floor_jsonwsp_add'] * 1e6:.2f}")
        print(" ".join(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
