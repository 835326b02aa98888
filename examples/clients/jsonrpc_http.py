"""JSON-RPC 1.0 and 2.0 over plain HTTP (urllib), a batch included."""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from typing import Any

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"


def post(url: str, payload: Any) -> Any:
    req = urllib.request.Request(
        url, json.dumps(payload).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req) as resp:
        body = resp.read()
    return json.loads(body) if body else None


print(
    "1.0 add:", post(f"{BASE}/Calculator/jsonrpc10", {"method": "add", "params": [2, 3], "id": 1})
)
print(
    "2.0 add (named):",
    post(
        f"{BASE}/Calculator/jsonrpc",
        {"jsonrpc": "2.0", "method": "add", "params": {"a": 2, "b": 3}, "id": "x"},
    ),
)
batch = [
    {"jsonrpc": "2.0", "method": "add", "params": [1, 1], "id": 1},
    {"jsonrpc": "2.0", "method": "divide", "params": [1, 0], "id": 2},
    {"jsonrpc": "2.0", "method": "add", "params": [5, 5]},  # a notification: no answer
]
for answer in post(f"{BASE}/Calculator/jsonrpc", batch):
    print("batch:", answer)


def call(method: str, *params: Any) -> Any:
    """A JSON-RPC 2.0 call to the task service; its result, or the error raised."""
    answer = post(
        f"{BASE}/InstanceService/jsonrpc",
        {"jsonrpc": "2.0", "method": method, "params": list(params), "id": 1},
    )
    if "error" in answer:
        raise RuntimeError(answer["error"]["message"])
    return answer["result"]


task_id = call("cloneInstance", "i-1", "copy")["task_id"]
while (p := call("cloneInstance_progress", task_id))["state"] not in (
    "succeeded",
    "failed",
    "cancelled",
):
    print(f"task {p['state']} {p['progress']:.0%} {p['message']}")
    time.sleep(0.5)
print("task result:", call("cloneInstance_result", task_id)["instance_id"])
