"""Response types of the generated task methods."""

from __future__ import annotations

import math

from .ladontype import LadonType


class TaskInfoResponse(LadonType):
    """Returned at once when a task method is called."""

    task_id = str


class TaskProgressResponse(LadonType):
    """The state of a task, as its progress, cancel and wait methods answer it.

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


def check_max_runtime(value: object, name: str = "max_runtime") -> float | None:
    """Check a ``max_runtime`` setting: ``None`` (no limit) or a finite number
    of seconds above zero.

    :param value: the setting.
    :param name: how the message names it.
    :returns: the limit as a float, or ``None``.
    :raises ValueError: for anything else (booleans, NaN, infinities, zero,
        negative numbers, non-numbers).

    .. versionadded:: 2.0
    """
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name} must be a number of seconds > 0 or None, not {value!r}")
    return float(value)
