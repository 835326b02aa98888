"""The operator's questions (:class:`~ladon.tasks.admin.TaskAdmin`) on the
Redis backend: records are found by scanning their keys (an operator's
tool, not a call path), queue and workers through RQ."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import redis
from rq.registry import StartedJobRegistry

from . import _scripts
from .admin import Readiness
from .admin import TaskQuery
from .admin import newest
from .base import BackendUnavailable
from .base import TaskState
from .base import TaskStatus
from .base import UnknownTask

if TYPE_CHECKING:
    from .rqbackend import RedisTaskBackend

logger = logging.getLogger("ladon")

#: Keys asked for per SCAN round trip.
_SCAN_COUNT = 1000


def _unavailable(exc: BaseException) -> BackendUnavailable:
    return BackendUnavailable(f"cannot reach the Redis server of the task backend: {exc}")


def _records(backend: RedisTaskBackend) -> list[tuple[str, list[object]]]:
    """Every task record: (task id, the STATUS_FIELDS values)."""
    from .rqbackend import _text

    client = backend.client
    prefix = f"{backend.prefix}task:"
    try:
        keys = [
            _text(k) or "" for k in client.scan_iter(match=f"{_escape(prefix)}*", count=_SCAN_COUNT)
        ]
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.hmget(key, list(_scripts.STATUS_FIELDS))
        values = pipe.execute() if keys else []
    except redis.RedisError as exc:
        raise _unavailable(exc) from None
    return [
        (key[len(prefix) :], list(fields))
        for key, fields in zip(keys, values, strict=True)
        if fields and fields[0] is not None
    ]


def tasks(backend: RedisTaskBackend, query: TaskQuery) -> list[TaskStatus]:
    from .rqbackend import _status

    found: list[TaskStatus] = []
    for task_id, fields in _records(backend):
        status = _status(task_id, fields)
        if not status.state.finished:
            try:  # the status script fails a lost task, as a progress call would
                status = backend.status(status.method, task_id)
            except UnknownTask:
                continue
        found.append(status)
    return newest(found, query, _server_time(backend))


def counts(backend: RedisTaskBackend) -> dict[str, int]:
    from .rqbackend import _text

    result: dict[str, int] = {}
    for _task_id, fields in _records(backend):
        state = _text(fields[1]) or ""
        result[state] = result.get(state, 0) + 1
    return result


#: Seconds since its last beat a worker counts as alive (``ladon worker``
#: beats every 2 s; a task it runs beats too).
LIVE_WINDOW = 10.0


def queue_figures(backend: RedisTaskBackend) -> dict[str, int]:
    """The RQ queue's depth, the jobs started on workers, the live workers."""
    try:
        queue = backend.queue
        return {
            "queued": int(queue.count),
            "started": int(StartedJobRegistry(queue=queue).count),
            "workers": live_workers(backend),
        }
    except redis.RedisError as exc:
        raise _unavailable(exc) from None


def live_workers(backend: RedisTaskBackend) -> int:
    """The workers that beat on the backend's queue within
    :data:`LIVE_WINDOW` (by Redis's clock). Not RQ's own registration, which
    only a live worker cleans: a worker killed with SIGKILL stays in it.

    :raises redis.RedisError: Redis cannot be read.
    """
    since = _server_time(backend) - LIVE_WINDOW
    return int(backend.client.zcount(backend.workers_key, since, "+inf"))


def readiness(backend: RedisTaskBackend) -> Readiness:
    """Ready when Redis answers a PING and at least one ``ladon worker`` beat
    on the backend's queue in the last :data:`LIVE_WINDOW` seconds."""
    try:
        backend.client.ping()
    except redis.RedisError as exc:
        return Readiness(False, "redis", {"reachable": False, "error": _short(exc)})
    try:
        figures = queue_figures(backend)
    except BackendUnavailable as exc:
        return Readiness(False, "redis", {"reachable": False, "error": _short(exc)})
    ok = figures["workers"] > 0
    checks: dict[str, object] = {"reachable": True, "queue": backend.queue_name, **figures}
    if not ok:
        checks["error"] = f"no RQ worker serves the queue {backend.queue_name!r} (ladon worker)"
    return Readiness(ok, "redis", checks)


def task_key(backend: RedisTaskBackend, task_id: str) -> str | None:
    from .rqbackend import _text

    try:
        return _text(backend.client.hget(backend.key(task_id), "method"))
    except redis.RedisError as exc:
        raise _unavailable(exc) from None


def _server_time(backend: RedisTaskBackend) -> float:
    try:
        seconds, micros = backend.client.time()
    except redis.RedisError as exc:
        raise _unavailable(exc) from None
    return float(seconds) + float(micros) / 1e6


def _escape(text: str) -> str:
    """``text`` as a literal in a SCAN pattern."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def _short(exc: BaseException) -> str:
    """The error's kind only: its text names the server (host, socket
    path), which a public health answer does not show (it is logged)."""
    logger.warning("Task store readiness: %s", exc)
    cause = exc.__cause__ or exc.__context__ or exc
    return f"cannot reach Redis ({type(cause).__name__})"


__all__ = ["TaskState", "counts", "queue_figures", "readiness", "task_key", "tasks"]
