"""The sqlite backend beyond the shared suite: one file shared by several
backends (as by several processes), leases, locking, URLs."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import backend_app
import pytest

from ladon.tasks import BackendUnavailable
from ladon.tasks import SQLiteTaskBackend
from ladon.tasks import TaskHandle
from ladon.tasks import TaskState
from ladon.tasks import TaskStatus
from ladon.tasks import UnknownTask
from ladon.tasks import backend_from_url
from ladon.testing import ManualClock

from .backend_support import REPO
from .backend_support import Client
from .backend_support import in_process
from .backend_support import wait_until

METHOD = "Svc.job"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "tasks.db"


@pytest.fixture
def backends(db: Path) -> Iterator[list[SQLiteTaskBackend]]:
    made: list[SQLiteTaskBackend] = []
    yield made
    for backend in made:
        backend.close()


def _make(made: list[SQLiteTaskBackend], db: Path, **options: object) -> SQLiteTaskBackend:
    backend = SQLiteTaskBackend(db, max_workers=2, sync_interval=0.01, **options)  # type: ignore[arg-type]
    made.append(backend)
    return backend


def _wait_state(backend: SQLiteTaskBackend, task_id: str, *states: TaskState) -> TaskStatus:
    seen: list[TaskStatus] = []

    def reached() -> bool:
        seen.append(backend.status(METHOD, task_id))
        return seen[-1].state in states

    wait_until(reached, what=f"states {states}")
    return seen[-1]


def test_the_file_is_in_wal_mode_and_holds_the_records(
    db: Path, backends: list[SQLiteTaskBackend]
) -> None:
    backend = _make(backends, db)
    task_id = backend.submit(METHOD, lambda handle: {"answer": 42})
    status = _wait_state(backend, task_id, TaskState.SUCCEEDED)
    assert status.result == {"answer": 42}
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        row = conn.execute("SELECT state, result FROM ladon_tasks WHERE id = ?", (task_id,))
        assert row.fetchone() == ("succeeded", '{"answer": 42}')


def test_another_backend_on_the_file_sees_progress_and_cancels_the_running_task(
    db: Path, backends: list[SQLiteTaskBackend]
) -> None:
    runner, other = _make(backends, db), _make(backends, db)
    started = threading.Event()

    def job(handle: TaskHandle) -> str:
        handle.progress(0.3, message="working")
        started.set()
        deadline = time.monotonic() + 10
        while not handle.cancelled and time.monotonic() < deadline:
            time.sleep(0.002)
        return "not cancelled"

    task_id = runner.submit(METHOD, job)
    assert started.wait(5)
    wait_until(lambda: other.status(METHOD, task_id).message == "working")
    status = other.status(METHOD, task_id)
    assert (status.state, status.progress) == (TaskState.RUNNING, 0.3)
    answer = other.cancel(METHOD, task_id)
    assert (answer.state, answer.progress, answer.message) == (
        TaskState.RUNNING,
        0.3,
        "cancel requested",
    )
    ended = _wait_state(runner, task_id, TaskState.CANCELLED)
    assert (ended.progress, ended.message, ended.result) == (1.0, "cancelled", None)
    with pytest.raises(UnknownTask):
        other.status("Svc.other", task_id)


def test_a_task_whose_process_stopped_its_heartbeat_is_failed_worker_lost(
    db: Path, backends: list[SQLiteTaskBackend]
) -> None:
    clock = ManualClock()
    runner = _make(backends, db, lease=30, heartbeat=0.05, clock=clock)
    watcher = _make(backends, db, lease=30, heartbeat=0.05, clock=clock)
    release = threading.Event()
    task_id = runner.submit(METHOD, lambda handle: release.wait(10))
    _wait_state(watcher, task_id, TaskState.RUNNING)
    clock.advance(25)
    wait_until(lambda: _heartbeat(db, task_id) == clock.time(), what="a heartbeat")
    clock.advance(25)
    assert watcher.status(METHOD, task_id).state is TaskState.RUNNING  # heartbeats go on
    proc = runner._proc
    assert proc is not None
    proc.stop.set()  # as if the process had died: its ticker stops
    if proc.ticker is not None:
        proc.ticker.join(5)
    clock.advance(30.1)
    status = watcher.status(METHOD, task_id)
    assert status.state is TaskState.FAILED
    assert status.error == "worker lost" and status.progress == 1.0
    release.set()  # the job ends late: the record stays failed
    wait_until(lambda: not len(proc.live), what="the job ended")
    assert watcher.status(METHOD, task_id).state is TaskState.FAILED


def _heartbeat(db: Path, task_id: str) -> float:
    with sqlite3.connect(db) as conn:
        beat: float = conn.execute(
            "SELECT heartbeat FROM ladon_tasks WHERE id = ?", (task_id,)
        ).fetchone()[0]
        return beat


def test_a_task_lost_after_its_cancel_was_requested_ends_cancelled(
    db: Path, backends: list[SQLiteTaskBackend]
) -> None:
    runner = _make(backends, db, lease=0.5, heartbeat=0.1)
    watcher = _make(backends, db, lease=0.5, heartbeat=0.1)
    release = threading.Event()
    task_id = runner.submit(METHOD, lambda handle: release.wait(10))
    _wait_state(watcher, task_id, TaskState.RUNNING)
    assert watcher.cancel(METHOD, task_id).message == "cancel requested"
    proc = runner._proc
    assert proc is not None
    proc.stop.set()  # its process "dies" before the job stops
    status = _wait_state(watcher, task_id, TaskState.CANCELLED, TaskState.FAILED)
    assert (status.state, status.progress, status.message) == (
        TaskState.CANCELLED,
        1.0,
        "cancelled",
    )
    release.set()


def test_finished_records_are_deleted_from_the_file(
    db: Path, backends: list[SQLiteTaskBackend]
) -> None:
    clock = ManualClock()
    backend = _make(backends, db, result_ttl=60, lease=0.6, heartbeat=0.05, clock=clock)
    ids = [backend.submit(METHOD, lambda handle: 1) for _ in range(20)]
    for task_id in ids:
        _wait_state(backend, task_id, TaskState.SUCCEEDED)

    def rows() -> int:
        with sqlite3.connect(db) as conn:
            count: int = conn.execute("SELECT count(*) FROM ladon_tasks").fetchone()[0]
            return count

    assert rows() == 20
    clock.advance(60.1)
    wait_until(lambda: rows() == 0, what="eviction by the next heartbeat")
    with pytest.raises(UnknownTask):
        backend.status(METHOD, ids[0])


def test_a_result_that_is_not_json_fails_the_task(
    db: Path, backends: list[SQLiteTaskBackend]
) -> None:
    backend = _make(backends, db)
    task_id = backend.submit(METHOD, lambda handle: object())
    status = _wait_state(backend, task_id, TaskState.FAILED)
    assert status.error is not None and "typed JSON" in status.error


def test_a_file_locked_too_long_is_backend_unavailable_and_a_server_fault(
    db: Path, backends: list[SQLiteTaskBackend]
) -> None:
    backend = _make(backends, db, busy_timeout=0.2)
    app = backend_app.make_app(backend)
    work = Client(in_process(app), "Work")
    locker = sqlite3.connect(db, isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        with pytest.raises(BackendUnavailable):
            backend.submit(METHOD, lambda handle: 1)
        fault = work.fault("square", n=2)
        assert (fault.code, fault.string) == (
            "server",
            "The task service is unavailable; try again later",
        )
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert work.run("square", n=2) == 4  # and it recovers


def test_a_task_that_ended_while_the_file_was_locked_is_dated_when_it_ended(
    db: Path, backends: list[SQLiteTaskBackend]
) -> None:
    backend = _make(backends, db, busy_timeout=0.05, lease=30, heartbeat=0.1)
    go, done = threading.Event(), threading.Event()
    ended: list[float] = []

    def job(handle: TaskHandle) -> str:
        assert go.wait(10)
        ended.append(time.time())
        done.set()
        return "done"

    task_id = backend.submit(METHOD, job)
    _wait_state(backend, task_id, TaskState.RUNNING)
    locker = sqlite3.connect(db, isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        go.set()  # the job ends; its end cannot be written
        assert done.wait(5)
        time.sleep(1)
        assert backend.status(METHOD, task_id).state is TaskState.RUNNING  # not written yet
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    status = _wait_state(backend, task_id, TaskState.SUCCEEDED)  # written by the ticker
    assert status.finished is not None
    assert ended[0] - 0.05 <= status.finished < ended[0] + 0.3, status.finished - ended[0]


def test_an_end_written_after_an_outage_longer_than_result_ttl_is_kept(
    db: Path, backends: list[SQLiteTaskBackend]
) -> None:
    """Dated when it ended, kept ``result_ttl`` from when it is written:
    not deleted on arrival."""
    backend = _make(backends, db, busy_timeout=0.05, lease=30, heartbeat=0.1, result_ttl=0.6)
    go, done = threading.Event(), threading.Event()

    def job(handle: TaskHandle) -> str:
        assert go.wait(10)
        done.set()
        return "kept"

    task_id = backend.submit(METHOD, job)
    _wait_state(backend, task_id, TaskState.RUNNING)
    locker = sqlite3.connect(db, isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        go.set()
        assert done.wait(5)
        time.sleep(1.2)  # twice result_ttl
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    status = _wait_state(backend, task_id, TaskState.SUCCEEDED)
    assert status.finished is not None and status.result == "kept"
    # older than result_ttl when written, and still there
    assert time.time() - status.finished > 0.6


def test_four_processes_creating_and_hammering_one_file_lose_nothing(db: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys, time
        from ladon.tasks import SQLiteTaskBackend, TaskState
        b = SQLiteTaskBackend({str(db)!r}, max_workers=4, sync_interval=0)
        def job(handle):
            for i in range(20):
                handle.progress(i / 20)
            return 7
        ids = [b.submit("Svc.job", job) for _ in range(150)]
        deadline = time.monotonic() + 60
        for task_id in ids:
            while b.status("Svc.job", task_id).state is not TaskState.SUCCEEDED:
                assert time.monotonic() < deadline
                time.sleep(0.001)
        b.close()
        print(" ".join(ids))
        """
    )
    # NOTE: no file yet: the four create it at once, too
    env = dict(os.environ, PYTHONPATH=str(REPO))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=90) for p in procs]
    for p, (_, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err.decode()[-2000:]
    ids = [i for out, _ in outputs for i in out.decode().split()]
    assert len(set(ids)) == 600
    reader = SQLiteTaskBackend(db)
    try:
        assert {reader.status("Svc.job", i).result for i in ids} == {7}
    finally:
        reader.close()


def test_a_forked_process_starts_afresh(db: Path, backends: list[SQLiteTaskBackend]) -> None:
    backend = _make(backends, db)
    parent = backend._process().owner
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        ok = False
        try:
            child = backend._process()
            task_id = backend.submit(METHOD, lambda handle: "from the child")
            deadline = time.monotonic() + 5
            while backend.status(METHOD, task_id).state is not TaskState.SUCCEEDED:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.005)
            ok = child.owner != parent and backend.status(METHOD, task_id).result == (
                "from the child"
            )
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.parametrize(
    ("url", "checks"),
    [
        (
            "sqlite:///{db}?max_workers=3&max_pending=5&result_ttl=9&lease=12&heartbeat=2"
            "&busy_timeout=4&sync_interval=0.5",
            {
                "max_workers": 3,
                "max_pending": 5,
                "result_ttl": 9.0,
                "lease": 12.0,
                "heartbeat": 2.0,
                "busy_timeout": 4.0,
                "sync_interval": 0.5,
            },
        ),
        ("sqlite:///{db}", {"lease": 30.0, "heartbeat": 5.0, "result_ttl": 3600.0}),
        ("sqlite://localhost/{db}", {"lease": 30.0}),
    ],
)
def test_sqlite_urls_and_options(db: Path, url: str, checks: dict[str, object]) -> None:
    backend = backend_from_url(url.format(db=str(db).lstrip("/")))
    try:
        assert isinstance(backend, SQLiteTaskBackend)
        assert backend.path == str(db)
        for name, value in checks.items():
            assert getattr(backend, name) == value, name
    finally:
        backend.close()


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://relative.db",
        "sqlite:///{db}?lease=0",
        "sqlite:///{db}?lease=2&heartbeat=3",
        "sqlite:///{db}?max_workers=0",
        "sqlite:///{db}?colour=blue",
        "sqlite:///{db}?result_ttl=-1",
        "sqlite:///nonexistent-dir-xyz/sub/tasks.db",
    ],
)
def test_bad_sqlite_urls_are_value_errors(db: Path, url: str) -> None:
    with pytest.raises(ValueError):
        backend_from_url(url.format(db=str(db).lstrip("/")))


