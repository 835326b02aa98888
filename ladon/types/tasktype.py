"""Response types of the generated task methods, and the options a task
method declares (``tasktype={"retries": 3, "retry_delay": 2, "max_runtime": 600}``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

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


#: The most retries a task method may declare.
MAX_RETRIES = 100
#: The longest wait before a re-run, in seconds (one day): the doubling of
#: ``retry_delay`` stops there.
MAX_RETRY_DELAY = 86400.0
#: The keys a ``tasktype`` dict may hold: the options, ``enable`` (false: not
#: a task), and Ladon 1.0's ``redis_server`` and ``memcache_server`` (read as
#: "a task"; the backend is chosen by the application).
TASKTYPE_KEYS = (
    "enable",
    "retries",
    "retry_delay",
    "max_runtime",
    "redis_server",
    "memcache_server",
)


@dataclass(frozen=True, slots=True)
class TaskOptions:
    """What a task method declares in ``tasktype={...}``.

    :param retries: how many times the task may be run again after a first
        attempt that its worker did not finish (killed, lost, stopped) or
        that raised :class:`ladon.tasks.Retry`; 0 (the default): never run
        again.
    :param retry_delay: seconds before the first re-run; each further re-run
        waits twice as long as the one before (at most
        :data:`MAX_RETRY_DELAY`).
    :param max_runtime: seconds one attempt may run, replacing the task
        backend's ``max_runtime``; ``None``: the backend's.

    .. versionadded:: 2.0
    """

    retries: int = 0
    retry_delay: float = 1.0
    max_runtime: float | None = None

    @property
    def attempts(self) -> int:
        """The most attempts: the first run and its retries."""
        return self.retries + 1

    def delay(self, attempt: int) -> float:
        """Seconds to wait before ``attempt`` runs (2 is the first re-run):
        ``retry_delay`` doubled at each re-run, at most
        :data:`MAX_RETRY_DELAY`; 0 for the first attempt.

        :param attempt: the attempt about to run, from 1.
        """
        if attempt <= 1:
            return 0.0
        return min(self.retry_delay * 2.0 ** min(attempt - 2, 64), MAX_RETRY_DELAY)


#: The options of ``tasktype=True``.
DEFAULT_TASK_OPTIONS = TaskOptions()


def check_retries(value: object, name: str = "retries") -> int:
    """Check a ``retries`` setting: an ``int`` from 0 to :data:`MAX_RETRIES`.

    :raises ValueError: for anything else (booleans and floats too).

    .. versionadded:: 2.0
    """
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_RETRIES:
        raise ValueError(f"{name} must be a whole number from 0 to {MAX_RETRIES}, not {value!r}")
    return value


def check_retry_delay(value: object, name: str = "retry_delay") -> float:
    """Check a delay before a re-run: a finite number of seconds from 0 to
    :data:`MAX_RETRY_DELAY`.

    :raises ValueError: for anything else (booleans, NaN, negative numbers).

    .. versionadded:: 2.0
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= MAX_RETRY_DELAY
    ):
        raise ValueError(
            f"{name} must be a number of seconds from 0 to {MAX_RETRY_DELAY:g}, not {value!r}"
        )
    return float(value)


def task_options(tasktype: object) -> TaskOptions:
    """The :class:`TaskOptions` a ``tasktype`` argument declares.

    :param tasktype: ``True`` (or any non-dict: the defaults) or a dict of
        :data:`TASKTYPE_KEYS`.
    :raises ValueError: an unknown key, or a value out of range; the message
        names the key.

    .. versionadded:: 2.0
    """
    if not isinstance(tasktype, dict):
        return DEFAULT_TASK_OPTIONS
    unknown = sorted(str(k) for k in tasktype if k not in TASKTYPE_KEYS)
    if unknown:
        raise ValueError(
            f"tasktype has unknown key(s) {', '.join(map(repr, unknown))}; "
            f"it takes {', '.join(repr(k) for k in TASKTYPE_KEYS[:4])}"
        )
    given: dict[str, Any] = tasktype
    retries = check_retries(given.get("retries", 0), 'tasktype["retries"]')
    delay = check_retry_delay(given.get("retry_delay", 1.0), 'tasktype["retry_delay"]')
    limit = check_max_runtime(given.get("max_runtime"), 'tasktype["max_runtime"]')
    if (retries, delay, limit) == (0, 1.0, None):
        return DEFAULT_TASK_OPTIONS
    return TaskOptions(retries, delay, limit)
