"""Hostile input against the operations (issue 17): request ids, trace
headers, Accept-Encoding, the operator's endpoints. Whatever a client
sends, the answer is clean (no traceback, path or module name), fast,
bounded, and the request id echoed is always a sane one. Uses the harness
of ``test_hostile.py`` (raw WSGI environs)."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_hostile import Answer
from test_hostile import assert_clean
from test_hostile import request

from ladon.server.wsgi import LadonWSGIApplication

SERVICES = Path(__file__).resolve().parents[1] / "services"
SANE = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
ADD = json.dumps({"methodname": "add", "args": {"a": 1, "b": 2}}).encode()


@pytest.fixture(scope="module")
def app() -> Iterator[LadonWSGIApplication]:
    import sys

    if str(SERVICES) not in sys.path:
        sys.path.append(str(SERVICES))
    import ops_app

    application = ops_app.make_app(tasks="thread://")
    yield application
    application.close()


HOSTILE_IDS = [
    "x" * 100_000,
    "a\r\nSet-Cookie: stolen=1",
    "a\nb",
    "\x00\x01\x02",
    "<script>alert(1)</script>",
    "id with spaces",
    "\ud800",
    "é" * 50,
    "%0d%0aX-Injected: 1",
    "",
    "  ",
]


@pytest.mark.parametrize("value", HOSTILE_IDS, ids=[str(i) for i in range(len(HOSTILE_IDS))])
def test_a_hostile_request_id_is_replaced_never_echoed(
    app: LadonWSGIApplication, value: str
) -> None:
    answer = request(app, "/Jobs/jsonwsp", ADD, extra={"HTTP_X_REQUEST_ID": value})
    assert answer.status == 200
    echoed = answer.headers["X-Request-ID"]
    assert SANE.fullmatch(echoed) and echoed != value
    assert "\n" not in echoed and "\r" not in echoed
    assert_clean(answer)


@pytest.mark.parametrize(
    "traceparent",
    [
        "garbage",
        "00-" + "0" * 32 + "-" + "0" * 16 + "-01",  # all-zero ids are invalid
        "ff-" + "a" * 32 + "-" + "b" * 16 + "-01",  # the forbidden version
        "00-" + "g" * 32 + "-" + "b" * 16 + "-01",
        "00-" + "a" * 32 + "-" + "b" * 16 + "-01-extra-stuff" * 1000,
        "\x00" * 55,
        "",
    ],
    ids=["garbage", "zero", "version-ff", "not-hex", "long", "nul", "empty"],
)
def test_a_hostile_traceparent_starts_a_trace_of_its_own(
    app: LadonWSGIApplication, traceparent: str
) -> None:
    answer = request(
        app,
        "/Jobs/jsonwsp",
        ADD,
        extra={"HTTP_TRACEPARENT": traceparent, "HTTP_TRACESTATE": "k=" + "v" * 10_000},
    )
    assert answer.status == 200 and b'"result": 3' in answer.body
    assert_clean(answer)


@pytest.mark.parametrize(
    "accept",
    [
        "gzip;q=" + "9" * 10_000,
        "gzip;q=nan",
        "gzip;q=-1",
        "," * 50_000,
        "gzip;" * 10_000,
        "\x00gzip",
        "GZIP;Q=1.0",
    ],
    ids=["huge-q", "nan-q", "negative-q", "commas", "params", "nul", "upper"],
)
def test_hostile_accept_encodings_never_break_an_answer(
    app: LadonWSGIApplication, accept: str
) -> None:
    body = json.dumps({"methodname": "text", "args": {"size": 5000}}).encode()
    answer = request(app, "/Jobs/jsonwsp", body, extra={"HTTP_ACCEPT_ENCODING": accept})
    assert answer.status == 200
    data = gzip.decompress(answer.body) if answer.headers.get("Content-Encoding") else answer.body
    assert len(json.loads(data)["result"]) == 5000
    if "Content-Encoding" in answer.headers:
        assert int(answer.headers["Content-Length"]) == len(answer.body)
    assert_clean(answer)


ROOT = {"HTTP_AUTHORIZATION": "Basic cm9vdDpyb290LXB3"}  # root:root-pw


@pytest.mark.parametrize(
    ("path", "method", "query", "status"),
    [
        ("/_ladon/api/tasks", "GET", "state=" + "x" * 10_000, 400),
        ("/_ladon/api/tasks", "GET", "limit=" + "9" * 5000, 400),
        ("/_ladon/api/tasks", "GET", "age=1e999", 400),
        ("/_ladon/api/tasks", "GET", "age=nan", 400),
        ("/_ladon/api/tasks", "GET", "service=%00%ff&method=" + "%" * 3000, 200),
        ("/_ladon/api/tasks/" + "a" * 100_000, "GET", "", 404),
        ("/_ladon/api/tasks/../../etc/passwd", "GET", "", 404),
        ("/_ladon/api/tasks/%00/cancel", "POST", "", 415),
        ("/_ladon/api/tasks", "DELETE", "", 405),
        ("/_ladon/metrics", "POST", "", 405),
        ("/_ladon/health/ready", "PUT", "", 405),
        ("/_ladon/health/" + "x" * 5000, "GET", "", 404),
    ],
    ids=[
        "state",
        "limit",
        "age-inf",
        "age-nan",
        "odd-filters",
        "long-id",
        "traversal",
        "nul-cancel",
        "delete",
        "post-metrics",
        "put-ready",
        "long-health",
    ],
)
def test_hostile_operator_requests_get_clean_answers(
    app: LadonWSGIApplication, path: str, method: str, query: str, status: int
) -> None:
    answer: Answer = request(
        app,
        path,
        b"",
        method=method,
        content_type="application/x-www-form-urlencoded",
        extra={**ROOT, "QUERY_STRING": query},
    )
    assert answer.status == status, (answer.status, answer.body[:300])
    assert_clean(answer)
    assert b"root-pw" not in answer.body
