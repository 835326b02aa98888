"""End to end: the client recipes of docs/tasks.rst ("Production tasks"),
with the real clients over a socket: start with an Idempotency-Key, wait
with ``<task>_wait``, fetch the result. zeep (soap, soap11, soap12) and suds
(soap, soap11) send the key as the WSDL's ``IdempotencyKey`` header block,
``xmlrpc.client`` and JSON-RPC (urllib) as the HTTP header.

The server is a real threaded HTTP server on 127.0.0.1 with the thread
backend (``max_wait=2``: the cap is seen too); tasks are held by in-process
events and their runs counted.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
import xmlrpc.client
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import LiveServer

from ladon import ladonize
from ladon.server.wsgi import LadonWSGIApplication

pytestmark = pytest.mark.e2e

RUNS: list[str] = []
GATES: dict[str, threading.Event] = {}


def gate(name: str) -> threading.Event:
    return GATES.setdefault(name, threading.Event())


class Clones:
    """Clones instances (slowly)."""

    @ladonize(tasktype=True)
    def cloneInstance(self, instance_id: str, new_name: str) -> str:
        """Copy the instance's disks under a new name."""
        RUNS.append(new_name)
        gate(new_name).wait(20)
        return f"{new_name} (from {instance_id})"


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    app = LadonWSGIApplication([Clones], max_wait=2)
    live = LiveServer(app)
    yield live
    for event in GATES.values():
        event.set()
    live.stop()
    app.close()


def later(name: str, seconds: float = 0.3) -> None:
    """Let the task named ``name`` end ``seconds`` from now."""
    threading.Timer(seconds, gate(name).set).start()


def runs_of(name: str) -> int:
    return RUNS.count(name)


@pytest.mark.parametrize("iface", ["soap", "soap11", "soap12"])
def test_zeep_starts_with_a_key_waits_and_fetches(server: LiveServer, iface: str) -> None:
    import zeep

    name = f"zeep-{iface}"
    # -- the recipe -------------------------------------------------------
    client = zeep.Client(f"{server.url}/Clones/{iface}/description")
    key = {"IdempotencyKey": f"clone-{name}"}  # e.g. a UUID made once per clone
    started = client.service.cloneInstance("i-42", name, _soapheaders=key)
    task_id = started if isinstance(started, str) else started["task-id"]
    status = client.service.cloneInstance_wait(task_id, 1)  # returns after 1 s: running
    assert status.state == "running"
    later(name)
    status = client.service.cloneInstance_wait(task_id, 30)  # capped by the server at 2 s
    while status.state not in ("succeeded", "failed", "cancelled"):
        status = client.service.cloneInstance_wait(task_id, 30)
    result = client.service.cloneInstance_result(task_id)
    # ---------------------------------------------------------------------
    assert result == f"{name} (from i-42)"
    again = client.service.cloneInstance("i-42", name, _soapheaders=key)
    assert (again if isinstance(again, str) else again["task-id"]) == task_id
    assert runs_of(name) == 1


@pytest.mark.parametrize("iface", ["soap", "soap11"])
def test_suds_starts_with_a_key_waits_and_fetches(server: LiveServer, iface: str) -> None:
    import suds.client

    name = f"suds-{iface}"
    # -- the recipe -------------------------------------------------------
    client = suds.client.Client(f"{server.url}/Clones/{iface}/description", cache=None)
    client.set_options(soapheaders=f"clone-{name}")  # the IdempotencyKey header block
    started = client.service.cloneInstance("i-42", name)
    task_id = started if isinstance(started, str) else started["task-id"]
    client.set_options(soapheaders=())  # the other calls need none
    later(name)
    status = client.service.cloneInstance_wait(task_id, 30)
    while status.state not in ("succeeded", "failed", "cancelled"):
        status = client.service.cloneInstance_wait(task_id, 30)
    result = client.service.cloneInstance_result(task_id)
    # ---------------------------------------------------------------------
    assert result == f"{name} (from i-42)"
    client.set_options(soapheaders=f"clone-{name}")
    again = client.service.cloneInstance("i-42", name)
    assert (again if isinstance(again, str) else again["task-id"]) == task_id
    assert runs_of(name) == 1


