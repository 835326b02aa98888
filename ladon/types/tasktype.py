"""Response types of the generated task methods."""

from __future__ import annotations

from .ladontype import LadonType


class TaskInfoResponse(LadonType):
    """Returned at once when a task method is called."""

    task_id = str


class TaskProgressResponse(LadonType):
    """The state of a task (``m_progress`` and ``m_cancel``).

    ``progress`` runs from 0.0 to 1.0; ``starttime`` is an epoch float and
    ``duration`` the seconds since then (until the task ended); ``state`` is
    one of pending, running, succeeded, failed, cancelled.
    """

    task_id = str
    progress = float
    duration = float
    starttime = float
    state = str
    message = {"type": str, "nullable": True}
