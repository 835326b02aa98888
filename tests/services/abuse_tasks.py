"""Task services for the task-abuse tests (``tests/tasks/test_abuse.py``).

Like ``backend_tasks``, they may run in another process (an RQ worker), so
they are held and followed through files in a *gates* directory:
``<name>.started`` (holding the pid) once a task runs, ``<name>.ended``
once its job has returned or raised, and ``<name>.go`` or ``ALL.go`` to let
a held task go on. Every wait has a deadline, so a broken test fails
instead of hanging.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from backend_tasks import hold
from backend_tasks import mark_started
from backend_tasks import released

from ladon import ladonize

#: The longest a task waits for its gate or runs "forever".
DEADLINE = 15.0

#: What :meth:`Abuse.wild` reports, in order: ``(progress, message)``.
WILD_REPORTS: list[tuple[object, object]] = [
    (0.25, "a quarter"),
    (math.nan, "nan"),
    ("0.9", 42),
    (None, ["not", "a", "message"]),
    (-5.0, {"a": "dict"}),
    (-math.inf, None),
    (-(10**400), "minus a huge int"),
    (0.5, "x" * 1_000_000),
    (True, b"bytes"),
    (0.75, "bad \x00\x07\x1b\ud800\udfff\uffff characters"),
    (5e-324, 3.5),
    (math.inf, "infinity"),
    (10**400, "a huge int"),
    (1.7976931348623157e308, "the largest float"),
]


def mark_ended(gates: str, name: str) -> None:
    """Say that the job of task ``name`` has returned or raised."""
    (Path(gates) / f"{name}.ended").touch()


def _wait(gates: str, name: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not released(gates, name):
        if time.monotonic() > deadline:
            raise TimeoutError(f"gate {name!r} was never released")
        time.sleep(0.005)


class Abuse:
    """Tasks that misbehave: many at once, forever, with wild progress."""

    @ladonize(tasktype=True)
    def gated(self, gates: str, gate: str, n: int) -> int:
        """Wait for the gate ``gate`` (no marker file: thousands may wait on
        one gate), then return n * n."""
        _wait(gates, gate)
        return n * n

    @ladonize(tasktype=True)
    def forever(self, gates: str, name: str, **kw: Any) -> str:
        """Report progress every few milliseconds until stopped (by a cancel
        or a max_runtime: the report then raises ``TaskCancelled``)."""
        report = kw["update_progress"]
        mark_started(gates, name)
        try:
            deadline = time.monotonic() + DEADLINE
            i = 0
            while time.monotonic() < deadline:
                i += 1
                report(i / (i + 100))
                time.sleep(0.002)
            return "never stopped"
        finally:
            mark_ended(gates, name)

    @ladonize(tasktype=True)
    def silent(self, gates: str, name: str) -> str:
        """Never report progress nor look at ``task.cancelled``: wait for the
        gate ``name``, then return."""
        try:
            hold(gates, name)
            return "finished anyway"
        finally:
            mark_ended(gates, name)

    @ladonize(tasktype=True)
    def swallow(self, gates: str, name: str) -> str:
        """Like :meth:`silent`, but swallow every ``Exception`` raised into
        it (such as RQ's job timeout) and go on waiting."""
        mark_started(gates, name)
        deadline = time.monotonic() + DEADLINE
        while not released(gates, name) and time.monotonic() < deadline:
            try:
                time.sleep(0.005)
            except Exception:  # the point of this task
                continue
        mark_ended(gates, name)
        return "swallowed"

    @ladonize(tasktype={"max_runtime": 0.3})
    def limited(self, gates: str, name: str, **kw: Any) -> str:
        """:meth:`forever` with its own max_runtime of 0.3 s."""
        return self.forever(gates, name, **kw)

    @ladonize(tasktype=True)
    def wild(self, gates: str, name: str, **kw: Any) -> int:
        """Make each report of :data:`WILD_REPORTS` (through ``task.progress``
        and, for the value alone, ``update_progress``), then wait for the gate
        ``name-i``; return how many were made."""
        task = kw["task"]
        for i, (value, message) in enumerate(WILD_REPORTS):
            kw["update_progress"](value)
            task.progress(value, message)
            hold(gates, f"{name}-{i}")
        return len(WILD_REPORTS)


class OtherAbuse:
    """A second service with same-named tasks, for foreign-id checks."""

    @ladonize(tasktype=True)
    def gated(self, gates: str, gate: str, n: int) -> int:
        """Return -n at once (the gates are ignored)."""
        return -n
