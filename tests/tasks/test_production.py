"""Tasks you can trust in production (issue 14), one behavioural suite over
every backend: thread, sqlite and redis (real ``ladon worker`` processes on
a real Redis).

* idempotent starts: one ``Idempotency-Key``, one task, one run;
* ``<task>_wait``: answered when the task ends (woken by the end itself,
  not by reading the store now and then: the safety-net re-read is pushed
  to a minute here), on time-out, capped, with a bounded number of waiters;
* completion callbacks to a real HTTP receiver on 127.0.0.1: one signed
  POST, retries after 500s, refused URLs, sent by whichever process ended
  the task (another process on the SQLite file, an RQ worker).

The application is ``tests/services/backend_app`` (its ``Ops`` service);
side effects are counted in ledger files, since on redis (and for the peer
process on sqlite) tasks run in other processes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import subprocess
import sys
import threading
import time
import xmlrpc.client
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import cast

import backend_app
import pytest
from production_tasks import runs
from webtest import TestApp

from ladon.auth import BasicAuth
from ladon.ladonizer.access import Principal
from ladon.server.wsgi import LadonWSGIApplication
from ladon.tasks import waiting

from .backend_support import TESTS_DIR
from .backend_support import Gates
from .backend_support import RedisServer
from .backend_support import Worker
from .backend_support import child_env
from .backend_support import redis_idle
from .backend_support import wait_until
from .receiver import SECRET
from .receiver import Receiver
from .test_gunicorn_callbacks import set_callback

BACKENDS = ["thread", "sqlite", "redis"]
QUEUE = {"queue": "prod", "prefix": "prod:"}
#: What the suite's RQ workers (and the peer process) send callbacks with.
CALLBACK_ENV = {
    "LADON_CALLBACK_HOSTS": "127.0.0.1",
    "LADON_CALLBACK_NETWORKS": "127.0.0.1/32",
    "LADON_CALLBACK_SECRET": SECRET,
}
CALLBACKS = {
    "callback_hosts": ["127.0.0.1"],
    "callback_networks": ["127.0.0.1/32"],
    "callback_secret": SECRET,
    "callback_backoff": 0.05,
}


@dataclass
class Store:
    name: str
    url: Callable[[float], str]


@pytest.fixture(scope="module")
def prod_workers(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Worker]]:
    """Two ``ladon worker`` processes on the suite's queue, configured to
    send callbacks (``LADON_CALLBACK_*``)."""
    logs = tmp_path_factory.mktemp("prod-workers")
    url = redis_server.url(**QUEUE, sync_interval=0.02)
    workers = [Worker(url, logs / f"worker-{i}.log", env=CALLBACK_ENV) for i in range(2)]
    yield workers
    for worker in workers:
        worker.stop()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    name: str = request.param
    if name == "thread":
        yield Store(name, lambda ttl: f"thread://?max_workers=4&result_ttl={ttl}")
    elif name == "sqlite":
        db = tmp_path / "tasks.db"
        yield Store(
            name,
            lambda ttl: (
                f"sqlite://{db}?max_workers=4&lease=2&heartbeat=0.2"
                f"&sync_interval=0.02&result_ttl={ttl}"
            ),
        )
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        request.getfixturevalue("prod_workers")
        yield Store(
            name,
            lambda ttl: server.url(
                **QUEUE, app="backend_app:app", lease=2, sync_interval=0.02, result_ttl=ttl
            ),
        )
        redis_idle(server, QUEUE["prefix"])


@pytest.fixture
def ledger(tmp_path: Path) -> str:
    return str(tmp_path / "ledger.txt")


MakeApp = Callable[..., LadonWSGIApplication]


@pytest.fixture
def make(store: Store, gates: Gates) -> Iterator[MakeApp]:
    made: list[LadonWSGIApplication] = []

    def build(result_ttl: float = 60.0, **options: Any) -> LadonWSGIApplication:
        app = backend_app.make_app(store.url(result_ttl), **{**CALLBACKS, **options})
        made.append(app)
        return app

    yield build
    gates.release_all()
    for app in made:
        app.close()


class Fault(Exception):
    def __init__(self, status: int, fault: dict[str, Any]) -> None:
        super().__init__(fault["string"])
        self.status = status
        self.code: str = fault["code"]
        self.string: str = fault["string"]


class Ops:
    """JSON-WSP calls of the ``Ops`` service, with request headers."""

    def __init__(self, app: LadonWSGIApplication, headers: dict[str, str] | None = None) -> None:
        self.app = app
        self.http = TestApp(app)
        self.headers = headers or {}

    def __call__(self, method: str, headers: dict[str, str] | None = None, **args: Any) -> Any:
        answer = self.http.post_json(
            "/Ops/jsonwsp",
            {"methodname": method, "args": args},
            headers={**self.headers, **(headers or {})},
            expect_errors=True,
        )
        body = answer.json
        if body["type"] == "jsonwsp/fault":
            raise Fault(answer.status_int, body["fault"])
        assert answer.status_int == 200
        return body["result"]

    def start(self, method: str, headers: dict[str, str] | None = None, **args: Any) -> str:
        task_id: str = self(method, headers, **args)["task_id"]
        return task_id

    def fault(self, method: str, headers: dict[str, str] | None = None, **args: Any) -> Fault:
        with pytest.raises(Fault) as info:
            self(method, headers, **args)
        return info.value

    def ended(self, method: str, task_id: str, timeout: float = 10.0) -> dict[str, Any]:
        status: dict[str, Any] = self(f"{method}_wait", task_id=task_id, timeout=timeout)
        assert status["state"] in ("succeeded", "failed", "cancelled"), status
        return status


@pytest.fixture
def ops(make: MakeApp) -> Ops:
    return Ops(make())


def key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


# -- idempotent starts ------------------------------------------------------------------


def test_a_start_repeated_with_its_key_is_one_task_run_once(
    ops: Ops, gates: Gates, ledger: str
) -> None:
    args = {"ledger": ledger, "label": "clone", "gates": gates.path, "gate": "g"}
    first = ops.start("count", key("clone-vm-7"), **args)
    again = [ops.start("count", key("clone-vm-7"), **args) for _ in range(3)]
    assert again == [first] * 3
    gates.wait_started("g")
    assert ops.start("count", key("clone-vm-7"), **args) == first  # while it runs
    gates.release("g")
    assert ops.ended("count", first)["state"] == "succeeded"
    # and once it has ended, for as long as it is kept
    assert ops.start("count", key("clone-vm-7"), **args) == first
    assert ops("count_result", task_id=first) == "clone"
    assert len(runs(ledger)) == 1


def test_the_same_key_with_other_arguments_is_a_client_fault(ops: Ops, ledger: str) -> None:
    first = ops.start("count", key("k-1"), ledger=ledger, label="a")
    fault = ops.fault("count", key("k-1"), ledger=ledger, label="b")
    assert fault.code == "client" and fault.status == 422
    assert "already started a task with other arguments" in fault.string
    assert ops.ended("count", first)["state"] == "succeeded"
    assert runs(ledger) == [runs(ledger)[0]] and runs(ledger)[0].startswith("a ")
    # the same arguments written differently are the same call (defaults given)
    again = ops.start("count", key("k-1"), ledger=ledger, label="a", gates="", gate="")
    assert again == first


def test_a_run_that_changes_its_arguments_keeps_its_key(ops: Ops, ledger: str) -> None:
    """The fingerprint is of the arguments as sent: a list argument is
    fingerprinted before the task runs (and changes it)."""
    first = ops.start("tally", key("t-1"), ledger=ledger, numbers=[1, 2])
    assert ops.ended("tally", first)["state"] == "succeeded"
    assert ops("tally_result", task_id=first) == 3
    assert ops.start("tally", key("t-1"), ledger=ledger, numbers=[1, 2]) == first
    fault = ops.fault("tally", key("t-1"), ledger=ledger, numbers=[1, 2, -3])
    assert fault.status == 422
    assert runs(ledger) == [runs(ledger)[0]]


def test_the_last_message_of_a_task_is_kept(ops: Ops) -> None:
    """Reports come quicker than a shared store is written: the end writes
    the last one (it was dropped on SQLite and Redis)."""
    task_id = ops.start("chatter", steps=50)
    status = ops.ended("chatter", task_id)
    assert status["state"] == "succeeded"
    assert status["message"] == "step 50 of 50"


def test_keys_are_per_method_and_starts_without_one_are_new_tasks(
    ops: Ops, gates: Gates, ledger: str
) -> None:
    counted = ops.start("count", key("shared"), ledger=ledger, label="x")
    gates.release("e")
    timed = ops.start("ends_at", key("shared"), gates=gates.path, gate="e")
    assert counted != timed
    plain = {ops.start("count", ledger=ledger, label="x") for _ in range(2)}
    assert len(plain) == 2 and counted not in plain
    for task_id in (counted, *plain):
        ops.ended("count", task_id)
    assert len(runs(ledger)) == 3


def test_concurrent_duplicates_start_the_method_once(make: MakeApp, ledger: str) -> None:
    app = make()
    barrier = threading.Barrier(16)

    def start(_: int) -> str:
        client = Ops(app)
        barrier.wait(5)
        return client.start("count", key("burst"), ledger=ledger, label="burst")

    with_threads = run_threads(start, 16)
    assert len(set(with_threads)) == 1
    Ops(app).ended("count", with_threads[0])
    assert len(runs(ledger)) == 1


def test_a_key_belongs_to_the_principal_that_sent_it(make: MakeApp, ledger: str) -> None:
    def verify(user: str, password: str) -> Principal | None:
        return Principal(user) if password == "pw" else None

    app = make(auth=[BasicAuth(verify)])
    ann = Ops(app, {"Authorization": "Basic " + _basic("ann")})
    bob = Ops(app, {"Authorization": "Basic " + _basic("bob")})
    a = ann.start("count", key("same"), ledger=ledger, label="x")
    b = bob.start("count", key("same"), ledger=ledger, label="x")
    assert a != b
    assert ann.start("count", key("same"), ledger=ledger, label="x") == a
    assert bob.start("count", key("same"), ledger=ledger, label="x") == b
    for client, task_id in ((ann, a), (bob, b)):
        client.ended("count", task_id)
    # another principal's task is unknown to _wait, as to _progress
    fault = bob.fault("count_wait", task_id=a, timeout=1)
    assert fault.code == "client" and "Unknown task" in fault.string
    assert len(runs(ledger)) == 2


def _basic(user: str) -> str:
    import base64

    return base64.b64encode(f"{user}:pw".encode()).decode()


def run_threads(fn: Callable[[int], str], count: int) -> list[str]:
    results: list[str] = [""] * count
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            results[i] = fn(i)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    return results


# -- waiting -------------------------------------------------------------------------------


@pytest.fixture
def event_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Waiting calls re-read their task once a minute only: what wakes them
    within a test is the task's end itself."""
    monkeypatch.setattr(waiting, "RECHECK_INTERVAL", 60.0)


