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
  leaves no orphan holding the lock, so the next worker's scheduler takes
  it (:class:`LadonScheduler`).

.. versionadded:: 2.0
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any

import redis
from rq import SimpleWorker
from rq import Worker
from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT
from rq.defaults import DEFAULT_LOGGING_FORMAT
from rq.scheduler import RQScheduler

try:
    from rq.exceptions import StopRequested
except ImportError:  # pragma: no cover - RQ before 2
    from rq.worker import StopRequested  # type: ignore[attr-defined,no-redef]

if TYPE_CHECKING:
    from .rqbackend import RedisTaskBackend

logger = logging.getLogger("ladon")

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

    def start(self) -> Any:
        self.ladon_parent = os.getpid()
        return super().start()  # type: ignore[no-untyped-call]

    def work(self) -> None:
        # NOTE: in the forked process. The handlers first, so that the
        # parent's death signal stops the loop (releasing the lock) rather
        # than killing the process; then the parent may already be gone.
        self._install_signal_handlers()  # type: ignore[no-untyped-call]
        die_with_parent(signal.SIGTERM)
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
    #: The task backend (set by ``ladon worker``).
    ladon_backend: RedisTaskBackend | None = None

    # the RQ worker's own attributes this class reads
    name: str
    connection: redis.Redis
    _horse_pid: int
    _stop_requested: bool
    _state: str
    pubsub: Any
    pubsub_thread: Any
    scheduler: Any

    # -- the work loop ------------------------------------------------------------

    def work(self, *args: Any, **kwargs: Any) -> bool:
        self._ladon_busy = False
        self._ladon_stopping = False
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

    def execute_job(self, job: Any, queue: Any) -> None:
        self._ladon_busy = True
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

    def monitor_work_horse(self, job: Any, queue: Any, execution: Any) -> None:
        try:
            super().monitor_work_horse(job, queue, execution)  # type: ignore[misc]
        except REDIS_DOWN:
            if self._horse_pid:
                raise
            # The horse ended abnormally while Redis was away: account for it
            # (the task runs again, or fails) once Redis is back.
            wait_for_redis(self.connection, lambda: False)
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
        self.scheduler = scheduler
        scheduler.acquire_locks()  # type: ignore[no-untyped-call]
        if scheduler.acquired_locks:
            scheduler.start()

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

    def run_maintenance_tasks(self) -> None:
        self._tolerate("maintenance", lambda: super(ResilientWorker, self).run_maintenance_tasks())  # type: ignore[misc]

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
