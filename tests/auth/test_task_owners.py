"""Task ownership on the thread, SQLite and Redis (RQ worker) backends: a
task belongs to the principal that started it; another principal gets the
answer an unknown id gets from ``_progress``, ``_result`` and ``_cancel``;
``admin`` sees all; the method finds its caller in ``kw["principal"]``
wherever it runs; no credentials reach a task store. Plus the nonce
stores of the three backends."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import auth_app
import pytest
import redis
from tasks.backend_support import RedisServer
from tasks.backend_support import Worker
from webtest import TestApp

from ladon import LadonWSGIApplication
from ladon.tasks import SQLiteTaskBackend
from ladon.tasks import ThreadTaskBackend
from ladon.tasks import backend_from_url
from ladon.testing import ManualClock

from .conftest import basic

pytestmark = pytest.mark.e2e

FINISHED = ("succeeded", "failed", "cancelled")


class Caller:
    """JSON-WSP calls of one caller (Basic credentials, or none)."""

    def __init__(self, web: TestApp, user: str | None) -> None:
        self.web = web
        self.headers = {"Authorization": basic(user, f"{user}-pw")} if user else {}

    def __call__(self, method: str, **args: Any) -> dict[str, Any]:
        r = self.web.post_json(
            "/Vault/jsonwsp",
            {"methodname": method, "args": args},
            headers=self.headers,
            expect_errors=True,
        )
        data: dict[str, Any] = r.json
        return data

    def result(self, method: str, **args: Any) -> Any:
        data = self(method, **args)
        assert data["type"] == "jsonwsp/response", data
        return data["result"]

    def fault(self, method: str, **args: Any) -> str:
        data = self(method, **args)
        assert data["type"] == "jsonwsp/fault", data
        text: str = data["fault"]["string"]
        return text

    def finish(self, method: str, task_id: str, timeout: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            status: dict[str, Any] = self.result(f"{method}_progress", task_id=task_id)
            if status["state"] in FINISHED:
                return status
            assert time.monotonic() < deadline, status
            time.sleep(0.02)


def _check_ownership(web: TestApp, other_web: TestApp | None = None) -> str:
    """The ownership rules, through ``web`` (and ``other_web``, another
    process's app on the same store, for the follow calls); returns
    alice's result."""
    follow = other_web or web
    alice, bob, root, anonymous = (
        Caller(web, "alice"),
        Caller(follow, "bob"),
        Caller(follow, "root"),
        Caller(follow, None),
    )
    task_id = alice.result("count", n=3)["task_id"]
    assert Caller(follow, "alice").finish("count", task_id)["state"] == "succeeded"
    unknown = f"Unknown task '{task_id}'"
    for method in ("count_progress", "count_result", "count_cancel"):
        assert bob.fault(method, task_id=task_id).startswith(unknown)
        assert anonymous.fault(method, task_id=task_id).startswith("Authentication required")
    same = bob.fault("count_progress", task_id="f" * 40).replace("f" * 40, task_id)
    assert same == bob.fault("count_progress", task_id=task_id)
    assert root.result("count_progress", task_id=task_id)["state"] == "succeeded"
    result: str = root.result("count_result", task_id=task_id)
    assert result == Caller(follow, "alice").result("count_result", task_id=task_id)
    assert result.startswith("alice:3:")
    # a task started anonymously (on an open method) belongs to nobody
    open_id = anonymous.result("open_count", n=1)["task_id"]
    assert bob.finish("open_count", open_id)["state"] == "succeeded"
    assert bob.result("open_count_result", task_id=open_id) == "anonymous:1"
    # ... one started by bob on the open method is bob's
    bobs = Caller(web, "bob").result("open_count", n=2)["task_id"]
    assert Caller(follow, "bob").finish("open_count", bobs)["state"] == "succeeded"
    assert anonymous.fault("open_count_result", task_id=bobs).startswith(f"Unknown task '{bobs}'")
    assert (
        Caller(follow, "alice").fault("open_count_cancel", task_id=bobs).startswith("Unknown task")
    )
    assert root.result("open_count_result", task_id=bobs) == "bob:2"
    return result


def test_thread_backend_keeps_owners() -> None:
    app = auth_app.make_app(ThreadTaskBackend(max_workers=2))
    try:
        _check_ownership(TestApp(app))
    finally:
        app.close()


def test_sqlite_backend_keeps_owners_across_processes_and_stores_no_credentials(
    tmp_path: Path,
) -> None:
    db = tmp_path / "tasks.db"
    one = auth_app.make_app(SQLiteTaskBackend(db, sync_interval=0.01))
    two = auth_app.make_app(SQLiteTaskBackend(db, sync_interval=0.01))
    try:
        _check_ownership(TestApp(one), TestApp(two))
    finally:
        one.close()
        two.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"alice" in raw  # the owner is there
    for secret in (b"alice-pw", base64.b64encode(b"alice:alice-pw")):
        assert secret not in raw


@pytest.fixture(scope="module")
def rq_worker(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = redis_server.url(queue="authq", prefix="authq:", app="auth_app:app", sync_interval=0.02)
    log = tmp_path_factory.mktemp("authq") / "worker.log"
    worker = Worker(url, log, app="auth_app:app")
    yield url
    worker.stop()


def test_redis_backend_keeps_owners_and_the_worker_gets_the_principal(
    rq_worker: str, redis_server: RedisServer
) -> None:
    app = auth_app.make_app(rq_worker)
    try:
        result = _check_ownership(TestApp(app))
    finally:
        app.close()
    worker_pid = int(result.rsplit(":", 1)[1])
    import os

    assert worker_pid != os.getpid()  # it ran on the RQ worker, which knew alice
    client = redis.Redis(unix_socket_path=redis_server.socket)
    try:
        for key in client.scan_iter("authq:task:*"):
            record = b"".join(v if isinstance(v, bytes) else v.encode() for v in client.hvals(key))
            assert b"alice-pw" not in record and b"Authorization" not in record
            assert b"HTTP_AUTHORIZATION" not in record
    finally:
        client.close()


def test_nonce_stores_of_the_three_backends(tmp_path: Path, redis_server: RedisServer) -> None:
    from ladon.tasks.rqbackend import RedisTaskBackend

    clock = ManualClock()
    threads = ThreadTaskBackend(clock=clock)
    sqlite_clock = ManualClock()
    first = SQLiteTaskBackend(tmp_path / "n.db", clock=sqlite_clock)
    second = SQLiteTaskBackend(tmp_path / "n.db", clock=sqlite_clock)
    rq = backend_from_url(redis_server.url(prefix=f"nonces{time.time_ns()}:"))
    assert isinstance(rq, RedisTaskBackend)
    try:
        assert threads.claim_nonce("n1", 10) and not threads.claim_nonce("n1", 10)
        clock.advance(11)
        assert threads.claim_nonce("n1", 10)  # forgotten after its time
        assert first.claim_nonce("n1", 10) and not second.claim_nonce("n1", 10)
        sqlite_clock.advance(11)
        assert second.claim_nonce("n1", 10) and not first.claim_nonce("n1", 10)
        assert rq.claim_nonce("n1", 0.3) and not rq.claim_nonce("n1", 0.3)
        time.sleep(0.5)  # Redis forgets by its own clock
        assert rq.claim_nonce("n1", 0.3)
        with pytest.raises(ValueError):
            threads.claim_nonce("x", 0)
    finally:
        threads.close()
        first.close()
        second.close()
        rq.close()


def test_a_backend_without_owners_refuses_authenticated_tasks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Forgetful:
        """A third-party backend that keeps no owners."""

        def __init__(self) -> None:
            self.inner = ThreadTaskBackend()

        def submit(self, method: str, job: Any) -> str:
            return self.inner.submit(method, job)

        def status(self, method: str, task_id: str) -> Any:
            return self.inner.status(method, task_id)

        def cancel(self, method: str, task_id: str) -> Any:
            return self.inner.cancel(method, task_id)

        def close(self, wait: bool = True) -> None:
            self.inner.close(wait)

    app: LadonWSGIApplication = auth_app.make_app(Forgetful())
    try:
        fault = Caller(TestApp(app), "alice").fault("count", n=1)
        assert "cannot keep this task private" in fault
        assert "does not keep task owners" in caplog.text
    finally:
        app.close()
