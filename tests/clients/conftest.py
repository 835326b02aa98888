"""Live servers for the non-Python SOAP clients: one application with
Ladon 1.0's SOAP naming (the default), one with ``soap_naming="python"``,
both serving the example services and the ``Geometry`` test service."""

from __future__ import annotations

import importlib.util
import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from ladon.server.wsgi import LadonWSGIApplication

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SERVICES = ROOT / "tests" / "services"
EXAMPLE_NAMES = ("calculator", "tasks", "attachments", "templates")
IFACES = ["soap", "soap11", "soap12"]
NAMINGS = ["ladon10", "python"]


def load_example(name: str) -> types.ModuleType:
    """An example module, imported under a name of its own (``tasks`` is
    also the name of a test package)."""
    qualified = f"_ladon_clients_example_{name}"
    if qualified in sys.modules:
        return sys.modules[qualified]
    spec = importlib.util.spec_from_file_location(qualified, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="package")
def servers() -> Iterator[dict[str, tuple[str, LadonWSGIApplication]]]:
    """naming -> (base URL, application)."""
    running = {}
    for naming in NAMINGS:
        app = LadonWSGIApplication(
            [*(load_example(m) for m in EXAMPLE_NAMES), "geometry"],
            [str(SERVICES)],
            soap_naming=naming,
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
