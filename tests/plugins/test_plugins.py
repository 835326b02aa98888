"""Interface plug-ins, CustomResponse and the Ladon 1.0 logging flags."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from webtest import TestApp
from webtest import TestResponse

from ladon import ladonize
from ladon.interfaces import DEFAULT_INTERFACES
from ladon.interfaces import expose
from ladon.server import LOG_EXECUTION_TIME
from ladon.server import LOG_JSON_FORMAT
from ladon.server import LOG_REQUEST_ACCESS
from ladon.server import LOG_REQUEST_DICT
from ladon.server import LOG_RESPONSE_DICT
from ladon.server.customresponse import CustomResponse
from ladon.server.wsgi import LadonWSGIApplication

SERVICES = Path(__file__).resolve().parents[1] / "services"
sys.path.insert(0, str(SERVICES))

from plugin_plainjson import PlainJSONInterface  # noqa: E402


class Csv(CustomResponse):
    def __init__(self, rows: list[list[str]]) -> None:
        self.rows = rows

    def response_headers(self) -> list[tuple[str, str]]:
        return [("Content-Type", "text/csv; charset=utf-8"), ("X-Rows", str(len(self.rows)))]

    def response_data(self) -> list[bytes]:
        return [(",".join(r) + "\n").encode() for r in self.rows]


class Tools:
    @ladonize(int, int, rtype=int)
    def add(self, a: int, b: int) -> int:
        return a + b

    @ladonize(int, rtype=str)
    def table(self, n: int):  # type: ignore[no-untyped-def]  # a CustomResponse, declared str
        return Csv([[str(i), str(i * i)] for i in range(n)])


def _post(client: TestApp, iface: str, body: dict[str, object]) -> TestResponse:
    return client.post(
        f"/Tools/{iface}", json.dumps(body), content_type="application/json", expect_errors=True
    )


def test_interface_given_in_the_mapping_is_served_beside_the_defaults() -> None:
    app = LadonWSGIApplication(
        [Tools], interfaces={**DEFAULT_INTERFACES, "plainjson": PlainJSONInterface}
    )
    client = TestApp(app)
    resp = _post(client, "plainjson", {"method": "add", "args": {"a": 2, "b": 3}})
    assert resp.json == {"result": 5}
    assert client.get("/Tools/plainjson/description").json == {"methods": ["add", "table"]}
    bad = _post(client, "plainjson", {"method": "add", "args": {"a": "x", "b": 3}})
    assert bad.status_int == 400
    assert '"a"' in bad.json["error"]
    # the defaults still work
    assert (
        _post(client, "jsonwsp", {"methodname": "add", "args": {"a": 1, "b": 1}}).json["result"]
        == 2
    )


def test_an_interface_left_out_of_the_mapping_is_not_served() -> None:
    client = TestApp(LadonWSGIApplication([Tools], interfaces={"plainjson": PlainJSONInterface}))
    assert client.post("/Tools/jsonwsp", "{}", expect_errors=True).status_int == 404


@pytest.fixture()
def clean_expose() -> Iterator[None]:
    """Take back, after the test, the marks expose() put on classes."""
    import ladon.interfaces as interfaces

    before = set(interfaces._exposed_classes().values())
    yield
    for cls in set(interfaces._exposed_classes().values()) - before:
        delattr(cls, "_ladon_exposed")


@pytest.mark.usefixtures("clean_expose")
def test_ladon_1_expose_decorator_adds_the_interface_to_default_apps() -> None:
    assert expose(PlainJSONInterface) is PlainJSONInterface
    client = TestApp(LadonWSGIApplication([Tools]))
    assert _post(client, "plainjson", {"method": "add", "args": {"a": 4, "b": 5}}).json == {
        "result": 9
    }


@pytest.mark.usefixtures("clean_expose")
def test_a_ladon_1_interface_plugin_is_served_through_expose() -> None:
    import importlib

    sys.modules.pop("plugin_legacy", None)
    importlib.import_module("plugin_legacy")  # its @expose registers "plaintext"
    client = TestApp(LadonWSGIApplication([Tools]))
    resp = client.post("/Tools/plaintext", b"add a=4 b=5")
    assert (resp.content_type, resp.text) == ("text/plain", '"9"')  # stringified result
    bad = client.post("/Tools/plaintext", b"add a=x b=5")
    assert bad.text == "FAULT client: Argument \"a\": expected an integer, got 'x'"
    unknown = client.post("/Tools/plaintext", b"nope")
    assert unknown.text.startswith("FAULT client: Service Tools has no method 'nope'")
    desc = client.get("/Tools/plaintext/description").text
    assert desc.splitlines()[:2] == ["Tools at http://localhost/Tools/plaintext", "add a:int b:int"]
    assert "plaintext" in client.get("/Tools").text


@pytest.mark.usefixtures("clean_expose")
def test_expose_refuses_a_ladon_1_interface_without_a_name() -> None:
    from ladon.interfaces.base import BaseInterface

    class Nameless(BaseInterface):
        pass

    with pytest.raises(TypeError, match="_interface_name"):
        expose(Nameless)


def test_expose_refuses_what_is_not_an_interface() -> None:
    with pytest.raises(TypeError, match="takes an Interface .*subclass"):
        expose(dict)


@pytest.fixture()
def installed_plugin(tmp_path: Path) -> Iterator[None]:
    """A real installed distribution (a .dist-info on sys.path) that offers
    ``plainjson`` through the ``ladon.interfaces`` entry-point group."""
    dist = tmp_path / "ladon_plainjson-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ladon-plainjson\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[ladon.interfaces]\nplainjson = plugin_plainjson:PlainJSONInterface\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        yield
    finally:
        sys.path.remove(str(tmp_path))


@pytest.mark.usefixtures("installed_plugin")
def test_entry_point_interfaces_are_loaded_only_when_asked() -> None:
    plain = TestApp(LadonWSGIApplication([Tools]))
    assert _post(plain, "plainjson", {"method": "add", "args": {}}).status_int == 404
    with_plugins = TestApp(LadonWSGIApplication([Tools], interface_plugins=True))
    resp = _post(with_plugins, "plainjson", {"method": "add", "args": {"a": 1, "b": 2}})
    assert resp.json == {"result": 3}


def test_custom_response_bypasses_the_interface_encoder() -> None:
    client = TestApp(LadonWSGIApplication([Tools]))
    resp = _post(client, "jsonwsp", {"methodname": "table", "args": {"n": 3}})
    assert resp.status_int == 200
    assert resp.content_type == "text/csv"
    assert resp.headers["X-Rows"] == "3"
    assert resp.body == b"0,0\n1,1\n2,4\n"


def test_logging_flags_log_access_args_result_and_time_as_json(
    caplog: pytest.LogCaptureFixture,
) -> None:
    flags = (
        LOG_REQUEST_ACCESS
        | LOG_REQUEST_DICT
        | LOG_RESPONSE_DICT
        | LOG_EXECUTION_TIME
        | LOG_JSON_FORMAT
    )
    client = TestApp(LadonWSGIApplication([Tools], logging=flags))
    with caplog.at_level(logging.INFO, logger="ladon"):
        _post(client, "jsonwsp", {"methodname": "add", "args": {"a": 2, "b": 5}})
    calls = [json.loads(r.getMessage()) for r in caplog.records if r.name == "ladon.calls"]
    assert calls and calls[0]["method"] == "add"
    assert calls[0]["args"] == {"a": 2, "b": 5}
    assert calls[0]["result"] == 7
    assert calls[0]["seconds"] >= 0
    access = [r.getMessage() for r in caplog.records if r.name == "ladon.access"]
    assert any("POST /Tools/jsonwsp 200" in line for line in access)


def test_no_logging_flags_log_nothing(caplog: pytest.LogCaptureFixture) -> None:
    client = TestApp(LadonWSGIApplication([Tools]))
    with caplog.at_level(logging.INFO, logger="ladon"):
        _post(client, "jsonwsp", {"methodname": "add", "args": {"a": 2, "b": 5}})
    assert not [r for r in caplog.records if r.name in ("ladon.calls", "ladon.access")]
