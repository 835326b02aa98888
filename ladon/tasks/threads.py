"""The embedded task backend: a bounded pool of threads in this process.

Tasks and their results live in memory, so they are visible only to the
process that runs them. That suits a single-process server (the development
server, a threaded WSGI server); a server with several worker processes
needs a shared backend.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ..observe import metrics
from ..types.tasktype import TaskOptions
from ._nonces import MemoryNonces
from ._pool import WorkerPool
from .admin import Readiness
from .admin import TaskQuery
from .admin import newest
from .base import CANCEL_REQUESTED_MESSAGE
from .base import CANCELLED_MESSAGE
from .base import RUNTIME_EXCEEDED_DETAIL
from .base import SYSTEM_CLOCK
from .base import Clock
from .base import TaskCancelled
from .base import TaskHandle
from .base import TaskRejected
from .base import TaskState
from .base import TaskStatus
from .base import UnknownTask
from .base import check_max_runtime
from .base import clean_message
from .base import is_task_id
from .base import job_owner
from .base import new_task_id
from .base import runtime_exceeded
from .callbacks import PENDING as CALLBACK_PENDING
from .callbacks import SENDING as CALLBACK_SENDING
from .callbacks import in_flight
from .callbacks import job_callback
from .delivery import CallbackSender
from .idempotency import AlreadyStarted
from .idempotency import IdempotentStart
from .idempotency import KeyReused
from .idempotency import job_idempotency
from .retries import Retry
from .retries import RetryTimer
from .retries import final_error
from .retries import job_task_options
from .retries import refused_retry
from .retries import release_job
from .retries import waiting_message
from .waiting import EndSignals
from .waiting import wait_on_signals

logger = logging.getLogger("ladon")
Job = Callable[[TaskHandle], object]


def job_max_runtime(job: object, default: float | None) -> float | None:
    """The ``max_runtime`` of one job: the job's own (a ``max_runtime``
    attribute that is not ``None``, as a task method declared with
    ``tasktype={"max_runtime": 30}`` gives), else the backend's ``default``.

    :raises ValueError: the job's own limit is not a number of seconds > 0.

    .. versionadded:: 2.0
    """
    own = getattr(job, "max_runtime", None)
    return default if own is None else check_max_runtime(own)


@dataclass(slots=True)
class _Record:
    """The mutable state of one task; guarded by the backend's lock."""

    task_id: str
    method: str
    state: TaskState
    created: float
    progress: float = 0.0
    message: str | None = None
    started: float | None = None
    finished: float | None = None
    result: object = None
    error: str | None = None
    error_detail: str | None = None
    cancel_requested: bool = False
    max_runtime: float | None = None
    deadline: float | None = None  # monotonic; set when the task starts
    owner: str | None = None
    # Idempotent starts and completion callbacks (issue 14).
    idem_key: object = None  # IdempotentStart.local_key
    idem: IdempotentStart | None = None
    callback: str | None = None
    callback_state: str | None = None
    attempt: int = 1
    attempts: int = 1
    retry_delay: float = 1.0
    # the job, while the task waits to run again (released if it never does)
    job: Job | None = None

    def snapshot(self, now: float) -> TaskStatus:
        return TaskStatus(
            task_id=self.task_id,
            method=self.method,
            state=self.state,
            progress=self.progress,
            message=self.message,
            created=self.created,
            started=self.started,
            finished=self.finished,
            result=self.result,
            error=self.error,
            error_detail=self.error_detail,
            as_of=now,
            owner=self.owner,
            callback=self.callback,
            callback_state=self.callback_state,
            attempt=self.attempt,
            attempts=self.attempts,
        )


def _describe_failure(exc: BaseException) -> tuple[str, str]:
    """Return the short error message (cleaned as a progress message is:
    it is the failed task's ``_progress`` message, and the text of an
    exception may hold what a client sent) and the formatted traceback."""
    message = clean_message(str(exc) or type(exc).__name__) or type(exc).__name__
    tb = exc.__traceback__
    # Drop the backend's own frame; keep the job's.
    if tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    detail = "".join(traceback.format_exception(type(exc), exc, tb))
    return message, detail


