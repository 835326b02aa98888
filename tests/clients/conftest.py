"""Live servers for the non-Python SOAP clients: one application with
Ladon 1.0's SOAP naming (the default), one with ``soap_naming="python"``,
both serving the example services and the ``Geometry`` test service."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from ladon.server.wsgi import LadonWSGIApplication

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SERVICES = ROOT / "tests" / "services"
EXAMPLE_FILES = [
    str(EXAMPLES / f"{m}.py") for m in ("calculator", "tasks", "attachments", "templates")
]
IFACES = ["soap", "soap11", "soap12"]
NAMINGS = ["ladon10", "python"]


@pytest.fixture(scope="package")
def servers() -> Iterator[dict[str, tuple[str, LadonWSGIApplication]]]:
    """naming -> (base URL, application)."""
    running = {}
    for naming in NAMINGS:
        app = LadonWSGIApplication(
            [*EXAMPLE_FILES, "geometry"], [str(SERVICES)], soap_naming=naming
        )
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        running[naming] = (server, thread, app)
    yield {n: (f"http://127.0.0.1:{s.server_port}", app) for n, (s, _, app) in running.items()}
    for server, thread, app in running.values():
        server.shutdown()
        server.server_close()
        thread.join(5)
        app.close()
