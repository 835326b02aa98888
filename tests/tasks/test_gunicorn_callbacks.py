"""Completion callbacks of the tasks a stopping process ends, on the sqlite
backend: a gunicorn worker sent SIGTERM fails its running task ("worker
stopped") and leaves the task's callback ``pending`` (a delivery thread
started at exit would die with the interpreter, the callback claimed and
never sent); the other worker sends it, or, when no process is left, the
next one to use the file. In process: a backend closed while its callback
waits to be tried again hands it back to ``pending``.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import backend_app
import pytest

from ladon.tasks import SQLiteTaskBackend
from ladon.tasks import TaskHandle
from ladon.tasks.callbacks import CallbackTarget
from ladon.tasks.delivery import CallbackSender
from ladon.tasks.delivery import callback_settings

from .backend_support import Gates
from .backend_support import GunicornServer
from .backend_support import wait_until
from .receiver import SECRET
from .receiver import Receiver


def _url(db: Path) -> str:
    return f"sqlite://{db}?lease=1&heartbeat=0.2&sync_interval=0.02&max_workers=4"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    yield hook
    hook.stop()


@pytest.fixture
def callbacks_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The callback settings of the servers (and of this process's app),
    from the environment, as operators give them."""
    monkeypatch.setenv("LADON_CALLBACK_HOSTS", "127.0.0.1")
    monkeypatch.setenv("LADON_CALLBACK_NETWORKS", "127.0.0.1/32")
    monkeypatch.setenv("LADON_CALLBACK_SECRET", SECRET)


