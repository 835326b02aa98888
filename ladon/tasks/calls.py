"""The generated task methods, answered from a backend: ``m`` starts the
task, ``m_progress``, ``m_result``, ``m_cancel`` and ``m_wait`` follow it.

Backend errors become the faults clients see here, once for every
interface: an unknown id is a client fault that never says whether the
task exists elsewhere, an unreachable store a server fault that never
holds a password. With authentication on, a task belongs to the principal
that started it: another principal gets exactly the answer an unknown id
gets, unless it has the ``admin`` role.

.. versionadded:: 2.0
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from ..exceptions.service import IdempotencyConflict
from ..exceptions.service import ServerFault
from ..exceptions.service import TaskNotReady
from ..exceptions.service import TaskServiceUnavailable
from ..exceptions.service import TooManyWaiters
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
from .base import status_message
from .callbacks import CallbackTarget
from .execution import ServiceJob
from .idempotency import AlreadyStarted
from .idempotency import IdempotentStart
from .idempotency import KeyReused
from .waiting import wait_for_end

logger = logging.getLogger("ladon")

#: When the waits of the batch being answered must end (``None``: not in a
#: batch): see :meth:`TaskCalls.batch`.
_BATCH_DEADLINE: ContextVar[float | None] = ContextVar("ladon_batch_deadline", default=None)


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
    A task started with a completion callback adds how its delivery goes
    once the task has ended (``"...; callback delivered (HTTP 200)"``).

    .. versionadded:: 2.0
    """
    message = status_message(status)
    if status.callback_state is not None and status.state.finished:
        # the delivery of the completion callback, once it is due
        note = f"callback {status.callback_state}"
        message = f"{message}; {note}" if message else note
    return {
        "task_id": status.task_id,
        "progress": float(status.progress),
        "duration": float(status.duration),
        "starttime": float(status.starttime),
        "state": status.state.value,
        "message": message,
    }


def unavailable(exc: BackendUnavailable) -> ServerFault:
    """The fault for a task store that cannot be reached (logged here):
    a :class:`~ladon.exceptions.service.TaskServiceUnavailable`.

    .. versionadded:: 2.0
    """
    logger.error("Task backend unavailable: %s", exc)
    return TaskServiceUnavailable("The task service is unavailable; try again later")


