"""Waiting for a task to end: what answers ``<task>_wait(task_id, timeout)``.

A waiting call does not poll its store. It registers a
:class:`threading.Event` for the task with this process's
:class:`EndSignals` and sleeps on it; whatever ends the task sets it:

* the thread backend: the pool thread that records the end (in memory);
* the SQLite backend: the process that writes the end sends the task id as
  a datagram to every process waiting on the same file (see
  :mod:`ladon.tasks._sqlite_wake`);
* the Redis backend: the script that writes the end publishes the task id on
  the ``<prefix>ended`` channel, which one listener thread per waiting
  process is subscribed to (see :mod:`ladon.tasks._redis_wake`).

The waiting call then reads the task once more and answers. As a safety net
(a notification lost with a process that died, a task failed by another
process's lease check), a waiting call also reads its task every
:data:`RECHECK_INTERVAL` seconds: that bounds how late it can be, it is not
how it normally learns of the end.

.. versionadded:: 2.0
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol
from typing import runtime_checkable

from .base import TaskStatus

#: Seconds between two reads of the task while a waiting call sleeps (the
#: safety net; notifications wake it at once).
RECHECK_INTERVAL = 1.0


class EndSignals:
    """The waiting calls of one process, by task id: :meth:`notify` wakes
    those of a task that ended.

    .. versionadded:: 2.0
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: dict[str, list[threading.Event]] = {}

    def __len__(self) -> int:
        """How many calls wait."""
        with self._lock:
            return sum(len(events) for events in self._events.values())

    def subscribe(self, task_id: str) -> threading.Event:
        """A new event, set once :meth:`notify` is called for ``task_id``."""
        event = threading.Event()
        with self._lock:
            self._events.setdefault(task_id, []).append(event)
        return event

    def unsubscribe(self, task_id: str, event: threading.Event) -> None:
        """Forget an event :meth:`subscribe` gave."""
        with self._lock:
            events = self._events.get(task_id)
            if events is None:
                return
            try:
                events.remove(event)
            except ValueError:
                pass
            if not events:
                del self._events[task_id]

    def notify(self, task_id: str) -> None:
        """Wake the calls waiting for ``task_id`` (cheap when none waits)."""
        if not self._events:  # PERF: read without the lock; a miss is re-checked
            return
        with self._lock:
            events = list(self._events.get(task_id, ()))
        for event in events:
            event.set()

    def notify_all(self) -> None:
        """Wake every waiting call (each reads its task again)."""
        with self._lock:
            events = [e for events in self._events.values() for e in events]
        for event in events:
            event.set()


@runtime_checkable
class WaitingBackend(Protocol):
    """A task backend that can wait for a task's end itself (the built-in
    ones). Others are waited for by reading their status now and then (see
    :func:`wait_for_end`).

    .. versionadded:: 2.0
    """

    def wait(self, method: str, task_id: str, timeout: float) -> TaskStatus:
        """Return the task's status as soon as it has ended, or once
        ``timeout`` seconds have passed (then it may still run).

        :raises UnknownTask: for an unknown, expired or foreign id.
        :raises BackendUnavailable: when the store cannot be reached.
        """
        ...


def wait_on_signals(
    status: Callable[[], TaskStatus],
    signals: EndSignals,
    task_id: str,
    timeout: float,
    ready: Callable[[], object] | None = None,
    recheck: float | None = None,
) -> TaskStatus:
    """Wait for the end of a task that :class:`EndSignals` hears of.

    :param status: reads the task's status (raises as the backend does).
    :param signals: this process's waiting calls.
    :param task_id: the task.
    :param timeout: seconds to wait at most.
    :param ready: called once subscribed, before the task is read again
        (e.g. starts the listener that feeds ``signals``, and returns once
        it listens): an end after it cannot be missed.
    :param recheck: seconds between two reads while nothing was heard
        (default :data:`RECHECK_INTERVAL`).
    :returns: the last status read: ended, or as it was at the deadline.

    .. versionadded:: 2.0
    """
    current = status()
    if current.state.finished or timeout <= 0:
        return current
    deadline = time.monotonic() + timeout
    every = RECHECK_INTERVAL if recheck is None else recheck
    event = signals.subscribe(task_id)
    try:
        if ready is not None:
            ready()
        current = status()  # an end between the first read and subscribe
        while not current.state.finished:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            event.wait(min(remaining, every))
            event.clear()
            current = status()
    finally:
        signals.unsubscribe(task_id, event)
    return current


def poll_until_ended(
    status: Callable[[], TaskStatus], timeout: float, first: float = 0.05, longest: float = 1.0
) -> TaskStatus:
    """Wait for a task's end by reading its status at growing intervals
    (``first`` seconds, doubling up to ``longest``): for a task backend that
    cannot wait itself (not a :class:`WaitingBackend`).

    .. versionadded:: 2.0
    """
    deadline = time.monotonic() + timeout
    delay = first
    current = status()
    while not current.state.finished:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, longest)
        current = status()
    return current


def wait_for_end(backend: object, method: str, task_id: str, timeout: float) -> TaskStatus:
    """The task's status once it has ended, or after ``timeout`` seconds:
    the backend's own :meth:`~WaitingBackend.wait`, else reading its
    status at growing intervals (:func:`poll_until_ended`).

    :param backend: the task backend (a :class:`~ladon.tasks.TaskBackend`).
    :param method: the key of the method that owns the task.
    :raises UnknownTask: for an unknown, expired or foreign id.
    :raises BackendUnavailable: when the store cannot be reached.

    .. versionadded:: 2.0
    """
    if isinstance(backend, WaitingBackend):
        return backend.wait(method, task_id, timeout)
    status_of = backend.status  # type: ignore[attr-defined]
    return poll_until_ended(lambda: status_of(method, task_id), timeout)
