"""Idempotent starts and ``_wait`` under real multi-process servers on
127.0.0.1: 50 concurrent duplicate starts over fresh connections to
``gunicorn -w 4`` on SQLite, and to two gunicorn servers (two hosts' worth
of processes) on one Redis with RQ workers, run the method once; calls
waiting in several gunicorn workers are woken by the task's end in another.

The servers of the duplicates use gunicorn's sync workers (one connection
at a time each, so concurrent calls spread over them); the server of the
waits uses the ``gthread`` worker class, as docs/tasks.rst advises for
``_wait``. Their access logs name the worker (pid) that answered each call.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from production_tasks import runs

from .backend_support import SERVICES_DIR
from .backend_support import Gates
from .backend_support import RedisServer
from .backend_support import Worker
from .backend_support import child_env
from .backend_support import free_port
from .backend_support import stop_process
from .backend_support import wait_until

pytestmark = pytest.mark.e2e

DUPLICATES = 50
#: The access log line: ``<worker pid> "<request line>" <status>`` (gunicorn
#: writes the pid as ``<1234>``).
ACCESS_FORMAT = '%(p)s "%(r)s" %(s)s'


@dataclass
class Gunicorn:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def call(self, method: str, headers: dict[str, str] | None = None, **args: Any) -> Any:
        """One JSON-WSP call of the Ops service over a fresh connection."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            body = json.dumps({"methodname": method, "args": args}).encode()
            conn.request(
                "POST",
                "/Ops/jsonwsp",
                body,
                {"Content-Type": "application/json", "Connection": "close", **(headers or {})},
            )
            answer = conn.getresponse()
            data = json.loads(answer.read())
        finally:
            conn.close()
        assert data["type"] == "jsonwsp/response", data
        return data["result"]

    def answering_pids(self) -> set[str]:
        """The pids of the workers whose access log shows calls of the Ops
        JSON-WSP endpoint."""
        return {
            line.split()[0].strip("<>")
            for line in self.output().splitlines()
            if '"POST /Ops/jsonwsp' in line and line.startswith("<")
        }


def start_gunicorn(tmp: Path, name: str, tasks: str, workers: int, threads: int = 1) -> Gunicorn:
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        pytest.fail("these tests need gunicorn: pip install -e '.[test]' (or pip install gunicorn)")
    port = free_port()
    log = tmp / f"{name}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(workers),
                "--worker-class",
                "gthread" if threads > 1 else "sync",
                "--threads",
                str(threads),
                "--bind",
                f"127.0.0.1:{port}",
                "--graceful-timeout",
                "3",
                "--access-logfile",
                "-",
                "--access-logformat",
                ACCESS_FORMAT,
                "backend_app:app",
            ],
            cwd=str(SERVICES_DIR),
            env=child_env(LADON_TASKS=tasks),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Gunicorn(proc, port, log)

    def up() -> bool:
        assert proc.poll() is None, server.output()[-2000:]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/")
            conn.getresponse().read()
        except OSError:
            return False
        finally:
            conn.close()
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        return len(children) == workers

    wait_until(up, 30.0, f"gunicorn {name} serving with {workers} workers")
    return server


@pytest.fixture(scope="module")
def sqlite_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gunicorn, Gunicorn]]:
    """``gunicorn -w 4`` (sync workers) and ``gunicorn -w 2 --threads 16``
    (gthread) on one SQLite file."""
    tmp = tmp_path_factory.mktemp("gunicorn-sqlite")
    url = f"sqlite://{tmp / 'tasks.db'}?lease=2&heartbeat=0.2&sync_interval=0.02&max_workers=8"
    servers: list[Gunicorn] = []
    try:
        servers.append(start_gunicorn(tmp, "sync", url, 4))
        servers.append(start_gunicorn(tmp, "gthread", url, 2, threads=16))
        yield servers[0], servers[1]
    finally:
        for server in servers:
            stop_process(server.proc)


