"""Background-task throughput and memory of Ladon against Ladon 1.0.7.

Usage (from the repository root)::

    python bench/bench_tasks.py            # 100,000 tasks in the memory phase
    python bench/bench_tasks.py --quick    # 10,000 tasks, shorter rounds

Both Ladons serve ``services/benchtasks.py`` (a ``tasktype=True`` method
``trivial(n)`` returning ``n``) over JSON-WSP, in process, each in its own
subprocess: this file run as ``bench_tasks.py --worker IMPL``.  The
controller reuses ``bench_core``'s venvs, workers and table; the worker
reuses ``wsgi_driver``'s app builders and environ.  See bench/README.md.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import platform
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any
from typing import TextIO

from bench_core import REPO
from bench_core import Impl
from bench_core import Unavailable
from bench_core import _fmt_rate
from bench_core import _paired_range
from bench_core import _print_table
from bench_core import default_venv_dir
from bench_core import start
from wsgi_driver import JSON_CT
from wsgi_driver import Request
from wsgi_driver import WSGIApp
from wsgi_driver import _last_line
from wsgi_driver import _reply
from wsgi_driver import base_environ
from wsgi_driver import build_ladon
from wsgi_driver import build_ladon107

IMPLS = ("ladon", "ladon107")
SERVICE_MODULE = "benchtasks"
PATH = "/BenchTasks/jsonwsp"
#: ``tight``: ask for the progress again at once; ``yield``: ``time.sleep(0)``
#: between polls, i.e. let other threads have the GIL as a client's network
#: round trip would.
#: ``batch``: start BATCH tasks, then fetch each result, as the issue words it
#: ("start -> result"): throughput of the task machinery rather than the
#: latency of one thread hand-off.
MODES = ("tight", "yield", "batch")
BATCH = 200
MODE_TITLES = {
    "tight": "start, poll progress back to back, result",
    "yield": "the same, time.sleep(0) between polls",
    "batch": f"start {BATCH} tasks, then fetch each _result (retried after sleep(0) while running)",
}
RESULT_TTL = 1.0  # our ThreadTaskBackend's result_ttl, seconds
TASK_DEADLINE = 10.0  # a trivial task that has not finished by then is an error
AFTER_TTL_CALLS = 10  # cycles run after waiting past the ttl (eviction is lazy)
MEMORY_WARMUP = 2_000  # cycles before the memory baseline

#: Targets: throughput ratio ladon/ladon107, and memory after eviction.
THROUGHPUT_TARGET = 5.0
RSS_SLACK_MIB = 10.0

MEMORY_TIMEOUT = 3600.0
RUN_GRACE = 120.0


# --------------------------------------------------------------------------
# Worker (runs under each implementation's interpreter; stdlib + its ladon)
# --------------------------------------------------------------------------


class CycleError(Exception):
    """A task cycle went wrong; the message says how."""


def rss_mib() -> float:
    """Resident set size of this process (VmRSS), in MiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def _start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
    return lambda _data: None


