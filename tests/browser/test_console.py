"""The docs pages and their console in real headless Chromium.

The example services are served under ``/api`` (as a mounted application
would be), so every link, asset and console call must carry the prefix.
Screenshots land in each test's ``tmp_path``.
"""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

from .conftest import Server


def _console(page: Any, method: str) -> Any:
    """Open the console of ``method`` and return its element."""
    details = page.locator(f'details.console[data-method="{method}"]')
    details.locator("> summary").click()
    details.locator(".fields .field").first.wait_for()
    return details


def _sent(page: Any) -> list[str]:
    """Record the method names the page posts from now on (the list fills
    as requests go out)."""
    sent: list[str] = []

    def record(request: Any) -> None:
        if request.method == "POST" and request.url.endswith("/jsonwsp"):
            sent.append(json.loads(request.post_data or "{}").get("methodname", "?"))

    page.on("request", record)
    return sent


def _wait_state(page: Any, method: str, state: str) -> None:
    """Wait until the console of ``method`` is in ``state`` (its data-state)."""
    page.wait_for_function(
        "([m, s]) => document.querySelector(`details.console[data-method=${m}]`).dataset.state === s",
        arg=[method, state],
    )


def _wait_bar(page: Any, method: str, percent: int) -> None:
    page.wait_for_function(
        "([m, p]) => document.querySelector(`details[data-method=${m}] .bar`)"
        ".getAttribute('aria-valuenow') === String(p)",
        arg=[method, percent],
    )


def _outcome(details: Any) -> tuple[str, str]:
    outcome = details.locator(".outcome")
    outcome.wait_for()
    return outcome.locator(".outcome-title").inner_text(), outcome.locator(
        ".outcome-body"
    ).inner_text()


def test_catalog_lists_the_services_and_opens_one(
    page: Any, server: Server, tmp_path: Path
) -> None:
    page.goto(server.url + "/")
    assert page.locator("h1").inner_text() == "Example services"
    cards = page.locator(".service-card h2 a")
    names = cards.all_inner_texts()
    assert {"Calculator", "TaskService", "InstanceService", "Shapes"} <= set(names)
    assert "Arithmetic over SOAP" in page.locator(".service-card").first.inner_text()
    # the stylesheet came from the package, under the prefix
    topbar = page.locator(".topbar").evaluate("e => getComputedStyle(e).backgroundColor")
    assert topbar == "rgb(28, 37, 64)"
    page.screenshot(path=str(tmp_path / "catalog.png"), full_page=True)

    page.get_by_role("link", name="InstanceService").click()
    page.wait_for_url("**/api/InstanceService")
    assert page.locator("main h1").inner_text() == "InstanceService"
    assert "Clones virtual machine instances" in page.locator(".service-doc").inner_text()
    task = page.locator("#method-cloneInstance")
    assert "task" in task.locator(".badge").first.inner_text()
    calls = task.locator(".task-calls li").all_inner_texts()
    assert len(calls) == 5
    for suffix in ("_progress", "_result", "_cancel", "_wait"):
        assert any(f"cloneInstance{suffix}" in c for c in calls)
    # the type of the result is linked to its definition
    task.locator('a.type[href="#type-InstanceInformation"]').first.click()
    assert page.locator("#type-InstanceInformation").is_visible()
    # every interface description is linked, under the prefix
    hrefs = page.locator("#interfaces a").evaluate_all(
        "els => els.map(e => e.getAttribute('href'))"
    )
    assert "/api/InstanceService/soap/description" in hrefs
    assert "/api/InstanceService/jsonwsp/description" in hrefs
    assert page.locator("#service").get_attribute("data-console") == "ready"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(tmp_path / "service.png"), full_page=True)


def test_console_calls_a_method_with_a_list_of_nested_types(
    page: Any, server: Server, tmp_path: Path
) -> None:
    page.goto(server.url + "/Calculator")
    details = _console(page, "statistics")
    add = details.locator(".add-item")
    for _ in range(3):
        add.click()
    items = details.locator(".list-item")
    assert items.count() == 3
    items.nth(2).locator(".remove-item").click()  # a list item can be removed again
    assert items.count() == 2
    for i, (label, value) in enumerate([("low", "1.5"), ("high", "4.5")]):
        item = items.nth(i)
        item.locator('[data-field="label"] input').fill(label)
        item.locator('[data-field="value"] input').fill(value)
    details.locator("button[type=submit]").click()
    title, body = _outcome(details)
    assert title == "Result"
    result = json.loads(body)
    assert result["count"] == 2
    assert result["total"] == 6.0
    assert result["mean"] == 3.0
    assert result["largest"] == {"label": "high", "value": 4.5}
    request = details.locator(".wire-request").text_content() or ""
    assert '"methodname": "statistics"' in request
    assert request.startswith("POST /api/Calculator/jsonwsp")
    details.screenshot(path=str(tmp_path / "statistics.png"))


