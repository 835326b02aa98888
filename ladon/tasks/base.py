"""The task protocol: what every background-task backend offers.

A service method declared with ``tasktype=True`` does not answer with its
result. The call returns a task id at once and the work runs in the
background; the client follows it with ``m_progress(id)``, fetches the
outcome with ``m_result(id)`` and may stop it with ``m_cancel(id)``.

The framework turns each such call into a *job*: a callable that takes a
:class:`TaskHandle` and returns the method's result. A :class:`TaskBackend`
stores the job's state and runs it somewhere (threads of this process, a
pool of processes sharing an SQLite file, RQ workers behind Redis). The
protocol is deliberately small and store-shaped so that every backend
answers the same questions the same way.
"""

from __future__ import annotations

import enum
import math
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Protocol

from ..types.tasktype import check_max_runtime as check_max_runtime

#: Longest progress message stored; longer ones are truncated.
MAX_MESSAGE_LENGTH = 1000

#: The message of a running task once a cancel was requested, until its job
#: stops (its own later messages are dropped).
CANCEL_REQUESTED_MESSAGE = "cancel requested"
#: The message of a task that ended ``CANCELLED``.
CANCELLED_MESSAGE = "cancelled"

_TASK_ID = re.compile(r"[0-9a-f]{40}")
# Characters XML 1.0 cannot hold (C0 controls but tab, newline and carriage
# return; lone surrogates; U+FFFE and U+FFFF): a message must fit every
# interface, and UTF-8 stores (SQLite, Redis) refuse lone surrogates too.
_UNSAFE_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class TaskState(str, enum.Enum):
    """Where a task is in its life.

    ``PENDING`` -> ``RUNNING`` -> one of ``SUCCEEDED``, ``FAILED`` or
    ``CANCELLED``. A pending task may also go straight to ``CANCELLED``.
    The values are the lower-case names, as sent on the wire.

    .. versionadded:: 2.0
    """

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        """True when the task will not change any more."""
        return self in _FINISHED_STATES


_FINISHED_STATES = frozenset({TaskState.SUCCEEDED, TaskState.FAILED, TaskState.CANCELLED})


@dataclass(frozen=True, slots=True)
class TaskStatus:
    """A snapshot of one task, as a backend reports it.

    :param task_id: the task's id (see :func:`new_task_id`).
    :param method: the key of the service method that owns the task.
    :param state: the task's :class:`TaskState`.
    :param progress: between 0.0 and 1.0; it never decreases.
    :param message: the last progress message the task gave, if any;
        :data:`CANCEL_REQUESTED_MESSAGE` once a cancel of the running task
        was requested, :data:`CANCELLED_MESSAGE` once it ended cancelled.
    :param created: when the task was submitted (epoch seconds).
    :param started: when a worker started it (epoch seconds), or ``None``.
    :param finished: when it ended (epoch seconds), or ``None``.
    :param result: what the job returned; meaningful only when the state is
        ``SUCCEEDED`` (falsy values such as ``0``, ``""`` or ``[]`` are valid
        results).
    :param error: for ``FAILED``, a short message: the exception's text, its
        class name when the text is empty, or e.g. ``"worker lost"``.
    :param error_detail: for ``FAILED``, the formatted traceback. The
        framework shows it to clients only in debug mode.
    :param as_of: when the snapshot was taken (epoch seconds, by the
        backend's clock): the end of :attr:`duration` while the task runs.
    :param owner: the name of the principal that started the task (the
        job's ``owner``), or ``None`` for a task started anonymously.
    :param callback: where the task's completion callback goes (the JSON
        text of a :class:`~ladon.tasks.callbacks.CallbackTarget`), or
        ``None`` for a task started without ``Ladon-Callback-URL``.
    :param callback_state: how the callback's delivery goes: ``pending``
        (until the task ends and it is sent), ``sending``, ``retrying
        (...)``, ``delivered (...)`` or ``failed (...)``; ``None`` without
        a callback.
    :param attempt: which attempt of the task runs (or ran last, or comes
        next while it waits to run again): 1 for the first run.
    :param attempts: the most attempts it may have (its method's
        ``retries`` + 1).

    .. versionadded:: 2.0
    """

    task_id: str
    method: str
    state: TaskState
    progress: float
    message: str | None
    created: float
    started: float | None
    finished: float | None
    result: object = None
    error: str | None = None
    error_detail: str | None = None
    as_of: float | None = field(default=None, compare=False)
    owner: str | None = None
    # Completion callbacks (issue 14): set only for tasks started with one.
    callback: str | None = None
    callback_state: str | None = None
    attempt: int = 1
    attempts: int = 1

    @property
    def starttime(self) -> float:
        """When the task started, or when it was submitted if it has not
        started (epoch seconds, as Ladon 1.0's ``starttime``)."""
        return self.started if self.started is not None else self.created

    @property
    def duration(self) -> float:
        """Seconds from :attr:`starttime` to the end, or to now while the task
        has not finished. Never negative."""
        if self.finished is not None:
            end = self.finished
        else:
            end = self.as_of if self.as_of is not None else time.time()
        return max(0.0, end - self.starttime)


