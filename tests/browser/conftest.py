"""Browser fixtures: Debian's chromium driven by Playwright, and a live
server with the example services mounted under a URL prefix."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import BaseWSGIServer
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from ladon.server.wsgi import LadonWSGIApplication

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SERVICES = ROOT / "tests" / "services"
PREFIX = "/api"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str:
    """Debian's chromium; the tests fail (never skip) without it."""
    found = os.environ.get("LADON_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(found):
        pytest.fail(
            "Chromium is needed for the browser tests and was not found: "
            "apt-get install -y chromium",
            pytrace=False,
        )
    return found


def _load(path: Path, name: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class Server:
    """The app mounted at ``/api`` on 127.0.0.1 (a free port), in a thread."""

    def __init__(self, app: LadonWSGIApplication) -> None:
        def outside(environ: dict[str, Any], start_response: Any) -> Any:
            return Response("not here", status=404)(environ, start_response)

        wsgi = DispatcherMiddleware(outside, {PREFIX: app})
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}{PREFIX}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture(scope="session")
def example_app() -> Iterator[LadonWSGIApplication]:
    calculator = _load(EXAMPLES / "calculator.py", "_browser_calculator")
    tasks: Any = _load(EXAMPLES / "tasks.py", "_browser_tasks")
    tasks.STEP_SECONDS = 0.25  # cloneInstance: four steps, one second in all
    shapes = _load(SERVICES / "legacy_shapes.py", "_browser_shapes")
    held = _load(SERVICES / "console_tasks.py", "_browser_console_tasks")
    application = LadonWSGIApplication(
        [calculator, tasks, shapes, held], catalog_name="Example services"
    )
    yield application
    held.open_all()
    application.close()


@pytest.fixture()
def gates(example_app: LadonWSGIApplication) -> Iterator[types.ModuleType]:
    """The gates of ``tests/services/console_tasks.py`` (``gates.gate(name)``
    is a ``threading.Event``); all are opened after the test."""
    module = sys.modules["_browser_console_tasks"]
    yield module
    module.open_all()


@pytest.fixture(scope="session")
def server(example_app: LadonWSGIApplication) -> Iterator[Server]:
    live = Server(example_app)
    yield live
    live.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        yield instance
        instance.close()


@pytest.fixture()
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on(
        "console",
        lambda msg: errors.append(msg.text) if msg.type == "error" else None,
    )
    tab.set_default_timeout(10_000)
    yield tab
    context.close()
    assert not errors, f"errors in the page: {errors}"
