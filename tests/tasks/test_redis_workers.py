"""``ladon worker`` processes among themselves, on a real Redis: RQ's
scheduler lock passes to another worker within a second or two when its
holder stops, so delayed re-runs go on; an idle worker waits for tasks
without timing out on its own blocking reads; a worker killed with SIGKILL
restarts at once under its ``--name``, and a name still in use is refused
with one line."""

from __future__ import annotations

import datetime
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import backend_app
import pytest
import redis

from ladon.server.wsgi import LadonWSGIApplication
from ladon.tasks._rqworker import process_alive

from .backend_support import Client
from .backend_support import Gates
from .backend_support import RedisServer
from .backend_support import Worker
from .backend_support import child_pids
from .backend_support import in_process
from .backend_support import wait_until


@pytest.fixture
def client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    connection = redis.Redis(unix_socket_path=redis_server.socket)
    yield connection
    connection.close()


def _url(server: RedisServer, queue: str, **options: object) -> str:
    return server.url(queue=queue, prefix=f"{queue}:", sync_interval=0.02, **options)


def _tasks(apps: list[LadonWSGIApplication], url: str, service: str) -> Client:
    app = backend_app.make_app(url)
    apps.append(app)
    return Client(in_process(app), service)


def _idle(client: redis.Redis, queue: str) -> int:
    """The workers of ``queue`` that RQ says wait for tasks."""
    keys = client.smembers(f"rq:workers:{queue}")
    return sum(client.hget(key, "state") == b"idle" for key in keys)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_a_delayed_re_run_goes_on_when_the_scheduler_lock_holder_stops(
    redis_server: RedisServer,
    client: redis.Redis,
    tmp_path: Path,
    apps: list[LadonWSGIApplication],
    gates: Gates,
    sig: signal.Signals,
) -> None:
    queue = f"handoff-{sig.name.lower()}"
    lock = f"rq:scheduler-lock:{queue}"
    url = _url(redis_server, queue)
    workers = [Worker(url, tmp_path / f"w{i}.log") for i in range(2)]
    try:
        # both wait for tasks; the holder forked RQ's scheduler: while idle, its one child
        wait_until(lambda: _idle(client, queue) == 2, 15, "two idle workers")
        wait_until(lambda: client.get(lock) and any(child_pids(w.pid) for w in workers), 5)
        (holder,) = [w for w in workers if child_pids(w.pid)]
        (other,) = [w for w in workers if w is not holder]
        held = client.get(lock)
        holder.proc.send_signal(sig)
        holder.proc.wait(10)
        if sig == signal.SIGTERM:  # released before the worker exited (maybe taken since)
            assert client.get(lock) != held
        retrying = _tasks(apps, url + "&app=backend_app:app", "Retrying")
        started = time.monotonic()
        task_id = retrying.start("brief", gates=gates.path, name="b")  # Retry, retry_delay 0.2
        status = retrying.wait_state("brief", task_id, timeout=6)
        took = time.monotonic() - started
        assert (status["state"], retrying.result("brief", task_id)) == ("succeeded", "attempt 2")
        # RQ waits the delay rounded up plus one (2 s); its scheduler looks every second
        assert took < 4, (took, other.output())
        assert [a for a, _, _ in gates.runs("b")] == [1, 2]
        assert child_pids(other.pid)  # the other worker runs the scheduler now
    finally:
        for worker in workers:
            worker.stop()


def test_an_idle_worker_waits_without_read_timeouts_and_takes_a_task_at_once(
    redis_server: RedisServer, tmp_path: Path, apps: list[LadonWSGIApplication]
) -> None:
    # NOTE: a 2 s socket timeout in the URL (the default is 10 s) shows in
    # seconds what the default showed every 10-15 s: RQ's blocking read of
    # its queue outlived the socket timeout, was logged as a lost Redis and
    # slept in a back-off.
    url = _url(redis_server, "idle", socket_timeout=2)
    worker = Worker(url, tmp_path / "w.log")
    try:
        work = _tasks(apps, url + "&app=backend_app:app", "Work")
        assert work.run("square", n=2) == 4  # it is up
        time.sleep(6)
        started = time.monotonic()
        assert work.run("square", n=3) == 9
        assert time.monotonic() - started < 0.5
        log = worker.output()
        assert "Timeout" not in log and "could not connect" not in log, log
        assert worker.proc.poll() is None
    finally:
        worker.stop()


