"""Hostile input against the ``http`` interface (issue 16): whatever a
client sends, the answer is an RFC 9457 problem with the right 4xx, in
under a second, with bounded memory, no traceback, file path or module
name. Uses the harness of ``test_hostile.py`` (raw WSGI environs)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_hostile import BAD_JSON
from test_hostile import BAD_JSON_IDS
from test_hostile import LIMIT
from test_hostile import SMALL_LIMIT
from test_hostile import Answer
from test_hostile import assert_clean
from test_hostile import request

from ladon.server.wsgi import LadonWSGIApplication

SERVICES = Path(__file__).resolve().parents[1] / "services"


@pytest.fixture(scope="module")
def shapes() -> Iterator[LadonWSGIApplication]:
    application = LadonWSGIApplication(["legacy_shapes"], [str(SERVICES)], max_content_length=LIMIT)
    yield application
    application.close()


@pytest.fixture(scope="module")
def small() -> Iterator[LadonWSGIApplication]:
    application = LadonWSGIApplication(
        ["legacy_shapes"], [str(SERVICES)], max_content_length=SMALL_LIMIT
    )
    yield application
    application.close()


def problem(answer: Answer, status: int) -> dict[str, Any]:
    assert answer.status == status, (answer.status, answer.body[:300])
    assert answer.headers["Content-Type"] == "application/problem+json"
    data = json.loads(answer.body)
    assert data["status"] == status and data["title"] and data["detail"]
    assert_clean(answer)
    return data  # type: ignore[no-any-return]


def post(shapes: LadonWSGIApplication, path: str, body: bytes, **kw: Any) -> Answer:
    kw.setdefault("content_type", "application/json")
    return request(shapes, f"/Shapes/http{path}", body, **kw)


@pytest.mark.parametrize("body", BAD_JSON, ids=BAD_JSON_IDS)
def test_bad_json_is_a_400_problem(shapes: LadonWSGIApplication, body: bytes) -> None:
    answer = post(shapes, "/echo", body)
    if body.strip() == b"":
        assert answer.status in (200, 422)  # no arguments: echo's text is missing
    else:
        assert answer.status in (400, 422), answer.body
    if answer.status != 200:
        problem(answer, answer.status)


@pytest.mark.parametrize(
    "value",
    [[1, 2], {"a": 1}, None, True, 1.5, [[["deep"]]], "x" * 10, 10**30],
    ids=["list", "object", "null", "bool", "float", "nested", "ok", "big-int"],
)
def test_wrong_argument_shapes_are_422_problems(shapes: LadonWSGIApplication, value: Any) -> None:
    answer = post(shapes, "/echo", json.dumps({"text": value}).encode())
    if isinstance(value, str):
        assert answer.status == 200
        return
    data = problem(answer, 422)
    assert data["path"] == "text"


@pytest.mark.parametrize(
    "path",
    [
        "/../../etc/passwd",
        "/echo/../../x",
        "/" + "a" * 5000,
        "/echo/tasks/x",
        "/echo/tasks/x/result/more",
        "/%00",
        "/echo%2F..",
    ],
    ids=["traversal", "dotdot", "long", "not-a-task", "too-deep", "nul", "encoded-slash"],
)
def test_odd_paths_are_404_problems(shapes: LadonWSGIApplication, path: str) -> None:
    answer = post(shapes, path, b"{}")
    assert answer.status in (404, 405), answer.body[:200]
    if answer.headers.get("Content-Type") == "application/problem+json":
        problem(answer, answer.status)


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/echo\n", "POST"),
        ("/ec\nho", "POST"),
        ("/draw/tasks/a\nb", "GET"),
        ("/draw/tasks/\n/result", "GET"),
        ("/draw/tasks/x\r\n/cancel", "POST"),
    ],
    ids=["method-newline", "method-inner-newline", "task-id", "task-id-result", "task-cancel"],
)
def test_line_breaks_in_the_path_are_404_problems(
    shapes: LadonWSGIApplication, path: str, method: str
) -> None:
    # e.g. GET .../tasks/a%0Ab: werkzeug's path rule does not match a line
    # break; the answer must still be the interface's problem, not a text page
    answer = post(shapes, path, b"{}" if method == "POST" else b"", method=method)
    data = problem(answer, 404)
    assert "Shapes" in data["detail"] or "task" in data["detail"], data


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "BREW"])
def test_other_methods_are_405_with_allow(shapes: LadonWSGIApplication, method: str) -> None:
    answer = request(shapes, "/Shapes/http/echo", b"", method=method)
    assert answer.status == 405
    assert answer.headers["Allow"] == "POST"
    assert_clean(answer)


@pytest.mark.parametrize(
    "ctype",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "application/json; charset=bogus",
        "application/json; charset=zlib",
    ],
)
def test_odd_content_types(shapes: LadonWSGIApplication, ctype: str) -> None:
    answer = post(shapes, "/echo", b'{"text": "x"}', content_type=ctype)
    assert answer.status in (400, 415), answer.body[:200]
    problem(answer, answer.status)


@pytest.mark.parametrize(
    "body",
    [
        b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n",
        b"--b\r\nContent-Disposition: form-data; name=text\r\n\r\nx\r\n--b",
        b"--b\r\n\r\n",
        b"garbage",
        b"--b\r\nContent-Disposition: form-data; name=text\r\n\r\na\r\n"
        b"--b\r\nContent-Disposition: form-data; name=text\r\n\r\nb\r\n--b--\r\n",
        b"--b\r\nContent-Disposition: form-data; name=text\r\nContent-Type: application/json\r\n\r\n{no\r\n--b--\r\n",
    ],
    ids=["no-name", "unterminated", "no-headers", "garbage", "twice", "bad-json-part"],
)
def test_malformed_form_data_is_a_problem(shapes: LadonWSGIApplication, body: bytes) -> None:
    answer = post(shapes, "/echo", body, content_type="multipart/form-data; boundary=b")
    assert answer.status in (400, 422), answer.body[:300]
    problem(answer, answer.status)


def test_a_body_over_the_limit_is_a_413_problem_before_reading(
    small: LadonWSGIApplication,
) -> None:
    def endless() -> Iterator[bytes]:
        yield from ()  # a generator that fails when read
        raise AssertionError("the body was read")

    answer = request(small, "/Shapes/http/echo", endless(), length=str(SMALL_LIMIT + 1))
    problem(answer, 413)


def test_a_chunked_body_over_the_limit_is_a_413_problem(small: LadonWSGIApplication) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(1000):
            yield b" " * 4096

    answer = request(
        small,
        "/Shapes/http/echo",
        chunks(),
        length="",
        extra={"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True},
        drop=("CONTENT_LENGTH",),
    )
    problem(answer, 413)


@pytest.mark.parametrize(("length", "status"), [("-5", 400), ("abc", 400), ("100", 400)])
def test_bad_content_lengths_are_problems(
    shapes: LadonWSGIApplication, length: str, status: int
) -> None:
    problem(post(shapes, "/echo", b'{"text": "x"}', length=length), status)


def test_an_unknown_encoding_is_a_415_problem(shapes: LadonWSGIApplication) -> None:
    answer = post(shapes, "/echo", b"{}", extra={"HTTP_CONTENT_ENCODING": "br-ish"})
    problem(answer, 415)
