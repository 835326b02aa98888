"""The generated task methods, answered from a backend: ``m`` starts the
task, ``m_progress``, ``m_result`` and ``m_cancel`` follow it.

Backend errors become the faults clients see here, once for every
interface: an unknown id is a client fault that never says whether the
task exists elsewhere, an unreachable store a server fault that never
holds a password.

.. versionadded:: 2.0
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..exceptions.service import ServerFault
from ..exceptions.service import TaskNotReady
from ..exceptions.service import UnknownResource
from ..ladonizer.model import MethodInfo
from ..ladonizer.model import MethodKind
from ..ladonizer.model import ServiceInfo
from ..types.attachment import AttachmentSet
from ..types.convert import Converted
from .base import BackendUnavailable
from .base import TaskBackend
from .base import TaskRejected
from .base import TaskState
from .base import TaskStatus
from .base import UnknownTask
from .execution import ServiceJob

logger = logging.getLogger("ladon")


def task_key(service: ServiceInfo, method: MethodInfo) -> str:
    """The key that ties task ids to one task method of one service.

    .. versionadded:: 2.0
    """
    return f"{service.name}.{method.task_of or method.name}"


def progress_response(status: TaskStatus) -> dict[str, object]:
    """A ``TaskProgressResponse``, as the plain mapping the encoders take.

    .. versionadded:: 2.0
    """
    return {
        "task_id": status.task_id,
        "progress": float(status.progress),
        "duration": float(status.duration),
        "starttime": float(status.starttime),
        "state": status.state.value,
        "message": status.message,
    }


def unavailable(exc: BackendUnavailable) -> ServerFault:
    """The fault for a task store that cannot be reached (logged here).

    .. versionadded:: 2.0
    """
    logger.error("Task backend unavailable: %s", exc)
    return ServerFault("The task service is unavailable; try again later")


class TaskCalls:
    """Answers the calls of task methods with a backend.

    :param backend: returns the task backend (created on first use).
    :param debug: whether a failed task's traceback goes into the fault.

    .. versionadded:: 2.0
    """

    def __init__(self, backend: Callable[[], TaskBackend], debug: bool = False) -> None:
        self._backend = backend
        self.debug = debug

    def start(
        self,
        service: ServiceInfo,
        method: MethodInfo,
        args: list[Any],
        kw: dict[str, Any] | None,
        attachments: AttachmentSet | None = None,
    ) -> dict[str, str]:
        """Start a task: a ``TaskInfoResponse``.

        :param kw: what the method gets in ``**kw``, or ``None``.
        :param attachments: the request's attachments; the task closes them
            when it ends.
        """
        if attachments is not None:
            attachments.hand_over()  # the task closes them when it ends
        job = ServiceJob(service, method, args, kw, attachments)
        try:
            task_id = self._backend().submit(task_key(service, method), job)
        except TaskRejected as exc:
            job.release()
            raise ServerFault(f"The task was not started: {exc}") from None
        except BackendUnavailable as exc:
            job.release()
            raise unavailable(exc) from None
        return {"task_id": task_id}

    def follow(self, service: ServiceInfo, method: MethodInfo, task_id: str) -> object:
        """Answer ``m_progress``, ``m_result`` or ``m_cancel`` for ``task_id``."""
        key = task_key(service, method)
        try:
            if method.kind is MethodKind.TASK_CANCEL:
                return progress_response(self._backend().cancel(key, task_id))
            status = self._backend().status(key, task_id)
        except UnknownTask:
            raise UnknownResource(
                f"Unknown task {task_id[:64]!r}: it does not exist, has expired, "
                f"or was not started by {method.task_of}"
            ) from None
        except BackendUnavailable as exc:
            raise unavailable(exc) from None
        if method.kind is MethodKind.TASK_PROGRESS:
            return progress_response(status)
        return self._result(status)

    def _result(self, status: TaskStatus) -> object:
        state = status.state
        if state is TaskState.SUCCEEDED:
            return Converted(status.result)  # converted when the task ended
        if state is TaskState.FAILED:
            detail = status.error_detail if self.debug else None
            raise ServerFault(f"The task failed: {status.error}", detail=detail)
        if state is TaskState.CANCELLED:
            raise TaskNotReady(f"Task {status.task_id} was cancelled; it has no result")
        raise TaskNotReady(
            f"Task {status.task_id} has no result yet: it is still {state.value} "
            f"(progress {status.progress:.0%})"
        )
