"""Task services of the production-task tests (issue 14): idempotent starts,
``_wait`` and completion callbacks, on every backend.

Like ``backend_tasks``, tasks may run in another process (an RQ worker,
another gunicorn worker, another process on the SQLite file), so side
effects are written to files: :meth:`Ops.count` appends one line per run to
a *ledger*, which tests count; held tasks wait for file gates.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from backend_tasks import hold

from ladon import ladonize
from ladon.tasks import Retry


def append(ledger: str, label: str) -> None:
    """Add the line ``<label> <pid>`` to the file ``ledger`` (one write: lines
    of concurrent runs never mix)."""
    fd = os.open(ledger, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{label} {os.getpid()}\n".encode())
    finally:
        os.close(fd)


def runs(ledger: str | Path) -> list[str]:
    """The lines of a ledger (none when it does not exist)."""
    try:
        return Path(ledger).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []


class Ops:
    """Tasks whose runs can be counted and whose end can be timed."""

    @ladonize(tasktype=True)
    def count(self, ledger: str, label: str, gates: str = "", gate: str = "", **kw: Any) -> str:
        """Append one line to ``ledger`` (the side effect counted), then wait
        for the gate ``gate`` when one is given; return ``label``."""
        append(ledger, label)
        if gate:
            kw["task"].progress(0.5, message="counted")
            hold(gates, gate)
        return label

    @ladonize(tasktype=True)
    def ends_at(self, gates: str, gate: str) -> float:
        """Wait for the gate, then return the time the task ended (epoch
        seconds, taken as the last thing it does)."""
        hold(gates, gate)
        return time.time()

    @ladonize(tasktype={"retries": 2, "retry_delay": 0})
    def count_retried(self, ledger: str, label: str, until: int, **kw: Any) -> str:
        """Append one line to ``ledger`` per attempt; ask to run again until
        attempt ``until``; return ``label``."""
        attempt = int(kw["task"].attempt)
        append(ledger, f"{label}-{attempt}")
        if attempt < until:
            raise Retry(f"attempt {attempt} is not enough")
        return label

    @ladonize(tasktype=True)
    def tally(self, ledger: str, numbers: list[int]) -> int:
        """Append one line to ``ledger``, then change the list it was given
        (which a repeated start must still match); return the sum."""
        append(ledger, "tally")
        total = sum(numbers)
        numbers.append(-total)
        return total

    @ladonize(tasktype=True)
    def chatter(self, steps: int, **kw: Any) -> int:
        """Report ``steps`` messages at once (quicker than a shared store is
        written), then end."""
        for i in range(1, steps + 1):
            kw["task"].progress(i / steps, message=f"step {i} of {steps}")
        return steps

    @ladonize(tasktype=True)
    def fail(self, reason: str) -> int:
        """Fail with ValueError(reason)."""
        raise ValueError(reason)
