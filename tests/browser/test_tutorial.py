"""docs/tutorial.rst, followed in real headless Chromium: its ``shop.py``
served, and its console steps giving what the text says they give."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ladon.server.wsgi import LadonWSGIApplication

from .conftest import ROOT
from .conftest import Server
from .conftest import _load
from .test_console import _console
from .test_console import _outcome

TUTORIAL = ROOT / "docs" / "tutorial.rst"


def _shop_source() -> str:
    """The first Python block of the tutorial: ``shop.py``."""
    text = TUTORIAL.read_text()
    start = text.index("Write ``shop.py``:")
    block = re.compile(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)")
    found = block.search(text, start)
    assert found is not None, "no shop.py block in the tutorial"
    return textwrap.dedent(found.group(1))


@pytest.fixture(scope="module")
def shop_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    path = tmp_path_factory.mktemp("tutorial") / "shop.py"
    path.write_text(_shop_source())
    app = LadonWSGIApplication([_load(path, "_tutorial_shop")])
    live = Server(app)
    yield live
    live.stop()
    app.close()


def test_the_tutorial_console_steps_show_what_the_tutorial_says(
    page: Any, shop_server: Server, tmp_path: Path
) -> None:
    claimed = re.search(r"through JSON-WSP and shows ``([^`]+)``", TUTORIAL.read_text())
    assert claimed is not None, "the tutorial no longer says what the page shows"
    page.goto(shop_server.url + "/Shop")
    total = _console(page, "total")  # "Open *Try it* under ``total``"
    total.locator('[data-field="items"] .add-item').click()  # "click *add item*"
    item = total.locator(".list-item").first
    item.locator('[data-field="name"] input').fill("tea")  # "fill in tea, 2.5 and 2"
    item.locator('[data-field="price"] input').fill("2.5")
    item.locator('[data-field="quantity"] input').fill("2")
    submit = total.locator("button[type=submit]")
    assert submit.inner_text() == "Call total"
    submit.click()
    assert _outcome(total) == ("Result", claimed.group(1))
    total.screenshot(path=str(tmp_path / "total.png"))

    # "Leave the price empty and the console refuses to send the call"
    item.locator('[data-field="price"] input').fill("")
    submit.click()
    field_error = item.locator('[data-field="price"] .field-error')
    field_error.wait_for()
    assert field_error.inner_text() == "items[0].price is required"
    # "type cheap instead and the service's fault says which argument is wrong"
    item.locator('[data-field="price"] input').fill("cheap")
    submit.click()
    page.wait_for_function(
        "() => document.querySelector('details.console[data-method=total] .outcome-title')"
        ".textContent.startsWith('Fault')"
    )
    title, _ = _outcome(total)
    assert 'Argument "items[0].price": expected a number' in title
