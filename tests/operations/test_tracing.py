"""OpenTelemetry: a server span per call on every interface (``rpc.system``,
``rpc.service``, ``rpc.method``, fault status), the request's W3C
``traceparent`` as its parent, and the task's span a child of the start
call's span: on the thread pool, in a gunicorn worker on SQLite, on a real
RQ worker. Spans are captured with the SDK (its in-memory exporter here;
in the other processes, the SDK's console exporter writing to a file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tasks.backend_support import SERVICES_DIR
from tasks.backend_support import Client as TaskClient
from tasks.backend_support import RedisServer
from tasks.backend_support import child_env
from tasks.backend_support import free_port
from tasks.backend_support import in_process
from tasks.backend_support import over_http
from tasks.backend_support import stop_process
from tasks.backend_support import wait_until
from werkzeug.test import Client

from ladon.server.wsgi import LadonWSGIApplication

from .conftest import Spans

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


@pytest.fixture(scope="module")
def app() -> Iterator[LadonWSGIApplication]:
    import ops_app

    application = ops_app.make_app(tasks="thread://")
    yield application
    application.close()


SOAP = (
    '<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="urn:Jobs">'
    "<e:Body><m:add><m:a>2</m:a><m:b>3</m:b></m:add></e:Body></e:Envelope>"
)
CALLS: dict[str, tuple[str, bytes, str]] = {
    "soap": ("soap11", SOAP.encode(), "text/xml"),
    "jsonrpc": (
        "jsonrpc",
        b'{"jsonrpc": "2.0", "method": "add", "params": [2, 3], "id": 1}',
        "application/json",
    ),
    "xmlrpc": (
        "xmlrpc",
        b"<methodCall><methodName>add</methodName><params><param><value><int>2</int></value>"
        b"</param><param><value><int>3</int></value></param></params></methodCall>",
        "text/xml",
    ),
    "jsonwsp": ("jsonwsp", b'{"methodname": "add", "args": {"a": 2, "b": 3}}', "application/json"),
}


@pytest.mark.parametrize("system", [*CALLS, "http"], ids=[*CALLS, "http"])
def test_every_call_is_a_server_span_under_the_callers_traceparent(
    app: LadonWSGIApplication, spans: Spans, system: str
) -> None:
    from opentelemetry.trace import SpanKind
    from opentelemetry.trace import StatusCode

    client = Client(app)
    headers = {"traceparent": TRACEPARENT, "X-Request-ID": f"trace-{system}", "SOAPAction": '""'}
    if system == "http":
        response = client.post("/Jobs/http/add", json={"a": 2, "b": 3}, headers=headers)
        iface = "http"
    else:
        iface, body, ctype = CALLS[system]
        response = client.post(f"/Jobs/{iface}", data=body, content_type=ctype, headers=headers)
    assert response.status_code == 200, response.get_data()
    (span,) = spans.finished()
    assert span.name == "Jobs/add"
    assert span.kind is SpanKind.SERVER
    assert dict(span.attributes) == {
        "rpc.system": system,
        "rpc.service": "Jobs",
        "rpc.method": "add",
        "ladon.interface": iface,
        "ladon.request_id": f"trace-{system}",
    }
    assert f"{span.context.trace_id:032x}" == TRACE_ID
    assert f"{span.parent.span_id:016x}" == PARENT_ID
    assert span.parent.is_remote
    assert span.status.status_code is StatusCode.UNSET


def test_a_fault_sets_the_span_status(app: LadonWSGIApplication, spans: Spans) -> None:
    from opentelemetry.trace import StatusCode

    client = Client(app)
    client.post("/Jobs/jsonwsp", json={"methodname": "explode", "args": {}})
    client.post("/Jobs/jsonwsp", json={"methodname": "boom_result", "args": {"task_id": "0" * 40}})
    server, unknown = spans.finished()
    assert server.status.status_code is StatusCode.ERROR
    assert server.status.description == "Internal server error"
    assert server.attributes["ladon.fault"] == "server"
    assert unknown.attributes["ladon.fault"] == "client"
    assert unknown.attributes["rpc.method"] == "boom_result"
    # without a traceparent the call starts a trace of its own
    assert server.parent is None


def test_a_result_the_answer_cannot_carry_is_a_server_fault_span(
    app: LadonWSGIApplication, spans: Spans
) -> None:
    from opentelemetry.trace import StatusCode

    answer = Client(app).post("/Jobs/jsonwsp", json={"methodname": "misreport", "args": {}})
    assert answer.get_json()["fault"]["code"] == "server"
    (span,) = spans.finished()
    assert span.name == "Jobs/misreport"
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["ladon.fault"] == "server"


@pytest.mark.parametrize(
    ("path", "body", "method"),
    [
        ("/Jobs/jsonwsp", {"methodname": "add", "args": {"a": "two", "b": 3}}, "add"),
        ("/Jobs/jsonwsp", {"methodname": "no_such_method", "args": {}}, None),
        ("/Jobs/http/add", {"a": 2}, "add"),
    ],
    ids=["wrong-type", "unknown-method", "http-missing-argument"],
)
def test_a_request_refused_before_any_call_is_a_span_too(
    app: LadonWSGIApplication,
    spans: Spans,
    path: str,
    body: dict[str, Any],
    method: str | None,
) -> None:
    """Named after the method when the request got as far as naming one
    (its arguments refused), else after the service alone."""
    from opentelemetry.trace import StatusCode

    response = Client(app).post(path, json=body, headers={"traceparent": TRACEPARENT})
    assert response.status_code in (200, 422), response.get_data()
    (span,) = spans.finished()
    if method is None:
        assert span.name == "Jobs"
        assert "rpc.method" not in span.attributes
    else:
        assert span.name == f"Jobs/{method}"
        assert span.attributes["rpc.method"] == method
    assert span.attributes["rpc.service"] == "Jobs"
    assert span.attributes["ladon.fault"] == "client"
    assert span.status.status_code is StatusCode.ERROR
    assert f"{span.context.trace_id:032x}" == TRACE_ID


def test_a_thread_task_is_a_child_of_its_start_call(
    app: LadonWSGIApplication, spans: Spans
) -> None:
    from opentelemetry.trace import SpanKind
    from opentelemetry.trace import StatusCode

    jobs = TaskClient(in_process(app, {"traceparent": TRACEPARENT}), "Jobs")
    assert jobs.run("crawl", steps=2, pause=0.01) == 2
    failed = jobs.start("boom", reason="disk full")
    jobs.wait_state("boom", failed)
    found = spans.finished()
    start = next(s for s in found if s.name == "Jobs/crawl")
    task = next(s for s in found if s.name == "Jobs.crawl task")
    assert task.kind is SpanKind.CONSUMER
    assert task.context.trace_id == start.context.trace_id
    assert f"{task.context.trace_id:032x}" == TRACE_ID
    assert task.parent.span_id == start.context.span_id
    assert task.attributes["ladon.task.state"] == "succeeded"
    assert len(task.attributes["ladon.task.id"]) == 40
    boom = next(s for s in found if s.name == "Jobs.boom task")
    assert boom.status.status_code is StatusCode.ERROR
    assert boom.status.description == "disk full"
    assert boom.attributes["ladon.task.state"] == "failed"
    boom_start = next(s for s in found if s.name == "Jobs/boom")
    assert boom.parent.span_id == boom_start.context.span_id


@pytest.mark.parametrize("fail", ["", "error", "retry"], ids=["returns", "raises", "retries"])
def test_a_cancelled_task_span_says_cancelled_however_its_job_ends(
    app: LadonWSGIApplication, spans: Spans, fail: str
) -> None:
    from opentelemetry.trace import StatusCode

    jobs = TaskClient(in_process(app, {"traceparent": TRACEPARENT}), "Jobs")
    task_id = jobs.start("heed", fail=fail)
    jobs.wait_state("heed", task_id, ("running",))  # a pending one would never run
    jobs.cancel("heed", task_id)
    assert jobs.wait_state("heed", task_id)["state"] == "cancelled"
    wait_until(lambda: any(s.name == "Jobs.heed task" for s in spans.finished()))
    task = next(s for s in spans.finished() if s.name == "Jobs.heed task")
    assert task.attributes["ladon.task.state"] == "cancelled"
    assert task.status.status_code is not StatusCode.ERROR


def read_spans(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def span_ids(span: dict[str, Any]) -> tuple[str, str, str | None]:
    """(trace id, span id, parent span id) as hex without 0x."""
    context = span["context"]
    return (
        context["trace_id"].removeprefix("0x"),
        context["span_id"].removeprefix("0x"),
        span["parent_id"].removeprefix("0x") if span.get("parent_id") else None,
    )


@pytest.mark.e2e
def test_an_sqlite_task_in_a_gunicorn_worker_is_a_child_of_its_start_call(
    tmp_path: Path,
) -> None:
    spans_file = tmp_path / "spans.jsonl"
    port = free_port()
    log = open(tmp_path / "gunicorn.log", "wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--no-control-socket",
            "ops_app:app",
        ],
        cwd=str(SERVICES_DIR),
        env=child_env(
            LADON_TASKS=f"sqlite://{tmp_path / 'tasks.db'}", LADON_TEST_SPANS=str(spans_file)
        ),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        post = over_http(port)

        def up() -> bool:
            assert proc.poll() is None, (tmp_path / "gunicorn.log").read_text()[-2000:]
            try:
                post("/Jobs/jsonwsp", {"methodname": "add", "args": {"a": 1, "b": 1}})
            except OSError:
                return False
            return True

        wait_until(up, 30.0, "gunicorn serving")
        import http.client

        from tasks.backend_support import Client as Plain

        def traced(path: str, body: dict[str, Any]) -> Any:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                conn.request(
                    "POST",
                    path,
                    json.dumps(body),
                    {"Content-Type": "application/json", "traceparent": TRACEPARENT},
                )
                return json.loads(conn.getresponse().read())
            finally:
                conn.close()

        jobs = Plain(traced, "Jobs")
        assert jobs.run("crawl", steps=3, pause=0.02) == 3

        def exported() -> bool:
            return any(s["name"] == "Jobs.crawl task" for s in read_spans(spans_file))

        wait_until(exported, 10.0, "the task's span exported")
        found = read_spans(spans_file)
        start = next(s for s in found if s["name"] == "Jobs/crawl")
        task = next(s for s in found if s["name"] == "Jobs.crawl task")
        trace_id, start_id, start_parent = span_ids(start)
        task_trace, _task_id, task_parent = span_ids(task)
        assert trace_id == task_trace == TRACE_ID
        assert start_parent == PARENT_ID
        assert task_parent == start_id
        worker_pid = task["resource"]["attributes"]["process.pid"]
        assert worker_pid != os.getpid()  # another process: a gunicorn worker
        assert task["attributes"]["ladon.task.state"] == "succeeded"
    finally:
        stop_process(proc)
        log.close()


@pytest.mark.e2e
def test_an_rq_task_on_a_worker_is_a_child_of_its_start_call(tmp_path: Path, spans: Spans) -> None:
    import ops_app

    redis = RedisServer()
    url = redis.url(queue="traced", prefix="traced:")
    spans_file = tmp_path / "worker-spans.jsonl"
    app = ops_app.make_app(tasks=url)
    log = open(tmp_path / "worker.log", "wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "ladon.cli", "worker", "ops_app:app", "--url", url],
        env=child_env(LADON_TEST_SPANS=str(spans_file)),
        cwd=str(SERVICES_DIR),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        jobs = TaskClient(in_process(app, {"traceparent": TRACEPARENT}), "Jobs")
        assert jobs.run("crawl", steps=2, pause=0.01) == 2
        wait_until(
            lambda: any(s["name"] == "Jobs.crawl task" for s in read_spans(spans_file)),
            10.0,
            "the worker's span exported",
        )
        start = next(s for s in spans.finished() if s.name == "Jobs/crawl")
        task = next(s for s in read_spans(spans_file) if s["name"] == "Jobs.crawl task")
        task_trace, _, task_parent = span_ids(task)
        assert task_trace == f"{start.context.trace_id:032x}" == TRACE_ID
        assert task_parent == f"{start.context.span_id:016x}"
        assert task["resource"]["attributes"]["process.pid"] != os.getpid()
        assert task["attributes"]["ladon.task.state"] == "succeeded"
    finally:
        stop_process(worker)
        log.close()
        app.close()
        redis.stop()
