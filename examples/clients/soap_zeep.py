"""SOAP through zeep: both flavours, a nested type, a fault, a task."""

from __future__ import annotations

import sys
import time

import zeep
import zeep.exceptions

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"

for flavour in ("soap", "soap11"):
    calc = zeep.Client(f"{BASE}/Calculator/{flavour}/description")
    print(flavour, "add(2, 3) =", calc.service.add(2, 3))
    operands = {"item": [{"label": "a", "value": 1.5}, {"label": "b", "value": 4.0}]}
    stats = calc.service.statistics(operands)
    print(flavour, "statistics: count", stats["count"], "total", stats["total"])
    try:
        calc.service.divide(1, 0)
    except zeep.exceptions.Fault as fault:
        print(flavour, "divide(1, 0) -> fault:", fault.message)

    jobs = zeep.Client(f"{BASE}/InstanceService/{flavour}/description")
    started = jobs.service.cloneInstance("i-1", "copy")
    task_id = started if isinstance(started, str) else started["task-id"]
    while (progress := jobs.service.cloneInstance_progress(task_id))["state"] not in (
        "succeeded",
        "failed",
        "cancelled",
    ):
        print(flavour, f"task {progress['state']} {progress['progress']:.0%} {progress['message']}")
        time.sleep(0.5)
    print(flavour, "task result:", jobs.service.cloneInstance_result(task_id)["instance-id"])
