"""Calling service methods (and the task calls) once a request is decoded."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from ..exceptions.service import ArgumentError
from ..exceptions.service import ClientFault
from ..exceptions.service import ResultError
from ..exceptions.service import ServerFault
from ..exceptions.service import ServiceFault
from ..interfaces.base import Call
from ..ladonizer.model import MethodInfo
from ..ladonizer.model import MethodKind
from ..ladonizer.model import ServiceInfo
from ..tasks import BackendUnavailable
from ..tasks import TaskBackend
from ..tasks import TaskCancelled
from ..tasks import TaskHandle
from ..tasks import TaskRejected
from ..tasks import TaskState
from ..tasks import TaskStatus
from ..tasks import UnknownTask
from ..tasks.jobs import JobSpec
from ..tasks.jobs import from_json
from ..tasks.jobs import to_json
from ..types.attachment import AttachmentSet
from ..types.convert import Options
from ..types.convert import dump
from ..types.convert import load
from ..types.typeconverter import TypeConverter

logger = logging.getLogger("ladon")


def accept_languages(environ: Mapping[str, Any]) -> list[str]:
    """Two-letter language codes from Content-Language then Accept-Language."""
    langs: list[str] = []
    for header in ("HTTP_CONTENT_LANGUAGE", "HTTP_ACCEPT_LANGUAGE"):
        for part in str(environ.get(header, "")).split(","):
            code = part.split(";")[0].strip()[:2].lower()
            if code.isalpha() and len(code) == 2 and code not in langs:
                langs.append(code)
    return langs or ["en"]


def extras(method: MethodInfo, environ: Mapping[str, Any]) -> dict[str, Any]:
    """What a method with ``**kw`` receives (Ladon 1.0: the WSGI environ plus
    ``LADON_*`` keys)."""
    kw = dict(environ)
    kw["LADON_METHOD_NAME"] = method.name
    kw["LADON_ACCEPT_LANGUAGES"] = accept_languages(environ)
    kw["LADON_RTYPE"] = method.rtype
    kw["LADON_METHOD_TC"] = TypeConverter(method.encoding, method.allow_unsafe_conversion)
    return kw


def internal_error(exc: BaseException, debug: bool) -> ServerFault:
    """The fault sent for an unexpected exception (logged here)."""
    logger.error("Unexpected error in a service call", exc_info=exc)
    detail = "".join(traceback.format_exception(exc)) if debug else None
    return ServerFault("Internal server error", detail=detail)


def task_key(service: ServiceInfo, method: MethodInfo) -> str:
    """The key that ties task ids to one task method of one service."""
    return f"{service.name}.{method.task_of or method.name}"


def _progress(status: TaskStatus) -> dict[str, object]:
    """A ``TaskProgressResponse``, as the plain mapping the encoders take."""
    return {
        "task_id": status.task_id,
        "progress": float(status.progress),
        "duration": float(status.duration),
        "starttime": float(status.starttime),
        "state": status.state.value,
        "message": status.message,
    }


class Dispatcher:
    """Runs decoded calls against a service.

    :param tasks: returns the task backend (created on first use).
    """

    def __init__(self, tasks: Callable[[], TaskBackend], debug: bool) -> None:
        self._tasks = tasks
        self.debug = debug

    def invoke(self, service: ServiceInfo, call: Call, environ: Mapping[str, Any]) -> object:
        m = call.method
        if m.kind is MethodKind.PLAIN:
            target = getattr(service.factory(), m.attr)
            if m.accepts_kw:
                return target(*call.args, **extras(m, environ))
            return target(*call.args)
        if m.kind is MethodKind.TASK_START:
            return self._start(service, call, environ)
        task_id = call.args[0]
        try:
            if m.kind is MethodKind.TASK_CANCEL:
                return _progress(self._tasks().cancel(task_key(service, m), task_id))
            status = self._tasks().status(task_key(service, m), task_id)
        except UnknownTask:
            raise ClientFault(
                f"Unknown task {task_id[:64]!r}: it does not exist, has expired, "
                f"or was not started by {m.task_of}"
            ) from None
        except BackendUnavailable as exc:
            raise _unavailable(exc) from None
        if m.kind is MethodKind.TASK_PROGRESS:
            return _progress(status)
        return self._result(status, m)

    def _start(
        self, service: ServiceInfo, call: Call, environ: Mapping[str, Any]
    ) -> dict[str, str]:
        m = call.method
        base_kw = extras(m, environ) if m.accepts_kw else None
        if base_kw is not None:
            base_kw.pop("wsgi.input", None)  # the request is over when the task runs

        attachments: AttachmentSet | None = call.context.get("attachments")
        if attachments is not None:
            attachments.hand_over()  # the task closes them when it ends

        job = ServiceJob(service, m, call.args, base_kw, attachments)
        try:
            task_id = self._tasks().submit(task_key(service, m), job)
        except TaskRejected as exc:
            job.release()
            raise ServerFault(f"The task was not started: {exc}") from None
        except BackendUnavailable as exc:
            job.release()
            raise _unavailable(exc) from None
        return {"task_id": task_id}

    def _result(self, status: TaskStatus, method: MethodInfo) -> object:
        state = status.state
        if state is TaskState.SUCCEEDED:
            if not status.encoded:
                return status.result
            # Typed JSON from a shared store: back to the declared type, so
            # that a LadonType result is a LadonType again.
            opts = _stored(method)
            try:
                return load(method.rtype, status.result, "result", opts, method.rtype_nullable)
            except ArgumentError as exc:
                logger.error("Stored result of task %s is unreadable: %s", status.task_id, exc)
                raise ServerFault("The task's stored result cannot be read") from None
        if state is TaskState.FAILED:
            detail = status.error_detail if self.debug else None
            raise ServerFault(f"The task failed: {status.error}", detail=detail)
        if state is TaskState.CANCELLED:
            raise ClientFault(f"Task {status.task_id} was cancelled; it has no result")
        raise ClientFault(
            f"Task {status.task_id} has no result yet: it is still {state.value} "
            f"(progress {status.progress:.0%})"
        )


def _stored(method: MethodInfo) -> Options:
    """The conversion options of a task's arguments and result as typed JSON
    (stored, or passed to a worker): no field filters, which run once, when
    the values cross the wire."""
    return Options(method.encoding, method.allow_unsafe_conversion, filters=False)


def _unavailable(exc: BackendUnavailable) -> ServerFault:
    """The fault for a task store that cannot be reached (logged here)."""
    logger.error("Task backend unavailable: %s", exc)
    return ServerFault("The task service is unavailable; try again later")


def portable_environ(kw: Mapping[str, Any]) -> dict[str, str]:
    """The part of a request's environ a task can take to another process:
    the text values (``REMOTE_ADDR``, ``HTTP_*``, ``PATH_INFO``...), without
    the ``wsgi.*`` objects, the attachments and the ``LADON_*`` keys (which
    :func:`extras` computes again).

    .. versionadded:: 2.0
    """
    return {
        k: v for k, v in kw.items() if isinstance(v, str) and not k.startswith(("wsgi.", "LADON_"))
    }


class ServiceJob:
    """One call of a task method, as the framework hands it to a backend.

    Calling it runs the method here and returns its Python result (checked
    against the declared type); :meth:`call_encoded` returns that result in
    typed JSON instead, for a backend that stores it outside the process;
    :meth:`describe` turns the call into a :class:`~ladon.tasks.jobs.JobSpec`
    for a backend that runs it in another process (see
    :func:`run_described`).

    :param service: the service.
    :param method: the task method (the ``TASK_START`` method).
    :param args: the converted arguments, in parameter order.
    :param kw: what the method gets in ``**kw`` (``None`` when it takes
        none); ``update_progress`` and ``task`` are added when it runs.
    :param attachments: the request's attachments, closed when the job ends.

    Its :attr:`max_runtime` is the method's own limit
    (``tasktype={"max_runtime": 30}``), which the backends read.

    .. versionadded:: 2.0
    """

    __slots__ = ("args", "attachments", "kw", "method", "service")

    def __init__(
        self,
        service: ServiceInfo,
        method: MethodInfo,
        args: Sequence[Any],
        kw: dict[str, Any] | None,
        attachments: AttachmentSet | None = None,
    ) -> None:
        self.service = service
        self.method = method
        self.args = list(args)
        self.kw = kw
        self.attachments = attachments

    @property
    def max_runtime(self) -> float | None:
        """The method's own ``max_runtime`` in seconds, or ``None`` to use
        the backend's."""
        return self.method.max_runtime

    def __call__(self, handle: TaskHandle) -> object:
        """Run the method; return its result."""
        result, _ = self._run(handle, encode=False)
        return result

    def call_encoded(self, handle: TaskHandle) -> object:
        """Run the method; return its result in typed JSON."""
        _, encoded = self._run(handle, encode=True)
        return encoded

    def describe(self) -> JobSpec:
        """The call as data: arguments in typed JSON (attachments read in and
        closed), the portable part of the environ.

        :raises ServerFault: when an argument cannot be written.
        """
        m = self.method
        opts = _stored(m)
        try:
            plain = [
                dump(p.type, a, p.name, opts, p.nullable)
                for p, a in zip(m.params, self.args, strict=False)
            ]
            args = to_json(plain)
        except (ResultError, TypeError, ValueError) as exc:
            raise ServerFault(f"The task's arguments cannot be sent to a worker: {exc}") from None
        finally:
            self.release()
        environ = to_json(portable_environ(self.kw)) if self.kw is not None else "{}"
        return JobSpec(self.service.name, m.name, args, environ)

    def release(self) -> None:
        """Close the request's attachments (the job will not run here)."""
        if self.attachments is not None:
            self.attachments.close_now()

    def _run(self, handle: TaskHandle, encode: bool) -> tuple[object, object]:
        service, m = self.service, self.method
        declared = service.methods[f"{m.name}_result"]  # it has the method's own rtype
        wire = Options(declared.encoding, declared.allow_unsafe_conversion)
        try:
            target = getattr(service.factory(), m.attr)
            if self.kw is None:
                result = target(*self.args)
            else:
                result = target(
                    *self.args, **self.kw, update_progress=handle.update_progress, task=handle
                )
            # A result that cannot be sent fails the task now, rather
            # than a task that "succeeded" with no fetchable result.
            rtype, nullable = declared.rtype, declared.rtype_nullable
            dump(rtype, result, "result", wire, nullable)
            if not encode:
                return result, None
            return result, dump(rtype, result, "result", _stored(declared), nullable)
        except TaskCancelled:
            raise
        except Exception as exc:
            logger.error("Task %s of %s.%s failed", handle.id, service.name, m.name, exc_info=exc)
            raise
        finally:
            self.release()


def run_described(
    find_service: Callable[[str], ServiceInfo | None], spec: JobSpec, handle: TaskHandle
) -> object:
    """Run a described call (in a worker process) and return its result in
    typed JSON.

    :param find_service: the application's service look-up
        (:meth:`~ladon.server.wsgi.LadonWSGIApplication.service`).
    :param spec: the call, from :meth:`ServiceJob.describe`.
    :param handle: the task's handle.
    :raises LookupError: the application has no such task method.
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
    opts = _stored(m)
    args = [load(p.type, v, p.name, opts, p.nullable) for p, v in zip(m.params, plain, strict=True)]
    kw = None
    if m.accepts_kw:
        environ = from_json(spec.environ)
        kw = extras(m, environ if isinstance(environ, dict) else {})
    return ServiceJob(service, m, args, kw).call_encoded(handle)


__all__ = [
    "Dispatcher",
    "ServiceFault",
    "ServiceJob",
    "internal_error",
    "portable_environ",
    "run_described",
]
