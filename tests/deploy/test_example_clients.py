"""The example client scripts (examples/clients/), each run as a program
against the example services on a real server, as a newcomer would."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from ladon.server.wsgi import LadonWSGIApplication

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ROOT / "examples" / "clients"


@pytest.fixture(scope="module")
def examples_url() -> Iterator[str]:
    app = LadonWSGIApplication([str(ROOT / "examples")])
    clone = app.service("InstanceService")
    assert clone is not None and isinstance(clone.source, type)
    sys.modules[clone.source.__module__].STEP_SECONDS = 0.02  # type: ignore[attr-defined]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(5)
    app.close()


EXPECTED = {
    "soap_zeep.py": [
        "soap add(2, 3) = 5",
        "soap11 add(2, 3) = 5",
        "soap statistics: count 2 total 5.5",
        "soap divide(1, 0) -> fault: Cannot divide by zero",
        "soap task result: i-copy",
        "soap11 task result: i-copy",
    ],
    "soap_suds.py": ["add(2, 3) = 5", "statistics: count 1 total 2.0", "task result: i-copy"],
    "jsonwsp_client.py": [
        "add(2, 3) = 5",
        "Ladon 1.0 style: 5",
        "divide(1, 0) -> fault: client Cannot divide by zero",
        "upload: 12 bytes, sha256 a948904f2f0f479b...",
        "report: ['Report', '1. line 1', '2. line 2']",
        "task result: i-copy",
    ],
    "jsonrpc_http.py": [
        "1.0 add: {'result': 5, 'id': 1, 'error': None}",
        "2.0 add (named): {'jsonrpc': '2.0', 'result': 5, 'id': 'x'}",
        "batch: {'jsonrpc': '2.0', 'result': 2, 'id': 1}",
        "task result: i-copy",
    ],
    "xmlrpc_client.py": ["add(2, 3) = 5", "task result: i-copy"],
}


def test_every_client_script_is_tested() -> None:
    assert sorted(p.name for p in CLIENTS.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_example_client(examples_url: str, script: str) -> None:
    proc = subprocess.run(
        [sys.executable, str(CLIENTS / script), examples_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    for line in EXPECTED[script]:
        assert line in lines, f"{line!r} not in the output:\n{proc.stdout}"


@pytest.fixture(scope="module")
def busy_examples() -> Iterator[tuple[str, LadonWSGIApplication]]:
    """The examples on one task thread, so that a new task waits (pending)."""
    from ladon.tasks import ThreadTaskBackend

    app = LadonWSGIApplication([str(ROOT / "examples")], tasks=ThreadTaskBackend(max_workers=1))
    clone = app.service("InstanceService")
    assert clone is not None and isinstance(clone.source, type)
    sys.modules[clone.source.__module__].STEP_SECONDS = 0.02  # type: ignore[attr-defined]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()
    server.server_close()
    thread.join(5)
    app.close()


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_example_client_follows_a_task_that_waits_for_a_worker(
    busy_examples: tuple[str, LadonWSGIApplication], script: str
) -> None:
    import json
    import time
    import urllib.request

    url, _app = busy_examples

    def jsonwsp(method: str, **args: object) -> dict[str, object]:
        body = json.dumps({"methodname": method, "args": args}).encode()
        with urllib.request.urlopen(f"{url}/TaskService/jsonwsp", body, timeout=10) as r:
            answer: dict[str, object] = json.load(r)
        return answer

    # the only task thread is taken: the script's task is pending at first
    blocker = jsonwsp("taskExample", session_id="s", counter=1)["result"]
    assert isinstance(blocker, dict)
    proc = subprocess.Popen(
        [sys.executable, str(CLIENTS / script), url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(2.0)
        jsonwsp("taskExample_cancel", task_id=blocker["task_id"])
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err[-2000:]
    assert "task result: i-copy" in out
