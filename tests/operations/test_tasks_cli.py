"""``ladon tasks APP-OR-URL list|show|cancel``: against an application on
SQLite and on a real Redis (the store read directly), and against a
running application's URL (its operator API, as an admin, the password
from the environment): filters, table and JSON output, cancel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import LiveServer
from tasks.backend_support import SERVICES_DIR
from tasks.backend_support import Client as TaskClient
from tasks.backend_support import RedisServer
from tasks.backend_support import Worker
from tasks.backend_support import child_env
from tasks.backend_support import in_process
from tasks.backend_support import redis_idle
from tasks.backend_support import wait_until

from ladon.cli import main
from ladon.server.wsgi import LadonWSGIApplication


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["tasks", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def listed(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, Any]]:
    status, out, err = run(capsys, *argv, "--json")
    assert status == 0, err
    tasks: list[dict[str, Any]] = json.loads(out)
    return tasks


class Started:
    """Three tasks of an application: succeeded, failed, running."""

    def __init__(self, app: LadonWSGIApplication) -> None:
        jobs = TaskClient(in_process(app), "Jobs")
        self.done = jobs.start("crawl", steps=1, pause=0.0)
        jobs.wait_state("crawl", self.done, timeout=20)
        self.failed = jobs.start("boom", reason="out of paper")
        jobs.wait_state("boom", self.failed, timeout=20)
        self.running = jobs.start("crawl", steps=600, pause=0.05)
        jobs.wait_state("crawl", self.running, ("running",), timeout=20)
        self.jobs = jobs


def check_store(capsys: pytest.CaptureFixture[str], target: list[str], tasks: Started) -> None:
    """list (filters, table, JSON), show, cancel against one target."""
    everything = listed(capsys, *target, "list")
    assert [t["id"] for t in everything[:3]] == [tasks.running, tasks.failed, tasks.done]
    failed = listed(capsys, *target, "list", "--state", "failed")
    assert [t["id"] for t in failed] == [tasks.failed]
    assert failed[0]["error"] == "out of paper"
    crawls = listed(capsys, *target, "list", "--service", "Jobs", "--method", "crawl")
    assert {t["id"] for t in crawls} == {tasks.done, tasks.running}
    assert listed(capsys, *target, "list", "--method", "nothing") == []
    assert len(listed(capsys, *target, "list", "--age", "1h", "--limit", "2")) == 2
    status, table, _ = run(capsys, *target, "list")
    assert status == 0
    header, *rows = table.splitlines()
    assert header.split() == [
        "ID",
        "TASK",
        "STATE",
        "PROGRESS",
        "DURATION",
        "PRINCIPAL",
        "ATTEMPT",
        "CREATED",
        "MESSAGE",
    ]
    # the table prints the whole ids, which show and cancel take
    row = next(r for r in rows if r.split()[0] == tasks.failed)
    assert "Jobs.boom" in row and "failed" in row and "out of paper" in row
    status, text, _ = run(capsys, *target, "show", row.split()[0])
    assert status == 0 and "out of paper" in text and "Jobs.boom" in text
    assert "callback" in text
    for action in ("show", "cancel"):
        status, _, err = run(capsys, *target, action, tasks.failed[:12])
        assert status == 1 and "whole task id" in err
    status, out, _ = run(capsys, *target, "cancel", tasks.running, "--json")
    assert status == 0
    assert json.loads(out)["message"] == "cancel requested"
    wait_until(
        lambda: tasks.jobs.progress("crawl", tasks.running)["state"] == "cancelled",
        20.0,
        "the task cancelled",
    )
    status, _, err = run(capsys, *target, "show", "f" * 40)
    assert status == 1 and "unknown task" in err.lower()


def test_against_an_application_on_sqlite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import ops_app

    url = f"sqlite://{tmp_path / 'tasks.db'}?sync_interval=0.02"
    app = ops_app.make_app(tasks=url)
    try:
        tasks = Started(app)
        # a service file, as ladon serve takes it, the store named by LADON_TASKS
        monkeypatch.setenv("LADON_TASKS", url)
        everything = listed(capsys, str(SERVICES_DIR / "ops_app.py"), "list", "--state", "failed")
        assert [t["id"] for t in everything] == [tasks.failed]
        check_store(capsys, ["ops_app:app", "--tasks", url], tasks)  # module:attr
    finally:
        app.close()


def test_what_a_client_put_in_a_task_reaches_the_terminal_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A failed task's reason is text a client may have chosen: no escape
    sequence reaches the operator's terminal, no line end makes a fake
    line in ``show``."""
    import ops_app

    url = f"sqlite://{tmp_path / 'tasks.db'}?sync_interval=0.02"
    app = ops_app.make_app(tasks=url)
    try:
        jobs = TaskClient(in_process(app), "Jobs")
        reason = "\x1b[31mRED\x1b[0m\nFAKE-LINE 0000 Jobs.boom succeeded\x07 \u202edetaeh"
        failed = jobs.start("boom", reason=reason)
        jobs.wait_state("boom", failed, timeout=20)
        for command in (["list"], ["show", failed]):
            status, out, err = run(capsys, "ops_app:app", "--tasks", url, *command)
            assert status == 0, err
            assert "\x1b" not in out and "\x07" not in out
            assert "\u202e" not in out and "\\u202e" in out  # a right-to-left override
            assert not any(line.startswith("FAKE-LINE") for line in out.splitlines()), out
            assert "RED" in out
        assert "\\nFAKE-LINE" in out  # show: the line end shown as such
    finally:
        app.close()


