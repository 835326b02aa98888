"""Task abuse, on every task backend (issue 8, item 2): a thousand tasks at
once, tasks that never end (cancel, ``max_runtime``), wild progress reports,
and guessed task ids.

The application is ``tests/services/abuse_app`` (services in
``abuse_tasks``), called in process over JSON-WSP (and XML-RPC and SOAP for
the progress answers); on the redis backend its tasks run on real
``ladon worker abuse_app:app`` processes. Tasks are held through file gates.
"""

from __future__ import annotations

import json
import math
import secrets
import threading
import time
import xmlrpc.client
from collections.abc import Callable
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import abuse_app
import pytest
from abuse_tasks import WILD_REPORTS
from lxml import etree
from webtest import TestApp

from ladon import ladonize
from ladon.exceptions.base import DefinitionError
from ladon.server.wsgi import LadonWSGIApplication
from ladon.tasks import SQLiteTaskBackend
from ladon.tasks import TaskState
from ladon.tasks import ThreadTaskBackend
from ladon.tasks import backend_from_url

from .backend_support import Client
from .backend_support import Fault
from .backend_support import Gates
from .backend_support import RedisServer
from .backend_support import Worker
from .backend_support import in_process
from .backend_support import pid_alive
from .backend_support import redis_idle
from .backend_support import wait_until

BACKENDS = ["thread", "sqlite", "redis"]
#: Tasks each in-process backend runs at once, and the redis workers.
POOL = 3
REDIS_WORKERS = 2
ABUSE_QUEUE = {"queue": "abuse", "prefix": "abuse:"}
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
MAX_RUNTIME = 0.3


@dataclass
class Backend:
    """A backend under test: its name, how many tasks it runs at once, and
    the URL of an app on it with the given extra options."""

    name: str
    capacity: int
    url: Callable[..., str]


@pytest.fixture(scope="module")
def abuse_workers(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Worker]]:
    logs = tmp_path_factory.mktemp("abuse-workers")
    url = redis_server.url(**ABUSE_QUEUE, sync_interval=0.02)
    workers = [
        Worker(url, logs / f"worker-{i}.log", app="abuse_app:app") for i in range(REDIS_WORKERS)
    ]
    yield workers
    for worker in workers:
        worker.stop()


def _query(options: dict[str, object]) -> str:
    return urlencode(options)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    name: str = request.param
    if name == "thread":
        yield Backend(name, POOL, lambda **o: f"thread://?{_query({'max_workers': POOL, **o})}")
    elif name == "sqlite":
        db = tmp_path / "tasks.db"
        base = {"max_workers": POOL, "lease": 2, "heartbeat": 0.2, "sync_interval": 0.02}
        yield Backend(name, POOL, lambda **o: f"sqlite://{db}?{_query({**base, **o})}")
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        request.getfixturevalue("abuse_workers")
        yield Backend(
            name,
            REDIS_WORKERS,
            lambda **o: server.url(
                **ABUSE_QUEUE,
                app="abuse_app:app",
                lease=2,
                cancel_grace=0.5,
                sync_interval=0.02,
                **o,
            ),
        )
        redis_idle(server, ABUSE_QUEUE["prefix"])


MakeApp = Callable[..., LadonWSGIApplication]


@pytest.fixture
def make_app(backend: Backend, gates: Gates) -> Iterator[MakeApp]:
    made: list[LadonWSGIApplication] = []

    def make(**options: object) -> LadonWSGIApplication:
        app = abuse_app.make_app(backend.url(**options))
        made.append(app)
        return app

    yield make
    gates.release_all()  # held tasks end, or close() would wait for them
    for app in made:
        app.close()


def backend_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    """The threads of the in-process backends (pools and tickers) started
    since ``before``."""
    return [t for t in threading.enumerate() if t.name.startswith("ladon-") and t not in before]


def ended(gates: Gates, name: str) -> bool:
    return (gates.dir / f"{name}.ended").exists()


def run_one(work: Client, gates: Gates, n: int) -> Any:
    """Run one quick task to its end (the backend is not stuck)."""
    gates.release("go")
    return work.run("gated", gates=gates.path, gate="go", n=n)


