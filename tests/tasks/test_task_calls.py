"""Task methods end to end: start, progress, result and cancel over JSON-WSP
(in process, through webtest) and SOAP (zeep over a real socket).

Tasks are held and released through the named gates of
``tests/services/task_services.py``; every wait polls with a deadline.
"""

from __future__ import annotations

import importlib
import re
import sys
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from typing import Protocol

import pytest
import zeep
import zeep.exceptions
import zeep.helpers
from conftest import LiveServer
from lxml import etree
from webtest import TestApp

from ladon.server.wsgi import LadonWSGIApplication
from ladon.tasks import ThreadTaskBackend

from .backend_support import Client
from .backend_support import Fault
from .backend_support import in_process

TIMEOUT = 5.0
TESTS_DIR = Path(__file__).resolve().parent.parent
SERVICES_DIR = TESTS_DIR / "services"
EXAMPLES_DIR = TESTS_DIR.parent / "examples"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
TASK_SUFFIXES = ("", "_progress", "_result", "_cancel", "_wait")
FINISHED = ("succeeded", "failed", "cancelled")


def _import_task_services() -> ModuleType:
    """The services module, under the very name the application imports it."""
    if str(SERVICES_DIR) not in sys.path:
        sys.path.append(str(SERVICES_DIR))
    return importlib.import_module("task_services")


task_services = _import_task_services()


