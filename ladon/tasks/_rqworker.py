"""The RQ worker classes ``ladon worker`` runs: RQ's ``Worker`` (a work
horse forked per task) and ``SimpleWorker``, made to ride out Redis
outages, to stop within a grace period, and to say they are alive.

* An outage does not end the worker. RQ's own dequeue loop reconnects with
  a growing back-off (capped at :attr:`ResilientWorker.max_connection_wait_time`);
  here its bookkeeping (heartbeats, state, registry clean-up) is logged and
  skipped while Redis is away instead of ending the worker, and a task that
  ends during the outage writes its outcome once Redis is back (the work
  horse waits for it: :meth:`~ladon.tasks.rqbackend.RedisTaskBackend.execute`).
* SIGTERM (or SIGINT): an idle worker stops at once; a busy one stops taking
  tasks, lets the running task go on for ``grace`` seconds, then kills its
  work horse: the task runs again elsewhere if its method has retries, else
  it ends failed ("worker stopped"). A second signal stops it at once, as in
  RQ.
* A thread beats every :attr:`~ResilientWorker.beat_interval` seconds in the
  sorted set ``<prefix>workers:<queue>``: the web side fails a task that
  waits while no worker is alive on its queue (``no_worker_timeout``).
* RQ's scheduler process (forked by the worker, holding RQ's scheduler lock
  of the queue) dies with the worker: killed with SIGKILL, the worker
  leaves no orphan holding the lock (:class:`LadonScheduler`). A worker
  without a live scheduler tries to take the lock every
  :attr:`~ResilientWorker.scheduler_retry` seconds (RQ only tries at its
  registry clean-up, every minute), so the delayed re-runs go on within
  about a second of the holder's stop.
* The worker reads its queue in blocks of
  :attr:`~ResilientWorker.dequeue_block` seconds (RQ blocks for minutes),
  far shorter than a socket timeout: an idle worker neither takes its own
  wait for a lost Redis nor sleeps in a back-off while tasks arrive.
* A worker started with the ``--name`` of a worker whose process is gone
  (killed with SIGKILL, its host rebooted) removes that registration and
  starts; while that worker runs, it refuses with :class:`NameTaken`
  (:meth:`ResilientWorker.claim_name`).

.. versionadded:: 2.0
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any

import redis
from rq import SimpleWorker
from rq import Worker
from rq import worker_registration
from rq.connections import parse_connection
from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT
from rq.defaults import DEFAULT_LOGGING_FORMAT
from rq.scheduler import RQScheduler
from rq.utils import utcparse

from ..tools.processes import process_alive as process_alive

try:
    from rq.exceptions import StopRequested
except ImportError:  # pragma: no cover - RQ before 2
    from rq.worker import StopRequested  # type: ignore[attr-defined,no-redef]

if TYPE_CHECKING:
    from .rqbackend import RedisTaskBackend

logger = logging.getLogger("ladon")

#: Set by a work horse from the end of its task's body until its outcome
#: is written (shared memory, made before the worker forks): a stopping
#: worker does not kill, at the end of its grace, a horse that only waits
#: for Redis to write a result (see :meth:`ResilientWorker._grace_over`).
OUTCOME_PENDING = multiprocessing.RawValue(ctypes.c_bool, False)

#: Seconds a stopping worker whose work horse it killed (its grace over)
#: waits for an unreachable Redis to write that, before it exits anyway.
STOP_WAIT = 5.0

#: The errors of a Redis that cannot be reached.
REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def wait_for_redis(
    client: redis.Redis, stopping: Callable[[], bool], cap: float = 5.0, what: str = "worker"
) -> bool:
    """Wait until Redis answers a PING, retrying with a doubling back-off
    (0.5 s up to ``cap``); False when ``stopping()`` says to give up.

    .. versionadded:: 2.0
    """
    delay = 0.5
    warned = False
    while not stopping():
        try:
            client.ping()
        except REDIS_DOWN as exc:
            if not warned:
                logger.warning("ladon %s: Redis is unreachable (%s); retrying", what, exc)
                warned = True
            until = time.monotonic() + delay
            while time.monotonic() < until and not stopping():
                time.sleep(0.05)  # a stop request is seen at once
            delay = min(delay * 2, cap)
            continue
        if warned:
            logger.warning("ladon %s: Redis is back", what)
        return True
    return False


def own_connection(client: redis.Redis) -> redis.Redis:
    """A client of the same Redis as ``client`` (same URL options), with a
    connection pool of its own.

    .. versionadded:: 2.0
    """
    client_class, connection_class, options = parse_connection(client)
    pool = redis.ConnectionPool(connection_class=connection_class, **options)
    return client_class(connection_pool=pool)


#: ``prctl`` option: the signal a process gets when its parent dies (Linux).
PR_SET_PDEATHSIG = 1


def die_with_parent(signum: int = signal.SIGTERM) -> bool:
    """Have the kernel send ``signum`` to this process when its parent dies
    (Linux ``prctl(PR_SET_PDEATHSIG)``); False where that cannot be done.

    .. versionadded:: 2.0
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0)) == 0
    except (OSError, AttributeError):  # pragma: no cover - no prctl in this libc
        return False


