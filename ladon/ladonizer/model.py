"""The service model: one description of every service, built once when the
application is constructed and read by every interface, description
generator and docs page (nothing else introspects service classes)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..types.ladontype import LadonType
from ..types.spec import ListOf
from ..types.spec import TypeSpec

NO_DEFAULT: Any = object()


class MethodKind(enum.Enum):
    """What a published method does when called."""

    PLAIN = "plain"
    TASK_START = "task_start"
    TASK_PROGRESS = "task_progress"
    TASK_RESULT = "task_result"
    TASK_CANCEL = "task_cancel"


@dataclass(frozen=True, slots=True)
class ParamInfo:
    """One published parameter.

    .. versionadded:: 2.0
    """

    name: str
    type: TypeSpec
    default: object = NO_DEFAULT
    nullable: bool = False
    doc: tuple[str, ...] = ()

    @property
    def optional(self) -> bool:
        """The client may leave it out."""
        return self.default is not NO_DEFAULT

    @property
    def is_list(self) -> bool:
        return isinstance(self.type, ListOf)


@dataclass(frozen=True, slots=True)
class MethodInfo:
    """One published method.

    ``attr`` is the Python attribute called on the service object (for the
    generated task methods, the attribute of the task method itself).
    ``max_runtime`` is the task's own limit in seconds
    (``tasktype={"max_runtime": 30}``), ``None`` for the backend's.

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
    max_runtime: float | None = None

    @property
    def is_task(self) -> bool:
        """True for the start method of a task (``tasktype=True``)."""
        return self.kind is MethodKind.TASK_START

    def param(self, name: str) -> ParamInfo | None:
        for p in self.params:
            if p.name == name:
                return p
        return None


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """One published service.

    :param factory: returns the object whose methods are called: a fresh
        instance per call for a class, the configured instance otherwise.

    .. versionadded:: 2.0
    """

    name: str
    doc: str
    methods: Mapping[str, MethodInfo]
    types: tuple[type[LadonType], ...]
    factory: Callable[[], object]
    number: int = 1
    source: object = None
