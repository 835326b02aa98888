"""What every non-Python client must get from the ``Geometry`` scenario
(tests/clients/soap_client.php, tests/clients/node/soap_client.js)."""

from __future__ import annotations

import json
import subprocess
from typing import Any


def run(argv: list[str], timeout: float = 60) -> Any:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{argv[:3]} failed:\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout)


def check_scenario(out: dict[str, Any], iface: str) -> None:
    """The scenario's answers, with the types a client must see (numbers
    and booleans as such, on rpc/encoded too)."""
    assert out["functions"] == 8  # the task's five calls among them
    summary = out["summary"]
    assert summary == {
        "count": 3,
        "total": 3.5,
        "all_positive": False,
        "mean": 1.1666666666666667,
        "farthest": [4, 9],
    }
    assert type(summary["count"]) is int and type(summary["all_positive"]) is bool
    assert type(summary["total"]) is float
    assert out["greet"] == "Hello, Zoë!"
    fault = out["fault"]
    assert fault is not None, "no fault raised"
    assert fault["string"] == "you asked for it"
    assert fault["code"] == ("env:Sender" if iface == "soap12" else "SOAP-ENV:Client")
    task = out["task"]
    assert task["state"] == "succeeded"
    assert (task["count"], task["total"]) == (3, 6)
