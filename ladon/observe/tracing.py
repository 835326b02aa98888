"""OpenTelemetry spans (the ``otel`` extra: ``pip install 'ladon[otel]'``).

Ladon only uses the OpenTelemetry *API*: spans are recorded and exported
by whatever SDK the operator configured (``opentelemetry-instrument``, or a
``TracerProvider`` set up in the WSGI module); without one they cost next
to nothing, and without the package nothing is imported at all.

A task's span is a child of the span of the call that started it: the
start call's W3C ``traceparent`` is carried with the task (in the job on
the thread and SQLite backends, in the task's record on Redis), and
:func:`task_span` opens the task's span under it wherever the task runs.

.. versionadded:: 2.0
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any

#: The tracer's name (the instrumentation scope).
TRACER_NAME = "ladon"
_TRACEPARENT = re.compile(r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")

_enabled = False


def available() -> bool:
    """Whether opentelemetry-api is installed (without importing it).

    .. versionadded:: 2.0
    """
    try:
        return importlib.util.find_spec("opentelemetry.trace") is not None
    except ModuleNotFoundError:
        return False


def enable() -> None:
    """Turn task-side tracing on in this process (an application with
    tracing on calls it).

    :raises ImportError: opentelemetry-api is not installed.

    .. versionadded:: 2.0
    """
    global _enabled
    if not available():
        raise ImportError("tracing needs opentelemetry-api: pip install 'ladon[otel]'")
    _enabled = True


def enabled() -> bool:
    """Whether :func:`enable` was called in this process.

    .. versionadded:: 2.0
    """
    return _enabled


def tracer() -> Any:
    """Ladon's tracer (from the global tracer provider).

    .. versionadded:: 2.0
    """
    from opentelemetry import trace

    from .. import __version__

    return trace.get_tracer(TRACER_NAME, __version__)


def valid_traceparent(value: object) -> str | None:
    """``value`` when it has the form of a W3C ``traceparent``, else ``None``.

    .. versionadded:: 2.0
    """
    if isinstance(value, str) and len(value) == 55 and _TRACEPARENT.fullmatch(value):
        return value
    return None


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the span current here (to carry with a
    task), or ``None`` when tracing is off or no span is recording.

    .. versionadded:: 2.0
    """
    if not _enabled:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"


def parent_context(carrier: Mapping[str, str]) -> Any:
    """The OpenTelemetry context a request's (or a task's) ``traceparent``
    and ``tracestate`` name, through the globally configured propagator.

    .. versionadded:: 2.0
    """
    from opentelemetry.propagate import extract

    return extract(dict(carrier))


@contextlib.contextmanager
def task_span(
    traceparent: str | None,
    task: str,
    task_id: str,
    attributes: Mapping[str, Any] | None = None,
    outcome: Callable[[BaseException | None], str] | None = None,
) -> Iterator[Any]:
    """Run a task's job inside its span, a child of the span ``traceparent``
    names (the start call's); yields the span (``None`` when there is no
    parent to follow or OpenTelemetry is missing). The span's status is
    set from how the job ends: an exception other than a cancel is an
    error.

    :param traceparent: the start call's ``traceparent``, or ``None``.
    :param task: the task method (``Service.method``).
    :param task_id: the task's id.
    :param outcome: what ``ladon.task.state`` the run gets, given the
        exception it ended with (``None``: it returned); an error status
        goes with ``failed`` only. Without it: ``cancelled`` for a
        ``TaskCancelled``, ``failed`` for another exception, else
        ``succeeded``.

    .. versionadded:: 2.0
    """
    if not valid_traceparent(traceparent) or not available():
        yield None
        return
    from opentelemetry.trace import SpanKind
    from opentelemetry.trace import Status
    from opentelemetry.trace import StatusCode

    parent = parent_context({"traceparent": str(traceparent)})
    service, _, method = task.partition(".")
    with tracer().start_as_current_span(
        f"{task} task",
        context=parent,
        kind=SpanKind.CONSUMER,
        record_exception=False,
        set_status_on_exception=False,
        attributes={
            "rpc.service": service,
            "rpc.method": method,
            "ladon.task.id": task_id,
            **(attributes or {}),
        },
    ) as span:
        try:
            yield span
        except BaseException as exc:
            if outcome is not None:
                state = outcome(exc)
            else:
                state = "cancelled" if type(exc).__name__ == "TaskCancelled" else "failed"
            span.set_attribute("ladon.task.state", state)
            if state == "failed":
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, str(exc)[:200] or type(exc).__name__))
            raise
        span.set_attribute("ladon.task.state", "succeeded" if outcome is None else outcome(None))
