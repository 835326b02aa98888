"""``@ladonize``: declare a method as published, with its types.

The decorator checks the declaration against the method's signature, stores
a :class:`MethodSpec` on the function (``fn._ladon_spec``) and returns the
function unchanged. Nothing global is registered; services are found when
the application is built (:mod:`ladon.ladonizer.registry`).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any
from typing import TypeVar

from ..exceptions.base import DefinitionError
from ..exceptions.ladonizer import AnnotationMismatch
from ..exceptions.ladonizer import ArgDefCountMismatch
from ..exceptions.ladonizer import DefaultArgTypeMismatch
from ..exceptions.ladonizer import ReturnTypeMismatch
from ..exceptions.ladonizer import ReturnTypeUndefined
from ..types.spec import TypeSpec
from ..types.spec import matches
from ..types.spec import normalize
from ..types.spec import split_optional
from .model import NO_DEFAULT
from .model import ParamInfo

F = TypeVar("F", bound=Callable[..., Any])
_MISSING: Any = object()
_KNOWN_OPTIONS = {"override_method_name", "redis_server", "memcache_server"}


class MethodSpec:
    """What ``@ladonize`` recorded about one method.

    Types written as annotations may name classes defined later in the
    module; they are resolved on first use (:meth:`resolve`), at the latest
    when the application is built.

    .. versionadded:: 2.0
    """

    __slots__ = (
        "func",
        "argtypes",
        "rtype",
        "encoding",
        "allow_unsafe_conversion",
        "tasktype",
        "options",
        "_resolved",
    )

    def __init__(
        self,
        func: Callable[..., Any],
        argtypes: tuple[object, ...],
        rtype: object,
        encoding: str,
        allow_unsafe_conversion: bool,
        tasktype: bool,
        options: dict[str, Any],
    ) -> None:
        self.func = func
        self.argtypes = argtypes
        self.rtype = rtype
        self.encoding = encoding
        self.allow_unsafe_conversion = allow_unsafe_conversion
        self.tasktype = tasktype
        self.options = options
        self._resolved: tuple[tuple[ParamInfo, ...], TypeSpec, bool, bool] | None = None

    @property
    def where(self) -> str:
        return f"{self.func.__module__}.{self.func.__qualname__}"

    def resolve(self) -> tuple[tuple[ParamInfo, ...], TypeSpec, bool, bool]:
        """``(params, rtype, rtype_nullable, accepts_kw)``.

        :raises DefinitionError: the declaration is wrong.
        """
        if self._resolved is None:
            try:
                hints = typing.get_type_hints(self.func)
            except NameError as exc:
                raise DefinitionError(f"{self.where}: cannot resolve annotation: {exc}") from exc
            self._resolved = _resolve(self, hints)
        return self._resolved


def _signature_params(spec: MethodSpec) -> tuple[list[inspect.Parameter], bool]:
    sig = inspect.signature(spec.func)
    params = list(sig.parameters.values())
    if not params or params[0].kind not in (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    ):
        raise DefinitionError(f"{spec.where}: @ladonize decorates methods; `self` is missing")
    accepts_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
    published = [
        p
        for p in params[1:]
        if p.kind not in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)
    ]
    return published, accepts_kw


def _param(spec: MethodSpec, p: inspect.Parameter, declared: object, hint: object) -> ParamInfo:
    where = f"{spec.where}, parameter {p.name!r}"
    nullable = False
    if declared is _MISSING:
        inner, nullable = split_optional(hint)
        ptype = normalize(inner, where)
    else:
        ptype = normalize(declared, where)
        if hint is not _MISSING:
            inner, nullable = split_optional(hint)
            if normalize(inner, where) != ptype:
                raise AnnotationMismatch(
                    f"{where}: @ladonize says {declared!r} but the annotation says {hint!r}"
                )
    default = NO_DEFAULT if p.default is inspect.Parameter.empty else p.default
    if default is None:
        nullable = True
    elif default is not NO_DEFAULT and not matches(ptype, default):
        raise DefaultArgTypeMismatch(
            f"{where}: default {default!r} does not have the parameter's type"
        )
    return ParamInfo(p.name, ptype, default, nullable)


def _resolve(
    spec: MethodSpec, hints: dict[str, Any]
) -> tuple[tuple[ParamInfo, ...], TypeSpec, bool, bool]:
    published, accepts_kw = _signature_params(spec)
    names = ", ".join(p.name for p in published) or "none"
    if spec.argtypes and len(spec.argtypes) != len(published):
        raise ArgDefCountMismatch(
            f"{spec.where}: @ladonize got {len(spec.argtypes)} type(s) for "
            f"{len(published)} parameter(s) ({names})"
        )
    params = []
    for i, p in enumerate(published):
        declared = spec.argtypes[i] if spec.argtypes else _MISSING
        hint = hints.get(p.name, _MISSING)
        if declared is _MISSING and hint is _MISSING:
            raise ArgDefCountMismatch(
                f"{spec.where}: parameter {p.name!r} has no type; pass the types to "
                "@ladonize(...) or annotate the parameter"
            )
        params.append(_param(spec, p, declared, hint))
    rhint = hints.get("return", _MISSING)
    if spec.rtype is _MISSING and rhint is _MISSING:
        raise ReturnTypeUndefined(
            f"{spec.where}: no return type; pass rtype=... to @ladonize or annotate the return"
        )
    where = f"{spec.where}, return type"
    rtype_nullable = False
    if spec.rtype is _MISSING:
        inner, rtype_nullable = split_optional(rhint)
        rtype = normalize(inner, where)
    else:
        rtype = normalize(spec.rtype, where)
        if rhint is not _MISSING:
            inner, rtype_nullable = split_optional(rhint)
            if normalize(inner, where) != rtype:
                raise ReturnTypeMismatch(
                    f"{where}: rtype={spec.rtype!r} but the annotation says {rhint!r}"
                )
    return tuple(params), rtype, rtype_nullable, accepts_kw


def ladonize(
    *argtypes: object,
    rtype: object = _MISSING,
    encoding: str = "UTF-8",
    allow_unsafe_conversion: bool = False,
    tasktype: bool | dict[str, Any] = False,
    **options: Any,
) -> Callable[[F], F]:
    """Publish a method of a service class.

    Give one type per parameter after ``self`` (Ladon 1.0 style) or annotate
    the parameters; give the return type as ``rtype`` or annotate it::

        @ladonize(int, int, rtype=int)
        def add(self, a, b): ...

        @ladonize()
        def add(self, a: int, b: int) -> int: ...

    :param argtypes: one type per parameter, in order.
    :param rtype: the return type.
    :param encoding: codec between wire text and ``bytes`` values.
    :param allow_unsafe_conversion: coerce wrongly typed result fields.
    :param tasktype: run the method in the background (see the task calls).
    :raises DefinitionError: (when decorating) the declaration is wrong;
        the message names the method and parameter.

    .. versionadded:: 2.0
    """
    unknown = set(options) - _KNOWN_OPTIONS
    if unknown:
        raise DefinitionError(f"@ladonize: unknown option(s) {sorted(unknown)}")
    if isinstance(tasktype, dict):
        is_task = bool(tasktype.get("enable", True))
    else:
        is_task = bool(tasktype)
    is_task = is_task or bool(options.get("redis_server") or options.get("memcache_server"))

    def decorator(func: F) -> F:
        if not callable(func):
            raise DefinitionError(f"@ladonize must decorate a function, not {func!r}")
        spec = MethodSpec(
            func, argtypes, rtype, encoding, allow_unsafe_conversion, is_task, dict(options)
        )
        try:
            spec.resolve()
        except DefinitionError as exc:
            # Annotations may name a class defined further down the module:
            # those are resolved when the application is built.
            if not isinstance(exc.__cause__, NameError):
                raise
        func._ladon_spec = spec  # type: ignore[attr-defined]
        return func

    return decorator


def get_spec(obj: object) -> MethodSpec | None:
    """The :class:`MethodSpec` of a decorated function, else ``None``."""
    spec = getattr(obj, "_ladon_spec", None)
    return spec if isinstance(spec, MethodSpec) else None
