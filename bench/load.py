"""Load test: Ladon and Ladon 1.0.7 under the same gunicorn, driven by wrk.

Usage (from the repository root, in the dev venv; needs Debian's ``wrk``)::

    python bench/load.py                 # ~3 min: 10 s per scenario and implementation
    python bench/load.py --seconds 3     # quicker

Both implementations serve the same Ladon 1.0-style service modules
(``bench/services/benchsvc.py`` and ``benchtasks.py``) under gunicorn on
127.0.0.1 (Ladon 1.0.7 from a throw-away venv outside the repository, as
in ``bench_core.py``). Scenarios:

``jsonwsp_add`` / ``soap_add`` / ``soap_minmax100``
    wrk (2 threads, 16 connections, keep-alive) against ``gunicorn -w 2``
    sync workers; requests/s, latency p50/p99, errors (non-2xx answers and
    socket errors; each answer was checked once before the run).
``task_cycles``
    8 Python client threads each running start -> poll ``trivial_progress``
    until 1.0 -> ``trivial_result`` over keep-alive connections, against
    ``gunicorn -w 1 -k gthread --threads 8`` (both keep task state in the
    serving process); cycles/s, cycle latency p50/p99, errors (any fault
    or wrong result).

Memory is the resident size of the gunicorn master and workers together,
before and after the scenarios.

``--vs-bare`` (issue 17) runs another suite instead: Ladon against a bare
WSGI app answering a constant body (the same bytes), under the same
``gunicorn -w 2`` in the same run, sync workers and gthread workers (8
threads), wrk at saturation (``--seconds``, 60 by default there), each
Ladon in three set-ups: ``off`` (every operations feature off), ``plain``
(the defaults when neither extra is installed: request ids and
compression), ``ops`` (metrics in multi-process mode, tracing with the
OpenTelemetry SDK recording every span, request ids, compression). It
reports requests/s, the ratio to the bare app, latency, errors, the RSS
of the workers before and after, and how the CPU time was shared between
the two workers (a worker that got most of the keep-alive connections does
most of the work)::

    python bench/load.py --vs-bare                 # ~9 min
    python bench/load.py --vs-bare --seconds 10    # quicker
    python bench/load.py --vs-bare --interleave 12 # the apps in turn, 12 x 5 s each

With ``--interleave`` every app of a worker class is up at once and wrk
drives each in turn for ``seconds / ROUNDS``: on a machine shared with
other jobs, the ratio of each round compares runs seconds apart.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import bench_core  # noqa: E402
from wsgi_driver import MINMAX_VALUES  # noqa: E402
from wsgi_driver import soap_envelope  # noqa: E402

bench_core.VENV_REQUIREMENTS["ladon107_gunicorn"] = ("ladon==1.0.7", "gunicorn")

SOAP_ACTION = '"http://tempuri.org/BenchService/{}"'
SCENARIOS = ("jsonwsp_add", "soap_add", "soap_minmax100", "task_cycles")


@dataclass
class Result:
    rate: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    errors: int = 0
    requests: int = 0
    note: str = ""


@dataclass
class Impl:
    name: str
    python: str
    entry: str
    results: dict[str, Result] = field(default_factory=dict)
    rss_before: float = 0.0
    rss_after: float = 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def write_entries(tmp: Path) -> dict[str, str]:
    """The WSGI modules gunicorn loads, one per implementation."""
    common = f"import sys\nsys.path.insert(0, {str(BENCH)!r})\nREPO = {str(REPO)!r}\n"
    (tmp / "entry_ladon.py").write_text(
        common
        + "from wsgi_driver import build_ladon\n"
        + "application = build_ladon(REPO, ('benchsvc', 'benchtasks'))[0](None)\n"
    )
    (tmp / "entry_ladon107.py").write_text(
        common
        + "from wsgi_driver import build_ladon107\n"
        + "application = build_ladon107(REPO, ('benchsvc', 'benchtasks'))[0](None)\n"
    )
    return {"ladon": "entry_ladon:application", "ladon107": "entry_ladon107:application"}


class Server:
    """gunicorn serving one implementation on a free 127.0.0.1 port."""

    def __init__(self, impl: Impl, tmp: Path, workers_args: list[str]) -> None:
        self.port = free_port()
        env = dict(os.environ)
        if impl.name == "ladon107":
            env.pop("PYTHONPATH", None)
        self.log = open(tmp / f"gunicorn-{impl.name}.log", "ab")
        self.proc = subprocess.Popen(
            [
                impl.python,
                "-m",
                "gunicorn",
                *workers_args,
                "-b",
                f"127.0.0.1:{self.port}",
                "--chdir",
                str(tmp),
                "--log-level",
                "warning",
                "--no-control-socket",  # gunicorn 27 shares ~/.gunicorn/gunicorn.ctl otherwise
                impl.entry,
            ],
            stdout=self.log,
            stderr=self.log,
            env=env,
            cwd=tmp,  # not the repository: Ladon 1.0.7 must not import this checkout
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.close()
                tail = Path(self.log.name).read_text(errors="replace")[-2000:]
                raise RuntimeError(f"gunicorn for {impl.name} exited:\n{tail}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.1)
        time.sleep(1.0)  # let every worker boot

    def rss_mib(self) -> float:
        """Resident memory of gunicorn's master and workers."""
        total = 0
        for pid in [self.proc.pid, *_children(self.proc.pid)]:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total / 1024

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        except ProcessLookupError:
            pass
        self.log.close()


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


