"""Retries in the stores, with a clock moved by hand: the doubling delays
exactly (thread and sqlite), a task of a lost process taken over by another
process sharing the SQLite file, the hand-back of a process's tasks at exit
(``drain_timeout``), and the SQLite file kept small (incremental vacuum;
an older file migrated).

Two backends on one file stand for two processes (each has its own owner,
connections and ticker); stopping one's ticker is its death. Real processes
(gunicorn, SIGKILL, SIGTERM, HUP) are in ``test_gunicorn.py`` and
``test_gunicorn_drain.py``.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import backend_app
import pytest

from ladon.server.wsgi import LadonWSGIApplication
from ladon.tasks import SQLiteTaskBackend
from ladon.tasks import TaskBackend
from ladon.tasks import ThreadTaskBackend
from ladon.tasks.retries import RetryTimer
from ladon.testing import ManualClock

from .backend_support import Client
from .backend_support import Gates
from .backend_support import in_process
from .backend_support import wait_until


@pytest.fixture
def apps(gates: Gates) -> Iterator[list[LadonWSGIApplication]]:
    made: list[LadonWSGIApplication] = []
    yield made
    gates.release_all()  # held tasks end, or close() would wait for them
    for app in made:
        app.close()


def _app(apps: list[LadonWSGIApplication], backend: TaskBackend) -> Client:
    app = backend_app.make_app(backend)
    apps.append(app)
    return Client(in_process(app), "Retrying")


def _sqlite(db: Path, clock: ManualClock, **options: object) -> SQLiteTaskBackend:
    settings: dict[str, object] = {"lease": 30, "heartbeat": 0.05, "sync_interval": 0.01}
    settings.update(options)
    return SQLiteTaskBackend(db, clock=clock, **settings)  # type: ignore[arg-type]


def _stop_ticker(backend: SQLiteTaskBackend) -> None:
    """As if the backend's process had died: its heartbeats stop."""
    proc = backend._proc
    assert proc is not None
    proc.stop.set()
    proc.wake.set()
    if proc.ticker is not None:
        proc.ticker.join(5)


def test_a_re_run_counts_its_delay_from_when_the_task_was_written_as_waiting() -> None:
    # A client may read "starts in 30 s" (and the clock move) before the
    # backend hands the re-run to its timer: the delay still counts from
    # the write, not from the hand-over.
    clock = ManualClock()
    timer = RetryTimer(clock, tick=60)
    ran: list[str] = []
    written = clock.monotonic()
    clock.advance(29)  # between the write and the hand-over
    timer.schedule(30, lambda: ran.append("late"))
    timer.schedule(30, lambda: ran.append("on time"), since=written)
    clock.advance(1.01)
    timer.run_due()
    assert ran == ["on time"]
    clock.advance(29)
    timer.run_due()
    assert ran == ["on time", "late"]
    timer.stop()


