"""The operator's questions (:class:`~ladon.tasks.admin.TaskAdmin`) on the
SQLite backend's file, kept apart from the backend's task path."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from .admin import Readiness
from .admin import TaskQuery
from .base import BackendUnavailable
from .base import TaskState
from .base import TaskStatus

if TYPE_CHECKING:
    from .sqlite import SQLiteTaskBackend

#: The table a readiness check writes to (one row).
HEALTH_SCHEMA = "CREATE TABLE IF NOT EXISTS ladon_health (id INTEGER PRIMARY KEY, at REAL NOT NULL)"


def tasks(backend: SQLiteTaskBackend, query: TaskQuery) -> list[TaskStatus]:
    from .sqlite import _COLUMNS
    from .sqlite import _snapshot

    proc = backend._process()
    now = backend._clock.time()
    lost = backend._query(
        proc,
        f"SELECT id, {_COLUMNS} FROM ladon_tasks WHERE expires IS NULL AND heartbeat + lease < ?",
        (now,),
    )
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


def readiness(backend: SQLiteTaskBackend) -> Readiness:
    """Ready when a write to the file commits (not merely readable)."""
    proc = backend._process()
    try:
        backend._write(proc, HEALTH_SCHEMA, ())
        backend._write(
            proc,
            "INSERT OR REPLACE INTO ladon_health (id, at) VALUES (1, ?)",
            (backend._clock.time(),),
        )
    except BackendUnavailable as exc:
        return Readiness(False, "sqlite", {"writable": False, "error": _short(exc)})
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