# -- requests --------------------------------------------------------------------------


def calls() -> dict[str, tuple[str, bytes, dict[str, str], str]]:
    """scenario -> (path, body, headers, text the answer must hold)."""
    items = "".join(f"<tns:item>{v}</tns:item>" for v in MINMAX_VALUES)
    xml = {"Content-Type": "text/xml; charset=utf-8"}
    return {
        "jsonwsp_add": (
            "/BenchService/jsonwsp",
            json.dumps({"methodname": "add", "args": {"a": 1, "b": 2}}).encode(),
            {"Content-Type": "application/json"},
            '"result": 3',
        ),
        "soap_add": (
            "/BenchService/soap",
            soap_envelope("<tns:add><tns:a>1</tns:a><tns:b>2</tns:b></tns:add>"),
            {**xml, "SOAPAction": SOAP_ACTION.format("add")},
            ">3<",
        ),
        "soap_minmax100": (
            "/BenchService/soap",
            soap_envelope(f"<tns:minmax><tns:values>{items}</tns:values></tns:minmax>"),
            {**xml, "SOAPAction": SOAP_ACTION.format("minmax")},
            f">{max(MINMAX_VALUES)}<",
        ),
    }


def check(port: int, path: str, body: bytes, headers: dict[str, str], expect: str) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", path, body, headers)
    resp = conn.getresponse()
    text = resp.read().decode("utf-8", "replace")
    conn.close()
    if resp.status != 200 or expect not in text:
        raise RuntimeError(f"unexpected answer on {path}: {resp.status} {text[:300]}")


def run_wrk(
    port: int, path: str, body: bytes, headers: dict[str, str], seconds: float, tmp: Path
) -> Result:
    script = tmp / "post.lua"
    lua_headers = "".join(f'wrk.headers["{k}"] = {json.dumps(v)}\n' for k, v in headers.items())
    script.write_text(
        f'wrk.method = "POST"\nwrk.body = {json.dumps(body.decode())}\n' + lua_headers
    )
    proc = subprocess.run(
        [
            "wrk",
            "-t2",
            "-c16",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out = proc.stdout
    res = Result()
    res.rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    res.requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    res.p50_ms = _ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1))  # type: ignore[union-attr]
    res.p99_ms = _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res.errors = (int(non2xx.group(1)) if non2xx else 0) + (
        sum(int(g) for g in sock.groups()) if sock else 0
    )
    return res


