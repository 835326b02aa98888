"""The docs pages and their console in real headless Chromium.

The example services are served under ``/api`` (as a mounted application
would be), so every link, asset and console call must carry the prefix.
Screenshots land in each test's ``tmp_path``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .conftest import Server


def _console(page: Any, method: str) -> Any:
    """Open the console of ``method`` and return its element."""
    details = page.locator(f'details.console[data-method="{method}"]')
    details.locator("> summary").click()
    details.locator(".fields .field").first.wait_for()
    return details


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
    assert len(calls) == 4
    for suffix in ("_progress", "_result", "_cancel"):
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
    details.locator(".cancel").click()
    page.wait_for_function(
        "() => document.querySelector('details[data-method=taskExample]').dataset.state === 'cancelled'"
    )
    assert details.locator(".task-state").inner_text().lower() == "cancelled"
    title, _ = _outcome(details)
    assert title == "Cancelled"
    assert int(details.locator(".bar").get_attribute("aria-valuenow") or "100") < 100
    details.screenshot(path=str(tmp_path / "task-cancelled.png"))
