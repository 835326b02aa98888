"""The service and application of ``bench_backends.py``.

``app`` takes its task backend from ``LADON_TASKS``: gunicorn serves it as
``backend_bench:app`` and ``ladon worker backend_bench:app`` runs its tasks.
``rq_trivial.py`` holds the same trivial job for RQ used directly.
"""

from __future__ import annotations

from ladon import LadonWSGIApplication
from ladon import ladonize


class BackendBench:
    """Trivial tasks."""

    @ladonize(tasktype=True)
    def trivial(self, n: int) -> int:
        """Return ``n``."""
        return n


app = LadonWSGIApplication([BackendBench])