class Waiting:
    """A ``_wait`` call in a thread: its answer and when it came."""

    def __init__(self, ops: Ops, method: str, task_id: str, timeout: float) -> None:
        self.answer: Any = None
        self.error: BaseException | None = None
        self.at = 0.0
        self.thread = threading.Thread(target=self._run, args=(ops, method, task_id, timeout))
        self.thread.start()

    def _run(self, ops: Ops, method: str, task_id: str, timeout: float) -> None:
        try:
            self.answer = Ops(ops.app, ops.headers)(
                f"{method}_wait", task_id=task_id, timeout=timeout
            )
        except BaseException as exc:
            self.error = exc
        self.at = time.time()

    def result(self, timeout: float = 30.0) -> Any:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the wait did not return"
        if self.error is not None:
            raise self.error
        return self.answer


def test_wait_answers_as_soon_as_the_task_ends(
    ops: Ops, gates: Gates, event_only: None, store: Store
) -> None:
    task_id = ops.start("ends_at", gates=gates.path, gate="w")
    gates.wait_started("w")
    waiter = Waiting(ops, "ends_at", task_id, 30)
    wait_until(lambda: ops.app.dispatcher.tasks.waiting == 1, 5, "the call waits")
    gates.release("w")
    status = waiter.result()
    assert (status["state"], status["progress"]) == ("succeeded", 1.0)
    ended = ops("ends_at_result", task_id=task_id)
    latency = waiter.at - ended
    # woken by the end (the store is re-read once a minute only)
    assert 0 <= latency < 0.5, f"answered {latency:.3f} s after the task's end on {store.name}"


