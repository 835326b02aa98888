"""Task services for the console tests in Chromium.

The live server of those tests runs in the test's own process, on the
thread backend, so a task can be held on an in-process gate: the page can
then be looked at while the task runs, while its cancel is requested (it
looks at nothing until its gate opens), and just before it fails.
"""

from __future__ import annotations

import threading
from typing import Any

from ladon import ladonize

#: The longest a held task waits for its gate.
HOLD_TIMEOUT = 15.0

_lock = threading.Lock()
_gates: dict[str, threading.Event] = {}


def gate(name: str) -> threading.Event:
    """The gate ``name`` (made on first use)."""
    with _lock:
        return _gates.setdefault(name, threading.Event())


def open_all() -> None:
    """Open every gate, so that no held task outlives its test."""
    with _lock:
        for event in _gates.values():
            event.set()


def _hold(name: str) -> None:
    if not gate(name).wait(HOLD_TIMEOUT):
        raise TimeoutError(f"gate {name!r} was never opened")


class ConsoleTasks:
    """Tasks that stop at 25 % until the test opens their gate."""

    @ladonize()
    def note(self, text: str | None) -> str:
        """Say what arrived: ``text``, or ``null`` for None.

        :param text: required, but may be null
        """
        return "null" if text is None else f"text {text!r}"

    @ladonize(tasktype=True)
    def steps(self, gate: str, **kw: Any) -> str:
        """Report 25 % ("step 1 of 4"), wait for the gate, then go on to the
        end (a cancelled task stops at its next report, 50 %).

        :param gate: the gate to wait for
        """
        task = kw["task"]
        task.progress(0.25, message="step 1 of 4")
        _hold(gate)
        for step in (2, 3, 4):
            task.progress(step / 4, message=f"step {step} of 4")
        return "all four steps"

    @ladonize(tasktype=True)
    def breaks(self, gate: str, reason: str, **kw: Any) -> int:
        """Report 25 % ("step 1 of 4"), wait for the gate, then fail with
        ``reason``.

        :param gate: the gate to wait for
        :param reason: the message of the failure
        """
        kw["task"].progress(0.25, message="step 1 of 4")
        _hold(gate)
        raise ValueError(reason)