# -- a thousand tasks at once ------------------------------------------------------------

FLOOD = 1000
MAX_PENDING = 40
CLIENTS = 16


def test_a_thousand_tasks_at_once_run_or_are_refused_and_none_is_lost(
    backend: Backend, make_app: MakeApp, gates: Gates
) -> None:
    before = set(threading.enumerate())
    app = make_app(max_pending=MAX_PENDING)
    local = threading.local()

    def client() -> Client:
        if not hasattr(local, "client"):
            local.client = Client(in_process(app), "Abuse")
        c: Client = local.client
        return c

    def start(n: int, gate: str = "flood") -> str | Fault:
        try:
            return client().start("gated", gates=gates.path, gate=gate, n=n)
        except Fault as fault:
            return fault

    peak = {"backend": 0, "all": 0}
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.wait(0.002):
            peak["backend"] = max(peak["backend"], len(backend_threads(before)))
            peak["all"] = max(peak["all"], threading.active_count())

    sampler = threading.Thread(target=sample, name="sampler")
    sampler.start()
    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            outcomes = list(pool.map(start, range(FLOOD)))
    finally:
        sampling.set()
        sampler.join()

    accepted = {n: o for n, o in enumerate(outcomes) if isinstance(o, str)}
    refused = [o for o in outcomes if isinstance(o, Fault)]
    assert len(accepted) + len(refused) == FLOOD
    assert len(set(accepted.values())) == len(accepted)
    # all wait on one gate: the pool is busy, the queue is full
    overshoot = CLIENTS if backend.name == "redis" else 0  # a count read before each submit
    assert MAX_PENDING <= len(accepted) <= MAX_PENDING + backend.capacity + overshoot
    for fault in refused:
        assert fault.code == "server"
        assert fault.string.startswith("The task was not started: too many pending tasks")
        assert "try again later" in fault.string
    # bounded threads: the pool and the ticker, whatever the load
    limit = 0 if backend.name == "redis" else POOL + 1  # the sqlite ticker
    assert peak["backend"] <= limit
    assert len(backend_threads(before)) <= limit
    assert peak["all"] <= len(before) + limit + CLIENTS + 1  # + the sampler

    work = client()
    gates.release("flood")
    for n, task_id in accepted.items():
        status = work.wait_state("gated", task_id, timeout=30)
        assert (status["state"], status["progress"]) == ("succeeded", 1.0)
        assert work.result("gated", task_id) == n * n

    # nothing is stuck in the queue's count: a full queue is accepted again
    again = [start(n, "again") for n in range(MAX_PENDING)]
    assert all(isinstance(task_id, str) for task_id in again), again
    gates.release("again")
    for n, outcome in enumerate(again):
        assert isinstance(outcome, str)
        assert work.wait_state("gated", outcome)["state"] == "succeeded"
        assert work.result("gated", outcome) == n * n
    assert len(backend_threads(before)) <= limit


# -- tasks that never end ------------------------------------------------------------------


def test_cancel_stops_a_task_that_never_ends(make_app: MakeApp, gates: Gates) -> None:
    work = Client(in_process(make_app()), "Abuse")
    task_id = work.start("forever", gates=gates.path, name="f")
    gates.wait_started("f")
    wait_until(lambda: work.progress("forever", task_id)["progress"] > 0)
    work.cancel("forever", task_id)
    status = work.wait_state("forever", task_id)
    assert (status["state"], status["progress"]) == ("cancelled", 1.0)
    assert "cancelled" in work.fault("forever_result", task_id=task_id).string
    wait_until(lambda: ended(gates, "f"), what="the job ended")
    assert run_one(work, gates, 3) == 9


def _assert_overrun(work: Client, method: str, task_id: str, limit: float) -> None:
    status = work.progress(method, task_id)
    assert (status["state"], status["progress"]) == ("failed", 1.0)
    assert status["message"] == f"the task ran longer than its max_runtime of {limit:g} s"
    fault = work.fault(f"{method}_result", task_id=task_id)
    assert fault.code == "server"
    assert (
        fault.string == f"The task failed: the task ran longer than its max_runtime of {limit:g} s"
    )
    assert fault.detail == []


