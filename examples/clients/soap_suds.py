"""SOAP through suds (the suds-community package)."""

from __future__ import annotations

import sys
import time

import suds
import suds.client

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"

client = suds.client.Client(f"{BASE}/Calculator/soap/description", cache=None)
print("add(2, 3) =", client.service.add(2, 3))
stats = client.service.statistics({"item": [{"label": "a", "value": 2.0}]})
print("statistics: count", stats.count, "total", stats.total)
try:
    client.service.divide(1, 0)
except suds.WebFault as fault:
    print("divide(1, 0) -> fault:", fault.fault.faultstring)

jobs = suds.client.Client(f"{BASE}/InstanceService/soap/description", cache=None)
started = jobs.service.cloneInstance("i-1", "copy")
task_id = started if isinstance(started, str) else started["task-id"]  # the one field, unwrapped
while (progress := jobs.service.cloneInstance_progress(task_id)).state not in (
    "succeeded",
    "failed",
    "cancelled",
):
    print(f"task {progress.state} {progress.progress:.0%} {progress.message}")
    time.sleep(0.5)
print("task result:", jobs.service.cloneInstance_result(task_id)["instance-id"])