def _start_with_callback(server: GunicornServer, callback: str, **args: object) -> str:
    """Start ``Retrying.mortal`` with a ``Ladon-Callback-URL``."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        body = json.dumps({"methodname": "mortal", "args": args}).encode()
        headers = {
            "Content-Type": "application/json",
            "Connection": "close",
            "Ladon-Callback-URL": callback,
        }
        conn.request("POST", "/Retrying/jsonwsp", body, headers)
        answer = json.loads(conn.getresponse().read())
    finally:
        conn.close()
    assert answer["type"] == "jsonwsp/response", answer
    task_id: str = answer["result"]["task_id"]
    return task_id


def _callback_state(db: Path, task_id: str) -> str:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute("SELECT callback_state FROM ladon_tasks WHERE id = ?", (task_id,))
        state: str = row.fetchone()[0]
    finally:
        conn.close()
    return state


def _assert_worker_stopped(receiver: Receiver, path: str, task_id: str) -> None:
    (got,) = receiver.received(1, timeout=5.0, path=path)
    assert got.verified() and got.headers["Ladon-Task-Id"] == task_id
    body = json.loads(got.body)
    assert (body["task_id"], body["state"], body["message"], body["result"]) == (
        task_id,
        "failed",
        "worker stopped",
        None,
    )


@pytest.mark.e2e
@pytest.mark.usefixtures("callbacks_allowed")
def test_a_stopped_worker_leaves_its_task_callback_to_the_other_worker(
    tmp_path: Path, gates: Gates, receiver: Receiver
) -> None:
    server = GunicornServer(tmp_path, _url(tmp_path / "tasks.db"), workers=2)
    try:
        workers = server.workers()
        work = server.client("Work")
        ran: set[int] = set()
        for _ in range(200):  # both workers serve tasks (their tickers beat)
            ran.add(work.run("whose"))
            if ran >= workers:
                break
        assert ran >= workers, (ran, workers)
        task_id = _start_with_callback(server, receiver.url("/stopped"), gates=gates.path, name="m")
        pid = gates.wait_started("m")
        stopped = time.monotonic()
        os.kill(pid, signal.SIGTERM)  # that worker only (a worker of the server started here)
        _assert_worker_stopped(receiver, "/stopped", task_id)
        assert time.monotonic() - stopped < 5.0
        retrying = server.client("Retrying")
        wait_until(
            lambda: (
                retrying.progress("mortal", task_id)["message"]
                == "worker stopped; callback delivered (HTTP 200)"
            ),
            5.0,
            "the delivery recorded",
        )
        time.sleep(0.5)  # a second POST, had there been one, would have come by now
        assert len(receiver.received(1, path="/stopped")) == 1
    finally:
        server.stop()


@pytest.mark.e2e
@pytest.mark.usefixtures("callbacks_allowed")
def test_when_no_process_is_left_the_next_one_on_the_file_sends_the_callback(
    tmp_path: Path, gates: Gates, receiver: Receiver
) -> None:
    db = tmp_path / "tasks.db"
    server = GunicornServer(tmp_path, _url(db), workers=1)
    try:
        task_id = _start_with_callback(server, receiver.url("/alone"), gates=gates.path, name="m")
        gates.wait_started("m")
        server.signal(signal.SIGTERM)
        server.proc.wait(10)
    finally:
        server.stop()
    assert not receiver.requests
    assert _callback_state(db, task_id) == "pending"  # not "sending": nobody sends it
    app = backend_app.make_app(_url(db))  # the next process (here, this one)
    try:
        backend = app.task_backend()
        assert isinstance(backend, SQLiteTaskBackend)
        backend.counts()  # its first use of the file, not a read of the task
        _assert_worker_stopped(receiver, "/alone", task_id)
        wait_until(lambda: _callback_state(db, task_id) == "delivered (HTTP 200)", 5.0)
    finally:
        app.close()
    assert len(receiver.requests) == 1


def test_close_hands_back_a_callback_waiting_to_be_tried_again(
    tmp_path: Path, receiver: Receiver
) -> None:
    """Claimed here, tried once (503), waiting 30 s for its next try: close()
    gives it back at once, and the next backend on the file sends it."""
    db = tmp_path / "tasks.db"
    settings = callback_settings(["127.0.0.1"], SECRET, ["127.0.0.1/32"], backoff=30.0)
    assert settings is not None

    def job(task: TaskHandle) -> str:
        return "done"

    job.callback = CallbackTarget(receiver.url("/back"), "Svc", "job").to_text()  # type: ignore[attr-defined]
    receiver.answer(503)
    first = SQLiteTaskBackend(db, sync_interval=0.01)
    first.callback_sender = CallbackSender(settings)
    second: SQLiteTaskBackend | None = None
    try:
        task_id = first.submit("Svc.job", job)
        receiver.received(1, path="/back")
        wait_until(lambda: _callback_state(db, task_id).startswith("retrying"), 5.0)
        closing = time.monotonic()
        first.close()
        assert time.monotonic() - closing < 1.0
        assert _callback_state(db, task_id) == "pending"
        assert first.status("Svc.job", task_id).callback_state == "pending"  # not sent here
        second = SQLiteTaskBackend(db, sync_interval=0.01)
        second.callback_sender = CallbackSender(settings)
        second.counts()  # its first use of the file
        got = receiver.received(2, path="/back")
        wait_until(lambda: _callback_state(db, task_id) == "delivered (HTTP 200)", 5.0)
        assert len(got) == 2 and json.loads(got[1].body)["state"] == "succeeded"
    finally:
        first.close()
        if second is not None:
            second.close()


def test_heartbeats_page_through_a_backlog_of_pending_callbacks(
    tmp_path: Path, receiver: Receiver
) -> None:
    """110 callbacks left pending for a receiver that never answers, and 3
    for one that answers, last in id order: a process's heartbeats read
    the pending ones a hundred at a time, the next hundred at the next, so
    the backlog (its receiver busy, the rest waiting) hides none."""
    db = tmp_path / "tasks.db"
    hangs = Receiver()
    hangs.hold("/")
    settings = callback_settings(["127.0.0.1"], SECRET, ["127.0.0.1/32"], timeout=1.0)
    assert settings is not None

    class Job:
        """A job whose task calls back to ``url``."""

        def __init__(self, url: str) -> None:
            self.callback = CallbackTarget(url, "Svc", "job").to_text()

        def __call__(self, task: TaskHandle) -> str:
            return "done"

    first = SQLiteTaskBackend(db, sync_interval=0.01)  # no sender: left pending
    second: SQLiteTaskBackend | None = None
    try:
        slow = [first.submit("Svc.job", Job(hangs.url("/slow"))) for _ in range(110)]
        fine = [first.submit("Svc.job", Job(receiver.url("/fine"))) for _ in range(3)]
        wait_until(
            lambda: all(first.status("Svc.job", t).state.finished for t in slow + fine), 10.0
        )
        first.close()
        conn = sqlite3.connect(db)
        try:
            with conn:  # the three last in id order
                for task_id in fine:
                    conn.execute(
                        "UPDATE ladon_tasks SET id = ? WHERE id = ?",
                        ("f" * 4 + task_id[4:], task_id),
                    )
        finally:
            conn.close()
        assert _callback_state(db, slow[0]) == "pending"
        second = SQLiteTaskBackend(db, sync_interval=0.01, heartbeat=0.1)
        second.callback_sender = CallbackSender(settings)
        second.counts()  # its first use of the file: the first hundred
        busy = threading.Event()
        # a task of its own keeps the process beating
        second.submit("Svc.job", lambda task: busy.wait(10))
        got = receiver.received(3, timeout=5.0, path="/fine")
        assert {json.loads(r.body)["task_id"][:4] for r in got} == {"ffff"}
        busy.set()
    finally:
        hangs.let_go()
        first.close()
        if second is not None:
            second.close()
        hangs.stop()


def set_callback(db: Path, task_id: str, state: str, at: float | None) -> None:
    """Write a callback's state as a process holding it writes it, at ``at``."""
    conn = sqlite3.connect(db)
    try:
        with conn:
            conn.execute(
                "UPDATE ladon_tasks SET callback_state = ?, callback_at = ? WHERE id = ?",
                (state, at, task_id),
            )
    finally:
        conn.close()


