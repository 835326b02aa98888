"""Finding services and building the service model.

Services are given to the application as module names (imported after the
``path_list`` directories are appended to ``sys.path``, as Ladon 1.0 did),
file or directory paths, modules, classes or configured instances. A class
publishes every ``@ladonize`` method found along its MRO: base classes
first, definition order within a class; a subclass override wins.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import os
import re
import sys
import types
from collections.abc import Iterable
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..exceptions.base import DefinitionError
from ..types.constraints import Constraints
from ..types.ladontype import LadonType
from ..types.naming import Named
from ..types.naming import described_names
from ..types.spec import TypeSpec
from ..types.spec import constrain
from ..types.spec import leaf_of
from ..types.spec import type_name
from ..types.tasktype import TaskInfoResponse
from ..types.tasktype import TaskProgressResponse
from .access import ANONYMOUS
from .access import Access
from .access import access_rule
from .decorator import CallbackSpec
from .decorator import MethodSpec
from .decorator import get_spec
from .docstrings import parse_docstring
from .model import MethodInfo
from .model import MethodKind
from .model import ParamInfo
from .model import ServiceInfo

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")
#: An absolute URI (``urn:example:geometry``, ``https://example.com/geo``):
#: a scheme, a colon, then no blank.
_NAMESPACE_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+\Z")
#: The target namespace of a service that declares none (``{service}`` is
#: its name): Ladon 1.0's namespace of the ``soap11`` interface.
DEFAULT_NAMESPACE = "urn:{service}"
#: The class (or instance) attribute naming a service's target namespace.
NAMESPACE_ATTR = "ladon_namespace"
TASK_SUFFIXES = ("_progress", "_result", "_cancel", "_wait")


def _import_file(path: Path) -> types.ModuleType:
    path = path.resolve()
    directory = str(path.parent)
    if directory not in sys.path:
        sys.path.append(directory)  # sibling imports work, as with path_list
    name = path.stem
    existing = sys.modules.get(name)
    if existing is not None:
        if getattr(existing, "__file__", None) and Path(existing.__file__ or "").resolve() == path:
            return existing
        name = f"_ladon_services_{abs(hash(str(path))):x}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise DefinitionError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def publishes(cls: type) -> bool:
    """Whether a class has at least one ``@ladonize`` method."""
    return any(get_spec(v) for klass in cls.__mro__ for v in vars(klass).values())


#: A module attribute listing exactly what the module serves (classes and
#: configured instances), instead of every class that publishes methods.
MODULE_SERVICES = "LADON_SERVICES"


def classes_of(module: types.ModuleType) -> list[object]:
    """What ``module`` serves: its ``LADON_SERVICES`` list when it has one,
    else, in the module's order, the classes that publish methods defined
    in it and (as Ladon 1.0, which served every class with a ladonized
    method of the modules imported) those it imports by name (``from a
    import X``, ``from a import *``), each once; but for the bases of its
    own classes and imported classes that cannot be built without
    arguments (templates, served as instances). What is served depends on
    the module's own names only, never on what was imported before.

    :raises DefinitionError: ``LADON_SERVICES`` is not a list or tuple.
    """
    names = vars(module)  # NOTE: not getattr: a module's __getattr__ is not asked
    listed = names.get(MODULE_SERVICES)
    if listed is not None:
        if not isinstance(listed, list | tuple):
            raise DefinitionError(
                f"{module.__name__}.{MODULE_SERVICES} must be a list of classes and "
                f"configured instances, not {type(listed).__name__}"
            )
        return list(listed)
    found: list[type] = []
    for obj in names.values():
        if isinstance(obj, type) and obj not in found and publishes(obj):
            found.append(obj)
    own = [cls for cls in found if cls.__module__ == module.__name__]
    # NOTE: a class the module's own classes extend is their base, not a
    # service of its own
    bases = {base for cls in own for base in cls.__mro__[1:]}
    return [
        cls
        for cls in found
        if cls.__module__ == module.__name__ or (cls not in bases and _constructible(cls))
    ]


def _constructible(cls: type) -> bool:
    try:
        _check_constructible(cls)
    except DefinitionError:
        return False
    return True


_MODULE_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*\Z")


def _is_module(text: str) -> bool:
    """Whether ``text`` names a module or regular package Python can import
    (a folder of the same name in the current directory notwithstanding;
    a plain folder, a namespace package, is served as a folder)."""
    if not _MODULE_NAME.match(text):
        return False
    try:
        spec = importlib.util.find_spec(text)
    except (ImportError, ValueError):
        return False
    return spec is not None and spec.origin not in (None, "namespace")


def _classes_for(item: str | os.PathLike[str]) -> list[object]:
    text = os.fspath(item)
    if isinstance(item, str) and _is_module(text):
        return classes_of(importlib.import_module(text))
    path = Path(text)
    if path.is_dir():
        found: list[object] = []
        for p in sorted(path.glob("*.py")):
            if not p.name.startswith("_"):
                found.extend(classes_of(_import_file(p)))
        return found
    if text.endswith(".py") or path.is_file():
        if not path.is_file():
            raise DefinitionError(f"service file {text!r} does not exist")
        return classes_of(_import_file(path))
    return classes_of(importlib.import_module(text))


def discover(services: object, path_list: str | Sequence[str] | None = None) -> list[object]:
    """Resolve what the application was given into classes and instances.

    :param services: one item or a list of: module names, file or directory
        paths, modules, classes, instances.
    :param path_list: directories appended to ``sys.path`` first.
    """
    if isinstance(path_list, str):
        path_list = [path_list]
    for directory in path_list or ():
        if directory not in sys.path:
            sys.path.append(directory)
    items: Iterable[Any]
    if isinstance(services, (list, tuple)):
        items = services
    else:
        items = [services]
    found: list[object] = []
    for item in items:
        if isinstance(item, (str, os.PathLike, types.ModuleType)):
            served = classes_of(item) if isinstance(item, types.ModuleType) else _classes_for(item)
            # a class that several modules define or import is served once
            found.extend(obj for obj in served if not any(obj is seen for seen in found))
        else:
            found.append(item)
    return found


def _collect_types(specs: Iterable[TypeSpec]) -> tuple[type[LadonType], ...]:
    """Every LadonType reachable from ``specs``, dependencies first."""
    ordered: list[type[LadonType]] = []
    seen: set[type] = set()

    def visit(spec: TypeSpec) -> None:
        spec = leaf_of(spec)
        if not (isinstance(spec, type) and issubclass(spec, LadonType)) or spec in seen:
            return
        seen.add(spec)
        for dep in spec.ladon_type_info().dependencies():
            visit(dep)
        ordered.append(spec)

    for s in specs:
        visit(s)
    return tuple(ordered)


#: The type of ``<task>_wait``'s ``timeout``: seconds, finite and >= 0.
WAIT_TIMEOUT = constrain(float, Constraints(ge=0.0), "timeout")


def _task_methods(info: MethodInfo) -> list[MethodInfo]:
    task_id = (ParamInfo("task_id", str, doc=("The id returned when the task was started.",)),)
    timeout = ParamInfo(
        "timeout",
        WAIT_TIMEOUT,
        doc=(
            "Seconds to wait at most for the task to end (the server caps it;",
            "0 answers at once).",
        ),
    )
    start = MethodInfo(
        **{
            **_fields(info),
            "rtype": TaskInfoResponse,
            "rtype_nullable": False,
            "task_rtype": info.rtype,
            "task_rtype_nullable": info.rtype_nullable,
        },
        kind=MethodKind.TASK_START,
    )
    common = {
        "attr": info.attr,
        "params": task_id,
        "task_of": info.name,
        "encoding": info.encoding,
        "access": info.access,  # whoever may start the task may follow it
    }
    return [
        start,
        MethodInfo(
            name=info.name + "_progress",
            rtype=TaskProgressResponse,
            doc=(f"Progress and state of a task started with {info.name}.",),
            kind=MethodKind.TASK_PROGRESS,
            **common,  # type: ignore[arg-type]
        ),
        MethodInfo(
            name=info.name + "_result",
            rtype=info.rtype,
            rtype_nullable=info.rtype_nullable,
            doc=(f"The result of a task started with {info.name}.",),
            rtype_doc=info.rtype_doc,
            allow_unsafe_conversion=info.allow_unsafe_conversion,
            kind=MethodKind.TASK_RESULT,
            **common,  # type: ignore[arg-type]
        ),
        MethodInfo(
            name=info.name + "_cancel",
            rtype=TaskProgressResponse,
            doc=(f"Ask a task started with {info.name} to stop.",),
            kind=MethodKind.TASK_CANCEL,
            **common,  # type: ignore[arg-type]
        ),
        MethodInfo(
            name=info.name + "_wait",
            rtype=TaskProgressResponse,
            doc=(
                f"Wait until a task started with {info.name} has ended, or at most",
                "timeout seconds; then its progress and state.",
            ),
            kind=MethodKind.TASK_WAIT,
            **{**common, "params": (*task_id, timeout)},  # type: ignore[arg-type]
        ),
    ]


def _fields(info: MethodInfo) -> dict[str, Any]:
    """The constructor arguments of ``info`` but its kind."""
    return {
        name: getattr(info, name)
        for name, f in MethodInfo.__dataclass_fields__.items()
        if f.init and name != "kind"
    }


def method_info(
    attr: str, spec: MethodSpec, doc_of: object = None, access: Access = ANONYMOUS
) -> MethodInfo:
    """Build the published description of one decorated method.

    :param doc_of: where the docstring comes from when not ``spec.func``
        (a callback without a docstring documents through its method).
    :param access: the rule of a method whose decorator gave none.
    """
    params, rtype, rtype_nullable, accepts_kw = spec.resolve()
    text = inspect.getdoc(spec.func) if spec.has_self else _own_doc(spec.func)
    if not text and doc_of is not None:
        text = inspect.getdoc(doc_of)
    doc = parse_docstring(text, [p.name for p in params])
    params = tuple(
        ParamInfo(
            p.name,
            p.type,
            nullable=p.nullable,
            default=p.default,
            doc=tuple(doc.params.get(p.name, ())),
        )
        for p in params
    )
    return MethodInfo(
        name=spec.options.get("override_method_name") or attr,
        attr=attr,
        params=params,
        rtype=rtype,
        rtype_nullable=rtype_nullable,
        doc=tuple(doc.description),
        rtype_doc=tuple(doc.rtype),
        publisher=doc.publisher,
        encoding=spec.encoding,
        allow_unsafe_conversion=spec.allow_unsafe_conversion,
        # a callback method gets its arguments only, never the request extras
        accepts_kw=accepts_kw and spec.has_self,
        task_options=spec.task_options if spec.tasktype else None,
        access=spec.access if spec.access is not None else access,
    )


def _own_doc(func: object) -> str | None:
    """A callback's own docstring: a function's or method's, or the
    ``__call__`` docstring of a callable object (never its class's)."""
    if inspect.isroutine(func):
        return inspect.getdoc(func)
    if isinstance(func, functools.partial):
        return None
    return inspect.getdoc(type(func).__call__) if callable(func) else None


def _specs_of(cls: type) -> dict[str, MethodSpec | CallbackSpec]:
    """The published methods along the MRO (a subclass override wins).

    :raises DefinitionError: a decorated function sits under
        ``@staticmethod``, ``@classmethod`` or ``@property``.
    """
    specs: dict[str, MethodSpec | CallbackSpec] = {}
    for klass in reversed(cls.__mro__):
        for attr, value in vars(klass).items():
            spec = get_spec(value)
            if spec is not None:
                specs[attr] = spec
                continue
            wrapped = (
                value.fget
                if isinstance(value, property)
                else getattr(value, "__func__", None)
                if isinstance(value, staticmethod | classmethod)
                else None
            )
            if wrapped is not None and get_spec(wrapped) is not None:
                kind = type(value).__name__
                raise DefinitionError(
                    f"{klass.__qualname__}.{attr}: @{kind} wraps a published method; "
                    f"Ladon calls published methods on an instance: drop @{kind}"
                )
    return specs


def service_namespace(obj: object, name: str, default: str = DEFAULT_NAMESPACE) -> str:
    """The target namespace of a service: its ``ladon_namespace`` attribute,
    else ``default`` with ``{service}`` replaced by the service name.

    :raises DefinitionError: the namespace is not an absolute URI.

    .. versionadded:: 2.0
    """
    declared = getattr(obj, NAMESPACE_ATTR, None)
    if declared is None:
        where = "the application's namespace"
        value = default.replace("{service}", name)
    else:
        where = f"{name}.{NAMESPACE_ATTR}"
        value = declared
    if not isinstance(value, str) or not _NAMESPACE_RE.match(value):
        raise DefinitionError(
            f"{where} must be an absolute URI such as 'urn:example:{name.lower()}' "
            f"or 'https://example.com/{name.lower()}', not {value!r}"
        )
    return value


#: The class (or instance) attribute giving the access rule of the methods
#: that do not give their own.
CLASS_ACCESS = "ladon_access"


def build_service(
    obj: object,
    number: int = 1,
    default_namespace: str = DEFAULT_NAMESPACE,
    access: Access = ANONYMOUS,
) -> ServiceInfo:
    """Build the :class:`ServiceInfo` of a class or a configured instance.

    :param default_namespace: the target namespace of a service without
        ``ladon_namespace`` (``{service}`` stands for its name).
    :param access: the application's default rule, for the methods that
        give none and whose class has no ``ladon_access``.
    :raises DefinitionError: the declarations are wrong.
    """
    cls = obj if isinstance(obj, type) else type(obj)
    name = getattr(obj, "service_name", None)
    if not isinstance(name, str):
        name = cls.__name__
    if not _NAME_RE.match(name):
        raise DefinitionError(
            f"service name {name!r} ({cls.__qualname__}) is not a valid URL segment"
        )
    specs = _specs_of(cls)
    if not specs:
        given = "the class" if isinstance(obj, type) else "an instance of it"
        raise DefinitionError(
            f"{cls.__qualname__} publishes no method (no @ladonize), yet {given} was given "
            f"as service {name!r}: decorate the methods to publish with @ladonize(...) "
            "or @callback_method(...)"
        )
    declared = getattr(obj, CLASS_ACCESS, None)
    if declared is not None:
        access = access_rule(declared, f"{cls.__qualname__}.{CLASS_ACCESS}")
    methods: dict[str, MethodInfo] = {}
    for attr, spec in specs.items():
        if isinstance(spec, CallbackSpec):
            info = method_info(attr, spec.bind(obj, name, attr), spec.func, access)
        else:
            info = method_info(attr, spec, access=access)
        expanded = _task_methods(info) if spec.tasktype else [info]
        for m in expanded:
            if m.name in methods:
                raise DefinitionError(
                    f"{cls.__qualname__}: method name {m.name!r} is published twice "
                    "(task methods also publish NAME_progress, NAME_result, NAME_cancel and NAME_wait)"
                )
            methods[m.name] = m
    if isinstance(obj, type):
        _check_constructible(obj)
        factory: Any = obj
    else:
        instance = obj

        def factory() -> object:
            return instance

    doc = getattr(obj, "service_doc", None)
    if not isinstance(doc, str):
        doc = inspect.getdoc(cls) or ""
    all_specs: list[TypeSpec] = []
    for m in methods.values():
        all_specs.extend(p.type for p in m.params)
        all_specs.append(m.rtype)
    namespace = service_namespace(obj, name, default_namespace)
    reached = _collect_types(all_specs)
    _check_type_names(name, reached, all_specs)
    return ServiceInfo(name, doc, methods, reached, factory, number, obj, namespace)


def _described(named: Named) -> str:
    if isinstance(named, type):
        return f"{named.__module__}.{named.__qualname__}"
    return f"the type Ladon generates for {type_name(named)}"


def _is_ladons(named: Named) -> bool:
    """Whether Ladon names ``named``: a type it generates, or one of its own
    LadonTypes (the task types)."""
    return not isinstance(named, type) or named.__module__.split(".")[0] == "ladon"


def _check_type_names(
    service: str, classes: Iterable[type[LadonType]], specs: Iterable[TypeSpec]
) -> None:
    """Refuse two types that the service's descriptions would give one name
    (two ``complexType name="Address"`` in a WSDL's schema, one OpenAPI
    component for both): the service's LadonTypes and enums, Ladon's task
    types and the list and constrained types the WSDL generates.

    :raises DefinitionError: naming both and what to rename.
    """
    seen: dict[str, Named] = {}
    for label, named in described_names(classes, specs):
        other = seen.setdefault(label, named)
        if other is named or other == named:
            continue
        ours = [n for n in (other, named) if not _is_ladons(n)]
        fix = (
            f"rename {_described(ours[0])}"
            if len(ours) == 1
            else "rename one of the classes (a class's name is its type's name in the "
            "WSDL, OpenAPI and JSON-WSP descriptions)"
        )
        raise DefinitionError(
            f"service {service!r}: two types are named {label!r} in its descriptions: "
            f"{_described(other)} and {_described(named)}; {fix}"
        )


def _check_constructible(cls: type) -> None:
    try:
        sig = inspect.signature(cls)
    except (TypeError, ValueError):
        return
    required = [
        p.name
        for p in sig.parameters.values()
        if p.default is inspect.Parameter.empty
        and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]
    if required:
        raise DefinitionError(
            f"{cls.__qualname__} needs constructor arguments ({', '.join(required)}); "
            "serve a configured instance instead of the class"
        )


def build_services(
    objects: Iterable[object],
    default_namespace: str = DEFAULT_NAMESPACE,
    access: Access = ANONYMOUS,
) -> list[ServiceInfo]:
    """Build every service; names must be unique (case-insensitively).

    :param default_namespace: the target namespace of services without
        ``ladon_namespace`` (``{service}`` stands for each one's name).
    :param access: the application's default access rule.
    """
    out: list[ServiceInfo] = []
    seen: dict[str, ServiceInfo] = {}
    for number, obj in enumerate(objects, start=1):
        info = build_service(obj, number, default_namespace, access)
        other = seen.get(info.name.lower())
        if other is not None:
            raise DefinitionError(
                f"two services are named {info.name!r} ({other.source!r} and {obj!r}); "
                "give one a different service_name"
            )
        seen[info.name.lower()] = info
        out.append(info)
    return out