def test_max_runtime_fails_a_task_that_never_ends(
    backend: Backend, make_app: MakeApp, gates: Gates
) -> None:
    work = Client(in_process(make_app(max_runtime=MAX_RUNTIME)), "Abuse")
    task_id = work.start("forever", gates=gates.path, name="f")
    gates.wait_started("f")
    began = time.monotonic()
    status = work.wait_state("forever", task_id, timeout=5)
    took = time.monotonic() - began
    assert status["state"] == "failed"
    assert took < MAX_RUNTIME + 2.0
    assert status["duration"] >= MAX_RUNTIME
    _assert_overrun(work, "forever", task_id, MAX_RUNTIME)
    if backend.name != "redis":  # there the work horse may be killed first
        # its next progress report stopped the job
        wait_until(lambda: ended(gates, "f"), what="the job ended")
    _assert_overrun(work, "forever", task_id, MAX_RUNTIME)  # not "cancelled" later
    work.cancel("forever", task_id)  # a cancel now changes nothing
    _assert_overrun(work, "forever", task_id, MAX_RUNTIME)
    assert run_one(work, gates, 4) == 16


def test_max_runtime_of_a_task_that_never_reports_progress(
    backend: Backend, make_app: MakeApp, gates: Gates
) -> None:
    work = Client(in_process(make_app(max_runtime=MAX_RUNTIME)), "Abuse")
    task_id = work.start("silent", gates=gates.path, name="s")
    pid = gates.wait_started("s")
    assert work.wait_state("silent", task_id, timeout=5)["state"] == "failed"
    _assert_overrun(work, "silent", task_id, MAX_RUNTIME)
    if backend.name == "redis":
        # RQ's timeout, or the hard stop asked by the status read, ends the horse
        wait_until(lambda: not pid_alive(pid), 10, "the work horse ended")
    else:
        # a thread cannot be killed: the job runs on, its result is discarded
        time.sleep(0.1)
        assert not ended(gates, "s")
        gates.release("s")
        wait_until(lambda: ended(gates, "s"), what="the job ended")
        time.sleep(0.05)
    _assert_overrun(work, "silent", task_id, MAX_RUNTIME)
    assert run_one(work, gates, 5) == 25


def test_a_method_max_runtime_replaces_the_backend_default(make_app: MakeApp, gates: Gates) -> None:
    work = Client(in_process(make_app()), "Abuse")  # no max_runtime for the backend
    task_id = work.start("limited", gates=gates.path, name="l")
    assert work.wait_state("limited", task_id, timeout=5)["state"] == "failed"
    _assert_overrun(work, "limited", task_id, 0.3)
    held = work.start("forever", gates=gates.path, name="f")  # no limit: runs on
    gates.wait_started("f")
    time.sleep(0.5)
    assert work.progress("forever", held)["state"] == "running"
    work.cancel("forever", held)
    assert work.wait_state("forever", held)["state"] == "cancelled"


def test_redis_max_runtime_is_rq_job_timeout_without_anyone_asking(
    redis_server: RedisServer, abuse_workers: list[Worker], gates: Gates
) -> None:
    app = abuse_app.make_app(
        redis_server.url(**ABUSE_QUEUE, app="abuse_app:app", lease=5, max_runtime=1)
    )
    try:
        work = Client(in_process(app), "Abuse")
        task_id = work.start("silent", gates=gates.path, name="s")
        gates.wait_started("s")
        # nobody reads the task: the worker's own timeout raises in the task
        wait_until(lambda: ended(gates, "s"), 10, "RQ's job timeout ended the task")
        wait_until(lambda: work.progress("silent", task_id)["state"] == "failed")
        _assert_overrun(work, "silent", task_id, 1)
    finally:
        gates.release_all()
        app.close()
        redis_idle(redis_server, ABUSE_QUEUE["prefix"])


