"""The many-host backend: task records in Redis, tasks on RQ workers.

The web processes write a record per task (state, progress, message, times,
heartbeat, then the result or the error) under a key prefix, with an expiry,
and enqueue an RQ job that carries only *where the method is*: the
application's ``module:attr``, the service and method names and the task
id. A worker started with ``ladon worker module:attr`` loads that same
application, reads the arguments (typed JSON) from the record, runs the
method and writes the result back as typed JSON. RQ jobs are serialised as
JSON, never pickled.

A running task renews a heartbeat in its record; when the worker dies the
heartbeat stops, and once it is older than the task's lease any process
reports the task ``FAILED`` ("worker lost"). Cancel sets a flag in the
record that the task's handle reads back; a task that has not ended
``cancel_grace`` seconds later is killed through RQ's stop-job command. A
task's ``max_runtime`` is RQ's job timeout: the worker raises its timeout in
the task then kills it, and any process that reads the task past its limit
reports it ``FAILED`` and has it killed.

A task of a method with retries (``tasktype={"retries": N}``) is enqueued
with RQ's own ``Retry(max=N, interval=[d, 2d, 4d...])``, and RQ runs its
job again: after it raised :class:`~ladon.tasks.Retry` (the job function
raises :class:`~ladon.tasks.retries.RetryRequested` to RQ), after its work
horse died (RQ's failure handling), after its worker died (the orphaned
work horse, or a web process that found the lease over, calls RQ's
``Job.retry``), after its host vanished (RQ's abandoned-job clean-up). The
record says which attempt runs; a job RQ runs again for an attempt that is
still alive is not run twice. A pending task fails when no worker was alive
on its queue for ``no_worker_timeout`` seconds; a task that ends while
Redis is away writes its outcome once Redis is back.

Needs the ``redis`` extra: ``pip install 'ladon[redis]'``.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import TypeVar

try:
    import redis
    from rq import Queue
    from rq import Retry as RQRetry
    from rq.command import send_stop_job_command
    from rq.exceptions import InvalidJobOperation
    from rq.exceptions import NoSuchJobError
    from rq.job import Job
    from rq.serializers import JSONSerializer
    from rq.timeouts import JobTimeoutException
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        "the redis task backend needs the redis and rq packages: pip install 'ladon[redis]'"
        f" ({exc})"
    ) from exc

from ..types.tasktype import TaskOptions
from . import _redis_admin
from . import _scripts
from ._live import LiveTasks
from ._nonces import check_ttl
from ._nonces import nonce_key
from ._redis_wake import PubSubWake
from ._rq_reruns import reliably
from ._rq_reruns import rq_interval
from ._rq_reruns import run_again
from ._rq_reruns import set_rq_delay
from .admin import Readiness
from .admin import TaskQuery
from .base import RUNTIME_EXCEEDED_DETAIL
from .base import BackendUnavailable
from .base import TaskCancelled
from .base import TaskHandle
from .base import TaskRejected
from .base import TaskState
from .base import TaskStatus
from .base import UnknownTask
from .base import check_max_runtime
from .base import is_task_id
from .base import new_task_id
from .base import runtime_exceeded
from .callbacks import PENDING as CALLBACK_PENDING
from .callbacks import in_flight
from .callbacks import job_callback
from .delivery import CallbackSender
from .idempotency import AlreadyStarted
from .idempotency import IdempotentStart
from .idempotency import KeyReused
from .idempotency import job_idempotency
from .jobs import JobSpec
from .jobs import from_json
from .jobs import to_json
from .retries import WORKER_LOST
from .retries import Retry
from .retries import RetryRequested
from .retries import final_error
from .retries import job_task_options
from .retries import refused_retry
from .retries import waiting_message
from .threads import _describe_failure
from .threads import job_max_runtime
from .waiting import wait_on_signals

logger = logging.getLogger("ladon")

#: The function RQ workers run (``ladon.tasks.worker.run_task``).
JOB_FUNCTION = "ladon.tasks.worker.run_task"
#: Seconds a work horse whose worker died gives the callback of its task
#: before it exits (then the callback goes back to ``pending``).
ORPHAN_CALLBACK_WAIT = 5.0

Job_ = Callable[[TaskHandle], object]
T = TypeVar("T")
#: ``runner(spec, handle) -> plain result``: runs a described call.
Runner = Callable[[JobSpec, TaskHandle], object]


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)


def _number(value: object) -> float | None:
    text = _text(value)
    return None if text is None or text == "" else float(text)


class RedisTaskBackend:
    """Keeps tasks in Redis and runs them on RQ workers.

    :param url: the Redis connection URL, as redis-py reads it
        (``redis://[:password@]host:6379/0``, ``rediss://...``,
        ``unix:///path/redis.sock?db=0``).
    :param app: the application's ``module:attr``, put in every job so that
        a worker checks it serves this application; ``None`` lets any
        ``ladon worker`` on the queue run the tasks.
    :param queue: the RQ queue name; give each application its own.
    :param prefix: prefix of the record keys (``<prefix>task:<id>``).
    :param result_ttl: seconds a finished task is kept (and its result can
        be fetched) before Redis forgets it.
    :param lease: seconds without a heartbeat after which a running task is
        reported ``FAILED`` ("worker lost"); also how long a pending task
        may wait before its RQ job is checked.
    :param pending_ttl: seconds an unfinished record lives without news
        (waiting for a worker, or its worker lost while nobody asked).
    :param cancel_grace: seconds a running task has to honour a cancel
        before it is killed with RQ's stop-job command (0: at once).
    :param max_runtime: seconds a task may run; ``None`` (the default) for
        no limit. It is RQ's job timeout (rounded up to whole seconds): the
        worker raises RQ's ``JobTimeoutException`` in the task, which ends
        ``FAILED`` ("the task ran longer than its max_runtime of N s"), and
        kills a work horse that goes on regardless; any process that reads
        a task past its limit reports it ``FAILED`` at once and has its work
        horse killed (a hard stop, as for a cancel). A task method's own
        ``max_runtime`` (``tasktype={"max_runtime": 30}``) replaces this
        one.
    :param job_timeout: the earlier name of ``max_runtime``; give one of
        them.
    :param max_pending: how many tasks may wait in the RQ queue; beyond that
        :meth:`submit` raises :class:`~ladon.tasks.TaskRejected`. ``None``
        (the default) for no bound. The count is read before each submit, so
        several web processes may overshoot it by a few tasks.
    :param sync_interval: how often a running task writes its progress and
        heartbeat and reads its cancel flag.
    :param connection: a ``redis.Redis`` client to use instead of ``url``
        (it must not decode responses).
    :param no_worker_timeout: seconds a pending task may wait while no
        ``ladon worker`` is alive on its queue (workers beat every 2 s; a
        task that starts or runs beats too) before it fails ("no live
        worker on its queue for N s"); ``None`` for no bound. Default 300.

    Nothing connects before the first call, so building the backend never
    fails because Redis is down; calls then raise
    :class:`~ladon.tasks.BackendUnavailable`.

    Each task keeps its owner (the principal that started it, which the
    worker gives the method as ``kw["principal"]``), and Redis is the
    application's store of WS-Security nonces (:meth:`claim_nonce`), shared
    by every process and host that uses it. A task keeps its
    ``Idempotency-Key`` (a key checked and written by one script with the
    record) and its completion callback, which the process that ends it
    (the worker, or a web process that finds it lost or cancels it while it
    waits) sends with :attr:`callback_sender`. A :meth:`wait` is woken by
    the end's publication on ``<prefix>ended``.

    .. versionadded:: 2.0
    """

    #: Tasks keep their owner (see :class:`ladon.tasks.TaskBackend`).
    keeps_owners = True
    #: A repeated start with the same ``Idempotency-Key`` gives the same task.
    idempotent_starts = True
    #: Sends the callbacks of the tasks this process ends (set by the
    #: application, and by ``ladon worker``).
    callback_sender: CallbackSender | None = None
    #: The backend's kind, as the operator's tools name it.
    kind = "redis"

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        app: str | None = None,
        queue: str = "ladon",
        prefix: str = "ladon:",
        result_ttl: float = 3600.0,
        lease: float = 30.0,
        pending_ttl: float = 86400.0,
        cancel_grace: float = 5.0,
        job_timeout: float | None = None,
        sync_interval: float = 0.1,
        connection: redis.Redis | None = None,
        max_runtime: float | None = None,
        max_pending: int | None = None,
        no_worker_timeout: float | None = 300.0,
    ) -> None:
        if max_runtime is not None and job_timeout is not None and max_runtime != job_timeout:
            raise ValueError(
                "max_runtime and job_timeout are two names of one setting; give one of them"
            )
        if max_runtime is not None:
            limit = check_max_runtime(max_runtime)
        else:
            limit = check_max_runtime(job_timeout, "job_timeout")
        for name, value, ok in (
            ("result_ttl", result_ttl, result_ttl >= 0),
            ("lease", lease, lease > 0),
            ("pending_ttl", pending_ttl, pending_ttl > 0),
            ("cancel_grace", cancel_grace, cancel_grace >= 0),
            ("sync_interval", sync_interval, 0 <= sync_interval < lease),
            ("max_pending", max_pending, max_pending is None or max_pending >= 0),
            (
                "no_worker_timeout",
                no_worker_timeout,
                no_worker_timeout is None or 0 < no_worker_timeout < math.inf,
            ),
        ):
            if not ok:  # NaN fails every comparison, so it is refused too
                raise ValueError(f"{name} is out of range: {value!r}")
        if app is not None and (":" not in app or app.startswith(":") or app.endswith(":")):
            raise ValueError(f"app must name the application as module:attr, not {app!r}")
        if not queue:
            raise ValueError("queue must not be empty")
        self._url = url
        self.app = app
        self.queue_name = queue
        self.prefix = prefix
        self.result_ttl = float(result_ttl)
        self.lease = float(lease)
        self.pending_ttl = float(pending_ttl)
        self.cancel_grace = float(cancel_grace)
        self.max_runtime = limit
        self.max_pending = max_pending
        self.no_worker_timeout = None if no_worker_timeout is None else float(no_worker_timeout)
        self.sync_interval = float(sync_interval)
        self._given = connection
        # NOTE: building the client checks the URL and connects to nothing.
        self._redis: redis.Redis | None = connection if connection is not None else self._connect()
        self._queue: Queue | None = None
        self._shas: dict[str, str] = {}
        self._lock = threading.Lock()
        self._closed = False
        # In a worker's horse: the task it runs, its attempt, the worker.
        self._live: LiveTasks | None = None
        self._code = 0
        self._wake = PubSubWake(lambda: self.client, f"{prefix}ended")
        self._attempt = 1
        self._worker = ""
        self._unreachable = False

    def __repr__(self) -> str:
        return f"<RedisTaskBackend queue={self.queue_name!r} prefix={self.prefix!r}>"

    @property
    def job_timeout(self) -> float | None:
        """The earlier name of :attr:`max_runtime`."""
        return self.max_runtime

    @property
    def client(self) -> redis.Redis:
        """The Redis client (connected on first use)."""
        if self._redis is None:
            with self._lock:
                if self._redis is None:
                    self._redis = self._connect()
        return self._redis

    def _connect(self) -> redis.Redis:
        options: dict[str, Any] = {"socket_connect_timeout": 5.0, "socket_timeout": 10.0}
        for key in list(options):
            if f"{key}=" in self._url:
                del options[key]
        try:
            client = redis.Redis.from_url(self._url, **options)
            pool = client.connection_pool
            # Built, not connected: refuses an unknown URL option now rather
            # than on the first call.
            pool.connection_class(**pool.connection_kwargs)
        except (ValueError, TypeError) as exc:  # shown without the URL: it may hold a password
            name = type(exc).__name__
            hint = str(exc).split("got ")[-1] if isinstance(exc, TypeError) else "malformed URL"
            raise ValueError(f"bad Redis URL for the task backend ({name}: {hint})") from None
        return client

    @property
    def queue(self) -> Queue:
        """The RQ queue tasks are enqueued on."""
        if self._queue is None:
            self._queue = Queue(self.queue_name, connection=self.client, serializer=JSONSerializer)
        return self._queue

    def key(self, task_id: str) -> str:
        """The Redis key of a task's record."""
        return f"{self.prefix}task:{task_id}"

    @property
    def workers_key(self) -> str:
        """The sorted set where the queue's workers beat (name -> time)."""
        return f"{self.prefix}workers:{self.queue_name}"

    # -- TaskBackend ---------------------------------------------------------

    def submit(self, method: str, job: Job_) -> str:
        """Write a pending record and enqueue the RQ job, in one round trip.

        :param method: the key of the method that owns the task.
        :param job: a job that can describe itself
            (:class:`~ladon.tasks.jobs.DescribedJob`), as the framework's are.
        :raises TaskRejected: for a job that cannot be described, when
            ``max_pending`` tasks already wait, or after :meth:`close`.
        :raises BackendUnavailable: when Redis cannot be reached.
        """
        if self._closed:
            raise TaskRejected("the task backend is closed")
        describe = getattr(job, "describe", None)
        if describe is None:
            raise TaskRejected(
                "the redis task backend runs only task methods of an application"
                " (jobs that can be described as data)"
            )
        limit = job_max_runtime(job, self.max_runtime)
        options = job_task_options(job)
        if self.max_pending is not None:
            try:
                waiting = self.queue.count
            except redis.RedisError as exc:
                raise BackendUnavailable(
                    f"cannot reach the Redis server of the task backend: {exc}"
                ) from None
            if waiting >= self.max_pending:
                raise TaskRejected(f"too many pending tasks ({waiting}); try again later")
        spec: JobSpec = describe()
        idem, callback = job_idempotency(job), job_callback(job) or ""
        for attempt in (1, 2):
            task_id = new_task_id()
            try:
                held = self._enqueue(method, spec, task_id, limit, options, callback, idem)
            except redis.exceptions.NoScriptError:
                # Redis restarted or was flushed: load the scripts again. The
                # RQ job enqueued without its record finds nothing to run.
                self._shas.clear()
                if attempt == 2:  # pragma: no cover - a script that cannot load
                    raise BackendUnavailable(
                        "the task scripts cannot be loaded into Redis"
                    ) from None
            except redis.RedisError as exc:
                raise BackendUnavailable(
                    f"cannot reach the Redis server of the task backend: {exc}"
                ) from None
            else:
                break
        if held is not None and idem is not None:  # the key started a task that is kept
            other, _, fingerprint = held.partition("|")
            raise (AlreadyStarted if fingerprint == idem.fingerprint else KeyReused)(other)
        return task_id

    def _record_args(
        self,
        method: str,
        spec: JobSpec,
        limit: float | None,
        options: TaskOptions,
        callback: str,
    ) -> list[str]:
        """The arguments of the ``create`` script."""
        return [
            method,
            repr(self.result_ttl),
            repr(self.lease),
            repr(self.cancel_grace),
            str(int(self.pending_ttl * 1000)),
            spec.args,
            spec.environ,
            "" if limit is None else repr(limit),
            spec.principal,
            str(options.attempts),
            repr(options.retry_delay),
            "" if self.no_worker_timeout is None else repr(self.no_worker_timeout),
            spec.traceparent,
            callback,
        ]

    def _enqueue(
        self,
        method: str,
        spec: JobSpec,
        task_id: str,
        limit: float | None,
        options: TaskOptions,
        callback: str = "",
        idem: IdempotentStart | None = None,
    ) -> str | None:
        """Write the record and enqueue the RQ job in one MULTI/EXEC; with
        an Idempotency-Key, the record only if the key is free (one script).

        :returns: ``<task id>|<fingerprint>`` of the task holding the key
            (no record was written: the RQ job enqueued with it finds none
            and ends at once), else ``None``.
        """
        script = "create" if idem is None else "create_once"
        if script not in self._shas:
            self._shas[script] = self.client.script_load(_scripts.SCRIPTS[script])
        pipe = self.client.pipeline()
        retry = None
        if options.retries:
            delays = [rq_interval(options.delay(a)) for a in range(2, options.attempts + 1)]
            retry = RQRetry(max=options.retries, interval=delays)
        # NOTE: RQ starts the MULTI on the pipeline: it must come first.
        self.queue.enqueue_call(
            func=JOB_FUNCTION,
            args=[self.app or "", spec.service, spec.method, task_id],
            job_id=task_id,
            timeout=-1 if limit is None else max(1, math.ceil(limit)),
            result_ttl=0,
            failure_ttl=max(1, round(self.result_ttl)),
            ttl=max(1, round(self.pending_ttl)),
            description=f"{spec.service}.{spec.method}",
            pipeline=pipe,
            retry=retry,
        )
        args = self._record_args(method, spec, limit, options, callback)
        if idem is None:
            pipe.evalsha(self._shas["create"], 1, self.key(task_id), *args)
            pipe.execute()
            return None
        keys = (f"{self.prefix}idem:{idem.key}", self.key(task_id))
        pipe.evalsha(self._shas[script], 2, *keys, task_id, idem.fingerprint, *args)
        return _text(pipe.execute()[-1])

    def status(self, method: str, task_id: str) -> TaskStatus:
        """Return the task's status; reports ``FAILED`` ("worker lost") a
        task whose lease ran out, and kills a task that ignored a cancel for
        ``cancel_grace`` seconds.

        :raises UnknownTask: for an unknown, expired or foreign id.
        :raises BackendUnavailable: when Redis cannot be reached.
        """
        if not is_task_id(task_id):
            raise UnknownTask(task_id)
        keys = [self.key(task_id), Job.key_for(task_id), self.workers_key]
        args = [
            method,
            _scripts.LOST_DETAIL,
            RUNTIME_EXCEEDED_DETAIL,
            _scripts.NO_WORKER_DETAIL,
        ]
        reply = self._run("status", keys, args)
        if not reply:
            raise UnknownTask(task_id)
        if reply[-1]:  # its worker is lost and it may run again: RQ runs it
            self.run_again(task_id)
        if reply[-2]:  # the grace after a cancel or the max_runtime is over
            self._hard_stop(task_id)
            reply = self._run("status", keys, args)
            if not reply:  # pragma: no cover - expired in between
                raise UnknownTask(task_id)
        return self._noticed(_status(task_id, reply))

    def _noticed(self, status: TaskStatus) -> TaskStatus:
        """``status``, once its callback (due, and taken by nobody) is
        handed to this process's sender."""
        sender = self.callback_sender
        if sender is not None and status.state.finished:
            if status.callback_state == CALLBACK_PENDING:
                sender.due(self, status.task_id)
            elif in_flight(status.callback_state):  # taken only if its process died
                sender.recheck(self, status.task_id)
        return status

    def wait(self, method: str, task_id: str, timeout: float) -> TaskStatus:
        """Return the task's status as soon as it has ended (the end's
        publication wakes it), or after ``timeout`` seconds; see
        :class:`ladon.tasks.waiting.WaitingBackend`.

        :raises UnknownTask: for an unknown, expired or foreign id.
        :raises BackendUnavailable: when Redis cannot be reached.

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
        """Take an ended task's callback for sending, in one script (one
        process wins); see :class:`ladon.tasks.delivery.CallbackStore`.

        .. versionadded:: 2.0
        """
        stale = "" if stale_after is None else repr(float(stale_after))
        reply = self._run("claim_callback", [self.key(task_id)], [held or "", stale])
        return _status(task_id, reply) if reply else None

    def set_callback_state(self, task_id: str, state: str) -> None:
        """Write how a callback's delivery goes; see
        :class:`ladon.tasks.delivery.CallbackStore`.

        .. versionadded:: 2.0
        """
        held = "1" if in_flight(state) else ""
        self._run("set_callback_state", [self.key(task_id)], [state, held])

    def cancel(self, method: str, task_id: str) -> TaskStatus:
        """Request the cancellation of the task and return its status at
        that moment; see :meth:`ladon.tasks.TaskBackend.cancel`. A running
        task stays ``RUNNING`` until it stops by itself or, ``cancel_grace``
        seconds later (at once when it is 0), is killed.

        :raises UnknownTask: for an unknown, expired or foreign id.
        :raises BackendUnavailable: when Redis cannot be reached.
        """
        self.status(method, task_id)  # UnknownTask; fails a lost task first
        # NOTE: the script answers with the record as the cancel left it, so
        # the answer is the task at that moment even if its job stops at once.
        reply = self._run("cancel", [self.key(task_id)], [method])
        if not reply:  # pragma: no cover - expired in between
            raise UnknownTask(task_id)
        status = _status(task_id, reply)
        if status.state is TaskState.RUNNING and self.cancel_grace == 0:
            self._hard_stop(task_id)
            return self.status(method, task_id)
        return self._noticed(status)

    def claim_nonce(self, key: str, ttl: float) -> bool:
        """Remember a one-time value for ``ttl`` seconds in Redis
        (``SET NX PX``), for every process and host that uses it; see
        :class:`ladon.tasks.base.NonceStore`.

        :returns: False when ``key`` was claimed before and is still held.
        :raises BackendUnavailable: when Redis cannot be reached.
        """
        ttl = check_ttl(ttl)
        name = f"{self.prefix}nonce:{nonce_key(key)}"
        try:
            return bool(self.client.set(name, b"1", nx=True, px=max(1, math.ceil(ttl * 1000))))
        except redis.RedisError as exc:
            raise BackendUnavailable(
                f"cannot reach the Redis server of the task backend: {exc}"
            ) from None

    def close(self, wait: bool = True) -> None:
        """Refuse new tasks and drop the connections (tasks on workers go on).

        :param wait: accepted for the protocol; nothing runs here.
        """
        self._closed = True
        self._wake.close()
        client, self._redis, self._queue = self._redis, self._given, None
        if client is not None and client is not self._given:
            client.close()

    # -- TaskAdmin (see ladon.tasks.admin) ----------------------------------------

    def tasks(self, query: TaskQuery) -> list[TaskStatus]:
        """The tasks ``query`` asks for, newest first (the records are
        found by scanning the key prefix)."""
        return _redis_admin.tasks(self, query)

    def counts(self) -> dict[str, int]:
        """How many records Redis holds in each state."""
        return _redis_admin.counts(self)

    def queue_figures(self) -> dict[str, int]:
        """The RQ queue's depth (``queued``), the jobs running on workers
        (``started``) and the workers serving the queue (``workers``)."""
        return _redis_admin.queue_figures(self)

    def readiness(self) -> Readiness:
        """Ready when Redis answers and an RQ worker serves the queue."""
        return _redis_admin.readiness(self)

    def task_key(self, task_id: str) -> str | None:
        """The method key of a task, or ``None`` for an unknown id."""
        return _redis_admin.task_key(self, task_id)

    # -- in a worker ------------------------------------------------------------

    def execute(
        self,
        task_id: str,
        service: str,
        method: str,
        runner: Runner,
        worker: str,
        parent: int | None,
    ) -> None:
        """Run one task in a worker (called by the RQ job function).

        :param task_id: the task.
        :param service: the service's name, as the RQ job carries it.
        :param method: the task method's name, as the RQ job carries it.
        :param runner: runs the described call, returns its result in
            plain wire form (stored as typed JSON).
        :param worker: the worker's name, stored in the record.
        :param parent: the pid of the worker when this is its forked work
            horse: if that process dies, the task is given up (run again
            when its method has retries) and the horse exits.
        :raises RetryRequested: the task raised :class:`~ladon.tasks.Retry`
            and may run again: RQ runs its job again (its ``Retry``).
        """
        key = self.key(task_id)
        begun = self._run("begin", [key, self.workers_key], [worker, _scripts.LOST_DETAIL])
        if not begun:
            return  # cancelled while it waited, expired, or already running
        args, environ, grace, maxrt, principal, attempt_, attempts_, rdelay, tp = (
            _text(v) or "" for v in begun
        )
        attempt, attempts = int(attempt_ or 1), int(attempts_ or 1)
        spec = JobSpec(service, method, args or "[]", environ or "{}", principal, tp)
        live = self._live = LiveTasks(self.sync_interval, self._sync)
        self._code = 0
        self._attempt = attempt
        self._worker = worker
        live.add(task_id)
        stop = threading.Event()
        ticker = threading.Thread(
            target=self._tick,
            args=(task_id, stop, float(grace or self.cancel_grace), parent),
            name="ladon-redis-ticker",
            daemon=True,
        )
        ticker.start()
        outcome: tuple[str, str, str, str]
        retry: Retry | None = None
        try:
            text = to_json(runner(spec, TaskHandle(task_id, self, attempt)))
            outcome = (TaskState.SUCCEEDED.value, text, "", "")
        except TaskCancelled:
            outcome = (TaskState.CANCELLED.value, "", "", "")
        except Retry as exc:
            retry = exc
            outcome = (TaskState.FAILED.value, "", exc.reason, _describe_failure(exc)[1])
        except JobTimeoutException as exc:  # RQ's timeout: the max_runtime
            message = runtime_exceeded(float(maxrt)) if maxrt else str(exc)
            outcome = (TaskState.FAILED.value, "", message, RUNTIME_EXCEEDED_DETAIL)
        except BaseException as exc:  # SystemExit too: the record must say it
            message, detail = _describe_failure(exc)
            outcome = (TaskState.FAILED.value, "", message, detail)
            if not isinstance(exc, Exception):
                last, now = live.remove(task_id), time.monotonic()
                self._safely(lambda: self._finish(key, outcome, attempt, last, now))
                raise
        finally:
            # NOTE: the job's end, which an outage may keep from being
            # written for a while: the record's finish time is this moment.
            ended = time.monotonic()
            stop.set()
            ticker.join()
            # the last message, if the ticker did not write it (reported just
            # before the end, or while Redis was away): the end writes it
            unsent = live.remove(task_id)
            self._live = None
        if retry is not None:
            options = TaskOptions(attempts - 1, float(rdelay or 0))
            if attempt < attempts:
                self._retry(key, attempt, options, retry)
                return
            error = final_error(retry.reason, attempt, attempts)
            if attempts <= 1:
                error = refused_retry(retry.reason)
            outcome = (TaskState.FAILED.value, "", error, outcome[3])
        if self._reliably(task_id, lambda: self._finish(key, outcome, attempt, unsent, ended)):
            self._callback_due(task_id)

    def _finish(
        self,
        key: str,
        outcome: tuple[str, str, str, str],
        attempt: int,
        message: str | None = None,
        ended: float | None = None,
    ) -> object:
        """Write the end of an attempt; ``ended``: when its job ended (this
        process's ``time.monotonic()``), so that an end written late (Redis
        was away) is dated when the job ended, not when it was written.
        The script gets how long ago that was (Redis's clock dates records:
        the hosts' clocks need not agree)."""
        ago = "" if ended is None else f"{max(0.0, time.monotonic() - ended):.6f}"
        return self._run("finish", [key], [*outcome, str(attempt), message or "", ago])

    def _retry(self, key: str, attempt: int, options: TaskOptions, exc: Retry) -> None:
        """The attempt raised Retry and may run again: the record goes back
        to pending, and RQ is asked to run the job again after the delay in
        whole seconds (:func:`~ladon.tasks._rq_reruns.rq_interval`), which
        the message gives."""
        delay = exc.delay if exc.delay is not None else options.delay(attempt + 1)
        # NOTE: the message says what RQ waits (whole seconds: the delay
        # rounded up, plus one), not the delay asked for.
        seconds = rq_interval(delay)
        message = waiting_message(attempt + 1, options.attempts, seconds, exc.reason)
        moved = self._reliably(key, lambda: self._run("retry", [key], [str(attempt), message]))
        if not moved:  # cancelled meanwhile (now ended), or no longer this attempt
            self._callback_due(key[-40:])  # a cancelled end's callback
            return
        if exc.delay is not None:
            set_rq_delay(seconds)
        raise RetryRequested(f"the task asks to run again: {exc.reason}")

    def _reliably(self, task_id: str, action: Callable[[], T]) -> T:
        return reliably(task_id, action, self.pending_ttl)

    def report_progress(self, task_id: str, progress: float | None, message: str | None) -> bool:
        """Take a report of the task this horse runs (written at most every
        ``sync_interval``); see :class:`ladon.tasks.base.TaskReporter`."""
        live = self._live
        return live is not None and live.report(task_id, progress, message)

    def is_cancel_requested(self, task_id: str) -> bool:
        """True once a cancel of the task this horse runs was requested."""
        live = self._live
        return live is not None and live.cancelled(task_id)

    def lose(self, task_id: str, detail: str, reason: str = WORKER_LOST) -> int:
        """Give up a running task whose worker is gone: 2 when it is pending
        again as its next attempt (RQ is to run its job again), 1 when it
        ended failed (``reason``, e.g. "worker lost") or cancelled (its
        callback, if any, is then due), 0 when it was not running."""
        code = int(self._run("lost", [self.key(task_id)], [detail, reason, ""]))
        if code == 1:
            self._callback_due(task_id)
        return code

    def _callback_due(self, task_id: str) -> None:
        sender = self.callback_sender
        if sender is not None:
            sender.due(self, task_id)  # claimed (or not) on a delivery thread

    def run_again(self, task_id: str) -> None:
        """Have RQ run the job of a task whose worker was lost again (see
        :func:`~ladon.tasks._rq_reruns.run_again`)."""
        run_again(self.client, self.queue, task_id)

    def worker_alive(self, name: str) -> None:
        """A worker's beat in :attr:`workers_key`."""
        self._run("alive", [self.workers_key], [name])

    def worker_gone(self, name: str) -> None:
        """A worker that stops leaves :attr:`workers_key`."""
        try:
            self.client.zrem(self.workers_key, name)
        except redis.RedisError as exc:
            logger.debug("Worker %s not removed from %s: %s", name, self.workers_key, exc)

    # -- internals ---------------------------------------------------------------

    def _sync(self, task_id: str, progress: float | None, message: str | None) -> bool:
        try:
            reply = self._run(
                "sync",
                [self.key(task_id), self.workers_key],
                [
                    "" if progress is None else repr(progress),
                    "0" if message is None else "1",
                    message or "",
                    str(self._attempt),
                    self._worker,
                ],
            )
        except BackendUnavailable:
            self._unreachable = True  # the ticker slows down until Redis is back
            raise
        self._unreachable = False
        self._code = int(reply)
        return self._code != 0

    def _tick(self, task_id: str, stop: threading.Event, grace: float, parent: int | None) -> None:
        """In the horse: heartbeats, progress, cancel; a hard stop after the
        grace; the end of the horse when its worker died."""
        asked: float | None = None
        while not stop.wait(1.0 if self._unreachable else self.sync_interval):
            if parent is not None and os.getppid() != parent:
                logger.error("The worker of task %s died; the task is given up", task_id)
                try:
                    if self.lose(task_id, "The worker process died.") == 2:
                        self.run_again(task_id)  # nobody else would tell RQ soon
                except BackendUnavailable as exc:
                    logger.warning("%s", exc)
                self._hand_over_callbacks()
                os._exit(1)
            live = self._live
            if live is not None:
                live.flush(force=True)
            if self._code == 0:
                continue
            asked = time.monotonic() if asked is None else asked
            if time.monotonic() - asked < grace:
                continue
            if parent is None:
                # NOTE: no horse to kill (a simple worker runs tasks in its
                # own process): the record ends cancelled, the task runs on.
                logger.warning("Task %s ignored its cancel; it cannot be killed here", task_id)
                self._safely(lambda: self._run("drop", [self.key(task_id)], []))
                return
            logger.warning("Task %s ignored its cancel for %s s: stopping it", task_id, grace)
            self._hard_stop(task_id)
            if stop.wait(5.0):
                return
            os._exit(1)  # the worker did not kill this horse

    def _hand_over_callbacks(self) -> None:
        """Before a work horse whose worker died exits: the callback of its
        task (due now that the task was given up) is sent from here for up
        to :data:`ORPHAN_CALLBACK_WAIT` seconds; one not sent by then goes
        back to ``pending``, for the next process that reads the task (a
        web process at ``_progress``, another worker) to send."""
        sender = self.callback_sender
        if sender is not None and not sender.drain(ORPHAN_CALLBACK_WAIT):
            sender.release(self, ORPHAN_CALLBACK_WAIT)

    def _hard_stop(self, task_id: str) -> None:
        """End a running task cancelled and have its worker kill it."""
        self._safely(lambda: self._run("stop", [self.key(task_id)], []))
        try:
            send_stop_job_command(self.client, task_id, serializer=JSONSerializer)
        except (InvalidJobOperation, NoSuchJobError):
            pass  # it is not running on a worker (any more)
        except redis.RedisError as exc:
            logger.warning("Cannot send the stop command for task %s: %s", task_id, exc)

    def _safely(self, action: Callable[[], object]) -> None:
        try:
            action()
        except BackendUnavailable as exc:
            logger.warning("%s", exc)

    def load_scripts(self) -> None:
        """Load every script into Redis now (a worker does it before it
        forks, so that its work horses inherit the SHAs).

        :raises BackendUnavailable: when Redis cannot be reached.
        """
        try:
            for name, text in _scripts.SCRIPTS.items():
                self._shas[name] = self.client.script_load(text)
        except redis.RedisError as exc:
            raise BackendUnavailable(
                f"cannot reach the Redis server of the task backend: {exc}"
            ) from None

    def _run(self, name: str, keys: Sequence[str | bytes], args: Sequence[str]) -> Any:
        """Run one of the scripts (loaded once, by SHA after that)."""
        client = self.client
        try:
            sha = self._shas.get(name)
            if sha is not None:
                try:
                    return client.evalsha(sha, len(keys), *keys, *args)
                except redis.exceptions.NoScriptError:
                    pass  # the server restarted or was flushed
            text = _scripts.SCRIPTS[name]
            self._shas[name] = client.script_load(text)
            return client.evalsha(self._shas[name], len(keys), *keys, *args)
        except redis.RedisError as exc:
            raise BackendUnavailable(
                f"cannot reach the Redis server of the task backend: {exc}"
            ) from None


def _status(task_id: str, reply: Sequence[object]) -> TaskStatus:
    fields = dict(zip(_scripts.STATUS_FIELDS, reply, strict=False))
    state = TaskState(_text(fields["state"]))
    result: object = None
    if state is TaskState.SUCCEEDED:
        text = _text(fields["result"])
        result = from_json(text) if text else None
    return TaskStatus(
        task_id=task_id,
        method=_text(fields["method"]) or "",
        state=state,
        progress=_number(fields["progress"]) or 0.0,
        message=_text(fields["message"]),
        created=_number(fields["created"]) or 0.0,
        started=_number(fields["started"]),
        finished=_number(fields["finished"]),
        result=result,
        error=_text(fields["error"]),
        error_detail=_text(fields["detail"]),
        owner=_owner(_text(fields.get("principal"))),
        callback=_text(fields.get("callback")) or None,
        callback_state=_text(fields.get("cbstate")) or None,
        attempt=int(_number(fields.get("attempt")) or 1),
        attempts=int(_number(fields.get("attempts")) or 1),
    )


def _owner(principal: str | None) -> str | None:
    """The owner's name in a record's ``principal`` JSON."""
    if not principal:
        return None
    try:
        data = from_json(principal)
    except ValueError:
        return None
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) and name else None
