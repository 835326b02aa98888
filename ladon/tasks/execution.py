"""Running a task method: the job the framework hands a backend.

A :class:`ServiceJob` is one call of a task method. Calling it runs the
method here, in whatever thread or process the backend chose, and returns
its result converted *once* to the plain wire form (the value
:func:`ladon.types.convert.dump` gives, checked against the declared type),
which every backend stores as it is (the thread backend in memory, SQLite
and Redis as typed JSON) and every interface sends as it is.

A backend that runs tasks in another process (RQ workers) asks the job to
:meth:`~ServiceJob.describe` itself as data, and the worker rebuilds it from
the service model with :func:`run_described`. Nothing here imports the
server: a worker needs only the services.

.. versionadded:: 2.0
"""

from __future__ import annotations

import datetime
import decimal
import functools
import logging
import time
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from ..exceptions.service import ResultError
from ..exceptions.service import ServerFault
from ..ladonizer.access import Principal
from ..ladonizer.calls import call_method
from ..ladonizer.calls import extras
from ..ladonizer.model import MethodInfo
from ..ladonizer.model import MethodKind
from ..ladonizer.model import ServiceInfo
from ..observe import metrics
from ..observe import tracing
from ..types.attachment import AttachmentSet
from ..types.convert import TOO_DEEP_TO_WRITE
from ..types.convert import Options
from ..types.convert import dump
from ..types.convert import load
from ..types.tasktype import DEFAULT_TASK_OPTIONS
from ..types.tasktype import TaskOptions
from .base import TaskCancelled
from .base import TaskHandle
from .idempotency import IdempotentStart
from .idempotency import fingerprint
from .jobs import JobSpec
from .jobs import from_json
from .jobs import to_json
from .retries import Retry

logger = logging.getLogger("ladon")


def stored_options(method: MethodInfo) -> Options:
    """The conversion options of a task's arguments as typed JSON (passed
    to a worker): no field filters, which run once, when the values cross
    the wire.

    .. versionadded:: 2.0
    """
    key = (method.encoding, method.allow_unsafe_conversion)
    options = _STORED_OPTIONS.get(key)
    if options is None:  # PERF: one per setting, not one per task
        options = _STORED_OPTIONS[key] = Options(key[0], key[1], filters=False)
    return options


_STORED_OPTIONS: dict[tuple[str, bool], Options] = {}


#: Environ keys never written to a task store: the client's credentials.
SECRET_ENVIRON_KEYS = frozenset({"HTTP_AUTHORIZATION", "HTTP_PROXY_AUTHORIZATION", "HTTP_COOKIE"})


def portable_environ(kw: Mapping[str, Any]) -> dict[str, str]:
    """The part of a request's environ a task can take to another process:
    the text values (``REMOTE_ADDR``, ``HTTP_*``, ``PATH_INFO``...), without
    the ``wsgi.*`` objects, the attachments, the ``LADON_*`` keys (which
    :func:`~ladon.ladonizer.calls.extras` computes again) and the client's
    credentials (``Authorization`` and ``Cookie`` headers), which no task
    store keeps.

    .. versionadded:: 2.0
    """
    return {
        k: v
        for k, v in kw.items()
        if isinstance(v, str)
        and not k.startswith(("wsgi.", "LADON_"))
        and k not in SECRET_ENVIRON_KEYS
    }


