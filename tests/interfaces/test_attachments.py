"""Attachments over JSON-WSP (COMPAT.md 3.1): multipart/related requests and
answers, ``cid:``/``cidx:`` references, limits, temporary files.

Requests are built by hand, byte for byte as Ladon 1.0's client wrote them
(root part ``Content-Type: application/json, charset=UTF-8``, Content-IDs
without angle brackets), and in the variants other MIME writers produce.
"""

from __future__ import annotations

import gc
import hashlib
import io
import json
import os
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from webtest import TestApp
from webtest import TestResponse

from ladon.server.wsgi import LadonWSGIApplication
from ladon.tasks import ThreadTaskBackend
from ladon.wire.multipart import close_parts
from ladon.wire.multipart import read_multipart

SERVICES = Path(__file__).resolve().parent.parent / "services"
BOUNDARY = "LadonTestBoundary"
LEGACY_ROOT_TYPE = "application/json, charset=UTF-8"


@pytest.fixture(scope="module")
def files_app() -> Iterator[LadonWSGIApplication]:
    app = LadonWSGIApplication(
        ["files_service"],
        [str(SERVICES)],
        max_attachments=5,
        max_attachment_bytes=64 * 1024 * 1024,
        tasks=ThreadTaskBackend(max_workers=2),
    )
    yield app
    app.close()


@pytest.fixture()
def fclient(files_app: LadonWSGIApplication) -> TestApp:
    return TestApp(files_app)


@pytest.fixture()
def seen() -> Iterator[list[dict[str, Any]]]:
    import files_service  # imported by the app from tests/services

    files_service.SEEN.clear()
    yield files_service.SEEN
    files_service.SEEN.clear()


def multipart(
    request: dict[str, Any] | bytes,
    files: list[tuple[str, bytes]],
    *,
    root_type: str = LEGACY_ROOT_TYPE,
    newline: bytes = b"\r\n",
    preamble: bytes = b"",
) -> bytes:
    """A multipart/related body: the JSON request, then one part per file."""
    nl = newline
    root = request if isinstance(request, bytes) else json.dumps(request).encode()
    out = [preamble]
    out.append(b"--" + BOUNDARY.encode() + nl)
    out.append(b"Content-Type: " + root_type.encode() + nl + b"Content-ID: body" + nl + nl)
    out.append(root + nl)
    for cid, data in files:
        out.append(b"--" + BOUNDARY.encode() + nl)
        out.append(b"Content-Type: application/octet-stream" + nl)
        out.append(b"Content-ID: " + cid.encode() + nl + nl + data + nl)
    out.append(b"--" + BOUNDARY.encode() + b"--" + nl)
    return b"".join(out)


def post_mp(client: TestApp, body: bytes, ctype: str | None = None) -> TestResponse:
    ctype = ctype or f"multipart/related; boundary={BOUNDARY}"
    return client.post("/Files/jsonwsp", body, headers={"Content-Type": ctype}, expect_errors=True)


def call(method: str, **args: Any) -> dict[str, Any]:
    return {"methodname": method, "args": args}


def result_of(resp: TestResponse) -> Any:
    assert resp.status_int == 200, resp.body[:300]
    data = json.loads(resp.body)
    assert data["type"] == "jsonwsp/response", data
    return data["result"]


def fault_of(resp: TestResponse, status: int = 200) -> dict[str, Any]:
    assert resp.status_int == status, (resp.status, resp.body[:300])
    data = json.loads(resp.body)
    assert data["type"] == "jsonwsp/fault", data
    text = resp.body.decode()
    assert "Traceback" not in text and ".py" not in text
    fault: dict[str, Any] = data["fault"]
    return fault


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def split_answer(
    resp: TestResponse,
) -> tuple[dict[str, Any], dict[str, bytes], list[dict[str, str]]]:
    """The JSON part, the attachments by Content-ID, and every part's headers."""
    ctype = resp.headers["Content-Type"]
    assert ctype.startswith("multipart/related;"), ctype
    boundary = ctype.split("boundary=")[1].split(";")[0].encode()
    stream = io.BytesIO(resp.body)
    parts = read_multipart(stream.read, boundary)
    try:
        root = json.loads(parts[0].file.read())
        files = {p.headers["content-id"]: p.file.read() for p in parts[1:]}
        return root, files, [p.headers for p in parts]
    finally:
        close_parts(parts)


# -- requests carrying attachments ----------------------------------------------------


def test_ladon10_client_request_with_cid_reference(fclient: TestApp) -> None:
    data = os.urandom(5000)
    body = multipart(call("digest", data="cid:file1"), [("file1", data)])
    assert result_of(post_mp(fclient, body)) == sha(data)


