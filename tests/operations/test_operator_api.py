"""The operator's task API (``/_ladon/api/tasks``): the ``admin`` role
through the application's authentication; list with filters, show, cancel
(POST as JSON only); every bad request a clear JSON error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from tasks.backend_support import Client as TaskClient
from tasks.backend_support import in_process
from tasks.backend_support import wait_until
from werkzeug.test import Client

from ladon.server.wsgi import LadonWSGIApplication

from .conftest import basic

ADMIN = basic("root")
API = "/_ladon/api/tasks"


@pytest.fixture(scope="module")
def app() -> Iterator[LadonWSGIApplication]:
    import ops_app

    application = ops_app.make_app(tasks="thread://?max_workers=4")
    yield application
    application.close()


@pytest.fixture(scope="module")
def started(app: LadonWSGIApplication) -> dict[str, str]:
    """A succeeded, a failed (by alice) and a running task."""
    jobs = TaskClient(in_process(app), "Jobs")
    done = jobs.start("crawl", steps=1, pause=0.0)
    jobs.wait_state("crawl", done)
    as_alice = TaskClient(in_process(app, basic("alice")), "Jobs")
    failed = as_alice.start("boom", reason="the disk is full")
    as_alice.wait_state("boom", failed)
    running = jobs.start("crawl", steps=400, pause=0.05)
    jobs.wait_state("crawl", running, ("running",))
    return {"done": done, "failed": failed, "running": running}


def get(app: LadonWSGIApplication, path: str, headers: dict[str, str] | None = None) -> Any:
    return Client(app).get(path, headers=ADMIN if headers is None else headers)


def test_only_admins_use_the_task_api_and_the_page(app: LadonWSGIApplication) -> None:
    for path in (API, "/_ladon/tasks", f"{API}/{'a' * 40}"):
        anonymous = get(app, path, {})
        assert anonymous.status_code == 401, path
        assert anonymous.headers["WWW-Authenticate"].startswith("Basic")
        assert get(app, path, basic("alice")).status_code == 403
        assert "admin" in get(app, path, basic("alice")).get_json()["error"]
    assert get(app, "/_ladon/tasks").status_code == 200
    assert "text/html" in get(app, "/_ladon/tasks").headers["Content-Type"]


def test_a_retried_task_shows_its_attempts(request: pytest.FixtureRequest) -> None:
    import ops_app

    app = ops_app.make_app(tasks="thread://?max_workers=2")  # the shared one's tasks are counted
    request.addfinalizer(app.close)
    jobs = TaskClient(in_process(app), "Jobs")
    once = jobs.start("flaky", succeed_on=1)
    third = jobs.start("flaky", succeed_on=3)
    for task_id in (once, third):
        jobs.wait_state("flaky", task_id)
    shown = {t["id"]: t for t in get(app, f"{API}?method=flaky").get_json()["tasks"]}
    assert (shown[third]["state"], shown[third]["attempt"], shown[third]["attempts"]) == (
        "succeeded",
        3,
        3,
    )
    assert (shown[once]["attempt"], shown[once]["attempts"]) == (1, 3)


def test_the_page_links_under_the_public_path_behind_a_trusted_proxy() -> None:
    import ops_app

    app = ops_app.make_app(tasks="thread://", trust_proxy=True)
    try:
        headers = {**ADMIN, "X-Forwarded-Host": "public.example", "X-Forwarded-Prefix": "/gw"}
        html = get(app, "/_ladon/tasks", headers).get_data(as_text=True)
        assert "/gw/_ladon/api/tasks" in html and 'href="/gw/_ladon/static/' in html
        assert "/gw/_ladon/api/tasks" not in get(app, "/_ladon/tasks").get_data(as_text=True)
    finally:
        app.close()


def test_an_app_without_auth_refuses_unless_told() -> None:
    plain = LadonWSGIApplication(["legacy_backend_tasks"])
    refused = Client(plain).get(API)
    assert refused.status_code == 403
    assert "no authenticators" in refused.get_json()["error"]
    told = LadonWSGIApplication(["legacy_backend_tasks"], operator_access="anonymous")
    assert Client(told).get(API).status_code == 200


def test_list_shows_every_field_newest_first(
    app: LadonWSGIApplication, started: dict[str, str]
) -> None:
    data = get(app, API).get_json()
    assert data["backend"] == "thread"
    ids = [t["id"] for t in data["tasks"]]
    assert ids[:3] == [started["running"], started["failed"], started["done"]]
    by_id = {t["id"]: t for t in data["tasks"]}
    failed = by_id[started["failed"]]
    assert failed["state"] == "failed"
    assert failed["error"] == "the disk is full"
    assert failed["principal"] == "alice"
    assert failed["task"] == "Jobs.boom" and failed["service"] == "Jobs"
    assert (failed["attempt"], failed["attempts"]) == (1, 1)
    running = by_id[started["running"]]
    assert running["state"] == "running" and running["principal"] is None
    assert 0 <= running["progress"] < 1 and running["duration"] >= 0
    assert data["counts"]["running"] >= 1


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("state=failed", {"failed"}),
        ("state=running,succeeded", {"running", "done"}),
        ("method=boom", {"failed"}),
        ("service=jobs&method=crawl", {"running", "done"}),
        ("service=Other", set()),
        ("age=1h&limit=1", {"running"}),
        ("state=running&state=failed", {"running", "failed"}),
        ("state=failed&state=running,succeeded", {"running", "failed", "done"}),
    ],
    ids=[
        "state",
        "states",
        "method",
        "service-any-case",
        "other-service",
        "age-limit",
        "repeated-states",
        "repeated-and-comma-states",
    ],
)
def test_list_filters(
    app: LadonWSGIApplication, started: dict[str, str], query: str, expected: set[str]
) -> None:
    names = {v: k for k, v in started.items()}
    found = {names.get(t["id"], "other") for t in get(app, f"{API}?{query}").get_json()["tasks"]}
    assert found == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("state=lost", "state must be among"),
        ("age=yesterday", "age must be seconds"),
        ("age=-5", "age must be seconds"),
        ("limit=0", "limit must be between 1 and 1000"),
        ("limit=99999", "limit must be between 1 and 1000"),
        ("limit=ten", "limit a number"),
        ("state=failed&state=lost", "state must be among"),
        ("method=boom&method=crawl", "method is given 2 times; it takes one value"),
        ("service=Jobs&service=Other", "service is given 2 times"),
        ("limit=1&limit=2", "limit is given 2 times"),
        ("active=1&active=0", "active is given 2 times"),
        ("active=2", "active must be 1, 0, true, false, yes or no"),
        ("active=on", "active must be 1, 0, true, false, yes or no"),
    ],
)
def test_bad_filters_are_400_saying_why(
    app: LadonWSGIApplication, query: str, message: str
) -> None:
    response = get(app, f"{API}?{query}")
    assert response.status_code == 400
    assert message in response.get_json()["error"]


@pytest.mark.parametrize(
    ("value", "active"),
    [("1", True), ("true", True), ("Yes", True), ("0", False), ("FALSE", False), ("no", False)]
    + [("", False)],
    ids=["1", "true", "Yes", "0", "FALSE", "no", "empty"],
)
def test_active_takes_the_documented_yes_and_no_values(
    app: LadonWSGIApplication, value: str, active: bool
) -> None:
    response = get(app, f"{API}?active={value}")
    assert response.status_code == 200
    assert ("active" in response.get_json()) is active


def test_show_and_cancel_by_id(app: LadonWSGIApplication, started: dict[str, str]) -> None:
    shown = get(app, f"{API}/{started['failed']}").get_json()["task"]
    assert shown["id"] == started["failed"] and shown["error"] == "the disk is full"
    client = Client(app)
    url = f"{API}/{started['running']}/cancel"
    assert client.get(url, headers=ADMIN).status_code == 405
    form = client.post(url, data={"x": "1"}, headers=ADMIN)
    assert form.status_code == 415  # no cancel by a cross-site form
    assert client.post(url, json={}, headers=basic("alice")).status_code == 403
    cancelled = client.post(url, json={}, headers=ADMIN)
    assert cancelled.status_code == 200
    assert cancelled.get_json()["task"]["message"] == "cancel requested"

    def ended() -> bool:
        task = get(app, f"{API}/{started['running']}").get_json()["task"]
        return bool(task["state"] == "cancelled")

    wait_until(ended, 10.0, "the task cancelled")


@pytest.mark.parametrize(
    "path", [f"{API}/{'f' * 40}", f"{API}/not-an-id", f"{API}/{'f' * 40}/cancel/more"]
)
def test_unknown_tasks_and_paths_are_404(app: LadonWSGIApplication, path: str) -> None:
    response = get(app, path)
    assert response.status_code == 404
    assert response.get_json()["error"]


def test_a_query_string_of_raw_bytes_that_are_not_utf8_is_400(app: LadonWSGIApplication) -> None:
    from werkzeug.test import EnvironBuilder
    from werkzeug.test import run_wsgi_app

    environ = EnvironBuilder(path=API, headers=list(ADMIN.items())).get_environ()
    environ["QUERY_STRING"] = "state=\xff"  # raw bytes, as wsgiref and mod_wsgi pass them
    body, status, _ = run_wsgi_app(app, environ)
    assert status.startswith("400")
    assert json.loads(b"".join(body))["error"] == "The query string is not valid UTF-8"
