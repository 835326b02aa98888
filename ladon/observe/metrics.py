"""Prometheus metrics (the ``metrics`` extra: ``pip install 'ladon[metrics]'``).

The metric definitions live here, once per process, in prometheus-client's
default registry; the server's metrics step records every call, the task
layer records task durations where tasks run, and the small recording
functions below (:func:`task_started`, :func:`task_finished`,
:func:`waiters_changed`, :func:`callback_delivered`) are what other parts
call: they do nothing until :func:`enable` was called (an application with
metrics on calls it), and prometheus-client is imported only then.

Under several processes (``gunicorn -w 4``, forked RQ work horses) the
values are exact when ``PROMETHEUS_MULTIPROC_DIR`` names a directory shared
by the processes, set before they start (prometheus-client's multi-process
mode; ``docs/operations.rst``). There a process that sets up its metrics
first removes the live-gauge files of the processes gone from this host
(:func:`forget_dead_processes`), which servers without a hook for
``mark_process_dead`` (mod_wsgi) would leave counted for good.

.. versionadded:: 2.0
"""

from __future__ import annotations

import glob
import importlib.util
import logging
import os
import re
import struct
import threading
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal

from ..tools.processes import process_alive

if TYPE_CHECKING:
    from prometheus_client import Counter
    from prometheus_client import Gauge
    from prometheus_client import Histogram

logger = logging.getLogger("ladon")

#: The environment variable of prometheus-client's multi-process mode.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: The file of one process's gauge of a ``live*`` multi-process mode
#: (``livesum``, ``liveall``...), which counts only while it lives.
_LIVE_GAUGE_FILE = re.compile(r"gauge_live[a-z]+_(\d+)\.db")

#: How a call ended, as the ``outcome`` label says it.
Outcome = Literal["ok", "client_fault", "server_fault"]
#: How a completion callback delivery ended (``ladon_task_callbacks_total``).
CallbackOutcome = Literal["delivered", "retried", "failed", "refused"]

#: Latency buckets (seconds): from a fast JSON call to a slow SOAP one.
LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
#: Task duration buckets (seconds).
TASK_BUCKETS = (0.01, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0)
#: Message size buckets (bytes).
SIZE_BUCKETS = (128, 512, 2048, 8192, 32768, 131072, 524288, 2097152, 8388608)


def available() -> bool:
    """Whether prometheus-client is installed (without importing it).

    .. versionadded:: 2.0
    """
    return importlib.util.find_spec("prometheus_client") is not None


class Metrics:
    """Ladon's metric families (built once per process by :func:`enable`).

    .. versionadded:: 2.0
    """

    def __init__(self) -> None:
        from prometheus_client import Counter
        from prometheus_client import Gauge
        from prometheus_client import Histogram

        self.calls: Counter = Counter(
            "ladon_calls",
            "Calls answered, by service, interface, method and outcome "
            "(ok, client_fault, server_fault).",
            ["service", "interface", "method", "outcome"],
        )
        self.call_seconds: Histogram = Histogram(
            "ladon_call_duration_seconds",
            "Time from the first step to the call's result or fault.",
            ["service", "interface", "method"],
            buckets=LATENCY_BUCKETS,
        )
        self.request_bytes: Histogram = Histogram(
            "ladon_request_size_bytes",
            "Size of the protocol message of each call request (decoded).",
            ["service", "interface"],
            buckets=SIZE_BUCKETS,
        )
        self.response_bytes: Histogram = Histogram(
            "ladon_response_size_bytes",
            "Size of each call's answer (before compression).",
            ["service", "interface"],
            buckets=SIZE_BUCKETS,
        )
        self.tasks_started: Counter = Counter(
            "ladon_tasks_started",
            "Tasks started, by task method (Service.method).",
            ["task"],
        )
        self.tasks_finished: Counter = Counter(
            "ladon_tasks_finished",
            "Tasks whose job ended where it ran, by task method and state.",
            ["task", "state"],
        )
        self.task_seconds: Histogram = Histogram(
            "ladon_task_duration_seconds",
            "How long task jobs ran, by task method and final state.",
            ["task", "state"],
            buckets=TASK_BUCKETS,
        )
        self.waiters: Gauge = Gauge(
            "ladon_task_waiters",
            "Calls of <name>_wait waiting for a task to end.",
            multiprocess_mode="livesum",
        )
        self.callbacks: Counter = Counter(
            "ladon_task_callbacks",
            "Completion callback deliveries, by outcome (delivered, retried, failed, refused).",
            ["outcome"],
        )


_METRICS: Metrics | None = None
_LOCK = threading.Lock()


def enable() -> Metrics:
    """Build the metric families in this process (once) and turn the
    recording functions on.

    :raises ImportError: prometheus-client is not installed.

    .. versionadded:: 2.0
    """
    global _METRICS
    if _METRICS is None:
        with _LOCK:
            if _METRICS is None:
                try:
                    _METRICS = Metrics()
                except ImportError as exc:
                    raise ImportError(
                        "metrics need prometheus-client: pip install 'ladon[metrics]'"
                    ) from exc
                folder = multiprocess_dir()
                if folder:
                    forget_dead_processes(folder)
    return _METRICS


