"""The service and application of ``bench_tasks_wait.py``.

``app`` takes its task backend from ``LADON_TASKS``: gunicorn serves it as
``wait_bench:app`` and ``ladon worker wait_bench:app`` runs its tasks.
"""

from __future__ import annotations

import os
import threading
import time

from ladon import LadonWSGIApplication
from ladon import ladonize

#: What ``parked`` tasks wait for.
PARKED = threading.Event()


class WaitBench:
    """A task that ends when told to, and a trivial one."""

    @ladonize(tasktype=True)
    def held(self, gate: str) -> float:
        """Wait until the file ``gate`` exists (checked every millisecond),
        then return the time the task ends (epoch seconds)."""
        deadline = time.monotonic() + 30
        while not os.path.exists(gate) and time.monotonic() < deadline:
            time.sleep(0.001)
        return time.time()

    @ladonize(tasktype=True)
    def parked(self) -> int:
        """Wait (at most 30 s) until :data:`PARKED` is set: in process, a
        benchmark holds the pool's threads with it, without the wake-ups of
        ``held``."""
        PARKED.wait(30)
        return 0

    @ladonize(tasktype=True)
    def trivial(self, n: int) -> int:
        """Return ``n``."""
        return n


app = LadonWSGIApplication([WaitBench])