def test_a_callback_left_by_a_dead_process_is_sent_by_the_next_on_the_file(
    tmp_path: Path, receiver: Receiver
) -> None:
    """Nobody reads the task: a process on the file finds, at its first use
    and at its heartbeats, the callbacks another process took and left
    alone too long (it was killed sending them, or waiting to try again),
    and sends them."""
    db = tmp_path / "tasks.db"
    settings = callback_settings(["127.0.0.1"], SECRET, ["127.0.0.1/32"])
    assert settings is not None

    def job(task: TaskHandle) -> str:
        return "done"

    job.callback = CallbackTarget(receiver.url("/orphan"), "Svc", "job").to_text()  # type: ignore[attr-defined]
    first = SQLiteTaskBackend(db, sync_interval=0.01)
    first.callback_sender = CallbackSender(settings)
    second: SQLiteTaskBackend | None = None
    try:
        task_id = first.submit("Svc.job", job)
        receiver.received(1, path="/orphan")
        wait_until(lambda: _callback_state(db, task_id) == "delivered (HTTP 200)", 5.0)
        first.close()
        # as a process killed while waiting for its second try leaves it
        set_callback(db, task_id, "retrying (attempt 1 of 5: HTTP 503)", time.time() - 120)
        second = SQLiteTaskBackend(db, sync_interval=0.01)
        second.callback_sender = CallbackSender(settings)
        second.counts()  # its first use of the file
        got = receiver.received(2, path="/orphan")
        wait_until(lambda: _callback_state(db, task_id) == "delivered (HTTP 200)", 5.0)
        assert json.loads(got[1].body)["state"] == "succeeded" and got[1].verified()
    finally:
        first.close()
        if second is not None:
            second.close()


def test_a_callback_taken_meanwhile_by_another_process_is_not_tried_again_here(
    tmp_path: Path, receiver: Receiver
) -> None:
    """The process that waits to try a callback again takes it again first,
    from the state it wrote: when another process took it meanwhile
    (believing this one dead), this one lets it go: one sender at a time."""
    db = tmp_path / "tasks.db"
    settings = callback_settings(["127.0.0.1"], SECRET, ["127.0.0.1/32"], backoff=0.5)
    assert settings is not None

    def job(task: TaskHandle) -> str:
        return "done"

    job.callback = CallbackTarget(receiver.url("/taken"), "Svc", "job").to_text()  # type: ignore[attr-defined]
    receiver.answer(503)
    backend = SQLiteTaskBackend(db, sync_interval=0.01)
    backend.callback_sender = CallbackSender(settings)
    try:
        task_id = backend.submit("Svc.job", job)
        receiver.received(1, path="/taken")
        wait_until(lambda: _callback_state(db, task_id).startswith("retrying"), 5.0)
        set_callback(db, task_id, "sending", time.time())  # as another process's claim
        time.sleep(1.5)  # past the 0.5 s wait
        assert len(receiver.received(1, path="/taken")) == 1
        assert _callback_state(db, task_id) == "sending"
    finally:
        backend.close()


def test_a_callback_an_older_release_left_held_is_logged_when_its_task_expires(
    tmp_path: Path, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    """A process of a release without ``callback_at`` writes "retrying
    (...)" with no time; killed then, its callback is never taken (no
    process can tell it from a live holder), but not dropped in silence:
    logged as given up when the task expires."""
    db = tmp_path / "tasks.db"

    def job(task: TaskHandle) -> str:
        return "done"

    job.callback = CallbackTarget(receiver.url("/old"), "Svc", "job").to_text()  # type: ignore[attr-defined]
    backend = SQLiteTaskBackend(db, sync_interval=0.01, heartbeat=0.1, result_ttl=0.5)
    busy = threading.Event()
    try:
        with caplog.at_level(logging.WARNING, logger="ladon"):
            task_id = backend.submit("Svc.job", job)  # no sender here: left pending
            wait_until(lambda: backend.status("Svc.job", task_id).state.finished, 5.0)
            set_callback(db, task_id, "retrying (attempt 3 of 5: HTTP 503)", None)
            backend.submit("Svc.job", lambda task: busy.wait(10))  # keeps the process beating
            wait_until(
                lambda: (
                    f"Callback of task {task_id} given up: the task expired"
                    in "\n".join(r.getMessage() for r in caplog.records)
                ),
                5.0,
                "the expired callback logged",
            )
    finally:
        busy.set()
        backend.close()
