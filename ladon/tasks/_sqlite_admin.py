"""The operator's questions (:class:`~ladon.tasks.admin.TaskAdmin`) on the
SQLite backend's file, kept apart from the backend's task path."""

from __future__ import annotations

import sqlite3
import time
from typing import TYPE_CHECKING

from ._sqlite_upkeep import close_quietly
from .admin import Readiness
from .admin import TaskQuery
from .base import BackendUnavailable
from .base import TaskState
from .base import TaskStatus

if TYPE_CHECKING:
    from .sqlite import SQLiteTaskBackend

#: Seconds a readiness check waits for a lock another process holds on
#: the file before it answers "not ready" (below a load balancer's probe
#: timeout; the backend's ``busy_timeout`` when that is shorter).
READY_TIMEOUT = 2.0
#: The table a readiness check writes to (one row).
HEALTH_SCHEMA = "CREATE TABLE IF NOT EXISTS ladon_health (id INTEGER PRIMARY KEY, at REAL NOT NULL)"


def tasks(backend: SQLiteTaskBackend, query: TaskQuery) -> list[TaskStatus]:
    from .sqlite import _COLUMNS
    from .sqlite import _snapshot

    proc = backend._process()
    backend._start_ticker(proc)
    now = backend._clock.time()
    lost = backend._query(
        proc,
        f"SELECT id, {_COLUMNS} FROM ladon_tasks WHERE expires IS NULL AND heartbeat + lease < ?",
        (now,),
    )
    lost = backend._judgeable(proc, lost)
    if lost:  # lost tasks run again or end failed, as status() shows them
        backend._reruns.recover(proc, lost, now)
    where = ["(expires IS NULL OR expires > ?)"]
    params: list[object] = [now]
    if query.states:
        where.append(f"state IN ({', '.join('?' * len(query.states))})")
        params.extend(sorted(s.value for s in query.states))
    if query.service is not None and query.method is not None:
        where.append("method = ?")
        params.append(f"{query.service}.{query.method}")
    elif query.method is not None:
        where.append("method LIKE ? ESCAPE '\\'")
        params.append("%." + _like(query.method))
    if query.max_age is not None:
        where.append("created >= ?")
        params.append(now - query.max_age)
    if query.finished_after is not None:
        where.append("finished >= ?")
        params.append(query.finished_after)
    rows = backend._query(
        proc,
        f"SELECT id, {_COLUMNS} FROM ladon_tasks WHERE {' AND '.join(where)} ORDER BY created DESC",
        params,
    )
    found = []
    for row in rows:
        if not query.matches(row["method"], _state(row), row["created"], now):
            continue  # a service filter is case-insensitive: checked here
        found.append(_snapshot(row["id"], row, now))
        if len(found) >= query.limit:
            break
    return found


def counts(backend: SQLiteTaskBackend) -> dict[str, int]:
    proc = backend._process()
    now = backend._clock.time()
    rows = backend._query(
        proc,
        "SELECT state, COUNT(*) AS n FROM ladon_tasks"
        " WHERE expires IS NULL OR expires > ? GROUP BY state",
        (now,),
    )
    return {str(row["state"]): int(row["n"]) for row in rows}


def ended(
    backend: SQLiteTaskBackend, since: float
) -> list[tuple[str, TaskState, float, float, float | None]]:
    """(method, state, created, finished, started) of every task kept
    that finished at or after ``since`` (for
    :func:`~ladon.tasks.admin.throughput`: a few columns, no limit)."""
    proc = backend._process()
    now = backend._clock.time()
    rows = backend._query(
        proc,
        "SELECT method, state, created, finished, started FROM ladon_tasks"
        " WHERE finished >= ? AND (expires IS NULL OR expires > ?)",
        (since, now),
    )
    return [
        (str(r["method"]), _state(r), float(r["created"]), float(r["finished"]), r["started"])
        for r in rows
        if r["finished"] is not None
    ]


def readiness(backend: SQLiteTaskBackend, timeout: float = READY_TIMEOUT) -> Readiness:
    """Ready when a write to the file commits (not merely readable), within
    ``timeout`` seconds (at most the backend's ``busy_timeout``): a load
    balancer's probe gives up after a few seconds, so a file another
    process keeps locked is answered "not ready" before that.

    The check writes on a connection of its own, so that it neither waits
    for this process's writes nor makes them wait.
    """
    limit = min(timeout, backend.busy_timeout)
    started = time.monotonic()

    def check() -> None:
        conn = backend._connect()
        try:
            conn.execute(HEALTH_SCHEMA)
            conn.execute(
                "INSERT OR REPLACE INTO ladon_health (id, at) VALUES (1, ?)",
                (backend._clock.time(),),
            )
        finally:
            close_quietly(conn)

    try:
        backend._retry(check, limit)
    except BackendUnavailable as exc:
        waited = time.monotonic() - started
        error = f"{_short(exc)} (gave up after {waited:.1f} s)"
        return Readiness(False, "sqlite", {"writable": False, "error": error})
    return Readiness(True, "sqlite", {"writable": True})


def task_key(backend: SQLiteTaskBackend, task_id: str) -> str | None:
    proc = backend._process()
    rows = backend._query(proc, "SELECT method FROM ladon_tasks WHERE id = ?", (task_id,))
    return str(rows[0]["method"]) if rows else None


def _state(row: sqlite3.Row) -> TaskState:
    return TaskState(row["state"])


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _short(exc: BaseException) -> str:
    """The error without the file's path (a health answer is public)."""
    text = str(exc)
    return text.split(": ", 1)[-1] if ": " in text else text