class NameTaken(ValueError):
    """A worker of that name runs already (``ladon worker --name``).

    .. versionadded:: 2.0
    """

    def __init__(self, name: str, pid: str, host: str) -> None:
        where = f" (pid {pid} on {host})" if pid and host else " (it beats on the queue)"
        super().__init__(f"a worker named {name!r} is running already{where}")
        self.name = name


def close_inherited(pool: Any) -> None:
    """In a forked process: close its copies of the sockets of the parent's
    connection pool ``pool`` (the parent's stay open: a socket is shut down
    only by the process that opened it).

    A worker killed with SIGKILL while it waits for a task leaves its
    blocking read (``BLMOVE``) registered in Redis for as long as any copy of
    its socket is open: Redis would hand the next task to that dead read,
    and the task would wait for RQ's clean-up.

    .. versionadded:: 2.0
    """
    if pool is None:
        return
    for name in ("_available_connections", "_in_use_connections", "_connections"):
        for connection in list(getattr(pool, name, None) or ()):
            if connection is not None:
                connection.disconnect()


class LadonScheduler(RQScheduler):
    """RQ's scheduler, whose process dies with the worker that forked it.

    RQ forks the scheduler from the worker and stops it (SIGTERM) when the
    worker stops; a worker killed with SIGKILL could not, and the orphan
    went on holding RQ's scheduler lock of the queue (refreshing it every
    second), so no later worker's scheduler could take it. Here the forked
    process asks the kernel for a SIGTERM when its parent dies (Linux), and,
    on every system, checks each second that its parent is still the worker:
    either way it stops as RQ stops it, releasing the lock, within about a
    second.

    .. versionadded:: 2.0
    """

    #: The pid of the worker that forked the scheduler process.
    ladon_parent = 0
    #: The worker's connection pool, whose sockets the forked process closes
    #: (see :func:`close_inherited`).
    ladon_inherited: Any = None

    def start(self) -> Any:
        self.ladon_parent = os.getpid()
        return super().start()  # type: ignore[no-untyped-call]

    def work(self) -> None:
        # NOTE: in the forked process. The handlers first, so that the
        # parent's death signal stops the loop (releasing the lock) rather
        # than killing the process; then the parent may already be gone.
        self._install_signal_handlers()  # type: ignore[no-untyped-call]
        die_with_parent(signal.SIGTERM)
        close_inherited(self.ladon_inherited)
        if self.orphaned:
            self.request_stop()  # type: ignore[no-untyped-call]
        super().work()  # type: ignore[no-untyped-call]

    def heartbeat(self) -> None:
        if self.orphaned:  # no death signal here: stop at the top of the next loop
            self.request_stop()  # type: ignore[no-untyped-call]
        super().heartbeat()  # type: ignore[no-untyped-call]

    @property
    def orphaned(self) -> bool:
        """True in a scheduler process whose worker is gone."""
        return bool(self.ladon_parent) and os.getppid() != self.ladon_parent