def test_service_files_that_ask_for_authentication_are_read_with_the_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The store alone is read: a service whose methods need an
    authenticated caller (which an application would build only with
    ``auth=``) is no obstacle; a target serving nothing is said so."""
    from ladon.tasks import SQLiteTaskBackend

    service = tmp_path / "vault.py"
    service.write_text(
        "from ladon import ladonize\n\n\n"
        "class Vault:\n"
        '    ladon_access = "authenticated"\n\n'
        "    @ladonize(tasktype=True)\n"
        "    def seal(self, n: int) -> int:\n"
        "        return n\n"
    )
    db = tmp_path / "tasks.db"
    SQLiteTaskBackend(db).close()
    url = f"sqlite://{db}"
    status, out, err = run(capsys, str(service), "--tasks", url, "list", "--json")
    assert (status, json.loads(out)) == (0, []), err
    empty = tmp_path / "empty.py"
    empty.write_text("X = 1\n")
    status, _, err = run(capsys, str(empty), "--tasks", url, "list")
    assert status == 2 and "serves no service" in err


@pytest.mark.e2e
def test_against_an_application_on_redis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import ops_app

    redis = RedisServer()
    url = redis.url(queue="cli", prefix="cli:", sync_interval="0.02")
    app = ops_app.make_app(tasks=url)
    worker = Worker(url, tmp_path / "worker.log", app="ops_app:app")
    try:
        tasks = Started(app)
        check_store(capsys, ["ops_app:app", "--tasks", url], tasks)
        redis_idle(redis, "cli:")
    finally:
        worker.stop()
        app.close()
        redis.stop()


def test_the_thread_backend_is_reached_through_the_url(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "ops_app:app", "--tasks", "thread://", "list")
    assert status == 2
    assert "give the application's URL" in err


def test_a_sqlite_store_that_does_not_exist_is_an_error_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mistyped path must not list "no tasks" from a new, empty file."""
    missing = tmp_path / "nowhere.db"
    url = f"sqlite://{missing}"
    service_file = str(SERVICES_DIR / "ops_app.py")
    for argv in ([service_file, "--tasks", url], ["ops_app:app", "--tasks", url]):
        for action in (["list"], ["show", "f" * 40], ["cancel", "f" * 40]):
            status, out, err = run(capsys, *argv, *action)
            assert (status, out, err) == (2, "", f"ladon tasks: no task database at {missing}\n")
    monkeypatch.setenv("LADON_TASKS", f"sqlite:///{missing}")  # four slashes: the same file
    status, _, err = run(capsys, service_file, "list")
    assert (status, err) == (2, f"ladon tasks: no task database at {missing}\n")
    assert not missing.exists()


