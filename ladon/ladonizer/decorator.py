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
from ..types.spec import NO_DEFAULT
from ..types.spec import TypeSpec
from ..types.spec import base_of
from ..types.spec import check_default_rules
from ..types.spec import matches
from ..types.spec import normalize
from ..types.spec import split_optional
from ..types.tasktype import DEFAULT_TASK_OPTIONS
from ..types.tasktype import TaskOptions
from ..types.tasktype import task_options
from .access import Access
from .access import access_rule
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
        "has_self",
        "label",
        "task_options",
        "access",
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
        has_self: bool = True,
        label: str | None = None,
        task_options: TaskOptions = DEFAULT_TASK_OPTIONS,
        access: Access | None = None,
    ) -> None:
        self.func = func
        self.access = access
        self.has_self = has_self
        self.label = label
        self.task_options = task_options
        self.argtypes = argtypes
        self.rtype = rtype
        self.encoding = encoding
        self.allow_unsafe_conversion = allow_unsafe_conversion
        self.tasktype = tasktype
        self.options = options
        self._resolved: tuple[tuple[ParamInfo, ...], TypeSpec, bool, bool] | None = None

    @property
    def where(self) -> str:
        if self.label:
            return self.label
        return f"{self.func.__module__}.{self.func.__qualname__}"

    def resolve(self) -> tuple[tuple[ParamInfo, ...], TypeSpec, bool, bool]:
        """``(params, rtype, rtype_nullable, accepts_kw)``.

        :raises DefinitionError: the declaration is wrong.
        """
        if self._resolved is None:
            try:
                target = self.func
                if not inspect.isroutine(target) and callable(target):
                    target = type(target).__call__  # a callable object
                hints = typing.get_type_hints(target, include_extras=True)
            except NameError as exc:
                raise DefinitionError(f"{self.where}: cannot resolve annotation: {exc}") from exc
            self._resolved = _resolve(self, hints)
        return self._resolved


def _signature_params(spec: MethodSpec) -> tuple[list[inspect.Parameter], bool]:
    try:
        sig = inspect.signature(spec.func)
    except (TypeError, ValueError) as exc:
        raise DefinitionError(f"{spec.where}: cannot read its signature: {exc}") from None
    params = list(sig.parameters.values())
    if spec.has_self:
        if not params or params[0].kind not in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        ):
            raise DefinitionError(f"{spec.where}: @ladonize decorates methods; `self` is missing")
        params = params[1:]
    accepts_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
    published = [
        p
        for p in params
        if p.kind not in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)
    ]
    if not spec.has_self:
        keyword_only = [p.name for p in published if p.kind is inspect.Parameter.KEYWORD_ONLY]
        if keyword_only:
            raise DefinitionError(
                f"{spec.where}: keyword-only parameter(s) {', '.join(keyword_only)} cannot be "
                "published; make them ordinary parameters"
            )
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
            # the annotation may leave out the constraints @ladonize declares
            if normalize(inner, where) not in (ptype, base_of(ptype)):
                raise AnnotationMismatch(
                    f"{where}: @ladonize says {declared!r} but the annotation says {hint!r}"
                )
    default = NO_DEFAULT if p.default is inspect.Parameter.empty else p.default
    if default is None:
        nullable = True
    elif default is not NO_DEFAULT and not matches(ptype, default):
        check_default_rules(ptype, default, where)
        raise DefaultArgTypeMismatch(
            f"{where}: default {default!r} does not have the parameter's type"
        )
    return ParamInfo(p.name, ptype, nullable=nullable, default=default)