@pytest.mark.parametrize(
    ("cid", "ref"),
    [
        ("<part-7@example.org>", "cid:part-7@example.org"),
        ("<part-7@example.org>", "cid:<part-7@example.org>"),
        ("part 7", "cid:part%207"),
        ("x", "CID:x"),
    ],
    ids=["angle-brackets", "ref-with-brackets", "url-encoded", "upper-case-scheme"],
)
def test_cid_reference_forms(fclient: TestApp, cid: str, ref: str) -> None:
    body = multipart(call("digest", data=ref), [(cid, b"abc")])
    assert result_of(post_mp(fclient, body)) == sha(b"abc")


def test_cidx_references_count_attachment_parts_from_zero(fclient: TestApp) -> None:
    files = [("a", b"1"), ("b", b"22"), ("c", b"333")]
    body = multipart(call("sizes", files=["cidx:2", "cidx:0", "cid:b"]), files)
    assert result_of(post_mp(fclient, body)) == [3, 1, 2]


def test_attachments_inside_a_structured_argument(fclient: TestApp) -> None:
    folder = {"title": "t", "documents": [{"name": "a", "content": "cid:a"}]}
    body = multipart(call("echo_folder", folder=folder), [("a", b"first")])
    root, files, _ = split_answer(post_mp(fclient, body))
    doc = root["result"]["documents"][0]
    assert doc["name"] == "a"
    assert files[doc["content"][len("cid:") :]] == b"first"


@pytest.mark.parametrize(
    ("newline", "preamble", "root_type"),
    [
        (b"\n", b"", LEGACY_ROOT_TYPE),
        (b"\r\n", b"This is a preamble.\r\n", "application/json; charset=utf-8"),
        (b"\r\n", b"", "application/json"),
    ],
    ids=["bare-lf", "preamble", "standard-root-type"],
)
def test_multipart_variants_are_accepted(
    fclient: TestApp, newline: bytes, preamble: bytes, root_type: str
) -> None:
    data = b"line one\r\nline two\n--not-the-boundary\r\n"
    body = multipart(
        call("digest", data="cid:f"),
        [("f", data)],
        newline=newline,
        preamble=preamble,
        root_type=root_type,
    )
    assert result_of(post_mp(fclient, body)) == sha(data)


def test_quoted_boundary_and_type_parameter(fclient: TestApp) -> None:
    body = multipart(call("digest", data="cid:f"), [("f", b"q")])
    ctype = f'multipart/related; type="application/json"; boundary="{BOUNDARY}"'
    assert result_of(post_mp(fclient, body, ctype)) == sha(b"q")


def test_root_part_charset_decodes_the_request(fclient: TestApp) -> None:
    root = json.dumps(call("request_header", name="x"), ensure_ascii=False).encode("utf-16")
    body = multipart(root, [], root_type="application/json; charset=utf-16")
    assert result_of(post_mp(fclient, body)) == ""


def test_method_sees_all_attachments_in_kw(fclient: TestApp, seen: list[dict[str, Any]]) -> None:
    body = multipart(call("inspect", data="cidx:1"), [("one", b"1"), ("<two>", b"2")])
    assert result_of(post_mp(fclient, body)) is True
    (record,) = seen
    assert record["all"] == ["one", "<two>"]
    assert record["headers"]["content-id"] == "<two>"
    assert "one" in record["by_id"] and "<two>" in record["by_id"]


# -- answers carrying attachments ------------------------------------------------------


def test_attachment_result_is_a_ladon10_multipart_answer(fclient: TestApp) -> None:
    resp = fclient.post(
        "/Files/jsonwsp",
        json.dumps(call("make", text="ab", repeat=3)),
        headers={"Content-Type": "application/json"},
    )
    assert int(resp.headers["Content-Length"]) == len(resp.body)
    root, files, headers = split_answer(resp)
    assert root["result"] == "cid:ladon-attachment-1"
    assert headers[0]["content-id"] == "rpc-part"
    assert headers[0]["content-type"].startswith("application/json")
    assert headers[1]["content-type"] == "text/plain"
    assert files == {"ladon-attachment-1": b"ababab"}


def test_list_of_attachments_result(fclient: TestApp) -> None:
    resp = fclient.post(
        "/Files/jsonwsp",
        json.dumps(call("make_many", count=3)),
        {"Content-Type": "application/json"},
    )
    root, files, _ = split_answer(resp)
    refs = root["result"]
    assert refs == [f"cid:ladon-attachment-{n}" for n in (1, 2, 3)]
    assert [files[r[4:]] for r in refs] == [b"part 0", b"part 1", b"part 2"]