def status_message(status: TaskStatus) -> str | None:
    """The message clients see for a task: the error of a failed one (the
    exception's message, "worker lost", the ``max_runtime`` it ran past;
    never a traceback), else its last message, which names the attempt on a
    re-run (see :func:`shown_message`).

    .. versionadded:: 2.0
    """
    if status.state is TaskState.FAILED and status.error:
        return clean_message(status.error)  # NOTE: also an error stored by an older version
    return shown_message(status.state, status.message, status.attempt, status.attempts)


def shown_message(state: TaskState, message: str | None, attempt: int, attempts: int) -> str | None:
    """The ``_progress`` message of a task that is not failed: on a re-run
    (attempt 2 and later) a running or succeeded task's message starts
    with ``attempt K of N``; a pending one already says which attempt comes.

    .. versionadded:: 2.0
    """
    if attempt <= 1 or state not in (TaskState.RUNNING, TaskState.SUCCEEDED):
        return message
    head = f"attempt {attempt} of {attempts}"
    return f"{head}: {message}" if message else head


class Clock(Protocol):
    """Where a backend reads the time. Tests give a clock they move by hand,
    so that no test sleeps to see a result expire or a lease run out.

    .. versionadded:: 2.0
    """

    def time(self) -> float:
        """Wall-clock seconds since the epoch (stored times, leases)."""
        ...

    def monotonic(self) -> float:
        """Seconds that never go back (in-memory expiry and deadlines)."""
        ...


class SystemClock:
    """The clock of this machine (:func:`time.time`, :func:`time.monotonic`).

    .. versionadded:: 2.0
    """

    __slots__ = ()

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


#: The default clock of every backend.
SYSTEM_CLOCK: Clock = SystemClock()


class TaskError(Exception):
    """Base class of the errors a task backend raises.

    .. versionadded:: 2.0
    """


class UnknownTask(TaskError):
    """No task with this id is visible to this method.

    Raised alike for ids that never existed, results that expired and ids
    that belong to another method, so that a client cannot probe for the
    existence of other methods' tasks.

    :param task_id: the id that was asked for.

    .. versionadded:: 2.0
    """

    def __init__(self, task_id: str) -> None:
        self.task_id = task_id
        shown = task_id if len(task_id) <= 64 else task_id[:64] + "..."
        super().__init__(f"unknown task {shown!r} (it does not exist or has expired)")


class TaskRejected(TaskError):
    """The backend refuses new work: its queue is full or it was closed.

    .. versionadded:: 2.0
    """


class BackendUnavailable(TaskError):
    """The backend's store cannot be reached (Redis down, SQLite file
    unwritable or locked for too long).

    The framework answers the call with a server fault saying the task
    service is unavailable; the message never holds a password.

    .. versionadded:: 2.0
    """


class TaskCancelled(BaseException):
    """Raised inside a job, by its :class:`TaskHandle`, once the task was
    cancelled.

    It derives from :class:`BaseException` (like
    :class:`asyncio.CancelledError`) so that a job's ``except Exception``
    does not swallow it. A job may also raise it itself to stop.

    :param task_id: the id of the cancelled task.

    .. versionadded:: 2.0
    """

    def __init__(self, task_id: str = "") -> None:
        self.task_id = task_id
        super().__init__(f"task {task_id} was cancelled" if task_id else "task was cancelled")


def new_task_id() -> str:
    """Return a fresh task id: 40 hexadecimal digits (160 random bits), like
    Ladon 1.0's ids.

    .. versionadded:: 2.0
    """
    return secrets.token_hex(20)


def is_task_id(value: object) -> bool:
    """Tell whether ``value`` has the form of an id :func:`new_task_id` makes.

    The built-in backends answer any other value with
    :class:`UnknownTask` at once, without asking their store.

    :param value: what a client sent as a task id.

    .. versionadded:: 2.0
    """
    return isinstance(value, str) and _TASK_ID.fullmatch(value) is not None


