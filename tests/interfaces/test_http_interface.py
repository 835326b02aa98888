"""The ``http`` interface: plain JSON over HTTP, RFC 9457 problems, task
resources, form-data files, and the OpenAPI document's URLs."""

from __future__ import annotations

import hashlib
import importlib
import json
import re
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from webtest import TestApp

from ladon import LadonType
from ladon import ladonize
from ladon.interfaces.openapi import IDEMPOTENCY_KEY_PATTERN
from ladon.ladonizer.model import MethodKind
from ladon.server.wsgi import LadonWSGIApplication
from ladon.tasks import ThreadTaskBackend
from ladon.tasks.idempotency import check_key

SERVICES = Path(__file__).resolve().parents[1] / "services"
if str(SERVICES) not in sys.path:
    sys.path.append(str(SERVICES))
task_services = importlib.import_module("task_services")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def app() -> Iterator[LadonWSGIApplication]:
    application = LadonWSGIApplication(
        [
            "task_services",
            "constrained",
            str(EXAMPLES / "calculator.py"),
            str(EXAMPLES / "attachments.py"),
        ],
        [str(SERVICES)],
        tasks=ThreadTaskBackend(max_workers=4),
        max_content_length=64 * 1024,
    )
    yield application
    task_services.release_all()
    application.close()


@pytest.fixture()
def client(app: LadonWSGIApplication) -> TestApp:
    return TestApp(app)


def problem(r: object, status: int) -> dict[str, object]:
    assert r.status_int == status, r.text  # type: ignore[attr-defined]
    assert r.content_type == "application/problem+json"  # type: ignore[attr-defined]
    body = r.json  # type: ignore[attr-defined]
    assert body["status"] == status and body["type"] == "about:blank"
    assert "Traceback" not in r.text and ".py" not in r.text  # type: ignore[attr-defined]
    return body  # type: ignore[no-any-return]


def test_a_call_posts_named_arguments_and_gets_the_result_as_the_body(client: TestApp) -> None:
    r = client.post_json("/Calculator/http/add", {"a": 2, "b": 3})
    assert (r.status_int, r.content_type, r.json) == (200, "application/json", 5)


def test_a_ladontype_result_is_a_json_object(client: TestApp) -> None:
    r = client.post_json(
        "/Calculator/http/statistics",
        {"operands": [{"label": "x", "value": 1.5}, {"label": "y", "value": 2.5}]},
    )
    assert r.json["count"] == 2 and r.json["largest"] == {"label": "y", "value": 2.5}


def test_optional_arguments_may_be_left_out_and_an_empty_body_means_none(client: TestApp) -> None:
    assert client.post_json("/Calculator/http/divide", {"a": 3}).json == 3.0
    r = client.post("/Limits/http/paint", b"", content_type="application/json")
    assert r.json == "green"


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"a": "2", "b": 3}, 422, 'Argument "a": expected an integer'),
        ({"a": True, "b": 3}, 422, 'Argument "a": expected an integer'),
        ({"a": 2}, 422, 'Argument "b": is not optional'),
        ({"a": 2, "b": 3, "c": 4}, 422, "no parameter(s) 'c'"),
        ([2, 3], 400, "must be a JSON object"),
    ],
)
def test_bad_arguments_are_problems_naming_them(
    client: TestApp, body: object, status: int, says: str
) -> None:
    r = client.post_json("/Calculator/http/add", body, expect_errors=True)
    assert says in str(problem(r, status)["detail"])


def test_null_is_refused_where_none_is_not_allowed(client: TestApp) -> None:
    r = client.post_json("/Calculator/http/divide", {"a": 1, "b": None}, expect_errors=True)
    assert "got null" in str(problem(r, 422)["detail"])


def test_malformed_json_is_a_400_problem(client: TestApp) -> None:
    r = client.post(
        "/Calculator/http/add", b"{nope", content_type="application/json", expect_errors=True
    )
    assert "not valid JSON" in str(problem(r, 400)["detail"])


