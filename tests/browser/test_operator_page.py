"""The operator page in real headless Chromium: an admin sees the tasks
with progress bars that move, states, durations, failure reasons and
principals, and cancels a task with its button; anyone else is refused.
The docs pages come gzipped to the browser.

With ``LADON_SCREENSHOTS=1`` the page's screenshot is written to
``docs/_static/operator.png`` (the one the docs show)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import LiveServer

from .conftest import SERVICES

if str(SERVICES) not in sys.path:
    sys.path.append(str(SERVICES))

DOCS_STATIC = Path(__file__).resolve().parents[2] / "docs" / "_static"


@pytest.fixture(scope="module")
def ops() -> Iterator[tuple[LiveServer, Any]]:
    import ops_app

    app = ops_app.make_app(tasks="thread://?max_workers=6")
    live = LiveServer(app)
    yield live, app
    live.stop()
    app.close()  # the long tasks were cancelled by the tests


def start(app: Any, method: str, headers: dict[str, str] | None = None, **args: Any) -> str:
    from tasks.backend_support import Client as TaskClient
    from tasks.backend_support import in_process

    return TaskClient(in_process(app, headers), "Jobs").start(method, **args)


def context(browser: Any, user: str | None) -> Any:
    credentials = {"username": user, "password": f"{user}-pw"} if user else None
    return browser.new_context(
        viewport={"width": 1280, "height": 820}, http_credentials=credentials
    )


def open_operator_page(browser: Any, url: str) -> tuple[Any, Any, list[str]]:
    """The operator page, as root: its context, page and the page's errors."""
    ctx = context(browser, "root")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    response = page.goto(f"{url}/_ladon/tasks")
    assert response is not None and response.status == 200
    return ctx, page, errors


def progress_of(page: Any, task_id: str) -> int:
    bar = page.locator(f'tr[data-task-id="{task_id}"] [role=progressbar]')
    return int(bar.get_attribute("aria-valuenow") or "0")


def test_an_admin_follows_and_cancels_tasks(browser: Any, ops: tuple[LiveServer, Any]) -> None:
    from operations.conftest import basic
    from tasks.backend_support import Client as TaskClient
    from tasks.backend_support import in_process

    live, app = ops
    jobs = TaskClient(in_process(app, basic("root")), "Jobs")  # an admin sees every task
    for n in (1, 2, 3):
        jobs.run("crawl", steps=n, pause=0.05)
    failed = start(app, "boom", basic("alice"), reason="the printer is on fire")
    moving = start(app, "crawl", basic("root"), steps=60, pause=0.1)
    stuck = start(app, "crawl", steps=1200, pause=0.05)
    jobs.wait_state("crawl", moving, ("running",))
    ctx, page, errors = open_operator_page(browser, live.url)
    try:
        page.locator(f'tr[data-task-id="{moving}"]').wait_for()
        first = progress_of(page, moving)
        deadline = time.monotonic() + 10
        while progress_of(page, moving) <= first:
            assert time.monotonic() < deadline, "the progress bar did not move"
            page.wait_for_timeout(200)
        assert progress_of(page, moving) > first
        row = page.locator(f'tr[data-task-id="{failed}"]')
        assert row.locator(".op-state").inner_text() == "failed"
        assert row.locator(".op-message").inner_text() == "the printer is on fire"
        assert row.locator(".op-principal").inner_text() == "alice"
        mover = page.locator(f'tr[data-task-id="{moving}"]')
        assert mover.locator(".op-principal").inner_text() == "root"
        assert mover.locator(".op-state").inner_text() == "running"
        assert "s" in mover.locator(".op-duration").inner_text()
        assert page.locator('.op-count[data-state="succeeded"]').inner_text() == "succeeded 3"
        page.wait_for_timeout(300)
        shot = page.screenshot(full_page=True)
        assert shot[:4] == b"\x89PNG"
        if os.environ.get("LADON_SCREENSHOTS"):
            (DOCS_STATIC / "operator.png").write_bytes(shot)
        # cancel the long task with its button
        page.locator(f'tr[data-task-id="{stuck}"] button.op-cancel').click()
        page.locator(f'tr[data-task-id="{stuck}"] .op-state', has_text="cancelled").wait_for(
            timeout=10_000
        )
        assert jobs.progress("crawl", stuck)["state"] == "cancelled"
        assert page.locator(f'tr[data-task-id="{stuck}"] button.op-cancel').count() == 0
        assert not errors, errors
    finally:
        ctx.close()
        jobs.cancel("crawl", moving)
        jobs.cancel("crawl", stuck)


