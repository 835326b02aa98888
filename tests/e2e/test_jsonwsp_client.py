"""``ladon.clients.jsonwsp.JSONWSPClient`` and ``ladon call`` against a real
server on 127.0.0.1: Ladon 1.0's API (``call_method``, attribute calls,
``JSONWSPResponse``), faults as exceptions, attachments both ways."""

from __future__ import annotations

import hashlib
import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from ladon.cli import main as ladon_main
from ladon.clients.jsonwsp import JSONWSPClient
from ladon.clients.jsonwsp import JSONWSPError
from ladon.clients.jsonwsp import JSONWSPFault
from ladon.clients.jsonwsp import JSONWSPResponse
from ladon.server.wsgi import LadonWSGIApplication
from ladon.types.attachment import attachment

pytestmark = pytest.mark.e2e

SERVICES = Path(__file__).resolve().parent.parent / "services"


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    app = LadonWSGIApplication(["legacy_shapes", "files_service"], [str(SERVICES)])
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(5)
    app.close()


@pytest.fixture()
def shapes(server_url: str) -> JSONWSPClient:
    return JSONWSPClient(f"{server_url}/Shapes/jsonwsp/description")


@pytest.fixture()
def files(server_url: str) -> JSONWSPClient:
    return JSONWSPClient(f"{server_url}/Files/jsonwsp/description")


# -- calls --------------------------------------------------------------------------


def test_call_returns_the_result(shapes: JSONWSPClient) -> None:
    assert shapes.call("add", a=2, b=3) == 5
    assert shapes.call("squares", numbers=[1, 2, 3]) == [1, 4, 9]
    assert shapes.call("make_point", x=1, y=2) == {"x": 1, "y": 2}
    assert shapes.call("shout", text="hé") == "HÉ!"


def test_call_method_returns_a_ladon10_response(shapes: JSONWSPClient) -> None:
    resp = shapes.call_method("add", a=2, b=3, mirror={"k": 1})
    assert isinstance(resp, JSONWSPResponse)
    assert (resp.status, resp.reason) == (200, "OK")
    assert resp.headers["CONTENT-TYPE"].startswith("application/json")
    assert resp.response_dict["result"] == 5
    assert resp.response_dict["reflection"] == {"k": 1}
    assert resp.result == 5 and resp.attachments == {}


def test_attribute_style_calls_come_from_the_description(shapes: JSONWSPClient) -> None:
    assert "add" in shapes.list_methods()
    assert shapes.add(a=1, b=1).response_dict["result"] == 2
    assert shapes.mirror(p={"x": 1, "y": 2}).result == {"x": 2, "y": 1}
    with pytest.raises(AttributeError):
        shapes.no_such_method  # noqa: B018


def test_method_info_orders_parameters(shapes: JSONWSPClient) -> None:
    info = shapes.method_info("divide")
    assert info["params_order"] == ["a", "b"]
    assert (info["mandatory_params"], info["optional_params"]) == (["a"], ["b"])


def test_missing_mandatory_argument_is_a_type_error_before_sending(shapes: JSONWSPClient) -> None:
    with pytest.raises(TypeError, match="missing argument.*b"):
        shapes.call_method("add", a=1)


def test_url_without_description(server_url: str) -> None:
    client = JSONWSPClient(url=f"{server_url}/Shapes/jsonwsp")
    assert client.call("divide", a=9) == 4
    assert not client.description_loaded


# -- faults ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("how", "code", "text"),
    [("client", "client", "you asked for it"), ("server", "server", "backend down: server")],
)
def test_fault_is_raised_with_code_and_string(
    shapes: JSONWSPClient, how: str, code: str, text: str
) -> None:
    with pytest.raises(JSONWSPFault) as info:
        shapes.call("fail", how=how)
    assert (info.value.code, info.value.string) == (code, text)
    assert info.value.response is not None and info.value.response.is_fault


def test_call_method_raises_faults_too(shapes: JSONWSPClient) -> None:
    with pytest.raises(JSONWSPFault, match="client: .*expected an integer"):
        shapes.call_method("add", a="x", b=1)


def test_unexpected_error_fault_has_no_traceback(shapes: JSONWSPClient) -> None:
    with pytest.raises(JSONWSPFault) as info:
        shapes.call("fail", how="boom")
    assert info.value.code == "server"
    assert "secret" not in str(info.value.fault) and "Traceback" not in str(info.value.fault)


def test_raise_faults_false_gives_ladon10_fault_responses(server_url: str) -> None:
    client = JSONWSPClient(f"{server_url}/Shapes/jsonwsp/description", raise_faults=False)
    resp = client.call_method("fail", how="client")
    assert resp.response_dict["type"] == "jsonwsp/fault"
    assert resp.response_dict["fault"]["string"] == "you asked for it"
    with pytest.raises(JSONWSPFault):
        resp.result  # noqa: B018


def test_http_errors_and_unreachable_servers(server_url: str) -> None:
    with pytest.raises(JSONWSPError) as info:
        JSONWSPClient(f"{server_url}/Nope/jsonwsp/description")
    assert info.value.status == 404
    with pytest.raises(JSONWSPError, match="cannot reach"):
        JSONWSPClient("http://127.0.0.1:1/X/jsonwsp/description", timeout=2)
    with pytest.raises(ValueError, match="http"):
        JSONWSPClient(url="ftp://example.org/x")