def _ms(text: str) -> float:
    value = float(re.match(r"[\d.]+", text).group(0))  # type: ignore[union-attr]
    unit = text[len(re.match(r"[\d.]+", text).group(0)) :]  # type: ignore[union-attr]
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}.get(unit, 1.0)


def task_cycles(port: int, seconds: float, threads: int = 8) -> Result:
    """Clients running start -> poll progress -> result as fast as they can."""
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def post(conn: http.client.HTTPConnection, method: str, args: dict[str, Any]) -> Any:
        body = json.dumps({"methodname": method, "args": args})
        conn.request("POST", "/BenchTasks/jsonwsp", body, {"Content-Type": "application/json"})
        return json.loads(conn.getresponse().read())

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = 1
        while time.monotonic() < stop:
            value = n * 1_000_000 + i
            i += 1
            started = time.perf_counter()
            try:
                reply = post(conn, "trivial", {"n": value})
                task_id = reply["result"]["task_id"]
                while True:
                    reply = post(conn, "trivial_progress", {"task_id": task_id})
                    if (
                        reply.get("type") == "jsonwsp/response"
                        and reply["result"]["progress"] >= 1.0
                    ):
                        break
                    time.sleep(0.001)
                reply = post(conn, "trivial_result", {"task_id": task_id})
                if reply.get("result") != value:
                    raise ValueError(f"wrong result {str(reply)[:200]}")
            except Exception as exc:  # counted and reported, the run goes on
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            with lock:
                latencies.append(time.perf_counter() - started)
        conn.close()

    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    began = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - began
    res = Result(requests=len(latencies), errors=len(errors))
    res.rate = len(latencies) / elapsed
    if latencies:
        q = statistics.quantiles(latencies, n=100)
        res.p50_ms, res.p99_ms = q[49] * 1000, q[98] * 1000
    if errors:
        res.note = errors[0][:120]
    return res


# -- the run ---------------------------------------------------------------------------


def run(impl: Impl, tmp: Path, seconds: float, scenarios: list[str]) -> None:
    wanted_calls = [s for s in scenarios if s != "task_cycles"]
    if wanted_calls:
        server = Server(impl, tmp, ["-w", "2"])
        try:
            impl.rss_before = server.rss_mib()
            for name in wanted_calls:
                path, body, headers, expect = calls()[name]
                check(server.port, path, body, headers, expect)
                impl.results[name] = run_wrk(server.port, path, body, headers, seconds, tmp)
                print(f"  {impl.name:9} {name:15} {impl.results[name].rate:10,.0f} /s", flush=True)
            impl.rss_after = server.rss_mib()
        finally:
            server.stop()
    if "task_cycles" in scenarios:
        server = Server(impl, tmp, ["-w", "1", "-k", "gthread", "--threads", "8"])
        try:
            impl.results["task_cycles"] = task_cycles(server.port, seconds)
            r = impl.results["task_cycles"]
            print(f"  {impl.name:9} {'task_cycles':15} {r.rate:10,.0f} /s", flush=True)
        finally:
            server.stop()