def test_wait_answers_with_the_running_task_when_its_timeout_is_over(
    ops: Ops, gates: Gates
) -> None:
    task_id = ops.start("ends_at", gates=gates.path, gate="t")
    gates.wait_started("t")
    started = time.monotonic()
    status = ops("ends_at_wait", task_id=task_id, timeout=0.3)
    took = time.monotonic() - started
    assert status["state"] == "running" and status["task_id"] == task_id
    assert 0.3 <= took < 3
    assert ops("ends_at_wait", task_id=task_id, timeout=0)["state"] == "running"


def test_the_server_caps_the_timeout(make: MakeApp, gates: Gates) -> None:
    ops = Ops(make(max_wait=0.3))
    task_id = ops.start("ends_at", gates=gates.path, gate="c")
    gates.wait_started("c")
    started = time.monotonic()
    assert ops("ends_at_wait", task_id=task_id, timeout=3600)["state"] == "running"
    assert time.monotonic() - started < 3


def test_the_waits_of_one_request_share_the_cap(make: MakeApp, gates: Gates) -> None:
    """A JSON-RPC batch or an XML-RPC multicall of six waits holds its
    worker about ``max_wait`` in all, not six times it (a batch of
    hundreds would otherwise hold it for hours, past gunicorn's
    ``--timeout``): the later items answer the task as it is then."""
    app = make(max_wait=0.5)
    ops = Ops(app)
    task_id = ops.start("ends_at", gates=gates.path, gate="b")
    gates.wait_started("b")
    batch = [
        {"jsonrpc": "2.0", "method": "ends_at_wait", "params": [task_id, 3600], "id": i}
        for i in range(6)
    ]
    started = time.monotonic()
    answers = ops.http.post_json("/Ops/jsonrpc", batch).json
    assert time.monotonic() - started < 2.5
    assert [a["result"]["state"] for a in answers] == ["running"] * 6
    calls = [{"methodName": "ends_at_wait", "params": [task_id, 3600]} for _ in range(6)]
    body = xmlrpc.client.dumps((calls,), "system.multicall")
    started = time.monotonic()
    answer = ops.http.post("/Ops/xmlrpc", body, headers={"Content-Type": "text/xml"})
    assert time.monotonic() - started < 2.5
    (results,), _ = xmlrpc.client.loads(answer.body)
    assert [r[0]["state"] for r in cast("list[list[dict[str, str]]]", results)] == ["running"] * 6


