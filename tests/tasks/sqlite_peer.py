"""Another process on the SQLite task file of a test: it serves the test
application on that file, starts one task there (so that it runs, and
ends, in this process), prints the task id, and stays until the file
``<gates>/peer.stop`` exists (or 30 s), sending its callbacks meanwhile (configured by the ``LADON_CALLBACK_*``
environment variables).

Usage: ``python sqlite_peer.py TASKS_URL GATES METHOD JSON_ARGS [CALLBACK_URL]``
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from backend_app import make_app
from webtest import TestApp


def main() -> int:
    url, gates, method, args = sys.argv[1:5]
    callback = sys.argv[5] if len(sys.argv) > 5 else ""
    # the callback settings come from LADON_CALLBACK_HOSTS, _NETWORKS, _SECRET
    app = make_app(url, callback_backoff=0.05)
    headers = {"Ladon-Callback-URL": callback} if callback else {}
    answer = TestApp(app).post_json(
        "/Ops/jsonwsp", {"methodname": method, "args": json.loads(args)}, headers=headers
    )
    sys.stdout.write(answer.json["result"]["task_id"] + "\n")
    sys.stdout.flush()
    stop = Path(gates) / "peer.stop"
    deadline = time.monotonic() + 30
    while not stop.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
