"""The one-host shared backend: task records in one SQLite file.

Every process of the application (``gunicorn -w 4``, mod_wsgi with
``processes=4``) opens the same file, in WAL mode, so a progress, result or
cancel call may land on any of them. A task runs in a bounded thread pool of
the process that accepted it; that process renews a heartbeat on its
unfinished tasks, and a task whose heartbeat is older than its *lease*
(the process died: killed, crashed, restarted) is reported ``FAILED`` with
the message "worker lost". Cancel is a flag in the record that the running
task's handle reads back.

Statements are single, short transactions. A write that finds the file
locked by another process is retried with a short back-off for up to
``busy_timeout`` seconds, then reported as
:class:`~ladon.tasks.BackendUnavailable`. A connection that failed
otherwise (the disk full, the file or its directory not writable) is
closed and opened afresh by the next statement, so a process recovers by
itself once the file can be written again; a task that could not be
started meanwhile starts then. Leases are judged only once the file has
been writable for a lease, so an outage, however long, fails no task of a
process that lived through it (see :mod:`ladon.tasks._sqlite_steady`).

A task of a method with retries (``tasktype={"retries": N}``) runs again
after it raised :class:`~ladon.tasks.Retry` or lost its process (any
process adopts it, see :mod:`ladon.tasks._sqlite_reruns`). The file runs
in incremental auto-vacuum: the space of deleted records is given back to
the file system, so the file does not keep its peak size.
"""

from __future__ import annotations

import atexit
import logging
import os
import secrets
import socket
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import TypeVar

from ..observe import metrics
from . import _nonces
from . import _sqlite_admin
from . import _sqlite_extras as _extras
from . import _sqlite_steady
from . import _sqlite_wake
from ._live import LiveTasks
from ._pool import WorkerPool
from ._sqlite_reruns import Reruns
from ._sqlite_reruns import Resolver
from ._sqlite_reruns import row_attempts
from ._sqlite_upkeep import close_quietly
from ._sqlite_upkeep import incremental_vacuum
from ._sqlite_upkeep import limit_log
from ._sqlite_upkeep import shrink
from .admin import Readiness
from .admin import TaskQuery
from .base import CANCEL_REQUESTED_MESSAGE
from .base import CANCELLED_MESSAGE
from .base import RUNTIME_EXCEEDED_DETAIL
from .base import SYSTEM_CLOCK
from .base import BackendUnavailable
from .base import Clock
from .base import TaskCancelled
from .base import TaskHandle
from .base import TaskRejected
from .base import TaskState
from .base import TaskStatus
from .base import UnknownTask
from .base import check_max_runtime
from .base import is_task_id
from .base import job_owner
from .base import new_task_id
from .base import runtime_exceeded
from .callbacks import PENDING as CALLBACK_PENDING
from .callbacks import in_flight
from .callbacks import job_callback
from .delivery import CallbackSender
from .idempotency import AlreadyStarted
from .idempotency import KeyReused
from .idempotency import job_idempotency
from .jobs import from_json
from .jobs import to_json
from .retries import WORKER_LOST as WORKER_LOST
from .retries import Retry
from .retries import RetryTimer
from .retries import job_task_options
from .retries import release_job
from .threads import _describe_failure
from .threads import job_max_runtime
from .waiting import wait_on_signals

logger = logging.getLogger("ladon")
#: The expired callbacks logged one by one at a heartbeat (then a count).
_EXPIRED_LOGGED = 20
T = TypeVar("T")
Job = Callable[[TaskHandle], object]
#: Seconds a process that exits (or closes the backend) gives a callback
#: POST under way to be answered; the callbacks it has not begun to send
#: are left ``pending`` for another process at once.
CALLBACK_RELEASE_WAIT = 2.0

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS ladon_tasks (
        id TEXT PRIMARY KEY,
        method TEXT NOT NULL,
        state TEXT NOT NULL,
        progress REAL NOT NULL DEFAULT 0,
        message TEXT,
        created REAL NOT NULL,
        started REAL,
        finished REAL,
        result TEXT,
        error TEXT,
        detail TEXT,
        cancel INTEGER NOT NULL DEFAULT 0,
        owner TEXT NOT NULL,
        heartbeat REAL NOT NULL,
        lease REAL NOT NULL,
        ttl REAL NOT NULL,
        expires REAL,
        max_runtime REAL,
        principal TEXT,
        attempt INTEGER,
        attempts INTEGER,
        retry_delay REAL,
        job TEXT,
        due REAL
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS ladon_tasks_expiry ON ladon_tasks (expires)"
    " WHERE expires IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS ladon_tasks_open ON ladon_tasks (owner) WHERE expires IS NULL",
    _nonces.SQLITE_SCHEMA,
    _sqlite_wake.SCHEMA,
    _extras.META_SCHEMA,
)
#: Columns added since the first version, added to an older file. Retries
#: (issue 14): ``attempt`` (which attempt runs or comes next, NULL = 1),
#: ``attempts`` (the most, NULL = 1), ``retry_delay``, ``job`` (the
#: described call of a method with retries, for any process to run again)
#: and ``due`` (when a pending re-run may start).
_ADDED_COLUMNS = (
    ("max_runtime", "REAL"),
    ("principal", "TEXT"),
    ("attempt", "INTEGER"),
    ("attempts", "INTEGER"),
    ("retry_delay", "REAL"),
    ("job", "TEXT"),
    ("due", "REAL"),
    *_extras.ADDED_COLUMNS,
)
_COLUMNS = (
    "method, state, progress, message, created, started, finished, result,"
    " error, detail, heartbeat, lease, expires, max_runtime, principal,"
    " cancel, attempt, attempts, retry_delay, job, due, owner, callback, callback_state,"
    " callback_at"
)

# The end of a task: progress 1.0, and kept ``ttl`` seconds from now.
# ``:written``: when the end is written (later than ``:now`` for an end held
# back by an outage): its result is kept ``ttl`` seconds from then, never
# deleted on arrival after an outage longer than ``ttl``.
_END = "progress = 1.0, finished = :now, expires = MAX(:now, :written) + ttl"
# How a task ends that should end as ``:state``: cancelled if a cancel was
# requested, whatever it ended with, and then it says so.
_END_AS = (
    "state = CASE cancel WHEN 1 THEN 'cancelled' ELSE :state END,"
    " message = CASE WHEN cancel = 1 OR :state = 'cancelled' THEN :cancelled"
    " ELSE COALESCE(:message, message) END"
)