def test_redis_max_runtime_kills_a_task_that_swallows_the_timeout(
    redis_server: RedisServer, abuse_workers: list[Worker], gates: Gates
) -> None:
    app = abuse_app.make_app(
        redis_server.url(
            **ABUSE_QUEUE, app="abuse_app:app", lease=5, max_runtime=MAX_RUNTIME, cancel_grace=0.5
        )
    )
    try:
        work = Client(in_process(app), "Abuse")
        task_id = work.start("swallow", gates=gates.path, name="w")
        horse = gates.wait_started("w")
        assert work.wait_state("swallow", task_id, timeout=5)["state"] == "failed"
        _assert_overrun(work, "swallow", task_id, MAX_RUNTIME)
        wait_until(lambda: not pid_alive(horse), 10, "the work horse was killed")
        assert not ended(gates, "w")
        assert run_one(work, gates, 6) == 36
    finally:
        gates.release_all()
        app.close()
        redis_idle(redis_server, ABUSE_QUEUE["prefix"])


# -- wild progress reports -----------------------------------------------------------------

#: What ``m_progress`` shows after each report of ``WILD_REPORTS``.
WILD_EXPECTED: list[tuple[float, str | None]] = [
    (0.25, "a quarter"),
    (0.25, "nan"),
    (0.25, "nan"),
    (0.25, "nan"),
    (0.25, "nan"),
    (0.25, "nan"),
    (0.25, "minus a huge int"),
    (0.5, "x" * 1000),
    (0.5, "x" * 1000),
    (0.75, "bad \ufffd\ufffd\ufffd\ufffd\ufffd\ufffd characters"),
    (0.75, "bad \ufffd\ufffd\ufffd\ufffd\ufffd\ufffd characters"),
    (1.0, "infinity"),
    (1.0, "a huge int"),
    (1.0, "the largest float"),
]


def _no_constant(name: str) -> object:
    raise AssertionError(f"{name} in a JSON answer")


def _progress_everywhere(http: TestApp, task_id: str) -> list[tuple[float, str | None]]:
    """``wild_progress`` over JSON-WSP, XML-RPC and SOAP: each a valid
    answer; returns the (progress, message) each shows."""
    seen: list[tuple[float, str | None]] = []

    answer = http.post_json(
        "/Abuse/jsonwsp", {"methodname": "wild_progress", "args": {"task_id": task_id}}
    )
    body = json.loads(answer.body, parse_constant=_no_constant)  # no NaN, no Infinity
    result = body["result"]
    seen.append((result["progress"], result["message"]))

    answer = http.post(
        "/Abuse/xmlrpc",
        xmlrpc.client.dumps((task_id,), "wild_progress").encode(),
        {"Content-Type": "text/xml"},
    )
    ((struct,), _) = xmlrpc.client.loads(answer.body)
    assert isinstance(struct, dict)
    seen.append((struct["progress"], struct["message"]))

    envelope = (
        f'<?xml version="1.0" encoding="UTF-8"?><e:Envelope xmlns:e="{SOAP_ENV}"><e:Body>'
        f"<wild_progress><task_id>{task_id}</task_id></wild_progress></e:Body></e:Envelope>"
    )
    answer = http.post(
        "/Abuse/soap", envelope.encode(), {"Content-Type": "text/xml; charset=utf-8"}
    )
    soap_body = etree.fromstring(answer.body).find(f"{{{SOAP_ENV}}}Body")
    assert soap_body is not None
    (response,) = soap_body
    fields = {etree.QName(child).localname: child.text for child in response}
    seen.append((float(fields["progress"] or "nan"), fields["message"]))

    for progress, _message in seen:
        assert isinstance(progress, float) and math.isfinite(progress)
        assert 0.0 <= progress <= 1.0
    return seen