def report(impls: list[Impl], scenarios: list[str]) -> None:
    print("\nrequests/s (wrk: 2 threads, 16 connections; task cycles: 8 client threads)")
    print(f"{'scenario':16} {'impl':9} {'rate/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name in scenarios:
        for impl in impls:
            r = impl.results.get(name)
            if r is None:
                continue
            print(
                f"{name:16} {impl.name:9} {r.rate:10,.0f} {r.p50_ms:8.2f} {r.p99_ms:8.2f} "
                f"{r.errors:7d} {r.note}"
            )
        if len(impls) == 2 and all(name in i.results for i in impls):
            a, b = impls[0].results[name], impls[1].results[name]
            print(f"{'':16} {'ratio':9} {a.rate / b.rate if b.rate else float('nan'):9.2f}x")
    print("\nmemory (MiB, gunicorn master + 2 workers, before and after the wrk runs)")
    for impl in impls:
        print(f"  {impl.name:9} {impl.rss_before:8.1f} -> {impl.rss_after:8.1f}")


# -- Ladon against a bare app (issue 17) ---------------------------------------------------

#: The set-ups compared, as application options (``ops`` also configures
#: the OpenTelemetry SDK and prometheus-client's multi-process mode).
SETUPS: dict[str, dict[str, Any]] = {
    "off": {"metrics": False, "tracing": False, "request_ids": False, "compress_min_size": None},
    "plain": {"metrics": False, "tracing": False},
    "ops": {"metrics": True, "tracing": True},
}
WORKER_CLASSES = {
    "sync": ["-w", "2"],
    "gthread": ["-w", "2", "-k", "gthread", "--threads", "8"],
}


def write_vs_bare_entries(tmp: Path) -> dict[str, str]:
    """gunicorn modules: the bare app, and Ladon in each set-up."""
    path, body, _headers, _expect = calls()["jsonwsp_add"]
    # the bare app answers exactly what Ladon answers
    sys.path.insert(0, str(REPO))
    from wsgi_driver import build_ladon

    app_for, _info = build_ladon(str(REPO), ("benchsvc",), **SETUPS["off"])
    answer = b""

    def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        return None

    import io

    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
    }
    answer = b"".join(app_for("jsonwsp_add")(environ, start))
    (tmp / "entry_bare.py").write_text(
        f"BODY = {answer!r}\n"
        "HEADERS = [('Content-Type', 'application/json'), ('Content-Length', str(len(BODY)))]\n"
        "def application(environ, start_response):\n"
        "    environ['wsgi.input'].read(int(environ.get('CONTENT_LENGTH') or 0))\n"
        "    start_response('200 OK', HEADERS)\n"
        "    return [BODY]\n"
    )
    common = f"import sys\nsys.path.insert(0, {str(BENCH)!r})\nREPO = {str(REPO)!r}\n"
    sdk = (
        "from opentelemetry import trace\n"
        "from opentelemetry.sdk.trace import TracerProvider\n"
        "from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, "
        "SpanExportResult\n"
        "class Drop(SpanExporter):\n"
        "    def export(self, spans):\n"
        "        return SpanExportResult.SUCCESS\n"
        "provider = TracerProvider()\n"
        "provider.add_span_processor(BatchSpanProcessor(Drop()))\n"
        "trace.set_tracer_provider(provider)\n"
    )
    entries = {"bare": "entry_bare:application"}
    for name, options in SETUPS.items():
        (tmp / f"entry_{name}.py").write_text(
            common
            + (sdk if name == "ops" else "")
            + "from wsgi_driver import build_ladon\n"
            + f"application = build_ladon(REPO, ('benchsvc',), **{options!r})[0](None)\n"
        )
        entries[name] = f"entry_{name}:application"
    return entries


def booted(server: Server, workers: int, timeout: float = 60.0) -> None:
    """Wait until every worker has loaded the application: the master
    listens before its workers boot, so connections made earlier all go to
    the first worker ready (and, kept alive, stay there for the run)."""
    deadline = time.monotonic() + timeout
    last: list[float] = []
    while time.monotonic() < deadline:
        pids = _children(server.proc.pid)
        now = cpu_seconds(pids)
        if len(pids) == workers and len(last) == workers and now == last:
            return  # every worker there, and idle: booted
        last = now
        time.sleep(0.5)
    raise RuntimeError(f"gunicorn's {workers} workers did not boot within {timeout} s")


def cpu_seconds(pids: list[int]) -> list[float]:
    """User + system CPU seconds of each process."""
    tick = os.sysconf("SC_CLK_TCK")
    found = []
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            found.append((int(fields[11]) + int(fields[12])) / tick)
        except OSError:
            found.append(0.0)
    return found


