"""Shared fixtures: the test services, the app, an in-process client."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from webtest import TestApp
from werkzeug.serving import BaseWSGIServer
from werkzeug.serving import make_server

from ladon.server.wsgi import LadonWSGIApplication

SERVICES_DIR = Path(__file__).parent / "services"
SERVICE_MODULES = ["legacy_shapes", "modern_types"]


@pytest.fixture(autouse=True)
def _no_network(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside ``e2e`` tests, any attempt to open a socket to a non-local host fails."""
    if request.node.get_closest_marker("e2e"):
        return
    real = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "localhost", "::1"):
            if not host.startswith("/"):
                raise RuntimeError(f"test tried to reach the network: {address!r}")
        return real(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="session")
def app() -> Iterator[LadonWSGIApplication]:
    application = LadonWSGIApplication(SERVICE_MODULES, [str(SERVICES_DIR)])
    yield application
    application.close()


@pytest.fixture()
def client(app: LadonWSGIApplication) -> TestApp:
    return TestApp(app)


class LiveServer:
    """A real HTTP server on 127.0.0.1 serving an app in a thread."""

    def __init__(self, wsgi_app: object) -> None:
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, wsgi_app, threaded=True)  # type: ignore[arg-type]
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture(scope="session")
def live_server(app: LadonWSGIApplication) -> Iterator[LiveServer]:
    server = LiveServer(app)
    yield server
    server.stop()