def _watch_process(backend: SQLiteTaskBackend) -> Callable[[], None]:
    """Tie ``backend`` to this process's life: a forked child forgets the
    parent's connections and threads, and at interpreter exit this
    process's unfinished tasks are failed. Holds the backend weakly;
    returns the exit hook (for :func:`atexit.unregister`)."""
    ref = weakref.ref(backend)

    def after_fork() -> None:
        alive = ref()
        if alive is not None:
            alive._forget_process()

    def at_exit() -> None:
        alive = ref()
        if alive is not None:
            alive._abandon()

    if hasattr(os, "register_at_fork"):  # pragma: no branch - POSIX
        os.register_at_fork(after_in_child=after_fork)
    atexit.register(at_exit)
    return at_exit


class _Process:
    """What one process holds of a backend: connections, pool, ticker."""

    def __init__(self, backend: SQLiteTaskBackend) -> None:
        self.pid = os.getpid()
        self.owner = f"{socket.gethostname()}:{self.pid}:{new_task_id()[:8]}"
        self.lock = threading.Lock()  # guards the fields below
        self.wlock = threading.Lock()  # the write connection
        self.rlock = threading.Lock()  # the read connection
        self.wconn: sqlite3.Connection | None = None
        self.rconn: sqlite3.Connection | None = None
        self.pool: WorkerPool | None = None
        self.ticker: threading.Thread | None = None
        self.stop = threading.Event()
        self.wake = threading.Event()  # a task was queued: the ticker must tick
        #: the ticker ticks every sync_interval (tasks are queued or live here):
        #: a new task need not wake it
        self.ticking = False
        self.queued: set[str] = set()
        self.unfinished: list[tuple[str, dict[str, Any]]] = []  # ends to write again
        # re-runs a task asked for (Retry) that could not be written yet:
        # (task id, job, attempt, the Retry, its detail)
        self.owed_retries: list[tuple[str, Job, int, Retry, str]] = []
        self.live = LiveTasks(backend.sync_interval, backend._sync)
        self.claims = 0  # nonces claimed: every so many, the expired ones go
        # tasks that could not start (the file could not be written): started
        # again once it can
        self.stalled: list[tuple[str, Job, int]] = []
        self.timer: RetryTimer | None = None  # delayed re-runs
        self.draining = False  # exiting: tasks not begun are not started
        self.callbacks_after = ""  # the pending callbacks read next: ids after this


