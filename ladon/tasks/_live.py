"""The tasks this process runs for a shared backend, as seen from inside.

A task may report progress thousands of times a second; writing each report
to a shared store (SQLite, Redis) would make the store the bottleneck. Here
reports are kept in memory and written at most once per ``interval`` per
task (the first report at once, later ones by the caller or by the
backend's ticker thread, whichever comes first), and the cancel flag read
back from the store is cached, so that ``task.cancelled`` in a tight loop
costs a dictionary look-up.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from collections.abc import Iterable

logger = logging.getLogger("ladon")

#: ``sync(task_id, progress, message) -> cancel_requested``: writes a report
#: (``None`` leaves a value alone) and tells whether a cancel was requested.
SyncFn = Callable[[str, "float | None", "str | None"], bool]


class _Live:
    __slots__ = ("cancel", "dirty", "last_sync", "lock", "message", "progress")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.progress: float | None = None
        self.message: str | None = None
        self.dirty = False
        self.last_sync = -math.inf
        self.cancel = False


class LiveTasks:
    """Progress reports and cancel flags of the tasks running here.

    :param interval: the shortest time between two writes for one task.
    :param sync: writes one task's report to the store.
    """

    def __init__(self, interval: float, sync: SyncFn) -> None:
        self.interval = interval
        self._sync = sync
        self._lock = threading.Lock()
        self._tasks: dict[str, _Live] = {}

    def __len__(self) -> int:
        return len(self._tasks)

    def add(self, task_id: str) -> None:
        """Start following a task that begins to run here."""
        with self._lock:
            self._tasks[task_id] = _Live()

    def remove(self, task_id: str) -> str | None:
        """Stop following a task (it ended).

        :returns: its last message not written yet (reported within the
            interval before the end, or while the store was away), which the
            end of the task writes; ``None`` when there is none. (Unsent
            progress is dropped: the end sets it to 1.0.)
        """
        with self._lock:
            live = self._tasks.pop(task_id, None)
        if live is None:
            return None
        with live.lock:
            return live.message if live.dirty else None

    def ids(self) -> list[str]:
        """The ids of the tasks followed."""
        with self._lock:
            return list(self._tasks)

    def report(self, task_id: str, progress: float | None, message: str | None) -> bool:
        """Take a report of a running task; see
        :meth:`ladon.tasks.base.TaskReporter.report_progress`.

        :returns: True when a cancel of the task was requested.
        """
        live = self._tasks.get(task_id)
        if live is None:
            return False
        with live.lock:
            if live.cancel:
                return True
            if progress is not None and (live.progress is None or progress > live.progress):
                live.progress = progress
                live.dirty = True
            if message is not None:
                live.message = message
                live.dirty = True
            if live.dirty and time.monotonic() - live.last_sync >= self.interval:
                self._write(task_id, live)
            return live.cancel

    def cancelled(self, task_id: str) -> bool:
        """The cached cancel flag of a task followed here."""
        live = self._tasks.get(task_id)
        return live is not None and live.cancel

    def mark_cancelled(self, task_ids: Iterable[str]) -> None:
        """Record that a cancel of these tasks was requested.

        :param task_ids: the ids (unknown ones are ignored).
        """
        for task_id in task_ids:
            live = self._tasks.get(task_id)
            if live is not None:
                live.cancel = True

    def flush(self, force: bool = False) -> None:
        """Write the reports not written yet (called by the ticker).

        :param force: also sync the tasks with nothing new to write (their
            answer refreshes the cancel flag).
        """
        with self._lock:
            items = list(self._tasks.items())
        for task_id, live in items:
            with live.lock:
                if live.dirty or force:
                    self._write(task_id, live)

    def _write(self, task_id: str, live: _Live) -> None:
        """Write one task's report (``live.lock`` held)."""
        progress, message = live.progress, live.message
        live.message = None  # written: later syncs keep it
        live.dirty = False
        live.last_sync = time.monotonic()
        try:
            cancel = self._sync(task_id, progress, message)
        except Exception as exc:
            # NOTE: a store that is busy or away must not fail the task: the
            # report is kept and written by a later sync.
            logger.warning("Cannot store the progress of task %s: %s", task_id, exc)
            if message is not None and live.message is None:
                live.message = message
            live.dirty = True
            return
        if cancel:
            live.cancel = True
