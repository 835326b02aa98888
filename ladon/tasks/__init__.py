"""Background tasks: methods declared ``tasktype=True`` run here.

A backend is chosen by URL (see :func:`backend_from_url`), usually taken from
the :data:`DEFAULT_TASKS_ENV` environment variable:

``thread://``
    :class:`ThreadTaskBackend`, threads of this process (query parameters
    ``max_workers``, ``result_ttl``, ``max_pending`` and ``max_runtime``,
    e.g. ``thread://?max_workers=4&result_ttl=60&max_runtime=600``).
``sqlite:///abs/path.db``
    :class:`~ladon.tasks.sqlite.SQLiteTaskBackend`: records in one SQLite
    file shared by every process of one host, tasks in a thread pool of the
    process that accepted them.
``redis://host:port/db?app=module:attr``
    :class:`~ladon.tasks.rqbackend.RedisTaskBackend`: records in Redis,
    tasks on RQ workers (``ladon worker module:attr``) on any host; also
    ``rediss://``, ``unix:///path.sock`` and ``redis+unix:///path.sock``.
    Needs the ``redis`` extra (``pip install 'ladon[redis]'``).

See ``docs/deployment.rst`` for every option.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import SplitResult
from urllib.parse import urlsplit

from ._urls import redis_backend
from ._urls import sqlite_backend
from ._urls import thread_backend
from .base import CANCEL_REQUESTED_MESSAGE as CANCEL_REQUESTED_MESSAGE
from .base import CANCELLED_MESSAGE as CANCELLED_MESSAGE
from .base import SYSTEM_CLOCK as SYSTEM_CLOCK
from .base import BackendUnavailable as BackendUnavailable
from .base import Clock as Clock
from .base import SystemClock as SystemClock
from .base import TaskBackend as TaskBackend
from .base import TaskCancelled as TaskCancelled
from .base import TaskError as TaskError
from .base import TaskHandle as TaskHandle
from .base import TaskRejected as TaskRejected
from .base import TaskState as TaskState
from .base import TaskStatus as TaskStatus
from .base import UnknownTask as UnknownTask
from .base import clamp_progress as clamp_progress
from .base import new_task_id as new_task_id
from .retries import Retry as Retry
from .sqlite import SQLiteTaskBackend as SQLiteTaskBackend
from .threads import ThreadTaskBackend as ThreadTaskBackend

if TYPE_CHECKING:  # imported on first use: it needs the optional redis and rq
    from .rqbackend import RedisTaskBackend as RedisTaskBackend

#: The environment variable holding the task backend URL.
DEFAULT_TASKS_ENV = "LADON_TASKS"

BackendFactory = Callable[[SplitResult], TaskBackend]

#: URL scheme -> function building the backend from the split URL. An
#: application may serve more schemes: ``LadonWSGIApplication(...,
#: task_schemes={**BACKEND_SCHEMES, "myqueue": build_my_backend})``.
BACKEND_SCHEMES: Mapping[str, BackendFactory] = MappingProxyType(
    {
        "thread": thread_backend,
        "sqlite": sqlite_backend,
        "redis": redis_backend,
        "rediss": redis_backend,
        "redis+unix": redis_backend,
        "unix": redis_backend,
    }
)


def backend_from_url(
    url: str, schemes: Mapping[str, BackendFactory] = BACKEND_SCHEMES
) -> TaskBackend:
    """Build the task backend a URL names.

    :param url: ``thread://`` (optionally ``?max_workers=4&result_ttl=60&
        max_pending=1000&max_runtime=600``), ``sqlite:///abs/path.db?lease=30`` or
        ``redis://host:6379/0?app=module:attr`` (see the module docs).
    :param schemes: the URL schemes understood, each with the function
        that builds its backend from the split URL.
    :raises ValueError: for an unknown scheme, bad parameters, or a backend
        whose packages are not installed. The message never repeats the
        URL's network location, which may hold a password.

    .. versionadded:: 2.0
    """
    parts = urlsplit(url.strip())
    factory = schemes.get(parts.scheme)
    if factory is None:
        accepted = ", ".join(f"{scheme}://" for scheme in schemes)
        shown = f"scheme {parts.scheme!r}" if parts.scheme else "a URL without a scheme"
        raise ValueError(f"unsupported task backend {shown}; accepted schemes: {accepted}")
    return factory(parts)


def __getattr__(name: str) -> Any:
    if name == "RedisTaskBackend":
        from .rqbackend import RedisTaskBackend

        return RedisTaskBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
