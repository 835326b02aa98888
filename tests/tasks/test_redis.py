"""The redis backend with real RQ workers (``ladon worker``) on a real Redis:
what RQ carries, hard stops, killed workers and horses, Redis down, URLs."""

from __future__ import annotations

import json
import os
import signal
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import backend_app
import pytest
import redis

from ladon.cli import main as ladon_main
from ladon.server.wsgi import LadonWSGIApplication
from ladon.tasks import BackendUnavailable
from ladon.tasks import backend_from_url
from ladon.tasks.rqbackend import RedisTaskBackend

from .backend_support import Client
from .backend_support import Gates
from .backend_support import RedisServer
from .backend_support import Worker
from .backend_support import in_process
from .backend_support import pid_alive
from .backend_support import wait_until

LEASE = 1.5
GRACE = 0.5


def _app_url(server: RedisServer, queue: str, **options: object) -> str:
    return server.url(
        queue=queue,
        prefix=f"{queue}:",
        app="backend_app:app",
        lease=LEASE,
        cancel_grace=GRACE,
        sync_interval=0.02,
        **options,
    )


@pytest.fixture
def apps() -> Iterator[list[LadonWSGIApplication]]:
    made: list[LadonWSGIApplication] = []
    yield made
    for app in made:
        app.close()


def _client(apps: list[LadonWSGIApplication], url: str, service: str = "Work") -> Client:
    app = backend_app.make_app(url)
    apps.append(app)
    return Client(in_process(app), service)