def test_another_content_type_is_a_415_problem(client: TestApp) -> None:
    r = client.post("/Calculator/http/add", b"a=1", content_type="text/plain", expect_errors=True)
    assert "application/json" in str(problem(r, 415)["detail"])


def test_an_unknown_method_is_a_404_problem(client: TestApp) -> None:
    problem(client.post_json("/Calculator/http/nope", {}, expect_errors=True), 404)


@pytest.mark.parametrize("verb", ["get", "put", "delete", "patch"])
def test_a_method_url_takes_post_only(client: TestApp, verb: str) -> None:
    r = getattr(client, verb)("/Calculator/http/add", expect_errors=True)
    problem(r, 405)
    assert r.headers["Allow"] == "POST"


def test_a_body_over_the_limit_is_a_413_problem(client: TestApp) -> None:
    body = json.dumps({"a": 1, "b": 2, "pad": "x" * 100_000})
    r = client.post(
        "/Calculator/http/add", body, content_type="application/json", expect_errors=True
    )
    problem(r, 413)


def test_a_client_fault_of_the_service_is_a_400_problem_with_its_hint(client: TestApp) -> None:
    r = client.post_json("/Calculator/http/divide", {"a": 1, "b": 0}, expect_errors=True)
    body = problem(r, 400)
    assert body["detail"] == "Cannot divide by zero" and body["hint"] == "pass a non-zero b"
    assert body["code"] == "client"


def _wait_state(client: TestApp, location: str, states: set[str]) -> dict[str, object]:
    deadline = time.monotonic() + 10
    while True:
        status = client.get(location).json
        if status["state"] in states or time.monotonic() > deadline:
            return status  # type: ignore[no-any-return]
        time.sleep(0.02)


def test_a_task_start_answers_202_with_the_location_of_its_status(client: TestApp) -> None:
    task_services.reset()
    r = client.post_json("/Jobs/http/echo", {"name": "h1", "text": "done"})
    assert r.status_int == 202
    task_id = r.json["task_id"]
    location = r.headers["Location"]
    assert location == f"http://localhost:80/Jobs/http/echo/tasks/{task_id}".replace(":80", "")
    assert task_services.started("h1").wait(5)
    running = client.get(location).json
    assert running["task_id"] == task_id and running["state"] == "running"
    early = client.get(location + "/result", expect_errors=True)
    assert "still running" in str(problem(early, 409)["detail"])
    task_services.release("h1")
    assert _wait_state(client, location, {"succeeded"})["progress"] == 1.0
    assert client.get(location + "/result").json == "done"


def test_only_task_starts_and_task_resources_need_the_public_url(
    app: LadonWSGIApplication,
) -> None:
    by_name = {s.name: s for s in app.services}
    calculator = app.interface(by_name["Calculator"], "http")
    http = app.interface(by_name["Jobs"], "http")
    assert calculator is not None and http is not None
    assert by_name["Calculator"].methods["add"].kind is MethodKind.PLAIN
    assert not calculator.needs_base_url("/add")  # its answer writes no URL
    assert http.needs_base_url("/echo")  # a task start: its Location
    assert http.needs_base_url("/echo/tasks/" + "a" * 40)
    assert http.needs_base_url("/no_such_method")  # decode_call answers it


def test_a_task_is_cancelled_through_its_cancel_resource(client: TestApp) -> None:
    task_services.reset()
    r = client.post_json("/Jobs/http/cooperative", {"name": "h2"})
    location = r.headers["Location"]
    answer = client.post(location + "/cancel")
    assert answer.json["task_id"] == r.json["task_id"]
    task_services.release_all()
    assert _wait_state(client, location, {"cancelled", "succeeded"})["state"] == "cancelled"
    assert "cancelled" in str(
        problem(client.get(location + "/result", expect_errors=True), 409)["detail"]
    )


def test_an_unknown_task_is_a_404_problem(client: TestApp) -> None:
    problem(client.get("/Jobs/http/square/tasks/nope", expect_errors=True), 404)
    problem(client.get("/Jobs/http/add/tasks/x", expect_errors=True), 404)
    r = client.get("/Jobs/http/square/tasks/nope/cancel", expect_errors=True)
    assert problem(r, 405) and r.headers["Allow"] == "POST"