def test_waiters_beyond_the_cap_get_a_fault_at_once(make: MakeApp, gates: Gates) -> None:
    ops = Ops(make(max_waiters=2))
    task_id = ops.start("ends_at", gates=gates.path, gate="cap")
    gates.wait_started("cap")
    waiters = [Waiting(ops, "ends_at", task_id, 30) for _ in range(2)]
    wait_until(lambda: ops.app.dispatcher.tasks.waiting == 2, 5, "two calls wait")
    started = time.monotonic()
    fault = ops.fault("ends_at_wait", task_id=task_id, timeout=30)
    assert time.monotonic() - started < 1
    assert fault.code == "server" and fault.status == 503
    assert "Too many calls wait" in fault.string and "ends_at_progress" in fault.string
    # XML-RPC answers it with HTTP 200, which xmlrpc.client reads as a Fault
    call = xmlrpc.client.dumps((task_id, 30), "ends_at_wait")
    answer = ops.http.post("/Ops/xmlrpc", call, content_type="text/xml", expect_errors=True)
    assert answer.status_int == 200
    with pytest.raises(xmlrpc.client.Fault) as refused:
        xmlrpc.client.loads(answer.body)
    assert "Too many calls wait" in refused.value.faultString
    # an ended task is answered without waiting, cap or not
    gates.release("cap")
    for waiter in waiters:
        assert waiter.result()["state"] == "succeeded"
    assert ops("ends_at_wait", task_id=task_id, timeout=30)["state"] == "succeeded"


def test_wait_faults_for_bad_ids_and_timeouts(ops: Ops, ledger: str) -> None:
    task_id = ops.start("count", ledger=ledger, label="x")
    assert ops.ended("count", task_id)["state"] == "succeeded"
    for bad_id in ("0" * 40, "nope", task_id.upper()):
        fault = ops.fault("count_wait", task_id=bad_id, timeout=1)
        assert fault.code == "client" and "Unknown task" in fault.string
    fault = ops.fault("ends_at_wait", task_id=task_id, timeout=1)  # another method's
    assert "Unknown task" in fault.string
    for timeout, said in ((-1, "must be ≥ 0"), ("soon", "expected a number")):
        fault = ops.fault("count_wait", task_id=task_id, timeout=timeout)
        assert fault.code == "client" and said in fault.string and "timeout" in fault.string