def test_console_sends_nested_optional_types_and_booleans(page: Any, server: Server) -> None:
    page.goto(server.url + "/Shapes")
    details = _console(page, "echo_polygon")
    polygon = details.locator('[data-field="polygon"]')
    polygon.locator('[data-field="name"] input').first.fill("tri")
    points = polygon.locator('[data-field="points"]')
    points.locator(".add-item").click()
    points.locator('[data-field="x"] input').fill("3")
    points.locator('[data-field="y"] input').fill("4")
    style = polygon.locator('[data-field="style"]')
    style.locator("input.include").check()
    style.locator('[data-field="dashed"] input').check()
    details.locator("button[type=submit]").click()
    title, body = _outcome(details)
    assert title == "Result", body
    result = json.loads(body)
    assert result["name"] == "tri"
    assert result["points"] == [{"x": 3, "y": 4}]
    assert result["style"] == {"color": "black", "dashed": True, "width": None}

    negate = _console(page, "negate")
    negate.locator('[data-field="flag"] input[type=checkbox]').check()
    negate.locator("button[type=submit]").click()
    assert _outcome(negate) == ("Result", "false")


def test_console_shows_faults(page: Any, server: Server, tmp_path: Path) -> None:
    page.goto(server.url + "/Calculator")
    add = _console(page, "add")
    add.locator('[data-field="a"] input').fill("two")
    add.locator('[data-field="b"] input').fill("3")
    add.locator("button[type=submit]").click()
    title, body = _outcome(add)
    assert title.startswith("Fault (client)")
    assert '"a"' in title
    assert "fault" in (add.locator(".outcome").get_attribute("class") or "")

    divide = _console(page, "divide")
    divide.locator('[data-field="a"] input').fill("1")
    divide.locator('[data-field="b"] input').fill("0")
    divide.locator("button[type=submit]").click()
    title, body = _outcome(divide)
    assert title == "Fault (client): Cannot divide by zero"
    assert "hint: pass a non-zero b" in body
    divide.screenshot(path=str(tmp_path / "fault.png"))

    # an optional parameter may be left empty: its default applies
    divide.locator('[data-field="a"] input').fill("7")
    divide.locator('[data-field="b"] input').fill("")
    divide.locator("button[type=submit]").click()
    page.wait_for_function(
        "() => document.querySelector('details.console[data-method=divide]').dataset.state === 'done'"
    )
    title, body = _outcome(divide)
    assert title == "Result"
    assert json.loads(body) == 7.0


def test_task_progress_bar_reaches_100_and_the_result_appears(
    page: Any, server: Server, tmp_path: Path
) -> None:
    page.goto(server.url + "/InstanceService")
    details = _console(page, "cloneInstance")
    details.locator('[data-field="instance_id"] input').fill("i-42")
    details.locator('[data-field="new_instance_name"] input').fill("Web Two")
    details.locator("button[type=submit]").click()
    bar = details.locator(".bar")
    # the bar moves while the task runs, with the task's messages
    page.wait_for_function(
        """() => {
            const bar = document.querySelector('details[data-method=cloneInstance] .bar');
            const n = Number(bar.getAttribute('aria-valuenow'));
            return n > 0 && n < 100;
        }"""
    )
    message = details.locator(".task-message").inner_text()
    assert any(step in message for step in ("copy disks", "configure network", "boot"))
    assert details.locator(".task-state").inner_text().lower() == "running"
    assert details.locator(".cancel").is_visible()
    details.screenshot(path=str(tmp_path / "task-running.png"))

    page.wait_for_function(
        "() => document.querySelector('details[data-method=cloneInstance]').dataset.state === 'done'"
    )
    assert bar.get_attribute("aria-valuenow") == "100"
    assert bar.locator(".bar-label").inner_text() == "100%"
    assert details.locator(".task-state").inner_text().lower() == "succeeded"
    title, body = _outcome(details)
    assert title == "Result"
    result = json.loads(body)
    assert result["instance_id"] == "i-web-two"
    assert result["source_id"] == "i-42"
    assert result["disks"] == ["i-web-two-root"]
    assert not details.locator(".cancel").is_visible()
    assert "bar-stopped" not in (bar.get_attribute("class") or "")
    assert details.locator("button[type=submit]").is_enabled()
    page.wait_for_timeout(400)  # let the bar's width transition end
    details.screenshot(path=str(tmp_path / "task-done.png"))


