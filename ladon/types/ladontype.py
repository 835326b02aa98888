"""``LadonType``: structured types made of named, typed fields.

Fields are declared as class attributes, in any of the Ladon 1.0 forms::

    class Item(LadonType):
        name = str                          # mandatory
        tags = [str]                        # list, always optional
        price = {'type': float, 'nullable': True, 'doc': 'EUR'}

or with annotations::

    class Item(LadonType):
        name: str
        tags: list[str]
        price: float | None = None

The declaration is compiled once into a :class:`TypeInfo` kept on the class.
Fields are always listed (and sent) in alphabetical order, as Ladon 1.0 did.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any
from typing import ClassVar

from ..exceptions.base import DefinitionError
from ..exceptions.ladonizer import DefaultArgTypeMismatch
from .constraints import DICT_KEYS
from .constraints import from_dict
from .spec import NO_DEFAULT
from .spec import ListOf
from .spec import Slot
from .spec import check_default_rules
from .spec import constrain
from .spec import leaf_of
from .spec import matches
from .spec import normalize
from .spec import split_optional

FILTER_KINDS = ("incoming_raw", "incoming", "outgoing", "outgoing_raw")


@dataclass(frozen=True, slots=True)
class FieldInfo(Slot):
    """One field of a :class:`LadonType`: a client may leave it out when it
    has a default, is a list (``[]``) or is nullable (``None``).

    .. versionadded:: 2.0
    """

    filters: Mapping[str, tuple[Callable[[Any], Any], ...]] = dc_field(default_factory=dict)

    @property
    def optional(self) -> bool:
        """A client may leave the field out."""
        return self.has_default or self.is_list or self.nullable


@dataclass(frozen=True, slots=True)
class TypeInfo:
    """The compiled description of a :class:`LadonType` subclass.

    .. versionadded:: 2.0
    """

    cls: type[LadonType]
    name: str
    fields: tuple[FieldInfo, ...]
    doc: str
    #: (name, default) of the fields whose default is a list: each instance
    #: gets its own copy (a class attribute would be shared by them all)
    list_defaults: tuple[tuple[str, list[Any]], ...] = ()

    def dependencies(self) -> list[type[LadonType]]:
        """LadonTypes used by the fields, direct ones only."""
        out: list[type[LadonType]] = []
        for f in self.fields:
            spec = leaf_of(f.type)
            if isinstance(spec, type) and issubclass(spec, LadonType) and spec not in out:
                out.append(spec)
        return out


def _doc_lines(doc: object) -> tuple[str, ...]:
    if isinstance(doc, str):
        return tuple(doc.splitlines())
    if isinstance(doc, (list, tuple)):
        return tuple(str(d) for d in doc)
    return ()


def _dict_field(cls: type, name: str, decl: dict[str, Any]) -> FieldInfo:
    where = f"{cls.__qualname__}.{name}"
    if "type" not in decl:
        raise DefinitionError(
            f"{where}: a field declared as a dict needs a 'type' key, e.g. "
            "{'type': str, 'nullable': True}"
        )
    unknown = set(decl) - {"type", "doc", "nullable", "default", "filters", *DICT_KEYS}
    if unknown:
        raise DefinitionError(f"{where}: unknown field option(s) {sorted(unknown)}")
    spec = constrain(normalize(decl["type"], where), from_dict(decl, where), where)
    nullable = bool(decl.get("nullable", False))
    default = decl.get("default", NO_DEFAULT)
    if default is not NO_DEFAULT and not ((default is None and nullable) or matches(spec, default)):
        check_default_rules(spec, default, where)
        raise DefaultArgTypeMismatch(
            f"{where}: default {default!r} is not of the field's type {decl['type']!r}"
        )
    filters_decl = decl.get("filters", {}) or {}
    if not isinstance(filters_decl, dict) or set(filters_decl) - set(FILTER_KINDS):
        raise DefinitionError(f"{where}: 'filters' must be a dict with keys among {FILTER_KINDS}")
    filters: dict[str, tuple[Callable[[Any], Any], ...]] = {}
    for kind, funcs in filters_decl.items():
        funcs = tuple(funcs) if isinstance(funcs, (list, tuple)) else (funcs,)
        if not all(callable(f) for f in funcs):
            raise DefinitionError(f"{where}: filters[{kind!r}] must be callables")
        filters[kind] = funcs
    return FieldInfo(name, spec, nullable, default, _doc_lines(decl.get("doc")), filters)


def _legacy_declaration(value: object) -> bool:
    """Whether a class attribute under an annotation is a Ladon 1.0
    declaration (``[str]``, ``{"type": int, ...}``), not a default value
    (``["a"]``, ``[]``: a list field's default, kept)."""
    if isinstance(value, dict):
        return True
    return isinstance(value, list) and len(value) == 1 and isinstance(value[0], type | list)


def _annotated_field(cls: type, name: str, hint: object) -> FieldInfo:
    where = f"{cls.__qualname__}.{name}"
    inner, nullable = split_optional(hint)
    spec = normalize(inner, where)
    default = inspect.getattr_static(cls, name, NO_DEFAULT)
    if default is inner or _legacy_declaration(default):
        default = NO_DEFAULT  # a legacy declaration sitting under an annotation
    elif isinstance(spec, ListOf) and default == []:
        default = NO_DEFAULT  # a plain list's own missing value: described as before
    if default is not NO_DEFAULT and not ((default is None and nullable) or matches(spec, default)):
        check_default_rules(spec, default, where)
        raise DefaultArgTypeMismatch(f"{where}: default {default!r} is not of type {hint!r}")
    return FieldInfo(name, spec, nullable, default)


def _compile(cls: type[LadonType]) -> TypeInfo:
    hints: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if klass is LadonType or klass is object or "__annotations__" not in vars(klass):
            continue
        hints.update(typing.get_type_hints(klass, include_extras=True))
    fields: dict[str, FieldInfo] = {}
    class_vars: set[str] = set()
    for name, hint in hints.items():
        if typing.get_origin(hint) is ClassVar or hint is ClassVar:
            class_vars.add(name)
        elif not name.startswith("_"):
            fields[name] = _annotated_field(cls, name, hint)
    base_names = set(dir(LadonType)) | class_vars
    for name in dir(cls):
        if name.startswith("_") or name in base_names or name in fields:
            continue
        decl = inspect.getattr_static(cls, name)
        if inspect.isroutine(decl) or isinstance(decl, (property, classmethod, staticmethod)):
            continue
        where = f"{cls.__qualname__}.{name}"
        if isinstance(decl, dict):
            fields[name] = _dict_field(cls, name, decl)
        elif isinstance(decl, (type, list)) or typing.get_origin(decl) is not None:
            fields[name] = FieldInfo(name, normalize(decl, where))
        else:
            raise DefinitionError(
                f"{where}: {decl!r} is not a field declaration; write a type (str, [int], "
                "OtherType) or a dict like {'type': str, 'default': 'x'}"
            )
    ordered = tuple(fields[n] for n in sorted(fields))
    own_doc = cls.__dict__.get("__doc__")
    doc = inspect.cleandoc(own_doc) if isinstance(own_doc, str) else ""
    list_defaults = tuple(
        (f.name, f.default) for f in ordered if f.has_default and type(f.default) is list
    )
    return TypeInfo(cls, cls.__name__, ordered, doc, list_defaults)


class LadonType:
    """Base class of structured types.

    Service code creates instances with no arguments and sets attributes, or
    passes the fields as keywords: ``Point(x=1, y=2)``.

    .. versionadded:: 2.0
    """

    _ladon_is_type: ClassVar[bool] = True
    _ladon_info: ClassVar[TypeInfo | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._ladon_info = None
        try:
            cls._ladon_info = _compile(cls)
        except NameError:
            pass  # an annotation names a class defined later; compiled on first use

    @classmethod
    def ladon_type_info(cls) -> TypeInfo:
        """The compiled field description of this class."""
        info = cls.__dict__.get("_ladon_info")
        if info is None:
            try:
                info = _compile(cls)
            except NameError as exc:
                raise DefinitionError(
                    f"{cls.__qualname__}: cannot resolve annotation: {exc}"
                ) from exc
            cls._ladon_info = info
        return info

    def __init__(
        self,
        prime_dict: Mapping[str, Any] | None = None,
        tc: object = None,
        export_dict: object = None,
        **values: Any,
    ) -> None:
        info = type(self).ladon_type_info()
        names = {f.name for f in info.fields}
        if prime_dict is not None:
            from .convert import Options
            from .convert import load

            primed = load(type(self), prime_dict, type(self).__name__, Options())
            for name in names:
                setattr(self, name, getattr(primed, name))
        for name, value in values.items():
            if name not in names:
                raise TypeError(f"{type(self).__name__} has no field {name!r}")
            setattr(self, name, value)
        for name, default in info.list_defaults:
            if name not in self.__dict__:
                setattr(self, name, list(default))

    def _field_value(self, f: FieldInfo) -> object:
        if f.name in self.__dict__:
            return self.__dict__[f.name]
        return f.missing_value()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        try:
            return all(
                self._field_value(f) == other._field_value(f)
                for f in type(self).ladon_type_info().fields
            )
        except LookupError:
            return self is other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        parts = []
        for f in type(self).ladon_type_info().fields:
            if f.name in self.__dict__:
                parts.append(f"{f.name}={self.__dict__[f.name]!r}")
        return f"{type(self).__name__}({', '.join(parts)})"