class SQLiteTaskBackend:
    """Keeps tasks in one SQLite file shared by the processes of a host.

    :param path: the database file (created if missing; its directory must
        exist and be writable by every process, for the WAL files).
    :param max_workers: how many tasks each process runs at once; more wait
        as ``PENDING``. Defaults to ``min(32, os.cpu_count() + 4)``.
    :param max_pending: how many tasks may wait in one process; beyond that
        :meth:`submit` raises :class:`~ladon.tasks.TaskRejected`.
    :param result_ttl: seconds a finished task is kept (and its result can
        be fetched) before it is forgotten.
    :param lease: seconds without a heartbeat after which an unfinished task
        is reported ``FAILED`` ("worker lost"): the longest a task of a dead
        process stays ``RUNNING``.
    :param heartbeat: seconds between two heartbeats of a process; default
        ``lease / 6``, at most 5. It must be shorter than ``lease``.
    :param busy_timeout: seconds a statement waits for a lock held by
        another process before the call fails with
        :class:`~ladon.tasks.BackendUnavailable`.
    :param sync_interval: shortest time between two progress writes of one
        task, and how often a running task learns of a cancel made in
        another process.
    :param max_runtime: seconds a task may run; ``None`` (the default) for
        no limit. A task still running then is ``FAILED`` ("the task ran
        longer than its max_runtime of N s", progress 1.0), by the ticker of
        its process within ``sync_interval`` or by any process that reads
        it; a thread cannot be killed, so its job is told to stop (its next
        progress report raises :class:`~ladon.tasks.TaskCancelled`,
        ``task.cancelled`` is true) and whatever it returns is discarded. A
        job that never reports progress keeps its pool thread until it
        returns. A task method's own ``max_runtime``
        (``tasktype={"max_runtime": 30}``) replaces this one.
    :param drain_timeout: seconds a process that exits (gunicorn's SIGTERM
        or HUP, a mod_wsgi restart) waits for its running tasks to end
        before it gives them up; 0 (the default): at once. Given-up tasks
        of methods with retries (and those that had not begun) go back to
        ``pending`` for another process to run; the others end ``FAILED``
        ("worker stopped"). The completion callbacks this process has not
        sent then (a POST under way is given :data:`CALLBACK_RELEASE_WAIT`
        seconds), those of the tasks it ends as it exits among them, are
        left ``pending`` for another process to send. Keep it below the
        server's own graceful timeout (gunicorn ``--graceful-timeout``,
        mod_wsgi ``shutdown-timeout``), which kills the process after it;
        under Apache at 2 or less, since an Apache restart or stop kills
        mod_wsgi's daemon processes after 3 seconds.
    :param clock: where the stored times come from (created, started,
        heartbeats, expiry); tests move a clock of their own instead of
        sleeping until a result expires or a lease runs out.

    Nothing is opened but the file (to create the table) and no thread is
    started before the first :meth:`submit`; a process forked from one that
    used the backend starts afresh.

    Each task keeps its owner (the principal that started it), and the file
    is the application's store of WS-Security nonces (:meth:`claim_nonce`),
    shared by every process that opens it. A task keeps its
    ``Idempotency-Key`` (unique in the file while the task is kept) and its
    completion callback, which the process that ends the task sends with
    :attr:`callback_sender` (or, when that one cannot, the next process with
    a sender that sees it: at its first use of the file, at its heartbeats,
    or when it reads the task). A :meth:`wait` is woken by a datagram from the
    process that ended the task (:mod:`ladon.tasks._sqlite_wake`).

    .. versionadded:: 2.0
    """

    #: Tasks keep their owner (see :class:`ladon.tasks.TaskBackend`).
    keeps_owners = True
    #: A repeated start with the same ``Idempotency-Key`` gives the same task.
    idempotent_starts = True
    #: Sends the callbacks of the tasks this process ends (set by the
    #: application); ``None``: another process sends them.
    callback_sender: CallbackSender | None = None
    #: The backend's kind, as the operator's tools name it.
    kind = "sqlite"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_workers: int | None = None,
        max_pending: int = 10_000,
        result_ttl: float = 3600.0,
        lease: float = 30.0,
        heartbeat: float | None = None,
        busy_timeout: float = 10.0,
        sync_interval: float = 0.1,
        max_runtime: float | None = None,
        drain_timeout: float = 0.0,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        if max_workers is None:
            max_workers = min(32, (os.cpu_count() or 1) + 4)
        if heartbeat is None:
            heartbeat = min(5.0, lease / 6)
        _check(max_workers >= 1, "max_workers must be at least 1", max_workers)
        _check(max_pending >= 0, "max_pending must be zero or more", max_pending)
        _check(result_ttl >= 0, "result_ttl must be zero or more seconds", result_ttl)
        _check(lease > 0, "lease must be more than 0 seconds", lease)
        _check(
            0 < heartbeat < lease, "heartbeat must be more than 0 and less than lease", heartbeat
        )
        _check(busy_timeout >= 0, "busy_timeout must be zero or more seconds", busy_timeout)
        _check(sync_interval >= 0, "sync_interval must be zero or more seconds", sync_interval)
        _check(drain_timeout >= 0, "drain_timeout must be zero or more seconds", drain_timeout)
        self._path = os.path.abspath(os.fspath(path))
        self.max_workers = max_workers
        self.max_pending = max_pending
        self.result_ttl = float(result_ttl)
        self.lease = float(lease)
        self.heartbeat = float(heartbeat)
        self.busy_timeout = float(busy_timeout)
        self.sync_interval = float(sync_interval)
        self.max_runtime = check_max_runtime(max_runtime)
        self.drain_timeout = float(drain_timeout)
        self._clock = clock
        #: a longer gap between beats on the file is an outage (_sqlite_steady)
        self._max_gap = _sqlite_steady.max_gap(self.lease, self.heartbeat)
        self._closed = False
        self._guard = threading.Lock()
        self._proc: _Process | None = None
        self._reruns = Reruns(self)
        #: the key prefix of keyed task ids, under the file's secret (_create)
        self._prefix = _extras.KeyPrefixes(b"")
        self._create()
        self._exit_hook = _watch_process(self)
        self._wake = _sqlite_wake.SocketWake(
            lambda sql, params: self._write(self._process(), sql, params),
            lambda sql, params: self._query(self._process(), sql, params),
        )

    @property
    def path(self) -> str:
        """The absolute path of the database file."""
        return self._path

    def __repr__(self) -> str:
        return f"<SQLiteTaskBackend {self._path!r} lease={self.lease}>"

    def bind_services(self, find_service: Resolver) -> None:
        """Let this process run again tasks other processes started (whose
        process was lost or stopped): ``find_service`` finds a service by
        name (the application does this when it creates its backend).

        .. versionadded:: 2.0
        """
        self._reruns.bind(find_service)

    # -- TaskBackend ---------------------------------------------------------

    def submit(self, method: str, job: Job) -> str:
        """Store a pending task and queue it on this process's pool; see
        :meth:`ladon.tasks.TaskBackend.submit`.

        :raises TaskRejected: when the backend is closed or ``max_pending``
            tasks already wait in this process.
        :raises BackendUnavailable: when the file cannot be written.
        """
        limit = job_max_runtime(job, self.max_runtime)
        options = job_task_options(job)
        proc = self._process()
        idem, callback = job_idempotency(job), job_callback(job)
        # a keyed start's id begins with its key's prefix (see _extras)
        prefix = None if idem is None else self._prefix(idem.key)
        task_id = new_task_id() if prefix is None else prefix + secrets.token_hex(10)
        with proc.lock:
            if self._closed:
                raise TaskRejected("the task backend is closed")
            if len(proc.queued) >= self.max_pending:
                raise TaskRejected(f"too many pending tasks ({len(proc.queued)}); try again later")
            proc.queued.add(task_id)
        params = {
            "id": task_id,
            "method": method,
            "now": self._clock.time(),
            "owner": proc.owner,
            "lease": self.lease,
            "ttl": self.result_ttl,
            "max_runtime": limit,
            "attempts": options.attempts,
            "retry_delay": options.retry_delay,
            "idem_key": None,  # unused: the id's prefix is the key's
            "idem_hash": None if idem is None else idem.fingerprint,
            "callback": callback,
            "callback_state": None if callback is None else CALLBACK_PENDING,
        }
        try:
            params["principal"] = job_owner(job)
            job, params["job"] = self._reruns.prepare(job)
            if idem is None or prefix is None:
                self._write(proc, _extras.INSERT, params)
            else:
                params.update(_extras.key_range(prefix))
                self._insert_once(proc, params, idem.fingerprint)
            pool = self._start_threads(proc)
            pool.submit(self._run, proc, task_id, job)
            if not proc.ticking:  # PERF: a woken ticker queries the file beside the start
                proc.wake.set()
        except BaseException as exc:
            with proc.lock:
                proc.queued.discard(task_id)
            if isinstance(exc, RuntimeError):  # the pool was shut down meanwhile
                self._end(proc, task_id, TaskState.CANCELLED, "pending")
                raise TaskRejected(f"the task backend cannot start tasks: {exc}") from exc
            raise
        return task_id

    def _insert_once(self, proc: _Process, params: dict[str, object], fingerprint: str) -> None:
        """Insert a keyed start's task unless a task of its key is kept.

        :raises AlreadyStarted: the key started a kept task, with the same
            arguments.
        :raises KeyReused: ... with other arguments.
        """
        for _ in range(3):
            if self._write(proc, _extras.INSERT_ONCE, params):
                return
            for row in self._query(proc, _extras.KEPT, params):
                found = str(row["id"])
                raise (AlreadyStarted if row["idem_hash"] == fingerprint else KeyReused)(found)
            # the kept task expired in between: try again
        raise BackendUnavailable("the task database keeps refusing a keyed start; try again")

    def status(self, method: str, task_id: str) -> TaskStatus:
        """Return the task's status, from any process; see
        :meth:`ladon.tasks.TaskBackend.status`.

        :raises UnknownTask: for an unknown, expired or foreign id.
        :raises BackendUnavailable: when the file cannot be read.
        """
        if not is_task_id(task_id):
            raise UnknownTask(task_id)
        proc = self._process()
        self._start_ticker(proc)
        if proc.timer is not None:
            proc.timer.run_due()  # re-runs due by a clock moved by hand
        row = self._read(proc, task_id)
        now = self._clock.time()
        if row is None or row["method"] != method or _expired(row, now):
            raise UnknownTask(task_id)
        overrun = _overrun(row, now)
        if row["expires"] is None and (
            overrun or (row["heartbeat"] + row["lease"] < now and self._judgeable(proc, [row]))
        ):
            if overrun:
                self._end_overrun(proc, task_id, row["max_runtime"])
            else:  # its process is lost: run it again here, or fail it
                self._reruns.recover(proc, [_with_id(row, task_id)], now)
            row = self._read(proc, task_id)
            if row is None:  # pragma: no cover - evicted in between
                raise UnknownTask(task_id)
        if row["expires"] is not None and (
            row["callback_state"] == CALLBACK_PENDING or self._abandoned_callback(row, now)
        ):
            self._callback_due(task_id)  # nobody took it, or its process is gone
        return _snapshot(task_id, row, now)

    def cancel(self, method: str, task_id: str) -> TaskStatus:
        """Cancel the task, from any process; see
        :meth:`ladon.tasks.TaskBackend.cancel`. A running task learns of it
        within ``sync_interval`` seconds.

        :raises UnknownTask: for an unknown, expired or foreign id.
        """
        proc = self._process()
        self.status(method, task_id)  # UnknownTask, and reaps a lost task
        # NOTE: every right-hand side sees the old row, so one statement
        # cancels a pending task outright and flags a running one (once).
        # The row is read back in the same transaction: the answer is the
        # task at the moment of the cancel, even if its job stops at once.
        row = self._write_then_read(
            proc,
            "UPDATE ladon_tasks SET cancel = 1,"
            " message = CASE state WHEN 'pending' THEN :cancelled ELSE :requested END,"
            " state = CASE state WHEN 'pending' THEN 'cancelled' ELSE state END,"
            " progress = CASE state WHEN 'pending' THEN 1.0 ELSE progress END,"
            " finished = CASE state WHEN 'pending' THEN :now ELSE finished END,"
            " expires = CASE state WHEN 'pending' THEN :now + ttl ELSE expires END"
            " WHERE id = :id AND method = :method AND expires IS NULL AND cancel = 0",
            {
                "now": self._clock.time(),
                "id": task_id,
                "method": method,
                "cancelled": CANCELLED_MESSAGE,
                "requested": CANCEL_REQUESTED_MESSAGE,
            },
            task_id,
        )
        proc.live.mark_cancelled([task_id])
        if row is None or row["method"] != method:  # pragma: no cover - evicted in between
            raise UnknownTask(task_id)
        if row["expires"] is not None:  # cancelled before it ran: it ended now
            self._ended(task_id)
        return _snapshot(task_id, row, self._clock.time())

    def wait(self, method: str, task_id: str, timeout: float) -> TaskStatus:
        """Return the task's status as soon as it has ended (in any process
        sharing the file), or after ``timeout`` seconds; see
        :class:`ladon.tasks.waiting.WaitingBackend`.

        :raises UnknownTask: for an unknown, expired or foreign id.
        :raises BackendUnavailable: when the file cannot be read.

        .. versionadded:: 2.0
        """
        wake = self._wake
        return wait_on_signals(
            lambda: self.status(method, task_id),
            wake.signals,
            task_id,
            timeout,
            ready=wake.listen,
        )

    def claim_callback(
        self, task_id: str, held: str | None = None, stale_after: float | None = None
    ) -> TaskStatus | None:
        """Take an ended task's callback for sending, in one statement
        (one process wins); see :class:`ladon.tasks.delivery.CallbackStore`.

        .. versionadded:: 2.0
        """
        proc = self._process()
        now = self._clock.time()
        if held is not None:
            sql, params = _extras.CLAIM_HELD_CALLBACK, {"id": task_id, "now": now, "held": held}
        else:
            stale = None if stale_after is None else now - stale_after
            sql, params = _extras.CLAIM_CALLBACK, {"id": task_id, "now": now, "stale": stale}
        if not self._write(proc, sql, params):
            return None
        row = self._read(proc, task_id)
        return None if row is None else _snapshot(task_id, row, now)

    def set_callback_state(self, task_id: str, state: str) -> None:
        """Write how a callback's delivery goes; see
        :class:`ladon.tasks.delivery.CallbackStore`.

        .. versionadded:: 2.0
        """
        at = self._clock.time() if in_flight(state) else None
        self._write(
            self._process(), _extras.SET_CALLBACK_STATE, {"state": state, "at": at, "id": task_id}
        )

    def claim_nonce(self, key: str, ttl: float) -> bool:
        """Remember a one-time value for ``ttl`` seconds in the file, for
        every process that shares it; see
        :class:`ladon.tasks.base.NonceStore`.

        :returns: False when ``key`` was claimed before and is still held.
        :raises BackendUnavailable: when the file cannot be written.
        """
        ttl = _nonces.check_ttl(ttl)
        proc = self._process()
        now = self._clock.time()
        params = {"nonce": _nonces.nonce_key(key), "expires": now + ttl, "now": now}
        claimed = self._write(proc, _nonces.SQLITE_CLAIM, params) > 0
        with proc.lock:
            proc.claims += 1
            sweep = proc.claims % 512 == 0
        if sweep:  # the ticker sweeps too, once tasks have run here
            self._write(proc, _nonces.SQLITE_SWEEP, (now,))
        return claimed

    def close(self, wait: bool = True) -> None:
        """Refuse new tasks, cancel this process's pending ones, stop its
        pool and ticker, and leave the completion callbacks it has not sent
        ``pending`` for another process (see :meth:`CallbackSender.release
        <ladon.tasks.delivery.CallbackSender.release>`). The records stay
        readable by every process.

        :param wait: wait until this process's running tasks have ended.
        """
        with self._guard:
            self._closed = True
            proc = self._proc
        atexit.unregister(self._exit_hook)
        if proc is None or proc.pid != os.getpid():
            return
        self._wake.close()
        with proc.lock:
            queued = list(proc.queued)
            pool = proc.pool
            timer, proc.timer = proc.timer, None
        if timer is not None:
            timer.stop()
        for task_id in queued:
            self._end(proc, task_id, TaskState.CANCELLED, "pending")
        if pool is not None:
            pool.shutdown(wait=wait)
        self._release_callbacks()
        proc.stop.set()
        proc.wake.set()
        if proc.ticker is not None and proc.ticker is not threading.current_thread():
            proc.ticker.join(5)
        for lock, conn in ((proc.wlock, proc.wconn), (proc.rlock, proc.rconn)):
            with lock:
                if conn is not None:
                    conn.close()
        proc.wconn = proc.rconn = None

    # -- TaskReporter (used by TaskHandle) ------------------------------------

    def report_progress(self, task_id: str, progress: float | None, message: str | None) -> bool:
        """Take a running task's report (written at most every
        ``sync_interval``); see :class:`ladon.tasks.base.TaskReporter`."""
        proc = self._proc
        return proc is not None and proc.live.report(task_id, progress, message)

    def is_cancel_requested(self, task_id: str) -> bool:
        """True once a cancel of the task was requested in any process."""
        proc = self._proc
        return proc is not None and proc.live.cancelled(task_id)

    # -- TaskAdmin (see ladon.tasks.admin) --------------------------------------

    def tasks(self, query: TaskQuery) -> list[TaskStatus]:
        """The tasks ``query`` asks for, newest first, from every process."""
        return _sqlite_admin.tasks(self, query)

    def counts(self) -> dict[str, int]:
        """How many tasks the file holds in each state."""
        return _sqlite_admin.counts(self)

    def readiness(self) -> Readiness:
        """Ready when a write to the file commits."""
        return _sqlite_admin.readiness(self)

    def task_key(self, task_id: str) -> str | None:
        """The method key of a task, or ``None`` for an unknown id."""
        return _sqlite_admin.task_key(self, task_id)

    # -- internals -------------------------------------------------------------

    def _process(self) -> _Process:
        proc = self._proc
        if proc is None or proc.pid != os.getpid():
            fresh = False
            with self._guard:
                proc = self._proc
                if proc is None or proc.pid != os.getpid():
                    proc = self._proc = _Process(self)
                    fresh = True
            if fresh:  # the first use of the file here: callbacks left by a process gone
                self._send_due_callbacks(proc)
        return proc

    def _forget_process(self) -> None:
        """In a forked child: drop the parent's locks, connections, threads."""
        self._guard = threading.Lock()
        self._proc = None

    def _start_threads(self, proc: _Process) -> WorkerPool:
        self._start_ticker(proc)
        with proc.lock:
            if proc.pool is None:
                proc.pool = WorkerPool(self.max_workers, name="ladon-sqlite-task")
            return proc.pool

    def _start_ticker(self, proc: _Process) -> None:
        """Start this process's ticker (at its first call: every process
        serving the file beats on it, idle or not, so that an outage is told
        from a lost process; not at :meth:`_process`, which a parent may
        call before it forks)."""
        if proc.ticker is not None or self._closed:
            return
        with proc.lock:
            if proc.ticker is None:
                proc.ticker = threading.Thread(
                    target=self._tick, args=(proc,), name="ladon-sqlite-ticker", daemon=True
                )
                proc.ticker.start()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, timeout=0, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA synchronous = NORMAL")  # safe in WAL mode
        limit_log(conn)
        return conn

    def _create(self) -> None:
        def create() -> None:
            conn = self._connect()
            try:
                incremental_vacuum(conn)
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise sqlite3.DatabaseError(f"cannot use WAL mode (got {mode})")
                for statement in _SCHEMA:
                    conn.execute(statement)
                columns = {row[1] for row in conn.execute("PRAGMA table_info(ladon_tasks)")}
                for column, kind in _ADDED_COLUMNS:
                    if column in columns:
                        continue
                    try:  # a file made by an earlier version
                        conn.execute(f"ALTER TABLE ladon_tasks ADD COLUMN {column} {kind}")
                    except sqlite3.OperationalError as exc:  # another process was first
                        if "duplicate column" not in str(exc).lower():
                            raise
                for statement in _extras.ADDED_INDEXES:
                    conn.execute(statement)
                self._prefix = _extras.KeyPrefixes(_extras.file_secret(conn))
            finally:
                conn.close()

        # NOTE: at construction a file that cannot be used is a configuration
        # error (ValueError, like a bad URL), not a fault of a later call.
        # Several processes starting at once wait for each other here.
        try:
            self._retry(create, max(self.busy_timeout, 10.0))
        except BackendUnavailable as exc:
            raise ValueError(str(exc)) from None

    def _retry(self, action: Callable[[], T], timeout: float | None = None) -> T:
        """Run ``action``, retrying while another process holds the lock."""
        deadline = time.monotonic() + (self.busy_timeout if timeout is None else timeout)
        delay = 0.0002
        while True:
            try:
                return action()
            except sqlite3.OperationalError as exc:
                text = str(exc).lower()
                if ("locked" in text or "busy" in text) and time.monotonic() < deadline:
                    time.sleep(delay)
                    delay = min(delay * 2, 0.02)
                    continue
                raise BackendUnavailable(f"the task database {self._path}: {exc}") from exc
            except sqlite3.Error as exc:
                raise BackendUnavailable(f"the task database {self._path}: {exc}") from exc

    def _writer(self, proc: _Process) -> sqlite3.Connection:
        """The write connection of this process (call with ``proc.wlock`` held)."""
        if proc.wconn is None:
            proc.wconn = self._retry(self._connect)
        return proc.wconn

    def _write(self, proc: _Process, sql: str, params: Sequence[object] | dict[str, object]) -> int:
        """Run one write statement; return the number of rows it changed."""
        with proc.wlock:
            conn = self._writer(proc)
            try:
                return self._retry(lambda: conn.execute(sql, params).rowcount)
            except BackendUnavailable:
                close_quietly(conn)
                proc.wconn = None  # opened afresh by the next write
                raise

    def _write_then_read(
        self,
        proc: _Process,
        sql: str,
        params: Sequence[object] | dict[str, object],
        task_id: str,
    ) -> sqlite3.Row | None:
        """Run one write statement and read the task's row back, in one
        transaction (no other write comes in between)."""
        select = f"SELECT {_COLUMNS} FROM ladon_tasks WHERE id = ?"

        def action(conn: sqlite3.Connection) -> sqlite3.Row | None:
            conn.execute(sql, params)
            row: sqlite3.Row | None = conn.execute(select, (task_id,)).fetchone()
            return row

        return self._transaction(proc, action)

    def _transaction(self, proc: _Process, action: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``action`` in one ``BEGIN IMMEDIATE`` transaction of the
        write connection (retried while another process holds the lock)."""
        with proc.wlock:
            conn = self._writer(proc)

            def attempt() -> T:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    out = action(conn)
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                return out

            try:
                return self._retry(attempt)
            except BackendUnavailable:
                close_quietly(conn)
                proc.wconn = None  # opened afresh by the next write
                raise

    def _query(
        self, proc: _Process, sql: str, params: Sequence[object] | dict[str, object]
    ) -> list[sqlite3.Row]:
        with proc.rlock:
            if proc.rconn is None:
                proc.rconn = self._retry(self._connect)
            conn = proc.rconn
            try:
                return self._retry(lambda: conn.execute(sql, params).fetchall())
            except BackendUnavailable:
                close_quietly(conn)
                proc.rconn = None
                raise

    def _judgeable(self, proc: _Process, rows: list[sqlite3.Row]) -> list[sqlite3.Row]:
        """Those of ``rows`` (unfinished tasks whose lease ran out) whose
        process is lost, not just kept from the file by an outage (see
        :mod:`ladon.tasks._sqlite_steady`)."""
        if not rows:
            return rows
        last, since = _sqlite_steady.read(self._query(proc, *_sqlite_steady.QUERY))
        now, gap = time.time(), self._max_gap
        # NOTE: a task handed back at exit (no owner) is anybody's at once
        return [
            r
            for r in rows
            if not r["owner"] or _sqlite_steady.may_judge(last, since, r["lease"], now, gap)
        ]

    def _read(self, proc: _Process, task_id: str) -> sqlite3.Row | None:
        rows = self._query(proc, f"SELECT {_COLUMNS} FROM ladon_tasks WHERE id = ?", (task_id,))
        return rows[0] if rows else None

    def _fail_lost(self, proc: _Process, task_id: str, error: str, detail: str, now: float) -> int:
        """Fail an unfinished task whose lease ran out (cancelled if a cancel
        was requested)."""
        ended = self._write(
            proc,
            f"UPDATE ladon_tasks SET {_END_AS}, error = :error, detail = :detail, {_END}"
            " WHERE id = :id AND expires IS NULL AND heartbeat + lease < :now",
            {
                "id": task_id,
                "state": TaskState.FAILED.value,
                "cancelled": CANCELLED_MESSAGE,
                "message": None,
                "now": now,
                "written": now,
                "error": error,
                "detail": detail,
            },
        )
        if ended:
            self._ended(task_id)  # its waiters read it again, its callback is due
        return ended

    def _end(
        self,
        proc: _Process,
        task_id: str,
        state: TaskState,
        before: str = "running",
        result: str | None = None,
        error: tuple[str, str] | None = None,
        owner: str | None = None,
        attempt: int | None = None,
        message: str | None = None,
    ) -> bool:
        """Write the end of a task that is still ``before``; a task whose
        cancel was requested ends cancelled, without its result. With
        ``owner`` (and ``attempt``), only while that process holds the task
        (at that attempt): an attempt whose task was adopted by another
        process after its lease ran out ends nothing. ``message``: the
        task's last message, not written yet."""
        params: dict[str, Any] = {
            "id": task_id,
            "before": before,
            "state": state.value,
            "cancelled": CANCELLED_MESSAGE,
            "message": message,
            "result": result,
            "error": error[0] if error else None,
            "detail": error[1] if error else None,
            "now": self._clock.time(),
        }
        params["written"] = params["now"]
        sql = (
            f"UPDATE ladon_tasks SET {_END_AS},"
            " result = CASE cancel WHEN 1 THEN NULL ELSE :result END,"
            " error = CASE cancel WHEN 1 THEN NULL ELSE :error END,"
            " detail = CASE cancel WHEN 1 THEN NULL ELSE :detail END,"
            f" {_END}"
            " WHERE id = :id AND state = :before"
        )
        if owner is not None:
            sql += " AND owner = :owner"
            params["owner"] = owner
        if attempt is not None:
            sql += " AND COALESCE(attempt, 1) = :attempt"
            params["attempt"] = attempt
        try:
            ended = self._write(proc, sql, params) > 0
        except BackendUnavailable:
            with proc.lock:  # the ticker tries again
                proc.unfinished.append((sql, params))
            raise
        if ended:
            self._ended(task_id)
        return ended

    def _ended(self, task_id: str | None) -> None:
        """This process ended a task (``None``: some tasks): wake the calls
        waiting for it in every process, send its callback."""
        self._wake.announce(task_id)
        if task_id is not None:
            self._callback_due(task_id)

    def _abandoned_callback(self, row: sqlite3.Row, now: float) -> bool:
        """Whether the process that took the callback of ``row`` left it
        alone too long (it died while sending or waiting to try again)."""
        sender, at = self.callback_sender, row["callback_at"]
        return sender is not None and at is not None and at < now - sender.stale_after

    def _callback_due(self, task_id: str) -> None:
        sender = self.callback_sender
        if sender is not None:
            sender.due(self, task_id)  # claimed (or not) on a delivery thread

    def _end_overrun(self, proc: _Process, task_id: str, limit: float) -> None:
        """Fail a running task whose ``max_runtime`` is over (its job, if it
        runs here, is told to stop)."""
        error = (runtime_exceeded(limit), RUNTIME_EXCEEDED_DETAIL)
        self._end(proc, task_id, TaskState.FAILED, error=error)
        proc.live.mark_cancelled([task_id])

    def _run(self, proc: _Process, task_id: str, job: Job, attempt: int = 1) -> None:
        """Run one attempt of a job on a pool thread."""
        if proc.draining:
            return  # exiting: handed back (or failed) at exit, not begun here
        now = self._clock.time()
        stalled = False
        try:
            started = self._write(
                proc,
                "UPDATE ladon_tasks SET state = 'running', started = :now, heartbeat = :now,"
                " progress = CASE WHEN :attempt = 1 THEN 0 ELSE progress END,"
                " message = CASE WHEN :attempt = 1 THEN message ELSE NULL END, due = NULL"
                " WHERE id = :id AND state = 'pending' AND owner = :owner"
                " AND COALESCE(attempt, 1) = :attempt",
                {"now": now, "id": task_id, "owner": proc.owner, "attempt": attempt},
            )
            if started:
                proc.live.add(task_id)
        except BackendUnavailable as exc:
            # NOTE: the file cannot be written (disk full, permissions): the
            # task stays pending here and starts once a heartbeat gets through.
            logger.warning("Task %s cannot start yet: %s", task_id, exc)
            stalled = True
            with proc.lock:
                proc.stalled.append((task_id, job, attempt))
            return
        finally:
            # NOTE: out of the queue only once followed as running, so that
            # the ticker never sees this process idle in between.
            if not stalled:
                with proc.lock:
                    proc.queued.discard(task_id)
        if not started:
            if attempt > 1:
                release_job(job)  # cancelled while it waited to run again
            return  # cancelled (or its lease ran out) while it waited
        retry: Retry | None = None
        try:
            handle = TaskHandle(task_id, self, attempt)
            text = to_json(job(handle))
        except TaskCancelled:
            self._end_run(proc, task_id, attempt, TaskState.CANCELLED)
        except Retry as exc:
            retry = exc
        except Exception as exc:
            self._end_run(proc, task_id, attempt, TaskState.FAILED, error=_describe_failure(exc))
        except BaseException as exc:
            self._end_run(proc, task_id, attempt, TaskState.FAILED, error=_describe_failure(exc))
            raise
        else:
            self._end_run(proc, task_id, attempt, TaskState.SUCCEEDED, result=text)
        finally:
            proc.live.remove(task_id)
        if retry is not None:
            detail = _describe_failure(retry)[1]
            try:
                self._reruns.retry(proc, task_id, job, attempt, retry, detail)
            except BackendUnavailable as exc:  # the ticker writes it once it can
                logger.warning(
                    "Task %s asked to run again; written once the file can be: %s", task_id, exc
                )
                with proc.lock:
                    proc.owed_retries.append((task_id, job, attempt, retry, detail))

    def _end_run(
        self,
        proc: _Process,
        task_id: str,
        attempt: int,
        state: TaskState,
        result: str | None = None,
        error: tuple[str, str] | None = None,
    ) -> None:
        """Write the end of an attempt that ran here, with its last message
        if not written yet; an end the file cannot take now is written by
        the ticker once it can (see :meth:`_end`)."""
        message = proc.live.remove(task_id)
        try:
            self._end(
                proc,
                task_id,
                state,
                result=result,
                error=error,
                owner=proc.owner,
                attempt=attempt,
                message=message,
            )
        except BackendUnavailable as exc:
            logger.warning(
                "Task %s ended; the end is written once the file can be: %s", task_id, exc
            )

    def _sync(self, task_id: str, progress: float | None, message: str | None) -> bool:
        """Write a progress report; True when the task should stop."""
        proc = self._process()
        changed = self._write(
            proc,
            "UPDATE ladon_tasks SET progress = MAX(progress, COALESCE(?, progress)),"
            " message = COALESCE(?, message)"
            " WHERE id = ? AND state = 'running' AND cancel = 0 AND owner = ?",
            (progress, message, task_id, proc.owner),
        )
        return changed == 0  # cancelled, or no longer running

    def _tick(self, proc: _Process) -> None:
        """The ticker: progress writes, cancel flags, heartbeats, clean-up."""
        next_beat = 0.0
        timeout = 0.0
        while not proc.stop.is_set():
            proc.wake.wait(timeout)
            proc.wake.clear()
            if proc.stop.is_set():
                break
            try:
                if len(proc.live):
                    proc.live.flush()
                    self._check_live(proc)
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + self.heartbeat
                    self._beat(proc)
            except Exception as exc:  # the store is busy or away: next tick
                logger.warning("SQLite task ticker: %s", exc)
            busy = len(proc.live) or proc.queued
            proc.ticking = bool(busy)
            timeout = self.sync_interval if busy else self.heartbeat

    def _check_live(self, proc: _Process) -> None:
        """Tell the jobs running here to stop when their task was cancelled,
        has ended elsewhere, or ran out of its ``max_runtime`` (which fails
        it now)."""
        ids = proc.live.ids()
        if not ids:
            return
        marks = ", ".join("?" * len(ids))
        rows = self._query(
            proc,
            "SELECT id, state, cancel, started, max_runtime, owner FROM ladon_tasks"
            f" WHERE id IN ({marks})",
            ids,
        )
        now = self._clock.time()
        stop = set(ids) - {row["id"] for row in rows}  # gone: expired meanwhile
        for row in rows:
            # NOTE: another owner: the lease ran out and another process took it over
            if (
                row["cancel"]
                or row["state"] != TaskState.RUNNING.value
                or row["owner"] != proc.owner
            ):
                stop.add(row["id"])
            elif _overrun(row, now):
                self._end_overrun(proc, row["id"], row["max_runtime"])
        proc.live.mark_cancelled(stop)

    def _beat(self, proc: _Process) -> None:
        now, real = self._clock.time(), time.time()

        def renew(conn: sqlite3.Connection) -> float:
            conn.execute(
                "UPDATE ladon_tasks SET heartbeat = ? WHERE owner = ? AND expires IS NULL",
                (now, proc.owner),
            )
            return _sqlite_steady.beat(conn, real, self._max_gap)

        steady_since = self._transaction(proc, renew)
        with proc.lock:
            unfinished, proc.unfinished = proc.unfinished, []
            owed, proc.owed_retries = proc.owed_retries, []
        done = 0
        try:
            for sql, params in unfinished:  # dated when they ended, kept from now
                self._write(proc, sql, {**params, "written": now})
                done += 1
            for item in owed:
                self._reruns.retry(proc, *item)
                done += 1
        except BackendUnavailable:  # kept, in order, for the next beat
            with proc.lock:
                proc.unfinished[:0] = unfinished[done:]
                proc.owed_retries[:0] = owed[max(0, done - len(unfinished)) :]
            raise
        with proc.lock:  # the file can be written again: start what could not start
            stalled, proc.stalled = proc.stalled, []
        for task_id, job, attempt in stalled:
            self._reruns.schedule(proc, task_id, job, attempt, 0.0)
        lost = self._query(
            proc,
            f"SELECT id, {_COLUMNS} FROM ladon_tasks"
            " WHERE expires IS NULL AND heartbeat + lease < ? AND owner != ?",
            (now, proc.owner),
        )
        # NOTE: after an outage, the processes that lived through it first
        # get a whole lease to renew their tasks' (see _sqlite_steady)
        lost = [row for row in lost if not row["owner"] or steady_since + row["lease"] <= real]
        if lost:
            self._reruns.recover(proc, lost, now)
        if unfinished:
            self._ended(None)
        self._give_up_expiring_callbacks(proc, now)
        if self._write(proc, "DELETE FROM ladon_tasks WHERE expires <= ?", (now,)):
            self._shrink(proc)
        self._write(proc, _nonces.SQLITE_SWEEP, (now,))
        self._send_due_callbacks(proc, now)

    def _give_up_expiring_callbacks(self, proc: _Process, now: float) -> None:
        """Log (and count as given up) the callbacks of the tasks about to
        be deleted that were neither sent nor given up: a backlog of
        callbacks to slow receivers older than ``result_ttl``. Another
        process may be sending one right now; its answer is then not
        written (the task is gone)."""
        rows = self._query(proc, _extras.EXPIRING_CALLBACKS, (now,))
        for row in rows[:_EXPIRED_LOGGED]:
            logger.warning(
                "Callback of task %s given up: the task expired (result_ttl) while its "
                "callback was %s",
                row["id"],
                str(row["callback_state"])[:100],
            )
        if len(rows) > _EXPIRED_LOGGED:
            logger.warning(
                "... and %d more callbacks given up: their tasks expired first",
                len(rows) - _EXPIRED_LOGGED,
            )
        for _ in rows:
            metrics.callback_delivered("failed")

    def _send_due_callbacks(self, proc: _Process, now: float | None = None) -> None:
        """Send the callbacks nobody took (their process had no sender, or
        exited, or died, before it sent them): at the first use of the
        file in a process, then at every heartbeat."""
        sender = self.callback_sender
        if sender is None or self._closed:
            return
        when = self._clock.time() if now is None else now
        try:
            rows = self._query(proc, _extras.DUE_CALLBACKS, (when, proc.callbacks_after))
            # the next page at the next heartbeat; from the first after the last
            proc.callbacks_after = rows[-1]["id"] if len(rows) == _extras.DUE_PAGE else ""
            # and those whose process died sending them or waiting to try again
            rows += self._query(proc, _extras.STALE_CALLBACKS, (when - sender.stale_after, when))
        except BackendUnavailable as exc:  # the next heartbeat tries again
            logger.warning("Callbacks left by other processes not read: %s", exc)
            return
        for row in rows:
            self._callback_due(row["id"])

    def _release_callbacks(self) -> None:
        """This process stops sending callbacks for this file (it exits, or
        closes the backend): the callbacks it claimed and has not sent go
        back to ``pending``, and those of the tasks it ends from now on stay
        ``pending``, for another process to send (see
        :meth:`CallbackSender.release <ladon.tasks.delivery.CallbackSender.release>`)."""
        sender = self.callback_sender
        if sender is not None:
            sender.release(self, CALLBACK_RELEASE_WAIT)

    def _shrink(self, proc: _Process) -> None:
        """Give the pages of deleted records back to the file system."""
        with proc.wlock:
            conn = self._writer(proc)
            try:
                self._retry(lambda: shrink(conn), 0.0)
            except BackendUnavailable as exc:  # busy: the next one will do
                logger.debug("SQLite task file not shrunk: %s", exc)

    def _abandon(self) -> None:
        """At interpreter exit: wait up to ``drain_timeout`` for the tasks
        running here, then give up this process's unfinished tasks (see
        :meth:`Reruns.at_exit <ladon.tasks._sqlite_reruns.Reruns.at_exit>`)."""
        proc = self._proc
        if proc is None or proc.pid != os.getpid():
            return
        if proc.pool is None and not proc.unfinished:
            return  # no task ran here
        # NOTE: not "no write connection": a write that failed (an outage)
        # dropped it, and the ends held back are what must be written now
        self._reruns.at_exit(proc, self.drain_timeout)
        try:
            self._wake.announce(None)  # waiters elsewhere read their tasks again
        except Exception:  # pragma: no cover - best effort at exit
            pass


def _check(ok: bool, message: str, value: object) -> None:
    if not ok:  # NaN fails every comparison, so it is refused too
        raise ValueError(f"{message}, not {value!r}")


def _overrun(row: sqlite3.Row, now: float) -> bool:
    """True for a running task whose ``max_runtime`` is over."""
    limit = row["max_runtime"]
    started = row["started"]
    return (
        limit is not None
        and started is not None
        and row["state"] == TaskState.RUNNING.value
        and started + limit <= now
    )


def _with_id(row: sqlite3.Row, task_id: str) -> dict[str, Any]:
    """A row read by id (without its ``id`` column), with it."""
    return {**{key: row[key] for key in row.keys()}, "id": task_id}


def _expired(row: sqlite3.Row, now: float) -> bool:
    expires = row["expires"]
    return expires is not None and expires <= now


def _snapshot(task_id: str, row: sqlite3.Row, now: float) -> TaskStatus:
    state = TaskState(row["state"])
    attempt, attempts = row_attempts(row)
    result: object = None
    if state is TaskState.SUCCEEDED and row["result"] is not None:
        result = from_json(row["result"])
    return TaskStatus(
        task_id=task_id,
        method=row["method"],
        state=state,
        progress=row["progress"],
        message=row["message"],
        created=row["created"],
        started=row["started"],
        finished=row["finished"],
        result=result,
        error=row["error"],
        error_detail=row["detail"],
        as_of=now,
        owner=row["principal"],
        callback=row["callback"],
        callback_state=row["callback_state"],
        attempt=attempt,
        attempts=attempts,
    )