def test_a_running_task_can_be_cancelled(page: Any, server: Server, tmp_path: Path) -> None:
    page.goto(server.url + "/TaskService")
    details = _console(page, "taskExample")
    details.locator('[data-field="session_id"] input').fill("s1")
    details.locator('[data-field="counter"] input').fill("5")
    details.locator("button[type=submit]").click()
    page.wait_for_function(
        "() => document.querySelector('details[data-method=taskExample]').dataset.state === 'running'"
    )
    start = details.locator("button[type=submit]")
    assert start.is_disabled()  # one task at a time
    details.locator(".cancel").click()
    page.wait_for_function(
        "() => document.querySelector('details[data-method=taskExample]').dataset.state === 'cancelled'"
    )
    assert details.locator(".task-state").inner_text().lower() == "cancelled"
    title, body = _outcome(details)
    assert title == "Cancelled"
    # the bar stays where the task stopped, not at the 100% of an ended task
    bar = details.locator(".bar")
    percent = int(bar.get_attribute("aria-valuenow") or "100")
    assert percent < 100
    assert bar.locator(".bar-label").inner_text() == f"cancelled at {percent}%"
    assert f"cancelled at {percent}%" in body
    assert "bar-cancelled" in (bar.get_attribute("class") or "")
    assert start.is_enabled()
    details.screenshot(path=str(tmp_path / "task-cancelled.png"))


def test_cancel_follows_the_task_until_it_stops_and_freezes_the_bar_there(
    page: Any, server: Server, gates: types.ModuleType, tmp_path: Path
) -> None:
    page.goto(server.url + "/ConsoleTasks")
    details = _console(page, "steps")
    details.locator('[data-field="gate"] input').fill("cancel-1")
    sent = _sent(page)
    details.locator("button[type=submit]").click()
    _wait_bar(page, "steps", 25)
    state = details.locator(".task-state")
    message = details.locator(".task-message")
    bar = details.locator(".bar")
    start = details.locator("button[type=submit]")
    cancel = details.locator(".cancel")
    assert state.inner_text().lower() == "running"
    assert "step 1 of 4" in message.inner_text()
    assert start.is_disabled()

    cancel.click()
    # the task looks at nothing until its gate opens: it runs on, and the
    # console says that a cancel was requested and keeps following it
    page.wait_for_function(
        "() => document.querySelector('details[data-method=steps] .task-message')"
        ".textContent.startsWith('cancel requested')"
    )
    assert state.inner_text().lower() == "running"
    assert cancel.is_disabled() and cancel.inner_text() == "Cancel requested"
    # followed with steps_wait calls (each returns after 0.4 s while the task
    # runs), not with timed polls of steps_progress
    waits = sent.count("steps_wait")
    page.wait_for_timeout(1500)
    assert sent.count("steps_wait") > waits
    assert "steps_progress" not in sent
    assert state.inner_text().lower() == "running"
    assert message.inner_text().startswith("cancel requested")
    assert bar.get_attribute("aria-valuenow") == "25"
    assert start.is_disabled()
    details.screenshot(path=str(tmp_path / "cancel-requested.png"))

    gates.gate("cancel-1").set()  # its next report stops it
    _wait_state(page, "steps", "cancelled")
    assert state.inner_text().lower() == "cancelled"
    assert message.inner_text().startswith("cancelled")
    assert bar.get_attribute("aria-valuenow") == "25"  # not the 100% of an ended task
    assert bar.locator(".bar-label").inner_text() == "cancelled at 25%"
    assert "bar-cancelled" in (bar.get_attribute("class") or "")
    assert bar.locator(".bar-fill").evaluate("e => e.style.width") == "25%"
    title, body = _outcome(details)
    assert title == "Cancelled"
    assert body == "The task was cancelled at 25%; it has no result."
    assert not cancel.is_visible()
    assert start.is_enabled()
    assert sent.count("steps") == 1 and sent.count("steps_cancel") == 1
    assert "steps_result" not in sent
    details.screenshot(path=str(tmp_path / "cancelled-at-25.png"))


def test_a_failed_task_shows_failed_where_it_stopped_and_why(
    page: Any, server: Server, gates: types.ModuleType, tmp_path: Path
) -> None:
    page.goto(server.url + "/ConsoleTasks")
    details = _console(page, "breaks")
    details.locator('[data-field="gate"] input').fill("fail-1")
    details.locator('[data-field="reason"] input').fill("disk full")
    details.locator("button[type=submit]").click()
    _wait_bar(page, "breaks", 25)
    gates.gate("fail-1").set()
    _wait_state(page, "breaks", "failed")
    bar = details.locator(".bar")
    assert details.locator(".task-state").inner_text().lower() == "failed"
    assert bar.get_attribute("aria-valuenow") == "25"
    assert bar.locator(".bar-label").inner_text() == "failed at 25%"
    assert "bar-failed" in (bar.get_attribute("class") or "")
    assert "The task failed: disk full" in details.locator(".task-message").inner_text()
    title, _ = _outcome(details)
    assert title == "Fault (server): The task failed: disk full"
    assert details.locator("button[type=submit]").is_enabled()
    details.screenshot(path=str(tmp_path / "failed-at-25.png"))