def test_empty_list_of_attachments_is_a_plain_json_answer(fclient: TestApp) -> None:
    resp = fclient.post(
        "/Files/jsonwsp",
        json.dumps(call("make_many", count=0)),
        {"Content-Type": "application/json"},
    )
    assert resp.content_type == "application/json"
    assert result_of(resp) == []


def test_interfaces_without_attachments_refuse_attachment_results(fclient: TestApp) -> None:
    body = json.dumps({"jsonrpc": "2.0", "method": "make", "params": ["a", 1], "id": 1})
    resp = fclient.post("/Files/jsonrpc", body, {"Content-Type": "application/json"})
    error = json.loads(resp.body)["error"]
    assert "cannot carry" in error["message"] and "jsonwsp" in error["message"]


# -- bad requests ------------------------------------------------------------------------


def test_unknown_cid_names_the_argument(fclient: TestApp) -> None:
    body = multipart(call("digest", data="cid:missing"), [("file1", b"x")])
    fault = fault_of(post_mp(fclient, body))
    assert fault["code"] == "client"
    assert '"data"' in fault["string"] and "missing" in fault["string"]


def test_cidx_out_of_range(fclient: TestApp) -> None:
    body = multipart(call("digest", data="cidx:3"), [("file1", b"x")])
    fault = fault_of(post_mp(fclient, body))
    assert "carries 1" in fault["string"]


def test_text_that_is_no_reference(fclient: TestApp) -> None:
    body = multipart(call("digest", data="hello"), [("file1", b"x")])
    assert "cid:<Content-ID>" in fault_of(post_mp(fclient, body))["string"]


def test_reference_without_multipart_says_how_to_send_files(fclient: TestApp) -> None:
    resp = fclient.post(
        "/Files/jsonwsp",
        json.dumps(call("digest", data="cid:file1")),
        {"Content-Type": "application/json"},
        expect_errors=True,
    )
    assert "multipart/related" in fault_of(resp)["string"]


@pytest.mark.parametrize(
    ("body", "ctype", "message"),
    [
        (b"--other\r\n\r\nx\r\n--other--\r\n", None, "boundary"),
        (
            multipart(call("digest", data="cid:f"), [("f", b"x")])[: -len(BOUNDARY) - 6],
            None,
            "closing boundary",
        ),
        (b"", None, "no part"),
        (multipart(call("digest", data="cid:f"), []), "multipart/related", "no boundary"),
        (b"--" + BOUNDARY.encode() + b"\r\nBad header line\r\n\r\n{}\r\n", None, "header"),
        (b"--" + BOUNDARY.encode() + b"\r\n" + b"X: " + b"y" * 20000, None, "too long"),
    ],
    ids=["wrong-boundary", "truncated", "empty", "no-boundary-param", "bad-header", "huge-header"],
)
def test_malformed_multipart_is_a_client_fault_with_http_400(
    fclient: TestApp, body: bytes, ctype: str | None, message: str
) -> None:
    fault = fault_of(post_mp(fclient, body, ctype), 400)
    assert fault["code"] == "client"
    assert message in fault["string"]


def test_too_many_attachments(fclient: TestApp) -> None:
    files = [(f"f{i}", b"x") for i in range(6)]
    fault = fault_of(post_mp(fclient, multipart(call("sizes", files=[]), files)), 413)
    assert "more than 5 attachments" in fault["string"]


def test_attachments_over_the_size_limit(tmp_path: Path) -> None:
    app = LadonWSGIApplication(["files_service"], [str(SERVICES)], max_attachment_bytes=1000)
    try:
        body = multipart(call("digest", data="cid:f"), [("f", b"x" * 1001)])
        fault = fault_of(post_mp(TestApp(app), body), 413)
        assert "limit of 1000 bytes" in fault["string"]
        body = multipart(call("digest", data="cid:f"), [("f", b"x" * 1000)])
        assert result_of(post_mp(TestApp(app), body)) == sha(b"x" * 1000)
    finally:
        app.close()


def test_declared_length_over_every_limit_is_refused_before_reading() -> None:
    app = LadonWSGIApplication(
        ["files_service"], [str(SERVICES)], max_content_length=1000, max_attachment_bytes=1000
    )
    read: list[int] = []

    class Input:
        def read(self, n: int = -1) -> bytes:
            read.append(n)
            return b""

    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/Files/jsonwsp",
        "CONTENT_TYPE": f"multipart/related; boundary={BOUNDARY}",
        "CONTENT_LENGTH": str(10**9),
        "wsgi.input": Input(),
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
    }
    statuses: list[str] = []
    body = b"".join(app(environ, lambda s, h, e=None: statuses.append(s)))
    assert [s[:3] for s in statuses] == ["413"] and read == []
    assert b"limit" in body
    app.close()


