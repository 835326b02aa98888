"""The console and declared constraints (issue 16), in real headless
Chromium: the rules are shown beside the type, an enumeration is a choice
list, and a value breaking a rule is refused before anything is sent, with
the message the server would give; lists too (the rules of their items,
and of their number of items)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated
from typing import Any

import pytest
from annotated_types import Le
from annotated_types import Len
from annotated_types import MaxLen

from ladon import LadonType
from ladon import ladonize
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


class Basket(LadonType):
    """Counted things."""

    counts: list[Annotated[int, Le(30)]]
    tags: Annotated[list[str], MaxLen(2)]


class Lists:
    """Lists with rules: on their items, and on their number of items."""

    @ladonize()
    def counts(self, counts: list[Annotated[int, Le(30)]]) -> int:
        return sum(counts)

    @ladonize()
    def pick(self, values: Annotated[list[int], Len(1, 2)]) -> int:
        return len(values)

    @ladonize()
    def basket(self, basket: Basket) -> int:
        return len(basket.counts) + len(basket.tags)

    @ladonize()
    def grid(self, rows: list[list[int]]) -> int:
        return sum(len(row) for row in rows)

    @ladonize()
    def big(self, n: int) -> list[int]:
        return [n, 2**64 + 1, -(2**70), 7]


@pytest.fixture(scope="module")
def lists() -> Iterator[Server]:
    app = LadonWSGIApplication([Lists])
    live = Server(app)
    yield live
    live.stop()
    app.close()


def _add_items(list_group: Any, *values: str) -> None:
    for value in values:
        list_group.locator(":scope > .group-head .add-item").click()
        list_group.locator(":scope > .list-items > .list-item input").last.fill(value)


def _refused(console: Any) -> str:
    console.locator("button[type=submit]").click()
    error = console.locator(".form-error")
    error.wait_for()
    return str(error.inner_text())


def test_a_list_item_breaking_its_rule_is_refused_before_sending(
    page: Any, lists: Server, tmp_path: Path
) -> None:
    page.goto(lists.url + "/Lists")
    sent = _sent(page)
    counts = _console(page, "counts")
    field = counts.locator('[data-field="counts"]')
    assert field.locator(".ftype").inner_text() == "[int (≤ 30)]"
    group = field.locator(".group.list")
    _add_items(group, "3", "31")
    item = group.locator(".list-item input").last
    assert item.get_attribute("max") == "30"
    assert _refused(counts) == "Not sent: counts[1] must be ≤ 30."
    assert group.locator(".list-item .field-error").last.inner_text() == "counts[1] must be ≤ 30"
    counts.screenshot(path=str(tmp_path / "list-item-rule.png"))
    assert sent == []
    item.fill("30")
    counts.locator("button[type=submit]").click()
    assert _outcome(counts) == ("Result", "33")
    assert sent == ["counts"]


def test_a_list_breaking_its_length_rule_is_refused_before_sending(
    page: Any, lists: Server
) -> None:
    page.goto(lists.url + "/Lists")
    sent = _sent(page)
    pick = _console(page, "pick")
    field = pick.locator('[data-field="values"]')
    assert "at least 1 item" in field.locator(".ftype").inner_text()
    group = field.locator(".group.list")
    assert _refused(pick) == "Not sent: values must have at least 1 item."
    assert group.locator(":scope > .field-error").inner_text() == (
        "values must have at least 1 item"
    )
    _add_items(group, "1", "2", "3")
    assert group.locator(":scope > .field-error").is_hidden()  # the count changed
    assert _refused(pick) == "Not sent: values must have at most 2 items."
    assert sent == []
    group.locator(".remove-item").last.click()
    pick.locator("button[type=submit]").click()
    assert _outcome(pick) == ("Result", "2")
    assert sent == ["pick"]


def test_the_list_fields_of_a_ladontype_keep_their_rules(page: Any, lists: Server) -> None:
    page.goto(lists.url + "/Lists")
    sent = _sent(page)
    basket = _console(page, "basket")
    counts = basket.locator('[data-field="counts"] .group.list')
    tags = basket.locator('[data-field="tags"] .group.list')
    _add_items(counts, "40")
    _add_items(tags, "a", "b", "c")
    assert _refused(basket) == (
        "Not sent: basket.counts[0] must be ≤ 30; basket.tags must have at most 2 items."
    )
    assert sent == []
    counts.locator(".list-item input").fill("4")
    tags.locator(".remove-item").last.click()
    basket.locator("button[type=submit]").click()
    assert _outcome(basket) == ("Result", "3")
    assert sent == ["basket"]


def test_each_list_of_a_list_of_lists_counts_its_own_items(page: Any, lists: Server) -> None:
    page.goto(lists.url + "/Lists")
    grid = _console(page, "grid")
    outer = grid.locator('[data-field="rows"] .group.list').first
    outer.locator(":scope > .group-head .add-item").click()
    outer.locator(":scope > .group-head .add-item").click()
    inner = outer.locator(":scope > .list-items > .list-item > .group.list")
    _add_items(inner.first, "1", "2")
    assert outer.locator(":scope > .group-head .count").inner_text() == "2 items"
    assert inner.first.locator(":scope > .group-head .count").inner_text() == "2 items"
    assert inner.last.locator(":scope > .group-head .count").inner_text() == "0 items"
    grid.locator("button[type=submit]").click()
    assert _outcome(grid) == ("Result", "2")


def test_integers_beyond_javascripts_safe_range_are_shown_as_sent(page: Any, lists: Server) -> None:
    page.goto(lists.url + "/Lists")
    big = _console(page, "big")
    big.locator('[data-field="n"] input').fill("5")
    big.locator("button[type=submit]").click()
    title, body = _outcome(big)
    assert title == "Result"
    assert body.split() == [
        "[",
        "5,",
        "18446744073709551617,",
        "-1180591620717411303424,",
        "7",
        "]",
    ]
