"""One behavioural suite, run against every task backend: thread, sqlite and
redis (with real ``ladon worker`` processes on a real Redis).

The same client calls the same application (``tests/services/backend_app``)
over JSON-WSP; only the ``tasks=`` URL changes. Tasks are held through
file gates, since on the redis backend they run in other processes.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import backend_app
import pytest
from webtest import TestApp

from ladon.server.wsgi import LadonWSGIApplication
from ladon.wire.multipart import close_parts
from ladon.wire.multipart import read_multipart

from .backend_support import REDIS_WORKERS
from .backend_support import SUITE_QUEUE
from .backend_support import Client
from .backend_support import Gates
from .backend_support import RedisServer
from .backend_support import in_process
from .backend_support import wait_until

BACKENDS = ["thread", "sqlite", "redis"]


@dataclass
class Backend:
    """A backend under test: its name, how many tasks it runs at once, and
    the URL of an app on it."""

    name: str
    capacity: int
    url: Callable[[float], str]


def _redis_idle(server: RedisServer) -> None:
    """Wait until no task of the suite is pending or running (a test's
    leftovers must not hold the next test's workers)."""
    import redis

    client = redis.Redis(unix_socket_path=server.socket)

    def idle() -> bool:
        for key in client.scan_iter("suite:task:*", count=1000):
            if client.hget(key, "state") in (b"pending", b"running"):
                return False
        return True

    try:
        wait_until(idle, 10.0, "suite tasks ended")
    finally:
        client.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    name: str = request.param
    if name == "thread":
        yield Backend(name, 4, lambda ttl: f"thread://?max_workers=4&result_ttl={ttl}")
    elif name == "sqlite":
        db = tmp_path / "tasks.db"
        yield Backend(
            name,
            4,
            lambda ttl: (
                f"sqlite://{db}?max_workers=4&lease=2&heartbeat=0.2"
                f"&sync_interval=0.02&result_ttl={ttl}"
            ),
        )
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        request.getfixturevalue("redis_workers")
        yield Backend(
            name,
            REDIS_WORKERS,
            lambda ttl: server.url(
                **SUITE_QUEUE,
                app="backend_app:app",
                lease=2,
                cancel_grace=0.5,
                sync_interval=0.02,
                result_ttl=ttl,
            ),
        )
        _redis_idle(server)


MakeApp = Callable[..., LadonWSGIApplication]


@pytest.fixture
def make_app(backend: Backend, gates: Gates) -> Iterator[MakeApp]:
    made: list[LadonWSGIApplication] = []

    def make(result_ttl: float = 60.0, debug: bool = False) -> LadonWSGIApplication:
        app = backend_app.make_app(backend.url(result_ttl), debug=debug)
        made.append(app)
        return app

    yield make
    gates.release_all()  # held tasks end, or close() would wait for them
    for app in made:
        app.close()


@pytest.fixture
def work(make_app: MakeApp) -> Client:
    return Client(in_process(make_app()), "Work")


# -- states, progress, results --------------------------------------------------------


def test_held_task_is_running_then_succeeds_and_can_be_fetched_again(
    work: Client, gates: Gates
) -> None:
    task_id = work.start("hold", gates=gates.path, name="a", text="hello")
    assert len(task_id) == 40
    gates.wait_started("a")
    wait_until(lambda: work.progress("hold", task_id)["message"] == "held")
    status = work.progress("hold", task_id)
    assert (status["state"], status["progress"]) == ("running", 0.5)
    assert status["duration"] >= 0.0
    fault = work.fault("hold_result", task_id=task_id)
    assert fault.code == "client"
    assert "no result yet" in fault.string and "running" in fault.string

    gates.release("a")
    done = work.wait_state("hold", task_id)
    assert (done["state"], done["progress"]) == ("succeeded", 1.0)
    for _ in range(2):
        assert work.result("hold", task_id) == "hello"
    assert work.progress("hold", task_id)["state"] == "succeeded"


def test_progress_seen_by_the_client_never_decreases(work: Client, gates: Gates) -> None:
    values = [0.2, 0.6, 0.4, 0.9, 0.1, -3.0, 7.0]
    task_id = work.start("staircase", gates=gates.path, name="st", values=values)
    seen: list[float] = []
    for i in range(len(values)):

        def at_step(i: int = i) -> bool:
            return bool(work.progress("staircase", task_id)["message"] == f"step {i}")

        wait_until(at_step)
        seen.append(work.progress("staircase", task_id)["progress"])
        gates.release(f"st-{i}")
    assert seen == [0.2, 0.6, 0.6, 0.9, 0.9, 0.9, 1.0]
    assert work.wait_state("staircase", task_id)["progress"] == 1.0
    assert work.result("staircase", task_id) == len(values)


@pytest.mark.parametrize(
    ("method", "expected"),
    [("zero", 0), ("empty_text", ""), ("empty_list", []), ("false", False)],
)
def test_falsy_results_are_results(work: Client, method: str, expected: object) -> None:
    task_id = work.start(method)
    assert work.wait_state(method, task_id)["state"] == "succeeded"
    for _ in range(2):
        result = work.result(method, task_id)
        assert result == expected and type(result) is type(expected)


def test_ladontype_and_list_results(work: Client) -> None:
    assert work.run("report", name="disks", count=3) == {
        "name": "disks",
        "sizes": [0, 1, 2],
        "note": None,
    }
    assert work.run("numbers", count=4) == [0, 1, 2, 3]


def test_field_filters_run_once_on_the_way_in_and_once_on_the_way_out(work: Client) -> None:
    # Arguments and results cross the store (and RQ) as typed JSON: the
    # filters of the LadonType fields must not run again there.
    result = work.run("tag", tagged={"text": "t"})
    assert result == {"text": "t<in-raw<in|task>out>out-raw"}


def test_arguments_arrive_with_their_declared_types(work: Client) -> None:
    # the task asserts that report is a Report and blob is bytes
    summary = work.run("inspect", report={"name": "r", "sizes": [1, 2, 3]}, blob="ab", when=2.5)
    assert summary == "Report:r:6:ab:2.5"


def test_request_environ_reaches_the_task(make_app: MakeApp) -> None:
    work = Client(in_process(make_app(), {"X-Ladon-Test": "from the client"}), "Work")
    assert work.run("header", name="HTTP_X_LADON_TEST") == "from the client"
    assert work.run("header", name="LADON_METHOD_NAME") == "header"


def test_template_instances_run_with_their_own_configuration(make_app: MakeApp) -> None:
    client = Client(in_process(make_app()), "Hello")
    assert client.run("greet", who="Ada") == "Hello, Ada!"
    assert client.to("Bonjour").run("greet", who="Ada") == "Bonjour, Ada!"


def test_fifty_tasks_all_finish_with_their_own_result(work: Client) -> None:
    ids = [work.start("square", n=n) for n in range(50)]
    assert len(set(ids)) == 50
    for n, task_id in enumerate(ids):
        assert work.wait_state("square", task_id)["state"] == "succeeded"
        assert work.result("square", task_id) == n * n


def test_attachments_in_and_out_of_a_task(make_app: MakeApp) -> None:
    http = TestApp(make_app())
    boundary = "TaskBoundary"
    request = json.dumps({"methodname": "weigh", "args": {"blob": "cid:f1"}}).encode()
    body = b"".join(
        [
            f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(),
            request,
            f"\r\n--{boundary}\r\nContent-ID: f1\r\n\r\n".encode(),
            b"hello world",
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
    answer = http.post(
        "/Work/jsonwsp", body, {"Content-Type": f"multipart/related; boundary={boundary}"}
    ).json
    task_id = answer["result"]["task_id"]
    work = Client(lambda path, data: http.post_json(path, data).json, "Work")
    assert work.wait_state("weigh", task_id)["state"] == "succeeded"
    assert work.result("weigh", task_id) == "11:hello"

    task_id = work.start("produce", text="ab")
    assert work.wait_state("produce", task_id)["state"] == "succeeded"
    response = http.post_json(
        "/Work/jsonwsp", {"methodname": "produce_result", "args": {"task_id": task_id}}
    )
    ctype = response.headers["Content-Type"]
    assert ctype.startswith("multipart/related;"), response.body[:200]
    parts = read_multipart(
        io.BytesIO(response.body).read, ctype.split("boundary=")[1].split(";")[0].encode()
    )
    try:
        root = json.loads(parts[0].file.read())
        assert root["result"] == "cid:ladon-attachment-1"
        assert parts[1].file.read() == b"ababab"
    finally:
        close_parts(parts)


# -- Ladon 1.0 services ------------------------------------------------------------------


def test_legacy_task_example_shapes(make_app: MakeApp) -> None:
    client = Client(in_process(make_app()), "LegacyTaskService")
    task_id = client.start("taskExample", session_id="abc", counter=42)
    seen: list[float] = []

    def finished() -> bool:
        status = client.progress("taskExample", task_id)
        assert isinstance(status["starttime"], float) and isinstance(status["duration"], float)
        seen.append(status["progress"])
        return bool(status["state"] == "succeeded")

    wait_until(finished)
    assert seen == sorted(seen) and seen[-1] == 1.0
    assert client.result("taskExample", task_id) == 42


def test_legacy_clone_instance_shapes(make_app: MakeApp) -> None:
    client = Client(in_process(make_app()), "LegacyInstanceService")
    info = client.run("cloneInstance", instance_id="i-1", new_instance_name="Web Two")
    assert info == {
        "instance_id": "i-web-two",
        "name": "Web Two",
        "source_id": "i-1",
        "state": "running",
        "disks": ["i-web-two-root"],
    }
    assert list(info) == sorted(info)  # alphabetical on the wire, as in 1.0


# -- failures ----------------------------------------------------------------------------


def test_failing_task_gives_its_message_without_traceback(work: Client) -> None:
    task_id = work.start("explode", reason="disk full")
    status = work.wait_state("explode", task_id)
    assert (status["state"], status["progress"]) == ("failed", 1.0)
    assert status["message"] == "disk full"  # why, without the traceback
    assert work.progress("explode", task_id)["message"] == "disk full"
    for _ in range(2):
        fault = work.fault("explode_result", task_id=task_id)
        assert fault.code == "server"
        assert fault.string == "The task failed: disk full"
        assert fault.detail == []


def test_failing_task_in_a_debug_app_gives_the_traceback(make_app: MakeApp) -> None:
    work = Client(in_process(make_app(debug=True)), "Work")
    task_id = work.start("explode", reason="disk full")
    assert work.wait_state("explode", task_id)["state"] == "failed"
    detail = "\n".join(work.fault("explode_result", task_id=task_id).detail)
    assert "Traceback" in detail and "ValueError: disk full" in detail


@pytest.mark.parametrize("suffix", ["_progress", "_result", "_cancel"])
def test_unknown_ids_are_client_faults(work: Client, suffix: str) -> None:
    for task_id in ("0" * 40, "not-a-task", "", "x" * 500):
        fault = work.fault("zero" + suffix, task_id=task_id)
        assert fault.code == "client"
        assert fault.string.startswith("Unknown task")
        assert len(fault.string) < 300


def test_foreign_ids_are_unknown_and_left_alone(work: Client, gates: Gates) -> None:
    held = work.start("hold", gates=gates.path, name="h", text="mine")
    gates.wait_started("h")
    for suffix in ("_progress", "_result", "_cancel"):
        fault = work.fault("cooperative" + suffix, task_id=held)
        assert fault.code == "client" and fault.string.startswith("Unknown task")
    other = work.to("OtherWork")
    elsewhere = other.start("zero")
    assert other.wait_state("zero", elsewhere)["state"] == "succeeded"
    for suffix in ("_progress", "_result", "_cancel"):
        assert work.fault("zero" + suffix, task_id=elsewhere).string.startswith("Unknown task")
    assert other.result("zero", elsewhere) == 0
    assert work.progress("hold", held)["state"] == "running"  # the foreign cancel did nothing
    gates.release("h")
    assert work.wait_state("hold", held)["state"] == "succeeded"
    assert work.result("hold", held) == "mine"


# -- cancel ------------------------------------------------------------------------------
# The semantics (docs/tasks.rst, "Cancel"): m_cancel answers at once with the
# task as the cancel left it; a running task runs on, saying "cancel
# requested", until its job stops; an ended cancelled task says "cancelled"
# with progress 1.0, as every ended task.


def _same_but_duration(a: dict[str, object], b: dict[str, object]) -> None:
    assert {k: v for k, v in a.items() if k != "duration"} == {
        k: v for k, v in b.items() if k != "duration"
    }


def test_cancelled_pending_task_never_runs(work: Client, gates: Gates, backend: Backend) -> None:
    busy = [
        work.start("hold", gates=gates.path, name=f"busy{i}", text=str(i))
        for i in range(backend.capacity)
    ]
    for i in range(backend.capacity):
        gates.wait_started(f"busy{i}")
    waiting = work.start("hold", gates=gates.path, name="late", text="never")
    status = work.progress("hold", waiting)
    assert (status["state"], status["progress"]) == ("pending", 0.0)
    fault = work.fault("hold_result", task_id=waiting)
    assert fault.code == "client" and "pending" in fault.string

    answer = work.cancel("hold", waiting)
    assert (answer["state"], answer["progress"], answer["message"]) == (
        "cancelled",
        1.0,
        "cancelled",
    )
    _same_but_duration(work.progress("hold", waiting), answer)
    assert "cancelled" in work.fault("hold_result", task_id=waiting).string
    for i in range(backend.capacity):
        gates.release(f"busy{i}")
    for i, task_id in enumerate(busy):
        assert work.wait_state("hold", task_id)["state"] == "succeeded"
        assert work.result("hold", task_id) == str(i)
    assert work.run("square", n=3) == 9  # the queue moved past the cancelled task
    gates.release("late")
    assert work.progress("hold", waiting)["state"] == "cancelled"
    assert not gates.started("late")
    _same_but_duration(work.cancel("hold", waiting), answer)  # again: harmless


def test_cancel_of_a_running_task_answers_running_until_its_job_stops(
    work: Client, gates: Gates
) -> None:
    # hold reports 0.5 ("held") then waits for its gate, looking at nothing:
    # it stops when it returns (or, on Redis, when cancel_grace is over).
    task_id = work.start("hold", gates=gates.path, name="busy", text="late answer")
    gates.wait_started("busy")
    wait_until(lambda: work.progress("hold", task_id)["message"] == "held")

    answer = work.cancel("hold", task_id)
    assert (answer["state"], answer["progress"], answer["message"]) == (
        "running",
        0.5,
        "cancel requested",
    )
    status = work.progress("hold", task_id)
    assert (status["state"], status["progress"], status["message"]) in (
        ("running", 0.5, "cancel requested"),
        ("cancelled", 1.0, "cancelled"),  # Redis: its cancel_grace (0.5 s) is over
    )
    if status["state"] == "running":
        fault = work.fault("hold_result", task_id=task_id)
        assert fault.code == "client" and "still running" in fault.string
        again = work.cancel("hold", task_id)  # a second cancel changes nothing
        assert (again["state"], again["message"]) in (
            ("running", "cancel requested"),
            ("cancelled", "cancelled"),
        )

    gates.release("busy")  # it returns: its result is dropped
    status = work.wait_state("hold", task_id)
    assert (status["state"], status["progress"], status["message"]) == (
        "cancelled",
        1.0,
        "cancelled",
    )
    fault = work.fault("hold_result", task_id=task_id)
    assert fault.code == "client" and "cancelled" in fault.string
    _same_but_duration(work.cancel("hold", task_id), status)  # ended: answered unchanged


def test_cancel_reaches_a_running_cooperative_task(work: Client, gates: Gates) -> None:
    task_id = work.start("cooperative", gates=gates.path, name="c")
    gates.wait_started("c")
    answer = work.cancel("cooperative", task_id)
    assert (answer["state"], answer["progress"], answer["message"]) == (
        "running",
        0.0,
        "cancel requested",
    )
    status = work.wait_state("cooperative", task_id)
    assert (status["state"], status["progress"], status["message"]) == (
        "cancelled",
        1.0,
        "cancelled",
    )
    fault = work.fault("cooperative_result", task_id=task_id)
    assert fault.code == "client" and "cancelled" in fault.string


def test_cancel_stops_a_task_looping_on_update_progress(work: Client, gates: Gates) -> None:
    task_id = work.start("spin", gates=gates.path, name="s")
    gates.wait_started("s")
    wait_until(lambda: work.progress("spin", task_id)["progress"] > 0.5)
    answer = work.cancel("spin", task_id)
    assert answer["state"] == "running" and answer["message"] == "cancel requested"
    assert 0.5 < answer["progress"] < 1.0
    status = work.wait_state("spin", task_id)
    assert (status["state"], status["progress"], status["message"]) == (
        "cancelled",
        1.0,
        "cancelled",
    )


def test_cancelled_task_that_returns_anyway_has_no_result(work: Client, gates: Gates) -> None:
    task_id = work.start("hold", gates=gates.path, name="stubborn", text="late answer")
    gates.wait_started("stubborn")
    work.cancel("hold", task_id)
    gates.release("stubborn")
    assert work.wait_state("hold", task_id)["state"] == "cancelled"
    assert "cancelled" in work.fault("hold_result", task_id=task_id).string


def test_cancel_of_a_finished_task_answers_it_unchanged(work: Client) -> None:
    task_id = work.start("square", n=3)
    done = work.wait_state("square", task_id)
    status = work.cancel("square", task_id)
    assert (status["state"], status["progress"]) == ("succeeded", 1.0)
    _same_but_duration(status, done)
    assert status["duration"] == done["duration"]  # ended: its duration is fixed
    assert work.result("square", task_id) == 9

    failed = work.start("explode", reason="disk full")
    done = work.wait_state("explode", failed)
    assert done["state"] == "failed"
    assert work.cancel("explode", failed) == done
    assert work.fault("explode_result", task_id=failed).string == "The task failed: disk full"


# -- expiry ------------------------------------------------------------------------------


def test_finished_tasks_expire_after_result_ttl(make_app: MakeApp, gates: Gates) -> None:
    work = Client(in_process(make_app(result_ttl=0.5)), "Work")
    held = work.start("hold", gates=gates.path, name="slow", text="kept")
    gates.wait_started("slow")
    quick = work.start("zero")
    assert work.wait_state("zero", quick)["state"] == "succeeded"
    assert work.result("zero", quick) == 0

    def evicted(method: str, task_id: str) -> bool:
        try:
            work.progress(method, task_id)
        except Exception as exc:
            assert str(exc).startswith("Unknown task"), exc
            return True
        return False

    wait_until(lambda: evicted("zero", quick), what="eviction")
    assert work.fault("zero_result", task_id=quick).string.startswith("Unknown task")
    assert work.progress("hold", held)["state"] == "running"  # the ttl runs from the end
    gates.release("slow")
    assert work.wait_state("hold", held)["state"] == "succeeded"
    assert work.result("hold", held) == "kept"
    wait_until(lambda: evicted("hold", held), what="eviction")