class TaskCalls:
    """Answers the calls of task methods with a backend.

    :param backend: returns the task backend (created on first use).
    :param debug: whether a failed task's traceback goes into the fault.
    :param owners: whether tasks belong to the principal that started them
        (the application has authentication): then only that principal, or
        one with the ``admin`` role, may follow a task; anyone else is told
        the id is unknown.
    :param max_wait: the longest a ``m_wait`` call waits, in seconds (a
        longer ``timeout`` is cut to it).
    :param max_waiters: how many ``m_wait`` calls may wait at once in this
        process; one more is answered at once with
        :class:`~ladon.exceptions.service.TooManyWaiters`.

    .. versionadded:: 2.0
    """

    def __init__(
        self,
        backend: Callable[[], TaskBackend],
        debug: bool = False,
        owners: bool = False,
        *,
        max_wait: float = 30.0,
        max_waiters: int = 64,
    ) -> None:
        if not (isinstance(max_wait, int | float) and 0 <= max_wait < math.inf):
            raise ValueError(f"max_wait must be a number of seconds >= 0, not {max_wait!r}")
        if not (isinstance(max_waiters, int) and max_waiters >= 0):
            raise ValueError(f"max_waiters must be an integer >= 0, not {max_waiters!r}")
        self._backend = backend
        self.debug = debug
        self.owners = owners
        self.max_wait = float(max_wait)
        self.max_waiters = max_waiters
        self._waiting = 0
        self._waiting_lock = threading.Lock()

    def task_backend(self) -> TaskBackend:
        """The application's task backend (made on first use)."""
        return self._backend()

    def start(
        self,
        service: ServiceInfo,
        method: MethodInfo,
        args: list[Any],
        kw: dict[str, Any] | None,
        attachments: AttachmentSet | None = None,
        principal: Principal | None = None,
        idempotency_key: str | None = None,
        callback_url: str | None = None,
    ) -> dict[str, str]:
        """Start a task: a ``TaskInfoResponse``.

        :param kw: what the method gets in ``**kw``, or ``None``.
        :param attachments: the request's attachments; the task closes them
            when it ends.
        :param principal: the caller, who owns the task.
        :param idempotency_key: the start's ``Idempotency-Key`` (checked):
            a start with a key that started a task with the same arguments
            (for the same principal and method) answers that task's id,
            with other arguments an
            :class:`~ladon.exceptions.service.IdempotencyConflict`.
        :param callback_url: where the completion callback goes (checked
            against the application's callback settings).
        """
        backend = self._backend()
        if idempotency_key is not None and not getattr(backend, "idempotent_starts", False):
            raise ServerFault(
                f"The task service ({type(backend).__name__}) cannot honour an "
                "Idempotency-Key; the task was not started"
            )
        if callback_url is not None and not hasattr(backend, "callback_sender"):
            raise ServerFault(
                f"The task service ({type(backend).__name__}) cannot send callbacks; "
                "the task was not started"
            )
        if self.owners and principal is not None and not getattr(backend, "keeps_owners", False):
            logger.error(
                "Task backend %r does not keep task owners: tasks of authenticated callers "
                "are refused (any caller could follow them)",
                backend,
            )
            raise ServerFault("The task service cannot keep this task private; it was not started")
        if attachments is not None:
            attachments.hand_over()  # the task closes them when it ends
        key = task_key(service, method)
        job = ServiceJob(
            service, method, args, kw, attachments, principal, tracing.current_traceparent()
        )
        if callback_url is not None:
            job.callback = CallbackTarget(callback_url, service.name, method.name).to_text()
        try:
            if idempotency_key is not None:
                owner = None if principal is None else principal.name
                job.idempotency = IdempotentStart(
                    None, job.start_fingerprint(), (owner, key, idempotency_key)
                )
            task_id = backend.submit(key, job)
        except AlreadyStarted as exc:  # the same start again: the same task
            job.release()
            return {"task_id": exc.task_id}
        except KeyReused:
            job.release()
            raise IdempotencyConflict(
                "This Idempotency-Key already started a task with other arguments; "
                "send a new key for a new task"
            ) from None
        except ServerFault:
            job.release()
            raise
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
            raise unknown_task(task_id, method) from None
        except BackendUnavailable as exc:
            raise unavailable(exc) from None
        if method.kind is MethodKind.TASK_PROGRESS:
            return progress_response(status)
        return self._result(status)

    def wait(
        self,
        service: ServiceInfo,
        method: MethodInfo,
        task_id: str,
        timeout: float,
        principal: Principal | None = None,
    ) -> dict[str, object]:
        """Answer ``m_wait``: the task's ``TaskProgressResponse`` as soon as
        it has ended, or once ``timeout`` seconds (at most
        :attr:`max_wait`) have passed.

        :param timeout: seconds, >= 0 (the parameter's declared rule).
        :param principal: the caller: with :attr:`owners`, a task it may not
            see is answered as an unknown id, as by ``m_progress``.
        :raises TooManyWaiters: :attr:`max_waiters` calls wait already.
        """
        key = task_key(service, method)
        backend = self._backend()
        limit = min(float(timeout), self.max_wait)
        deadline = _BATCH_DEADLINE.get()
        if deadline is not None:  # in a batch: what is left of the request's wait
            limit = max(0.0, min(limit, deadline - time.monotonic()))
        try:
            status = self.visible(backend.status(key, task_id), principal)
            if status.state.finished or limit <= 0:
                return progress_response(status)
            with self._waiting_lock:
                if self._waiting >= self.max_waiters:
                    raise TooManyWaiters(
                        f"Too many calls wait for tasks in this process ({self.max_waiters}); "
                        f"try again shortly, or follow the task with {method.task_of}_progress"
                    )
                self._waiting += 1
            metrics.waiters_changed(1)
            try:
                status = wait_for_end(backend, key, task_id, limit)
            finally:
                metrics.waiters_changed(-1)
                with self._waiting_lock:
                    self._waiting -= 1
        except UnknownTask:
            raise unknown_task(task_id, method) from None
        except BackendUnavailable as exc:
            raise unavailable(exc) from None
        return progress_response(status)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """The calls of one request (a JSON-RPC batch, an XML-RPC
        multicall) share one wait: together their ``m_wait`` items wait
        at most :attr:`max_wait` seconds, one after the other, so that a
        request never holds its worker longer than a single wait would
        (a later item answers the task's status as it is then)."""
        token = _BATCH_DEADLINE.set(time.monotonic() + self.max_wait)
        try:
            yield
        finally:
            _BATCH_DEADLINE.reset(token)

    @property
    def waiting(self) -> int:
        """How many ``m_wait`` calls wait now in this process."""
        return self._waiting

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
            raise ServerFault(f"The task failed: {status_message(status)}", detail=detail)
        if state is TaskState.CANCELLED:
            raise TaskNotReady(f"Task {status.task_id} was cancelled; it has no result")
        raise TaskNotReady(
            f"Task {status.task_id} has no result yet: it is still {state.value} "
            f"(progress {status.progress:.0%})"
        )


def unknown_task(task_id: str, method: MethodInfo) -> UnknownResource:
    """The client fault for a task id the backend does not know (or not for
    this caller).

    .. versionadded:: 2.0
    """
    return UnknownResource(
        f"Unknown task {task_id[:64]!r}: it does not exist, has expired, "
        f"or was not started by {method.task_of}"
    )