# -- callbacks -----------------------------------------------------------------------------


def callback(receiver: Receiver, name: str) -> dict[str, str]:
    return {"Ladon-Callback-URL": receiver.url(f"/{name}?token=q-secret")}


def test_one_signed_callback_when_the_task_ends(
    ops: Ops, receiver: Receiver, store: Store, ledger: str
) -> None:
    path = f"/one-{store.name}?token=q-secret"
    task_id = ops.start("count", callback(receiver, f"one-{store.name}"), ledger=ledger, label="v")
    (got,) = receiver.received(1, path=path)
    # the recipe of docs/tasks.rst, by hand: HMAC-SHA256 of "<t>." + body
    fields = dict(item.split("=", 1) for item in got.headers["Ladon-Signature"].split(","))
    signed = fields["t"].encode() + b"." + got.body
    expected = hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, fields["v1"])
    assert abs(time.time() - int(fields["t"])) < 60
    assert got.verified() and not got.verified("another-secret-0123456789")
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["Ladon-Task-Id"] == task_id
    assert json.loads(got.body) == {
        "task_id": task_id,
        "service": "Ops",
        "method": "count",
        "state": "succeeded",
        "message": None,
        "result": "v",
    }
    wait_until(
        lambda: "callback delivered" in (ops("count_progress", task_id=task_id)["message"] or ""),
        10,
        "the delivery recorded",
    )
    assert ops("count_progress", task_id=task_id)["message"] == "callback delivered (HTTP 200)"
    time.sleep(0.3)
    assert len(receiver.received(1, path=path)) == 1  # one POST, not one per process


def test_a_host_with_a_final_dot_is_called_as_the_start_checked_it(
    ops: Ops, receiver: Receiver, store: Store, ledger: str
) -> None:
    """``127.0.0.1.`` passed the start's check; the send resolved it
    differently and failed."""
    url = receiver.url(f"/dot-{store.name}").replace("127.0.0.1:", "127.0.0.1.:", 1)
    task_id = ops.start("count", {"Ladon-Callback-URL": url}, ledger=ledger, label="d")
    (got,) = receiver.received(1, path=f"/dot-{store.name}")
    assert json.loads(got.body)["task_id"] == task_id


def test_failed_and_cancelled_tasks_call_back_too(
    ops: Ops, receiver: Receiver, store: Store, gates: Gates
) -> None:
    failed = ops.start("fail", callback(receiver, f"fail-{store.name}"), reason="disk full")
    (got,) = receiver.received(1, path=f"/fail-{store.name}?token=q-secret")
    body = json.loads(got.body)
    assert (body["task_id"], body["state"], body["message"], body["result"]) == (
        failed,
        "failed",
        "disk full",
        None,
    )
    held = ops.start(
        "ends_at", callback(receiver, f"cancel-{store.name}"), gates=gates.path, gate="x"
    )
    gates.wait_started("x")
    ops("ends_at_cancel", task_id=held)
    gates.release("x")
    (got,) = receiver.received(1, path=f"/cancel-{store.name}?token=q-secret")
    body = json.loads(got.body)
    assert (body["state"], body["message"], body["result"]) == ("cancelled", "cancelled", None)
    assert got.verified()


def test_a_retried_task_keeps_its_key_wakes_its_waiter_at_the_end_and_calls_back_once(
    ops: Ops, receiver: Receiver, store: Store, ledger: str
) -> None:
    """Retries (a run raising Retry) and the three production calls together:
    the key still names the one task, the wait answers the final end (not
    an attempt's), the callback comes once, for the last attempt."""
    headers = {**key(f"retried-{store.name}"), **callback(receiver, f"retried-{store.name}")}
    task_id = ops.start("count_retried", headers, ledger=ledger, label="r", until=2)
    status = ops.ended("count_retried", task_id)
    assert status["state"] == "succeeded", status
    assert status["message"].startswith("attempt 2 of 3; callback "), status
    again = ops.start("count_retried", headers, ledger=ledger, label="r", until=2)
    assert again == task_id
    assert [line.split()[0] for line in runs(ledger)] == ["r-1", "r-2"]  # one run per attempt
    (got,) = receiver.received(1, path=f"/retried-{store.name}?token=q-secret")
    body = json.loads(got.body)
    assert (body["task_id"], body["state"], body["result"]) == (task_id, "succeeded", "r")
    assert body["message"] == "attempt 2 of 3"
    assert ops("count_retried_result", task_id=task_id) == "r"
    time.sleep(0.3)
    assert len(receiver.received(1, path=f"/retried-{store.name}?token=q-secret")) == 1