def test_a_killed_named_worker_restarts_at_once_under_its_name(
    redis_server: RedisServer,
    client: redis.Redis,
    tmp_path: Path,
    apps: list[LadonWSGIApplication],
) -> None:
    name = f"lazarus-{os.getpid()}"
    url = _url(redis_server, "lazarus")
    first = Worker(url, tmp_path / "first.log", "--name", name)
    again: Worker | None = None
    try:
        wait_until(lambda: client.exists(f"rq:worker:{name}"), 15, "the worker registered")
        os.kill(first.pid, signal.SIGKILL)
        first.proc.wait(5)
        again = Worker(url, tmp_path / "again.log", "--name", name)
        work = _tasks(apps, url + "&app=backend_app:app", "Work")
        assert work.run("square", n=5) == 25, again.output()
        assert again.proc.poll() is None
        assert "Traceback" not in again.output()
        assert client.hget(f"rq:worker:{name}", "pid") == str(again.pid).encode()
    finally:
        first.stop()
        if again is not None:
            again.stop()


def test_a_name_in_use_is_refused_in_one_line(
    redis_server: RedisServer, client: redis.Redis, tmp_path: Path
) -> None:
    name = f"twin-{os.getpid()}"
    url = _url(redis_server, "twins")
    first = Worker(url, tmp_path / "first.log", "--name", name)
    second: Worker | None = None
    try:
        wait_until(lambda: client.exists(f"rq:worker:{name}"), 15, "the worker registered")
        second = Worker(url, tmp_path / "second.log", "--name", name)
        assert second.proc.wait(15) == 2
        out = second.output()
        assert "Traceback" not in out, out
        refusal = [line for line in out.splitlines() if line.startswith("ladon worker: a ")]
        assert refusal == [
            f"ladon worker: a worker named {name!r} is running already"
            f" (pid {first.pid} on {socket.gethostname()})"
        ], out
        assert first.proc.poll() is None
        assert client.hget(f"rq:worker:{name}", "pid") == str(first.pid).encode()
        assert client.zscore("twins:workers:twins", name) is not None  # its beat is kept
    finally:
        if second is not None:
            second.stop()
        first.stop()


def test_a_name_left_as_a_bare_heartbeat_is_taken_at_once(
    redis_server: RedisServer, client: redis.Redis, tmp_path: Path, apps: list[LadonWSGIApplication]
) -> None:
    """After Redis restarted empty, RQ's heartbeat of a worker that then
    stopped leaves a hash holding nothing but ``last_heartbeat``: judged by
    the worker beats on the queue (none), the name is free at once, not
    after RQ's 90 s (and no "pid  on " is ever printed)."""
    name = f"husk-{os.getpid()}"
    url = _url(redis_server, "husks")
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    client.hset(f"rq:worker:{name}", "last_heartbeat", stamp)
    again = Worker(url, tmp_path / "again.log", "--name", name)
    try:
        work = _tasks(apps, url + "&app=backend_app:app", "Work")
        assert work.run("square", n=6) == 36, again.output()
        assert again.proc.poll() is None
        assert client.hget(f"rq:worker:{name}", "pid") == str(again.pid).encode()
    finally:
        again.stop()


def test_process_alive_tells_a_gone_or_reused_pid() -> None:
    assert process_alive(os.getpid())
    assert process_alive(os.getpid(), born=time.time())  # registered after it started
    assert not process_alive(os.getpid(), born=time.time() - 10 * 86400)  # a pid reused
    child = subprocess.Popen([sys.executable, "-c", ""])
    wait_until(lambda: not process_alive(child.pid), 10, "the child a zombie")  # not reaped
    child.wait()
    assert not process_alive(child.pid)