@pytest.fixture(scope="module")
def solo(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """One worker on its own queue, for the tests that stop its tasks."""
    log = tmp_path_factory.mktemp("solo") / "worker.log"
    worker = Worker(redis_server.url(queue="solo", prefix="solo:", sync_interval=0.02), log)
    yield worker
    worker.stop()


def test_rq_job_carries_only_where_the_method_is_as_json(
    redis_server: RedisServer, apps: list[LadonWSGIApplication]
) -> None:
    # no worker serves this queue: the job stays queued
    work = _client(apps, _app_url(redis_server, "idle"))
    task_id = work.start("inspect", report={"name": "r", "sizes": [1]}, blob="x", when=1.0)
    r = redis.Redis(unix_socket_path=redis_server.socket)
    try:
        data = r.hget(f"rq:job:{task_id}", "data")
        assert isinstance(data, bytes)
        func, _instance, args, kwargs = json.loads(zlib.decompress(data))
        assert func == "ladon.tasks.worker.run_task"
        assert args == ["backend_app:app", "Work", "inspect", task_id] and not kwargs
        record = r.hgetall(f"idle:task:{task_id}")
        assert json.loads(record[b"args"]) == [{"name": "r", "note": None, "sizes": [1]}, "x", 1.0]
        assert record[b"state"] == b"pending" and r.pttl(f"idle:task:{task_id}") > 0
        assert work.progress("inspect", task_id)["state"] == "pending"
        answer = work.cancel("inspect", task_id)
        assert (answer["state"], answer["progress"], answer["message"]) == (
            "cancelled",
            1.0,
            "cancelled",
        )
        assert 0 < r.pttl(f"idle:task:{task_id}") <= 3600_000
        assert b"args" not in r.hgetall(f"idle:task:{task_id}")  # freed once finished
    finally:
        r.close()


def test_a_task_that_ignores_its_cancel_is_stopped_hard(
    redis_server: RedisServer, solo: Worker, gates: Gates, apps: list[LadonWSGIApplication]
) -> None:
    work = _client(apps, _app_url(redis_server, "solo"))
    task_id = work.start("stubborn", gates=gates.path, name="mule")
    horse = gates.wait_started("mule")
    assert horse != solo.pid
    asked = time.monotonic()
    answer = work.cancel("stubborn", task_id)
    assert (answer["state"], answer["message"]) == ("running", "cancel requested")
    status = work.wait_state("stubborn", task_id, timeout=GRACE + 5)
    assert (status["state"], status["progress"], status["message"]) == (
        "cancelled",
        1.0,
        "cancelled",
    )
    wait_until(lambda: not pid_alive(horse), 5.0, "the horse killed")
    assert time.monotonic() - asked < GRACE + 5
    assert work.run("square", n=4) == 16, solo.output()  # the worker goes on


def test_with_no_cancel_grace_a_running_task_is_stopped_by_the_cancel_itself(
    redis_server: RedisServer, solo: Worker, gates: Gates, apps: list[LadonWSGIApplication]
) -> None:
    url = redis_server.url(
        queue="solo", prefix="solo:", app="backend_app:app", lease=LEASE, cancel_grace=0
    )
    work = _client(apps, url)
    task_id = work.start("stubborn", gates=gates.path, name="mule0")
    horse = gates.wait_started("mule0")
    answer = work.cancel("stubborn", task_id)  # its job stops (is killed) at once
    assert (answer["state"], answer["progress"], answer["message"]) == (
        "cancelled",
        1.0,
        "cancelled",
    )
    wait_until(lambda: not pid_alive(horse), 5.0, "the horse killed")
    assert work.run("square", n=5) == 25, solo.output()


def test_killed_horse_leaves_its_task_failed_worker_lost(
    redis_server: RedisServer, solo: Worker, gates: Gates, apps: list[LadonWSGIApplication]
) -> None:
    work = _client(apps, _app_url(redis_server, "solo"))
    task_id = work.start("hold", gates=gates.path, name="horse", text="never")
    horse = gates.wait_started("horse")
    os.kill(horse, signal.SIGKILL)
    killed = time.monotonic()
    status = work.wait_state("hold", task_id, timeout=LEASE + 5)
    assert time.monotonic() - killed < LEASE + 3
    assert (status["state"], status["progress"]) == ("failed", 1.0)
    assert status["message"] == "worker lost"
    assert work.fault("hold_result", task_id=task_id).string == "The task failed: worker lost"
    assert work.run("square", n=5) == 25, solo.output()


def test_killed_worker_leaves_its_task_failed_worker_lost(
    redis_server: RedisServer, gates: Gates, apps: list[LadonWSGIApplication], tmp_path: Path
) -> None:
    worker = Worker(redis_server.url(queue="doomed", prefix="doomed:"), tmp_path / "w.log")
    try:
        work = _client(apps, _app_url(redis_server, "doomed"))
        task_id = work.start("hold", gates=gates.path, name="victim", text="never")
        horse = gates.wait_started("victim", timeout=15)
        assert work.progress("hold", task_id)["state"] == "running"
        os.kill(worker.pid, signal.SIGKILL)
        killed = time.monotonic()
        status = work.wait_state("hold", task_id, timeout=LEASE + 5)
        assert time.monotonic() - killed < LEASE + 3
        assert (status["state"], status["progress"]) == ("failed", 1.0)
        assert status["message"] == "worker lost"
        assert work.fault("hold_result", task_id=task_id).string == "The task failed: worker lost"
        # the orphaned horse does not go on with a task nobody follows
        wait_until(lambda: not pid_alive(horse), 5.0, "the orphaned horse ended")
    finally:
        worker.stop()


def test_a_worker_runs_only_tasks_of_its_own_application(
    redis_server: RedisServer, solo: Worker, apps: list[LadonWSGIApplication]
) -> None:
    url = _app_url(redis_server, "solo").replace("app=backend_app:app", "app=elsewhere:app")
    work = _client(apps, url)
    task_id = work.start("square", n=2)
    assert work.wait_state("square", task_id)["state"] == "failed"
    fault = work.fault("square_result", task_id=task_id)
    assert fault.string == "The task failed: this worker serves backend_app:app, not elsewhere:app"


def test_redis_down_is_a_server_fault_on_every_call(
    tmp_path: Path, apps: list[LadonWSGIApplication]
) -> None:
    work = _client(apps, f"unix://{tmp_path}/nobody.sock?app=backend_app:app")
    for method, args in (
        ("square", {"n": 1}),
        ("square_progress", {"task_id": "0" * 40}),
        ("square_result", {"task_id": "0" * 40}),
        ("square_cancel", {"task_id": "0" * 40}),
    ):
        fault = work.fault(method, **args)
        assert (fault.code, fault.string) == (
            "server",
            "The task service is unavailable; try again later",
        )
        assert fault.detail == [] and str(tmp_path) not in fault.string


@pytest.mark.parametrize(
    ("iface", "body", "ctype", "status"),
    [
        ("jsonwsp", '{"methodname": "square_progress", "args": {"task_id": "%s"}}', "application/json", 503),
        ("jsonrpc", '{"jsonrpc": "2.0", "method": "square_progress", "params": ["%s"], "id": 1}', "application/json", 503),
        ("xmlrpc", "<methodCall><methodName>square_progress</methodName><params><param><value><string>%s</string></value></param></params></methodCall>", "text/xml", 200),
        ("soap", '<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><square_progress><task_id>%s</task_id></square_progress></e:Body></e:Envelope>', "text/xml", 500),
        ("soap12", '<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><m:square_progress xmlns:m="urn:Work"><m:task_id>%s</m:task_id></m:square_progress></e:Body></e:Envelope>', "application/soap+xml; charset=utf-8", 503),
    ],
    ids=["jsonwsp", "jsonrpc", "xmlrpc", "soap", "soap12"],
)  # fmt: skip
def test_redis_down_is_503_with_retry_after_where_the_protocol_has_statuses(
    tmp_path: Path, apps: list[LadonWSGIApplication], iface: str, body: str, ctype: str, status: int
) -> None:
    """As the OpenAPI document and /_ladon/health/ready say: the store is
    away, try again later (XML-RPC answers every fault 200, SOAP 1.1 its
    faults 500)."""
    from webtest import TestApp

    app = backend_app.make_app(f"unix://{tmp_path}/nobody.sock?app=backend_app:app")
    apps.append(app)
    http = TestApp(app)
    answer = http.post(
        f"/Work/{iface}",
        (body % ("0" * 40)).encode(),
        headers={"Content-Type": ctype},
        expect_errors=True,
    )
    assert answer.status_int == status
    assert b"The task service is unavailable" in answer.body
    if status == 503:
        assert answer.headers["Retry-After"] == "5"
    rest = http.get(f"/Work/http/square/tasks/{'0' * 40}", expect_errors=True)
    assert (rest.status_int, rest.headers.get("Retry-After")) == (503, "5")


def test_backend_calls_raise_backend_unavailable_when_redis_is_down(tmp_path: Path) -> None:
    backend = RedisTaskBackend(f"unix://{tmp_path}/nobody.sock")
    with pytest.raises(BackendUnavailable):
        backend.status("Work.square", "0" * 40)
    backend.close()


@pytest.mark.parametrize(
    ("url", "checks"),
    [
        (
            "redis://localhost:6379/2?app=pkg.wsgi:app&queue=shop&prefix=shop:&result_ttl=60"
            "&lease=10&pending_ttl=600&cancel_grace=0&job_timeout=30&sync_interval=0.5",
            {
                "app": "pkg.wsgi:app",
                "queue_name": "shop",
                "prefix": "shop:",
                "result_ttl": 60.0,
                "lease": 10.0,
                "pending_ttl": 600.0,
                "cancel_grace": 0.0,
                "job_timeout": 30.0,
                "sync_interval": 0.5,
            },
        ),
        ("redis://localhost", {"app": None, "queue_name": "ladon", "prefix": "ladon:"}),
        ("unix:///run/redis.sock?db=1", {"queue_name": "ladon"}),
        ("redis+unix:///run/redis.sock?db=1&socket_timeout=3", {"queue_name": "ladon"}),
        ("rediss://:pw@redis.example:6380/0", {"queue_name": "ladon"}),
    ],
)
def test_redis_urls_and_options(url: str, checks: dict[str, object]) -> None:
    backend = backend_from_url(url)
    try:
        assert isinstance(backend, RedisTaskBackend)
        for name, value in checks.items():
            assert getattr(backend, name) == value, name
    finally:
        backend.close()


@pytest.mark.parametrize(
    "url",
    [
        "redis://:secret@localhost:6379/0?lease=0",
        "redis://:secret@localhost:6379/0?result_ttl=-1",
        "redis://:secret@localhost:6379/0?app=noattr",
        "redis://:secret@localhost:6379/0?colour=blue",
        "redis://:secret@localhost:6379/0?queue=a&queue=b",
        "redis://:secret@localhost:99999/0",
        "unix://relative.sock",
        "redis://:secret@localhost/0#frag",
    ],
)
def test_bad_redis_urls_are_value_errors_without_the_password(url: str) -> None:
    with pytest.raises(ValueError) as info:
        backend_from_url(url)
    assert "secret" not in str(info.value)


def test_worker_command_refuses_what_it_cannot_serve(capsys: pytest.CaptureFixture[str]) -> None:
    assert ladon_main(["worker", "no_such_module_xyz:app"]) == 2
    assert "no_such_module_xyz" in capsys.readouterr().err
    assert ladon_main(["worker", "backend_app:nothing"]) == 2
    assert "has no attribute" in capsys.readouterr().err
    # backend_app:app is on the thread backend here (no LADON_TASKS)
    assert ladon_main(["worker", "backend_app:app"]) == 2
    assert "not Redis" in capsys.readouterr().err


def test_tasks_go_on_after_redis_forgot_the_scripts(
    redis_server: RedisServer, solo: Worker, apps: list[LadonWSGIApplication]
) -> None:
    work = _client(apps, _app_url(redis_server, "solo"))
    assert work.run("square", n=3) == 9
    r = redis.Redis(unix_socket_path=redis_server.socket)
    try:
        r.script_flush()  # as after a restart of Redis
    finally:
        r.close()
    assert work.run("square", n=4) == 16, solo.output()


def test_a_simple_worker_runs_tasks_and_honours_cancels(
    redis_server: RedisServer, gates: Gates, apps: list[LadonWSGIApplication], tmp_path: Path
) -> None:
    url = redis_server.url(queue="simple", prefix="simple:", sync_interval=0.02)
    worker = Worker(url, tmp_path / "w.log", "--simple")
    try:
        work = _client(apps, _app_url(redis_server, "simple"))
        assert work.run("report", name="s", count=2) == {"name": "s", "sizes": [0, 1], "note": None}
        task_id = work.start("cooperative", gates=gates.path, name="c")
        assert gates.wait_started("c", timeout=15) == worker.pid  # no work horse
        work.cancel("cooperative", task_id)
        assert work.wait_state("cooperative", task_id)["state"] == "cancelled"
        task_id = work.start("stubborn", gates=gates.path, name="mule")
        gates.wait_started("mule")
        work.cancel("stubborn", task_id)
        # it cannot be killed in the worker's own process: the record ends
        # cancelled, the task runs on until it returns
        status = work.wait_state("stubborn", task_id, timeout=GRACE + 5)
        assert (status["state"], status["message"]) == ("cancelled", "cancelled")
        assert pid_alive(worker.pid)
        gates.release("mule")
        assert work.run("square", n=6) == 36, worker.output()
    finally:
        worker.stop()
