"""Service templates (one class, many services), inheritance and mixins,
``callback_method``: the scenario of examples/templates.py, end to end over
JSON-WSP (webtest) and zeep (a live server), and the errors that explain."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zeep
from webtest import TestApp
from werkzeug.serving import make_server

from ladon import LadonWSGIApplication
from ladon import callback_method
from ladon import ladonize
from ladon.exceptions.base import DefinitionError
from ladon.ladonizer.registry import build_service
from ladon.ladonizer.registry import build_services
from ladon.tasks import ThreadTaskBackend

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def templates() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "_ladon_test_templates", EXAMPLES / "templates.py"
    )
    assert spec is not None and spec.loader is not None
    module: Any = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.STEP_SECONDS = 0.01
    return module


@pytest.fixture(scope="module")
def app(templates: Any) -> Iterator[LadonWSGIApplication]:
    application = LadonWSGIApplication(
        [
            templates.ServiceBase("Service1", templates.configure1),
            templates.ServiceBase("Service2", templates.configure2),
            templates.ServiceN("ServiceN", templates.configureN),
        ],
        tasks=ThreadTaskBackend(max_workers=4),
    )
    yield application
    application.close()


@pytest.fixture()
def client(app: LadonWSGIApplication) -> TestApp:
    return TestApp(app)


def call(client: TestApp, service: str, method: str, **args: Any) -> Any:
    body = json.dumps({"methodname": method, "args": args})
    resp = client.post(f"/{service}/jsonwsp", body, {"Content-Type": "application/json"})
    return json.loads(resp.body)


def result(client: TestApp, service: str, method: str, **args: Any) -> Any:
    data = call(client, service, method, **args)
    assert data["type"] == "jsonwsp/response", data
    return data["result"]


def description(client: TestApp, service: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        client.get(f"/{service}/jsonwsp/description?include_doc=1").body
    )
    return data


# -- the scenario -----------------------------------------------------------------------


def test_each_instance_is_its_own_service(client: TestApp) -> None:
    catalog = client.get("/").text
    for name in ("Service1", "Service2", "ServiceN"):
        assert f"/{name}" in catalog
        assert client.get(f"/{name}").status_int == 200
        assert description(client, name)["servicename"] == name
        assert client.get(f"/{name}/soap/description").status_int == 200


def test_calls_reach_their_own_instance(client: TestApp, templates: Any) -> None:
    assert result(client, "Service1", "start") is True
    assert result(client, "Service1", "status") == "running"
    assert result(client, "Service2", "status") == "stopped"
    assert result(client, "Service1", "stop") is True
    assert result(client, "Service1", "status") == "stopped"


def test_servicen_start_deviates_and_calls_super(client: TestApp, templates: Any) -> None:
    before = len(templates.SIDEKICKS)
    assert result(client, "ServiceN", "start") is True
    assert len(templates.SIDEKICKS) == before + 1
    assert result(client, "ServiceN", "status") == "running"
    assert result(client, "Service2", "start") is True
    assert len(templates.SIDEKICKS) == before + 1  # the base start starts none


def test_descriptions_differ_exactly_where_the_definitions_differ(client: TestApp) -> None:
    descs = {n: description(client, n) for n in ("Service1", "Service2", "ServiceN")}
    for d in descs.values():
        d.pop("servicename"), d.pop("url")
    configure = {n: d["methods"].pop("configure") for n, d in descs.items()}
    start = {n: d["methods"].pop("start") for n, d in descs.items()}
    assert descs["Service1"] == descs["Service2"] == descs["ServiceN"]
    assert start["Service1"] == start["Service2"] != start["ServiceN"]
    assert start["ServiceN"]["doc_lines"] == ["Start the sidekick, then the service."]
    params = {n: c["params"] for n, c in configure.items()}
    assert list(params["Service1"]) == ["service1_a", "service1_b"]
    assert list(params["Service2"]) == ["service2_a"]
    assert params["ServiceN"]["workers"] == {
        "type": "number",
        "def_order": 1,
        "optional": False,
        "doc_lines": ["number of worker processes (1 or more)"],
    }
    assert params["ServiceN"]["verbose"]["type"] == "boolean"
    assert params["Service1"]["service1_a"]["default"] == "default_a"
    assert configure["Service2"]["doc_lines"] == ["Set the option of Service2.", ""]


def test_configure_arguments_are_checked_against_each_signature(client: TestApp) -> None:
    assert result(client, "Service1", "configure") is True
    assert result(client, "Service1", "configure", service1_b="") is False
    assert result(client, "ServiceN", "configure", workers=0) is False
    assert result(client, "ServiceN", "configure", workers="3", verbose=True) is True
    fault = call(client, "ServiceN", "configure")["fault"]
    assert '"workers"' in fault["string"] and "not optional" in fault["string"]
    fault = call(client, "Service2", "configure", service1_a="x")["fault"]
    assert "service1_a" in fault["string"]
    fault = call(client, "ServiceN", "configure", workers="many")["fault"]
    assert '"workers"' in fault["string"] and "integer" in fault["string"]


def test_wsdl_publishes_each_configure_signature(client: TestApp) -> None:
    wsdl1 = client.get("/Service1/soap/description").text
    wsdl2 = client.get("/Service2/soap/description").text
    assert 'name="service1-b"' in wsdl1 and 'name="service1-b"' not in wsdl2
    assert "Start the sidekick" in client.get("/ServiceN/soap/description").text


def test_docs_page_shows_each_signature(client: TestApp) -> None:
    assert "service1_b" in client.get("/Service1").text
    assert "workers" in client.get("/ServiceN").text
    assert "workers" not in client.get("/Service1").text


def wait_result(client: TestApp, service: str, task_id: str) -> Any:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        data = call(client, service, "install_result", task_id=task_id)
        if data["type"] == "jsonwsp/response":
            return data["result"]
        assert "still" in data["fault"]["string"], data
        time.sleep(0.02)
    raise AssertionError("the task did not finish")


def test_tasks_of_template_services(client: TestApp, app: LadonWSGIApplication) -> None:
    t1 = result(client, "Service1", "install", venv="py311")["task_id"]
    t2 = result(client, "Service2", "install")["task_id"]
    assert wait_result(client, "Service1", t1) is True
    assert wait_result(client, "Service2", t2) is True
    instance: Any = app.service("Service1").source  # type: ignore[union-attr]
    assert "py311" in instance.venvs
    assert "default" in app.service("Service2").source.venvs  # type: ignore[union-attr]
    # a task id is only valid on its own service
    fault = call(client, "Service2", "install_progress", task_id=t1)["fault"]
    assert "Unknown task" in fault["string"]
    progress = result(client, "Service1", "install_progress", task_id=t1)
    assert progress["state"] == "succeeded" and progress["progress"] == 1.0


@pytest.fixture(scope="module")
def live(app: LadonWSGIApplication) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.mark.e2e
@pytest.mark.parametrize("iface", ["soap", "soap11"])
def test_zeep_calls_template_services(live: str, iface: str) -> None:
    c1 = zeep.Client(f"{live}/Service1/{iface}/description")
    cn = zeep.Client(f"{live}/ServiceN/{iface}/description")
    assert c1.service.configure("a", "b") is True
    assert cn.service.configure(2, False) is True
    assert cn.service.start() is True
    assert c1.service.status() in ("running", "stopped")
    task = c1.service.install("zeep")
    task_id = task if isinstance(task, str) else task["task-id"]
    deadline = time.monotonic() + 10
    while c1.service.install_progress(task_id)["state"] != "succeeded":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert c1.service.install_result(task_id) is True


# -- inheritance and mixins -----------------------------------------------------------


class Greeter:
    @ladonize(str, rtype=str)
    def greet(self, name):  # type: ignore[no-untyped-def]
        """Say hello."""
        return f"hello {name}"

    @ladonize(rtype=int)
    def answer(self) -> int:
        return 41


class PoliteGreeter(Greeter):
    def greet(self, name):  # type: ignore[no-untyped-def]  # not decorated
        return f"good day {name}"

    @ladonize(rtype=int)
    def answer(self) -> int:
        """The real answer."""
        return super().answer() + 1


class CountingMixin:
    """Contributes one method only."""

    @ladonize(rtype=int)
    def count(self):  # type: ignore[no-untyped-def]
        return 3


class Mixed(CountingMixin, PoliteGreeter):
    pass


def test_undecorated_override_keeps_the_published_signature() -> None:
    base, sub = build_service(Greeter), build_service(PoliteGreeter)
    assert base.methods["greet"] == sub.methods["greet"]
    app = TestApp(LadonWSGIApplication([PoliteGreeter]))
    assert result(app, "PoliteGreeter", "greet", name="Ann") == "good day Ann"
    fault = call(app, "PoliteGreeter", "greet", name=5, extra=1)["fault"]
    assert "extra" in fault["string"]  # checked against the base's signature


def test_decorated_override_replaces_types_and_docs_and_calls_super() -> None:
    info = build_service(PoliteGreeter)
    assert info.methods["answer"].doc == ("The real answer.",)
    assert build_service(Greeter).methods["answer"].doc == ()
    app = TestApp(LadonWSGIApplication([PoliteGreeter]))
    assert result(app, "PoliteGreeter", "answer") == 42


def test_a_mixin_contributes_methods() -> None:
    info = build_service(Mixed)
    assert set(info.methods) == {"greet", "answer", "count"}
    app = TestApp(LadonWSGIApplication([Mixed]))
    assert result(app, "Mixed", "count") == 3
    assert result(app, "Mixed", "answer") == 42


def test_a_class_is_still_served_with_a_fresh_instance_per_call() -> None:
    class Counter:
        def __init__(self) -> None:
            self.n = 0

        @ladonize(rtype=int)
        def bump(self):  # type: ignore[no-untyped-def]
            self.n += 1
            return self.n

    app = TestApp(LadonWSGIApplication([Counter]))
    assert [result(app, "Counter", "bump") for _ in range(3)] == [1, 1, 1]
    inst = Counter()
    inst.service_name = "Shared"  # type: ignore[attr-defined]
    app = TestApp(LadonWSGIApplication([inst]))
    assert [result(app, "Shared", "bump") for _ in range(3)] == [1, 2, 3]


# -- errors that explain ------------------------------------------------------------------


class Template:
    def __init__(self, service_name: str, callback: object) -> None:
        self.service_name = service_name
        self.callback = callback

    @callback_method("callback")
    def configure(self, *args, **kw):  # type: ignore[no-untyped-def]
        return self.callback(*args, **kw)  # type: ignore[operator]


def untyped(a, b=1):  # type: ignore[no-untyped-def]
    return True


def no_return(a: int):  # type: ignore[no-untyped-def]
    return True


def kw_only(a: int, *, b: int = 1) -> bool:
    return True


def typed(a: int) -> bool:
    return a > 0


@pytest.mark.parametrize(
    ("callback", "message"),
    [
        (untyped, r"service S, method configure .*parameter 'a' has no type"),
        (no_return, r"service S, method configure .*no return type"),
        (kw_only, r"keyword-only parameter\(s\) b"),
        (42, r"service S, method configure: attribute 'callback' is a int, not a callable"),
    ],
    ids=["untyped", "no-rtype", "keyword-only", "not-callable"],
)
def test_unusable_callbacks_are_errors_at_construction(callback: object, message: str) -> None:
    with pytest.raises(DefinitionError, match=message):
        LadonWSGIApplication([Template("S", callback)])


def test_missing_callback_attribute() -> None:
    inst = Template("S", None)
    del inst.callback
    with pytest.raises(DefinitionError, match="no attribute 'callback'.*set it"):
        build_service(inst)


def test_callback_types_given_to_the_decorator() -> None:
    class T(Template):
        @callback_method("callback", int, int, rtype=int)
        def configure(self, *args, **kw):  # type: ignore[no-untyped-def]
            return self.callback(*args, **kw)  # type: ignore[operator]

    app = TestApp(LadonWSGIApplication([T("Typed", lambda a, b=2: a * b)]))
    assert result(app, "Typed", "configure", a=3) == 6
    assert result(app, "Typed", "configure", a="3", b=5) == 15


def test_a_template_class_served_as_a_class_says_to_serve_an_instance() -> None:
    with pytest.raises(DefinitionError, match="serve an instance of Template"):
        build_services([Template])


def test_two_services_with_the_same_name() -> None:
    with pytest.raises(DefinitionError, match="two services are named 's'.*different service_name"):
        LadonWSGIApplication([Template("S", typed), Template("s", typed)])


def test_an_instance_of_a_class_with_no_published_method() -> None:
    class Plain:
        service_name = "P"

    with pytest.raises(DefinitionError, match="Plain publishes no method.*@ladonize"):
        LadonWSGIApplication([Plain()])


@pytest.mark.parametrize("wrapper", [staticmethod, classmethod, property])
def test_decorator_over_staticmethod_classmethod_property(wrapper: Any) -> None:
    with pytest.raises(DefinitionError, match=f"cannot decorate a {wrapper.__name__}"):

        class Bad:
            @ladonize(rtype=int)
            @wrapper
            def m(self):  # type: ignore[no-untyped-def]
                return 1


@pytest.mark.parametrize("wrapper", [staticmethod, classmethod, property])
def test_staticmethod_classmethod_property_over_the_decorator(wrapper: Any) -> None:
    class Bad:
        @wrapper
        @ladonize(rtype=int)
        def m(self):  # type: ignore[no-untyped-def]
            return 1

    with pytest.raises(
        DefinitionError, match=f"Bad.m: @{wrapper.__name__} wraps a published method"
    ):
        build_service(Bad)


def test_decorating_a_module_level_function() -> None:
    namespace: dict[str, Any] = {"ladonize": ladonize}
    code = "@ladonize(int, rtype=int)\ndef add(self, a):\n    return a\n"
    with pytest.raises(DefinitionError, match="not defined in a class: move it into a class"):
        exec(compile(code, "<service>", "exec"), namespace)