@pytest.mark.parametrize("late", [False, True], ids=["on-time", "handed-over-late"])
@pytest.mark.parametrize("store", ["thread", "sqlite"])
def test_each_re_run_waits_twice_as_long_as_the_one_before(
    store: str,
    late: bool,
    tmp_path: Path,
    gates: Gates,
    apps: list[LadonWSGIApplication],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if late:
        # the backend hands each re-run to its timer only after the client
        # has seen the waiting state and moved the clock: the delay still
        # counts from when the task was written as waiting
        schedule = RetryTimer.schedule

        def handed_over_late(timer: RetryTimer, *args: Any, **kwargs: Any) -> None:
            time.sleep(0.3)
            schedule(timer, *args, **kwargs)

        monkeypatch.setattr(RetryTimer, "schedule", handed_over_late)
    clock = ManualClock()
    backend: TaskBackend
    if store == "thread":
        backend = ThreadTaskBackend(clock=clock)
    else:
        backend = _sqlite(tmp_path / "tasks.db", clock)
    work = _app(apps, backend)
    # sleepy: retries 3, retry_delay 30, raises Retry every time
    task_id = work.start("sleepy", gates=gates.path, name="s")
    for attempt, delay in ((2, 30), (3, 60), (4, 120)):
        ran = attempt - 1
        wait_until(lambda: len(gates.runs("s")) == ran, what=f"attempt {ran}")  # noqa: B023
        status = work.wait_state("sleepy", task_id, ("pending",))
        assert status["message"] == (
            f"attempt {attempt} of 4 starts in {delay} s; attempt {attempt - 1}: come back later"
        )
        clock.advance(delay - 1)
        time.sleep(0.1)
        assert work.progress("sleepy", task_id)["state"] == "pending"
        assert len(gates.runs("s")) == attempt - 1  # not yet
        clock.advance(1.01)
        work.progress("sleepy", task_id)  # the re-run is due: it starts
    status = work.wait_state("sleepy", task_id)
    assert status["state"] == "failed"
    assert status["message"] == "come back later (attempt 4 of 4; no retries left)"
    assert [a for a, _, _ in gates.runs("s")] == [1, 2, 3, 4]


def test_a_task_of_a_lost_process_is_run_again_by_another(
    tmp_path: Path, gates: Gates, apps: list[LadonWSGIApplication]
) -> None:
    clock = ManualClock()
    db = tmp_path / "tasks.db"
    runner = _sqlite(db, clock)
    first, second = _app(apps, runner), _app(apps, _sqlite(db, clock))
    task_id = first.start("survivor", gates=gates.path, name="v")
    gates.wait_started("v")
    assert second.progress("survivor", task_id)["state"] == "running"
    _stop_ticker(runner)  # the first process "dies" with attempt 1 running
    clock.advance(30.1)
    status = second.progress("survivor", task_id)  # its lease is over: taken over
    assert status["state"] in ("pending", "running", "succeeded"), status
    status = second.wait_state("survivor", task_id)
    assert (status["state"], status["message"]) == ("succeeded", "attempt 2 of 2")
    assert second.result("survivor", task_id) == "attempt 2"
    assert [a for a, _, _ in gates.runs("v")] == [1, 2]
    # the lost attempt ends late: nothing changes
    gates.release("v")
    proc = runner._proc
    assert proc is not None
    wait_until(lambda: not len(proc.live), what="the lost attempt ended")
    assert first.result("survivor", task_id) == "attempt 2"


def test_a_lost_task_without_retries_fails_and_never_runs_again(
    tmp_path: Path, gates: Gates, apps: list[LadonWSGIApplication]
) -> None:
    clock = ManualClock()
    db = tmp_path / "tasks.db"
    runner = _sqlite(db, clock)
    first, second = _app(apps, runner), _app(apps, _sqlite(db, clock))
    task_id = first.start("mortal", gates=gates.path, name="m")
    gates.wait_started("m")
    _stop_ticker(runner)
    clock.advance(30.1)
    status = second.progress("mortal", task_id)
    assert (status["state"], status["message"]) == ("failed", "worker lost")
    time.sleep(0.2)
    assert [a for a, _, _ in gates.runs("m")] == [1]


def test_a_task_lost_on_its_last_attempt_fails_saying_so(
    tmp_path: Path, gates: Gates, apps: list[LadonWSGIApplication]
) -> None:
    clock = ManualClock()
    db = tmp_path / "tasks.db"
    backends = [_sqlite(db, clock) for _ in range(3)]
    clients = [_app(apps, b) for b in backends]
    task_id = clients[0].start("holdfast", gates=gates.path, name="h")
    gates.wait_started("h-1")
    _stop_ticker(backends[0])
    clock.advance(30.1)
    # the second process takes it over as attempt 2 (of 2), which holds too
    assert clients[1].progress("holdfast", task_id)["state"] in ("pending", "running")
    gates.wait_started("h-2")
    assert clients[2].progress("holdfast", task_id)["message"] == "attempt 2 of 2"
    _stop_ticker(backends[1])
    clock.advance(30.1)
    status = clients[2].progress("holdfast", task_id)
    assert (status["state"], status["message"]) == (
        "failed",
        "worker lost (attempt 2 of 2; no retries left)",
    )
    time.sleep(0.2)
    assert [a for a, _, _ in gates.runs("h")] == [1, 2]


def test_a_process_that_exits_hands_back_its_tasks_with_retries(
    tmp_path: Path, gates: Gates, apps: list[LadonWSGIApplication]
) -> None:
    clock = ManualClock()
    db = tmp_path / "tasks.db"
    leaving = _sqlite(db, clock)
    first, second = _app(apps, leaving), _app(apps, _sqlite(db, clock))
    kept = first.start("survivor", gates=gates.path, name="v")
    given_up = first.start("mortal", gates=gates.path, name="m")
    gates.wait_started("v")
    gates.wait_started("m")
    leaving._abandon()  # what it does at exit, drain_timeout 0: at once
    status = second.progress("mortal", given_up)
    assert (status["state"], status["message"]) == ("failed", "worker stopped")
    # any other process takes the task with retries over at once, as attempt 2
    status = second.wait_state("survivor", kept)
    assert (status["state"], status["message"]) == ("succeeded", "attempt 2 of 2")
    assert [a for a, _, _ in gates.runs("v")] == [1, 2]


def test_a_process_that_exits_lets_its_running_tasks_end_within_drain_timeout(
    tmp_path: Path, gates: Gates, apps: list[LadonWSGIApplication]
) -> None:
    clock = ManualClock()
    db = tmp_path / "tasks.db"
    leaving = _sqlite(db, clock, drain_timeout=5)
    first, second = _app(apps, leaving), _app(apps, _sqlite(db, clock))
    task_id = first.start("mortal", gates=gates.path, name="m")
    gates.wait_started("m")
    exiting = threading.Thread(target=leaving._abandon)
    exiting.start()
    time.sleep(0.2)
    assert exiting.is_alive()  # it waits for the running task
    assert second.progress("mortal", task_id)["state"] == "running"
    gates.release("m")
    exiting.join(5)
    assert not exiting.is_alive()
    assert second.progress("mortal", task_id)["state"] == "succeeded"
    assert second.result("mortal", task_id) == "done"


def test_the_drain_timeout_bounds_the_wait(
    tmp_path: Path, gates: Gates, apps: list[LadonWSGIApplication]
) -> None:
    clock = ManualClock()
    db = tmp_path / "tasks.db"
    leaving = _sqlite(db, clock, drain_timeout=0.3)
    first, second = _app(apps, leaving), _app(apps, _sqlite(db, clock))
    task_id = first.start("mortal", gates=gates.path, name="m")
    gates.wait_started("m")
    started = time.monotonic()
    leaving._abandon()
    assert 0.3 <= time.monotonic() - started < 3
    status = second.progress("mortal", task_id)
    assert (status["state"], status["message"]) == ("failed", "worker stopped")


def _size(db: Path) -> int:
    return sum(
        os.path.getsize(f"{db}{suffix}")
        for suffix in ("", "-wal")
        if os.path.exists(f"{db}{suffix}")
    )


def test_the_file_gives_back_the_space_of_deleted_records(tmp_path: Path) -> None:
    clock = ManualClock()
    db = tmp_path / "tasks.db"
    backend = SQLiteTaskBackend(db, result_ttl=60, heartbeat=0.05, lease=30, clock=clock)
    try:
        big = "x" * 50_000
        ids = [backend.submit("Svc.big", lambda handle: big) for _ in range(200)]
        wait_until(
            lambda: all(backend.status("Svc.big", i).state.finished for i in ids),
            what="200 tasks ended",
        )
        peak = _size(db)
        assert peak > 8_000_000  # 200 results of 50 kB
        clock.advance(60.1)  # the results expire; the next heartbeat deletes them
        wait_until(lambda: _size(db) < 1_000_000, what=f"the file shrinking from {peak} bytes")
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental
    finally:
        backend.close()


def test_a_file_of_an_earlier_version_gets_the_new_columns_and_incremental_vacuum(
    tmp_path: Path,
) -> None:
    db = tmp_path / "tasks.db"
    with sqlite3.connect(db) as conn:  # the table as the first version made it
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(
            """CREATE TABLE ladon_tasks (
                id TEXT PRIMARY KEY, method TEXT NOT NULL, state TEXT NOT NULL,
                progress REAL NOT NULL DEFAULT 0, message TEXT, created REAL NOT NULL,
                started REAL, finished REAL, result TEXT, error TEXT, detail TEXT,
                cancel INTEGER NOT NULL DEFAULT 0, owner TEXT NOT NULL,
                heartbeat REAL NOT NULL, lease REAL NOT NULL, ttl REAL NOT NULL, expires REAL
            ) WITHOUT ROWID"""
        )
        old_id = "a" * 40
        conn.execute(
            "INSERT INTO ladon_tasks (id, method, state, progress, created, started, finished,"
            " result, owner, heartbeat, lease, ttl, expires)"
            " VALUES (?, 'Svc.old', 'succeeded', 1, 1, 1, 2, '41', 'gone', 2, 30, 1e12, 1e12)",
            (old_id,),
        )
    backend = SQLiteTaskBackend(db)
    try:
        status = backend.status("Svc.old", old_id)
        assert (status.result, status.attempt, status.attempts) == (41, 1, 1)
        with sqlite3.connect(db) as conn:
            columns = {row[1] for row in conn.execute("PRAGMA table_info(ladon_tasks)")}
            assert {"attempt", "attempts", "retry_delay", "job", "due"} <= columns
            assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
    finally:
        backend.close()