def test_an_application_on_a_missing_sqlite_store_from_ladon_tasks_is_refused_uncreated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """module:attr of an application built at import from LADON_TASKS: the
    store is checked before the import, which would create the file."""
    missing = tmp_path / "store" / "nope.db"
    missing.parent.mkdir()
    name = "cli_env_app"
    (tmp_path / f"{name}.py").write_text(
        "from ladon import LadonWSGIApplication\n"
        "from ops_app import Jobs\n\n"
        "application = LadonWSGIApplication([Jobs])\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("LADON_TASKS", f"sqlite:///{missing}")
    try:
        for action in (["list"], ["show", "f" * 40], ["cancel", "f" * 40]):
            status, out, err = run(capsys, f"{name}:application", *action)
            assert (status, out, err) == (2, "", f"ladon tasks: no task database at {missing}\n")
        assert not missing.exists()
        assert name not in sys.modules  # refused before the import
    finally:
        sys.modules.pop(name, None)


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[LiveServer, LadonWSGIApplication]]:
    import ops_app

    app = ops_app.make_app(tasks="thread://")
    server = LiveServer(app)
    yield server, app
    server.stop()
    app.close()


@pytest.mark.e2e
def test_against_a_url_as_an_admin(
    live: tuple[LiveServer, LadonWSGIApplication],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, app = live
    tasks = Started(app)
    monkeypatch.setenv("LADON_PASSWORD", "root-pw")
    check_store(capsys, [server.url, "--user", "root"], tasks)


@pytest.mark.e2e
def test_a_url_refuses_other_callers(
    live: tuple[LiveServer, LadonWSGIApplication],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, _app = live
    status, _, err = run(capsys, server.url, "list")
    assert status == 1 and "401" in err
    monkeypatch.setenv("LADON_PASSWORD", "alice-pw")
    status, _, err = run(capsys, server.url, "--user", "alice", "list")
    assert status == 1 and "403" in err and "admin" in err
    monkeypatch.setenv("LADON_PASSWORD", "not-the-password")
    status, _, err = run(capsys, server.url, "--user", "root", "list")
    assert status == 1 and "401" in err and "not-the-password" not in err
    monkeypatch.delenv("LADON_PASSWORD")
    status, _, err = run(capsys, server.url, "--user", "root", "list")
    assert status == 2 and "LADON_PASSWORD" in err
    # credentials in the URL: refused, never sent nor echoed
    status, _, err = run(capsys, server.url.replace("://", "://root:root-pw@"), "list")
    assert status == 2 and "--user" in err and "root-pw" not in err
    # a service's URL instead of the application's: said so
    for path in ("/Jobs", "/Jobs/jsonwsp"):
        status, _, err = run(capsys, server.url + path, "list")
        assert status == 1 and "give the application's URL" in err, err


@pytest.mark.e2e
def test_the_command_itself(live: tuple[LiveServer, LadonWSGIApplication]) -> None:
    server, app = live
    TaskClient(in_process(app), "Jobs").run("crawl", steps=1, pause=0.0)
    done = subprocess.run(
        [sys.executable, "-m", "ladon.cli", "tasks", server.url, "--user", "root", "list"],
        env={**child_env(), "LADON_PASSWORD": "root-pw"},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=os.getcwd(),
    )
    assert done.returncode == 0, done.stderr
    assert "Jobs.crawl" in done.stdout and "succeeded" in done.stdout
