"""What the operator's tools show beyond one listing: a task's completion
callback state in its record (thread, SQLite, Redis; API, ``ladon tasks``),
every pending and running task however many newer tasks exist, and the
throughput of every task that finished (counted by the store, not from the
listed rows)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tasks.backend_support import Client as TaskClient
from tasks.backend_support import RedisServer
from tasks.backend_support import Worker
from tasks.backend_support import in_process
from tasks.backend_support import wait_until
from tasks.receiver import SECRET
from tasks.receiver import Receiver
from werkzeug.test import Client

from ladon.cli import main
from ladon.server.wsgi import LadonWSGIApplication

from .conftest import basic

ADMIN = basic("root")
API = "/_ladon/api/tasks"
#: A token in the callback URL's query: never shown by the operator's tools.
TOKEN = "s3cret-hook-token"
CALLBACK_ENV = {
    "LADON_CALLBACK_HOSTS": "127.0.0.1",
    "LADON_CALLBACK_NETWORKS": "127.0.0.1/32",
    "LADON_CALLBACK_SECRET": SECRET,
}


def api(app: LadonWSGIApplication, path: str) -> Any:
    response = Client(app).get(path, headers=ADMIN)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def callback_app(tasks: str) -> LadonWSGIApplication:
    import ops_app

    return ops_app.make_app(
        tasks=tasks,
        callback_hosts=["127.0.0.1"],
        callback_networks=["127.0.0.1/32"],
        callback_secret=SECRET,
        callback_backoff=0.01,
        callback_attempts=2,
    )


def failed_callback(app: LadonWSGIApplication, receiver: Receiver) -> tuple[str, str]:
    """A task whose callback is refused by its receiver (HTTP 404), and a
    task without a callback."""
    receiver.answer(404)
    hooked = TaskClient(
        in_process(app, {"Ladon-Callback-URL": receiver.url(f"/done?token={TOKEN}")}), "Jobs"
    ).start("boom", reason="out of paper")
    jobs = TaskClient(in_process(app), "Jobs")
    plain = jobs.start("boom", reason="out of ink")
    wait_until(
        lambda: "callback failed" in str(jobs.progress("boom", hooked)["message"]),
        30.0,
        "the callback given up",
    )
    jobs.wait_state("boom", plain, timeout=20)
    return hooked, plain


def check_records(records: dict[str, dict[str, Any]], hooked: str, plain: str) -> None:
    assert records[hooked]["callback"] == "failed (HTTP 404)"
    assert records[plain]["callback"] is None
    assert TOKEN not in json.dumps(records) and "127.0.0.1" not in json.dumps(records)


@pytest.mark.e2e
@pytest.mark.parametrize("kind", ["thread", "sqlite"])
def test_the_record_shows_the_callback_state(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "thread://?max_workers=2" if kind == "thread" else f"sqlite://{tmp_path / 't.db'}"
    app = callback_app(url)
    receiver = Receiver()
    try:
        hooked, plain = failed_callback(app, receiver)
        listed = {t["id"]: t for t in api(app, API)["tasks"]}
        shown = {i: api(app, f"{API}/{i}")["task"] for i in (hooked, plain)}
        check_records(listed, hooked, plain)
        check_records(shown, hooked, plain)
        if kind == "sqlite":  # ladon tasks, the store read directly
            assert main(["tasks", "ops_app:app", "--tasks", url, "list", "--json"]) == 0
            out = capsys.readouterr().out
            check_records({t["id"]: t for t in json.loads(out)}, hooked, plain)
            assert main(["tasks", "ops_app:app", "--tasks", url, "show", hooked]) == 0
            text = capsys.readouterr().out
            assert "callback" in text and "failed (HTTP 404)" in text and TOKEN not in text
    finally:
        receiver.stop()
        app.close()


@pytest.mark.e2e
def test_the_record_shows_the_callback_state_on_redis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    redis = RedisServer()
    url = redis.url(queue="views", prefix="views:", sync_interval="0.02")
    app = callback_app(url)
    worker = Worker(url, tmp_path / "worker.log", app="ops_app:app", env=CALLBACK_ENV)
    receiver = Receiver()
    try:
        hooked, plain = failed_callback(app, receiver)
        check_records({t["id"]: t for t in api(app, API)["tasks"]}, hooked, plain)
        assert main(["tasks", "ops_app:app", "--tasks", url, "show", hooked, "--json"]) == 0
        shown = json.loads(capsys.readouterr().out)
        assert shown["callback"] == "failed (HTTP 404)" and TOKEN not in json.dumps(shown)
    finally:
        receiver.stop()
        worker.stop()
        app.close()
        redis.stop()


@pytest.fixture(params=["thread", "sqlite"])
def crowded(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[LadonWSGIApplication, str, int]]:
    """A running task, then more finished tasks than the page lists."""
    import ops_app

    if request.param == "thread":
        url = "thread://?max_workers=4"
    else:
        url = f"sqlite://{tmp_path / 'crowded.db'}?sync_interval=0.02"
    app = ops_app.make_app(tasks=url)
    jobs = TaskClient(in_process(app), "Jobs")
    running = jobs.start("crawl", steps=2000, pause=0.05)
    jobs.wait_state("crawl", running, ("running",), timeout=20)
    quick = 230
    for _ in range(quick):
        jobs.start("crawl", steps=0, pause=0.0)
    wait_until(
        lambda: api(app, API)["counts"].get("succeeded", 0) == quick, 60.0, "the quick tasks"
    )
    yield app, running, quick
    jobs.cancel("crawl", running)
    app.close()


def test_every_running_task_is_listed_with_active(
    crowded: tuple[LadonWSGIApplication, str, int],
) -> None:
    app, running, _quick = crowded
    plain = api(app, f"{API}?limit=200")
    assert running not in {t["id"] for t in plain["tasks"]}  # 200 newer tasks
    assert "active" not in plain and "throughput" not in plain  # the answer as it was
    data = api(app, f"{API}?limit=200&active=1")
    assert data["counts"]["running"] == 1
    assert [(t["id"], t["state"]) for t in data["active"]] == [(running, "running")]
    assert api(app, f"{API}?active=1&state=succeeded")["active"] == []
    assert api(app, f"{API}?active=1&method=boom")["active"] == []


def test_throughput_counts_every_finished_task(
    crowded: tuple[LadonWSGIApplication, str, int],
) -> None:
    app, _running, quick = crowded
    data = api(app, f"{API}?limit=200&throughput=15")
    chart = data["throughput"]
    assert chart["minutes"] == 15 and len(chart["per_minute"]) == 15
    assert sum(m["finished"] for m in chart["per_minute"]) == quick
    starts = [m["start"] for m in chart["per_minute"]]
    assert starts == sorted(starts) and data["now"] - starts[0] == pytest.approx(900)
    assert all(m["mean_duration"] >= 0 for m in chart["per_minute"])
    filtered = api(app, f"{API}?throughput=5&method=boom")["throughput"]["per_minute"]
    assert len(filtered) == 5 and sum(m["finished"] for m in filtered) == 0


@pytest.mark.parametrize(
    ("query", "message"),
    [("throughput=61", "throughput must be"), ("throughput=x", "throughput must be")]
    + [("active=maybe", "active must be")],
    ids=["too-long", "not-a-number", "active"],
)
def test_bad_options_are_400(query: str, message: str) -> None:
    import ops_app

    app = ops_app.make_app(tasks="thread://")
    try:
        response = Client(app).get(f"{API}?{query}", headers=ADMIN)
        assert response.status_code == 400
        assert message in response.get_json()["error"]
    finally:
        app.close()