def test_beats_on_the_file_tell_an_outage_from_a_lost_process() -> None:
    from ladon.tasks import _sqlite_extras
    from ladon.tasks import _sqlite_steady

    conn = sqlite3.connect(":memory:")
    conn.execute(_sqlite_extras.META_SCHEMA)
    gap = _sqlite_steady.max_gap(lease=6.0, heartbeat=1.0)
    assert gap == 3.0 and _sqlite_steady.max_gap(1.0, 0.5) == 0.75
    # a new file: no gap was ever seen, leases are judged at once
    assert _sqlite_steady.read(conn.execute(*_sqlite_steady.QUERY).fetchall()) == (None, 0.0)
    assert _sqlite_steady.may_judge(None, 0.0, 6.0, 100.0, gap)
    assert _sqlite_steady.beat(conn, 100.0, gap) == 0.0
    assert _sqlite_steady.beat(conn, 102.9, gap) == 0.0  # beats closer than the gap
    assert _sqlite_steady.may_judge(102.9, 0.0, 6.0, 103.0, gap)
    # no beat for longer than the gap (under way): nobody judges
    assert not _sqlite_steady.may_judge(102.9, 0.0, 6.0, 106.0, gap)
    # the first beat after it: the file is writable from then on
    assert _sqlite_steady.beat(conn, 110.0, gap) == 110.0
    assert _sqlite_steady.beat(conn, 109.0, gap) == 110.0  # a late writer moves nothing back
    last, since = _sqlite_steady.read(conn.execute(*_sqlite_steady.QUERY).fetchall())
    assert (last, since) == (110.0, 110.0)
    assert not _sqlite_steady.may_judge(last, since, 6.0, 113.0, gap)  # a lease not over
    for now in (112.5, 115.0, 116.0):  # beats every 2.5 s: the file stays steady
        assert _sqlite_steady.beat(conn, now, gap) == 110.0
    assert _sqlite_steady.may_judge(116.0, 110.0, 6.0, 116.0, gap)