def test_a_callback_is_retried_after_two_500s(
    ops: Ops, receiver: Receiver, store: Store, ledger: str
) -> None:
    path = f"/retry-{store.name}?token=q-secret"
    receiver.answer(500, 500)
    task_id = ops.start(
        "count", callback(receiver, f"retry-{store.name}"), ledger=ledger, label="r"
    )
    got = receiver.received(3, path=path)
    assert len({r.body for r in got}) == 1 and all(r.verified() for r in got)
    wait_until(
        lambda: "delivered" in (ops("count_progress", task_id=task_id)["message"] or ""),
        10,
        "the delivery recorded",
    )
    message = ops("count_progress", task_id=task_id)["message"]
    assert message == "callback delivered (HTTP 200, 3 attempts)"
    time.sleep(0.3)
    assert len(receiver.received(3, path=path)) == 3


def _leave_callback(
    store: Store, request: pytest.FixtureRequest, task_id: str, state: str, age: float
) -> None:
    """Write a callback's state as a process that holds it leaves it,
    ``age`` seconds ago (then it died, or not)."""
    when = time.time() - age
    if store.name == "sqlite":
        db = store.url(60).split("sqlite://", 1)[1].split("?", 1)[0]
        set_callback(Path(db), task_id, state, when)
    else:
        import redis

        server: RedisServer = request.getfixturevalue("redis_server")
        client = redis.Redis(unix_socket_path=server.socket)
        try:
            key = f"{QUEUE['prefix']}task:{task_id}"
            client.hset(key, mapping={"cbstate": state, "cbat": f"{when:.6f}"})
        finally:
            client.close()


@pytest.mark.parametrize("store", ["sqlite", "redis"], indirect=True)
def test_a_callback_its_process_died_holding_is_sent_by_another(
    ops: Ops, receiver: Receiver, store: Store, ledger: str, request: pytest.FixtureRequest
) -> None:
    """A process killed (SIGKILL) while it sends a callback, or while it
    waits to try it again, leaves it ``sending`` / ``retrying (...)``:
    once that state is older than any live process leaves it, another
    process takes it (here: the one that reads the task) and sends it.
    A state written just now is left to its process."""
    name = f"orphan-{store.name}"
    path = f"/{name}?token=q-secret"
    task_id = ops.start("count", callback(receiver, name), ledger=ledger, label="o")
    receiver.received(1, path=path)

    def message() -> str:
        return str(ops("count_progress", task_id=task_id)["message"] or "")

    wait_until(lambda: "delivered" in message(), 10, "the delivery recorded")
    _leave_callback(store, request, task_id, "retrying (attempt 1 of 5: HTTP 500)", age=0.0)
    assert message() == "callback retrying (attempt 1 of 5: HTTP 500)"
    time.sleep(0.5)
    assert len(receiver.received(1, path=path)) == 1  # its live process will try it
    sent = 1
    for state in ("retrying (attempt 2 of 5: HTTP 503)", "sending"):
        _leave_callback(store, request, task_id, state, age=120.0)
        # a reader notices (Redis: asks at most once a second per task), and takes it
        wait_until(lambda: message() == "callback delivered (HTTP 200)", 10, "delivered again")
        sent += 1
        got = receiver.received(sent, path=path)
        assert all(r.verified() for r in got) and json.loads(got[-1].body)["task_id"] == task_id
    time.sleep(0.3)
    assert len(receiver.received(sent, path=path)) == sent


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("http://hooks.example.net/x", "not one this server calls"),
        ("ftp://127.0.0.1/x", "must be http:// or https://"),
        ("http://user:pw@127.0.0.1/x", "must not hold credentials"),
        ("http://127.0.0.1:99999/x", "malformed"),
        ("http://127.0.0.1:0/x", "port 0"),
        ("not a url", "printable ASCII without spaces"),
        ("http://127.0.0.1/a, http://127.0.0.1/b", "more than one URL"),  # two header lines
    ],
    ids=["host", "scheme", "credentials", "port", "port-0", "garbage", "two-lines"],
)
def test_refused_callback_urls_are_client_faults_and_start_nothing(
    ops: Ops, ledger: str, url: str, said: str
) -> None:
    fault = ops.fault("count", {"Ladon-Callback-URL": url}, ledger=ledger, label="n")
    assert fault.code == "client" and fault.status == 400
    assert said in fault.string and fault.string.startswith("Ladon-Callback-URL refused")
    time.sleep(0.2)
    assert runs(ledger) == []


