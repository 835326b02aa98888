"""Re-runs on the SQLite backend: tasks that raised :class:`~ladon.tasks.Retry`,
tasks whose process was lost (killed, crashed) or stopped, and the hand-back
of a process's tasks when it exits.

A task of a method with retries is stored with its call *described* (the
arguments in typed JSON, as the Redis backend stores them), and every
attempt runs from that description, so that any process of the application
may run it again: the first process whose ticker (or whose ``_progress``
call) finds the task's lease run out *adopts* it. A process finds the
services in the application it serves (:meth:`Reruns.bind`). A task of a
method without retries is never run again: a lost process fails it
("worker lost"), a stopped one "worker stopped".

.. versionadded:: 2.0
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from ..ladonizer.model import ServiceInfo
from ..types.tasktype import TaskOptions
from .base import TaskHandle
from .base import TaskState
from .execution import run_described
from .jobs import JobSpec
from .retries import WORKER_LOST
from .retries import WORKER_STOPPED
from .retries import Retry
from .retries import RetryTimer
from .retries import final_error
from .retries import job_task_options
from .retries import refused_retry
from .retries import release_job
from .retries import waiting_message

if TYPE_CHECKING:
    from .sqlite import SQLiteTaskBackend
    from .sqlite import _Process

logger = logging.getLogger("ladon")

Job = Callable[[TaskHandle], object]
Resolver = Callable[[str], "ServiceInfo | None"]
#: A record as read (``sqlite3.Row``, or a dict of its columns).
Row = Any

#: The detail of a task failed because its process stopped renewing its lease.
LOST_DETAIL = (
    "The process running the task stopped renewing its lease (it was killed, crashed or restarted)."
)
#: Seconds a process that exits keeps trying to write what it owes the
#: file (the ends held back by an outage, its tasks handed back).
EXIT_WRITE_WAIT = 10.0
#: The detail of a task failed because its process exited before it ended.
STOPPED_DETAIL = "The process running the task exited (stopped or restarted) before it ended."


class DescribedRun:
    """A task's call, described as data, run in this process.

    :param spec: the call.
    :param resolve: finds the service by name.
    :param options: the method's task options.
    :param max_runtime: the method's own ``max_runtime``.

    .. versionadded:: 2.0
    """

    __slots__ = ("max_runtime", "resolve", "spec", "task_options")

    def __init__(
        self,
        spec: JobSpec,
        resolve: Resolver,
        options: TaskOptions,
        max_runtime: float | None = None,
    ) -> None:
        self.spec = spec
        self.resolve = resolve
        self.task_options = options
        self.max_runtime = max_runtime

    def __call__(self, handle: TaskHandle) -> object:
        return run_described(self.resolve, self.spec, handle)


def spec_to_text(spec: JobSpec) -> str:
    """The stored form of a described call (the ``job`` column)."""
    return json.dumps(
        [spec.service, spec.method, spec.args, spec.environ, spec.principal, spec.traceparent]
    )


def spec_from_text(text: str) -> JobSpec | None:
    """A stored described call, or ``None`` for text that is not one."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    # five items: written before the start call's traceparent was kept
    if not (
        isinstance(data, list) and len(data) in (5, 6) and all(isinstance(v, str) for v in data)
    ):
        return None
    return JobSpec(*data)


def _int(value: object, default: int = 1) -> int:
    return value if isinstance(value, int) and value >= 1 else default