@dataclass
class VsBare:
    workers: str
    app: str
    result: Result
    rss_before: float
    rss_after: float
    cpu_shares: list[float]


def run_vs_bare(seconds: float, classes: list[str], setups: list[str]) -> list[VsBare]:
    rows: list[VsBare] = []
    path, body, headers, expect = calls()["jsonwsp_add"]
    with tempfile.TemporaryDirectory(prefix="ladon-load-") as tmpdir:
        tmp = Path(tmpdir)
        entries = write_vs_bare_entries(tmp)
        for klass in classes:
            for name in ["bare", *setups]:
                impl = Impl(name, sys.executable, entries[name])
                metrics_dir = tmp / f"prometheus-{klass}-{name}"
                metrics_dir.mkdir()
                if name == "ops":
                    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
                try:
                    server = Server(impl, tmp, WORKER_CLASSES[klass])
                finally:
                    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
                try:
                    booted(server, int(WORKER_CLASSES[klass][1]))
                    check(server.port, path, body, headers, expect)
                    # warm up every worker, then measure
                    run_wrk(server.port, path, body, headers, 2, tmp)
                    workers = _children(server.proc.pid)
                    rss_before = server.rss_mib()
                    cpu_before = cpu_seconds(workers)
                    result = run_wrk(server.port, path, body, headers, seconds, tmp)
                    cpu_after = cpu_seconds(workers)
                    rss_after = server.rss_mib()
                finally:
                    server.stop()
                used = [a - b for a, b in zip(cpu_after, cpu_before, strict=True)]
                total = sum(used) or 1.0
                rows.append(
                    VsBare(klass, name, result, rss_before, rss_after, [u / total for u in used])
                )
                print(
                    f"  {klass:8} {name:6} {result.rate:10,.0f} /s  errors {result.errors}",
                    flush=True,
                )
    return rows


def run_interleaved(
    seconds: float, rounds: int, classes: list[str], setups: list[str]
) -> dict[str, dict[str, list[float]]]:
    """Every app of a worker class served at once, wrk on each in turn for
    ``seconds / rounds``, ``rounds`` times: on a machine shared with other
    jobs, each round's ratio to the bare app compares runs a few seconds
    apart. Returns class -> app -> the rates of the rounds."""
    rates: dict[str, dict[str, list[float]]] = {}
    path, body, headers, expect = calls()["jsonwsp_add"]
    with tempfile.TemporaryDirectory(prefix="ladon-load-") as tmpdir:
        tmp = Path(tmpdir)
        entries = write_vs_bare_entries(tmp)
        for klass in classes:
            servers: dict[str, Server] = {}
            try:
                for name in ["bare", *setups]:
                    if name == "ops":
                        folder = tmp / f"prometheus-{klass}"
                        folder.mkdir()
                        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
                    try:
                        servers[name] = Server(
                            Impl(name, sys.executable, entries[name]), tmp, WORKER_CLASSES[klass]
                        )
                    finally:
                        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
                    booted(servers[name], int(WORKER_CLASSES[klass][1]))
                    check(servers[name].port, path, body, headers, expect)
                    run_wrk(servers[name].port, path, body, headers, 2, tmp)
                found: dict[str, list[float]] = {name: [] for name in servers}
                for _ in range(rounds):
                    for name, server in servers.items():
                        result = run_wrk(server.port, path, body, headers, seconds / rounds, tmp)
                        if result.errors:
                            raise RuntimeError(f"{klass} {name}: {result.errors} errors")
                        found[name].append(result.rate)
                rates[klass] = found
            finally:
                for server in servers.values():
                    server.stop()
    return rates