def make_caller(app: WSGIApp) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    """``call(method, args)``: one JSON-WSP call through the app, decoded."""
    base = base_environ(Request(PATH, b"", JSON_CT, None, lambda _body: None))

    def call(method: str, args: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps({"methodname": method, "args": args}).encode()
        environ = base.copy()
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["wsgi.input"] = io.BytesIO(body)
        result = app(environ, _start_response)
        try:
            data = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        try:
            reply: dict[str, Any] = json.loads(data)
        except ValueError:
            raise CycleError(f"{method}: response is not JSON: {data[:300]!r}") from None
        return reply

    return call


def _fault(reply: dict[str, Any]) -> str:
    fault = reply.get("fault") or {}
    return str(fault.get("string", reply))[:300]


class Cycler:
    """Runs full task cycles: start, poll ``_progress`` until 1.0, ``_result``."""

    def __init__(self, app: WSGIApp) -> None:
        self.call = make_caller(app)
        self.n = 0  # the argument of the next task (Ladon 1.0.7 loses a result of 0)

    def cycle(self, yield_between: bool) -> int:
        """One task; returns how many progress polls it took."""
        self.n += 1
        n = self.n
        reply = self.call("trivial", {"n": n})
        try:
            task_id = reply["result"]["task_id"]
        except (KeyError, TypeError):
            raise CycleError(f"trivial({n}): no task id: {_fault(reply)}") from None
        polls = 0
        deadline = time.monotonic() + TASK_DEADLINE
        while True:
            polls += 1
            # A fault (Ladon 1.0.7: the thread has not recorded itself yet)
            # counts as "not finished".
            progress = self.call("trivial_progress", {"task_id": task_id}).get("result")
            if isinstance(progress, dict) and progress.get("progress") == 1.0:
                break
            if time.monotonic() > deadline:
                raise CycleError(f"task {n} not finished after {TASK_DEADLINE:g} s: {progress}")
            if yield_between:
                time.sleep(0)
        reply = self.call("trivial_result", {"task_id": task_id})
        if reply.get("result") != n or "fault" in reply:
            raise CycleError(f"trivial_result of task {n}: {reply.get('result', _fault(reply))}")
        return polls

    def batch(self, size: int = BATCH) -> tuple[int, int]:
        """Start ``size`` tasks, then follow each to its result; ``(tasks, polls)``."""
        started = []
        for _ in range(size):
            self.n += 1
            reply = self.call("trivial", {"n": self.n})
            try:
                started.append((self.n, reply["result"]["task_id"]))
            except (KeyError, TypeError):
                raise CycleError(f"trivial({self.n}): no task id: {_fault(reply)}") from None
        polls = 0
        for n, task_id in started:
            deadline = time.monotonic() + TASK_DEADLINE
            while True:
                polls += 1
                reply = self.call("trivial_result", {"task_id": task_id})
                if "fault" not in reply:
                    break  # a fault means "still running": try again
                if time.monotonic() > deadline:
                    raise CycleError(f"task {n} has no result after {TASK_DEADLINE:g} s")
                time.sleep(0)
            if reply.get("result") != n:
                raise CycleError(f"trivial_result of task {n}: {reply.get('result')}")
        return size, polls

    def run_for(self, seconds: float, mode: str) -> dict[str, Any]:
        clock = time.perf_counter
        tasks = polls = 0
        start_t = clock()
        deadline = start_t + seconds
        while True:
            if mode == "batch":
                done, used = self.batch()
                tasks += done
                polls += used
            else:
                polls += self.cycle(mode == "yield")
                tasks += 1
            now = clock()
            if now >= deadline:
                break
        elapsed = now - start_t
        return {"tasks": tasks, "seconds": elapsed, "rate": tasks / elapsed, "polls": polls / tasks}

    def run_n(self, count: int, yield_between: bool) -> dict[str, Any]:
        """``count`` cycles; the rate overall and of the first and last tenth."""
        clock = time.perf_counter
        tenth = max(1, count // 10)
        marks = []
        start_t = clock()
        polls = 0
        for i in range(count):
            if i in (tenth, count - tenth):
                marks.append(clock())
            polls += self.cycle(yield_between)
        end = clock()
        first = tenth / (marks[0] - start_t) if marks else None
        last = tenth / (end - marks[-1]) if marks else None
        return {
            "tasks": count,
            "seconds": end - start_t,
            "rate": count / (end - start_t),
            "first_tenth": first,
            "last_tenth": last,
            "polls": polls / count,
        }


def build_worker(
    impl: str, repo: str
) -> tuple[WSGIApp, Callable[[], dict[str, int]], dict[str, str]]:
    """The app, a function counting what the implementation stores, and info."""
    if impl == "ladon":
        sys.path.insert(0, repo)
        from ladon.tasks import ThreadTaskBackend

        backend = ThreadTaskBackend(result_ttl=RESULT_TTL)
        app_for, info = build_ladon(repo, (SERVICE_MODULE,), tasks=backend)
        info["backend"] = repr(backend)

        def stored() -> dict[str, int]:
            return {"tasks": len(backend)}  # len() sweeps the expired ones first

    elif impl == "ladon107":
        app_for, info = build_ladon107(repo, (SERVICE_MODULE,))
        from ladon.tools import threadmanagement  # type: ignore[import-not-found]

        state = threadmanagement.thread_dict

        def stored() -> dict[str, int]:
            return {
                "tasks": len(state["thread_info"]),
                "done_list": len(state["done"]),
                "running_list": len(state["running"]),
            }

    else:
        raise ValueError(f"unknown implementation {impl!r}")
    info["python"] = f"{sys.version.split()[0]} ({sys.executable})"
    return app_for("tasks"), stored, info


def _check(cycler: Cycler) -> dict[str, str | None]:
    problems: dict[str, str | None] = {}
    for mode in MODES:
        try:
            if mode == "batch":
                cycler.batch(10)
            else:
                for _ in range(3):
                    cycler.cycle(mode == "yield")
            problems[mode] = None
        except Exception:
            problems[mode] = traceback.format_exc(limit=-2).strip()
    return problems


def _zero_result(call: Callable[[str, dict[str, Any]], dict[str, Any]]) -> str:
    """What the implementation answers for a task that returns 0."""
    task_id = call("trivial", {"n": 0})["result"]["task_id"]
    deadline = time.monotonic() + TASK_DEADLINE
    while time.monotonic() < deadline:
        progress = call("trivial_progress", {"task_id": task_id}).get("result")
        if isinstance(progress, dict) and progress.get("progress") == 1.0:
            break
        time.sleep(0.001)
    reply = call("trivial_result", {"task_id": task_id})
    return f"result {reply['result']}" if "result" in reply else f"fault: {_fault(reply)}"


def _memory(cycler: Cycler, stored: Callable[[], dict[str, int]], count: int) -> dict[str, Any]:
    def snapshot() -> dict[str, Any]:
        gc.collect()
        return {"rss": rss_mib(), "stored": stored()}

    def settle() -> None:
        time.sleep(RESULT_TTL + 0.5)
        for _ in range(AFTER_TTL_CALLS):
            cycler.cycle(True)

    start_rss = rss_mib()
    for _ in range(MEMORY_WARMUP):
        cycler.cycle(True)
    settle()
    baseline = snapshot()
    run = cycler.run_n(count, True)
    after = snapshot()
    settle()
    evicted = snapshot()
    return {
        "start_rss": start_rss,
        "baseline": baseline,
        "after": after,
        "evicted": evicted,
        "run": run,
    }


def _serve(out: TextIO, cycler: Cycler, stored: Callable[[], dict[str, int]]) -> None:
    for line in sys.stdin:
        cmd = json.loads(line)
        try:
            if cmd.get("cmd") == "run":
                reply = cycler.run_for(float(cmd["seconds"]), str(cmd["bench"]))
            elif cmd.get("cmd") == "memory":
                reply = _memory(cycler, stored, int(cmd["tasks"]))
            else:
                return
        except Exception as exc:
            traceback.print_exc()
            reply = {"error": _last_line(exc)}
        _reply(out, reply)


def worker_main(impl: str, repo: str) -> int:
    # Keep stdout for replies only: whatever the frameworks print goes to stderr.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    try:
        app, stored, info = build_worker(impl, repo)
        cycler = Cycler(app)
        info["zero_result"] = _zero_result(cycler.call)
    except BaseException as exc:
        traceback.print_exc()
        _reply(out, {"ready": False, "error": _last_line(exc)})
        return 1
    _reply(out, {"ready": True, "info": info, "benches": _check(cycler)})
    _serve(out, cycler, stored)
    return 0


# --------------------------------------------------------------------------
# Controller
# --------------------------------------------------------------------------


def worker_args(impl: str) -> list[str]:
    return [str(Path(__file__).resolve()), "--worker", impl, "--repo", str(REPO)]


def start_all(names: list[str], args: argparse.Namespace) -> list[Impl]:
    impls = [Impl(name) for name in names]
    for impl in impls:
        start(impl, args, worker_args(impl.name))
    return impls


def close_all(impls: list[Impl]) -> None:
    for impl in impls:
        if impl.worker is not None:
            impl.worker.close()
            impl.worker = None


def run_cell(impl: Impl, mode: str, seconds: float, extra: dict[str, list[float]] | None) -> None:
    if not impl.runnable(mode) or impl.worker is None:
        return
    try:
        reply = impl.worker.run(mode, seconds)
    except Unavailable as exc:
        impl.error = f"worker died: {exc}"
        return
    if "error" in reply:
        impl.cell_errors[mode] = f"failed while timing: {reply['error']}"
    elif extra is not None:
        impl.rates.setdefault(mode, []).append(float(reply["rate"]))
        extra.setdefault(mode, []).append(float(reply["polls"]))


def throughput(
    names: list[str], args: argparse.Namespace
) -> tuple[dict[str, Impl], dict[str, dict[str, list[float]]]]:
    """Rounds of interleaved cells; fresh workers every round (Ladon 1.0.7
    slows down with every task it has run, see the memory phase)."""
    results = {name: Impl(name) for name in names}
    polls: dict[str, dict[str, list[float]]] = {name: {} for name in names}
    for rnd in range(args.rounds):
        print(f"throughput round {rnd + 1}/{args.rounds}", flush=True)
        impls = start_all(names, args)
        try:
            for impl in impls:
                keep = results[impl.name]
                keep.info = impl.info or keep.info
                keep.error = keep.error or impl.error
                for mode, why in impl.cell_errors.items():
                    keep.cell_errors.setdefault(mode, why)
                impl.cell_errors = keep.cell_errors
            shift = rnd % len(impls)
            order = impls[shift:] + impls[:shift]
            for mode in MODES:
                for impl in order:
                    run_cell(impl, mode, args.warmup, None)
                for impl in order:
                    run_cell(impl, mode, args.seconds, polls[impl.name])
            for impl in impls:
                keep = results[impl.name]
                keep.error = keep.error or impl.error
                for mode, rates in impl.rates.items():
                    keep.rates.setdefault(mode, []).extend(rates)
        finally:
            close_all(impls)
    return results, polls


def memory(names: list[str], count: int, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """One fresh worker per implementation, one after the other."""
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        print(f"memory: {name}, {count:,} tasks ...", flush=True)
        (impl,) = start_all([name], args)
        try:
            if impl.error is not None or impl.worker is None:
                out[name] = {"error": impl.error}
                continue
            impl.worker.send({"cmd": "memory", "tasks": count})
            out[name] = impl.worker.receive(MEMORY_TIMEOUT)
        except Unavailable as exc:
            out[name] = {"error": f"worker died: {exc}"}
        finally:
            close_all([impl])
    return out


def _ratio(results: dict[str, Impl], mode: str) -> float | None:
    if "ladon" not in results or "ladon107" not in results:
        return None
    a, b = results["ladon"].median(mode), results["ladon107"].median(mode)
    return None if a is None or not b else a / b


def report_throughput(
    results: dict[str, Impl], polls: dict[str, dict[str, list[float]]], args: argparse.Namespace
) -> list[tuple[str, bool]]:
    print()
    print(
        f"Task cycles/s (start -> poll trivial_progress until 1.0 -> trivial_result), median of "
        f"{args.rounds} rounds x {args.seconds:g} s, fresh workers every round; higher is better."
    )
    print(f"Host: {platform.platform()}, {os.cpu_count()} CPUs")
    for impl in results.values():
        if impl.info:
            print(f"  {impl.name:<9} {impl.info.get('version')}; python {impl.info.get('python')}")
    for mode in MODES:
        print(f"  {mode:<9} {MODE_TITLES[mode]}")
    print()
    rows: list[tuple[str, list[str] | str]] = []
    for impl in results.values():
        if impl.error is not None:
            rows.append((impl.name, "unavailable: " + impl.error.splitlines()[0]))
            continue
        rows.append((impl.name, [_fmt_rate(impl, m) for m in MODES]))
        per_task = [
            f"{statistics.median(polls[impl.name][m]):.1f}" if polls[impl.name].get(m) else "-"
            for m in MODES
        ]
        rows.append(("  polls/task", per_task))
    ratios = [_ratio(results, m) for m in MODES]
    rows.append(("ladon/ladon107", ["-" if r is None else f"{r:.3g}x" for r in ratios]))
    _print_table("tasks/s", rows, list(MODES))
    for impl in results.values():
        for mode, why in impl.cell_errors.items():
            print(f"problem: {impl.name} {mode}: {why}")
        if impl.error is not None:
            print(f"problem: {impl.name}: {impl.error}")
    verdicts = []
    for mode, ratio in zip(MODES, ratios, strict=True):
        met = ratio is not None and ratio >= THROUGHPUT_TARGET
        spread = (
            _paired_range(results["ladon"], results["ladon107"], mode) if ratio is not None else "-"
        )
        verdicts.append((f"throughput ({mode}) >= {THROUGHPUT_TARGET:g}x ladon107", met))
        shown = "-" if ratio is None else f"{ratio:.2f}x ({spread})"
        print(f"  target: {verdicts[-1][0]}: {shown}  {'MET' if met else 'NOT MET'}")
    return verdicts


def _fmt_stored(stored: dict[str, int]) -> str:
    extra = ", ".join(f"{k} {v:,}" for k, v in stored.items() if k != "tasks")
    return f"{stored['tasks']:,}" + (f" ({extra})" if extra else "")


def report_memory(mem: dict[str, dict[str, Any]], count: int) -> list[tuple[str, bool]]:
    print()
    print(
        f"Memory: RSS (VmRSS, MiB, after gc.collect()) of a fresh worker: at start-up; "
        f"baseline after {MEMORY_WARMUP:,} warm-up tasks, a {RESULT_TTL + 0.5:g} s wait and "
        f"{AFTER_TTL_CALLS} more; after {count:,} more tasks (start, poll, fetch the result; "
        f"'yield' polling); after another {RESULT_TTL + 0.5:g} s wait and {AFTER_TTL_CALLS} "
        f"tasks. 'stored': tasks the implementation still keeps (ladon: len(backend), "
        f"result_ttl={RESULT_TTL:g} s; ladon107: entries of its thread_info dict)."
    )
    print()
    head = f"{'':<9}  {'start':>7}  {'baseline':>8}  {'after':>8}  {'evicted':>8}  {'growth':>8}"
    print(head + f"  {'stored after':>14}  {'stored evicted':>14}  tasks/s (first/last tenth)")
    verdicts: list[tuple[str, bool]] = []
    for name, res in mem.items():
        if "error" in res:
            print(f"{name:<9}  failed: {res['error']}")
            continue
        base, after, ev = res["baseline"]["rss"], res["after"]["rss"], res["evicted"]["rss"]
        run = res["run"]
        print(
            f"{name:<9}  {res['start_rss']:>7.1f}  {base:>8.1f}  {after:>8.1f}  {ev:>8.1f}  "
            f"{ev - base:>+8.1f}  {res['after']['stored']['tasks']:>14,}  "
            f"{res['evicted']['stored']['tasks']:>14,}  "
            f"{run['rate']:,.0f} ({run['first_tenth']:,.0f}/{run['last_tenth']:,.0f})"
        )
    for name, res in mem.items():
        if "error" not in res:
            extra = _fmt_stored(res["evicted"]["stored"])
            print(
                f"  {name}: {count:,} tasks in {res['run']['seconds']:.1f} s; "
                f"growth {(res['evicted']['rss'] - res['baseline']['rss']) * 1024 / count:.2f} "
                f"KiB/task; stored at the end: {extra}"
            )
    ours = mem.get("ladon")
    if ours is not None:
        if "error" in ours:
            verdicts.append(("ladon memory flat after eviction", False))
        else:
            growth = ours["evicted"]["rss"] - ours["baseline"]["rss"]
            left = ours["evicted"]["stored"]["tasks"]
            rss_ok = growth <= RSS_SLACK_MIB
            stored_ok = left <= AFTER_TTL_CALLS
            verdicts.append((f"ladon RSS after eviction within {RSS_SLACK_MIB:g} MiB", rss_ok))
            verdicts.append((f"ladon stored tasks after eviction <= {AFTER_TTL_CALLS}", stored_ok))
            print(
                f"  target: ladon RSS after eviction within {RSS_SLACK_MIB:g} MiB of the "
                f"baseline: {growth:+.1f} MiB  {'MET' if rss_ok else 'NOT MET'}"
            )
            print(
                f"  target: ladon tasks stored after eviction <= {AFTER_TTL_CALLS} (the tasks "
                f"run after the wait): {left}  {'MET' if stored_ok else 'NOT MET'}"
            )
    return verdicts


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 tasks, 3 short rounds")
    parser.add_argument(
        "--tasks", type=int, help="tasks in the memory phase (100,000; quick 10,000)"
    )
    parser.add_argument("--rounds", type=int, help="throughput rounds (default 5, quick 3)")
    parser.add_argument("--seconds", type=float, help="seconds per cell per round (2, quick 0.5)")
    parser.add_argument("--warmup", type=float, help="untimed seconds per cell (0.3, quick 0.1)")
    parser.add_argument("--impl", action="append", choices=IMPLS, help="repeatable; default: both")
    parser.add_argument("--skip-memory", action="store_true", help="throughput only")
    parser.add_argument("--skip-throughput", action="store_true", help="memory only")
    parser.add_argument(
        "--venv-dir",
        type=Path,
        default=default_venv_dir(),
        help="where the ladon107 venv lives (default: %(default)s)",
    )
    parser.add_argument("--legacy-python", help="Python <= 3.11 to create that venv from")
    parser.add_argument("--no-install", action="store_true", help="never create or fill venvs")
    parser.add_argument("--json", type=Path, help="also write the raw figures to this file")
    parser.add_argument("--strict", action="store_true", help="exit 1 unless all targets are met")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the workers' stderr")
    parser.add_argument("--worker", choices=IMPLS, help=argparse.SUPPRESS)
    parser.add_argument("--repo", default=str(REPO), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    quick = args.quick
    args.tasks = args.tasks or (10_000 if quick else 100_000)
    args.rounds = args.rounds or (3 if quick else 5)
    args.seconds = args.seconds or (0.5 if quick else 2.0)
    args.warmup = args.warmup if args.warmup is not None else (0.1 if quick else 0.3)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker_main(args.worker, args.repo)
    names = [i for i in IMPLS if not args.impl or i in args.impl]
    verdicts: list[tuple[str, bool]] = []
    data: dict[str, Any] = {"tasks": args.tasks, "rounds": args.rounds, "seconds": args.seconds}
    if not args.skip_throughput:
        results, polls = throughput(names, args)
        data["throughput"] = {
            n: {"rates": i.rates, "polls": polls[n], "info": i.info, "error": i.error}
            for n, i in results.items()
        }
    if not args.skip_memory:
        mem = memory(names, args.tasks, args)
        data["memory"] = mem
    if not args.skip_throughput:
        verdicts += report_throughput(results, polls, args)
        for impl in results.values():
            if impl.info.get("zero_result"):
                print(f"  {impl.name}: a task returning 0 gives {impl.info['zero_result']}")
    if not args.skip_memory:
        verdicts += report_memory(mem, args.tasks)
    if args.json is not None:
        args.json.write_text(json.dumps(data, indent=2) + "\n")
    return 0 if all(met for _, met in verdicts) or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