class ResilientWorker:
    """Mixed into RQ's worker classes (see the module docs).

    .. versionadded:: 2.0
    """

    #: Seconds a busy worker lets its task run after SIGTERM before it kills
    #: the work horse (``None``: wait for the task, as RQ does).
    grace: float | None = 25.0
    #: Seconds between two beats of the worker in ``<prefix>workers:<queue>``.
    beat_interval = 2.0
    #: The longest wait between two reconnection attempts (RQ's back-off cap).
    max_connection_wait_time = 5.0
    #: Seconds one blocking read of the queue lasts (RQ's lasts minutes); the
    #: worker then beats, and may try for the scheduler lock, and reads again.
    #: Far below the connection's socket timeout, which RQ raises above it.
    dequeue_block = 1
    #: Seconds between two tries of a worker without a live scheduler to take
    #: RQ's scheduler lock of its queues (one Redis call).
    scheduler_retry = 1.0
    #: Seconds since the last beat of a worker on the queue after which a
    #: worker of its name on another host counts as gone.
    beat_window = 10.0
    #: The task backend (set by ``ladon worker``).
    ladon_backend: RedisTaskBackend | None = None

    # the RQ worker's own attributes this class reads
    name: str
    key: str
    connection: redis.Redis
    job_monitoring_interval: int
    _horse_pid: int
    _is_horse: bool
    _stop_requested: bool
    _state: str
    pubsub: Any
    pubsub_thread: Any
    scheduler: Any

    # -- the work loop ------------------------------------------------------------

    def work(self, *args: Any, **kwargs: Any) -> bool:
        self._ladon_busy = False
        self._ladon_stopping = False
        self._ladon_burst = bool(kwargs.get("burst", args[0] if args else False))
        self._ladon_lock_try = 0.0
        self.claim_name()  # before any beat under that name
        beat = threading.Event()
        beater = threading.Thread(target=self._beat, args=(beat,), name="ladon-alive", daemon=True)
        beater.start()
        try:
            return bool(super().work(*args, **kwargs))  # type: ignore[misc]
        finally:
            beat.set()
            beater.join(2)
            backend = self.ladon_backend
            if backend is not None:
                backend.worker_gone(self.name)

    def _beat(self, stop: threading.Event) -> None:
        backend = self.ladon_backend
        if backend is None:
            return
        while True:
            try:
                backend.worker_alive(self.name)
            except Exception as exc:  # Redis away: the next beat
                logger.debug("ladon worker %s: no beat: %s", self.name, exc)
            if stop.wait(self.beat_interval):
                return

    @property
    def dequeue_timeout(self) -> int:
        return self.dequeue_block

    # -- the name -----------------------------------------------------------------

    def claim_name(self) -> None:
        """Make way for this worker's registration: RQ refuses a name whose
        registration is there and not marked dead, which a worker killed with
        SIGKILL leaves for minutes. A registration whose process is gone is
        removed here (it is another process's when its host is this one and
        its pid is not alive, or is one that started later; on another host,
        when it no longer beats on the queue, or, serving other queues, when
        its RQ heartbeat is older than RQ allows a busy worker).

        :raises NameTaken: when that worker runs.
        """
        try:
            raw = self.connection.hgetall(self.key)
            fields = {_str(k): _str(v) for k, v in raw.items()}
            if not fields or "death" in fields:
                return  # RQ replaces it
            running = self._still_running(fields)
        except REDIS_DOWN:
            return  # RQ's registration fails next, as it would have
        host = fields.get("hostname", "")
        pid = fields.get("pid", "")
        if running:
            raise NameTaken(self.name, pid, host)
        logger.warning(
            "ladon worker %s: the previous worker of this name (pid %s on %s) is gone;"
            " its registration is removed",
            self.name,
            pid or "?",
            host or "?",
        )
        with self.connection.pipeline() as pipe:
            worker_registration.unregister(self, pipe)  # type: ignore[arg-type]
            pipe.delete(self.key)
            executions = getattr(self, "executions_key", None)  # RQ 2 and later
            if executions:
                pipe.delete(executions)
            pipe.execute()

    def _still_running(self, fields: Mapping[str, str]) -> bool:
        """Whether the worker of a registration (RQ's hash) runs."""
        if fields.get("hostname") == socket.gethostname():
            try:
                pid = int(fields.get("pid") or 0)
                born: float | None = utcparse(fields["birth"]).timestamp()
            except (KeyError, ValueError):
                born = None
            if pid <= 0 or pid == os.getpid():  # a container restarted: a pid again
                return False
            return process_alive(pid, born)
        backend = self.ladon_backend
        # NOTE: after Redis restarted empty, RQ's heartbeat of a worker makes
        # its hash again with nothing but last_heartbeat: judged by the beats
        husk = not fields.get("hostname") and not fields.get("queues")
        if backend is not None and (
            husk or backend.queue_name in fields.get("queues", "").split(",")
        ):
            beat = self.connection.zscore(backend.workers_key, self.name)
            seconds, micros = self.connection.time()
            return beat is not None and beat > seconds + micros / 1e6 - self.beat_window
        try:
            last = utcparse(fields["last_heartbeat"]).timestamp()
        except (KeyError, ValueError):
            return False
        return time.time() - last < self.job_monitoring_interval + 60

    # -- a task -------------------------------------------------------------------

    def execute_job(self, job: Any, queue: Any) -> None:
        self._ladon_busy = True
        OUTCOME_PENDING.value = False
        try:
            super().execute_job(job, queue)  # type: ignore[misc]
        except REDIS_DOWN as exc:
            # NOTE: Redis went away before the task began (or after it ended,
            # in RQ's bookkeeping): RQ's clean-up gives a job that never began
            # back to its queue; the worker waits for Redis and goes on.
            logger.warning(
                "ladon worker %s: job %s: Redis is unreachable: %s", self.name, job.id, exc
            )
            wait_for_redis(self.connection, lambda: self._stop_requested)
        finally:
            self._ladon_busy = False

    def prepare_job_execution(self, job: Any, remove_from_intermediate_queue: bool = False) -> None:
        """RQ's bookkeeping before a job runs (in the work horse), made again
        once Redis answers when it cannot be reached: the task has not
        begun, and RQ would fail its job (the task then ended "worker lost"
        after its lease, never run)."""
        while True:
            try:
                super().prepare_job_execution(job, remove_from_intermediate_queue)  # type: ignore[misc]
                return
            except REDIS_DOWN as exc:
                logger.warning(
                    "ladon worker %s: job %s: Redis is unreachable before the task begins: %s",
                    self.name,
                    job.id,
                    exc,
                )
                # one transaction (MULTI/EXEC): made whole again, or not at all
                wait_for_redis(self.connection, lambda: False, what="work horse")

    def monitor_work_horse(self, job: Any, queue: Any, execution: Any) -> None:
        try:
            super().monitor_work_horse(job, queue, execution)  # type: ignore[misc]
        except REDIS_DOWN:
            if self._horse_pid:
                raise
            # The horse ended abnormally while Redis was away: account for it
            # (the task runs again, or fails) once Redis is back; but a worker
            # stopping (its grace over, the horse killed) waits STOP_WAIT at
            # most: its task's lease then tells the others it is lost.
            give_up = time.monotonic() + STOP_WAIT
            if not wait_for_redis(
                self.connection, lambda: self.stopping and time.monotonic() > give_up
            ):
                logger.warning(
                    "ladon worker %s: Redis is still away: stopping without writing how job "
                    "%s ended (its lease will say it is lost)",
                    self.name,
                    job.id,
                )
                return
            handler = getattr(self, "_work_horse_killed_handler", None)
            if handler is not None:
                handler(job, 0, -1, None)
            self.handle_job_failure(  # type: ignore[attr-defined]
                job,
                queue=queue,
                exc_string="Work-horse ended while Redis was unreachable",
                execution=execution,
            )

    def _start_scheduler(
        self,
        burst: bool = False,
        logging_level: str | int | None = "INFO",
        date_format: str = DEFAULT_LOGGING_DATE_FORMAT,
        log_format: str = DEFAULT_LOGGING_FORMAT,
    ) -> None:
        """RQ's, with a :class:`LadonScheduler`: take the queues' scheduler
        lock and, when taken, fork the scheduler process (in burst mode RQ
        enqueues the due jobs here, without a process)."""
        if burst:
            super()._start_scheduler(burst, logging_level, date_format, log_format)  # type: ignore[misc]
            return
        log = getattr(self, "log", logger)
        scheduler = LadonScheduler(
            self.queues,  # type: ignore[attr-defined]
            connection=self.connection,
            logging_level=logging_level if logging_level is not None else log.level,
            date_format=date_format,
            log_format=log_format,
            serializer=self.serializer,  # type: ignore[attr-defined]
        )
        scheduler.ladon_inherited = self.connection.connection_pool
        self.scheduler = scheduler
        self._ladon_lock_try = time.monotonic() + self.scheduler_retry
        scheduler.acquire_locks()  # type: ignore[no-untyped-call]
        if scheduler.acquired_locks:
            scheduler.start()

    def _scheduler_wanted(self) -> bool:
        """True when this worker has no live scheduler process and may try
        for the lock now (not in burst mode, nor once told to stop)."""
        scheduler = self.scheduler
        if scheduler is None or getattr(self, "_ladon_burst", True):
            return False
        if self._stop_requested or self._is_horse:
            return False
        process = scheduler._process
        if process is not None and process.is_alive():
            return False
        return time.monotonic() >= self._ladon_lock_try

    def _take_scheduler(self) -> None:
        """Try for RQ's scheduler lock of the queues; when taken (its holder
        stopped, or died), fork the scheduler process."""
        self._ladon_lock_try = time.monotonic() + self.scheduler_retry
        try:
            self.scheduler.acquire_locks(auto_start=True)
        except REDIS_DOWN as exc:  # the next try, once Redis is back
            logger.debug("ladon worker %s: scheduler lock not tried: %s", self.name, exc)
        except redis.RedisError as exc:  # e.g. a Redis out of memory: the next try
            logger.warning("ladon worker %s: scheduler lock not taken: %s", self.name, exc)

    # -- bookkeeping that an outage skips -----------------------------------------

    def _tolerate(self, what: str, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except REDIS_DOWN as exc:
            logger.warning(
                "ladon worker %s: %s skipped: Redis is unreachable (%s)", self.name, what, exc
            )
            return None

    def heartbeat(self, *args: Any, **kwargs: Any) -> None:
        self._tolerate("heartbeat", lambda: super(ResilientWorker, self).heartbeat(*args, **kwargs))  # type: ignore[misc]

    def maintain_heartbeats(self, *args: Any, **kwargs: Any) -> None:
        self._tolerate(
            "task heartbeat",
            lambda: super(ResilientWorker, self).maintain_heartbeats(*args, **kwargs),  # type: ignore[misc]
        )

    def set_state(self, state: str, pipeline: Any = None) -> None:
        self._state = state  # known here even when Redis cannot be told
        self._tolerate("state", lambda: super(ResilientWorker, self).set_state(state, pipeline))  # type: ignore[misc]

    @property
    def should_run_maintenance_tasks(self) -> bool:
        """RQ's (its registry clean-up is due), or the scheduler lock is to be
        tried: RQ asks before each read of the queue."""
        due = super().should_run_maintenance_tasks  # type: ignore[misc]
        return bool(due) or self._scheduler_wanted()

    def run_maintenance_tasks(self) -> None:
        if super().should_run_maintenance_tasks:  # type: ignore[misc]
            self._tolerate(
                "maintenance",
                lambda: super(ResilientWorker, self).run_maintenance_tasks(),  # type: ignore[misc]
            )
        if self._scheduler_wanted():
            self._take_scheduler()

    def set_shutdown_requested_date(self) -> None:
        self._tolerate(
            "shutdown date",
            lambda: super(ResilientWorker, self).set_shutdown_requested_date(),  # type: ignore[misc]
        )

    def check_for_suspension(self, burst: bool) -> None:
        while True:
            try:
                super().check_for_suspension(burst)  # type: ignore[misc]
                return
            except REDIS_DOWN:
                if not wait_for_redis(
                    self.connection, lambda: self._stop_requested, self.max_connection_wait_time
                ):
                    raise StopRequested() from None

    def teardown(self) -> None:
        self._tolerate("teardown", lambda: super(ResilientWorker, self).teardown())  # type: ignore[misc]

    def subscribe(self) -> None:
        """RQ's subscription to its command channel (stop-job commands),
        with a pub/sub thread that looks at its stop flag every second.

        NOTE: RQ lets that thread wait 60 s for a message, and redis-py 8's
        ``stop()`` joins it: a worker told to stop would wait up to a minute
        in its teardown.
        """
        log = getattr(self, "log", logger)
        log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)  # type: ignore[attr-defined]
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})  # type: ignore[attr-defined]
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=1.0,
            daemon=True,
            exception_handler=self._pubsub_exception_handler,  # type: ignore[attr-defined]
        )

    # -- stopping -----------------------------------------------------------------

    def request_stop(self, signum: int, frame: Any) -> None:
        """SIGTERM/SIGINT: stop now when idle; when busy, after the current
        task, or after ``grace`` seconds."""
        if not self._ladon_busy:
            self._stop_requested = True
            logger.info("ladon worker %s: stopping", self.name)
            super().request_stop(signum, frame)  # type: ignore[misc]
            raise StopRequested()
        self._state = "busy"  # so that RQ waits for the horse, not the queue
        super().request_stop(signum, frame)  # type: ignore[misc]
        grace = self.grace
        if grace is not None and self._horse_pid:
            horse = self._horse_pid
            logger.info("ladon worker %s: stopping; its task has %g s to end", self.name, grace)
            timer = threading.Timer(grace, self._grace_over, args=(horse,))
            timer.daemon = True
            timer.start()

    def _grace_over(self, horse: int) -> None:
        if self._horse_pid != horse:
            return  # the task ended in time
        if OUTCOME_PENDING.value:
            # NOTE: its body ended in time; the horse waits for Redis to
            # write the outcome (a second SIGTERM still stops at once)
            logger.warning(
                "ladon worker %s: its task has ended; waiting until its outcome is written",
                self.name,
            )
            return
        logger.warning("ladon worker %s: its task did not end in time: stopping it", self.name)
        self._ladon_stopping = True
        self.kill_horse()  # type: ignore[attr-defined]

    @property
    def stopping(self) -> bool:
        """True once the work horse was killed for the worker to stop."""
        return bool(getattr(self, "_ladon_stopping", False))


class LadonWorker(ResilientWorker, Worker):
    """RQ's forking worker, resilient (see :class:`ResilientWorker`).

    .. versionadded:: 2.0
    """


class LadonSimpleWorker(ResilientWorker, SimpleWorker):
    """RQ's worker that runs tasks in its own process, resilient; it has no
    work horse to kill, so SIGTERM waits for the current task.

    .. versionadded:: 2.0
    """

    grace = None


def _str(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
