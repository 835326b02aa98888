"""The service model: one description of every service, built once when the
application is constructed and read by every interface, description
generator and docs page (nothing else introspects service classes).

Everything an interface would otherwise compute per method and keep in a
cache of its own (parameters by name, conversion options, whether
attachments may travel, a task's declared result) is a field of the frozen
:class:`MethodInfo`, computed when it is built.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from types import MappingProxyType

from ..types.convert import Options
from ..types.ladontype import LadonType
from ..types.spec import NO_DEFAULT as NO_DEFAULT
from ..types.spec import Slot
from ..types.spec import TypeSpec
from ..types.spec import contains_attachment
from ..types.tasktype import TaskOptions
from .access import ANONYMOUS
from .access import Access


class MethodKind(enum.Enum):
    """What a published method does when called."""

    PLAIN = "plain"
    TASK_START = "task_start"
    TASK_PROGRESS = "task_progress"
    TASK_RESULT = "task_result"
    TASK_CANCEL = "task_cancel"
    #: ``<task>_wait(task_id, timeout)``: the task's progress once it has
    #: ended, or once ``timeout`` seconds have passed.
    TASK_WAIT = "task_wait"
    #: A method the interface itself answers (XML-RPC ``system.*``).
    INTROSPECTION = "introspection"


@dataclass(frozen=True, slots=True)
class ParamInfo(Slot):
    """One published parameter: a client may leave it out when it has a
    default (see :class:`~ladon.types.spec.Slot`).

    .. versionadded:: 2.0
    """


@dataclass(frozen=True, slots=True)
class MethodInfo:
    """One published method.

    ``attr`` is the Python attribute called on the service object (for the
    generated task methods, the attribute of the task method itself).
    ``task_options`` are what a task method declared (``tasktype=True``:
    the defaults; ``tasktype={"retries": 3, "retry_delay": 2,
    "max_runtime": 600}``), ``None`` for a method that is not a task;
    :attr:`max_runtime` reads its limit.
    ``task_rtype`` is, on a task's start method (whose ``rtype`` is
    :class:`~ladon.types.tasktype.TaskInfoResponse`), the type the task
    method declared for its result. ``access`` says who may call it (see
    :mod:`ladon.ladonizer.access`); the generated task methods have their
    start method's.

    Computed from the fields above: ``params_by_name``, ``options`` (the
    conversion options), ``takes_attachments`` and ``returns_attachments``.

    .. versionadded:: 2.0
    """

    name: str
    attr: str
    params: tuple[ParamInfo, ...]
    rtype: TypeSpec
    rtype_nullable: bool = False
    doc: tuple[str, ...] = ()
    rtype_doc: tuple[str, ...] = ()
    publisher: str | None = None
    encoding: str = "UTF-8"
    allow_unsafe_conversion: bool = False
    accepts_kw: bool = False
    kind: MethodKind = MethodKind.PLAIN
    task_of: str | None = None
    task_options: TaskOptions | None = None
    task_rtype: TypeSpec | None = None
    task_rtype_nullable: bool = False
    access: Access = ANONYMOUS
    params_by_name: Mapping[str, ParamInfo] = field(init=False, repr=False, compare=False)
    options: Options = field(init=False, repr=False, compare=False)
    takes_attachments: bool = field(init=False, repr=False, compare=False)
    returns_attachments: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "params_by_name", MappingProxyType({p.name: p for p in self.params}))
        setattr_(self, "options", Options(self.encoding, self.allow_unsafe_conversion))
        setattr_(self, "takes_attachments", any(contains_attachment(p.type) for p in self.params))
        setattr_(self, "returns_attachments", contains_attachment(self.rtype))

    @property
    def max_runtime(self) -> float | None:
        """The task's own limit in seconds (``tasktype={"max_runtime": 30}``),
        ``None`` for the backend's."""
        return None if self.task_options is None else self.task_options.max_runtime

    @property
    def is_task(self) -> bool:
        """True for the start method of a task (``tasktype=True``)."""
        return self.kind is MethodKind.TASK_START

    def param(self, name: str) -> ParamInfo | None:
        return self.params_by_name.get(name)


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """One published service.

    :param factory: returns the object whose methods are called: a fresh
        instance per call for a class, the configured instance otherwise.
    :param namespace: the service's XML target namespace (its
        ``ladon_namespace`` attribute, else the application's default):
        the namespace of its elements and types on ``soap12``, and on
        ``soap`` and ``soap11`` with ``soap_naming="python"``.
    :param auth_schemes: how callers of the application may authenticate
        (the ``scheme`` of each authenticator: ``"Basic"``, ``"Bearer"``,
        ``"RemoteUser"``, ``"UsernameToken"``), for the descriptions and
        pages; empty without authentication.
    :param sends_callbacks: whether the application sends task completion
        callbacks (it has ``callback_hosts``): only then do the descriptions
        offer the ``Ladon-Callback-URL`` header of task starts.

    .. versionadded:: 2.0
    """

    name: str
    doc: str
    methods: Mapping[str, MethodInfo]
    types: tuple[type[LadonType], ...]
    factory: Callable[[], object]
    number: int = 1
    source: object = None
    namespace: str = ""
    auth_schemes: tuple[str, ...] = ()
    sends_callbacks: bool = False