def test_wild_progress_reports_leave_valid_answers_on_every_interface(
    make_app: MakeApp, gates: Gates
) -> None:
    app = make_app()
    http = TestApp(app)
    work = Client(in_process(app), "Abuse")
    task_id = work.start("wild", gates=gates.path, name="w")
    shown: list[float] = []
    for i, expected in enumerate(WILD_EXPECTED):
        gates.wait_started(f"w-{i}")

        def shows_step(expected: tuple[float, str | None] = expected) -> bool:
            status = work.progress("wild", task_id)
            return (status["progress"], status["message"]) == expected

        wait_until(shows_step, what=f"report {i}")
        seen = _progress_everywhere(http, task_id)
        assert seen == [expected] * 3, i
        shown.append(expected[0])
        gates.release(f"w-{i}")
    assert shown == sorted(shown)  # never decreases
    status = work.wait_state("wild", task_id)
    assert (status["state"], status["progress"]) == ("succeeded", 1.0)
    assert work.result("wild", task_id) == len(WILD_REPORTS)
    assert _progress_everywhere(http, task_id)[0] == (1.0, "the largest float")


# -- guessed ids -------------------------------------------------------------------------


def _guesses(real: str) -> list[object]:
    return [
        *(secrets.token_hex(20) for _ in range(10)),
        "0" * 40,
        real.upper(),
        real[:-1],
        real + "0",
        f" {real}",
        f"{real}\n",
        f"{real}' OR '1'='1",
        "' OR 1=1 --",
        "'; DROP TABLE ladon_tasks; --",
        "%",
        "_" * 40,
        "*",
        "ladon:*",
        "abuse:*",
        f"abuse:task:{real}",
        "\x00" * 40,
        "\ud800",
        "é" * 40,
        "a" * 1_000_000,
        "",
        # not strings over JSON: numbers are read as text, others refused
        12345,
        1.5,
        [real],
        {"task_id": real},
        None,
        True,
    ]


def _assert_refused(http: TestApp, method: str, task_id: object) -> None:
    answer = http.post_json(
        "/Abuse/jsonwsp",
        {"methodname": method, "args": {"task_id": task_id}},
        expect_errors=True,
    )
    assert answer.status_int == 200, (method, repr(task_id)[:80], answer.body[:300])
    body = answer.json
    assert body["type"] == "jsonwsp/fault", (method, repr(task_id)[:80], body)
    fault = body["fault"]
    assert fault["code"] == "client"
    assert fault["string"].startswith(("Unknown task", 'Argument "task_id"')), fault
    assert len(answer.body) < 1000
    assert "Traceback" not in fault["string"] and fault["detail"] == []


def test_guessed_ids_are_unknown_tasks(make_app: MakeApp, gates: Gates) -> None:
    app = make_app()
    http = TestApp(app)
    work = Client(in_process(app), "Abuse")
    held = work.start("silent", gates=gates.path, name="h")
    gates.wait_started("h")
    done = work.start("gated", gates=gates.path, gate="open", n=7)
    other = work.to("OtherAbuse")
    elsewhere = other.start("gated", gates=gates.path, gate="open", n=7)
    gates.release("open")
    assert work.wait_state("gated", done)["state"] == "succeeded"
    assert other.wait_state("gated", elsewhere)["state"] == "succeeded"

    for suffix in ("_progress", "_result", "_cancel"):
        for guess in _guesses(held):
            _assert_refused(http, "gated" + suffix, guess)
        _assert_refused(http, "gated" + suffix, held)  # another method's id
        _assert_refused(http, "forever" + suffix, done)  # another method's id
        _assert_refused(http, "gated" + suffix, elsewhere)  # another service's id
        _assert_refused(http, "silent" + suffix, elsewhere)

    for bad in (12345, [held], {"id": held}):  # and over XML-RPC
        answer = http.post(
            "/Abuse/xmlrpc",
            xmlrpc.client.dumps((bad,), "silent_progress").encode(),
            {"Content-Type": "text/xml"},
        )
        with pytest.raises(xmlrpc.client.Fault) as info:
            xmlrpc.client.loads(answer.body)
        assert info.value.faultString.startswith(("Unknown task", 'Argument "task_id"'))

    # the real tasks are untouched by all the foreign cancels
    assert work.progress("silent", held)["state"] == "running"
    assert work.result("gated", done) == 49
    assert other.result("gated", elsewhere) == -7
    gates.release("h")
    assert work.wait_state("silent", held)["state"] == "succeeded"
    assert work.result("silent", held) == "finished anyway"


