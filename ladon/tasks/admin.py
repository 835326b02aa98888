"""What operators ask of a task store: the tasks (filtered), one task by id
whatever its method, a cancel by id, the counts by state, and whether the
store answers (readiness).

The built-in backends answer these (:class:`TaskAdmin`); ``ladon tasks``,
the operator page, ``/_ladon/health/ready`` and the task gauges of
``/_ladon/metrics`` are built on them.

.. versionadded:: 2.0
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from typing import Any
from typing import Protocol
from typing import runtime_checkable

from .base import TaskBackend
from .base import TaskState
from .base import TaskStatus
from .base import UnknownTask
from .base import is_task_id

#: Most tasks one listing of the task API or ``ladon tasks`` returns.
MAX_LIMIT = 1000
#: Most tasks an aggregate of the operator's tools reads (a bound, not a
#: figure any real store reaches within the aggregate's window).
MAX_SCAN = 1_000_000
#: Minutes :func:`throughput` covers at most.
MAX_MINUTES = 60
#: The finished states, and the others.
FINISHED_STATES = frozenset(s for s in TaskState if s.finished)
ACTIVE_STATES = frozenset(s for s in TaskState if not s.finished)


@dataclass(frozen=True, slots=True)
class TaskQuery:
    """Which tasks to list.

    :param states: only tasks in these states (empty: any).
    :param service: only the tasks of this service.
    :param method: only the tasks of this task method (its name, e.g.
        ``nap``; with ``service``, of that service only).
    :param max_age: only tasks created at most this many seconds ago.
    :param limit: at most this many tasks, the newest first (the task API
        and ``ladon tasks`` take at most :data:`MAX_LIMIT`; the operator's
        aggregates, e.g. :func:`throughput`, ask for more).
    :param finished_after: only tasks that finished at or after this time
        (epoch seconds).

    .. versionadded:: 2.0
    .. versionchanged:: 2.0
        ``finished_after``; ``limit`` above :data:`MAX_LIMIT`.
    """

    states: frozenset[TaskState] = field(default_factory=frozenset)
    service: str | None = None
    method: str | None = None
    max_age: float | None = None
    limit: int = 100
    finished_after: float | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_SCAN:
            raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, not {self.limit!r}")
        if self.max_age is not None and not self.max_age >= 0:
            raise ValueError(f"max_age must be zero or more seconds, not {self.max_age!r}")

    def matches(self, key: str, state: TaskState, created: float, now: float) -> bool:
        """Whether a task (its method key ``Service.method``, state and
        creation time) is one of the tasks asked for."""
        if self.states and state not in self.states:
            return False
        service, _, method = key.partition(".")
        if self.service is not None and service.lower() != self.service.lower():
            return False
        if self.method is not None and method != self.method:
            return False
        return self.max_age is None or created >= now - self.max_age


@dataclass(frozen=True, slots=True)
class Readiness:
    """Whether a task store answers, and what was checked.

    :param ok: the store answers (and can run tasks).
    :param backend: the backend's kind (``thread``, ``sqlite``, ``redis``).
    :param checks: what was checked, as JSON-ready values (never a
        password or a path a client should not see).

    .. versionadded:: 2.0
    """

    ok: bool
    backend: str
    checks: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class TaskAdmin(Protocol):
    """The operator's questions, answered by the built-in backends.

    .. versionadded:: 2.0
    """

    def tasks(self, query: TaskQuery) -> list[TaskStatus]:
        """The tasks ``query`` asks for, newest first.

        :raises BackendUnavailable: the store cannot be reached.
        """
        ...

    def counts(self) -> dict[str, int]:
        """How many tasks the store holds in each state (``pending``,
        ``running``...; finished tasks until they expire).

        :raises BackendUnavailable: the store cannot be reached.
        """
        ...

    def readiness(self) -> Readiness:
        """Whether the store answers: memory (thread), the file writable
        (SQLite), Redis reachable and at least one RQ worker alive."""
        ...


def backend_kind(backend: object) -> str:
    """``thread``, ``sqlite``, ``redis``, or the backend's class name.

    .. versionadded:: 2.0
    """
    kind = getattr(backend, "kind", None)
    return kind if isinstance(kind, str) else type(backend).__name__


def admin_of(backend: TaskBackend) -> TaskAdmin:
    """``backend`` as a :class:`TaskAdmin`.

    :raises TypeError: the backend does not answer the operator's questions.

    .. versionadded:: 2.0
    """
    if not isinstance(backend, TaskAdmin):
        raise TypeError(f"the task backend {type(backend).__name__} cannot list its tasks")
    return backend


def find_task(backend: TaskBackend, task_id: str) -> TaskStatus:
    """One task, whatever its method.

    :raises UnknownTask: no such task (or it expired).
    :raises BackendUnavailable: the store cannot be reached.

    .. versionadded:: 2.0
    """
    if not is_task_id(task_id):
        raise UnknownTask(task_id)
    key = _key_of(backend, task_id)
    if key is None:
        raise UnknownTask(task_id)
    return backend.status(key, task_id)


def cancel_task(backend: TaskBackend, task_id: str) -> TaskStatus:
    """Cancel one task, whatever its method (see
    :meth:`~ladon.tasks.TaskBackend.cancel`).

    :raises UnknownTask: no such task (or it expired).
    :raises BackendUnavailable: the store cannot be reached.

    .. versionadded:: 2.0
    """
    status = find_task(backend, task_id)
    return backend.cancel(status.method, task_id)


def _key_of(backend: TaskBackend, task_id: str) -> str | None:
    key_of = getattr(backend, "task_key", None)
    if callable(key_of):
        found = key_of(task_id)
        return found if isinstance(found, str) else None
    return None


def task_record(status: TaskStatus, now: float | None = None) -> dict[str, Any]:
    """A task as ``ladon tasks --json`` and the operator page show it:
    ``id``, ``task`` (``Service.method``), ``service``, ``method``,
    ``state``, ``progress``, ``message``, ``created``, ``started``,
    ``finished`` (epoch seconds), ``duration`` (seconds), ``error`` (why a
    failed task failed, never its traceback), ``principal`` (who started
    it), ``attempt`` (which attempt runs, or ran last, or comes next),
    ``attempts`` (the most its method allows: 1 without retries) and
    ``callback``: how its completion callback goes (``pending``,
    ``sending``, ``retrying (attempt 1 of 5: HTTP 503)``, ``delivered (HTTP
    200)``, ``failed (after 5 attempts: HTTP 500)``...: what ``_progress``
    says after ``callback``), ``None`` for a task started without one. The
    callback's URL is never shown (its query or path may hold a token).

    .. versionadded:: 2.0
    .. versionchanged:: 2.0
        ``callback``.
    """
    service, _, method = status.method.partition(".")
    if status.finished is None and status.as_of is None and now is not None:
        end = now
        duration = max(0.0, end - status.starttime) if status.started is not None else 0.0
    else:
        duration = status.duration if status.started is not None else 0.0
    return {
        "id": status.task_id,
        "task": status.method,
        "service": service,
        "method": method,
        "state": status.state.value,
        "progress": float(status.progress),
        "message": status.message,
        "created": status.created,
        "started": status.started,
        "finished": status.finished,
        "duration": round(duration, 6),
        "error": status.error if status.state is TaskState.FAILED else None,
        "principal": status.owner,
        "attempt": status.attempt,
        "attempts": status.attempts,
        "callback": status.callback_state if status.callback is not None else None,
    }


def newest(statuses: Iterable[TaskStatus], query: TaskQuery, now: float) -> list[TaskStatus]:
    """The statuses ``query`` asks for, newest first, at most its limit.

    .. versionadded:: 2.0
    """
    chosen = [
        s
        for s in statuses
        if query.matches(s.method, s.state, s.created, now) and _finished_after(s, query)
    ]
    chosen.sort(key=lambda s: s.created, reverse=True)
    return chosen[: query.limit]


def _finished_after(status: TaskStatus, query: TaskQuery) -> bool:
    after = query.finished_after
    return after is None or (status.finished is not None and status.finished >= after)


def throughput(
    backend: TaskAdmin, query: TaskQuery, at: float, minutes: int = 15
) -> list[dict[str, Any]]:
    """The tasks that finished in each of the last ``minutes`` minutes, as
    the operator page charts them: all of them, however many tasks the
    store keeps (not only the ones a listing returns), with ``query``'s
    filters except its limit.

    :param at: the end of the last minute (epoch seconds).
    :returns: one item per minute, the oldest first: ``start`` (epoch
        seconds), ``finished`` (how many tasks ended in it) and
        ``mean_duration`` (their mean duration in seconds, 0.0 for none).
    :raises BackendUnavailable: the store cannot be reached.

    .. versionadded:: 2.0
    """
    if not 1 <= minutes <= MAX_MINUTES:
        raise ValueError(f"minutes must be between 1 and {MAX_MINUTES}, not {minutes!r}")
    since = at - minutes * 60
    counts = [0] * minutes
    sums = [0.0] * minutes
    for finished, duration in _ended(backend, query, since, at):
        # NOTE: a time a little ahead of ``at`` (another host's clock) counts
        # in the last minute
        age = max(0, int((at - finished) // 60))
        if age >= minutes:
            continue
        slot = minutes - 1 - age
        counts[slot] += 1
        sums[slot] += max(0.0, duration)
    return [
        {
            "start": at - (minutes - k) * 60,
            "finished": counts[k],
            "mean_duration": round(sums[k] / counts[k], 6) if counts[k] else 0.0,
        }
        for k in range(minutes)
    ]


def _ended(
    backend: TaskAdmin, query: TaskQuery, since: float, at: float
) -> Iterable[tuple[float, float]]:
    """(finished, duration) of the tasks ``query`` asks for that ended
    since ``since``."""
    from .sqlite import SQLiteTaskBackend

    if isinstance(backend, SQLiteTaskBackend):
        from . import _sqlite_admin

        for method, state, created, finished, started in _sqlite_admin.ended(backend, since):
            if query.matches(method, state, created, at):
                yield finished, (finished - started if started is not None else 0.0)
        return
    states = (query.states or FINISHED_STATES) & FINISHED_STATES
    if not states:
        return
    wide = replace(query, states=states, limit=MAX_SCAN, finished_after=since)
    for status in backend.tasks(wide):
        if status.finished is not None and status.finished >= since:
            yield status.finished, (status.duration if status.started is not None else 0.0)


def now() -> float:
    """Epoch seconds (the operator's tools' clock)."""
    return time.time()