class ThreadTaskBackend:
    """Runs tasks on a bounded pool of threads and keeps them in memory.

    :param max_workers: how many tasks run at once; more wait as
        ``PENDING``. Defaults to ``min(32, os.cpu_count() + 4)``.
    :param result_ttl: seconds a finished task is kept (and its result can be
        fetched) before it is forgotten.
    :param max_pending: how many tasks may wait for a worker; beyond that
        :meth:`submit` raises :class:`~ladon.tasks.TaskRejected`.
    :param max_runtime: seconds a task may run; ``None`` (the default) for
        no limit. A task still running then is ``FAILED`` at once ("the task
        ran longer than its max_runtime of N s", progress 1.0); a thread
        cannot be killed, so its job is told to stop (its next progress
        report raises :class:`~ladon.tasks.TaskCancelled`, ``task.cancelled``
        is true) and whatever it returns is discarded. A job that never
        reports progress keeps its pool thread until it returns. A task
        method's own ``max_runtime`` (``tasktype={"max_runtime": 30}``)
        replaces this one.
    :param clock: where the backend reads the time (tests move a clock of
        their own instead of sleeping).

    A task method declared with ``tasktype={"retries": N}`` that raises
    :class:`~ladon.tasks.Retry` goes back to ``PENDING`` and runs again on
    the pool after its delay (a timer thread of the backend waits for it),
    up to N times; a worker cannot be lost here (the tasks die with the
    process).

    No thread is started before the first :meth:`submit`. Expired tasks are
    swept lazily whenever the backend is used, so memory stays bounded
    however many tasks run.

    :meth:`cancel` answers at once: a pending task is ``CANCELLED`` then,
    a running one stays ``RUNNING`` (message "cancel requested") until its
    job stops. A task whose cancel was requested ends ``CANCELLED`` (message
    "cancelled") however its job ends (returning, raising
    :class:`~ladon.tasks.TaskCancelled` or another exception); its result,
    if any, is dropped.

    Each task keeps its owner (the principal that started it), and the
    backend is the application's store of WS-Security nonces
    (:meth:`claim_nonce`), in memory. It keeps the ``Idempotency-Key`` of a
    task (:mod:`ladon.tasks.idempotency`) and sends its completion callback
    with :attr:`callback_sender` (:mod:`ladon.tasks.callbacks`).

    .. versionadded:: 2.0
    """

    #: Tasks keep their owner (see :class:`ladon.tasks.TaskBackend`).
    keeps_owners = True
    #: A repeated start with the same ``Idempotency-Key`` gives the same task.
    idempotent_starts = True
    #: Sends the callbacks of the tasks this process ends (set by the
    #: application); ``None``: they wait until one is set.
    callback_sender: CallbackSender | None = None
    #: The backend's kind, as the operator's tools name it.
    kind = "thread"

    def __init__(
        self,
        max_workers: int | None = None,
        result_ttl: float = 3600.0,
        max_pending: int = 10_000,
        max_runtime: float | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        if max_workers is None:
            max_workers = min(32, (os.cpu_count() or 1) + 4)
        if max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, not {max_workers!r}")
        if not result_ttl >= 0:  # also refuses NaN
            raise ValueError(f"result_ttl must be zero or more seconds, not {result_ttl!r}")
        if max_pending < 0:
            raise ValueError(f"max_pending must be zero or more, not {max_pending!r}")
        self._max_workers = max_workers
        self._result_ttl = float(result_ttl)
        self._max_pending = max_pending
        self._max_runtime = check_max_runtime(max_runtime)
        self._clock = clock
        self._lock = threading.Lock()
        self._tasks: dict[str, _Record] = {}
        # (monotonic finish time, id) in finish order, hence in expiry order.
        self._expiry: deque[tuple[float, str]] = deque()
        self._pending = 0
        # Tasks that ended (max_runtime) while their job still runs.
        self._abandoned: set[str] = set()
        self._closed = False
        self._executor: WorkerPool | None = None
        self._nonces = MemoryNonces(clock)
        # The calls of <task>_wait, woken when their task ends (_finish).
        self._ends = EndSignals()
        # scoped Idempotency-Key -> task id, for as long as the task is kept
        #: IdempotentStart.local_key -> the task it started
        self._idem: dict[object, str] = {}
        self._timer: RetryTimer | None = None  # delayed re-runs, from the first

    @property
    def max_workers(self) -> int:
        """How many tasks run at once."""
        return self._max_workers

    @property
    def result_ttl(self) -> float:
        """Seconds a finished task is kept."""
        return self._result_ttl

    @property
    def max_pending(self) -> int:
        """How many tasks may wait for a worker."""
        return self._max_pending

    @property
    def max_runtime(self) -> float | None:
        """Seconds a task may run, or ``None`` for no limit."""
        return self._max_runtime

    def __len__(self) -> int:
        """The number of tasks stored (pending, running and not yet expired)."""
        with self._lock:
            self._sweep()
            return len(self._tasks)

    def __repr__(self) -> str:
        return (
            f"<ThreadTaskBackend max_workers={self._max_workers}"
            f" result_ttl={self._result_ttl} tasks={len(self._tasks)}"
            f"{' closed' if self._closed else ''}>"
        )

    # -- TaskBackend ---------------------------------------------------------

    def submit(self, method: str, job: Job) -> str:
        """Queue a job; see :meth:`ladon.tasks.TaskBackend.submit`.

        :param method: the key of the method that owns the task.
        :param job: called with the task's :class:`~ladon.tasks.TaskHandle`.
        :raises TaskRejected: when the backend is closed or ``max_pending``
            tasks already wait.
        """
        limit = job_max_runtime(job, self._max_runtime)
        options = job_task_options(job)
        with self._lock:
            if self._closed:
                raise TaskRejected("the task backend is closed")
            self._sweep()
            if self._pending >= self._max_pending:
                raise TaskRejected(f"too many pending tasks ({self._pending}); try again later")
            idem = job_idempotency(job)
            ident = None if idem is None else idem.local_key  # PERF: no hash made
            if idem is not None:
                self._repeated(ident, idem)
            if self._executor is None:
                self._executor = WorkerPool(self._max_workers)
            task_id = new_task_id()
            callback = job_callback(job)
            record = _Record(
                task_id,
                method,
                TaskState.PENDING,
                self._clock.time(),
                max_runtime=limit,
                owner=job_owner(job),
                idem_key=ident,
                idem=idem,
                callback=callback,
                callback_state=CALLBACK_PENDING if callback is not None else None,
                attempts=options.attempts,
                retry_delay=options.retry_delay,
            )
            self._tasks[task_id] = record
            if idem is not None:
                self._idem[ident] = task_id
            self._pending += 1
            executor = self._executor
        # NOTE: handed to the pool outside the lock: a woken pool thread would
        # otherwise block on it at once, and the two threads ping-pong on the GIL.
        try:
            executor.submit(self._run, record, job)
        except RuntimeError as exc:  # closed meanwhile, or the interpreter exits
            with self._lock:
                if record.state is TaskState.PENDING:
                    self._pending -= 1
                    self._tasks.pop(task_id, None)
            raise TaskRejected(f"the task backend cannot start tasks: {exc}") from exc
        return task_id

    def status(self, method: str, task_id: str) -> TaskStatus:
        """Return the task's status; see :meth:`ladon.tasks.TaskBackend.status`.

        :param method: the key of the method that owns the task.
        :param task_id: the id :meth:`submit` returned.
        :raises UnknownTask: for an unknown, expired or foreign id.
        """
        if self._timer is not None:
            self._timer.run_due()  # re-runs due by a clock moved by hand
        with self._lock:
            status = self._lookup(method, task_id).snapshot(self._clock.time())
        if status.state.finished:
            return status
        # NOTE: an unfinished task: let the pool threads take the GIL once
        # before answering. A short task asked for right after its start is
        # then done, instead of the answer waiting on the interpreter's
        # switch interval (5 ms) while this thread holds the GIL.
        time.sleep(0)
        with self._lock:
            return self._lookup(method, task_id).snapshot(self._clock.time())

    def cancel(self, method: str, task_id: str) -> TaskStatus:
        """Cancel the task; see :meth:`ladon.tasks.TaskBackend.cancel`.

        :param method: the key of the method that owns the task.
        :param task_id: the id :meth:`submit` returned.
        :raises UnknownTask: for an unknown, expired or foreign id.
        """
        with self._lock:
            record = self._lookup(method, task_id)
            waiting = None
            if record.state is TaskState.PENDING:
                record.cancel_requested = True
                self._pending -= 1
                self._finish(record, TaskState.CANCELLED)
                waiting, record.job = record.job, None
            elif record.state is TaskState.RUNNING and not record.cancel_requested:
                # The job stops at its next report or look at task.cancelled;
                # until then the task runs, and says so.
                record.cancel_requested = True
                record.message = CANCEL_REQUESTED_MESSAGE
            status = record.snapshot(self._clock.time())
        if waiting is not None:  # it waited to run again: it never will
            release_job(waiting)
        return status

    def wait(self, method: str, task_id: str, timeout: float) -> TaskStatus:
        """Return the task's status as soon as it has ended (woken by the
        pool thread that records the end), or after ``timeout`` seconds; see
        :class:`ladon.tasks.waiting.WaitingBackend`.

        :raises UnknownTask: for an unknown, expired or foreign id.

        .. versionadded:: 2.0
        """
        return wait_on_signals(lambda: self.status(method, task_id), self._ends, task_id, timeout)

    def claim_callback(
        self, task_id: str, held: str | None = None, stale_after: float | None = None
    ) -> TaskStatus | None:
        """Take an ended task's callback for sending; see
        :class:`ladon.tasks.delivery.CallbackStore` (``stale_after`` is
        moot: the callbacks live and die with this process)."""
        with self._lock:
            record = self._tasks.get(task_id)
            if (
                record is None
                or not record.state.finished
                or record.callback_state != (CALLBACK_PENDING if held is None else held)
            ):
                return None
            record.callback_state = CALLBACK_SENDING
            return record.snapshot(self._clock.time())

    def set_callback_state(self, task_id: str, state: str) -> None:
        """Write how a callback's delivery goes; see
        :class:`ladon.tasks.delivery.CallbackStore`."""
        with self._lock:
            record = self._tasks.get(task_id)
            if record is not None and record.callback is not None:
                record.callback_state = state

    def claim_nonce(self, key: str, ttl: float) -> bool:
        """Remember a one-time value for ``ttl`` seconds, in this process;
        see :class:`ladon.tasks.base.NonceStore`.

        :returns: False when ``key`` was claimed before and is still held.
        """
        return self._nonces.claim(key, ttl)

    def close(self, wait: bool = True) -> None:
        """Refuse new tasks, cancel the pending ones and shut the pool down.

        Running tasks are not interrupted. Closing again is harmless; the
        task table stays readable.

        :param wait: wait until the running tasks have ended.
        """
        with self._lock:
            self._closed = True
            pending = [r for r in self._tasks.values() if r.state is TaskState.PENDING]
            waiting: list[Job] = []
            for record in pending:  # _finish() may evict: not while iterating
                record.cancel_requested = True
                self._finish(record, TaskState.CANCELLED)
                if record.job is not None:
                    waiting.append(record.job)
                    record.job = None
            self._pending = 0
            executor = self._executor
            timer = self._timer
        if timer is not None:
            timer.stop()
        for job in waiting:
            release_job(job)
        if executor is not None:
            executor.shutdown(wait=wait)

    # -- TaskAdmin (the operator's questions) ---------------------------------

    def tasks(self, query: TaskQuery) -> list[TaskStatus]:
        """The tasks ``query`` asks for, newest first; see
        :class:`ladon.tasks.admin.TaskAdmin`."""
        with self._lock:
            self._sweep()
            now = self._clock.time()
            for record in list(self._tasks.values()):
                self._overrun(record)
            statuses = [r.snapshot(now) for r in self._tasks.values()]
        return newest(statuses, query, now)

    def counts(self) -> dict[str, int]:
        """How many tasks are kept in each state."""
        with self._lock:
            self._sweep()
            found: dict[str, int] = {}
            for record in self._tasks.values():
                found[record.state.value] = found.get(record.state.value, 0) + 1
            return found

    def readiness(self) -> Readiness:
        """Ready while the backend is open (tasks run in this process)."""
        return Readiness(
            not self._closed,
            self.kind,
            {"open": not self._closed, "max_workers": self._max_workers},
        )

    def task_key(self, task_id: str) -> str | None:
        """The method key of a task, or ``None`` for an unknown id."""
        with self._lock:
            self._sweep()
            record = self._tasks.get(task_id)
            return None if record is None else record.method

    # -- TaskReporter (used by TaskHandle) ------------------------------------

    def report_progress(self, task_id: str, progress: float | None, message: str | None) -> bool:
        """Store a running task's progress report; see
        :meth:`ladon.tasks.base.TaskReporter.report_progress`.

        :param task_id: the reporting task.
        :param progress: the clamped value, or ``None``.
        :param message: the new message, or ``None``.
        :returns: True when a cancel was requested.
        """
        with self._lock:
            if task_id in self._abandoned:
                return True  # ended by its max_runtime: the job must stop
            record = self._tasks.get(task_id)
            if record is None or record.state is not TaskState.RUNNING:
                return False  # a handle used after its job ended
            if record.cancel_requested or self._overrun(record):
                return True
            if progress is not None and progress > record.progress:
                record.progress = progress
            if message is not None:
                record.message = message
            return False

    def is_cancel_requested(self, task_id: str) -> bool:
        """Return True when a cancel of the task was requested.

        :param task_id: the task asking.
        """
        with self._lock:
            if task_id in self._abandoned:
                return True
            record = self._tasks.get(task_id)
            return record is not None and (record.cancel_requested or self._overrun(record))

    # -- internals (call with the lock held unless noted) ---------------------

    def _lookup(self, method: str, task_id: str) -> _Record:
        if not is_task_id(task_id):
            raise UnknownTask(task_id)
        self._sweep()
        record = self._tasks.get(task_id)
        if record is None or record.method != method:
            raise UnknownTask(task_id)
        self._overrun(record)
        return record

    def _repeated(self, key: object, idem: IdempotentStart) -> None:
        """Refuse a start whose key started a task that is still kept (the
        fingerprints, if deferred, are made now: the key came again)."""
        task_id = self._idem.get(key)
        if task_id is None:
            return
        record = self._tasks.get(task_id)
        if record is None or record.idem is None or record.idem_key != key:  # pragma: no cover
            del self._idem[key]  # swept
            return
        if record.idem.fingerprint == idem.fingerprint:
            raise AlreadyStarted(task_id)
        raise KeyReused(task_id)

    def _overrun(self, record: _Record) -> bool:
        """End a running task whose ``max_runtime`` is over; True if it was."""
        if (
            record.deadline is None
            or record.state is not TaskState.RUNNING
            or self._clock.monotonic() < record.deadline
        ):
            return False
        limit = record.max_runtime or 0.0
        self._abandoned.add(record.task_id)
        self._finish(
            record,
            TaskState.FAILED,
            error=(runtime_exceeded(limit), RUNTIME_EXCEEDED_DETAIL),
        )
        return True

    def _sweep(self) -> None:
        """Forget the finished tasks whose time is up (amortised O(1))."""
        expiry = self._expiry
        if not expiry:
            return
        deadline = self._clock.monotonic() - self._result_ttl
        while expiry and expiry[0][0] <= deadline:
            _, task_id = expiry.popleft()
            record = self._tasks.pop(task_id, None)
            if record is None:
                continue
            if record.idem_key is not None and self._idem.get(record.idem_key) == task_id:
                del self._idem[record.idem_key]
            state = record.callback_state
            if record.callback is not None and (state == CALLBACK_PENDING or in_flight(state)):
                # a backlog of callbacks to slow receivers older than result_ttl
                logger.warning(
                    "Callback of task %s given up: the task expired (result_ttl) while its "
                    "callback was %s",
                    task_id,
                    str(state)[:100],
                )
                metrics.callback_delivered("failed")

    def _finish(
        self,
        record: _Record,
        state: TaskState,
        result: object = None,
        error: tuple[str, str] | None = None,
    ) -> None:
        if record.cancel_requested:
            state = TaskState.CANCELLED  # a cancelled task ends cancelled
        record.state = state
        record.finished = self._clock.time()
        record.progress = 1.0  # 1.0 once the task has ended, however it ended
        if state is TaskState.CANCELLED:
            record.message = CANCELLED_MESSAGE
        elif state is TaskState.SUCCEEDED:
            record.result = result
        elif state is TaskState.FAILED and error is not None:
            record.error, record.error_detail = error
        self._expiry.append((self._clock.monotonic(), record.task_id))
        self._sweep()
        self._ends.notify(record.task_id)
        sender = self.callback_sender
        if record.callback is not None and sender is not None:
            sender.due(self, record.task_id)  # sent on a delivery thread

    def _run(self, record: _Record, job: Job) -> None:
        """Run one job on a pool thread (called without the lock)."""
        with self._lock:
            if record.state is not TaskState.PENDING:
                return  # cancelled while it waited
            self._pending -= 1
            record.state = TaskState.RUNNING
            record.started = self._clock.time()
            record.job = None
            if record.attempt == 1:
                record.progress = 0.0
            else:  # a re-run: the progress never goes back; the wait is over
                record.message = None
            if record.max_runtime is not None:
                record.deadline = self._clock.monotonic() + record.max_runtime
        try:
            result = job(TaskHandle(record.task_id, self, record.attempt))
        except TaskCancelled:
            self._ended(record, TaskState.CANCELLED)
        except Retry as exc:
            self._retry(record, job, exc)
        except Exception as exc:
            self._ended(record, TaskState.FAILED, error=_describe_failure(exc))
        except BaseException as exc:
            # SystemExit, KeyboardInterrupt...: record the failure, then let
            # it go on (the pool's future swallows it).
            self._ended(record, TaskState.FAILED, error=_describe_failure(exc))
            raise
        else:
            self._ended(record, TaskState.SUCCEEDED, result=result)

    def _ended(
        self,
        record: _Record,
        state: TaskState,
        result: object = None,
        error: tuple[str, str] | None = None,
    ) -> None:
        """Record how a job ended (called without the lock); the outcome of
        a job whose task already ended (its max_runtime) is discarded."""
        with self._lock:
            self._abandoned.discard(record.task_id)
            if record.state is TaskState.RUNNING:
                self._finish(record, state, result=result, error=error)

    def _retry(self, record: _Record, job: Job, exc: Retry) -> None:
        """A job raised :class:`~ladon.tasks.Retry` (called without the
        lock): run it again after its delay if it has attempts left, else
        fail the task with the reason."""
        rerun = False
        delay = 0.0
        since: float | None = None
        timer: RetryTimer | None = None
        with self._lock:
            self._abandoned.discard(record.task_id)
            if record.state is not TaskState.RUNNING:
                pass  # ended meanwhile (its max_runtime): the outcome is dropped
            elif record.cancel_requested:
                self._finish(record, TaskState.CANCELLED)
            elif record.attempt >= record.attempts:
                reason = exc.reason
                error = (
                    final_error(reason, record.attempt, record.attempts)
                    if record.attempts > 1
                    else refused_retry(reason)
                )
                self._finish(record, TaskState.FAILED, error=(error, _describe_failure(exc)[1]))
            elif self._closed:
                record.cancel_requested = True
                self._finish(record, TaskState.CANCELLED)
            else:
                rerun = True
                record.attempt += 1
                delay = exc.delay if exc.delay is not None else _options_delay(record)
                record.state = TaskState.PENDING
                record.started = None
                record.deadline = None
                record.message = waiting_message(record.attempt, record.attempts, delay, exc.reason)
                since = self._clock.monotonic()  # the delay counts from the write
                record.job = job
                self._pending += 1
                if delay > 0 and self._timer is None:
                    self._timer = RetryTimer(self._clock, name="ladon-thread-retries")
                timer = self._timer
        if not rerun:
            release_job(job)
            return
        if delay > 0 and timer is not None:
            timer.schedule(delay, lambda: self._rerun(record, job), since)
        else:
            self._rerun(record, job)

    def _rerun(self, record: _Record, job: Job) -> None:
        """Hand a task waiting to run again to the pool."""
        with self._lock:
            if record.state is not TaskState.PENDING or record.job is not job:
                return  # cancelled while it waited (its job was released)
            executor = self._executor
        try:
            if executor is None:
                raise RuntimeError("no pool")
            executor.submit(self._run, record, job)
        except RuntimeError:  # closed meanwhile
            with self._lock:
                if record.state is TaskState.PENDING:
                    self._pending -= 1
                    record.cancel_requested = True
                    self._finish(record, TaskState.CANCELLED)
                    record.job = None
            release_job(job)


def _options_delay(record: _Record) -> float:
    """The doubling delay before ``record.attempt`` runs."""
    return TaskOptions(record.attempts - 1, record.retry_delay).delay(record.attempt)