def test_start_task_is_disabled_while_its_task_runs(
    page: Any, server: Server, gates: types.ModuleType
) -> None:
    page.goto(server.url + "/ConsoleTasks")
    details = _console(page, "steps")
    gate = details.locator('[data-field="gate"] input')
    gate.fill("busy-1")
    sent = _sent(page)
    start = details.locator("button[type=submit]")
    start.click()
    _wait_bar(page, "steps", 25)
    task_line = details.locator(".task-id").inner_text()
    assert start.is_disabled()
    # neither Enter in a field nor a scripted submit starts a second task
    gate.press("Enter")
    details.locator("form").evaluate("f => f.requestSubmit()")
    start.dispatch_event("click")
    page.wait_for_timeout(600)
    assert sent.count("steps") == 1
    assert details.locator(".task-id").inner_text() == task_line

    gates.gate("busy-1").set()
    _wait_state(page, "steps", "done")
    assert details.locator(".bar-label").inner_text() == "100%"
    assert _outcome(details) == ("Result", '"all four steps"')
    assert start.is_enabled()
    start.click()  # enabled again: a new task
    page.wait_for_function(
        "t => document.querySelector('details[data-method=steps] .task-id').textContent !== t",
        arg=task_line,
    )
    assert sent.count("steps") == 2


def test_console_refuses_a_call_with_a_required_field_empty(
    page: Any, server: Server, tmp_path: Path
) -> None:
    page.goto(server.url + "/Calculator")
    sent = _sent(page)
    add = _console(page, "add")
    add.locator('[data-field="a"] input').fill("2")
    add.locator("button[type=submit]").click()
    b = add.locator('[data-field="b"]')
    error = b.locator(".field-error")
    error.wait_for()
    assert error.inner_text() == "b is required"
    assert b.locator("input").get_attribute("aria-invalid") == "true"
    assert add.locator(".form-error").inner_text() == "Not sent: the required field b is empty."
    assert b.locator("input").evaluate("e => e === document.activeElement")
    assert add.get_attribute("data-state") == "idle"
    assert not add.locator(".outcome").is_visible() and not add.locator(".wire").is_visible()
    add.screenshot(path=str(tmp_path / "required.png"))
    assert sent == []  # nothing was sent

    b.locator("input").fill("3")  # typing clears the field's message
    assert not error.is_visible()
    add.locator("button[type=submit]").click()
    assert _outcome(add) == ("Result", "5")
    assert not add.locator(".form-error").is_visible()
    assert sent == ["add"]

    # in nested types and list items too, named as the server names them
    stats = _console(page, "statistics")
    stats.locator(".add-item").click()
    stats.locator('[data-field="label"] input').fill("x")
    stats.locator("button[type=submit]").click()
    value_error = stats.locator('[data-field="value"] .field-error')
    value_error.wait_for()
    assert value_error.inner_text() == "operands[0].value is required"
    assert "operands[0].value" in stats.locator(".form-error").inner_text()
    assert sent == ["add"]


def test_start_task_refuses_empty_required_fields(page: Any, server: Server) -> None:
    page.goto(server.url + "/TaskService")
    sent = _sent(page)
    details = _console(page, "taskExample")
    details.locator("button[type=submit]").click()
    form_error = details.locator(".form-error")
    form_error.wait_for()
    assert form_error.inner_text() == (
        "Not sent: the required fields session_id, counter are empty."
    )
    assert details.locator('[data-field="session_id"] .field-error').inner_text() == (
        "session_id is required"
    )
    assert details.locator('[data-field="counter"] .field-error').inner_text() == (
        "counter is required"
    )
    assert not details.locator(".task").is_visible()
    assert details.locator("button[type=submit]").is_enabled()
    assert sent == []


def test_a_nullable_parameter_left_empty_is_sent_as_null(page: Any, server: Server) -> None:
    page.goto(server.url + "/ConsoleTasks")
    note = _console(page, "note")
    note.locator("button[type=submit]").click()
    assert _outcome(note) == ("Result", '"null"')
    assert not note.locator(".form-error").is_visible()
    note.locator('[data-field="text"] input').fill("hi")
    note.locator("button[type=submit]").click()
    page.wait_for_function(
        "() => document.querySelector('details[data-method=note] .outcome-body')"
        ".textContent.includes('hi')"
    )
    assert _outcome(note) == ("Result", "\"text 'hi'\"")