def forget_dead_processes(folder: str) -> list[int]:
    """Remove from the multi-process directory ``folder`` the live-gauge
    files (``ladon_task_waiters``) of the processes that no longer exist on
    this host, as prometheus-client's ``mark_process_dead`` does: gunicorn
    calls it from a ``child_exit`` hook, but mod_wsgi has no such hook, and
    a daemon process killed with a ``_wait`` in flight would count as a
    waiter until the directory is emptied. Counters and histograms of dead
    processes are kept (their counts stay counted). A process that exists
    but belongs to another user counts as alive; so does a PID reused.

    :returns: the PIDs whose files were removed.

    .. versionadded:: 2.0
    """
    if os.name != "posix":  # NOTE: os.kill(pid, 0) is no existence check on Windows
        return []
    from prometheus_client import multiprocess

    try:
        names = os.listdir(folder)
    except OSError as exc:
        logger.warning("Metrics directory %s not read: %s", folder, exc)
        return []
    pids = {int(m.group(1)) for m in map(_LIVE_GAUGE_FILE.fullmatch, names) if m}
    gone = sorted(pid for pid in pids if not process_alive(pid))
    for pid in gone:
        try:
            multiprocess.mark_process_dead(pid, folder)  # type: ignore[no-untyped-call]
        except OSError:  # e.g. removed meanwhile by another process starting
            pass
    if gone:
        logger.info("Metrics: forgot the live gauges of %d ended process(es)", len(gone))
    return gone


def enabled() -> Metrics | None:
    """The metric families when :func:`enable` was called, else ``None``.

    .. versionadded:: 2.0
    """
    return _METRICS


def task_started(task: str) -> None:
    """Count a task started (``task``: ``Service.method``).

    .. versionadded:: 2.0
    """
    m = _METRICS
    if m is not None:
        m.tasks_started.labels(task).inc()


def task_finished(task: str, state: str, seconds: float) -> None:
    """Record a task job that ended here: its state (``succeeded``,
    ``failed``, ``cancelled``) and how long it ran.

    .. versionadded:: 2.0
    """
    m = _METRICS
    if m is not None:
        m.tasks_finished.labels(task, state).inc()
        m.task_seconds.labels(task, state).observe(max(0.0, seconds))


def waiters_changed(delta: int) -> None:
    """Add ``delta`` (+1 when a ``<name>_wait`` call starts waiting, -1
    when it returns) to ``ladon_task_waiters``.

    .. versionadded:: 2.0
    """
    m = _METRICS
    if m is not None:
        m.waiters.inc(delta)


def callback_delivered(outcome: CallbackOutcome) -> None:
    """Count one completion callback delivery attempt by how it ended:
    ``delivered`` (2xx), ``retried`` (failed, will be tried again),
    ``failed`` (given up) or ``refused`` (a host the operator did not
    allow).

    :raises ValueError: another outcome.

    .. versionadded:: 2.0
    """
    if outcome not in ("delivered", "retried", "failed", "refused"):
        raise ValueError(f"unknown callback outcome {outcome!r}")
    m = _METRICS
    if m is not None:
        m.callbacks.labels(outcome).inc()


def multiprocess_dir() -> str | None:
    """The directory of prometheus-client's multi-process mode, if set.

    .. versionadded:: 2.0
    """
    return os.environ.get(MULTIPROC_ENV) or os.environ.get(MULTIPROC_ENV.lower()) or None


#: Reads of the multi-process directory a scrape makes before it gives up.
_MERGE_TRIES = 3


class MultiProcessFamilies:
    """The metric families of every process that wrote to the
    multi-process directory ``folder``, read as prometheus-client's
    ``MultiProcessCollector`` reads them, without its two ways to fail a
    whole scrape: a file of 0 bytes (prometheus-client creates a file
    before it sizes it; a process killed in between leaves it so for good)
    is skipped, and a file that vanished (``mark_process_dead``) or was
    read while being written is read again, with the directory, up to
    three times.

    .. versionadded:: 2.0
    """

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def collect(self) -> Iterable[Any]:
        from prometheus_client.multiprocess import MultiProcessCollector

        for attempt in range(_MERGE_TRIES):
            files = []
            for path in glob.glob(os.path.join(self.folder, "*.db")):
                try:
                    if os.path.getsize(path) > 0:
                        files.append(path)
                except OSError:  # gone meanwhile
                    continue
            try:
                return list(MultiProcessCollector.merge(files, accumulate=True))  # type: ignore[no-untyped-call]
            except (OSError, struct.error, RuntimeError, ValueError):
                if attempt == _MERGE_TRIES - 1:
                    raise
                time.sleep(0.01)
        return []  # pragma: no cover - the loop returns or raises


class _Families:
    """Something :func:`prometheus_client.generate_latest` reads: the
    families of several collectors."""

    def __init__(self, sources: Iterable[Callable[[], Iterable[Any]]]) -> None:
        self.sources = list(sources)

    def collect(self) -> Iterator[Any]:
        for collect in self.sources:
            yield from collect()


def exposition(extra: Iterable[Callable[[], Iterable[Any]]] = ()) -> tuple[bytes, str]:
    """The Prometheus text of this process's metrics (of every process of
    the multi-process directory, when one is set), followed by the
    families ``extra`` collect (e.g. the task store's gauges).

    :returns: the body and its content type.

    .. versionadded:: 2.0
    """
    from prometheus_client import CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY
    from prometheus_client import generate_latest

    enable()
    sources: list[Callable[[], Iterable[Any]]] = []
    folder = multiprocess_dir()
    if folder:
        sources.append(MultiProcessFamilies(folder).collect)
    else:
        sources.append(REGISTRY.collect)
    sources.extend(extra)
    return generate_latest(_Families(sources)), CONTENT_TYPE_LATEST