class ServiceJob:
    """One call of a task method, as the framework hands it to a backend.

    Calling it runs the method here and returns its result in plain wire
    form (converted once, checked against the declared type: a result that
    does not fit fails the task). :meth:`describe` turns the call into a
    :class:`~ladon.tasks.jobs.JobSpec` for a backend that runs it in
    another process (see :func:`run_described`).

    :param service: the service.
    :param method: the task method (the ``TASK_START`` method).
    :param args: the converted arguments, in parameter order.
    :param kw: what the method gets in ``**kw`` (``None`` when it takes
        none); ``update_progress`` and ``task`` are added when it runs.
    :param attachments: the request's attachments, closed when the job ends.
    :param principal: the caller that started the task (``None``:
        anonymous); its name is the task's :attr:`owner`.
    :param traceparent: the W3C ``traceparent`` of the start call's span:
        the job runs in a span that is its child (``None``: no span).
    :param idempotency: the start's ``Idempotency-Key`` as the store keeps
        it (see :mod:`ladon.tasks.idempotency`), or ``None``.
    :param callback: the :meth:`~ladon.tasks.callbacks.CallbackTarget.to_text`
        of the start's completion callback, or ``None``.

    Its :attr:`task_options` (retries, delays) and :attr:`max_runtime`
    are the method's own (``tasktype={"retries": 3, "max_runtime": 30}``),
    which the backends read, as they read :attr:`idempotency` and
    :attr:`callback`. A run that raises :class:`~ladon.tasks.Retry` with
    retries left keeps the attachments open for the next attempt.

    .. versionadded:: 2.0
    """

    __slots__ = (
        "_plain",
        "args",
        "attachments",
        "callback",
        "idempotency",
        "kw",
        "method",
        "principal",
        "service",
        "traceparent",
    )

    def __init__(
        self,
        service: ServiceInfo,
        method: MethodInfo,
        args: Sequence[Any],
        kw: dict[str, Any] | None,
        attachments: AttachmentSet | None = None,
        principal: Principal | None = None,
        traceparent: str | None = None,
        idempotency: IdempotentStart | None = None,
        callback: str | None = None,
    ) -> None:
        self.service = service
        self.method = method
        self.args = list(args)
        self.kw = kw
        self.attachments = attachments
        self.principal = principal
        self.traceparent = traceparent
        self.idempotency = idempotency
        self.callback = callback
        self._plain: list[Any] | None = None

    @property
    def owner(self) -> str | None:
        """The name of the principal that started the task (``None``:
        anonymous), which the backends keep with the task."""
        return None if self.principal is None else self.principal.name

    @property
    def max_runtime(self) -> float | None:
        """The method's own ``max_runtime`` in seconds, or ``None`` to use
        the backend's."""
        return self.method.max_runtime

    @property
    def task_options(self) -> TaskOptions:
        """What the method declared in ``tasktype`` (retries, delays,
        ``max_runtime``)."""
        return self.method.task_options or DEFAULT_TASK_OPTIONS

    def __call__(self, handle: TaskHandle) -> object:
        """Run the method; return its result in plain wire form. The run
        is a span (a child of the start call's, see :attr:`traceparent`)
        and is counted in the task metrics, when they are on."""
        key = f"{self.service.name}.{self.method.name}"
        failure: BaseException | None = None
        started = time.perf_counter()
        try:
            if self.traceparent is None:
                return self._run(handle)
            with tracing.task_span(
                self.traceparent, key, handle.id, outcome=lambda exc: attempt_state(handle, exc)
            ):
                return self._run(handle)
        except BaseException as exc:
            failure = exc
            raise
        finally:
            state = attempt_state(handle, failure)
            metrics.task_finished(key, state, time.perf_counter() - started)

    def _run(self, handle: TaskHandle) -> object:
        service, m = self.service, self.method
        rtype = m.task_rtype if m.task_rtype is not None else m.rtype
        keep = False
        if getattr(handle, "attempt", 1) > 1 and self.attachments is not None:
            for item in self.attachments:  # a re-run reads them from the start
                item.seek(0)
        try:
            kw = None
            if self.kw is not None:
                kw = {**self.kw, "update_progress": handle.update_progress, "task": handle}
            result = call_method(service, m, self.args, kw)
            # One conversion, which is also the check: a result that cannot
            # be sent fails the task now, rather than a task that
            # "succeeded" with no fetchable result.
            try:
                return dump(rtype, result, "result", m.options, m.task_rtype_nullable)
            except RecursionError:
                raise ResultError("result", TOO_DEEP_TO_WRITE) from None
        except TaskCancelled:
            raise
        except Retry as exc:
            attempt = getattr(handle, "attempt", 1)
            keep = attempt < self.task_options.attempts  # the next attempt needs them
            logger.info(
                "Task %s of %s.%s asks to run again (attempt %d): %s",
                handle.id,
                service.name,
                m.name,
                attempt,
                exc.reason,
            )
            raise
        except Exception as exc:
            logger.error("Task %s of %s.%s failed", handle.id, service.name, m.name, exc_info=exc)
            raise
        finally:
            if not keep:
                self.release()

    def describe(self) -> JobSpec:
        """The call as data: arguments in typed JSON (attachments read in and
        closed), the portable part of the environ.

        :raises ServerFault: when an argument cannot be written.
        """
        m = self.method
        try:
            args = to_json(self.plain_args())
        except (ResultError, TypeError, ValueError, RecursionError) as exc:
            raise ServerFault(f"The task's arguments cannot be sent to a worker: {exc}") from None
        finally:
            self.release()
        environ = to_json(portable_environ(self.kw)) if self.kw is not None else "{}"
        principal = "" if self.principal is None else to_json(self.principal.as_dict())
        return JobSpec(self.service.name, m.name, args, environ, principal, self.traceparent or "")

    def plain_args(self) -> list[Any]:
        """The arguments in plain typed-JSON form (as stored for a worker).

        :raises ResultError: an argument cannot be written.
        """
        if self._plain is None:  # once: the fingerprint and the description share it
            self._plain = _plain_args(self.method, self.args)
        return self._plain

    def fingerprint(self) -> str:
        """The SHA-256 of the arguments that binds an ``Idempotency-Key``
        (see :func:`ladon.tasks.idempotency.fingerprint`).

        :raises ServerFault: an argument cannot be written.
        """
        return _fingerprint_of(self.plain_args)

    def start_fingerprint(self) -> str | Callable[[], str]:
        """The fingerprint of a keyed start: made now, or (arguments that no
        run can change: a few short values of immutable types, no
        attachment, no ``**kw``) a function that makes it when a store
        first needs it, which the thread backend does only when the key
        comes again.

        :raises ServerFault: an argument cannot be written.
        """
        args = self.args
        if self.attachments is None and self.kw is None and len(args) <= _DEFERRED_MAX_ARGS:
            for value in args:  # PERF: one frame, no generator
                kind = type(value)
                if kind in _IMMUTABLE:
                    continue
                if (kind is str or kind is bytes) and len(value) <= _DEFERRED_MAX_LENGTH:
                    continue
                break
            else:
                # the method and the values only: a kept task holds no job
                # (nor a cycle through its ``idempotency``)
                return functools.partial(_deferred_fingerprint, self.method, tuple(args))
        return self.fingerprint()

    def release(self) -> None:
        """Close the request's attachments (the job will not run here)."""
        if self.attachments is not None:
            self.attachments.close_now()


