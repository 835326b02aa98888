"""Running a task again: :class:`Retry`, the messages of re-runs, and a
timer for delayed re-runs.

A task method declared with ``tasktype={"retries": N, "retry_delay": s}``
runs again, up to N times, when its worker was lost (killed, out of memory,
its host gone, stopped before the task ended) or when it raises
:class:`Retry`. Each re-run waits ``retry_delay`` seconds, twice as long
as the one before (:meth:`~ladon.types.tasktype.TaskOptions.delay`), unless
the :class:`Retry` says otherwise. The method sees which attempt runs in
``kw["task"].attempt`` (1 for the first run). A method without retries is
never run again: a lost worker fails it ("worker lost"), a raised
:class:`Retry` fails it with its message.

.. versionadded:: 2.0
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable

from ..types.tasktype import DEFAULT_TASK_OPTIONS
from ..types.tasktype import TaskOptions
from ..types.tasktype import check_retry_delay
from .base import Clock
from .base import clean_message
from .base import shown_message as shown_message

logger = logging.getLogger("ladon")

#: The error of a task whose worker died or stopped renewing its lease.
WORKER_LOST = "worker lost"
#: The error of a task whose worker was stopped (SIGTERM, a restart) before
#: the task ended.
WORKER_STOPPED = "worker stopped"
#: The reason of a :class:`Retry` raised without a message.
RETRY_REQUESTED = "the task asked to be run again"


class Retry(Exception):
    """Raised by a task method to be run again later (a service it needs is
    busy, a resource is locked...).

    With retries left (``tasktype={"retries": N}``), the task goes back to
    ``pending`` and runs again after ``delay`` seconds (default: the
    method's ``retry_delay``, doubled at each re-run); ``_progress`` says
    which attempt comes and why. Without retries left, or in a method
    declaring none, the task fails with ``message``.

    :param message: why, shown in ``_progress`` (cleaned like progress
        messages).
    :param delay: seconds to wait before the re-run, replacing the doubling
        delay (0 to 86400). On the Redis backend RQ's scheduler waits whole
        seconds: the delay rounded up, plus one (which ``_progress``
        announces).
    :raises ValueError: ``delay`` is not a number of seconds from 0 to
        86400.

    .. versionadded:: 2.0
    """

    def __init__(self, message: str | None = None, *, delay: float | None = None) -> None:
        self.message = clean_message(message) or None
        self.delay = None if delay is None else check_retry_delay(delay, "Retry(delay=...)")
        super().__init__(self.message or RETRY_REQUESTED)

    @property
    def reason(self) -> str:
        """The message, or a default text when none was given."""
        return self.message or RETRY_REQUESTED


class RetryRequested(Exception):
    """Raised by a worker's job function (never by service code) to have RQ
    run its job again: the task raised :class:`Retry` with retries left.

    .. versionadded:: 2.0
    """


def job_task_options(job: object) -> TaskOptions:
    """The :class:`~ladon.types.tasktype.TaskOptions` of a job: its
    ``task_options`` attribute (the framework's jobs have the method's),
    else the defaults (no retries).

    .. versionadded:: 2.0
    """
    options = getattr(job, "task_options", None)
    return options if isinstance(options, TaskOptions) else DEFAULT_TASK_OPTIONS


def release_job(job: object) -> None:
    """Let a job that will not run again close what it holds (the request's
    attachments): calls its ``release()`` if it has one.

    .. versionadded:: 2.0
    """
    release = getattr(job, "release", None)
    if callable(release):
        try:
            release()
        except Exception as exc:  # pragma: no cover - closing temporary files
            logger.warning("Cannot release a task's resources: %s", exc)


def waiting_message(attempt: int, attempts: int, delay: float, reason: str) -> str:
    """The message of a task waiting to run again.

    :param attempt: the attempt that comes (2 for the first re-run).
    :param attempts: the most attempts.
    :param delay: seconds before it starts.
    :param reason: why the previous attempt ended.

    .. versionadded:: 2.0
    """
    when = f"in {delay:g} s" if delay > 0 else "now"
    text = f"attempt {attempt} of {attempts} starts {when}; attempt {attempt - 1}: {reason}"
    return clean_message(text) or text


def final_error(reason: str, attempt: int, attempts: int) -> str:
    """The error of a task that ends failed, for a reason that would have
    run it again had it retries left (a lost or stopped worker, a
    :class:`Retry`).

    ``reason`` alone for a method without retries (so "worker lost" stays
    "worker lost"); otherwise it says which attempt it was.

    .. versionadded:: 2.0
    """
    if attempts <= 1:
        return reason
    return f"{reason} (attempt {attempt} of {attempts}; no retries left)"


def refused_retry(reason: str) -> str:
    """The error of a task that raised :class:`Retry` in a method declaring
    no retries.

    .. versionadded:: 2.0
    """
    return f"{reason} (not run again: the method declares no retries)"


class RetryTimer:
    """Runs callbacks when their time has come: the delayed re-runs of the
    tasks of one backend in this process.

    One daemon thread, started on the first :meth:`schedule`, sleeps until
    the next callback is due (by the backend's clock; at most ``tick``
    seconds at a time, so that a test clock moved by hand is noticed), and
    :meth:`run_due` runs the due ones in the calling thread too.

    :param clock: the backend's clock (its ``monotonic()`` decides).
    :param tick: the longest sleep between two looks at the clock.

    .. versionadded:: 2.0
    """

    def __init__(self, clock: Clock, tick: float = 0.5, name: str = "ladon-retry-timer") -> None:
        self._clock = clock
        self._tick = tick
        self._name = name
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def __len__(self) -> int:
        with self._cond:
            return len(self._heap)

    def schedule(
        self, delay: float, callback: Callable[[], None], since: float | None = None
    ) -> None:
        """Run ``callback`` ``delay`` seconds from now (by the clock), or from
        ``since``: a reading of the clock's ``monotonic()`` taken when the
        task was written as waiting, so a clock that moves in between (a
        test's clock moved by hand) cannot push the re-run later.

        :raises RuntimeError: the timer was stopped.
        """
        with self._cond:
            if self._stopped:
                raise RuntimeError("the retry timer is stopped")
            due = (self._clock.monotonic() if since is None else since) + delay
            heapq.heappush(self._heap, (due, next(self._seq), callback))
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()
            self._cond.notify()

    def run_due(self) -> None:
        """Run the callbacks whose time has come, here."""
        for callback in self._take_due():
            self._call(callback)

    def stop(self) -> list[Callable[[], None]]:
        """Stop the thread; return the callbacks that were still waiting."""
        with self._cond:
            self._stopped = True
            waiting = [item[2] for item in self._heap]
            self._heap.clear()
            self._cond.notify()
        return waiting

    def _take_due(self) -> list[Callable[[], None]]:
        with self._cond:
            if not self._heap:
                return []
            now = self._clock.monotonic()
            due: list[Callable[[], None]] = []
            while self._heap and self._heap[0][0] <= now:
                due.append(heapq.heappop(self._heap)[2])
            return due

    def _loop(self) -> None:
        while self._sleep():
            self.run_due()

    def _sleep(self) -> bool:
        """Wait until the next callback may be due; False once stopped."""
        with self._cond:
            if not self._stopped:
                if self._heap:
                    wait = min(self._tick, max(0.0, self._heap[0][0] - self._clock.monotonic()))
                else:
                    wait = self._tick
                if wait > 0:
                    self._cond.wait(wait)
            return not self._stopped

    @staticmethod
    def _call(callback: Callable[[], None]) -> None:
        try:
            callback()
        except Exception as exc:
            logger.error("A delayed task re-run could not start: %s", exc, exc_info=exc)