def test_the_task_methods_stay_plain_methods_too(client: TestApp) -> None:
    task_id = client.post_json("/Jobs/http/square", {"n": 7}).json["task_id"]
    deadline = time.monotonic() + 10
    while (
        client.post_json("/Jobs/http/square_progress", {"task_id": task_id}).json["state"]
        != "succeeded"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert client.post_json("/Jobs/http/square_result", {"task_id": task_id}).json == 49


def test_files_travel_as_multipart_form_data_parts(client: TestApp) -> None:
    data = b"\x00\x01 some bytes " * 100
    r = client.post(
        "/Files/http/upload",
        {"name": "blob"},
        upload_files=[("data", "blob.bin", data, "application/octet-stream")],
    )
    assert r.json == {"name": "blob", "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def test_form_fields_are_read_by_the_parameter_type(client: TestApp) -> None:
    r = client.post("/Files/http/upload", {"name": "123"}, upload_files=[("data", "a", b"x")])
    assert r.json["name"] == "123"  # text for a str parameter, not the number 123
    r = client.post(
        "/Files/http/upload",
        {"name": "n", "other": "1"},
        upload_files=[("data", "a", b"x")],
        expect_errors=True,
    )
    assert "no parameter(s) 'other'" in str(problem(r, 422)["detail"])


def test_an_attachment_result_is_the_body_itself(client: TestApp) -> None:
    r = client.post_json("/Files/http/report", {"title": "Hello", "lines": 1})
    assert r.content_type == "text/plain"
    assert r.body == b"Hello\n1. line 1\n"


def test_the_description_is_openapi_with_the_public_url(
    client: TestApp, app: LadonWSGIApplication
) -> None:
    doc = client.get("/Calculator/http/description", extra_environ={"SCRIPT_NAME": "/api"}).json
    assert doc["openapi"] == "3.1.0"
    assert doc["servers"] == [{"url": "http://localhost/api/Calculator/http"}]
    r = client.post_json("/Jobs/http/square", {"n": 2}, extra_environ={"SCRIPT_NAME": "/api"})
    assert r.headers["Location"].startswith("http://localhost/api/Jobs/http/square/tasks/")


def test_the_catalog_document_lists_every_service(
    client: TestApp, app: LadonWSGIApplication
) -> None:
    doc = client.get("/_ladon/openapi.json").json
    assert [t["name"] for t in doc["tags"]] == [s.name for s in app.services]
    assert "/Calculator/http/add" in doc["paths"]
    assert doc["paths"]["/Calculator/http/add"]["post"]["operationId"] == "Calculator.add"
    assert "Calculator.Operand" in doc["components"]["schemas"]


def test_base_url_wins_in_the_description() -> None:
    app = LadonWSGIApplication(
        [str(EXAMPLES / "calculator.py")], base_url="https://api.example.org/v1/"
    )
    doc = TestApp(app).get("/Calculator/http/description").json
    assert doc["servers"][0]["url"] == "https://api.example.org/v1/Calculator/http"


def test_the_docs_pages_link_the_openapi_documents(client: TestApp) -> None:
    catalog = client.get("/").text
    assert 'href="/_ladon/openapi.json"' in catalog
    page = client.get("/Calculator").text
    assert '<a href="/Calculator/http/description">OpenAPI 3.1</a>' in page


def test_the_service_page_shows_the_declared_rules(client: TestApp) -> None:
    page = client.get("/Limits").text
    assert '<span class="rules">(≥ 1)</span>' in page
    assert "one of S, M, L" in page
    assert "matches [a-z]+" in page


def test_the_status_resource_with_wait_calls_the_generated_wait_method() -> None:
    """``GET .../tasks/<id>?wait=N`` is ``<task>_wait(task_id, N)``: it
    answers once the task has ended (or after N seconds, capped by the
    server); the OpenAPI document describes the ``wait`` parameter, and a
    negative or non-numeric ``wait`` is a 422 naming it."""
    gate = threading.Event()

    class Waits:
        @ladonize(tasktype=True)
        def job(self, n: int, **kw: Any) -> int:
            gate.wait(10)
            return n

    app = LadonWSGIApplication([Waits], max_wait=5)
    client = TestApp(app)
    task_id = client.post_json("/Waits/http/job", {"n": 7}).json["task_id"]
    r = client.get(f"/Waits/http/job/tasks/{task_id}?wait=0.2")
    assert r.json["state"] == "running"
    threading.Timer(0.2, gate.set).start()
    started = time.monotonic()
    r = client.get(f"/Waits/http/job/tasks/{task_id}?wait=30")
    assert r.json["state"] == "succeeded" and time.monotonic() - started < 4
    for bad, said in (("-1", "must be ≥ 0"), ("soon", "expected a number")):
        problem = client.get(f"/Waits/http/job/tasks/{task_id}?wait={bad}", status=422).json
        assert problem["path"] == "wait" and said in problem["detail"]
    doc = client.get("/Waits/http/description").json
    params = doc["paths"]["/job/tasks/{task_id}"]["get"]["parameters"]
    assert [p["name"] for p in params] == ["task_id", "wait"]
    # a start reads an optional Idempotency-Key (and Ladon-Callback-URL only
    # where the app sends callbacks: see below); starts and _wait may answer 503
    start = doc["paths"]["/job"]["post"]
    headers = {p["name"]: p for p in start["parameters"] if p["in"] == "header"}
    assert set(headers) == {"Idempotency-Key"}
    assert not any(p["required"] for p in headers.values())
    assert "503" in start["responses"]
    assert "503" in doc["paths"]["/job_wait"]["post"]["responses"]
    app.close()


@settings(max_examples=300, deadline=None)
@given(st.from_regex(IDEMPOTENCY_KEY_PATTERN, fullmatch=True).filter(lambda k: len(k) <= 255))
def test_every_idempotency_key_the_openapi_schema_allows_is_taken_as_it_is(key: str) -> None:
    """The schema's pattern is no wider than what the server takes (a key
    it allows is never a 400), so tools generating headers from it (e.g.
    Schemathesis) send only keys the server accepts."""
    assert check_key(key) == key


def test_the_idempotency_key_pattern_leaves_out_what_the_server_refuses() -> None:
    pattern = re.compile(IDEMPOTENCY_KEY_PATTERN)
    for refused in ("", " ", "a,b", '""', '"a\\"', "caf\u00e9", "a\tb"):
        assert not pattern.fullmatch(refused), refused
        with pytest.raises(ValueError):
            check_key(refused)


class Callbacks:
    @ladonize(tasktype=True)
    def job(self, n: int) -> int:
        return n


@pytest.mark.parametrize(
    ("hosts", "declared"),
    [
        (None, {"Idempotency-Key"}),
        (["hooks.example.com"], {"Idempotency-Key", "Ladon-Callback-URL"}),
    ],
    ids=["no-callback-hosts", "callback-hosts"],
)
def test_task_starts_declare_the_callback_header_only_when_the_app_sends_callbacks(
    hosts: list[str] | None, declared: set[str]
) -> None:
    """Without ``callback_hosts`` every ``Ladon-Callback-URL`` is refused
    (400): the OpenAPI documents do not offer it then."""
    secret = None if hosts is None else "0123456789abcdef0123"
    app = LadonWSGIApplication([Callbacks], callback_hosts=hosts, callback_secret=secret)
    client = TestApp(app)
    for doc, path in (
        (client.get("/Callbacks/http/description").json, "/job"),
        (client.get("/_ladon/openapi.json").json, "/Callbacks/http/job"),
    ):
        start = doc["paths"][path]["post"]
        assert {p["name"] for p in start["parameters"] if p["in"] == "header"} == declared
    if hosts is None:
        refused = client.post_json(
            "/Callbacks/http/job",
            {"n": 1},
            headers={"Ladon-Callback-URL": "https://hooks.example.com/done"},
            status=400,
        )
        assert "sends no completion callbacks" in refused.json["detail"]
    app.close()


class Problem(LadonType):
    """A medical problem on a patient's problem list."""

    icd_code: str
    severity: int


class ProblemList:
    @ladonize()
    def add_problem(self, problem: Problem) -> Problem:
        return problem


def _problem_refs(doc: dict[str, Any]) -> set[str]:
    return {
        response["content"]["application/problem+json"]["schema"]["$ref"]
        for item in doc["paths"].values()
        for op in item.values()
        for response in op["responses"].values()
        if "application/problem+json" in response.get("content", {})
    }


def test_the_problem_schema_is_named_problem(client: TestApp) -> None:
    doc = client.get("/Calculator/http/description").json
    assert _problem_refs(doc) == {"#/components/schemas/Problem"}
    assert "detail" in doc["components"]["schemas"]["Problem"]["properties"]


def test_a_type_named_problem_keeps_its_schema_beside_the_problem_schema() -> None:
    """A service's own ``Problem`` is ``Problem`` in its document, as in its
    other descriptions; the RFC 9457 schema is then ``ladon.Problem``, as
    in the catalog document."""
    client = TestApp(LadonWSGIApplication([ProblemList]))
    doc = client.get("/ProblemList/http/description").json
    schemas = doc["components"]["schemas"]
    assert set(schemas["Problem"]["properties"]) == {"icd_code", "severity"}
    assert "detail" in schemas["ladon.Problem"]["properties"]
    assert _problem_refs(doc) == {"#/components/schemas/ladon.Problem"}
    op = doc["paths"]["/add_problem"]["post"]
    body = op["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["problem"] == {"$ref": "#/components/schemas/Problem"}
    result = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert result == {"$ref": "#/components/schemas/Problem"}
    catalog = client.get("/_ladon/openapi.json").json["components"]["schemas"]
    assert set(catalog) == {"ProblemList.Problem", "ladon.Problem"}
    sent = {"problem": {"icd_code": "J45", "severity": 2}}
    assert client.post_json("/ProblemList/http/add_problem", sent).json == sent["problem"]


class Kitchen:
    @ladonize()
    def größe(self, länge: int) -> int:
        return länge * 2

    @ladonize(tasktype=True)
    def wärme(self, grad: int, **kw: Any) -> int:
        return grad


def test_a_method_with_a_non_ascii_name_is_called_at_its_utf8_url() -> None:
    """PATH_INFO holds the URL's bytes as latin-1 characters (PEP 3333):
    they are read as UTF-8, the spelling of the OpenAPI document's path."""
    app = LadonWSGIApplication([Kitchen], tasks=ThreadTaskBackend(max_workers=1))
    client = TestApp(app)
    assert "/größe" in client.get("/Kitchen/http/description").json["paths"]
    for _ in range(2):  # the first call, then the application's known endpoint
        assert client.post_json("/Kitchen/http/gr%C3%B6%C3%9Fe", {"länge": 2}).json == 4
    started = client.post_json("/Kitchen/http/w%C3%A4rme", {"grad": 7}, status=202)
    location = started.headers["Location"]
    assert location.startswith("http://localhost/Kitchen/http/w%C3%A4rme/tasks/")
    status = _wait_state(client, location, {"succeeded"})
    assert status["task_id"] == started.json["task_id"]
    assert client.get(location + "/result").json == 7
    missing = problem(client.post_json("/Kitchen/http/gr%C3%B6sse", {}, status=404), 404)
    assert missing["detail"] == "Service Kitchen has no method 'grösse'"
    app.close()


def test_a_path_that_is_not_utf8_is_a_404() -> None:
    client = TestApp(LadonWSGIApplication([Kitchen]))
    refused = client.post_json("/Kitchen/http/gr%F6%DFe", {"länge": 2}, status=404)
    assert refused.text.strip() == "The request path is not valid UTF-8"
    assert client.get("/K%C3%BCche", status=404).text.strip() == "No service named 'Küche'"