@pytest.fixture(scope="module")
def redis_servers(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Gunicorn]]:
    """Two gunicorn servers (two workers each: two hosts' worth of web
    processes) and two ``ladon worker`` processes on one Redis."""
    tmp = tmp_path_factory.mktemp("gunicorn-redis")
    options = {"queue": "gidem", "prefix": "gidem:", "sync_interval": 0.02}
    url = redis_server.url(**options, app="backend_app:app", lease=2)
    workers = [Worker(redis_server.url(**options), tmp / f"worker-{i}.log") for i in range(2)]
    servers: list[Gunicorn] = []
    try:
        servers = [start_gunicorn(tmp, f"web-{i}", url, 2) for i in range(2)]
        yield servers
    finally:
        for server in servers:
            stop_process(server.proc)
        for worker in workers:
            worker.stop()


def duplicates(servers: list[Gunicorn], key: str, **args: Any) -> list[str]:
    """``DUPLICATES`` starts at once (a barrier), each over a fresh
    connection, spread over ``servers``, all with one Idempotency-Key."""
    barrier = threading.Barrier(DUPLICATES)

    def start(i: int) -> str:
        barrier.wait(10)
        server = servers[i % len(servers)]
        task_id: str = server.call("count", {"Idempotency-Key": key}, **args)["task_id"]
        return task_id

    with ThreadPoolExecutor(max_workers=DUPLICATES) as pool:
        return list(pool.map(start, range(DUPLICATES)))


def test_fifty_concurrent_duplicates_run_once_on_gunicorn_sqlite(
    sqlite_servers: tuple[Gunicorn, Gunicorn], tmp_path: Path
) -> None:
    sqlite_server = sqlite_servers[0]
    ledger = str(tmp_path / "ledger.txt")
    ids = duplicates([sqlite_server], "sqlite-burst", ledger=ledger, label="once")
    assert len(set(ids)) == 1, set(ids)
    status = sqlite_server.call("count_wait", task_id=ids[0], timeout=10)
    assert status["state"] == "succeeded"
    time.sleep(0.3)  # a second run, had there been one, would have written by now
    assert len(runs(ledger)) == 1, runs(ledger)
    # the calls were answered by several worker processes
    wait_until(lambda: len(sqlite_server.answering_pids()) >= 2, 5, "several workers")


def test_fifty_concurrent_duplicates_run_once_on_two_servers_and_redis(
    redis_servers: list[Gunicorn], tmp_path: Path
) -> None:
    ledger = str(tmp_path / "ledger.txt")
    ids = duplicates(redis_servers, "redis-burst", ledger=ledger, label="once")
    assert len(set(ids)) == 1, set(ids)
    status = redis_servers[1].call("count_wait", task_id=ids[0], timeout=10)
    assert status["state"] == "succeeded"
    time.sleep(0.3)
    assert len(runs(ledger)) == 1, runs(ledger)
    for server in redis_servers:
        assert server.answering_pids(), "each server answered some of the starts"


def test_waits_in_several_workers_wake_when_the_task_ends_in_another(
    sqlite_servers: tuple[Gunicorn, Gunicorn], tmp_path: Path
) -> None:
    """The task runs in a worker of one server; the calls waiting for it
    are in the gthread workers of the other."""
    starter, sqlite_server = sqlite_servers
    gates = Gates(tmp_path)
    task_id = starter.call("ends_at", gates=gates.path, gate="g")["task_id"]
    gates.wait_started("g")
    answers: list[tuple[dict[str, Any], float]] = []

    def wait(_: int) -> None:
        status = sqlite_server.call("ends_at_wait", task_id=task_id, timeout=20)
        answers.append((status, time.time()))

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(wait, i) for i in range(8)]
        time.sleep(0.5)  # all of them wait, in several workers
        assert not answers
        gates.release("g")
        for future in futures:
            future.result(30)
    ended = sqlite_server.call("ends_at_result", task_id=task_id)
    assert {status["state"] for status, _ in answers} == {"succeeded"}
    latest = max(at for _, at in answers) - ended
    assert latest < 0.5, f"the last wait answered {latest:.3f} s after the end"
