"""Background tasks: methods declared ``tasktype=True`` run here.

A backend is chosen by URL (see :func:`backend_from_url`), usually taken from
the :data:`DEFAULT_TASKS_ENV` environment variable:

``thread://``
    :class:`ThreadTaskBackend`, threads of this process (query parameters
    ``max_workers``, ``result_ttl`` and ``max_pending``, e.g.
    ``thread://?max_workers=4&result_ttl=60``).
``sqlite:///abs/path.db``, ``redis://host:port/db``
    Shared backends; not available in this version.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from urllib.parse import SplitResult
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

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
from .threads import ThreadTaskBackend as ThreadTaskBackend

#: The environment variable holding the task backend URL.
DEFAULT_TASKS_ENV = "LADON_TASKS"

BackendFactory = Callable[[SplitResult], TaskBackend]


def _thread_backend(url: SplitResult) -> TaskBackend:
    if url.netloc or url.path or url.fragment:
        raise ValueError("a thread:// task backend URL takes only query parameters")
    try:
        pairs = parse_qsl(url.query, keep_blank_values=True, strict_parsing=bool(url.query))
    except ValueError as exc:
        raise ValueError(f"malformed thread:// query {url.query!r}") from exc
    options: dict[str, str] = {}
    for key, value in pairs:
        if key in options:
            raise ValueError(f"thread:// parameter {key!r} is given twice")
        options[key] = value
    unknown = sorted(set(options) - {"max_workers", "result_ttl", "max_pending"})
    if unknown:
        raise ValueError(
            f"unknown thread:// parameter(s) {', '.join(unknown)};"
            " accepted: max_workers, result_ttl, max_pending"
        )
    max_workers = _int_option(options, "max_workers", minimum=1)
    max_pending = _int_option(options, "max_pending", minimum=0)
    result_ttl = 3600.0
    if "result_ttl" in options:
        try:
            result_ttl = float(options["result_ttl"])
        except ValueError:
            result_ttl = math.nan
        if math.isnan(result_ttl) or result_ttl < 0:
            raise ValueError(
                "thread:// parameter result_ttl must be a number of seconds >= 0,"
                f" not {options['result_ttl']!r}"
            )
    return ThreadTaskBackend(
        max_workers=max_workers,
        result_ttl=result_ttl,
        max_pending=10_000 if max_pending is None else max_pending,
    )


def _int_option(options: dict[str, str], key: str, minimum: int) -> int | None:
    if key not in options:
        return None
    text = options[key]
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ValueError(f"thread:// parameter {key} must be an integer >= {minimum}, not {text!r}")
    return value


def _not_available(name: str) -> BackendFactory:
    def factory(url: SplitResult) -> TaskBackend:
        raise ValueError(f"the {name} task backend is not available in this version")

    return factory


#: URL scheme -> function building the backend from the split URL.
BACKEND_FACTORIES: dict[str, BackendFactory] = {
    "thread": _thread_backend,
    "sqlite": _not_available("SQLite"),
    "redis": _not_available("Redis"),
}


def backend_from_url(url: str) -> TaskBackend:
    """Build the task backend a URL names.

    :param url: ``thread://`` (optionally ``?max_workers=4&result_ttl=60&
        max_pending=1000``), ``sqlite:///abs/path.db`` or ``redis://...``.
    :raises ValueError: for an unknown scheme, bad parameters, or a backend
        this version does not provide. The message never repeats the URL's
        network location, which may hold a password.

    .. versionadded:: 2.0
    """
    parts = urlsplit(url.strip())
    factory = BACKEND_FACTORIES.get(parts.scheme)
    if factory is None:
        accepted = ", ".join(f"{scheme}://" for scheme in BACKEND_FACTORIES)
        shown = f"scheme {parts.scheme!r}" if parts.scheme else "a URL without a scheme"
        raise ValueError(f"unsupported task backend {shown}; accepted schemes: {accepted}")
    return factory(parts)