def wait_until(predicate: Callable[[], object], timeout: float = TIMEOUT) -> None:
    """Poll ``predicate`` until it is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {timeout} s")
        time.sleep(0.002)


def assert_non_decreasing(values: list[float]) -> None:
    assert values == sorted(values), f"progress went down: {values}"


# -- clients ----------------------------------------------------------------------


JsonWspFault = Fault


class JsonWsp(Client):
    """Calls one service's JSON-WSP interface in process (the task calls of
    :class:`backend_support.Client`), checking the echoed method name."""

    def __init__(self, app: LadonWSGIApplication, service: str) -> None:
        post = in_process(app)

        def checked(path: str, body: dict[str, Any]) -> Any:
            answer = post(path, body)
            if answer["type"] == "jsonwsp/response":
                assert answer["methodname"] == body["methodname"]
            return answer

        super().__init__(checked, service)


class Soap:
    """Task calls through zeep; start/progress/result/cancel by position."""

    def __init__(self, client: zeep.Client) -> None:
        self.client = client
        self.service = client.service

    def start(self, method: str, *args: object) -> str:
        info = getattr(self.service, method)(*args)
        # A one-field response is unwrapped by zeep: the id itself.
        task_id = info if isinstance(info, str) else info["task-id"]
        assert isinstance(task_id, str) and task_id
        return task_id

    def progress(self, method: str, task_id: str) -> Any:
        status = getattr(self.service, f"{method}_progress")(task_id)
        assert status["task-id"] == task_id
        return status

    def result(self, method: str, task_id: str) -> Any:
        return getattr(self.service, f"{method}_result")(task_id)

    def raw_result(self, method: str, task_id: str) -> str:
        with self.client.settings(raw_response=True):
            response = getattr(self.service, f"{method}_result")(task_id)
        assert response.status_code == 200
        text: str = response.text
        return text

    def cancel(self, method: str, task_id: str) -> Any:
        return getattr(self.service, f"{method}_cancel")(task_id)

    def fault(self, method: str, *args: object) -> zeep.exceptions.Fault:
        with pytest.raises(zeep.exceptions.Fault) as info:
            getattr(self.service, method)(*args)
        return info.value

    def wait_state(self, method: str, task_id: str, states: tuple[str, ...] = FINISHED) -> Any:
        seen: list[Any] = []

        def reached() -> bool:
            seen.append(self.progress(method, task_id))
            return seen[-1]["state"] in states

        wait_until(reached)
        return seen[-1]


# -- fixtures ---------------------------------------------------------------------


class MakeApp(Protocol):
    def __call__(
        self,
        services: list[str] | None = ...,
        *,
        result_ttl: float = ...,
        debug: bool = ...,
    ) -> LadonWSGIApplication: ...


@pytest.fixture(autouse=True)
def _fresh_gates() -> Iterator[None]:
    task_services.release_all()
    task_services.reset()
    yield
    task_services.release_all()


@pytest.fixture
def make_app() -> Iterator[MakeApp]:
    """Apps on their own thread backend (4 workers); all closed afterwards."""
    made: list[LadonWSGIApplication] = []

    def make(
        services: list[str] | None = None, *, result_ttl: float = 60.0, debug: bool = False
    ) -> LadonWSGIApplication:
        app = LadonWSGIApplication(
            services or ["task_services"],
            [str(SERVICES_DIR)],
            tasks=ThreadTaskBackend(max_workers=4, result_ttl=result_ttl),
            debug=debug,
        )
        made.append(app)
        return app

    yield make
    task_services.release_all()  # held tasks must end, or close() would wait for them
    for app in made:
        app.close()


@pytest.fixture
def app(make_app: MakeApp) -> LadonWSGIApplication:
    return make_app()


@pytest.fixture
def jobs(app: LadonWSGIApplication) -> JsonWsp:
    return JsonWsp(app, "Jobs")


class FastTime:
    """Stands in for the example module's ``time``: each sleep is ~5 ms, and
    while ``hold`` is cleared a sleep waits for it (``sleeping`` tells)."""

    def __init__(self) -> None:
        self.hold = threading.Event()
        self.hold.set()
        self.sleeping = threading.Event()

    def sleep(self, seconds: float) -> None:
        self.sleeping.set()
        if not self.hold.wait(TIMEOUT):
            raise TimeoutError("the test never released the example's sleep")
        time.sleep(0.005)


@dataclass
class Example:
    """examples/tasks.py served by an app, with its clock replaced."""

    app: LadonWSGIApplication
    time: FastTime


@pytest.fixture
def example(make_app: MakeApp, monkeypatch: pytest.MonkeyPatch) -> Iterator[Example]:
    """examples/tasks.py, unchanged, made fast: its ``time`` and STEP_SECONDS
    are replaced in the module the app imported."""
    app = make_app([str(EXAMPLES_DIR / "tasks.py")])
    service = app.service("TaskService")
    assert service is not None
    module = sys.modules[type(service.factory()).__module__]
    fake = FastTime()
    monkeypatch.setattr(module, "time", fake)
    monkeypatch.setattr(module, "STEP_SECONDS", 0.01)
    yield Example(app, fake)
    fake.hold.set()


@pytest.fixture(params=["soap", "soap11"])
def soap_iface(request: pytest.FixtureRequest) -> str:
    iface: str = request.param
    return iface


@pytest.fixture
def live(app: LadonWSGIApplication) -> Iterator[LiveServer]:
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture
def soap_jobs(live: LiveServer, soap_iface: str) -> Soap:
    return Soap(zeep.Client(f"{live.url}/Jobs/{soap_iface}/description"))


def test_app_runs_tasks_on_the_backend_it_was_given() -> None:
    # A new ThreadTaskBackend holds no task, so len() == 0: it must not be
    # mistaken for "no backend given" (and replaced by a default one).
    backend = ThreadTaskBackend(max_workers=4, result_ttl=0.2)
    app = LadonWSGIApplication(["task_services"], [str(SERVICES_DIR)], tasks=backend)
    try:
        assert app.task_backend() is backend
        jobs = JsonWsp(app, "Jobs")
        task_id = jobs.start("zero")
        assert len(backend) == 1
        assert backend.status("Jobs.zero", task_id).task_id == task_id
    finally:
        app.close()
        backend.close()


@pytest.mark.parametrize("backend", ["thread", "sqlite"])
def test_tasks_kept_per_process_under_a_multiprocess_server_are_warned_of_once(
    backend: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = None if backend == "thread" else f"sqlite://{tmp_path / 'tasks.db'}"
    app = LadonWSGIApplication(["task_services"], [str(SERVICES_DIR)], tasks=url)
    try:
        # gunicorn -w 2 (and mod_wsgi with processes=2) say so in the environ
        http = TestApp(app, extra_environ={"wsgi.multiprocess": True})
        for _ in range(2):
            body = {"methodname": "zero", "args": {}}
            assert http.post_json("/Jobs/jsonwsp", body).json["result"]["task_id"]
    finally:
        app.close()
    warned = [r for r in caplog.records if "several processes" in r.getMessage()]
    assert len(warned) == (1 if backend == "thread" else 0)
    if warned:
        assert "tasks='sqlite:///PATH'" in warned[0].getMessage()


# -- descriptions -----------------------------------------------------------------


def test_jsonwsp_description_lists_the_five_methods_of_each_task(
    app: LadonWSGIApplication, example: Example
) -> None:
    desc = TestApp(app).get("/Jobs/jsonwsp/description").json
    methods = desc["methods"]
    for name in ("echo", "explode", "zero", "report", "numbers"):
        assert {name + s for s in TASK_SUFFIXES} <= set(methods)
        assert methods[name]["ret_info"]["type"] == "TaskInfoResponse"
        for suffix in ("_progress", "_result", "_cancel"):
            assert list(methods[name + suffix]["params"]) == ["task_id"]
            assert methods[name + suffix]["params"]["task_id"]["type"] == "string"
        assert methods[name + "_progress"]["ret_info"]["type"] == "TaskProgressResponse"
        assert methods[name + "_cancel"]["ret_info"]["type"] == "TaskProgressResponse"
        wait = methods[name + "_wait"]
        assert list(wait["params"]) == ["task_id", "timeout"]
        assert wait["params"]["timeout"]["type"] == "float"
        assert wait["params"]["timeout"]["minimum"] == 0
        assert wait["ret_info"]["type"] == "TaskProgressResponse"
    assert methods["echo"]["params"]["text"]["type"] == "string"
    assert methods["report_result"]["ret_info"]["type"] == "Report"
    assert methods["numbers_result"]["ret_info"]["type"] == ["number"]
    assert set(desc["types"]["TaskProgressResponse"]) == {
        "task_id",
        "progress",
        "duration",
        "starttime",
        "state",
        "message",
    }

    example_client = TestApp(example.app)
    for service, name, rtype in (
        ("TaskService", "taskExample", "number"),
        ("InstanceService", "cloneInstance", "InstanceInformation"),
    ):
        described = example_client.get(f"/{service}/jsonwsp/description").json["methods"]
        assert {name + s for s in TASK_SUFFIXES} <= set(described)
        assert described[name + "_result"]["ret_info"]["type"] == rtype


@pytest.mark.parametrize("iface", ["soap", "soap11", "soap12"])
def test_wsdl_lists_the_five_methods_of_each_task(
    app: LadonWSGIApplication, example: Example, iface: str
) -> None:
    def operations(wsdl: bytes) -> tuple[set[str], set[str]]:
        root = etree.fromstring(wsdl)
        port = root.findall(f"{{{WSDL_NS}}}portType/{{{WSDL_NS}}}operation")
        bound = root.findall(f"{{{WSDL_NS}}}binding/{{{WSDL_NS}}}operation")
        return {op.get("name") for op in port}, {op.get("name") for op in bound}  # type: ignore[misc]

    port, bound = operations(TestApp(app).get(f"/Jobs/{iface}/description").body)
    for name in ("echo", "explode", "zero", "report", "numbers"):
        expected = {name + s for s in TASK_SUFFIXES}
        assert expected <= port and expected <= bound
    for service, name in (("TaskService", "taskExample"), ("InstanceService", "cloneInstance")):
        port, bound = operations(TestApp(example.app).get(f"/{service}/{iface}/description").body)
        expected = {name + s for s in TASK_SUFFIXES}
        assert expected <= port and expected <= bound


@pytest.mark.parametrize("iface", ["soap", "soap11", "soap12"])
def test_wsdl_declares_the_idempotency_key_header_of_task_starts(
    app: LadonWSGIApplication, iface: str
) -> None:
    root = etree.fromstring(TestApp(app).get(f"/Jobs/{iface}/description").body)
    xs = "{http://www.w3.org/2001/XMLSchema}"
    (schema,) = root.findall(f"{{{WSDL_NS}}}types/{xs}schema[@targetNamespace='urn:ladon:tasks']")
    (element,) = schema.findall(f"{xs}element[@name='IdempotencyKey']")
    assert element.find(f".//{xs}maxLength").get("value") == "255"  # type: ignore[union-attr]
    (message,) = root.findall(f"{{{WSDL_NS}}}message[@name='LadonIdempotencyKey']")
    (part,) = message
    assert part.get("element") == "lt:IdempotencyKey" and part.get("name") == "IdempotencyKey"
    service = app.service("Jobs")
    assert service is not None
    starts = {m.name for m in service.methods.values() if m.is_task}
    headed = set()
    for op in root.iterfind(f"{{{WSDL_NS}}}binding/{{{WSDL_NS}}}operation"):
        headers = [h for h in op.iter() if etree.QName(h).localname == "header"]
        if headers:
            headed.add(op.get("name"))
            (header,) = headers
            assert etree.QName(header.getparent()).localname == "input"
            assert header.get("use") == "literal" and header.get("part") == "IdempotencyKey"
    assert headed == starts  # the starts' inputs only


def test_services_without_tasks_keep_their_wsdl(app: LadonWSGIApplication) -> None:
    plain = LadonWSGIApplication(["legacy_shapes"], [str(SERVICES_DIR)])
    try:
        wsdl = TestApp(plain).get("/Shapes/soap/description").text
        assert "urn:ladon:tasks" not in wsdl and "IdempotencyKey" not in wsdl
    finally:
        plain.close()


def test_every_listing_names_the_wait_calls(app: LadonWSGIApplication) -> None:
    client = TestApp(app)
    discover = client.post_json(
        "/Jobs/jsonrpc", {"jsonrpc": "2.0", "method": "rpc.discover", "id": 1}
    ).json["result"]
    assert {"echo_wait", "report_wait"} <= {m["name"] for m in discover["methods"]}
    body = b"<methodCall><methodName>system.listMethods</methodName><params/></methodCall>"
    listed = client.post("/Jobs/xmlrpc", body, headers={"Content-Type": "text/xml"}).text
    assert "<string>echo_wait</string>" in listed
    page = client.get("/Jobs").text
    assert "echo_wait" in page


# -- the examples, over JSON-WSP ---------------------------------------------


def test_example_task_example_over_jsonwsp(example: Example) -> None:
    client = JsonWsp(example.app, "TaskService")
    task_id = client.start("taskExample", session_id="abc", counter=42)
    seen: list[float] = []

    def finished() -> bool:
        status = client.progress("taskExample", task_id)
        seen.append(status["progress"])
        state: str = status["state"]
        return state == "succeeded"

    wait_until(finished)
    assert_non_decreasing(seen)
    assert seen[-1] == 1.0
    assert client.result("taskExample", task_id) == 42


def test_example_clone_instance_over_jsonwsp(example: Example) -> None:
    client = JsonWsp(example.app, "InstanceService")
    info = client.run("cloneInstance", instance_id="i-1", new_instance_name="Web Two")
    assert info == {
        "instance_id": "i-web-two",
        "name": "Web Two",
        "source_id": "i-1",
        "state": "running",
        "disks": ["i-web-two-root"],
    }


def test_example_clone_instance_stops_when_cancelled(example: Example) -> None:
    client = JsonWsp(example.app, "InstanceService")
    example.time.hold.clear()
    task_id = client.start("cloneInstance", instance_id="i-1", new_instance_name="copy")
    assert example.time.sleeping.wait(TIMEOUT)
    status = client.progress("cloneInstance", task_id)
    assert (status["state"], status["message"]) == ("running", "snapshot")
    # it runs on until it looks at task.cancelled, and says so meanwhile
    answer = client.cancel("cloneInstance", task_id)
    assert (answer["state"], answer["progress"], answer["message"]) == (
        "running",
        0.0,
        "cancel requested",
    )
    status = client.progress("cloneInstance", task_id)
    assert (status["state"], status["message"]) == ("running", "cancel requested")
    example.time.hold.set()
    status = client.wait_state("cloneInstance", task_id)
    assert (status["state"], status["progress"], status["message"]) == (
        "cancelled",
        1.0,
        "cancelled",
    )
    fault = client.fault("cloneInstance_result", task_id=task_id)
    assert fault.code == "client" and "cancelled" in fault.string


# -- protocol over JSON-WSP -----------------------------------------------------------


def test_held_task_reports_running_then_its_result(jobs: JsonWsp) -> None:
    before = time.time()
    task_id = jobs.start("echo", name="a", text="hello")
    assert len(task_id) >= 32
    assert task_services.started("a").wait(TIMEOUT)
    wait_until(lambda: jobs.progress("echo", task_id)["message"] == "held")
    status = jobs.progress("echo", task_id)
    assert status["state"] == "running"
    assert status["progress"] == 0.5
    assert before - 1 <= status["starttime"] <= time.time() + 1
    assert status["duration"] >= 0.0
    fault = jobs.fault("echo_result", task_id=task_id)
    assert fault.code == "client"
    assert "no result yet" in fault.string and "running" in fault.string

    task_services.release("a")
    done = jobs.wait_state("echo", task_id)
    assert done["state"] == "succeeded"
    assert done["progress"] == 1.0
    assert jobs.result("echo", task_id) == "hello"


def test_result_can_be_fetched_twice(jobs: JsonWsp) -> None:
    task_id = jobs.start("square", n=12)
    jobs.wait_state("square", task_id)
    assert jobs.result("square", task_id) == 144
    assert jobs.result("square", task_id) == 144
    assert jobs.progress("square", task_id)["state"] == "succeeded"


@pytest.mark.parametrize(
    ("method", "expected"),
    [("zero", 0), ("empty_text", ""), ("empty_list", []), ("false", False)],
)
def test_falsy_results_are_results(jobs: JsonWsp, method: str, expected: object) -> None:
    task_id = jobs.start(method)
    assert jobs.wait_state(method, task_id)["state"] == "succeeded"
    for _ in range(2):
        result = jobs.result(method, task_id)
        assert result == expected and type(result) is type(expected)


def test_structured_and_list_results_over_jsonwsp(jobs: JsonWsp) -> None:
    assert jobs.run("report", name="disks", count=3) == {
        "name": "disks",
        "sizes": [0, 1, 2],
        "note": None,
    }
    assert jobs.run("numbers", count=4) == [0, 1, 2, 3]


def test_failing_task_gives_its_message_without_traceback(jobs: JsonWsp) -> None:
    task_id = jobs.start("explode", reason="disk full")
    status = jobs.wait_state("explode", task_id)
    assert status["state"] == "failed"
    assert status["progress"] == 1.0
    for _ in range(2):
        fault = jobs.fault("explode_result", task_id=task_id)
        assert fault.code == "server"
        assert fault.string == "The task failed: disk full"
        assert fault.detail == []
        assert "Traceback" not in fault.string


def test_failing_task_in_debug_app_gives_the_traceback(make_app: MakeApp) -> None:
    jobs = JsonWsp(make_app(debug=True), "Jobs")
    task_id = jobs.start("explode", reason="disk full")
    assert jobs.wait_state("explode", task_id)["state"] == "failed"
    fault = jobs.fault("explode_result", task_id=task_id)
    assert fault.string == "The task failed: disk full"
    detail = "\n".join(fault.detail)
    assert "Traceback" in detail and "ValueError: disk full" in detail


@pytest.mark.parametrize("suffix", ["_progress", "_result", "_cancel"])
@pytest.mark.parametrize("task_id", ["0" * 40, "not-a-task", "", "x" * 500])
def test_unknown_id_is_a_client_fault(jobs: JsonWsp, suffix: str, task_id: str) -> None:
    fault = jobs.fault("zero" + suffix, task_id=task_id)
    assert fault.code == "client"
    assert fault.string.startswith("Unknown task")
    assert len(fault.string) < 300


def test_foreign_id_is_unknown_and_left_alone(make_app: MakeApp) -> None:
    app = make_app(["task_services"])
    jobs, other = JsonWsp(app, "Jobs"), JsonWsp(app, "OtherJobs")
    held = jobs.start("echo", name="h", text="mine")
    assert task_services.started("h").wait(TIMEOUT)
    for suffix in ("_progress", "_result", "_cancel"):
        fault = jobs.fault("cooperative" + suffix, task_id=held)
        assert fault.code == "client" and fault.string.startswith("Unknown task")
    # the same method name on another service is another method
    elsewhere = other.start("zero")
    assert other.wait_state("zero", elsewhere)["state"] == "succeeded"
    for suffix in ("_progress", "_result", "_cancel"):
        fault = jobs.fault("zero" + suffix, task_id=elsewhere)
        assert fault.string.startswith("Unknown task")
    assert other.result("zero", elsewhere) == 0
    # the foreign cancel did not cancel
    assert jobs.progress("echo", held)["state"] == "running"
    task_services.release("h")
    assert jobs.wait_state("echo", held)["state"] == "succeeded"
    assert jobs.result("echo", held) == "mine"


def test_cancel_pending_task_it_never_runs(jobs: JsonWsp) -> None:
    busy = [jobs.start("echo", name=f"busy{i}", text=str(i)) for i in range(4)]
    for i in range(4):
        assert task_services.started(f"busy{i}").wait(TIMEOUT)
    waiting = jobs.start("echo", name="late", text="never")
    status = jobs.progress("echo", waiting)
    assert (status["state"], status["progress"]) == ("pending", 0.0)
    fault = jobs.fault("echo_result", task_id=waiting)
    assert fault.code == "client" and "pending" in fault.string

    answer = jobs.cancel("echo", waiting)
    assert (answer["state"], answer["progress"], answer["message"]) == (
        "cancelled",
        1.0,
        "cancelled",
    )
    fault = jobs.fault("echo_result", task_id=waiting)
    assert fault.code == "client" and "cancelled" in fault.string

    for i in range(4):
        task_services.release(f"busy{i}")
    for i, task_id in enumerate(busy):
        assert jobs.wait_state("echo", task_id)["state"] == "succeeded"
        assert jobs.result("echo", task_id) == str(i)
    task_services.release("late")
    assert jobs.progress("echo", waiting)["state"] == "cancelled"
    assert not task_services.started("late").is_set()
    assert jobs.cancel("echo", waiting)["state"] == "cancelled"  # again: harmless


def test_cancel_running_cooperative_task(jobs: JsonWsp) -> None:
    task_id = jobs.start("cooperative", name="c")
    assert task_services.started("c").wait(TIMEOUT)
    answer = jobs.cancel("cooperative", task_id)
    assert (answer["state"], answer["message"]) == ("running", "cancel requested")
    status = jobs.wait_state("cooperative", task_id)
    assert (status["state"], status["message"]) == ("cancelled", "cancelled")
    fault = jobs.fault("cooperative_result", task_id=task_id)
    assert fault.code == "client" and "cancelled" in fault.string


def test_cancel_stops_a_task_looping_on_update_progress(jobs: JsonWsp) -> None:
    task_id = jobs.start("spin", name="s")
    assert task_services.started("s").wait(TIMEOUT)
    wait_until(lambda: jobs.progress("spin", task_id)["progress"] > 0.5)
    answer = jobs.cancel("spin", task_id)
    assert (answer["state"], answer["message"]) == ("running", "cancel requested")
    status = jobs.wait_state("spin", task_id)
    assert (status["state"], status["message"]) == ("cancelled", "cancelled")
    assert status["progress"] == 1.0  # ended, as every finished task
    assert "cancelled" in jobs.fault("spin_result", task_id=task_id).string


def test_cancelled_task_that_returns_anyway_has_no_result(jobs: JsonWsp) -> None:
    task_id = jobs.start("echo", name="stubborn", text="late answer")
    assert task_services.started("stubborn").wait(TIMEOUT)
    jobs.cancel("echo", task_id)
    task_services.release("stubborn")
    assert jobs.wait_state("echo", task_id)["state"] == "cancelled"
    assert "cancelled" in jobs.fault("echo_result", task_id=task_id).string


def test_cancel_of_finished_task_leaves_it_succeeded(jobs: JsonWsp) -> None:
    task_id = jobs.start("square", n=3)
    jobs.wait_state("square", task_id)
    status = jobs.cancel("square", task_id)
    assert (status["state"], status["progress"]) == ("succeeded", 1.0)
    assert jobs.result("square", task_id) == 9


def test_progress_seen_by_client_never_decreases(jobs: JsonWsp) -> None:
    values = [0.2, 0.6, 0.4, 0.9, 0.1, -3.0, 7.0]
    task_id = jobs.start("staircase", name="st", values=values)
    seen: list[float] = []
    for i in range(len(values)):
        wait_until(lambda i=i: jobs.progress("staircase", task_id)["message"] == f"step {i}")  # type: ignore[misc]  # mypy: a lambda's default
        seen.append(jobs.progress("staircase", task_id)["progress"])
        task_services.release(f"st/{i}")
    assert seen == [0.2, 0.6, 0.6, 0.9, 0.9, 0.9, 1.0]
    assert jobs.wait_state("staircase", task_id)["progress"] == 1.0
    assert jobs.result("staircase", task_id) == len(values)


def test_two_hundred_tasks_started_at_once_all_finish(app: LadonWSGIApplication) -> None:
    local = threading.local()

    def client() -> JsonWsp:
        if not hasattr(local, "client"):
            local.client = JsonWsp(app, "Jobs")
        c: JsonWsp = local.client
        return c

    numbers = list(range(200))
    with ThreadPoolExecutor(max_workers=16) as pool:
        ids = list(pool.map(lambda n: client().start("square", n=n), numbers))
    assert len(set(ids)) == 200
    jobs = JsonWsp(app, "Jobs")
    for n, task_id in zip(numbers, ids, strict=True):
        assert jobs.wait_state("square", task_id)["state"] == "succeeded"
        assert jobs.result("square", task_id) == n * n


def test_concurrent_update_progress_from_many_tasks(jobs: JsonWsp) -> None:
    steps = 2000
    ids = [jobs.start("climb", steps=steps) for _ in range(40)]
    seen: dict[str, list[float]] = {task_id: [] for task_id in ids}

    def all_finished() -> bool:
        done = True
        for task_id in ids:
            status = jobs.progress("climb", task_id)
            seen[task_id].append(status["progress"])
            done = done and status["state"] == "succeeded"
        return done

    wait_until(all_finished, timeout=10.0)
    for task_id in ids:
        assert_non_decreasing(seen[task_id])
        assert seen[task_id][-1] == 1.0
        assert jobs.result("climb", task_id) == steps


def test_finished_task_is_evicted_after_ttl(make_app: MakeApp) -> None:
    jobs = JsonWsp(make_app(result_ttl=0.2), "Jobs")
    held = jobs.start("echo", name="slow", text="kept")
    assert task_services.started("slow").wait(TIMEOUT)
    quick = jobs.start("zero")
    assert jobs.wait_state("zero", quick)["state"] == "succeeded"
    assert jobs.result("zero", quick) == 0

    def evicted(method: str, task_id: str) -> bool:
        try:
            jobs.progress(method, task_id)
        except JsonWspFault as fault:
            assert fault.string.startswith("Unknown task")
            return True
        return False

    wait_until(lambda: evicted("zero", quick))
    assert jobs.fault("zero_result", task_id=quick).string.startswith("Unknown task")
    # the ttl runs from the end: a running task outlives it
    assert jobs.progress("echo", held)["state"] == "running"
    task_services.release("slow")
    assert jobs.wait_state("echo", held)["state"] == "succeeded"
    assert jobs.result("echo", held) == "kept"
    wait_until(lambda: evicted("echo", held))


# -- over zeep, on a real socket ------------------------------------------------------


@pytest.mark.e2e
def test_example_task_example_over_zeep(example: Example, soap_iface: str) -> None:
    server = LiveServer(example.app)
    try:
        soap = Soap(zeep.Client(f"{server.url}/TaskService/{soap_iface}/description"))
        task_id = soap.start("taskExample", "abc", 7)
        seen: list[float] = []

        def finished() -> bool:
            status = soap.progress("taskExample", task_id)
            seen.append(status["progress"])
            return bool(status["state"] == "succeeded")

        wait_until(finished)
        assert_non_decreasing(seen)
        assert seen[-1] == 1.0
        assert soap.result("taskExample", task_id) == 7
        assert soap.result("taskExample", task_id) == 7
    finally:
        server.stop()


@pytest.mark.e2e
def test_example_clone_instance_over_zeep(example: Example, soap_iface: str) -> None:
    server = LiveServer(example.app)
    try:
        soap = Soap(zeep.Client(f"{server.url}/InstanceService/{soap_iface}/description"))
        task_id = soap.start("cloneInstance", "i-1", "Web Two")
        assert soap.wait_state("cloneInstance", task_id)["state"] == "succeeded"
        info = zeep.helpers.serialize_object(soap.result("cloneInstance", task_id), dict)
        assert info == {
            "instance-id": "i-web-two",
            "name": "Web Two",
            "source-id": "i-1",
            "state": "running",
            "disks": {"item": ["i-web-two-root"]},
        }
    finally:
        server.stop()


@pytest.mark.e2e
def test_structured_and_list_results_over_zeep(soap_jobs: Soap) -> None:
    task_id = soap_jobs.start("report", "disks", 3)
    assert soap_jobs.wait_state("report", task_id)["state"] == "succeeded"
    report = zeep.helpers.serialize_object(soap_jobs.result("report", task_id), dict)
    assert report == {"name": "disks", "note": None, "sizes": {"item": [0, 1, 2]}}

    task_id = soap_jobs.start("numbers", 4)
    soap_jobs.wait_state("numbers", task_id)
    assert soap_jobs.result("numbers", task_id) == [0, 1, 2, 3]


@pytest.mark.e2e
def test_falsy_results_over_zeep(soap_jobs: Soap) -> None:
    for method, expected in (("zero", 0), ("false", False)):
        task_id = soap_jobs.start(method)
        assert soap_jobs.wait_state(method, task_id)["state"] == "succeeded"
        result = soap_jobs.result(method, task_id)
        assert result == expected and type(result) is type(expected)
    # zeep reads an empty element as None: check the wire instead
    for method in ("empty_text", "empty_list"):
        task_id = soap_jobs.start(method)
        assert soap_jobs.wait_state(method, task_id)["state"] == "succeeded"
        raw = soap_jobs.raw_result(method, task_id)
        assert "Fault" not in raw
        # an empty, not nil, result (soap11 also gives its xsi:type)
        assert re.search(r'<result( xsi:type="[^"]+")?(></result>|/>)', raw), raw


@pytest.mark.e2e
def test_faults_over_zeep(soap_jobs: Soap) -> None:
    task_id = soap_jobs.start("explode", "disk full")
    assert soap_jobs.wait_state("explode", task_id)["state"] == "failed"
    fault = soap_jobs.fault("explode_result", task_id)
    assert fault.message == "The task failed: disk full"
    assert fault.code is not None and fault.code.endswith("Server")
    assert "Traceback" not in str(fault.detail)

    fault = soap_jobs.fault("zero_result", "0" * 40)
    assert fault.message.startswith("Unknown task")
    assert fault.code is not None and fault.code.endswith("Client")
    fault = soap_jobs.fault("zero_progress", task_id)  # foreign: started by explode
    assert fault.message.startswith("Unknown task")


@pytest.mark.e2e
def test_cancel_over_zeep(soap_jobs: Soap) -> None:
    task_id = soap_jobs.start("echo", "z", "never")
    assert task_services.started("z").wait(TIMEOUT)
    fault = soap_jobs.fault("echo_result", task_id)
    assert "no result yet" in fault.message
    answer = soap_jobs.cancel("echo", task_id)
    assert (answer["state"], answer["progress"], answer["message"]) == (
        "running",
        0.5,
        "cancel requested",
    )
    task_services.release("z")
    status = soap_jobs.wait_state("echo", task_id)
    assert (status["state"], status["progress"], status["message"]) == (
        "cancelled",
        1.0,
        "cancelled",
    )
    assert "cancelled" in soap_jobs.fault("echo_result", task_id).message