def report_interleaved(
    rates: dict[str, dict[str, list[float]]], seconds: float, rounds: int
) -> None:
    print(
        f"\ninterleaved: {rounds} rounds of {seconds / rounds:g} s per app, wrk -t2 -c16, "
        "jsonwsp_add; median req/s and the median of the rounds' ratios to the bare app"
    )
    print(
        f"{'workers':8} {'app':6} {'median/s':>9} {'of bare':>8} {'min ratio':>9} {'max ratio':>9}"
    )
    for klass, found in rates.items():
        for name, values in found.items():
            ratios = [v / b for v, b in zip(values, found["bare"], strict=True)]
            print(
                f"{klass:8} {name:6} {statistics.median(values):9,.0f} "
                f"{statistics.median(ratios):8.0%} {min(ratios):9.0%} {max(ratios):9.0%}"
            )


def report_vs_bare(rows: list[VsBare], seconds: float) -> None:
    print(
        f"\nLadon vs a bare WSGI app, gunicorn -w 2, wrk -t2 -c16 -d{seconds:g}s, "
        "jsonwsp_add (POST, keep-alive); 'of bare' against the bare app of the same workers"
    )
    print(
        f"{'workers':8} {'app':6} {'req/s':>9} {'of bare':>8} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'errors':>6} {'RSS MiB before -> after':>24}  CPU share of the workers"
    )
    bare = {r.workers: r.result.rate for r in rows if r.app == "bare"}
    for r in rows:
        ratio = r.result.rate / bare[r.workers] if bare.get(r.workers) else float("nan")
        shares = " / ".join(f"{s:.0%}" for s in r.cpu_shares)
        print(
            f"{r.workers:8} {r.app:6} {r.result.rate:9,.0f} {ratio:8.0%} {r.result.p50_ms:7.2f} "
            f"{r.result.p99_ms:7.2f} {r.result.errors:6d} {r.rss_before:10.1f} -> "
            f"{r.rss_after:8.1f}     {shares}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--vs-bare", action="store_true", help="Ladon against a bare app")
    parser.add_argument(
        "--workers", action="append", choices=sorted(WORKER_CLASSES), help="with --vs-bare"
    )
    parser.add_argument("--setup", action="append", choices=sorted(SETUPS), help="with --vs-bare")
    parser.add_argument(
        "--interleave",
        type=int,
        default=0,
        metavar="ROUNDS",
        help="with --vs-bare: all apps up at once, wrk on each in turn, ROUNDS times",
    )
    parser.add_argument("--scenario", action="append", choices=SCENARIOS)
    parser.add_argument("--impl", action="append", choices=["ladon", "ladon107"])
    parser.add_argument("--venv-dir", type=Path, default=bench_core.default_venv_dir())
    parser.add_argument("--legacy-python", default=None)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install -y wrk", file=sys.stderr)
        return 2
    if args.vs_bare and args.interleave:
        seconds = args.seconds or 60.0
        rates = run_interleaved(
            seconds,
            args.interleave,
            args.workers or list(WORKER_CLASSES),
            args.setup or list(SETUPS),
        )
        report_interleaved(rates, seconds, args.interleave)
        return 0
    if args.vs_bare:
        seconds = args.seconds or 60.0
        rows = run_vs_bare(
            seconds, args.workers or list(WORKER_CLASSES), args.setup or list(SETUPS)
        )
        report_vs_bare(rows, seconds)
        return 1 if any(r.result.errors for r in rows) else 0
    args.seconds = args.seconds or 10.0
    scenarios = args.scenario or list(SCENARIOS)
    names = args.impl or ["ladon", "ladon107"]
    with tempfile.TemporaryDirectory(prefix="ladon-load-") as tmpdir:
        tmp = Path(tmpdir)
        entries = write_entries(tmp)
        impls = []
        for name in names:
            if name == "ladon":
                python = sys.executable
            else:
                python = str(
                    bench_core.ensure_venv(
                        "ladon107_gunicorn", args.venv_dir, True, args.legacy_python
                    )
                )
            impls.append(Impl(name, python, entries[name]))
        for impl in impls:
            run(impl, tmp, args.seconds, scenarios)
        report(impls, scenarios)
        failed = [i.name for i in impls for r in i.results.values() if r.errors]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
