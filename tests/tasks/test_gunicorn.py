"""A real ``gunicorn -w 4`` on 127.0.0.1 serving the test application on
the sqlite backend: tasks started on one worker are followed, fetched and
cancelled through others, and a worker killed mid-task leaves its task
failed ("worker lost"), not running forever."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from .backend_support import SERVICES_DIR
from .backend_support import Client
from .backend_support import Fault
from .backend_support import Gates
from .backend_support import child_env
from .backend_support import free_port
from .backend_support import over_http
from .backend_support import pid_alive
from .backend_support import stop_process
from .backend_support import wait_until

WORKERS = 4
LEASE = 1.0

pytestmark = pytest.mark.e2e


@dataclass
class Gunicorn:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    db: Path

    def client(self, service: str = "Work") -> Client:
        return Client(over_http(self.port), service)

    def workers(self) -> set[int]:
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return {int(pid) for pid in path.read_text().split()}

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gunicorn]:
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        pytest.fail("these tests need gunicorn: pip install -e '.[test]' (or pip install gunicorn)")
    tmp = tmp_path_factory.mktemp("gunicorn")
    db = tmp / "tasks.db"
    url = f"sqlite://{db}?lease={LEASE}&heartbeat=0.2&sync_interval=0.02&max_workers=8"
    port = free_port()
    log = tmp / "gunicorn.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(WORKERS),
                "--bind",
                f"127.0.0.1:{port}",
                "--graceful-timeout",
                "3",
                "backend_app:app",
            ],
            cwd=str(SERVICES_DIR),
            env=child_env(LADON_TASKS=url),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Gunicorn(proc, port, log, db)
    try:
        hello = server.client("Hello")

        def up() -> bool:
            assert proc.poll() is None, server.output()
            try:
                hello("pid")
            except OSError:
                return False
            return len(server.workers()) == WORKERS

        wait_until(up, 20.0, "gunicorn serving with 4 workers")
        yield server
    finally:
        stop_process(proc)


def test_hundred_tasks_followed_through_fresh_connections(gunicorn: Gunicorn) -> None:
    work = gunicorn.client()
    unknown: list[str] = []

    def follow(n: int) -> tuple[int, list[float]]:
        task_id = work.start("nap", n=n, seconds=0.05)
        seen: list[float] = []
        deadline = time.monotonic() + 20
        while True:
            try:
                status = work.progress("nap", task_id)
            except Fault as fault:
                unknown.append(fault.string)
                raise
            seen.append(status["progress"])
            if status["state"] == "succeeded":
                break
            assert status["state"] in ("pending", "running"), status
            assert time.monotonic() < deadline, "task did not finish"
            time.sleep(0.01)
        return work.result("nap", task_id), seen

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(follow, range(100)))
    assert unknown == []
    for n, (result, seen) in enumerate(outcomes):
        assert result == n
        assert seen == sorted(seen) and seen[-1] == 1.0
    # concurrent calls land on several workers: the tasks ran in several
    # processes, and were followed from others
    hello = gunicorn.client("Hello")
    with ThreadPoolExecutor(max_workers=8) as pool:
        runners = set(pool.map(lambda _: work.run("whose"), range(48)))
        answering = set(pool.map(lambda _: hello("pid"), range(48)))
    assert len(runners) >= 2, runners
    assert len(answering) >= 2, answering


def test_cancel_from_another_worker_reaches_the_running_task(
    gunicorn: Gunicorn, tmp_path: Path
) -> None:
    gates = Gates(tmp_path)
    work = gunicorn.client()
    try:
        task_id = work.start("cooperative", gates=gates.path, name="c")
        gates.wait_started("c")
        for _ in range(8):  # fresh connections: most land on other workers
            work.progress("cooperative", task_id)
        work.cancel("cooperative", task_id)
        assert work.wait_state("cooperative", task_id)["state"] == "cancelled"
    finally:
        gates.release_all()


def test_worker_killed_mid_task_leaves_it_failed_worker_lost(
    gunicorn: Gunicorn, tmp_path: Path
) -> None:
    gates = Gates(tmp_path)
    work = gunicorn.client()
    try:
        task_id = work.start("hold", gates=gates.path, name="victim", text="never")
        pid = gates.wait_started("victim")
        assert pid in gunicorn.workers()
        assert work.progress("hold", task_id)["state"] == "running"
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        wait_until(lambda: not pid_alive(pid), 5.0, "the worker died")
        status = work.wait_state("hold", task_id, timeout=LEASE + 5)
        assert time.monotonic() - killed < LEASE + 3
        assert (status["state"], status["progress"]) == ("failed", 1.0)
        assert status["message"] == "worker lost"  # after a SIGKILL, it says why
        fault = work.fault("hold_result", task_id=task_id)
        assert fault.code == "server" and fault.string == "The task failed: worker lost"
        # gunicorn replaced the worker; the service goes on
        wait_until(lambda: len(gunicorn.workers()) == 4, 15.0, "a new worker")
        assert work.run("square", n=7) == 49
    finally:
        gates.release_all()


def test_worker_killed_mid_task_with_retries_runs_it_again_in_another_worker(
    gunicorn: Gunicorn, tmp_path: Path
) -> None:
    gates = Gates(tmp_path)
    work = gunicorn.client("Retrying")
    try:
        # survivor: tasktype={"retries": 1, "retry_delay": 0}; attempt 1 holds
        task_id = work.start("survivor", gates=gates.path, name="v")
        pid = gates.wait_started("v")
        assert pid in gunicorn.workers()
        os.kill(pid, signal.SIGKILL)
        status = work.wait_state("survivor", task_id, timeout=LEASE + 10)
        assert (status["state"], status["message"]) == ("succeeded", "attempt 2 of 2")
        assert work.result("survivor", task_id) == "attempt 2"
        (first, _, _), (second, rerun_pid, _) = gates.runs("v")
        assert (first, second) == (1, 2)
        assert rerun_pid != pid and rerun_pid in gunicorn.workers()  # another process
    finally:
        gates.release_all()