def job_owner(job: object) -> str | None:
    """The owner of a job: its ``owner`` attribute (the name of the
    principal that started it, as the framework's jobs have it) when that is
    a non-empty string, else ``None``.

    .. versionadded:: 2.0
    """
    owner = getattr(job, "owner", None)
    return owner if isinstance(owner, str) and owner else None


def runtime_exceeded(max_runtime: float) -> str:
    """The error of a task failed for running longer than its
    ``max_runtime``.

    :param max_runtime: the limit, in seconds.

    .. versionadded:: 2.0
    """
    return f"the task ran longer than its max_runtime of {max_runtime:g} s"


#: The error detail of a task failed for running longer than its limit.
RUNTIME_EXCEEDED_DETAIL = (
    "The task was still running when its max_runtime was over: it was failed, "
    "its later progress reports stop it, and its result (if it ever returns) is discarded."
)


def clamp_progress(value: object) -> float | None:
    """Normalise a progress value reported by a task.

    :param value: what the task passed. ``int`` and ``float`` values (but not
        ``bool``), infinities included, are clamped to 0.0..1.0; anything else
        (``None``, strings, booleans, NaN, other types) is ignored.
    :returns: the clamped value, or ``None`` when the value is ignored.

    .. versionadded:: 2.0
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        # Compared as int: float() of a huge int would overflow.
        return 0.0 if value <= 0 else 1.0
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return min(1.0, max(0.0, float(value)))  # infinities clamp too
    return None


def clean_message(message: object) -> str | None:
    """Normalise a progress message: a ``str`` truncated to
    :data:`MAX_MESSAGE_LENGTH` characters, with the characters no interface
    can send (control characters but tab and line ends, lone surrogates,
    U+FFFE and U+FFFF) replaced by U+FFFD; ``None`` for anything else.

    :param message: what the task passed.

    .. versionadded:: 2.0
    """
    if isinstance(message, str):
        return _UNSAFE_CHARACTERS.sub("\ufffd", str(message[:MAX_MESSAGE_LENGTH]))
    return None


class TaskReporter(Protocol):
    """The two calls a :class:`TaskHandle` makes to its backend.

    Each backend implements them on its own store, so that one
    :class:`TaskHandle` class serves them all.

    .. versionadded:: 2.0
    """

    def report_progress(self, task_id: str, progress: float | None, message: str | None) -> bool:
        """Store a progress report of a running task.

        :param task_id: the reporting task.
        :param progress: a value already clamped by :func:`clamp_progress`,
            or ``None`` to leave the progress alone. The stored progress is
            the maximum of the old and the new value: it never decreases.
        :param message: the new message, or ``None`` to keep the old one.
        :returns: True when a cancel of the task was requested (the report
            is then dropped and the handle raises :class:`TaskCancelled`).
        """
        ...

    def is_cancel_requested(self, task_id: str) -> bool:
        """Return True when a cancel of the task was requested.

        :param task_id: the task asking.
        """
        ...


class TaskHandle:
    """What a running job receives: its id, a way to report progress and a
    way to learn that it was cancelled.

    :param task_id: the task's id.
    :param reporter: the backend that stores the task.
    :param attempt: which attempt this run is: 1 for the first, 2 for the
        first re-run (``tasktype={"retries": N}``).

    A job that runs long should check :attr:`cancelled` now and then, or
    report progress: once a cancel was requested, :meth:`progress` raises
    :class:`TaskCancelled`, which ends the job.

    .. versionadded:: 2.0
    """

    __slots__ = ("_attempt", "_id", "_reporter")

    def __init__(self, task_id: str, reporter: TaskReporter, attempt: int = 1) -> None:
        self._id = task_id
        self._reporter = reporter
        self._attempt = attempt

    @property
    def id(self) -> str:
        """The task's id."""
        return self._id

    @property
    def attempt(self) -> int:
        """Which attempt this run is: 1 for the first run, 2 for the first
        re-run of a method with ``retries``.

        .. versionadded:: 2.0
        """
        return self._attempt

    @property
    def cancelled(self) -> bool:
        """True once a cancel of this task was requested, or once the task
        ran out of its ``max_runtime`` (the job should stop: its result will
        be discarded)."""
        return self._reporter.is_cancel_requested(self._id)

    def progress(self, value: object, message: str | None = None) -> None:
        """Report progress.

        :param value: a fraction between 0.0 and 1.0; ints and floats
            (infinities too) are clamped into that range, anything else
            (``None``, ``bool``, strings, NaN) is ignored without error. A
            lower value than one reported before is ignored too, so clients
            never see the progress go down.
        :param message: an optional short text (e.g. ``"step 2 of 5"``),
            cleaned by :func:`clean_message`; ``None`` (or anything but a
            ``str``) keeps the previous message.
        :raises TaskCancelled: when a cancel of this task was requested, or
            its ``max_runtime`` is over.
        """
        if self._reporter.report_progress(self._id, clamp_progress(value), clean_message(message)):
            raise TaskCancelled(self._id)

    def update_progress(self, value: object) -> None:
        """Report progress; the Ladon 1.0 name of :meth:`progress` without a
        message.

        :param value: as for :meth:`progress`.
        :raises TaskCancelled: when a cancel of this task was requested.
        """
        self.progress(value)

    def __repr__(self) -> str:
        return f"<TaskHandle {self._id}>"


