"""The console and declared constraints (issue 16), in real headless
Chromium: the rules are shown beside the type, an enumeration is a choice
list, and a value breaking a rule is refused before anything is sent, with
the message the server would give."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ladon.server.wsgi import LadonWSGIApplication

from .conftest import SERVICES
from .conftest import Server
from .conftest import _load
from .test_console import _console
from .test_console import _outcome
from .test_console import _sent


@pytest.fixture(scope="module")
def limits() -> Iterator[Server]:
    module = _load(SERVICES / "constrained.py", "_browser_constrained")
    app = LadonWSGIApplication([module])
    live = Server(app)
    yield live
    live.stop()
    app.close()


def test_a_value_breaking_a_rule_is_refused_before_sending(
    page: Any, limits: Server, tmp_path: Path
) -> None:
    page.goto(limits.url + "/Limits")
    sent = _sent(page)
    ge = _console(page, "ge")
    field = ge.locator('[data-field="value"]')
    assert "≥ 1" in field.locator(".ftype").inner_text()
    field.locator("input").fill("0")
    ge.locator("button[type=submit]").click()
    error = field.locator(".field-error")
    error.wait_for()
    assert error.inner_text() == "value must be ≥ 1"
    assert ge.locator(".form-error").inner_text() == "Not sent: value must be ≥ 1."
    ge.screenshot(path=str(tmp_path / "rule.png"))
    assert sent == []
    field.locator("input").fill("1")
    ge.locator("button[type=submit]").click()
    assert _outcome(ge) == ("Result", "1")
    assert sent == ["ge"]

    pattern = _console(page, "pattern")
    pattern.locator('[data-field="value"] input').fill("ab1")
    pattern.locator("button[type=submit]").click()
    pattern.locator(".form-error").wait_for()
    assert pattern.locator(".form-error").inner_text() == "Not sent: value must match [a-z]+."
    assert sent == ["ge"]


def test_an_enumeration_is_a_choice_list(page: Any, limits: Server) -> None:
    page.goto(limits.url + "/Limits")
    color = _console(page, "color")
    select = color.locator('[data-field="value"] select')
    options = select.locator("option").all_inner_texts()
    assert options[1:] == ["red", "green"]
    select.select_option(label="green")
    color.locator("button[type=submit]").click()
    assert _outcome(color) == ("Result", '"green"')


def test_what_the_console_lets_through_the_server_still_checks(page: Any, limits: Server) -> None:
    page.goto(limits.url + "/Limits")
    multiple = _console(page, "multiple")  # MultipleOf: checked by the server only
    multiple.locator('[data-field="value"] input').fill("7")
    multiple.locator("button[type=submit]").click()
    title, _body = _outcome(multiple)
    assert title == 'Fault (client): Argument "value": must be a multiple of 5, got 7'
