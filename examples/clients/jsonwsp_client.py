"""JSON-WSP through Ladon's own client: calls, a fault, files both ways, a task."""

from __future__ import annotations

import io
import sys
import time

from ladon.clients.jsonwsp import JSONWSPClient
from ladon.clients.jsonwsp import JSONWSPFault

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"

calc = JSONWSPClient(f"{BASE}/Calculator/jsonwsp/description")
print("methods:", ", ".join(calc.list_methods()))
print("add(2, 3) =", calc.call("add", a=2, b=3))
print("Ladon 1.0 style:", calc.add(a=2, b=3).response_dict["result"])
try:
    calc.call("divide", a=1, b=0)
except JSONWSPFault as fault:
    print("divide(1, 0) -> fault:", fault.code, fault.string)

files = JSONWSPClient(f"{BASE}/Files/jsonwsp/description")
receipt = files.call("upload", name="hello.txt", data=io.BytesIO(b"hello world\n"))
print("upload:", receipt["size"], "bytes, sha256", receipt["sha256"][:16] + "...")
with files.report(title="Report", lines=2) as resp:
    print("report:", resp.result.read().decode().splitlines())

jobs = JSONWSPClient(f"{BASE}/InstanceService/jsonwsp/description")
task_id = jobs.call("cloneInstance", instance_id="i-1", new_instance_name="copy")["task_id"]
while (p := jobs.call("cloneInstance_progress", task_id=task_id))["state"] in (
    "pending",
    "running",
):
    print(f"task {p['state']} {p['progress']:.0%} {p['message']}")
    time.sleep(0.5)
print("task result:", jobs.call("cloneInstance_result", task_id=task_id)["instance_id"])
