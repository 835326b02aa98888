"""Identity in real headless Chromium: the console calls a protected method
with credentials typed into the page (kept in memory only), and pages of
other origins call JSON-RPC with fetch: one that ``cors_origins`` lists
gets its answer, one it does not is blocked by the browser."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import BaseWSGIServer
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from .conftest import SERVICES

if str(SERVICES) not in sys.path:
    sys.path.append(str(SERVICES))

import auth_app

PAGE = """<!doctype html><html><body><script>
fetch("%(url)s", {
  method: "POST",
  headers: {"Content-Type": "application/json", "Authorization": "Basic %(basic)s"},
  body: JSON.stringify({jsonrpc: "2.0", method: "whoami", params: [], id: 1})
}).then(r => r.json()).then(
  data => { document.body.dataset.outcome = "answer:" + data.result; },
  err => { document.body.dataset.outcome = "blocked:" + err.name; });
</script></body></html>"""


class Threaded:
    """A WSGI app on 127.0.0.1 (a free port), in a thread."""

    def __init__(self, app: Any) -> None:
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


class Origins:
    """Two origins serving the calling page (filled once Ladon's port is known)."""

    def __init__(self) -> None:
        self.target = ""
        self.friend = Threaded(self.app)
        self.stranger = Threaded(self.app)

    def app(self, environ: dict[str, Any], start_response: Any) -> Any:
        import base64

        page = PAGE % {
            "url": self.target,
            "basic": base64.b64encode(b"root:root-pw").decode(),
        }
        return Response(page, content_type="text/html")(environ, start_response)


@pytest.fixture(scope="module")
def origins() -> Iterator[Origins]:
    made = Origins()
    yield made
    made.friend.stop()
    made.stranger.stop()


@pytest.fixture(scope="module")
def ladon(origins: Origins) -> Iterator[Threaded]:
    app = auth_app.make_app(cors_origins=[origins.friend.origin])
    served = Threaded(app)
    origins.target = f"{served.origin}/Vault/jsonrpc"
    yield served
    served.stop()
    app.close()


def _outcome(page: Any) -> str:
    page.wait_for_function("() => document.body && document.body.dataset.outcome")
    return str(page.evaluate("() => document.body.dataset.outcome"))


def test_a_listed_origin_calls_json_rpc_with_fetch_and_an_unlisted_one_is_blocked(
    browser: Any, ladon: Threaded, origins: Origins
) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        messages: list[str] = []
        page.on("console", lambda msg: messages.append(msg.text))
        page.goto(origins.friend.origin + "/")
        assert _outcome(page) == "answer:root:admin"
        assert not messages
        page.goto(origins.stranger.origin + "/")
        assert _outcome(page) == "blocked:TypeError"
        assert any("CORS policy" in m for m in messages), messages  # the browser says why
    finally:
        context.close()


@pytest.fixture()
def tab(browser: Any) -> Iterator[Any]:
    """A page whose refused calls (401, 403: Chromium logs them as errors)
    are expected; any other error in the page fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def console(msg: Any) -> None:
        expected = "status of 401" in msg.text or "status of 403" in msg.text
        if msg.type == "error" and not expected:
            errors.append(msg.text)

    page.on("console", console)
    yield page
    context.close()
    assert not errors, f"errors in the page: {errors}"


def _console(page: Any, method: str) -> Any:
    details = page.locator(f'details.console[data-method="{method}"]')
    details.locator("> summary").click()
    return details


def _call(details: Any) -> tuple[str, str]:
    details.locator("button[type=submit]").click()
    outcome = details.locator(".outcome")
    outcome.wait_for()
    details.page.wait_for_function(
        "d => ['done', 'fault'].includes(d.dataset.state)", arg=details.element_handle()
    )
    return outcome.locator(".outcome-title").inner_text(), outcome.locator(
        ".outcome-body"
    ).inner_text()


def test_console_sends_credentials_typed_into_the_page(
    tab: Any, ladon: Threaded, tmp_path: Path
) -> None:
    page = tab
    page.goto(ladon.origin + "/Vault")
    panel = page.locator("#authentication")
    assert "WS-Security UsernameToken" in panel.inner_text()
    assert page.locator("#method-audit .badge-access").inner_text() == "role admin"
    audit = _console(page, "audit")
    title, body = _call(audit)
    assert title.startswith("Fault (client): Authentication required")
    page.select_option("#cred-scheme", "Basic")
    page.fill("#cred-user", "bob")
    page.fill("#cred-password", "bob-pw")
    title, _ = _call(audit)
    assert title.startswith("Fault (client): Access denied")
    page.fill("#cred-user", "root")
    page.fill("#cred-password", "root-pw")
    title, body = _call(audit)
    assert (title, body) == ("Result", '"audited"')
    page.select_option("#cred-scheme", "Bearer")
    assert page.locator("#cred-password").is_hidden()
    page.fill("#cred-token", auth_app.token("alice"))
    whoami = _console(page, "whoami")
    assert _call(whoami) == ("Result", '"alice:"')
    # nothing kept: no cookie, no storage; a reload starts empty
    stored = page.evaluate(
        "() => JSON.stringify([document.cookie, {...localStorage}, {...sessionStorage}])"
    )
    assert "root" not in stored and "alice" not in stored
    assert page.context.cookies() == []
    page.screenshot(path=str(tmp_path / "console-auth.png"), full_page=True)
    page.reload()
    assert page.locator("#cred-scheme").input_value() == ""
    assert page.locator("#cred-password").input_value() == ""