@pytest.mark.parametrize(
    ("user", "status"), [("alice", 403), (None, 401)], ids=["not-admin", "anonymous"]
)
def test_others_are_refused(
    browser: Any, ops: tuple[LiveServer, Any], user: str | None, status: int
) -> None:
    live, _app = ops
    ctx = context(browser, user)
    page = ctx.new_page()
    try:
        if user is None:
            # without credentials Chromium gives up on the Basic challenge:
            # what it was answered is read through the context's requests
            for path in ("/_ladon/tasks", "/_ladon/api/tasks"):
                answer = ctx.request.get(f"{live.url}{path}")
                assert answer.status == status
                assert answer.headers["www-authenticate"].startswith("Basic")
                assert b"op-tasks" not in answer.body()
            return
        response = page.goto(f"{live.url}/_ladon/tasks")
        assert response is not None and response.status == status
        assert page.locator("#op-tasks").count() == 0
        assert "admin" in page.content()
        api = page.goto(f"{live.url}/_ladon/api/tasks")
        assert api is not None and api.status == status
    finally:
        ctx.close()


def test_the_browser_gets_the_docs_pages_gzipped(browser: Any, ops: tuple[LiveServer, Any]) -> None:
    live, _app = ops
    ctx = context(browser, None)
    page = ctx.new_page()
    try:
        response = page.goto(f"{live.url}/Jobs")
        assert response is not None and response.status == 200
        headers = response.all_headers()
        assert headers.get("content-encoding") == "gzip"
        assert "accept-encoding" in headers.get("vary", "").lower()
        assert page.locator("h1").first.inner_text() == "Jobs"
        wsdl = page.goto(f"{live.url}/Jobs/soap/description")
        assert wsdl is not None and wsdl.all_headers().get("content-encoding") == "gzip"
        assert b"definitions" in wsdl.body()
    finally:
        ctx.close()


def test_the_page_lists_every_running_task_and_charts_every_finished_one(
    browser: Any,
) -> None:
    """With more finished tasks than the page lists, the older running task
    is still listed, the chart counts all finished tasks, and a task's
    callback state shows in its row (never its URL)."""
    import ops_app
    from operations.conftest import basic
    from tasks.backend_support import Client as TaskClient
    from tasks.backend_support import in_process
    from tasks.backend_support import wait_until
    from tasks.receiver import SECRET
    from tasks.receiver import Receiver

    from ladon.tasks.admin import admin_of

    app = ops_app.make_app(
        tasks="thread://?max_workers=4",
        callback_hosts=["127.0.0.1"],
        callback_networks=["127.0.0.1/32"],
        callback_secret=SECRET,
    )
    live = LiveServer(app)
    receiver = Receiver()
    jobs = TaskClient(in_process(app, basic("root")), "Jobs")
    old = jobs.start("crawl", steps=2000, pause=0.05)
    jobs.wait_state("crawl", old, ("running",))
    for _ in range(230):
        jobs.start("crawl", steps=0, pause=0.0)
    hooked = TaskClient(
        in_process(app, {"Ladon-Callback-URL": receiver.url("/done?token=s3cret")}), "Jobs"
    ).start("crawl", steps=0, pause=0.0)
    wait_until(
        lambda: "callback delivered" in str(jobs.progress("crawl", hooked)["message"]),
        20.0,
        "the callback delivered",
    )
    store = admin_of(app.task_backend())
    wait_until(lambda: store.counts().get("succeeded") == 231, 30.0, "the tasks")
    ctx, page, errors = open_operator_page(browser, live.url)
    try:
        row = page.locator(f'tr[data-task-id="{old}"]')
        row.wait_for()
        assert row.locator(".op-state").inner_text() == "running"
        assert page.locator("tr.op-task").first.get_attribute("data-task-id") == old
        chart = page.locator("#op-chart[data-finished]")
        chart.wait_for(state="attached")
        assert chart.get_attribute("data-finished") == "231"
        callback = page.locator(f'tr[data-task-id="{hooked}"] .op-callback')
        assert callback.inner_text() == "delivered (HTTP 200)"
        assert "s3cret" not in page.content()
        assert not errors, errors
    finally:
        ctx.close()
        jobs.cancel("crawl", old)
        live.stop()
        receiver.stop()
        app.close()
