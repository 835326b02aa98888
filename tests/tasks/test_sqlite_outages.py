"""The SQLite store out of reach: a full disk and a file that cannot be
written, under a real gunicorn and between backends sharing one file. Calls
answer at once ("The task service is unavailable"), tasks run once the file
can be written again, the process recovers by itself (same pid, no
restart), and an outage longer than the lease fails no task of a process
that lived through it (only those of a process that died).

The full disk is a file-size limit (``RLIMIT_FSIZE``) set in the gunicorn
worker itself: a write beyond it fails with EFBIG, which SQLite reports as
SQLITE_FULL, exactly as on a full disk; no root, tmpfs or loop device is
needed. The lost permission is a read-only file and directory: ``chmod``
when the tests run as an ordinary user; as root (whom permissions do not
stop) the files are made immutable with ``chattr +i``, which stops root.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from webtest import TestApp

from ladon import LadonWSGIApplication
from ladon.ladonizer import ladonize
from ladon.tasks import Retry
from ladon.tasks import SQLiteTaskBackend
from ladon.tasks import TaskState

from .backend_support import Gates
from .backend_support import GunicornServer
from .backend_support import wait_until

pytestmark = pytest.mark.e2e

UNAVAILABLE = "The task service is unavailable; try again later"
UNKNOWN_ID = "0" * 40


def _url(db: Path) -> str:
    return f"sqlite://{db}?lease=5&heartbeat=0.2&sync_interval=0.02&max_workers=1"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[GunicornServer]:
    store = tmp_path / "store"
    store.mkdir()
    gunicorn = GunicornServer(tmp_path, _url(store / "tasks.db"), workers=1)
    yield gunicorn
    gunicorn.stop()


def test_a_full_disk_delays_tasks_which_run_once_there_is_room(
    server: GunicornServer, gates: Gates
) -> None:
    work = server.client("Work")
    outage = server.client("Outage")
    pid = outage("limit_file_size", nbytes=-1)
    held = work.start("hold", gates=gates.path, name="a", text="held")
    gates.wait_started("a")
    waiting = work.start("square", n=7)  # the only pool thread is busy: it waits
    assert work.progress("square", waiting)["state"] == "pending"

    assert outage("limit_file_size", nbytes=1) == pid  # the disk is "full"
    gates.release("a")  # "a" ends and "square" would start: neither can be written
    time.sleep(0.5)
    assert work.progress("hold", held)["state"] == "running"  # reads still answer
    assert work.progress("square", waiting)["state"] == "pending"
    started = time.monotonic()
    fault = work.fault("square", n=2)  # no new task can be stored
    assert (fault.code, fault.string) == ("server", UNAVAILABLE)
    assert time.monotonic() - started < 2  # at once

    outage("limit_file_size", nbytes=-1)  # room again: no restart needed
    assert work.wait_state("hold", held)["state"] == "succeeded"
    assert work.result("hold", held) == "held"
    assert work.wait_state("square", waiting)["state"] == "succeeded"
    assert work.result("square", waiting) == 49
    assert work.run("square", n=3) == 9
    assert server.workers() == {pid}


def _make_read_only(paths: list[Path]) -> None:
    if os.geteuid() != 0:
        for path in paths:
            path.chmod(0o555 if path.is_dir() else 0o444)
        return
    try:
        subprocess.run(
            ["chattr", "+i", *map(str, paths)], check=True, capture_output=True, timeout=10
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.fail(
            "running as root, this test makes the task file read-only with `chattr +i` "
            f"(e2fsprogs, on a file system with attributes, such as ext4): {exc}; "
            "or run the tests as an ordinary user"
        )


def _make_writable(paths: list[Path]) -> None:
    if os.geteuid() != 0:
        for path in paths:
            path.chmod(0o755 if path.is_dir() else 0o644)
        return
    subprocess.run(["chattr", "-i", *map(str, paths)], check=True, timeout=10)


def test_a_process_that_lost_write_permission_recovers_when_it_returns(
    server: GunicornServer, tmp_path: Path
) -> None:
    work = server.client("Work")
    pid = server.client("Outage")("limit_file_size", nbytes=-1)
    # the worker opens the task file (reading only: no task was started)
    assert work.fault("square_progress", task_id=UNKNOWN_ID).code == "client"
    store = tmp_path / "store"
    files = [p for p in store.iterdir() if p.name.startswith("tasks.db")] + [store]
    _make_read_only(files)
    try:
        started = time.monotonic()
        fault = work.fault("square", n=5)  # its first write: the file is read-only
        assert (fault.code, fault.string) == ("server", UNAVAILABLE)
        assert time.monotonic() - started < 2
        fault = work.fault("square", n=5)
        assert fault.string == UNAVAILABLE
    finally:
        _make_writable(files)
    # the permission is back: the same process starts tasks again
    assert work.run("square", n=5) == 25
    assert server.workers() == {pid}


def test_an_outage_longer_than_the_lease_fails_only_the_tasks_of_a_dead_process(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = tmp_path / "store"
    store.mkdir()
    db = store / "tasks.db"
    # three processes' backends on one file; lease 1.5 s: a gap over 1.2 s is an outage
    made = [
        SQLiteTaskBackend(db, lease=1.5, heartbeat=0.1, sync_interval=0.02, max_workers=2)
        for _ in range(3)
    ]
    runner, judge, dead = made
    method = "Svc.job"
    hold, ends_in_outage, release = threading.Event(), threading.Event(), threading.Event()
    try:
        held = runner.submit(method, lambda handle: hold.wait(30) and "held")
        ended = runner.submit(method, lambda handle: ends_in_outage.wait(30) and "ended")
        orphan = dead.submit(method, lambda handle: release.wait(30) and "never")

        def all_running() -> bool:
            ids = (held, ended, orphan)
            return all(judge.status(method, t).state is TaskState.RUNNING for t in ids)

        wait_until(all_running, what="the three tasks running")
        proc = dead._proc
        assert proc is not None
        proc.stop.set()  # as if that process had died: its ticker stops
        if proc.ticker is not None:
            proc.ticker.join(5)
        files = [p for p in store.iterdir() if p.name.startswith("tasks.db")] + [store]
        _make_read_only(files)
        try:
            time.sleep(0.3)
            ends_in_outage.set()  # its end cannot be written now
            time.sleep(2.2)  # no heartbeat gets through for longer than the lease
        finally:
            _make_writable(files)
        back = time.monotonic()
        # the process that lived through it renews its leases: its tasks go on
        wait_until(lambda: judge.status(method, ended).state is TaskState.SUCCEEDED)
        assert judge.status(method, ended).result == "ended"
        while time.monotonic() - back < 1.8:  # past the lease, counted from the outage's end
            assert judge.status(method, held).state is TaskState.RUNNING
            time.sleep(0.05)
        # the dead process's task is judged once the file was writable for a lease
        wait_until(lambda: judge.status(method, orphan).state is TaskState.FAILED)
        lost = judge.status(method, orphan)
        assert (lost.error, lost.progress) == ("worker lost", 1.0)
        assert time.monotonic() - back >= 1.4
        hold.set()
        wait_until(lambda: judge.status(method, held).state is TaskState.SUCCEEDED)
        assert judge.status(method, held).result == "held"
        # the end held back was a warning, not a traceback
        assert not [r for r in caplog.records if r.exc_info], caplog.text
        assert f"Task {ended} ended; the end is written once the file can be" in caplog.text
    finally:
        hold.set()
        ends_in_outage.set()
        release.set()
        for backend in made:
            backend.close()


_GO = threading.Event()
_TRIES: list[int] = []


class Flaky:
    @ladonize(rtype=str, tasktype={"retries": 1, "retry_delay": 0})
    def flaky(self) -> str:
        _TRIES.append(1)
        if len(_TRIES) == 1:
            _GO.wait(30)
            raise Retry("try again")
        return f"attempt {len(_TRIES)}"


def test_a_retry_asked_for_during_an_outage_runs_once_the_file_is_back(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    url = f"sqlite://{store / 'tasks.db'}?lease=3&heartbeat=0.2&sync_interval=0.02"
    app = LadonWSGIApplication([Flaky], tasks=url)
    http = TestApp(app)

    def call(method: str, **args: object) -> Any:
        return http.post_json("/Flaky/jsonwsp", {"methodname": method, "args": args}).json

    _GO.clear()
    _TRIES.clear()
    try:
        task_id = call("flaky")["result"]["task_id"]
        wait_until(lambda: call("flaky_progress", task_id=task_id)["result"]["state"] == "running")
        files = [p for p in store.iterdir() if p.name.startswith("tasks.db")] + [store]
        _make_read_only(files)
        try:
            _GO.set()  # attempt 1 asks to run again: that cannot be written now
            backend = app.task_backend()
            assert isinstance(backend, SQLiteTaskBackend) and backend._proc is not None
            live = backend._proc.live
            wait_until(lambda: not live.ids(), what="attempt 1 ended")
            time.sleep(0.5)
        finally:
            _make_writable(files)
        wait_until(
            lambda: call("flaky_progress", task_id=task_id)["result"]["state"] == "succeeded"
        )
        assert call("flaky_result", task_id=task_id)["result"] == "attempt 2"
    finally:
        _GO.set()
        app.close()
