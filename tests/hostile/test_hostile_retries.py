"""Hostile text in a re-run (issue 14): a task that raises ``Retry`` with a
message made of control characters, lone surrogates, markup and 20,000
characters. ``_progress`` answers on every interface with a cleaned,
bounded message that the protocol's own parser reads (lxml for SOAP,
``xmlrpc.client`` for XML-RPC, ``json`` for the JSON interfaces), while the
task waits to run again and once it has failed; no traceback leaves the
server.
"""

from __future__ import annotations

import json
import time
import xmlrpc.client
from collections.abc import Iterator
from typing import Any

import pytest
from lxml import etree
from webtest import TestApp

from ladon import ladonize
from ladon.server.wsgi import LadonWSGIApplication
from ladon.tasks import Retry
from ladon.tasks import ThreadTaskBackend

EVIL = "\x00\x01\x08\x0b\x1b\ud800\udfff\ufffe]]><![CDATA[<x>&amp;</x>\"'" + "é" * 20_000


class Hostile:
    @ladonize(tasktype={"retries": 1, "retry_delay": 60})
    def stalls(self) -> int:
        """Raise Retry with hostile text; the next attempt waits a minute."""
        raise Retry(EVIL)

    @ladonize(tasktype=True)
    def refuses(self) -> int:
        """Raise Retry with hostile text, with no retries."""
        raise Retry(EVIL)


@pytest.fixture(scope="module")
def app() -> Iterator[TestApp]:
    application = LadonWSGIApplication([Hostile], tasks=ThreadTaskBackend())
    yield TestApp(application)
    application.close()


def _start(app: TestApp, method: str) -> str:
    body = app.post_json("/Hostile/jsonwsp", {"methodname": method, "args": {}}).json
    task_id: str = body["result"]["task_id"]
    return task_id


def _progress_over(app: TestApp, iface: str, method: str, task_id: str) -> dict[str, Any]:
    name = f"{method}_progress"
    if iface == "jsonwsp":
        body = app.post_json(
            "/Hostile/jsonwsp", {"methodname": name, "args": {"task_id": task_id}}
        ).body
        result: dict[str, Any] = json.loads(body)["result"]
        return result
    if iface == "jsonrpc":
        body = app.post_json(
            "/Hostile/jsonrpc",
            {"jsonrpc": "2.0", "method": name, "params": {"task_id": task_id}, "id": 1},
        ).body
        result = json.loads(body)["result"]
        return result
    if iface == "xmlrpc":
        request = xmlrpc.client.dumps((task_id,), name)
        body = app.post("/Hostile/xmlrpc", request, {"Content-Type": "text/xml"}).body
        (answer,), _ = xmlrpc.client.loads(body)
        assert isinstance(answer, dict)
        return dict(answer)
    envelope = (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
        f'<soap:Body><{name} xmlns="urn:Hostile"><task_id>{task_id}</task_id></{name}>'
        "</soap:Body></soap:Envelope>"
    )
    body = app.post(f"/Hostile/{iface}", envelope, {"Content-Type": "text/xml; charset=utf-8"}).body
    root = etree.fromstring(body)  # the parser refuses what XML cannot hold
    fields = {
        etree.QName(e).localname.replace("-", "_"): e.text
        for e in root.iter()
        if len(e) == 0 and isinstance(e.tag, str)
    }
    return {"state": fields["state"], "message": fields.get("message") or ""}


def _wait(app: TestApp, method: str, task_id: str, state: str) -> None:
    deadline = time.monotonic() + 10
    while _progress_over(app, "jsonwsp", method, task_id)["state"] != state:
        assert time.monotonic() < deadline, f"{method} never {state}"
        time.sleep(0.01)


@pytest.mark.parametrize("iface", ["soap", "soap11", "jsonwsp", "jsonrpc", "xmlrpc"])
def test_hostile_retry_text_is_answered_cleanly_on_every_interface(
    app: TestApp, iface: str
) -> None:
    waiting = _start(app, "stalls")
    _wait(app, "stalls", waiting, "pending")
    failed = _start(app, "refuses")
    _wait(app, "refuses", failed, "failed")
    for method, task_id, state in (("stalls", waiting, "pending"), ("refuses", failed, "failed")):
        status = _progress_over(app, iface, method, task_id)
        assert status["state"] == state
        message = status["message"]
        assert "\x00" not in message and "\x1b" not in message
        assert not any("\ud800" <= c <= "\udfff" for c in message)
        assert "]]><![CDATA[<x>&amp;</x>" in message  # text, kept as text
        assert len(message) < 1200  # bounded: 1,000 characters of reason, and the framing
        for leak in ("Traceback", 'File "', ".py"):
            assert leak not in message
    cancel = app.post_json(
        "/Hostile/jsonwsp", {"methodname": "stalls_cancel", "args": {"task_id": waiting}}
    ).json
    assert cancel["result"]["state"] == "cancelled"