def test_headers_and_cookies_are_sent(server_url: str) -> None:
    client = JSONWSPClient(
        f"{server_url}/Files/jsonwsp/description",
        headers={"X-Token": "t0k"},
        cookies={"session": "abc"},
    )
    client.add_cookie("lang", "en")
    assert client.call("request_header", name="X-Token") == "t0k"
    assert client.call("request_header", name="Cookie") == "session=abc; lang=en"
    client.remove_header("X-Token")
    assert client.call("request_header", name="X-Token") == ""


# -- attachments -------------------------------------------------------------------------------


def test_file_object_argument_is_sent_as_an_attachment(files: JSONWSPClient) -> None:
    data = bytes(range(256)) * 100
    assert files.call("digest", data=io.BytesIO(data)) == hashlib.sha256(data).hexdigest()


def test_at_path_and_attachment_objects(files: JSONWSPClient, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"b" * 3_000_000)
    sizes = files.call("sizes", files=[f"@{big}", attachment.from_bytes(b"12"), io.BytesIO(b"")])
    assert sizes == [3_000_000, 2, 0]


def test_attachment_results_become_attachment_objects(files: JSONWSPClient) -> None:
    with files.make(text="ab", repeat=4) as resp:
        att = resp.result
        assert isinstance(att, attachment)
        assert att.read() == b"abababab"
        assert att.header("content-type") == "text/plain"
        assert list(resp.attachments) == ["ladon-attachment-1"]
    assert att.closed


def test_attachments_round_trip_inside_structures(files: JSONWSPClient) -> None:
    folder = {
        "title": "docs",
        "documents": [
            {"name": "a", "content": io.BytesIO(b"first")},
            {"name": "b", "content": io.BytesIO(b"second")},
        ],
    }
    result = files.call("echo_folder", folder=folder)
    got = [(d["name"], d["content"].read()) for d in result["documents"]]
    assert got == [("a", b"first"), ("b", b"second")]
    for d in result["documents"]:
        d["content"].close()


def test_many_attachment_results(files: JSONWSPClient) -> None:
    parts = files.call("make_many", count=3)
    assert [p.read() for p in parts] == [b"part 0", b"part 1", b"part 2"]
    for p in parts:
        p.close()


# -- ladon call -----------------------------------------------------------------------------------


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = ladon_main(["call", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_calls_with_typed_values(server_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, f"{server_url}/Shapes", "add", "a=2", "b=40")
    assert (code, json.loads(out)) == (0, 42)
    code, out, _ = run_cli(capsys, f"{server_url}/Shapes/jsonwsp", "echo", "text=007")
    assert (code, json.loads(out)) == (0, "007")
    code, out, _ = run_cli(capsys, f"{server_url}/Shapes", "mirror", 'p={"x": 1, "y": 5}')
    assert json.loads(out) == {"x": 5, "y": 1}


def test_cli_lists_methods(server_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, f"{server_url}/Shapes/jsonwsp/description")
    assert code == 0
    assert "add a b" in out.splitlines() and "divide a [b]" in out.splitlines()


def test_cli_fault_and_usage_errors(server_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, f"{server_url}/Shapes", "fail", "how=client")
    assert (code, err.strip()) == (1, "fault (client): you asked for it")
    code, _, err = run_cli(capsys, f"{server_url}/Shapes", "fail", "how=hint")
    assert (code, err.splitlines()) == (
        1,
        ["fault (client): no such colour", "hint: try how=client"],
    )
    code, _, err = run_cli(capsys, f"{server_url}/Shapes", "add", "a=1", "c=2")
    assert code == 2 and "no parameter 'c'" in err
    code, _, err = run_cli(capsys, f"{server_url}/Shapes", "nope")
    assert code == 2 and "no method 'nope'" in err
    code, _, err = run_cli(capsys, f"{server_url}/Shapes", "add", "a")
    assert code == 2 and "NAME=VALUE" in err


def test_cli_says_a_missing_argument_as_the_service_does(
    server_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """One phrasing for a mandatory argument left out: the fault's."""
    with pytest.raises(JSONWSPFault) as fault:  # no description: the server answers
        JSONWSPClient(url=f"{server_url}/Shapes/jsonwsp").call("add", a=1)
    assert fault.value.string == 'Argument "b": is not optional and was not given'
    code, out, err = run_cli(capsys, f"{server_url}/Shapes", "add", "a=1")
    assert (code, out, err) == (2, "", f"ladon call: {fault.value.string}\n")
    code, _, err = run_cli(capsys, f"{server_url}/Shapes", "add")
    assert (code, err.splitlines()) == (
        2,
        [
            'ladon call: Argument "a": is not optional and was not given',
            'ladon call: Argument "b": is not optional and was not given',
        ],
    )


def test_cli_attachments_both_ways(
    server_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.bin"
    src.write_bytes(b"hello")
    code, out, _ = run_cli(capsys, f"{server_url}/Files", "digest", f"data=@{src}")
    assert json.loads(out) == hashlib.sha256(b"hello").hexdigest()
    code, out, _ = run_cli(
        capsys, f"{server_url}/Files", "make", "text=xy", "repeat=2", "--out", str(tmp_path)
    )
    saved: dict[str, Any] = json.loads(out)
    assert Path(saved["attachment"]).read_bytes() == b"xyxy"
