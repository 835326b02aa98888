"""Calling service methods (and the task calls) once a request is decoded."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from ..exceptions.service import ClientFault
from ..exceptions.service import ServerFault
from ..exceptions.service import ServiceFault
from ..interfaces.base import Call
from ..ladonizer.model import MethodInfo
from ..ladonizer.model import MethodKind
from ..ladonizer.model import ServiceInfo
from ..tasks import TaskBackend
from ..tasks import TaskCancelled
from ..tasks import TaskHandle
from ..tasks import TaskRejected
from ..tasks import TaskState
from ..tasks import TaskStatus
from ..tasks import UnknownTask
from ..types.attachment import AttachmentSet
from ..types.convert import Options
from ..types.convert import dump
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
        if m.kind is MethodKind.TASK_PROGRESS:
            return _progress(status)
        return self._result(status)

    def _start(
        self, service: ServiceInfo, call: Call, environ: Mapping[str, Any]
    ) -> dict[str, str]:
        m = call.method
        args = call.args
        base_kw = extras(m, environ) if m.accepts_kw else None
        if base_kw is not None:
            base_kw.pop("wsgi.input", None)  # the request is over when the task runs

        attachments: AttachmentSet | None = call.context.get("attachments")
        if attachments is not None:
            attachments.hand_over()  # the task closes them when it ends

        declared = service.methods[f"{m.name}_result"]  # it has the method's own rtype
        opts = Options(declared.encoding, declared.allow_unsafe_conversion)

        def job(handle: TaskHandle) -> object:
            try:
                target = getattr(service.factory(), m.attr)
                if base_kw is None:
                    result = target(*args)
                else:
                    result = target(
                        *args, **base_kw, update_progress=handle.update_progress, task=handle
                    )
                # A result that cannot be sent fails the task now, rather
                # than a task that "succeeded" with no fetchable result.
                dump(declared.rtype, result, "result", opts, declared.rtype_nullable)
                return result
            except TaskCancelled:
                raise
            except Exception as exc:
                logger.error(
                    "Task %s of %s.%s failed", handle.id, service.name, m.name, exc_info=exc
                )
                raise
            finally:
                if attachments is not None:
                    attachments.close_now()

        try:
            task_id = self._tasks().submit(task_key(service, m), job)
        except TaskRejected as exc:
            if attachments is not None:
                attachments.close_now()
            raise ServerFault(f"The task was not started: {exc}") from None
        return {"task_id": task_id}

    def _result(self, status: TaskStatus) -> object:
        state = status.state
        if state is TaskState.SUCCEEDED:
            return status.result
        if state is TaskState.FAILED:
            detail = status.error_detail if self.debug else None
            raise ServerFault(f"The task failed: {status.error}", detail=detail)
        if state is TaskState.CANCELLED:
            raise ClientFault(f"Task {status.task_id} was cancelled; it has no result")
        raise ClientFault(
            f"Task {status.task_id} has no result yet: it is still {state.value} "
            f"(progress {status.progress:.0%})"
        )


__all__ = ["Dispatcher", "ServiceFault", "internal_error"]