# -- settings --------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -1, math.nan, math.inf, True, "30"])
def test_max_runtime_must_be_a_positive_number_of_seconds(value: object, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_runtime"):
        ThreadTaskBackend(max_runtime=value)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_runtime"):
        SQLiteTaskBackend(tmp_path / "t.db", max_runtime=value)  # type: ignore[arg-type]
    with pytest.raises(DefinitionError, match="max_runtime"):

        class Bad:
            @ladonize(tasktype={"max_runtime": value})
            def job(self) -> int:
                return 0


@pytest.mark.parametrize(
    "url",
    [
        "thread://?max_runtime=0",
        "thread://?max_runtime=-3",
        "thread://?max_runtime=inf",
        "thread://?max_runtime=soon",
        "sqlite:///tmp/x.db?max_runtime=nan",
        "redis://:secret@localhost/0?max_runtime=0",
        "redis://:secret@localhost/0?max_runtime=2&job_timeout=3",
        "redis://:secret@localhost/0?max_pending=-1",
    ],
)
def test_bad_max_runtime_and_max_pending_options(url: str) -> None:
    with pytest.raises(ValueError) as info:
        backend_from_url(url)
    assert "secret" not in str(info.value)


def test_max_runtime_and_max_pending_url_options(tmp_path: Path) -> None:
    thread = backend_from_url("thread://?max_runtime=2.5&max_pending=7")
    assert isinstance(thread, ThreadTaskBackend)
    assert (thread.max_runtime, thread.max_pending) == (2.5, 7)
    assert ThreadTaskBackend().max_runtime is None
    sqlite = backend_from_url(f"sqlite://{tmp_path}/t.db?max_runtime=30&max_pending=5")
    assert isinstance(sqlite, SQLiteTaskBackend)
    assert (sqlite.max_runtime, sqlite.max_pending) == (30.0, 5)
    from ladon.tasks.rqbackend import RedisTaskBackend

    for url, limit in (
        ("redis://localhost/0?max_runtime=30&max_pending=9", 30.0),
        ("redis://localhost/0?job_timeout=20", 20.0),
        ("redis://localhost/0?job_timeout=20&max_runtime=20", 20.0),
    ):
        redis_backend = backend_from_url(url)
        assert isinstance(redis_backend, RedisTaskBackend)
        assert redis_backend.max_runtime == redis_backend.job_timeout == limit
        redis_backend.close()
    for backend in (thread, sqlite):
        backend.close()


def test_sqlite_file_of_an_earlier_schema_gets_the_max_runtime_column(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE ladon_tasks (id TEXT PRIMARY KEY, method TEXT NOT NULL,"
        " state TEXT NOT NULL, progress REAL NOT NULL DEFAULT 0, message TEXT,"
        " created REAL NOT NULL, started REAL, finished REAL, result TEXT,"
        " encoded INTEGER NOT NULL DEFAULT 0, error TEXT, detail TEXT,"
        " cancel INTEGER NOT NULL DEFAULT 0, owner TEXT NOT NULL, heartbeat REAL NOT NULL,"
        " lease REAL NOT NULL, ttl REAL NOT NULL, expires REAL) WITHOUT ROWID"
    )
    conn.close()
    backend = SQLiteTaskBackend(path, max_runtime=60)
    try:
        task_id = backend.submit("Svc.job", lambda handle: 7)
        wait_until(lambda: backend.status("Svc.job", task_id).state is TaskState.SUCCEEDED)
        assert backend.status("Svc.job", task_id).result == 7
    finally:
        backend.close()


def test_direct_backend_calls_with_ids_of_any_shape(tmp_path: Path) -> None:
    from ladon.tasks import UnknownTask

    backends: list[Any] = [ThreadTaskBackend(), SQLiteTaskBackend(tmp_path / "t.db")]
    try:
        for backend in backends:
            for task_id in ("", "\ud800", "x" * 100_000, "' OR 1=1 --", "0" * 40):
                with pytest.raises(UnknownTask):
                    backend.status("Svc.job", task_id)
                with pytest.raises(UnknownTask):
                    backend.cancel("Svc.job", task_id)
    finally:
        for backend in backends:
            backend.close()
