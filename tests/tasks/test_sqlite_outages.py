"""The SQLite store out of reach under a real gunicorn: a full disk and a
file that cannot be written. Calls answer at once ("The task service is
unavailable"), tasks run once the file can be written again, and the
process recovers by itself (same pid, no restart).

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
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .backend_support import Gates
from .backend_support import GunicornServer

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
