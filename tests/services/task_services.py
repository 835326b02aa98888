"""Task services for the task-call tests.

Tests hold tasks deterministically through named gates: a held task sets
``started(name)`` once it runs, then waits until the test calls
``release(name)``. Nothing here sleeps to let time pass except a bounded
poll in the cooperative-cancel task; every wait has a deadline so a broken
test fails instead of hanging.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from ladon import LadonType
from ladon import ladonize

#: The longest a held task waits for its gate before giving up.
HOLD_TIMEOUT = 10.0

_lock = threading.Lock()
_gates: dict[str, threading.Event] = {}
_started: dict[str, threading.Event] = {}


def _event(table: dict[str, threading.Event], name: str) -> threading.Event:
    with _lock:
        event = table.get(name)
        if event is None:
            event = table[name] = threading.Event()
        return event


def gate(name: str) -> threading.Event:
    """The event a held task named ``name`` waits for."""
    return _event(_gates, name)


def started(name: str) -> threading.Event:
    """The event a held task named ``name`` sets once it runs."""
    return _event(_started, name)


def release(name: str) -> None:
    """Let the held task(s) named ``name`` go on."""
    gate(name).set()


def release_all() -> None:
    """Let every held task go on (test teardown)."""
    with _lock:
        events = list(_gates.values())
    for event in events:
        event.set()


def reset() -> None:
    """Forget every gate (test setup); call after :func:`release_all`."""
    with _lock:
        _gates.clear()
        _started.clear()


def _hold(name: str) -> None:
    started(name).set()
    if not gate(name).wait(HOLD_TIMEOUT):
        raise TimeoutError(f"gate {name!r} was never released")


class Report(LadonType):
    """A structured task result."""

    name: str
    sizes: list[int]
    note: str | None = None


class Jobs:
    """Background tasks with controllable timing and outcomes."""

    @ladonize(tasktype=True)
    def echo(self, name: str, text: str, **kw: Any) -> str:
        """Wait for the gate ``name``, then return ``text``.

        :param name: the gate to wait for
        :param text: what to return
        :rtype: text, unchanged
        """
        kw["task"].progress(0.5, message="held")
        _hold(name)
        return text

    @ladonize(tasktype=True)
    def square(self, n: int, **kw: Any) -> int:
        """Return n * n at once, reporting progress on the way."""
        kw["update_progress"](0.5)
        return n * n

    @ladonize(tasktype=True)
    def climb(self, steps: int, **kw: Any) -> int:
        """Report progress ``steps`` times without pausing; return ``steps``."""
        report = kw["update_progress"]
        for i in range(1, steps + 1):
            report(i / steps)
        return steps

    @ladonize(tasktype=True)
    def staircase(self, name: str, values: list[float], **kw: Any) -> int:
        """Report each of ``values`` (message ``step i``), waiting for the gate
        ``name/i`` after each; return how many were reported."""
        task = kw["task"]
        for i, value in enumerate(values):
            task.progress(value, message=f"step {i}")
            _hold(f"{name}/{i}")
        return len(values)

    @ladonize(tasktype=True)
    def explode(self, reason: str, **kw: Any) -> int:
        """Fail with ValueError(reason) after a little progress."""
        kw["update_progress"](0.25)
        raise ValueError(reason)

    @ladonize(tasktype=True)
    def zero(self) -> int:
        return 0

    @ladonize(tasktype=True)
    def empty_text(self) -> str:
        return ""

    @ladonize(tasktype=True)
    def empty_list(self) -> list[int]:
        return []

    @ladonize(tasktype=True)
    def false(self) -> bool:
        return False

    @ladonize(tasktype=True)
    def cooperative(self, name: str, **kw: Any) -> str:
        """Run until cancelled, checking ``task.cancelled``; return ``stopped``
        (the result of a cancelled task is dropped)."""
        task = kw["task"]
        started(name).set()
        deadline = time.monotonic() + HOLD_TIMEOUT
        while not task.cancelled:
            if time.monotonic() > deadline:
                return "never cancelled"
            time.sleep(0.001)
        return "stopped"

    @ladonize(tasktype=True)
    def spin(self, name: str, **kw: Any) -> int:
        """Keep calling update_progress until it raises (on cancel)."""
        report = kw["update_progress"]
        started(name).set()
        deadline = time.monotonic() + HOLD_TIMEOUT
        i = 0
        while time.monotonic() < deadline:
            i += 1
            report(i / (i + 1))
        return -1

    @ladonize(tasktype=True)
    def report(self, name: str, count: int) -> Report:
        """Return a Report named ``name`` with sizes 0..count-1."""
        return Report(name=name, sizes=list(range(count)), note=None)

    @ladonize(tasktype=True)
    def numbers(self, count: int) -> list[int]:
        """Return [0, 1, ..., count - 1]."""
        return list(range(count))


class OtherJobs:
    """A second service with a same-named task, for foreign-id checks."""

    @ladonize(tasktype=True)
    def zero(self) -> int:
        return 0
