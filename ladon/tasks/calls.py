"""The generated task methods, answered from a backend: ``m`` starts the
task, ``m_progress``, ``m_result`` and ``m_cancel`` follow it.

Backend errors become the faults clients see here, once for every
interface: an unknown id is a client fault that never says whether the
task exists elsewhere, an unreachable store a server fault that never
holds a password. With authentication on, a task belongs to the principal
that started it: another principal gets exactly the answer an unknown id
gets, unless it has the ``admin`` role.

.. versionadded:: 2.0
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..exceptions.service import ServerFault
from ..exceptions.service import TaskNotReady
from ..exceptions.service import UnknownResource
from ..ladonizer.access import Principal
from ..ladonizer.model import MethodInfo
from ..ladonizer.model import MethodKind
from ..ladonizer.model import ServiceInfo
from ..observe import metrics
from ..observe import tracing
from ..types.attachment import AttachmentSet
from ..types.convert import Converted
from .base import BackendUnavailable
from .base import TaskBackend
from .base import TaskRejected
from .base import TaskState
from .base import TaskStatus
from .base import UnknownTask
from .execution import ServiceJob
from .retries import shown_message

logger = logging.getLogger("ladon")


def task_key(service: ServiceInfo, method: MethodInfo) -> str:
    """The key that ties task ids to one task method of one service.

    .. versionadded:: 2.0
    """
    return f"{service.name}.{method.task_of or method.name}"


def progress_response(status: TaskStatus) -> dict[str, object]:
    """A ``TaskProgressResponse``, as the plain mapping the encoders take.

    The ``message`` of a failed task says why it failed: the exception's
    message (never its traceback), "worker lost", or the ``max_runtime``
    it ran past. On a re-run (``tasktype={"retries": N}``) it says which
    attempt runs: ``attempt 2 of 4`` (then the task's own message, if any).

    .. versionadded:: 2.0
    """
    if status.state is TaskState.FAILED and status.error:
        message: str | None = status.error
    else:
        message = shown_message(status.state, status.message, status.attempt, status.attempts)
    return {
        "task_id": status.task_id,
        "progress": float(status.progress),
        "duration": float(status.duration),
        "starttime": float(status.starttime),
        "state": status.state.value,
        "message": message,
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
    :param owners: whether tasks belong to the principal that started them
        (the application has authentication): then only that principal, or
        one with the ``admin`` role, may follow a task; anyone else is told
        the id is unknown.

    .. versionadded:: 2.0
    """

    def __init__(
        self, backend: Callable[[], TaskBackend], debug: bool = False, owners: bool = False
    ) -> None:
        self._backend = backend
        self.debug = debug
        self.owners = owners

    def start(
        self,
        service: ServiceInfo,
        method: MethodInfo,
        args: list[Any],
        kw: dict[str, Any] | None,
        attachments: AttachmentSet | None = None,
        principal: Principal | None = None,
    ) -> dict[str, str]:
        """Start a task: a ``TaskInfoResponse``.

        :param kw: what the method gets in ``**kw``, or ``None``.
        :param attachments: the request's attachments; the task closes them
            when it ends.
        :param principal: the caller, who owns the task.
        """
        backend = self._backend()
        if self.owners and principal is not None and not getattr(backend, "keeps_owners", False):
            logger.error(
                "Task backend %r does not keep task owners: tasks of authenticated callers "
                "are refused (any caller could follow them)",
                backend,
            )
            raise ServerFault("The task service cannot keep this task private; it was not started")
        if attachments is not None:
            attachments.hand_over()  # the task closes them when it ends
        job = ServiceJob(
            service, method, args, kw, attachments, principal, tracing.current_traceparent()
        )
        key = task_key(service, method)
        try:
            task_id = backend.submit(key, job)
        except TaskRejected as exc:
            job.release()
            raise ServerFault(f"The task was not started: {exc}") from None
        except BackendUnavailable as exc:
            job.release()
            raise unavailable(exc) from None
        metrics.task_started(key)
        return {"task_id": task_id}

    def follow(
        self,
        service: ServiceInfo,
        method: MethodInfo,
        task_id: str,
        principal: Principal | None = None,
    ) -> object:
        """Answer ``m_progress``, ``m_result`` or ``m_cancel`` for ``task_id``.

        :param principal: the caller: with :attr:`owners`, a task it may not
            see is answered as an unknown id.
        """
        key = task_key(service, method)
        backend = self._backend()
        try:
            if method.kind is MethodKind.TASK_CANCEL:
                if self._checks(principal):  # looked at before it is touched
                    self.visible(backend.status(key, task_id), principal)
                return progress_response(backend.cancel(key, task_id))
            status = self.visible(backend.status(key, task_id), principal)
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

    def _checks(self, principal: Principal | None) -> bool:
        """Whether a task's owner must be compared with ``principal``."""
        return self.owners and not (principal is not None and principal.is_admin)

    def visible(self, status: TaskStatus, principal: Principal | None) -> TaskStatus:
        """``status`` when ``principal`` may see the task: always without
        :attr:`owners`; else when the task was started anonymously, by
        ``principal``, or ``principal`` has the ``admin`` role.

        :raises UnknownTask: the task is another principal's.
        """
        if not self._checks(principal) or status.owner is None:
            return status
        if principal is None or not principal.owns(status.owner):
            raise UnknownTask(status.task_id)
        return status

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
