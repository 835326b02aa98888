"""The service and application of ``bench_tasks_wait.py``.

``app`` takes its task backend from ``LADON_TASKS``: gunicorn serves it as
``wait_bench:app`` and ``ladon worker wait_bench:app`` runs its tasks.
"""

from __future__ import annotations

import os
import time

from ladon import LadonWSGIApplication
from ladon import ladonize


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
    def trivial(self, n: int) -> int:
        """Return ``n``."""
        return n


app = LadonWSGIApplication([WaitBench])
