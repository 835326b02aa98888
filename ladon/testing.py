"""Helpers for testing services and deployments built on Ladon.

.. versionadded:: 2.0
"""

from __future__ import annotations

import threading


class ManualClock:
    """A clock that moves only when told to: give it to a task backend
    (``ThreadTaskBackend(clock=...)``, ``SQLiteTaskBackend(path,
    clock=...)``) and :meth:`advance` it to see results expire, leases run
    out and ``max_runtime`` pass, without sleeping.

    :param start: its wall-clock time at first (epoch seconds).

    .. versionadded:: 2.0
    """

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._lock = threading.Lock()
        self._wall = float(start)
        self._mono = 0.0

    def time(self) -> float:
        with self._lock:
            return self._wall

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def advance(self, seconds: float) -> None:
        """Move both the wall clock and the monotonic clock forward."""
        if seconds < 0:
            raise ValueError("a clock does not go back")
        with self._lock:
            self._wall += seconds
            self._mono += seconds
