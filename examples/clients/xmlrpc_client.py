"""XML-RPC through the standard library's xmlrpc.client."""

from __future__ import annotations

import sys
import time
import xmlrpc.client

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"

calc = xmlrpc.client.ServerProxy(f"{BASE}/Calculator/xmlrpc", allow_none=True)
print("methods:", calc.system.listMethods())
print("add(2, 3) =", calc.add(2, 3))
print("statistics:", calc.statistics([{"label": "a", "value": 1.0}, {"label": "b", "value": 3.0}]))
try:
    calc.divide(1, 0)
except xmlrpc.client.Fault as fault:
    print("divide(1, 0) -> fault:", fault.faultCode, fault.faultString)

jobs = xmlrpc.client.ServerProxy(f"{BASE}/InstanceService/xmlrpc", allow_none=True)
task_id = jobs.cloneInstance("i-1", "copy")["task_id"]
while (p := jobs.cloneInstance_progress(task_id))["state"] in ("pending", "running"):
    print(f"task {p['state']} {p['progress']:.0%} {p['message']}")
    time.sleep(0.5)
print("task result:", jobs.cloneInstance_result(task_id)["instance_id"])
