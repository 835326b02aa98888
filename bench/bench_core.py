"""In-process WSGI throughput of Ladon against Ladon 1.0.7, spyne and a bare floor.

Usage (from the repository root)::

    python bench/bench_core.py            # ~1.5 min: 7 rounds x 0.7 s per cell
    python bench/bench_core.py --quick    # ~15 s:   3 rounds x 0.2 s per cell

Every implementation runs in its own subprocess (``wsgi_driver.py``), under
its own interpreter: ``floor`` and ``ladon`` (this checkout) under the Python
running this script, ``ladon107`` and ``spyne`` under throw-away venvs that
are created on first use outside the repository (``../bench-venvs`` next to
the checkout, or ``--venv-dir`` / ``$LADON_BENCH_VENVS``).  The workers are
driven round-robin so that drifts of the machine hit everyone alike; the
median calls/s over the rounds is reported.  See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import IO
from typing import Any

from wsgi_driver import BENCH_TITLES
from wsgi_driver import BENCHMARKS
from wsgi_driver import IMPLEMENTATIONS

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
DRIVER = BENCH_DIR / "wsgi_driver.py"

#: What goes into each throw-away venv (PyPI names, exact versions).
VENV_REQUIREMENTS: dict[str, tuple[str, ...]] = {
    "ladon107": ("ladon==1.0.7",),
    # spyne declares no dependency on lxml, but its Soap11 protocol needs it.
    "spyne": ("spyne==2.14.0", "lxml"),
}
STAMP = ".ladon-bench.json"

#: (benchmark, peer, least speed-up of ladon over the peer): issue 12's
#: targets (which raised issues 2 and 8's), then issue 15's for SOAP 1.2.
TARGETS: tuple[tuple[str, str, float], ...] = (
    ("jsonwsp_add", "ladon107", 5.0),
    ("jsonwsp_add", "spyne", 15.0),
    ("jsonwsp_echo10k", "ladon107", 3.0),
    ("soap_add", "ladon107", 8.0),
    ("soap_add", "spyne", 12.0),
    ("soap_minmax100", "ladon107", 8.0),
    # issue 15: SOAP 1.2 against Ladon 1.0.7's SOAP 1.1 (it has no SOAP 1.2)
    ("soap12_add", "ladon107", 8.0),
    ("soap12_minmax100", "ladon107", 8.0),
)
RATIOS = (("ladon", "ladon107"), ("ladon", "spyne"), ("ladon", "floor"))

START_TIMEOUT = 300.0  # first import in a fresh venv compiles bytecode
RUN_GRACE = 60.0


class Unavailable(Exception):
    """An implementation cannot be benchmarked; the message says why."""


# --------------------------------------------------------------------------
# Venvs
# --------------------------------------------------------------------------


def default_venv_dir() -> Path:
    env = os.environ.get("LADON_BENCH_VENVS")
    return Path(env) if env else REPO.parent / "bench-venvs"


def venv_python(venv: Path) -> Path:
    if os.name == "nt":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def _run_quiet(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-15:]
        raise Unavailable(f"{' '.join(cmd)} failed:\n    " + "\n    ".join(tail))


def legacy_base_python(explicit: str | None) -> str:
    """The interpreter to build the ladon107/spyne venvs from.

    Both need Python <= 3.11: ladon 1.0.7's setup.py imports ``imp`` and
    spyne 2.14's bundled ``six`` cannot import its ``moves`` on 3.12+.
    """
    if explicit:
        return explicit
    if sys.version_info < (3, 12):
        return sys.executable
    for name in ("python3.11", "python3.10"):
        found = shutil.which(name)
        if found:
            return found
    raise Unavailable(
        "ladon 1.0.7 and spyne 2.14 need Python <= 3.11 and none was found on PATH; "
        "pass --legacy-python /path/to/python3.11"
    )


def ensure_venv(name: str, venv_dir: Path, install: bool, base_python: str | None) -> Path:
    """Python of venv ``name`` with its requirements, creating it if needed."""
    venv = (venv_dir / name).resolve()
    if venv.is_relative_to(REPO):
        raise Unavailable(f"refusing to put a venv inside the repository: {venv}")
    python = venv_python(venv)
    wanted = {"requirements": list(VENV_REQUIREMENTS[name])}
    stamp = venv / STAMP
    try:
        ready = json.loads(stamp.read_text()) == wanted and python.exists()
    except (OSError, ValueError):
        ready = False
    if ready:
        return python
    if not install:
        raise Unavailable(f"venv {venv} is missing or incomplete (run without --no-install)")
    print(f"setting up venv {venv} ({', '.join(wanted['requirements'])}) ...", flush=True)
    if not python.exists():
        _run_quiet([legacy_base_python(base_python), "-m", "venv", str(venv)])
    _run_quiet([str(python), "-m", "pip", "install", "--quiet", *wanted["requirements"]])
    stamp.write_text(json.dumps(wanted))
    return python


# --------------------------------------------------------------------------
# Workers
# --------------------------------------------------------------------------


class Worker:
    """One ``wsgi_driver.py`` subprocess, spoken to in JSON lines."""

    def __init__(
        self,
        impl: str,
        python: Path | str,
        verbose: bool,
        script_args: list[str] | None = None,
    ) -> None:
        """Start ``python wsgi_driver.py IMPL --repo REPO``, or ``python
        *script_args`` when given (another worker script speaking JSON lines)."""
        self.impl = impl
        if script_args is None:
            script_args = [str(DRIVER), impl, "--repo", str(REPO)]
        self._stderr: IO[bytes] | None = None if verbose else tempfile.TemporaryFile()
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)  # the old Ladon must not see this checkout's ladon
        self._proc = subprocess.Popen(
            [str(python), *script_args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env=env,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def stderr_tail(self, lines: int = 12) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        tail = self._stderr.read().decode(errors="replace").strip().splitlines()[-lines:]
        return "\n".join("    | " + t for t in tail)

    def receive(self, timeout: float) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise Unavailable(f"no answer from the worker within {timeout:.0f} s") from None
        if line is None:
            code = self._proc.wait()
            raise Unavailable(f"worker exited with status {code}\n{self.stderr_tail()}")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def send(self, cmd: dict[str, Any]) -> None:
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(json.dumps(cmd) + "\n")
            self._proc.stdin.flush()
        except OSError as exc:
            raise Unavailable(f"worker is gone: {exc}") from None

    def run(self, bench: str, seconds: float) -> dict[str, Any]:
        self.send({"cmd": "run", "bench": bench, "seconds": seconds})
        return self.receive(seconds + RUN_GRACE)

    def close(self) -> None:
        if self._proc.poll() is None:
            try:
                self.send({"cmd": "quit"})
                self._proc.wait(timeout=10)
            except (Unavailable, subprocess.TimeoutExpired):
                self._proc.kill()  # our own child, by its handle
                self._proc.wait()
        if self._stderr is not None:
            self._stderr.close()


# --------------------------------------------------------------------------
# Benchmark state and schedule
# --------------------------------------------------------------------------


@dataclass
class Impl:
    name: str
    worker: Worker | None = None
    info: dict[str, str] = field(default_factory=dict)
    error: str | None = None  # whole implementation unavailable
    cell_errors: dict[str, str] = field(default_factory=dict)
    rates: dict[str, list[float]] = field(default_factory=dict)

    def runnable(self, bench: str) -> bool:
        return self.error is None and bench not in self.cell_errors

    def median(self, bench: str) -> float | None:
        if not self.runnable(bench) or not self.rates.get(bench):
            return None
        return statistics.median(self.rates[bench])


def python_for(impl: str, args: argparse.Namespace) -> Path | str:
    if impl in VENV_REQUIREMENTS:
        return ensure_venv(impl, args.venv_dir, not args.no_install, args.legacy_python)
    return sys.executable


def start(impl: Impl, args: argparse.Namespace, script_args: list[str] | None = None) -> None:
    """Start the worker; it builds the app and checks one call per benchmark."""
    try:
        python = python_for(impl.name, args)
        impl.worker = Worker(impl.name, python, args.verbose, script_args)
        hello = impl.worker.receive(START_TIMEOUT)
        if not hello.get("ready"):
            raise Unavailable(f"{hello.get('error')}\n{impl.worker.stderr_tail()}".rstrip())
    except (Unavailable, OSError) as exc:
        impl.error = str(exc)
        return
    impl.info = hello["info"]
    for bench, problem in hello["benches"].items():
        if problem:
            impl.cell_errors[bench] = f"wrong response: {problem}"


def run_cell(impl: Impl, bench: str, seconds: float, keep: bool) -> None:
    if not impl.runnable(bench) or impl.worker is None:
        return
    try:
        reply = impl.worker.run(bench, seconds)
    except Unavailable as exc:
        impl.error = f"worker died: {exc}"
        return
    if "error" in reply:
        impl.cell_errors[bench] = f"failed while timing: {reply['error']}"
    elif keep:
        impl.rates.setdefault(bench, []).append(float(reply["rate"]))


def run_rounds(impls: list[Impl], benches: list[str], args: argparse.Namespace) -> None:
    if args.warmup > 0:
        print(f"warm-up: {args.warmup:g} s per cell", flush=True)
        for bench in benches:
            for impl in impls:
                run_cell(impl, bench, args.warmup, keep=False)
    for rnd in range(args.rounds):
        print(f"round {rnd + 1}/{args.rounds}", flush=True)
        shift = rnd % len(impls)
        order = impls[shift:] + impls[:shift]  # rotate who goes first
        for bench in benches:
            for impl in order:
                run_cell(impl, bench, args.seconds, keep=True)


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------


def _fmt_rate(impl: Impl, bench: str) -> str:
    if bench in impl.cell_errors:
        return "failed"
    med = impl.median(bench)
    if med is None:
        return "-"
    spread = max(abs(r - med) for r in impl.rates[bench]) / med * 100
    return f"{med:,.0f} ±{spread:.0f}%"


def _ratio(impls: dict[str, Impl], num: str, den: str, bench: str) -> float | None:
    if num not in impls or den not in impls:
        return None
    a, b = impls[num].median(bench), impls[den].median(bench)
    return None if a is None or not b else a / b


def _fmt_ratio(r: float | None) -> str:
    return "-" if r is None else f"{r:.3g}x"


def _print_table(head: str, rows: list[tuple[str, list[str] | str]], benches: list[str]) -> None:
    cells = [c for _, row in rows if isinstance(row, list) for c in row]
    width = max([len(b) for b in benches] + [len(c) for c in cells])
    first = max([len(head)] + [len(name) for name, _ in rows])
    print(f"{head:<{first}}  " + "  ".join(f"{b:>{width}}" for b in benches))
    for name, row in rows:
        if isinstance(row, str):
            print(f"{name:<{first}}  {row}")
        else:
            print(f"{name:<{first}}  " + "  ".join(f"{c:>{width}}" for c in row))


def report(impls: list[Impl], benches: list[str], args: argparse.Namespace) -> bool:
    """Print everything; returns whether all targets are met."""
    by_name = {i.name: i for i in impls}
    print()
    print(
        f"In-process WSGI calls/s, median of {args.rounds} rounds x {args.seconds:g} s "
        f"(±: largest deviation from the median); higher is better."
    )
    print(f"Host: {platform.platform()}, {os.cpu_count()} CPUs")
    for impl in impls:
        if impl.error is None:
            print(f"  {impl.name:<9} {impl.info.get('version')}; python {impl.info.get('python')}")
    versions = {i.info["python"].split()[0] for i in impls if i.error is None and i.info}
    if len(versions) > 1:
        print(
            f"  note: the implementations ran on different Pythons ({', '.join(sorted(versions))})"
        )
    for bench in benches:
        print(f"  {bench:<16} {BENCH_TITLES[bench]}")
    print()
    rows: list[tuple[str, list[str] | str]] = []
    for impl in impls:
        if impl.error is not None:
            rows.append((impl.name, "unavailable: " + impl.error.splitlines()[0]))
        else:
            rows.append((impl.name, [_fmt_rate(impl, b) for b in benches]))
    _print_table("calls/s", rows, benches)
    print()
    ratio_rows: list[tuple[str, list[str] | str]] = [
        (f"{num}/{den}", [_fmt_ratio(_ratio(by_name, num, den, b)) for b in benches])
        for num, den in RATIOS
        if num in by_name and den in by_name
    ]
    if ratio_rows:
        _print_table("ratio", ratio_rows, benches)
        print()
    problems = []
    for impl in impls:
        if impl.error is not None:
            problems.append(f"{impl.name}: {impl.error}")
        else:
            problems += [f"{impl.name} {bench}: {why}" for bench, why in impl.cell_errors.items()]
    for text in problems:
        print(f"problem: {text}")
    if problems:
        print()
    return print_targets(by_name)


def _paired_range(num: Impl, den: Impl, bench: str) -> str:
    """Min..max of the per-round ratios (both ran back to back in each round)."""
    pairs = [a / b for a, b in zip(num.rates[bench], den.rates[bench], strict=False) if b]
    return f"{min(pairs):.2f}x..{max(pairs):.2f}x" if pairs else "-"


def print_targets(by_name: dict[str, Impl]) -> bool:
    met_all = True
    print("Targets (ratio of the medians; per-round range in brackets):")
    for bench, peer, goal in TARGETS:
        ratio = _ratio(by_name, "ladon", peer, bench)
        if ratio is None:
            verdict, met_all = f"UNKNOWN (no figure for ladon or {peer})", False
        else:
            spread = _paired_range(by_name["ladon"], by_name[peer], bench)
            met = ratio >= goal
            met_all = met_all and met
            verdict = f"{ratio:.2f}x ({spread})  {'MET' if met else 'NOT MET'}"
        print(f"  {BENCH_TITLES[bench]:<36} vs {peer:<8} >= {goal:g}x: {verdict}")
    return met_all


def dump_json(path: Path, impls: list[Impl], args: argparse.Namespace) -> None:
    data = {
        "rounds": args.rounds,
        "seconds": args.seconds,
        "implementations": {
            i.name: {
                "info": i.info,
                "error": i.error,
                "cell_errors": i.cell_errors,
                "rates": i.rates,
                "median": {b: i.median(b) for b in i.rates},
            }
            for i in impls
        },
    }
    path.write_text(json.dumps(data, indent=2) + "\n")


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds x 0.2 s (~15 s)")
    parser.add_argument("--rounds", type=int, help="rounds (default 7, quick 3)")
    parser.add_argument("--seconds", type=float, help="seconds per cell per round (0.7, quick 0.2)")
    parser.add_argument("--warmup", type=float, help="untimed seconds per cell (0.3, quick 0.1)")
    parser.add_argument(
        "--impl", action="append", choices=IMPLEMENTATIONS, help="repeatable; default: all"
    )
    parser.add_argument(
        "--bench", action="append", choices=BENCHMARKS, help="repeatable; default: all"
    )
    parser.add_argument(
        "--venv-dir",
        type=Path,
        default=default_venv_dir(),
        help="where the ladon107/spyne venvs live (default: %(default)s)",
    )
    parser.add_argument(
        "--legacy-python",
        help="Python <= 3.11 to create those venvs from (default: this one if <= 3.11, "
        "else python3.11 or python3.10 from PATH)",
    )
    parser.add_argument("--no-install", action="store_true", help="never create or fill venvs")
    parser.add_argument("--json", type=Path, help="also write the raw figures to this file")
    parser.add_argument("--strict", action="store_true", help="exit 1 unless all targets are met")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the workers' stderr")
    args = parser.parse_args(argv)
    quick = args.quick
    if args.rounds is None:
        args.rounds = 3 if quick else 7
    if args.seconds is None:
        args.seconds = 0.2 if quick else 0.7
    if args.warmup is None:
        args.warmup = 0.1 if quick else 0.3
    if args.rounds < 1 or args.seconds <= 0:
        parser.error("--rounds must be >= 1 and --seconds > 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    names = [i for i in IMPLEMENTATIONS if not args.impl or i in args.impl]
    benches = [b for b in BENCHMARKS if not args.bench or b in args.bench]
    impls = [Impl(name) for name in names]
    try:
        for impl in impls:
            start(impl, args)
        run_rounds(impls, benches, args)
    finally:
        for impl in impls:
            if impl.worker is not None:
                impl.worker.close()
    met = report(impls, benches, args)
    if args.json is not None:
        dump_json(args.json, impls, args)
    return 0 if met or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