class KeyedTransport(xmlrpc.client.Transport):
    """An ``xmlrpc.client`` transport that sends an Idempotency-Key."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def send_headers(self, connection: Any, headers: list[tuple[str, str]]) -> None:
        super().send_headers(connection, [*headers, ("Idempotency-Key", self.key)])


def test_xmlrpc_client_starts_with_a_key_waits_and_fetches(server: LiveServer) -> None:
    name = "xmlrpc"
    url = f"{server.url}/Clones/xmlrpc"
    # -- the recipe -------------------------------------------------------
    starter: Any = xmlrpc.client.ServerProxy(url, transport=KeyedTransport(f"clone-{name}"))
    task_id = starter.cloneInstance("i-42", name)["task_id"]
    clones: Any = xmlrpc.client.ServerProxy(url)
    later(name)
    status = clones.cloneInstance_wait(task_id, 30)
    while status["state"] not in ("succeeded", "failed", "cancelled"):
        status = clones.cloneInstance_wait(task_id, 30)
    result = clones.cloneInstance_result(task_id)
    # ---------------------------------------------------------------------
    assert result == f"{name} (from i-42)"
    assert starter.cloneInstance("i-42", name)["task_id"] == task_id
    assert runs_of(name) == 1
    with pytest.raises(xmlrpc.client.Fault) as refused:  # HTTP 200: XML-RPC's answers are
        starter.cloneInstance("i-43", name)
    assert "already started" in refused.value.faultString


def rpc(url: str, method: str, params: dict[str, Any], key: str | None = None) -> Any:
    """One JSON-RPC 2.0 call (urllib)."""
    body = json.dumps({"jsonrpc": "2.0", "method": method, "params": params, "id": 1})
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    request = urllib.request.Request(url, body.encode(), headers)
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())["result"]


def test_json_rpc_starts_with_a_key_waits_and_fetches(server: LiveServer) -> None:
    name = "jsonrpc"
    url = f"{server.url}/Clones/jsonrpc"
    # -- the recipe -------------------------------------------------------
    args = {"instance_id": "i-42", "new_name": name}
    task_id = rpc(url, "cloneInstance", args, key=f"clone-{name}")["task_id"]
    later(name, 2.5)  # longer than the server's cap of 2 s
    began = time.monotonic()
    status = rpc(url, "cloneInstance_wait", {"task_id": task_id, "timeout": 600})
    assert status["state"] == "running" and 1.9 < time.monotonic() - began < 2.4
    while status["state"] not in ("succeeded", "failed", "cancelled"):
        status = rpc(url, "cloneInstance_wait", {"task_id": task_id, "timeout": 600})
    result = rpc(url, "cloneInstance_result", {"task_id": task_id})
    # ---------------------------------------------------------------------
    assert result == f"{name} (from i-42)"
    assert rpc(url, "cloneInstance", args, key=f"clone-{name}")["task_id"] == task_id
    assert runs_of(name) == 1


def test_ladon_call_starts_once_per_key_and_waits_for_the_result(
    server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    from ladon.cli import main as ladon_main

    name = "cli"
    url = f"{server.url}/Clones"
    args = ["call", url, "cloneInstance", "instance_id=i-42", f"new_name={name}"]
    later(name)
    code = ladon_main([*args, "--idempotency-key", "clone-cli", "--wait"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out) == f"{name} (from i-42)"
    assert "succeeded 100%" in err.splitlines()[-1]
    # again with the key: the same task (already ended), not a second run
    code = ladon_main([*args, "--idempotency-key", "clone-cli"])
    out, _ = capsys.readouterr()
    assert code == 0 and len(json.loads(out)["task_id"]) == 40
    assert runs_of(name) == 1
    # the key with other arguments: the client fault, status 1
    code = ladon_main([*args[:-1], "new_name=other", "--idempotency-key", "clone-cli"])
    _, err = capsys.readouterr()
    assert code == 1 and "already started a task with other arguments" in err