# -- temporary files ---------------------------------------------------------------------


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_large_attachments_go_to_disk_and_are_closed_after_the_call(
    fclient: TestApp, seen: list[dict[str, Any]]
) -> None:
    gc.collect()
    before = _open_fds()
    body = multipart(call("inspect", data="cid:big"), [("big", b"z" * (2 * 1024 * 1024))])
    assert result_of(post_mp(fclient, body)) is True
    (record,) = seen
    assert record["on_disk"] is True
    assert record["attachment"].closed
    gc.collect()
    assert _open_fds() <= before


def test_small_attachments_stay_in_memory(fclient: TestApp, seen: list[dict[str, Any]]) -> None:
    body = multipart(call("inspect", data="cid:small"), [("small", b"z" * 1000)])
    result_of(post_mp(fclient, body))
    assert seen[0]["on_disk"] is False and seen[0]["attachment"].closed


def test_attachments_are_closed_after_a_fault_too(
    fclient: TestApp, seen: list[dict[str, Any]]
) -> None:
    gc.collect()
    before = _open_fds()
    files = [("a", b"z" * (1024 * 1024)), ("b", b"y" * (1024 * 1024))]
    fault_of(post_mp(fclient, multipart(call("digest", data="cid:nope"), files)))
    gc.collect()
    assert _open_fds() <= before


class _GeneratedInput:
    """A request body produced on the fly: a JSON part, then ``size`` bytes."""

    def __init__(self, size: int) -> None:
        head = multipart(call("digest", data="cid:big"), [])
        head = head[: -len(f"--{BOUNDARY}--\r\n")]
        self.chunks = self._chunks(head, size)
        self.buffer = b""
        self.total = (
            len(head)
            + len(
                b"--%s\r\nContent-Type: application/octet-stream\r\nContent-ID: big\r\n\r\n"
                % BOUNDARY.encode()
            )
            + size
            + len(f"\r\n--{BOUNDARY}--\r\n")
        )

    @staticmethod
    def _chunks(head: bytes, size: int) -> Iterator[bytes]:
        yield head
        yield b"--%s\r\nContent-Type: application/octet-stream\r\nContent-ID: big\r\n\r\n" % (
            BOUNDARY.encode()
        )
        block = b"0123456789abcdef" * 4096
        left = size
        while left > 0:
            yield block[: min(left, len(block))]
            left -= len(block)
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    def read(self, n: int = -1) -> bytes:
        while len(self.buffer) < n:
            try:
                self.buffer += next(self.chunks)
            except StopIteration:
                break
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out


def test_a_large_upload_is_streamed_with_bounded_memory(files_app: LadonWSGIApplication) -> None:
    size = 40 * 1024 * 1024
    source = _GeneratedInput(size)
    block = b"0123456789abcdef" * 4096
    expected = hashlib.sha256()
    left = size
    while left > 0:
        expected.update(block[: min(left, len(block))])
        left -= len(block)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/Files/jsonwsp",
        "CONTENT_TYPE": f"multipart/related; boundary={BOUNDARY}",
        "CONTENT_LENGTH": str(source.total),
        "wsgi.input": source,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
    }
    tracemalloc.start()
    try:
        body = b"".join(files_app(environ, lambda s, h, e=None: None))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert json.loads(body)["result"] == expected.hexdigest()
    assert peak < 8 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB for a 40 MiB upload"


# -- tasks -------------------------------------------------------------------------------


def test_a_task_reads_its_attachment_after_the_request_ended(fclient: TestApp) -> None:
    data = b"q" * 300_000
    body = multipart(call("count_bytes", data="cid:f"), [("f", data)])
    task_id = result_of(post_mp(fclient, body))["task_id"]
    deadline = time.monotonic() + 10
    while True:
        resp = fclient.post(
            "/Files/jsonwsp",
            json.dumps(call("count_bytes_result", task_id=task_id)),
            {"Content-Type": "application/json"},
        )
        data_out = json.loads(resp.body)
        if data_out["type"] == "jsonwsp/response":
            break
        assert "still" in data_out["fault"]["string"]
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert data_out["result"] == len(data)


# -- description ------------------------------------------------------------------------------


def test_description_names_attachment_types(fclient: TestApp) -> None:
    desc = json.loads(fclient.get("/Files/jsonwsp/description").body)
    assert desc["methods"]["digest"]["params"]["data"]["type"] == "attachment"
    assert desc["methods"]["make_many"]["ret_info"]["type"] == ["attachment"]
    assert desc["types"]["Document"]["content"] == {"type": "attachment"}
