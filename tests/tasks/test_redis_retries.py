"""Retries on the redis backend, with real ``ladon worker`` processes on a
real Redis: the RQ job carries RQ's own ``Retry``; a task whose work horse
is SIGKILLed, whose worker is SIGKILLed, or whose whole host vanishes (both
frozen then killed) runs again on another worker, as its next attempt; a
pending task fails when no worker is alive on its queue; a worker stopped
with SIGTERM gives its task up after its grace."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import backend_app
import pytest
from rq.job import Job
from rq.serializers import JSONSerializer

from ladon.server.wsgi import LadonWSGIApplication
from ladon.tasks._scripts import WORKERS_BACK

from .backend_support import Client
from .backend_support import Gates
from .backend_support import RedisServer
from .backend_support import Worker
from .backend_support import child_pids
from .backend_support import in_process
from .backend_support import pid_alive
from .backend_support import wait_until

LEASE = 1.5


def _url(server: RedisServer, queue: str, **options: object) -> str:
    return server.url(
        queue=queue,
        prefix=f"{queue}:",
        app="backend_app:app",
        lease=LEASE,
        sync_interval=0.02,
        **options,
    )


def _client(apps: list[LadonWSGIApplication], url: str) -> Client:
    app = backend_app.make_app(url)
    apps.append(app)
    return Client(in_process(app), "Retrying")


@pytest.fixture
def pair(redis_server: RedisServer, tmp_path: Path) -> Iterator[list[Worker]]:
    """Two workers on a queue of their own (a test may kill one)."""
    url = redis_server.url(queue="again", prefix="again:", sync_interval=0.02)
    workers = [Worker(url, tmp_path / f"worker-{i}.log", "--grace", "1") for i in range(2)]
    yield workers
    for worker in workers:
        worker.stop()


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        return int(f.read().split(")")[-1].split()[1])


def test_the_rq_job_of_a_task_with_retries_carries_rqs_own_retry(
    redis_server: RedisServer, apps: list[LadonWSGIApplication], gates: Gates
) -> None:
    work = _client(apps, _url(redis_server, "inspect"))  # no worker serves it
    connection = apps[0].task_backend().client  # type: ignore[attr-defined]
    sleepy = work.start("sleepy", gates=gates.path, name="s")  # retries 3, retry_delay 30
    job = Job.fetch(sleepy, connection=connection, serializer=JSONSerializer)
    assert job.retries_left == 3
    # 30, 60, 120 s: RQ keeps whole seconds, rounded down: one more, never early
    assert job.retry_intervals == [31, 61, 121]
    once = work.start("once", gates=gates.path, name="o")  # no retries
    assert Job.fetch(once, connection=connection, serializer=JSONSerializer).retries_left is None


def test_a_lost_task_waiting_for_its_re_run_says_when_rq_runs_it(
    redis_server: RedisServer, apps: list[LadonWSGIApplication], gates: Gates
) -> None:
    work = _client(apps, _url(redis_server, "inspect"))  # no worker serves it
    backend = apps[0].task_backend()
    sleepy = work.start("sleepy", gates=gates.path, name="s")  # retries 3, retry_delay 30
    backend.client.hset(backend.key(sleepy), "state", "running")  # type: ignore[attr-defined]
    assert backend.lose(sleepy, "gone") == 2  # type: ignore[attr-defined]
    status = work.progress("sleepy", sleepy)
    # RQ's retry waits 31 s (its first interval, above), not 30
    assert (status["state"], status["message"]) == (
        "pending",
        "attempt 2 of 4 starts in 31 s; attempt 1: worker lost",
    )


def test_a_task_whose_work_horse_is_killed_runs_again(
    redis_server: RedisServer, pair: list[Worker], apps: list[LadonWSGIApplication], gates: Gates
) -> None:
    work = _client(apps, _url(redis_server, "again"))
    task_id = work.start("survivor", gates=gates.path, name="v")
    horse = gates.wait_started("v", timeout=15)
    os.kill(horse, signal.SIGKILL)
    status = work.wait_state("survivor", task_id, timeout=10)
    assert (status["state"], status["message"]) == ("succeeded", "attempt 2 of 2")
    assert work.result("survivor", task_id) == "attempt 2"
    (first, _, _), (second, rerun, _) = gates.runs("v")
    assert (first, second) == (1, 2) and rerun != horse


def test_a_task_whose_worker_is_killed_runs_again_on_another(
    redis_server: RedisServer, pair: list[Worker], apps: list[LadonWSGIApplication], gates: Gates
) -> None:
    work = _client(apps, _url(redis_server, "again"))
    task_id = work.start("survivor", gates=gates.path, name="v")
    horse = gates.wait_started("v", timeout=15)
    worker = _parent(horse)
    assert worker in {w.pid for w in pair}
    os.kill(worker, signal.SIGKILL)  # the horse, orphaned, gives the task back
    status = work.wait_state("survivor", task_id, timeout=10)
    assert (status["state"], status["message"]) == ("succeeded", "attempt 2 of 2")
    wait_until(lambda: not pid_alive(horse), 5.0, "the orphaned horse ended")
    (_, _, _), (second, rerun, _) = gates.runs("v")
    assert second == 2 and rerun != horse


def test_a_vanished_host_is_noticed_by_its_lease_and_its_task_runs_again(
    redis_server: RedisServer, pair: list[Worker], apps: list[LadonWSGIApplication], gates: Gates
) -> None:
    work = _client(apps, _url(redis_server, "again"))
    task_id = work.start("survivor", gates=gates.path, name="v")
    horse = gates.wait_started("v", timeout=15)
    worker = _parent(horse)
    for pid in (worker, horse):  # frozen at once, then gone: nobody can react
        os.kill(pid, signal.SIGSTOP)
    for pid in (worker, horse):
        os.kill(pid, signal.SIGKILL)
    lost = time.monotonic()
    assert work.progress("survivor", task_id)["state"] == "running"  # until its lease ends
    status = work.wait_state("survivor", task_id, timeout=LEASE + 10)
    assert (status["state"], status["message"]) == ("succeeded", "attempt 2 of 2")
    assert time.monotonic() - lost >= LEASE - 0.2
    assert [a for a, _, _ in gates.runs("v")] == [1, 2]


def test_a_task_without_retries_whose_horse_is_killed_is_not_run_again(
    redis_server: RedisServer, pair: list[Worker], apps: list[LadonWSGIApplication], gates: Gates
) -> None:
    work = _client(apps, _url(redis_server, "again"))
    task_id = work.start("mortal", gates=gates.path, name="m")
    horse = gates.wait_started("m", timeout=15)
    os.kill(horse, signal.SIGKILL)
    status = work.wait_state("mortal", task_id, timeout=10)
    assert (status["state"], status["message"]) == ("failed", "worker lost")
    time.sleep(0.5)
    assert [a for a, _, _ in gates.runs("m")] == [1]


def test_a_pending_task_fails_when_no_worker_is_alive_on_its_queue(
    redis_server: RedisServer, apps: list[LadonWSGIApplication], gates: Gates
) -> None:
    work = _client(apps, _url(redis_server, "deserted", no_worker_timeout=1))
    task_id = work.start("mortal", gates=gates.path, name="m")
    assert work.progress("mortal", task_id)["state"] == "pending"
    # (judged once Redis has run WORKERS_BACK seconds: a fresh server waits)
    status = work.wait_state("mortal", task_id, timeout=5 + WORKERS_BACK)
    assert (status["state"], status["message"]) == (
        "failed",
        "no live worker on its queue for 1 s",
    )
    fault = work.fault("mortal_result", task_id=task_id)
    assert fault.string == "The task failed: no live worker on its queue for 1 s"


def test_no_task_fails_for_want_of_workers_just_after_redis_started(
    tmp_path: Path, apps: list[LadonWSGIApplication], gates: Gates
) -> None:
    """After an outage longer than ``no_worker_timeout`` the workers' last
    beats are old: a Redis that has just started leaves its pending tasks
    alone until its live workers have had the time to beat again (a
    restarted Redis failed every task read first: "no live worker")."""
    server = RedisServer()
    try:
        work = _client(apps, _url(server, "restarted", no_worker_timeout=0.5))
        task_id = work.start("mortal", gates=gates.path, name="m")
        time.sleep(1.5)  # three no_worker_timeouts, no worker ever
        assert work.progress("mortal", task_id)["state"] == "pending"
    finally:
        server.stop()


def test_a_waiting_task_is_kept_while_a_worker_is_alive(
    redis_server: RedisServer, tmp_path: Path, apps: list[LadonWSGIApplication], gates: Gates
) -> None:
    url = redis_server.url(queue="busy", prefix="busy:", sync_interval=0.02)
    worker = Worker(url, tmp_path / "w.log")
    try:
        work = _client(apps, _url(redis_server, "busy", no_worker_timeout=1))
        running = work.start("mortal", gates=gates.path, name="m")
        gates.wait_started("m", timeout=15)
        waiting = work.start("mortal", gates=gates.path, name="n")  # the one worker is busy
        time.sleep(2.5)
        assert work.progress("mortal", waiting)["state"] == "pending"  # the worker beats
        gates.release("m")
        gates.release("n")
        assert work.wait_state("mortal", running)["state"] == "succeeded"
        assert work.wait_state("mortal", waiting)["state"] == "succeeded"
    finally:
        worker.stop()


def test_sigterm_gives_a_running_task_its_grace_then_fails_it_worker_stopped(
    redis_server: RedisServer, tmp_path: Path, apps: list[LadonWSGIApplication], gates: Gates
) -> None:
    url = redis_server.url(queue="grace", prefix="grace:", sync_interval=0.02)
    worker = Worker(url, tmp_path / "w.log", "--grace", "1")
    try:
        work = _client(apps, _url(redis_server, "grace"))
        task_id = work.start("mortal", gates=gates.path, name="m")
        horse = gates.wait_started("m", timeout=15)
        stopped = time.monotonic()
        worker.proc.send_signal(signal.SIGTERM)
        worker.proc.wait(10)
        assert 1 <= time.monotonic() - stopped < 8, worker.output()
        assert not pid_alive(horse)
        status = work.wait_state("mortal", task_id, timeout=5)
        assert (status["state"], status["message"]) == ("failed", "worker stopped")
    finally:
        worker.stop()


def test_sigterm_hands_a_task_with_retries_to_another_worker(
    redis_server: RedisServer, tmp_path: Path, apps: list[LadonWSGIApplication], gates: Gates
) -> None:
    url = redis_server.url(queue="handover", prefix="handover:", sync_interval=0.02)
    leaving = Worker(url, tmp_path / "leaving.log", "--grace", "0.5")
    staying: Worker | None = None
    try:
        work = _client(apps, _url(redis_server, "handover"))
        task_id = work.start("survivor", gates=gates.path, name="v")
        horse = gates.wait_started("v", timeout=15)
        staying = Worker(url, tmp_path / "staying.log")
        time.sleep(1)  # it is up and waits for tasks
        leaving.proc.send_signal(signal.SIGTERM)
        leaving.proc.wait(10)
        status = work.wait_state("survivor", task_id, timeout=10)
        assert (status["state"], status["message"]) == ("succeeded", "attempt 2 of 2")
        (_, _, _), (second, rerun, _) = gates.runs("v")
        assert second == 2 and rerun != horse
        assert task_id in staying.output()  # the other worker ran it
    finally:
        leaving.stop()
        if staying is not None:
            staying.stop()


def test_a_simple_worker_runs_a_task_again_too(
    redis_server: RedisServer, tmp_path: Path, apps: list[LadonWSGIApplication], gates: Gates
) -> None:
    url = redis_server.url(queue="simple-again", prefix="simple-again:", sync_interval=0.02)
    worker = Worker(url, tmp_path / "w.log", "--simple")
    try:
        work = _client(apps, _url(redis_server, "simple-again"))
        task_id = work.start("flaky", gates=gates.path, name="f", failures=2)
        status = work.wait_state("flaky", task_id, timeout=15)
        assert (status["state"], status["message"]) == ("succeeded", "attempt 3 of 3: working")
        assert [a for a, _, _ in gates.runs("f")] == [1, 2, 3]
        assert {pid for _, pid, _ in gates.runs("f")} == {worker.pid}  # in the worker itself
    finally:
        worker.stop()


def test_a_killed_worker_takes_its_scheduler_along_and_frees_the_lock(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    import redis

    client = redis.Redis(unix_socket_path=redis_server.socket)
    lock = "rq:scheduler-lock:orphan"  # RQ's scheduler lock of the queue
    url = redis_server.url(queue="orphan", prefix="orphan:", sync_interval=0.02)
    first = Worker(url, tmp_path / "first.log")
    second: Worker | None = None
    scheduler = 0
    try:
        # the worker forks RQ's scheduler (its one child while idle), which takes the lock
        wait_until(lambda: child_pids(first.pid) and client.get(lock), 15, "a scheduler")
        (scheduler,) = child_pids(first.pid)
        held = client.get(lock)
        os.kill(first.pid, signal.SIGKILL)
        first.proc.wait(5)
        killed = time.monotonic()
        wait_until(lambda: not pid_alive(scheduler), 5, "the orphaned scheduler ended")
        wait_until(lambda: client.get(lock) != held, 3, "the scheduler lock released")
        assert time.monotonic() - killed < 4
        second = Worker(url, tmp_path / "second.log")
        wait_until(lambda: child_pids(second.pid) and client.get(lock), 15, "a new scheduler")
        assert client.get(lock) not in (None, held)  # the new worker's scheduler holds it
    finally:
        if scheduler and pid_alive(scheduler):  # left behind (the defect): not for ever
            os.kill(scheduler, signal.SIGKILL)
        first.stop()
        if second is not None:
            second.stop()
        client.close()


def test_a_task_whose_worker_is_killed_calls_back_from_its_orphaned_horse(
    redis_server: RedisServer, apps: list[LadonWSGIApplication], gates: Gates, tmp_path: Path
) -> None:
    """The horse gives its task up as "worker lost" and, before it exits,
    sends the callback that this made due (it claimed it: nobody else
    would)."""
    from .receiver import SECRET
    from .receiver import Receiver

    callbacks = {
        "LADON_CALLBACK_HOSTS": "127.0.0.1",
        "LADON_CALLBACK_NETWORKS": "127.0.0.1/32",
        "LADON_CALLBACK_SECRET": SECRET,
    }
    url = _url(redis_server, "orphan")
    worker = Worker(url, tmp_path / "orphan.log", "--grace", "1", env=callbacks)
    receiver = Receiver()
    try:
        app = backend_app.make_app(
            url,
            callback_hosts=["127.0.0.1"],
            callback_networks=["127.0.0.1/32"],
            callback_secret=SECRET,
        )
        apps.append(app)
        hook = {"Ladon-Callback-URL": receiver.url("/orphan")}
        work = Client(in_process(app, hook), "Retrying")
        task_id = work.start("mortal", gates=gates.path, name="k")
        horse = gates.wait_started("k", timeout=15)
        assert _parent(horse) == worker.pid
        os.kill(worker.pid, signal.SIGKILL)
        (got,) = receiver.received(1, timeout=10, path="/orphan")
        assert got.verified()
        body = json.loads(got.body)
        assert (body["task_id"], body["state"], body["message"]) == (
            task_id,
            "failed",
            "worker lost",
        )
        wait_until(lambda: not pid_alive(horse), 10.0, "the orphaned horse ended")
        status = work.progress("mortal", task_id)
        assert status["message"] == "worker lost; callback delivered (HTTP 200)", status
    finally:
        receiver.stop()
        worker.stop()