class Reruns:
    """What one SQLite backend does about re-runs, in every process.

    :param backend: the backend.

    .. versionadded:: 2.0
    """

    def __init__(self, backend: SQLiteTaskBackend) -> None:
        self.backend = backend
        self.resolvers: list[Resolver] = []

    # -- services ----------------------------------------------------------------

    def bind(self, find_service: Resolver) -> None:
        """Let this process run again the tasks of the services
        ``find_service`` finds (an application's look-up by name)."""
        if find_service not in self.resolvers:
            self.resolvers.append(find_service)

    def find_service(self, name: str) -> ServiceInfo | None:
        for resolve in self.resolvers:
            service = resolve(name)
            if service is not None:
                return service
        return None

    def prepare(self, job: Job) -> tuple[Job, str | None]:
        """At submit: the job to run and its stored description. A job of
        a method with retries that can describe itself (the framework's
        do) runs from its description, here and in whichever process runs
        it again; any other job runs as it is, and only here.

        :raises ServerFault: its arguments cannot be written as typed JSON.
        """
        options = job_task_options(job)
        describe = getattr(job, "describe", None)
        if options.retries == 0 or not callable(describe):
            return job, None
        own = getattr(job, "service", None)
        spec: JobSpec = describe()

        def resolve(name: str) -> ServiceInfo | None:
            found = self.find_service(name)
            if found is None and isinstance(own, ServiceInfo) and own.name == name:
                return own
            return found

        run = DescribedRun(spec, resolve, options, getattr(job, "max_runtime", None))
        return run, spec_to_text(spec)

    def rebuild(self, text: str | None) -> DescribedRun | None:
        """The job a stored description names, if this process serves its
        method; else ``None``."""
        spec = None if not text else spec_from_text(text)
        if spec is None:
            return None
        service = self.find_service(spec.service)
        method = None if service is None else service.methods.get(spec.method)
        if method is None or method.task_options is None:
            return None
        return DescribedRun(spec, self.find_service, method.task_options, method.max_runtime)

    # -- running again -------------------------------------------------------------

    def schedule(
        self,
        proc: _Process,
        task_id: str,
        job: Job,
        attempt: int,
        delay: float,
        since: float | None = None,
    ) -> None:
        """Run ``attempt`` of a task owned by this process, ``delay``
        seconds from now (or from ``since``, a reading of the clock's
        ``monotonic()`` taken before the task was written as waiting), on
        this process's pool."""
        b = self.backend
        with proc.lock:
            proc.queued.add(task_id)
            if delay > 0 and proc.timer is None:
                proc.timer = RetryTimer(b._clock, name="ladon-sqlite-retries")
            timer = proc.timer
        b._start_threads(proc)

        def run() -> None:
            pool = proc.pool
            try:
                if pool is None:
                    raise RuntimeError("no pool")
                pool.submit(b._run, proc, task_id, job, attempt)
                proc.wake.set()
            except RuntimeError:  # closed meanwhile: left pending, handed back at exit
                with proc.lock:
                    proc.queued.discard(task_id)

        if delay > 0 and timer is not None:
            timer.schedule(delay, run, since)
        else:
            run()

    def retry(
        self, proc: _Process, task_id: str, job: Job, attempt: int, exc: Retry, detail: str
    ) -> None:
        """The job of ``attempt`` raised :class:`~ladon.tasks.Retry`: run it
        again after its delay, or end the task (failed: no retries left;
        cancelled: a cancel was requested)."""
        b = self.backend
        options = job_task_options(job)
        if attempt < options.attempts:
            delay = exc.delay if exc.delay is not None else options.delay(attempt + 1)
            since = b._clock.monotonic()  # the delay counts from the write below
            now = b._clock.time()
            moved = b._write(
                proc,
                "UPDATE ladon_tasks SET state = 'pending', attempt = :next, started = NULL,"
                " due = :due, heartbeat = :now, message = :message"
                " WHERE id = :id AND state = 'running' AND owner = :owner"
                " AND COALESCE(attempt, 1) = :attempt AND cancel = 0",
                {
                    "id": task_id,
                    "next": attempt + 1,
                    "due": now + delay,
                    "now": now,
                    "message": waiting_message(attempt + 1, options.attempts, delay, exc.reason),
                    "owner": proc.owner,
                    "attempt": attempt,
                },
            )
            if moved:
                self.schedule(proc, task_id, job, attempt + 1, delay, since)
                return
            # a cancel came first
            b._end(proc, task_id, TaskState.CANCELLED, owner=proc.owner, attempt=attempt)
        else:
            reason = exc.reason
            if options.attempts > 1:
                error = final_error(reason, attempt, options.attempts)
            else:
                error = refused_retry(reason)
            b._end(
                proc,
                task_id,
                TaskState.FAILED,
                error=(error, detail),
                owner=proc.owner,
                attempt=attempt,
            )
        release_job(job)

    def recover(self, proc: _Process, rows: Sequence[Row], now: float) -> None:
        """Deal with unfinished tasks whose lease ran out: adopt those that
        may run again (a running one as its next attempt), fail the others
        ("worker lost"; a cancelled one ends cancelled)."""
        b = self.backend
        since = b._clock.monotonic()  # delays count from here, not from the writes
        for row in rows:
            if row["expires"] is not None or row["heartbeat"] + row["lease"] >= now:
                continue
            if row["owner"] == proc.owner:
                continue  # this process lives: its ticker renews the lease (once it can write)
            attempt, attempts = _int(row["attempt"]), _int(row["attempts"])
            running = row["state"] == TaskState.RUNNING.value
            job = None
            if not row["cancel"] and (not running or attempt < attempts):
                job = self.rebuild(row["job"])
            if job is None:
                error = final_error(WORKER_LOST, attempt, attempts) if running else WORKER_LOST
                b._fail_lost(proc, row["id"], error, LOST_DETAIL, now)
                continue
            if running:
                attempt += 1
                delay = TaskOptions(attempts - 1, row["retry_delay"] or 0.0).delay(attempt)
                message = waiting_message(attempt, attempts, delay, WORKER_LOST)
                due: float = now + delay
            else:
                due = row["due"] if row["due"] is not None else now
                delay = max(0.0, due - now)
                message = row["message"]
            adopted = b._write(
                proc,
                "UPDATE ladon_tasks SET owner = :owner, heartbeat = :now, state = 'pending',"
                " attempt = :next, started = NULL, due = :due, message = :message"
                " WHERE id = :id AND expires IS NULL AND heartbeat + lease < :now"
                " AND state = :state AND COALESCE(attempt, 1) = :attempt",
                {
                    "id": row["id"],
                    "owner": proc.owner,
                    "now": now,
                    "next": attempt,
                    "due": due,
                    "message": message,
                    "state": row["state"],
                    "attempt": _int(row["attempt"]),
                },
            )
            if adopted:
                logger.info(
                    "Task %s (attempt %d) is taken over by %s", row["id"], attempt, proc.owner
                )
                self.schedule(proc, row["id"], job, attempt, delay, since)

    def hand_back(self, proc: _Process) -> None:
        """When this process exits: its unfinished tasks that may run again
        go back to ``pending`` for any other process to adopt at once (a
        running one as its next attempt); the others end failed ("worker
        stopped"; a cancelled one, cancelled)."""
        b = self.backend
        rows = b._query(
            proc,
            "SELECT id, state, cancel, attempt, attempts, retry_delay, job, message"
            " FROM ladon_tasks WHERE owner = ? AND expires IS NULL",
            (proc.owner,),
        )
        now = b._clock.time()
        for row in rows:
            attempt, attempts = _int(row["attempt"]), _int(row["attempts"])
            running = row["state"] == TaskState.RUNNING.value
            if not row["cancel"] and row["job"] and (not running or attempt < attempts):
                message: str | None = row["message"]
                due = now
                if running:
                    attempt += 1
                    delay = TaskOptions(attempts - 1, row["retry_delay"] or 0.0).delay(attempt)
                    message = waiting_message(attempt, attempts, delay, WORKER_STOPPED)
                    due = now + delay
                b._write(
                    proc,
                    "UPDATE ladon_tasks SET owner = '', heartbeat = 0, state = 'pending',"
                    " attempt = :next, started = NULL, due = :due, message = :message"
                    " WHERE id = :id AND owner = :owner AND expires IS NULL",
                    {
                        "id": row["id"],
                        "next": attempt,
                        "due": due,
                        "message": message,
                        "owner": proc.owner,
                    },
                )
                continue
            error = final_error(WORKER_STOPPED, attempt, attempts) if running else WORKER_STOPPED
            b._end(
                proc,
                row["id"],
                TaskState.FAILED,
                row["state"],
                error=(error, STOPPED_DETAIL),
                owner=proc.owner,
            )

    def at_exit(self, proc: _Process, drain_timeout: float) -> None:
        """When this process exits: wait up to ``drain_timeout`` seconds for
        its running tasks to end (nothing new starts meanwhile), stop
        sending callbacks (those not sent are left ``pending`` for another
        process), write the ends still owed, then :meth:`hand_back` what is
        left."""
        b = self.backend
        proc.draining = True  # what has not begun is not started any more
        if drain_timeout > 0 and len(proc.live):
            logger.info("Waiting up to %g s for %d running task(s)", drain_timeout, len(proc.live))
            deadline = time.monotonic() + drain_timeout
            while len(proc.live) and time.monotonic() < deadline:
                time.sleep(0.02)
        proc.stop.set()
        proc.wake.set()
        # NOTE: the callbacks of the tasks ended from now on (and those
        # claimed here and not sent) are left pending, for another process:
        # a delivery thread started now would die with the interpreter,
        # its callback claimed ("sending") and never sent
        b._release_callbacks()
        # NOTE: the file may be out (disk full, read-only): the ends held
        # back are tried again for up to EXIT_WRITE_WAIT seconds, not lost
        # at the first refusal (their tasks would be judged lost, or run again)
        deadline = time.monotonic() + EXIT_WRITE_WAIT
        while True:
            try:
                with proc.lock:
                    unfinished = list(proc.unfinished)
                while unfinished:  # ends not written yet, kept from now
                    sql, params = unfinished[0]
                    b._write(proc, sql, {**params, "written": b._clock.time()})
                    unfinished.pop(0)
                    with proc.lock:
                        proc.unfinished.pop(0)
                self.hand_back(proc)
                return
            except Exception as exc:  # best effort at exit: the leases tell the rest
                if time.monotonic() >= deadline:
                    logger.warning("Unfinished tasks of this process not given up at exit: %s", exc)
                    return
                time.sleep(0.25)


def row_attempts(row: Row) -> tuple[int, int]:
    """A row's ``(attempt, attempts)``, 1 for a row written before they were
    stored."""
    return _int(row["attempt"]), _int(row["attempts"])
