"""Redis down and back, with real ``ladon worker`` processes on a real
redis-server (with an append-only file, so that a restart keeps the data,
as in production): calls answer at once while it is down; a worker rides
the outage out, writes the result of a task that ended meanwhile once Redis
is back, then runs the tasks that waited; SIGTERM stops a worker during an
outage and after it; a worker started while Redis is down serves once it
is up."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import backend_app
import pytest

from ladon.server.wsgi import LadonWSGIApplication

from .backend_support import Client
from .backend_support import Gates
from .backend_support import PersistentRedis
from .backend_support import Worker
from .backend_support import in_process
from .backend_support import pid_alive

UNAVAILABLE = "The task service is unavailable; try again later"
LEASE = 1.5


@pytest.fixture(scope="module")
def server() -> Iterator[PersistentRedis]:
    redis_server = PersistentRedis()
    yield redis_server
    redis_server.stop()


def _client(apps: list[LadonWSGIApplication], server: PersistentRedis, queue: str) -> Client:
    url = server.url(
        queue=queue, prefix=f"{queue}:", app="backend_app:app", lease=LEASE, sync_interval=0.02
    )
    app = backend_app.make_app(url)
    apps.append(app)
    return Client(in_process(app), "Work")


def _worker(server: PersistentRedis, queue: str, log: Path) -> Worker:
    return Worker(server.url(queue=queue, prefix=f"{queue}:", sync_interval=0.02), log)


def test_a_worker_rides_out_an_outage_and_loses_nothing(
    server: PersistentRedis, tmp_path: Path, apps: list[LadonWSGIApplication], gates: Gates
) -> None:
    worker = _worker(server, "ride", tmp_path / "w.log")
    try:
        work = _client(apps, server, "ride")
        ended = work.start("hold", gates=gates.path, name="a", text="held")
        horse = gates.wait_started("a", timeout=15)
        waiting = work.start("square", n=7)  # the one worker is busy: it waits
        server.down()
        started = time.monotonic()
        for method, args in (("square", {"n": 2}), ("hold_progress", {"task_id": ended})):
            fault = work.fault(method, **args)
            assert (fault.code, fault.string) == ("server", UNAVAILABLE)
        assert time.monotonic() - started < 3  # at once, not after a timeout
        gates.release("a")  # the task ends while Redis is away
        time.sleep(LEASE + 1)  # longer than the lease: the worker must not count as lost
        assert worker.proc.poll() is None, worker.output()
        assert pid_alive(horse)  # its task ended; it waits to write the result
        server.up()
        status = work.wait_state("hold", ended, timeout=15)
        assert (status["state"], status["message"]) == ("succeeded", "held"), worker.output()
        assert work.result("hold", ended) == "held"
        assert work.wait_state("square", waiting, timeout=15)["state"] == "succeeded"
        assert work.result("square", waiting) == 49
        assert work.run("square", n=3) == 9  # the same worker serves on
        assert worker.proc.poll() is None
    finally:
        worker.stop()


def test_a_task_that_ended_during_an_outage_is_dated_when_it_ended(
    server: PersistentRedis, tmp_path: Path, apps: list[LadonWSGIApplication], gates: Gates
) -> None:
    worker = _worker(server, "dated", tmp_path / "w.log")
    try:
        work = _client(apps, server, "dated")
        task_id = work.start("hold", gates=gates.path, name="a", text="held")
        gates.wait_started("a", timeout=15)
        server.down()
        ended = time.time()
        gates.release("a")  # the task ends while Redis is away
        time.sleep(1)
        server.up()  # its end is written now (its horse retries 0.1 s, 0.2 s, 0.4 s...)
        status = work.wait_state("hold", task_id, timeout=15)
        assert status["state"] == "succeeded", worker.output()
        finished = status["starttime"] + status["duration"]
        # the end of the job, not the time the end could be written
        assert ended - 0.1 <= finished < ended + 0.5, finished - ended
    finally:
        worker.stop()


def test_sigterm_stops_a_worker_while_redis_is_down(
    server: PersistentRedis, tmp_path: Path, apps: list[LadonWSGIApplication]
) -> None:
    worker = _worker(server, "downstop", tmp_path / "w.log")
    try:
        work = _client(apps, server, "downstop")
        assert work.run("square", n=4) == 16
        server.down()
        time.sleep(1.5)  # it is reconnecting
        stopped = time.monotonic()
        worker.proc.send_signal(signal.SIGTERM)
        worker.proc.wait(10)
        assert time.monotonic() - stopped < 8, worker.output()
    finally:
        if server.proc is None:
            server.up()
        worker.stop()


def test_a_busy_worker_stops_after_its_grace_while_redis_is_down(
    server: PersistentRedis, tmp_path: Path, apps: list[LadonWSGIApplication], gates: Gates
) -> None:
    """SIGTERM during an outage, its task running past the grace: the horse
    is killed at the grace and the worker exits soon after (STOP_WAIT for
    Redis), not once Redis is back; the task is then judged lost by its
    lease."""
    from ladon.tasks._rqworker import STOP_WAIT

    url = server.url(queue="busystop", prefix="busystop:", sync_interval=0.02)
    worker = Worker(url, tmp_path / "w.log", "--grace", "1")
    try:
        work = _client(apps, server, "busystop")
        task_id = work.start("hold", gates=gates.path, name="b", text="never")
        gates.wait_started("b", timeout=15)
        server.down()
        stopped = time.monotonic()
        worker.proc.send_signal(signal.SIGTERM)
        worker.proc.wait(1 + STOP_WAIT + 10)
        assert time.monotonic() - stopped < 1 + STOP_WAIT + 5, worker.output()
        server.up()
        status = work.wait_state("hold", task_id, timeout=LEASE + 15)
        assert (status["state"], status["message"]) == ("failed", "worker lost"), status
    finally:
        if server.proc is None:
            server.up()
        worker.stop()


def test_a_task_that_ended_in_its_grace_during_an_outage_keeps_its_result(
    server: PersistentRedis, tmp_path: Path, apps: list[LadonWSGIApplication], gates: Gates
) -> None:
    """SIGTERM while Redis is away; the task's body ends within the grace,
    its horse waiting for Redis to write the result: the horse is not
    killed at the end of the grace (its result would be lost), the result
    is written once Redis is back, then the worker exits."""
    url = server.url(queue="gracewait", prefix="gracewait:", sync_interval=0.02)
    worker = Worker(url, tmp_path / "w.log", "--grace", "1")
    try:
        work = _client(apps, server, "gracewait")
        task_id = work.start("hold", gates=gates.path, name="g", text="kept")
        gates.wait_started("g", timeout=15)
        server.down()
        worker.proc.send_signal(signal.SIGTERM)
        gates.release("g")  # the body ends within the grace
        time.sleep(2.5)  # past the grace: the horse still waits to write
        assert worker.proc.poll() is None, worker.output()
        server.up()
        status = work.wait_state("hold", task_id, timeout=15)
        assert status["state"] == "succeeded", worker.output()
        assert work.result("hold", task_id) == "kept"
        worker.proc.wait(15)  # then it stops
    finally:
        if server.proc is None:
            server.up()
        worker.stop()


def test_a_job_prepared_while_redis_is_away_is_prepared_once_it_is_back(
    server: PersistentRedis,
) -> None:
    """RQ's bookkeeping before a job runs (in the work horse) meets a Redis
    that does not answer: it is made again once Redis is back, instead of
    RQ failing a job that never began (its task then ended "worker lost"
    after its lease, never run)."""
    import threading

    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry
    from rq import Queue
    from rq.serializers import JSONSerializer

    from ladon.tasks._rqworker import LadonWorker

    # no retries of redis-py's own: the first failure is Ladon's to handle
    connection = redis.Redis(unix_socket_path=server.socket, retry=Retry(NoBackoff(), 0))
    queue = Queue("prepared", connection=connection, serializer=JSONSerializer)
    job = queue.enqueue("json.dumps", 1)
    worker = LadonWorker([queue], connection=connection, serializer=JSONSerializer)
    server.down()
    back = threading.Timer(1.0, server.up)
    back.start()
    try:
        worker.prepare_job_execution(job)  # returns once Redis is back
        assert job.get_status(refresh=True) == "started"
    finally:
        back.join(10)
        if server.proc is None:
            server.up()
        connection.close()


def test_sigterm_stops_a_worker_at_once_after_an_outage(
    server: PersistentRedis, tmp_path: Path, apps: list[LadonWSGIApplication]
) -> None:
    worker = _worker(server, "afterstop", tmp_path / "w.log")
    try:
        work = _client(apps, server, "afterstop")
        assert work.run("square", n=4) == 16
        server.down()
        time.sleep(1.5)
        server.up()
        assert work.run("square", n=5) == 25  # it reconnected
        stopped = time.monotonic()
        worker.proc.send_signal(signal.SIGTERM)
        worker.proc.wait(10)
        assert time.monotonic() - stopped < 5, worker.output()
    finally:
        worker.stop()


def test_a_worker_started_while_redis_is_down_serves_once_it_is_up(
    server: PersistentRedis, tmp_path: Path, apps: list[LadonWSGIApplication]
) -> None:
    server.down()
    worker = _worker(server, "late", tmp_path / "w.log")
    try:
        time.sleep(1.5)
        assert worker.proc.poll() is None, worker.output()  # it waits for Redis
        server.up()
        work = _client(apps, server, "late")
        assert work.run("square", n=6) == 36
    finally:
        if server.proc is None:
            server.up()
        worker.stop()