class NonceStore(Protocol):
    """Remembers one-time values (WS-Security nonces) for a while, shared
    by every process that shares the store: the built-in backends are nonce
    stores (threads: in memory; SQLite: a table of the file; Redis: keys
    set with ``SET NX PX``).

    .. versionadded:: 2.0
    """

    def claim_nonce(self, key: str, ttl: float) -> bool:
        """Remember ``key`` for ``ttl`` seconds.

        :returns: True the first time ``key`` is claimed within ``ttl``
            seconds, False when it was claimed before and not yet forgotten.
        :raises BackendUnavailable: when the store cannot be reached.
        """
        ...


class TaskBackend(Protocol):
    """Runs jobs in the background and keeps their state.

    Every call names the method that owns the task: an id submitted under one
    method is unknown under another. A backend also keeps the job's
    ``owner`` (see :func:`job_owner`) and reports it as
    :attr:`TaskStatus.owner`, and says so with a ``keeps_owners`` attribute
    that is true: the framework refuses to start a task of an authenticated
    caller on a backend that does not, since another caller could then
    follow it.

    A job may carry ``task_options`` (its method's ``tasktype`` options:
    retries, delays, see :mod:`ladon.tasks.retries`); a backend that runs
    jobs again hands each run a :class:`TaskHandle` with its ``attempt`` and
    reports it in :attr:`TaskStatus.attempt`. A backend that may run a task
    again in another process of the application offers
    ``bind_services(find_service)``, which the application calls with its
    service look-up when it creates the backend.

    .. versionadded:: 2.0
    """

    def submit(self, method: str, job: Callable[[TaskHandle], object]) -> str:
        """Queue a job and return its new task id at once.

        :param method: the key of the method that owns the task.
        :param job: called with the task's :class:`TaskHandle`; what it
            returns is the task's result. A job with a ``max_runtime``
            attribute that is not ``None`` (seconds) has that limit instead
            of the backend's own ``max_runtime``, if the backend has one.
        :raises TaskRejected: when the queue is full or the backend closed.
        """
        ...

    def status(self, method: str, task_id: str) -> TaskStatus:
        """Return the task's current status. It can be asked again and again
        until the finished task expires.

        :param method: the key of the method that owns the task.
        :param task_id: the id :meth:`submit` returned.
        :raises UnknownTask: for an unknown, expired or foreign id.
        """
        ...

    def cancel(self, method: str, task_id: str) -> TaskStatus:
        """Request the cancellation of the task and return its status at
        that moment, at once.

        * A pending task ends ``CANCELLED`` at once (progress 1.0, message
          :data:`CANCELLED_MESSAGE`) and never runs.
        * A running task stays ``RUNNING`` until its job stops (at its next
          progress report or look at :attr:`TaskHandle.cancelled`, or when
          the backend kills it); its progress stays where it was and its
          message becomes :data:`CANCEL_REQUESTED_MESSAGE`. Once the job has
          stopped, however it stopped, the task is ``CANCELLED`` with
          progress 1.0 and the message :data:`CANCELLED_MESSAGE`.
        * A finished task is left as it is and answered unchanged.

        :param method: the key of the method that owns the task.
        :param task_id: the id :meth:`submit` returned.
        :raises UnknownTask: for an unknown, expired or foreign id.
        """
        ...

    def close(self, wait: bool = True) -> None:
        """Refuse new tasks and release the backend's resources.

        :param wait: wait for running tasks to end.
        """
        ...