def _resolve(
    spec: MethodSpec, hints: dict[str, Any]
) -> tuple[tuple[ParamInfo, ...], TypeSpec, bool, bool]:
    published, accepts_kw = _signature_params(spec)
    names = ", ".join(p.name for p in published) or "none"
    if spec.argtypes and len(spec.argtypes) != len(published):
        varargs = [
            p.name
            for p in inspect.signature(spec.func).parameters.values()
            if p.kind is inspect.Parameter.VAR_POSITIONAL
        ]
        note = (
            f"; *{varargs[0]} is not published: declare one named parameter per type"
            if varargs
            else ""
        )
        raise ArgDefCountMismatch(
            f"{spec.where}: @ladonize got {len(spec.argtypes)} type(s) for "
            f"{len(published)} parameter(s) ({names}){note}"
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
            if normalize(inner, where) not in (rtype, base_of(rtype)):
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
    access: object = None,
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
    :param tasktype: run the method in the background (see the task calls);
        a dict also takes the task's options (:class:`~ladon.types.tasktype.TaskOptions`):
        ``"retries"`` (re-runs after a lost worker or a raised
        :class:`ladon.tasks.Retry`, default 0), ``"retry_delay"`` (seconds
        before the first re-run, doubled at each one, default 1) and
        ``"max_runtime"`` (seconds an attempt may run, replacing the task
        backend's), e.g. ``tasktype={"retries": 3, "retry_delay": 2}``.
    :param access: who may call the method: ``"anonymous"``,
        ``"authenticated"`` or a tuple of roles (any one of them lets a
        caller in); default: the class's ``ladon_access``, else the
        application's ``access=`` (see :doc:`/security`). The generated task
        methods (``_progress``, ``_result``, ``_cancel``, ``_wait``) have the
        same rule.
    :raises DefinitionError: (when decorating) the declaration is wrong;
        the message names the method and parameter.

    .. versionadded:: 2.0
    """
    unknown = set(options) - _KNOWN_OPTIONS
    if unknown:
        raise DefinitionError(
            f"@ladonize got unknown option(s) {', '.join(map(repr, sorted(unknown)))}; "
            "it takes rtype, encoding, allow_unsafe_conversion, tasktype and access"
        )
    is_task = _is_task(tasktype, options)
    rule = None if access is None else access_rule(access, "@ladonize(access=...)")

    def decorator(func: F) -> F:
        _check_decorated(func, "@ladonize")
        spec = MethodSpec(
            func,
            argtypes,
            rtype,
            encoding,
            allow_unsafe_conversion,
            is_task,
            dict(options),
            task_options=_task_options(tasktype, func),
            access=rule,
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


def _is_task(tasktype: bool | dict[str, Any], options: dict[str, Any]) -> bool:
    if isinstance(tasktype, dict):
        is_task = bool(tasktype.get("enable", True))
    else:
        is_task = bool(tasktype)
    return is_task or bool(options.get("redis_server") or options.get("memcache_server"))


def _task_options(tasktype: bool | dict[str, Any], func: Callable[..., Any]) -> TaskOptions:
    """The options a ``tasktype`` argument declares for ``func``.

    :raises DefinitionError: an unknown key or a bad value; the message
        names the method (``module.Class.method``) and the key.
    """
    try:
        return task_options(tasktype)
    except ValueError as exc:
        raise DefinitionError(f"{func.__module__}.{func.__qualname__}: {exc}") from None


def _check_decorated(func: object, decorator: str) -> None:
    """Refuse what cannot be a published method, saying what to do."""
    if isinstance(func, staticmethod | classmethod | property):
        kind = type(func).__name__
        raise DefinitionError(
            f"{decorator} cannot decorate a {kind} ({getattr(func, '__func__', func)!r}): "
            f"Ladon calls published methods on an instance; drop @{kind} and take self"
        )
    if not inspect.isfunction(func):
        raise DefinitionError(
            f"{decorator} must decorate a function defined in a class, not {func!r}"
        )
    if "." not in func.__qualname__:
        raise DefinitionError(
            f"{decorator} decorates methods of a service class, and "
            f"{func.__module__}.{func.__qualname__} is not defined in a class: "
            "move it into a class and serve that class"
        )


class CallbackSpec:
    """What ``@callback_method`` recorded: the instance attribute holding the
    callable whose signature the method publishes, and declared types.

    .. versionadded:: 2.0
    """

    __slots__ = (
        "func",
        "attr",
        "argtypes",
        "rtype",
        "encoding",
        "allow_unsafe_conversion",
        "tasktype",
        "options",
        "task_options",
        "access",
    )

    def __init__(
        self,
        func: Callable[..., Any],
        attr: str,
        argtypes: tuple[object, ...],
        rtype: object,
        encoding: str,
        allow_unsafe_conversion: bool,
        tasktype: bool,
        options: dict[str, Any],
        task_options: TaskOptions = DEFAULT_TASK_OPTIONS,
        access: Access | None = None,
    ) -> None:
        self.func = func
        self.attr = attr
        self.access = access
        self.argtypes = argtypes
        self.rtype = rtype
        self.encoding = encoding
        self.allow_unsafe_conversion = allow_unsafe_conversion
        self.tasktype = tasktype
        self.options = options
        self.task_options = task_options

    def bind(self, owner: object, service: str, method: str) -> MethodSpec:
        """The :class:`MethodSpec` of the callable that ``owner`` (a served
        instance) holds in the attribute.

        :raises DefinitionError: the attribute is missing or not callable,
            or the callable cannot be published; the message names the
            service, the method and what is wrong.
        """
        where = f"service {service}, method {method}"
        if isinstance(owner, type):
            raise DefinitionError(
                f"{where}: @callback_method({self.attr!r}) publishes the callable a configured "
                f"instance holds; serve an instance of {owner.__qualname__}, not the class"
            )
        target = getattr(owner, self.attr, _MISSING)
        if target is _MISSING:
            raise DefinitionError(
                f"{where}: the instance has no attribute {self.attr!r}, which "
                "@callback_method names; set it (e.g. in __init__) to the callable to publish"
            )
        if not callable(target):
            raise DefinitionError(
                f"{where}: attribute {self.attr!r} is a {type(target).__name__}, not a callable"
            )
        name = getattr(target, "__qualname__", None) or type(target).__qualname__
        spec = MethodSpec(
            target,
            self.argtypes,
            self.rtype,
            self.encoding,
            self.allow_unsafe_conversion,
            self.tasktype,
            dict(self.options),
            has_self=False,
            label=f"{where} (callback {name} in {self.attr!r})",
            task_options=self.task_options,
            access=self.access,
        )
        spec.resolve()
        return spec


def callback_method(
    attr: str,
    *argtypes: object,
    rtype: object = _MISSING,
    encoding: str = "UTF-8",
    allow_unsafe_conversion: bool = False,
    tasktype: bool | dict[str, Any] = False,
    access: object = None,
) -> Callable[[F], F]:
    """Publish a method whose parameters, types, defaults and docs are those
    of a callable each served instance holds in its attribute ``attr``::

        class ServiceBase:
            def __init__(self, service_name, config_callback):
                self.service_name = service_name
                self.config_callback = config_callback

            @callback_method("config_callback")
            def configure(self, *args, **kw):
                return self.config_callback(*args, **kw)

    Each instance then publishes its own ``configure`` signature; calls
    are checked against it and the converted arguments are passed to the
    method positionally, in the callable's parameter order. Types come from
    the callable's annotations, or from ``argtypes``/``rtype`` given here.

    :param attr: the instance attribute holding the callable.
    :param access: who may call the method (as for :func:`ladonize`).
    :raises DefinitionError: (when the application is built) the attribute is
        missing, not callable, or its parameters have no usable types.

    .. versionadded:: 2.0
    """
    if not isinstance(attr, str) or not attr:
        raise DefinitionError(
            "@callback_method needs the name of the attribute holding the callable"
        )
    is_task = _is_task(tasktype, {})
    rule = None if access is None else access_rule(access, "@callback_method(access=...)")

    def decorator(func: F) -> F:
        _check_decorated(func, "@callback_method")
        func._ladon_spec = CallbackSpec(  # type: ignore[attr-defined]
            func,
            attr,
            argtypes,
            rtype,
            encoding,
            allow_unsafe_conversion,
            is_task,
            {},
            task_options=_task_options(tasktype, func),
            access=rule,
        )
        return func

    return decorator


def get_spec(obj: object) -> MethodSpec | CallbackSpec | None:
    """The spec a decorator left on a function, else ``None``."""
    try:
        spec = getattr(obj, "_ladon_spec", None)
    except Exception:  # an attribute that refuses to be read (a LocalProxy...)
        return None
    return spec if isinstance(spec, MethodSpec | CallbackSpec) else None
