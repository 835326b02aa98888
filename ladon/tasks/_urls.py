"""Reading task backend URLs: ``thread://``, ``sqlite:///path``,
``redis://host:port/db`` and their query options.

Error messages name the scheme and the option, never the URL's network
location (it may hold a password).
"""

from __future__ import annotations

import math
import os
from collections.abc import Collection
from urllib.parse import SplitResult
from urllib.parse import parse_qsl
from urllib.parse import unquote
from urllib.parse import urlencode

from .base import TaskBackend


class Query:
    """The query options of a backend URL, checked as they are read.

    :param scheme: the URL's scheme, for messages.
    :param query: the URL's query string.
    :param accepted: the option names this backend reads; with
        ``passthrough`` others are kept for :meth:`rest`, else refused.
    """

    def __init__(
        self, scheme: str, query: str, accepted: Collection[str], passthrough: bool = False
    ) -> None:
        self.scheme = scheme
        try:
            pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
        except ValueError as exc:
            raise ValueError(f"malformed {scheme}:// query") from exc
        self.options: dict[str, str] = {}
        self.others: list[tuple[str, str]] = []
        for key, value in pairs:
            if key in self.options:
                raise ValueError(f"{scheme}:// parameter {key!r} is given twice")
            if key in accepted:
                self.options[key] = value
            elif passthrough:
                self.others.append((key, value))
            else:
                raise ValueError(
                    f"unknown {scheme}:// parameter {key!r}; accepted: {', '.join(accepted)}"
                )

    def integer(self, key: str, minimum: int) -> int | None:
        """An integer option, at least ``minimum``; ``None`` when absent."""
        if key not in self.options:
            return None
        text = self.options[key]
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise ValueError(
                f"{self.scheme}:// parameter {key} must be an integer >= {minimum}, not {text!r}"
            )
        return value

    def seconds(self, key: str, positive: bool = False, finite: bool = True) -> float | None:
        """A duration option in seconds (``>= 0``, or ``> 0`` when
        ``positive``; ``inf`` only when not ``finite``); ``None`` when absent."""
        if key not in self.options:
            return None
        text = self.options[key]
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if (
            math.isnan(value)
            or (finite and math.isinf(value))
            or not (value > 0 if positive else value >= 0)
        ):
            bound = "> 0" if positive else ">= 0"
            raise ValueError(
                f"{self.scheme}:// parameter {key} must be a number of seconds {bound}, not {text!r}"
            )
        return value

    def text(self, key: str) -> str | None:
        """A text option; ``None`` when absent."""
        return self.options.get(key)

    def rest(self) -> str:
        """The options this backend does not read, as a query string."""
        return urlencode(self.others)


THREAD_OPTIONS = ("max_workers", "result_ttl", "max_pending", "max_runtime")
SQLITE_OPTIONS = (
    "max_workers",
    "max_pending",
    "result_ttl",
    "lease",
    "heartbeat",
    "busy_timeout",
    "sync_interval",
    "max_runtime",
    "drain_timeout",
)
REDIS_OPTIONS = (
    "app",
    "queue",
    "prefix",
    "result_ttl",
    "lease",
    "pending_ttl",
    "cancel_grace",
    "job_timeout",
    "max_runtime",
    "max_pending",
    "sync_interval",
    "no_worker_timeout",
)


def thread_backend(url: SplitResult) -> TaskBackend:
    """``thread://?max_workers=4&result_ttl=60&max_pending=1000&max_runtime=600``."""
    from .threads import ThreadTaskBackend

    if url.netloc or url.path or url.fragment:
        raise ValueError("a thread:// task backend URL takes only query parameters")
    q = Query("thread", url.query, THREAD_OPTIONS)
    max_pending = q.integer("max_pending", 0)
    result_ttl = q.seconds("result_ttl", finite=False)
    return ThreadTaskBackend(
        max_workers=q.integer("max_workers", 1),
        result_ttl=3600.0 if result_ttl is None else result_ttl,
        max_pending=10_000 if max_pending is None else max_pending,
        max_runtime=q.seconds("max_runtime", positive=True),
    )


def sqlite_backend(url: SplitResult) -> TaskBackend:
    """``sqlite:///abs/path.db?lease=30&result_ttl=3600...``."""
    from .sqlite import SQLiteTaskBackend

    path = unquote(url.path)
    if url.netloc not in ("", "localhost") or not os.path.isabs(path) or url.fragment:
        raise ValueError(
            "a sqlite:// task backend URL names an absolute file path: sqlite:///abs/path.db"
        )
    q = Query("sqlite", url.query, SQLITE_OPTIONS)
    options: dict[str, float | int] = {}
    for key in ("max_workers",):
        value = q.integer(key, 1)
        if value is not None:
            options[key] = value
    max_pending = q.integer("max_pending", 0)
    if max_pending is not None:
        options["max_pending"] = max_pending
    for key in ("result_ttl", "busy_timeout", "sync_interval", "drain_timeout"):
        seconds = q.seconds(key)
        if seconds is not None:
            options[key] = seconds
    for key in ("lease", "heartbeat", "max_runtime"):
        seconds = q.seconds(key, positive=True)
        if seconds is not None:
            options[key] = seconds
    return SQLiteTaskBackend(path, **options)  # type: ignore[arg-type]


def redis_backend(url: SplitResult) -> TaskBackend:
    """``redis://[:password@]host:port/db?app=module:attr&queue=ladon...``,
    also ``rediss://``, ``unix:///path.sock?db=0`` and ``redis+unix://``."""
    try:
        from .rqbackend import RedisTaskBackend
    except ImportError as exc:
        raise ValueError(str(exc)) from None

    scheme = "unix" if url.scheme in ("unix", "redis+unix") else url.scheme
    if url.fragment:
        raise ValueError(f"a {url.scheme}:// task backend URL takes no #fragment")
    if scheme == "unix" and not unquote(url.path).startswith("/"):
        raise ValueError(f"a {url.scheme}:// task backend URL names an absolute socket path")
    q = Query(url.scheme, url.query, REDIS_OPTIONS, passthrough=True)
    seconds: dict[str, float] = {}
    for key in ("result_ttl", "cancel_grace", "sync_interval"):
        value = q.seconds(key)
        if value is not None:
            seconds[key] = value
    for key in ("lease", "pending_ttl", "job_timeout", "max_runtime"):
        value = q.seconds(key, positive=True)
        if value is not None:
            seconds[key] = value
    max_pending = q.integer("max_pending", 0)
    options: dict[str, object] = {}
    if (q.text("no_worker_timeout") or "").strip().lower() == "none":
        options["no_worker_timeout"] = None
    else:
        bound = q.seconds("no_worker_timeout", positive=True)
        if bound is not None:
            options["no_worker_timeout"] = bound
    texts = {key: q.text(key) for key in ("app", "queue", "prefix")}
    rest = q.rest()
    connection_url = f"{scheme}://{url.netloc}{url.path}" + (f"?{rest}" if rest else "")
    return RedisTaskBackend(
        connection_url,
        app=texts["app"] or None,
        queue=texts["queue"] or "ladon",
        prefix="ladon:" if texts["prefix"] is None else texts["prefix"],
        max_pending=max_pending,
        **seconds,  # type: ignore[arg-type]
        **options,  # type: ignore[arg-type]
    )
