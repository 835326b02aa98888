"""``/_ladon/health`` (the process answers) and ``/_ladon/health/ready``
(the task store answers): JSON, 200 or 503. SQLite ready while its file
takes a write, Redis while it answers and an RQ worker serves the queue,
checked against a real redis-server stopped and restarted."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tasks.backend_support import PersistentRedis
from tasks.backend_support import Worker
from tasks.backend_support import wait_until
from werkzeug.test import Client

from ladon.server.wsgi import LadonWSGIApplication
from ladon.tasks import _redis_admin


def get(app: LadonWSGIApplication, path: str, method: str = "GET") -> tuple[int, Any, Any]:
    response = Client(app).open(path, method=method)
    body = json.loads(response.get_data()) if method == "GET" else None
    return response.status_code, body, response.headers


def test_health_answers_while_the_process_does() -> None:
    import ops_app

    app = ops_app.make_app()
    status, body, headers = get(app, "/_ladon/health")
    assert (status, body) == (200, {"status": "ok"})
    assert headers["Content-Type"] == "application/json"
    assert headers["Cache-Control"] == "no-store"
    assert get(app, "/_ladon/health", "HEAD")[0] == 200
    assert Client(app).post("/_ladon/health").status_code == 405


def test_ready_without_task_methods_is_ready() -> None:
    app = LadonWSGIApplication(["legacy_shapes"])
    assert get(app, "/_ladon/health/ready")[:2] == (200, {"status": "ok", "tasks": None})


def test_ready_on_the_thread_backend_until_it_is_closed() -> None:
    import ops_app

    app = ops_app.make_app(tasks="thread://")
    status, body, _ = get(app, "/_ladon/health/ready")
    assert status == 200
    assert body["status"] == "ok" and body["tasks"]["backend"] == "thread"
    app.close()
    status, body, _ = get(app, "/_ladon/health/ready")
    assert status == 503 and body["status"] == "unavailable"


def test_ready_on_sqlite_while_the_file_takes_a_write(tmp_path: Path) -> None:
    import ops_app

    db = tmp_path / "tasks.db"
    app = ops_app.make_app(tasks=f"sqlite://{db}?busy_timeout=0.2")
    status, body, _ = get(app, "/_ladon/health/ready")
    assert status == 200, body
    assert body["tasks"] == {"backend": "sqlite", "ok": True, "writable": True}
    # another process holds the write lock: the file cannot be written now
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        status, body, _ = get(app, "/_ladon/health/ready")
        assert status == 503
        assert body["status"] == "unavailable"
        assert body["tasks"]["writable"] is False
        assert "locked" in body["tasks"]["error"]
        assert str(tmp_path) not in json.dumps(body)  # no path in a public answer
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert get(app, "/_ladon/health/ready")[0] == 200
    app.close()


def test_ready_on_sqlite_gives_up_before_a_probe_times_out(tmp_path: Path) -> None:
    """With the default busy_timeout (10 s) a file another process keeps
    locked is answered 503 within about two seconds, saying why."""
    import ops_app

    db = tmp_path / "tasks.db"
    app = ops_app.make_app(tasks=f"sqlite://{db}")
    assert get(app, "/_ladon/health/ready")[0] == 200
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        began = time.monotonic()
        status, body, _ = get(app, "/_ladon/health/ready")
        waited = time.monotonic() - began
        assert status == 503, body
        assert 1.5 <= waited < 4.0, waited
        assert body["tasks"]["writable"] is False
        assert "locked" in body["tasks"]["error"] and "gave up after 2" in body["tasks"]["error"]
        assert str(tmp_path) not in json.dumps(body)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert get(app, "/_ladon/health/ready")[0] == 200
    app.close()


@pytest.fixture()
def redis_app(tmp_path: Path) -> Iterator[tuple[LadonWSGIApplication, PersistentRedis, Path]]:
    import ops_app

    server = PersistentRedis()  # keeps its data across a restart, as in production
    app = ops_app.make_app(tasks=server.url(queue="ready"))
    yield app, server, tmp_path
    app.close()
    server.stop()


@pytest.mark.e2e
def test_ready_on_redis_follows_the_server_and_the_workers(
    redis_app: tuple[LadonWSGIApplication, PersistentRedis, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, server, tmp = redis_app
    status, body, _ = get(app, "/_ladon/health/ready")
    assert status == 503, body
    assert body["tasks"]["reachable"] is True and body["tasks"]["workers"] == 0
    assert "no RQ worker" in body["tasks"]["error"]
    worker = Worker(server.url(queue="ready"), tmp / "worker.log", app="ops_app:app")
    try:
        wait_until(lambda: get(app, "/_ladon/health/ready")[0] == 200, 20.0, "a worker registered")
        body = get(app, "/_ladon/health/ready")[1]
        assert body["tasks"]["workers"] == 1 and body["tasks"]["queue"] == "ready"
        server.down()  # Redis is down
        status, body, _ = get(app, "/_ladon/health/ready")
        assert status == 503
        assert body["tasks"] == {
            "backend": "redis",
            "ok": False,
            "reachable": False,
            "error": body["tasks"]["error"],
        }
        assert server.socket not in json.dumps(body)
        assert get(app, "/_ladon/health")[0] == 200  # the process still answers
        server.up()  # back, with its data: the worker reconnects
        wait_until(lambda: get(app, "/_ladon/health/ready")[0] == 200, 20.0, "ready again")
        # and tasks run again
        task = Client(app).post(
            "/Jobs/jsonwsp", json={"methodname": "crawl", "args": {"steps": 1, "pause": 0.0}}
        )
        task_id = task.get_json()["result"]["task_id"]

        def done() -> bool:
            answer = Client(app).post(
                "/Jobs/jsonwsp",
                json={"methodname": "crawl_progress", "args": {"task_id": task_id}},
            )
            return bool(answer.get_json()["result"]["state"] == "succeeded")

        wait_until(done, 20.0, "a task ran after the restart")
        # a worker that stops beating (hung; or killed with SIGKILL, which
        # leaves it in RQ's own registry) is not counted after LIVE_WINDOW
        monkeypatch.setattr(_redis_admin, "LIVE_WINDOW", 3.0)
        os.kill(worker.pid, signal.SIGSTOP)
        try:
            wait_until(lambda: get(app, "/_ladon/health/ready")[0] == 503, 15.0, "not ready")
            assert get(app, "/_ladon/health/ready")[1]["tasks"]["workers"] == 0
        finally:
            os.kill(worker.pid, signal.SIGCONT)
        wait_until(lambda: get(app, "/_ladon/health/ready")[0] == 200, 15.0, "beating again")
    finally:
        worker.stop()
