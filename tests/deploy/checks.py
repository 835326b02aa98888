"""What every deployment must serve: the example app called through zeep
(SOAP), the JSON-WSP client (a task included) and the docs pages."""

from __future__ import annotations

import time
import urllib.request

import zeep

from ladon.clients.jsonwsp import JSONWSPClient


def check_pages(base: str) -> None:
    with urllib.request.urlopen(base + "/", timeout=10) as resp:
        html = resp.read().decode()
        assert resp.status == 200
    assert "Deployed examples" in html
    assert "/_ladon/static/ladon.css" in html
    with urllib.request.urlopen(base + "/_ladon/static/ladon.js", timeout=10) as resp:
        assert resp.headers["Content-Type"].startswith("text/javascript")


def check_soap(base: str) -> None:
    client = zeep.Client(base + "/Calculator/soap/description")
    assert client.service.add(2, 3) == 5
    stats = client.service.statistics(
        {"item": [{"label": "a", "value": 1.5}, {"label": "b", "value": 4.5}]}
    )
    assert stats.count == 2
    assert stats.largest.label == "b"
    rpc = zeep.Client(base + "/Calculator/soap11/description")
    assert rpc.service.add(20, 22) == 42


def check_jsonwsp_task(base: str) -> None:
    calc = JSONWSPClient(base + "/Calculator/jsonwsp/description")
    assert calc.call("divide", a=9.0, b=2.0) == 4.5
    svc = JSONWSPClient(base + "/InstanceService/jsonwsp/description")
    started = svc.call("cloneInstance", instance_id="i-1", new_instance_name="Deployed")
    task_id = started["task_id"]
    deadline = time.monotonic() + 30
    states: list[str] = []
    while True:
        progress = svc.call("cloneInstance_progress", task_id=task_id)
        states.append(progress["state"])
        if progress["state"] in ("succeeded", "failed", "cancelled"):
            break
        assert time.monotonic() < deadline, states
        time.sleep(0.05)
    assert progress["state"] == "succeeded", progress
    assert progress["progress"] == 1.0
    result = svc.call("cloneInstance_result", task_id=task_id)
    assert result["instance_id"] == "i-deployed"
    assert result["source_id"] == "i-1"


def check_deployment(base: str) -> None:
    check_pages(base)
    check_soap(base)
    check_jsonwsp_task(base)