#: Deferred fingerprints: at most this many arguments, of immutable types
#: (nothing a run does changes them), texts and bytes of at most this
#: length (what a kept task holds until it expires).
_DEFERRED_MAX_ARGS = 16
_DEFERRED_MAX_LENGTH = 1024
_IMMUTABLE = frozenset(
    {int, float, bool, type(None), decimal.Decimal, datetime.date, datetime.datetime}
)


def attempt_state(handle: TaskHandle, failure: BaseException | None) -> str:
    """How an attempt ended, for the task metrics and its span:
    ``retried`` (it raised :class:`~ladon.tasks.Retry`), ``cancelled`` (it
    was asked to stop: a cancel, or its ``max_runtime`` ran out; whether
    its job then returned, raised or stopped at a progress report: the
    task ends cancelled, or failed for the runtime, however its job
    ends), else ``failed`` (it raised) or ``succeeded``."""
    if isinstance(failure, TaskCancelled):
        return "cancelled"
    try:
        stopped = handle.cancelled
    except Exception:  # the store cannot say: how the job ended
        stopped = False
    if stopped:
        return "cancelled"  # a Retry then is not honoured either
    if isinstance(failure, Retry):
        return "retried"
    return "succeeded" if failure is None else "failed"


def _plain_args(method: MethodInfo, args: Sequence[Any]) -> list[Any]:
    opts = stored_options(method)
    return [
        dump(p.type, a, p.name, opts, p.nullable) for p, a in zip(method.params, args, strict=False)
    ]


def _deferred_fingerprint(method: MethodInfo, args: tuple[Any, ...]) -> str:
    """:meth:`ServiceJob.fingerprint` of a start's kept arguments."""
    return _fingerprint_of(lambda: _plain_args(method, args))


def _fingerprint_of(plain_args: Callable[[], list[Any]]) -> str:
    try:
        return fingerprint(plain_args())
    except (ResultError, TypeError, ValueError, RecursionError) as exc:
        raise ServerFault(f"The task's arguments cannot be fingerprinted: {exc}") from None


def run_described(
    find_service: Callable[[str], ServiceInfo | None], spec: JobSpec, handle: TaskHandle
) -> object:
    """Run a described call (in a worker process) and return its result in
    plain wire form.

    :param find_service: the service look-up by name (e.g.
        :meth:`LadonWSGIApplication.service
        <ladon.server.wsgi.LadonWSGIApplication.service>`).
    :param spec: the call, from :meth:`ServiceJob.describe`.
    :param handle: the task's handle.
    :raises LookupError: there is no such task method.
    :raises ArgumentError: a stored argument does not fit its parameter.

    .. versionadded:: 2.0
    """
    service = find_service(spec.service)
    if service is None:
        raise LookupError(f"the application serves no service named {spec.service!r}")
    m = service.methods.get(spec.method)
    if m is None or m.kind is not MethodKind.TASK_START:
        raise LookupError(f"{spec.service} has no task method named {spec.method!r}")
    plain = from_json(spec.args)
    if not isinstance(plain, list) or len(plain) != len(m.params):
        raise LookupError(
            f"{spec.service}.{spec.method}: stored arguments do not fit its parameters"
        )
    opts = stored_options(m)
    args = [load(p.type, v, p.name, opts, p.nullable) for p, v in zip(m.params, plain, strict=True)]
    principal = Principal.from_dict(from_json(spec.principal)) if spec.principal else None
    kw = None
    if m.accepts_kw:
        environ = from_json(spec.environ)
        kw = extras(m, environ if isinstance(environ, dict) else {})
        kw["principal"] = principal
    job = ServiceJob(
        service, m, args, kw, principal=principal, traceparent=spec.traceparent or None
    )
    return job(handle)