@pytest.mark.parametrize("store", ["sqlite", "redis"], indirect=True)
def test_callbacks_are_sent_by_the_process_that_ended_the_task(
    make: MakeApp, receiver: Receiver, store: Store, gates: Gates, ledger: str, tmp_path: Path
) -> None:
    """On redis the worker ends the task and sends; on sqlite another
    process (the peer) runs and ends it and sends. This process, which
    reads the task, has no sender."""
    app = make()
    app.task_backend().callback_sender = None  # type: ignore[attr-defined]
    ops = Ops(app)
    name = f"elsewhere-{store.name}"
    path = f"/{name}?token=q-secret"
    if store.name == "redis":
        task_id = ops.start("count", callback(receiver, name), ledger=ledger, label="w")
    else:
        peer = subprocess.Popen(
            [
                sys.executable,
                str(TESTS_DIR / "tasks" / "sqlite_peer.py"),
                store.url(60),
                gates.path,
                "count",
                json.dumps({"ledger": ledger, "label": "w"}),
                receiver.url(path),
            ],
            env=child_env(**CALLBACK_ENV),
            stdout=subprocess.PIPE,
            text=True,
        )
        assert peer.stdout is not None
        task_id = peer.stdout.readline().strip()
    try:
        (got,) = receiver.received(1, path=path)
        assert got.verified() and json.loads(got.body)["task_id"] == task_id
        wait_until(
            lambda: ops.ended("count", task_id)["message"] == "callback delivered (HTTP 200)",
            10,
            "the delivery recorded",
        )
        (line,) = runs(ledger)
        assert int(line.split()[1]) != os.getpid()  # it ran in the other process
    finally:
        (Path(gates.path) / "peer.stop").touch()
        if store.name == "sqlite":
            peer.wait(10)
            assert peer.stdout is not None
            peer.stdout.close()


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_a_sqlite_wait_is_woken_by_the_process_that_ends_the_task(
    make: MakeApp, store: Store, gates: Gates, event_only: None
) -> None:
    ops = Ops(make())
    peer = subprocess.Popen(
        [
            sys.executable,
            str(TESTS_DIR / "tasks" / "sqlite_peer.py"),
            store.url(60),
            gates.path,
            "ends_at",
            json.dumps({"gates": gates.path, "gate": "peer"}),
        ],
        env=child_env(**CALLBACK_ENV),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert peer.stdout is not None
        task_id = peer.stdout.readline().strip()
        pid = gates.wait_started("peer")
        assert pid == peer.pid
        waiter = Waiting(ops, "ends_at", task_id, 30)
        wait_until(lambda: ops.app.dispatcher.tasks.waiting == 1, 5, "the call waits")
        gates.release("peer")
        assert waiter.result()["state"] == "succeeded"
        latency = waiter.at - ops("ends_at_result", task_id=task_id)
        assert 0 <= latency < 0.5, f"answered {latency:.3f} s after the end in the peer"
    finally:
        (Path(gates.path) / "peer.stop").touch()
        peer.wait(10)
        assert peer.stdout is not None
        peer.stdout.close()


@pytest.mark.parametrize("store", ["thread", "sqlite"], indirect=True)
def test_a_hanging_receiver_does_not_hold_up_the_callbacks_of_others(
    make: MakeApp, receiver: Receiver, store: Store, ledger: str
) -> None:
    """Twenty callbacks to a receiver that never answers (each tried twice,
    cut after a second: more than all the delivery threads can take in
    turn), then three to one that answers: those arrive at once, and
    each callback is posted once per try, not once per read of its task."""
    ops = Ops(make(callback_timeout=1, callback_attempts=2))
    hangs = Receiver()  # another host and port: another receiver
    hanging = "/hangs"
    hangs.hold(hanging)
    try:
        for _ in range(20):
            ops.start("count", callback(hangs, "hangs"), ledger=ledger, label="h")
        started = time.monotonic()
        fine = [
            ops.start("count", callback(receiver, f"fine-{store.name}"), ledger=ledger, label="f")
            for _ in range(3)
        ]
        for task_id in fine:  # reads see the callbacks pending: sent once all the same
            ops.ended("count", task_id)
            ops("count_progress", task_id=task_id)
        got = receiver.received(3, timeout=10, path=f"/fine-{store.name}?token=q-secret")
        assert time.monotonic() - started < 2.0, "the callbacks waited behind the hanging ones"
        assert sorted(json.loads(r.body)["task_id"] for r in got) == sorted(fine)
        # two at a time to the hanging receiver
        tried = len(hangs.requests)
        assert 1 <= tried <= 4, tried
        hangs.let_go()
        # the rest go once the receiver answers: 20 callbacks, at most 2 tries each
        bodies = {r.body for r in hangs.received(20, timeout=20)}
        deadline = time.monotonic() + 20
        while len(bodies) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
            bodies = {r.body for r in hangs.requests}
        assert len(bodies) == 20 and len(hangs.requests) <= 40
    finally:
        hangs.let_go()
        hangs.stop()


@pytest.mark.parametrize("store", ["thread", "sqlite"], indirect=True)
def test_a_callback_its_task_outlived_is_given_up_and_logged(
    make: MakeApp,
    receiver: Receiver,
    store: Store,
    ledger: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Callbacks waiting for a receiver that never answers while their
    tasks expire (``result_ttl``) are given up, and logged, not dropped
    in silence."""
    ops = Ops(make(result_ttl=1.0, callback_timeout=1, callback_attempts=3))
    receiver.hold(f"/expires-{store.name}")
    try:
        with caplog.at_level(logging.WARNING, logger="ladon"):
            ids = [
                ops.start(
                    "count", callback(receiver, f"expires-{store.name}"), ledger=ledger, label="x"
                )
                for _ in range(4)
            ]
            for task_id in ids:
                ops.ended("count", task_id)
            time.sleep(1.5)  # the tasks expire, their callbacks still waiting or being tried

            def logged() -> set[str]:
                # the thread backend forgets expired tasks as others end
                ops.ended("count", ops.start("count", ledger=ledger, label="y"))
                text = "\n".join(r.getMessage() for r in caplog.records)
                return {
                    t for t in ids if f"Callback of task {t} given up: the task expired" in text
                }

            wait_until(lambda: len(logged()) >= 2, 10, "the expired callbacks logged")
    finally:
        receiver.let_go()


def test_a_callback_is_given_up_after_its_attempts_and_logged_without_secrets(
    receiver: Receiver, caplog: pytest.LogCaptureFixture, ledger: str
) -> None:
    app = backend_app.make_app("thread://", **{**CALLBACKS, "callback_attempts": 3})
    try:
        ops = Ops(app)
        receiver.answer(503, 503, 503)
        with caplog.at_level(logging.WARNING, logger="ladon"):
            task_id = ops.start("count", callback(receiver, "give-up"), ledger=ledger, label="g")
            receiver.received(3, path="/give-up?token=q-secret")
            wait_until(
                lambda: "failed" in (ops("count_progress", task_id=task_id)["message"] or ""),
                10,
                "the callback given up",
            )
        assert ops("count_progress", task_id=task_id)["message"] == (
            "callback failed (after 3 attempts: HTTP 503)"
        )
        logged = "\n".join(r.getMessage() for r in caplog.records)
        assert f"Callback of task {task_id} to http://127.0.0.1:{receiver.port}/give-up" in logged
        assert "q-secret" not in logged and SECRET not in logged
        # a 4xx is not tried again
        receiver.answer(404)
        other = ops.start("count", callback(receiver, "gone"), ledger=ledger, label="h")
        receiver.received(1, path="/gone?token=q-secret")
        wait_until(lambda: "failed" in (ops("count_progress", task_id=other)["message"] or ""), 10)
        assert ops("count_progress", task_id=other)["message"] == "callback failed (HTTP 404)"
        time.sleep(0.3)
        assert len(receiver.received(1, path="/gone?token=q-secret")) == 1
    finally:
        app.close()
