"""A real gunicorn on the sqlite backend, sent HUP and SIGTERM while tasks
run: by default a stopped worker fails its running tasks at once ("worker
stopped"); with ``drain_timeout`` they may finish first; a task of a method
with retries is handed back and run again by another process (a new
worker, or whichever process serves the file next)."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import backend_app
import pytest

from ladon.tasks import TaskState

from .backend_support import Client
from .backend_support import Gates
from .backend_support import GunicornServer
from .backend_support import in_process
from .backend_support import wait_until

pytestmark = pytest.mark.e2e

DRAIN = 3.0


def _url(db: Path, **extra: object) -> str:
    options = "".join(f"&{k}={v}" for k, v in extra.items())
    return f"sqlite://{db}?lease=1&heartbeat=0.2&sync_interval=0.02&max_workers=4{options}"


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GunicornServer]:
    tmp = tmp_path_factory.mktemp("plain")
    server = GunicornServer(tmp, _url(tmp / "tasks.db"), workers=2)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def draining(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GunicornServer]:
    tmp = tmp_path_factory.mktemp("draining")
    server = GunicornServer(tmp, _url(tmp / "tasks.db", drain_timeout=DRAIN), workers=2)
    yield server
    server.stop()


def _reload(server: GunicornServer, old: set[int]) -> None:
    """HUP: new workers start, the old ones are stopped gracefully."""
    server.signal(signal.SIGHUP)
    wait_until(
        lambda: len(server.workers()) == server.count and not server.workers() & old,
        20.0,
        "new workers in place of the old ones",
    )
    server.wait_serving()


def test_hup_fails_a_running_task_without_retries_at_once_by_default(
    plain: GunicornServer, gates: Gates
) -> None:
    work = plain.client("Retrying")
    task_id = work.start("mortal", gates=gates.path, name="m")
    gates.wait_started("m")
    plain.signal(signal.SIGHUP)
    status = work.wait_state("mortal", task_id, timeout=10)
    assert (status["state"], status["message"]) == ("failed", "worker stopped")
    wait_until(lambda: len(plain.workers()) == 2, 20.0, "two workers again")
    plain.wait_serving()


def test_hup_runs_a_task_with_retries_again_in_a_new_worker(
    plain: GunicornServer, gates: Gates
) -> None:
    work = plain.client("Retrying")
    old = plain.workers()
    task_id = work.start("survivor", gates=gates.path, name="v")
    pid = gates.wait_started("v")
    _reload(plain, old)
    status = work.wait_state("survivor", task_id, timeout=10)
    assert (status["state"], status["message"]) == ("succeeded", "attempt 2 of 2")
    (_, first_pid, _), (attempt, rerun_pid, _) = gates.runs("v")
    assert first_pid == pid and attempt == 2 and rerun_pid in plain.workers()


def test_with_a_drain_timeout_hup_lets_a_running_task_finish(
    draining: GunicornServer, gates: Gates
) -> None:
    work = draining.client("Retrying")
    task_id = work.start("mortal", gates=gates.path, name="m")
    pid = gates.wait_started("m")
    draining.signal(signal.SIGHUP)
    time.sleep(0.5)  # the old worker stops taking calls and waits for its task
    assert work.progress("mortal", task_id)["state"] == "running"
    gates.release("m")
    status = work.wait_state("mortal", task_id, timeout=10)
    assert (status["state"], status["progress"]) == ("succeeded", 1.0)
    assert work.result("mortal", task_id) == "done"
    wait_until(lambda: pid not in draining.workers(), 10.0, "the old worker gone")
    draining.wait_serving()


def test_tasks_still_running_when_the_drain_timeout_ends_are_given_up(
    draining: GunicornServer, gates: Gates
) -> None:
    work = draining.client("Retrying")
    old = draining.workers()
    mortal = work.start("mortal", gates=gates.path, name="m")
    survivor = work.start("survivor", gates=gates.path, name="v")
    gates.wait_started("m")
    gates.wait_started("v")
    stopped = time.monotonic()
    _reload(draining, old)
    status = work.wait_state("mortal", mortal, timeout=DRAIN + 10)
    assert (status["state"], status["message"]) == ("failed", "worker stopped")
    assert time.monotonic() - stopped >= DRAIN - 0.5  # it was given its drain time
    status = work.wait_state("survivor", survivor, timeout=10)
    assert (status["state"], status["message"]) == ("succeeded", "attempt 2 of 2")


def test_sigterm_with_a_drain_timeout_then_the_next_server_runs_what_was_handed_back(
    tmp_path: Path, gates: Gates
) -> None:
    db = tmp_path / "tasks.db"
    url = _url(db, drain_timeout=DRAIN)
    server = GunicornServer(tmp_path, url, workers=1)
    try:
        work = server.client("Retrying")
        finished = work.start("mortal", gates=gates.path, name="m")
        handed_back = work.start("survivor", gates=gates.path, name="v")
        gates.wait_started("m")
        gates.wait_started("v")
        server.signal(signal.SIGTERM)
        time.sleep(0.3)
        gates.release("m")  # ends within the drain time; "v" does not
        server.proc.wait(DRAIN + 10)
    finally:
        server.stop()
    # the server is gone: the next process on the file (here, this one)
    app = backend_app.make_app(url)
    try:
        backend = app.task_backend()
        done = backend.status("Retrying.mortal", finished)
        assert (done.state, done.result) == (TaskState.SUCCEEDED, "done")
        client = Client(in_process(app), "Retrying")
        status = client.wait_state("survivor", handed_back)
        assert (status["state"], status["message"]) == ("succeeded", "attempt 2 of 2")
        assert [a for a, _, _ in gates.runs("v")] == [1, 2]
    finally:
        gates.release_all()
        app.close()
