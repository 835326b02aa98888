"""Type specifications: what a parameter, field or result may hold.

A spec is one of

* a primitive Python type (``int``, ``float``, ``bool``, ``str``, ``bytes``,
  ``datetime.datetime``, ``datetime.date``, ``decimal.Decimal``),
* :class:`~ladon.types.attachment.attachment`,
* a :class:`~ladon.types.ladontype.LadonType` subclass,
* :class:`ListOf` of a spec (written ``[T]`` or ``list[T]`` by service code),
* :class:`Constrained`: a primitive or a list with declared constraints
  (``Annotated[int, Ge(1)]``, ``Literal["a", "b"]``, an ``enum.Enum``
  subclass; see :mod:`ladon.types.constraints`).
"""

from __future__ import annotations

import datetime
import decimal
import enum
import types
import typing
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Final

from ..exceptions.ladonizer import DefaultArgTypeMismatch
from ..exceptions.ladonizer import NeedToDefineParseTimeException
from .constraints import Check
from .constraints import ConstraintError
from .constraints import Constraints
from .constraints import compile_constraints
from .constraints import from_metadata

PRIMITIVES: tuple[type, ...] = (
    int,
    float,
    bool,
    str,
    bytes,
    datetime.datetime,
    datetime.date,
    decimal.Decimal,
)


@dataclass(frozen=True, slots=True)
class ListOf:
    """A list whose items all have the spec ``item``.

    .. versionadded:: 2.0
    """

    item: TypeSpec


@dataclass(frozen=True, slots=True)
class Constrained:
    """A primitive (or a list) whose values must also keep ``constraints``.

    :param base: the primitive type (``int``, ``str``...) or the
        :class:`ListOf` the rules apply to.
    :param constraints: the rules.
    :param enum: the ``enum.Enum`` subclass the values stand for (methods
        get and return its members; the wire carries their values).

    Build it with :func:`constrain`, which checks the rules.

    .. versionadded:: 2.0
    """

    base: type | ListOf
    constraints: Constraints
    enum: type[enum.Enum] | None = None
    check: Check = field(default=lambda v: None, compare=False, hash=False, repr=False)

    @property
    def name(self) -> str:
        """The enum's name, or the base type's."""
        return self.enum.__name__ if self.enum is not None else type_name(self.base)


TypeSpec = type | ListOf | Constrained

_NUMBERS = (int, float, decimal.Decimal)


def constrain(
    base: TypeSpec, constraints: Constraints, where: str, enum_cls: type[enum.Enum] | None = None
) -> TypeSpec:
    """``base`` with ``constraints`` (merged with those it already has).

    :raises ConstraintError: a rule does not apply to ``base`` or cannot hold.
    """
    if isinstance(base, Constrained):
        if base.enum is not None and constraints:
            raise ConstraintError(
                f"{where}: {base.enum.__name__} is an enumeration; its values are the only rule"
            )
        enum_cls = base.enum
        constraints = base.constraints.merged(constraints, where)
        base = base.base
    if not constraints:
        return base
    if isinstance(base, ListOf):
        kind = "list"
    elif enum_cls is not None:
        kind = "choice"
    elif base in _NUMBERS:
        kind = "number"
    elif base is str:
        kind = "text"
    else:
        kind = "other"
    compiled = compile_constraints(
        constraints, kind, where, integral=base is int, is_list=kind == "list", base=base
    )
    return Constrained(base, constraints, enum_cls, compiled.check)


def _enum_spec(cls: type[enum.Enum], where: str) -> Constrained:
    values = tuple(m.value for m in cls)
    kinds = {type(v) for v in values}
    if kinds <= {str}:
        base: type = str
    elif kinds <= {int}:
        base = int
    else:
        raise NeedToDefineParseTimeException(
            f"{where}: the values of {cls.__name__} must be all str or all int, "
            f"got {sorted(k.__name__ for k in kinds)}"
        )
    spec = constrain(base, Constraints(choices=values), where, cls)
    assert isinstance(spec, Constrained)
    return spec


def _literal_spec(choices: tuple[object, ...], where: str) -> TypeSpec:
    kinds = {type(v) for v in choices}
    if kinds <= {str}:
        base: type = str
    elif kinds <= {int}:
        base = int
    else:
        raise NeedToDefineParseTimeException(
            f"{where}: Literal values must be all str or all int, got {choices!r}"
        )
    return constrain(base, Constraints(choices=tuple(dict.fromkeys(choices))), where)


class _NoDefault(enum.Enum):
    NO_DEFAULT = "no default"

    def __repr__(self) -> str:
        return "NO_DEFAULT"


#: The ``default`` of a parameter or field that has none.
NO_DEFAULT: Final = _NoDefault.NO_DEFAULT


@dataclass(frozen=True, slots=True)
class Slot:
    """What parameters and LadonType fields share: a name, a type, whether
    ``None`` is a valid value, a default, documentation.

    ``optional`` has one meaning for both: *a client may leave it out*, and
    :meth:`missing_value` is what it then takes. The rules differ, as in
    Ladon 1.0: a parameter may be left out when it has a default
    (:class:`~ladon.ladonizer.model.ParamInfo`); a field also when it is a
    list (``[]``) or nullable (``None``)
    (:class:`~ladon.types.ladontype.FieldInfo`).

    .. versionadded:: 2.0
    """

    name: str
    type: TypeSpec
    nullable: bool = False
    default: Any = NO_DEFAULT
    doc: tuple[str, ...] = ()

    @property
    def has_default(self) -> bool:
        return self.default is not NO_DEFAULT

    @property
    def is_list(self) -> bool:
        return isinstance(self.type, ListOf)

    @property
    def optional(self) -> bool:
        """A client may leave it out (see the class docs for the rules)."""
        return self.has_default

    def missing_value(self) -> object:
        """The value it takes when a client leaves it out (or a service
        leaves a field unset).

        :raises LookupError: it is mandatory.
        """
        if self.has_default:
            default = self.default
            # NOTE: a list default is copied: what a call does to it stays in that call
            return list(default) if type(default) is list else default
        if self.optional:
            return [] if self.is_list else None
        raise LookupError(self.name)


def base_of(spec: TypeSpec) -> type | ListOf:
    """``spec`` without its constraints (the type its values have on the wire)."""
    return spec.base if isinstance(spec, Constrained) else spec


def leaf_of(spec: TypeSpec) -> type:
    """The type at the bottom of lists and constraints (``Point`` for
    ``list[Annotated[Point, ...]]``; an enum's base for an enum)."""
    while not isinstance(spec, type):
        spec = spec.item if isinstance(spec, ListOf) else spec.base
    return spec


def is_ladontype(spec: object) -> bool:
    """True for a :class:`LadonType` subclass."""
    return isinstance(spec, type) and getattr(spec, "_ladon_is_type", False) is True


def is_attachment(spec: object) -> bool:
    """True for the attachment type."""
    return isinstance(spec, type) and getattr(spec, "_ladon_is_attachment", False) is True


def type_name(spec: TypeSpec) -> str:
    """A short readable name: ``int``, ``[Point]``."""
    if isinstance(spec, ListOf):
        return f"[{type_name(spec.item)}]"
    if isinstance(spec, Constrained):
        return spec.name
    if spec is datetime.datetime:
        return "datetime"
    if spec is decimal.Decimal:
        return "Decimal"
    return spec.__name__


def normalize(declared: object, where: str) -> TypeSpec:
    """Turn a declared type (``int``, ``[Point]``, ``list[int]``) into a spec.

    :param declared: what the service code wrote.
    :param where: where it was written, for the error message.
    :raises DefinitionError: for anything Ladon cannot serve.
    """
    if isinstance(declared, ListOf | Constrained):
        return declared
    origin = typing.get_origin(declared)
    if origin is typing.Annotated:
        inner, *metadata = typing.get_args(declared)
        return constrain(normalize(inner, where), from_metadata(metadata, where), where)
    if origin is typing.Literal:
        return _literal_spec(typing.get_args(declared), where)
    if isinstance(declared, type) and issubclass(declared, enum.Enum):
        return _enum_spec(declared, where)
    if isinstance(declared, list):
        if len(declared) != 1:
            raise NeedToDefineParseTimeException(
                f"{where}: a list type must hold exactly one item type, like [int]; "
                f"got {declared!r}"
            )
        return ListOf(normalize(declared[0], where))
    if origin in (list, typing.List):  # noqa: UP006 - typing.List is what users may write
        (arg,) = typing.get_args(declared) or (None,)
        if arg is None:
            raise NeedToDefineParseTimeException(
                f"{where}: list needs an item type, like list[int]"
            )
        return ListOf(normalize(arg, where))
    if isinstance(declared, type) and (
        declared in PRIMITIVES or is_ladontype(declared) or is_attachment(declared)
    ):
        return declared
    raise NeedToDefineParseTimeException(
        f"{where}: unsupported type {declared!r}; use int, float, bool, str, bytes, "
        "datetime, date, Decimal, attachment, a LadonType subclass, an Enum, a Literal, "
        "or a list of one of these (Annotated with constraints)"
    )


def contains_attachment(spec: TypeSpec) -> bool:
    """Whether values of ``spec`` may hold attachments (directly, in lists
    or in LadonType fields, at any depth)."""
    seen: set[type] = set()

    def visit(spec: TypeSpec) -> bool:
        s = leaf_of(spec)
        if is_attachment(s):
            return True
        if is_ladontype(s) and s not in seen:
            seen.add(s)
            return any(visit(f.type) for f in s.ladon_type_info().fields)  # type: ignore[attr-defined]
        return False

    return visit(spec)


def split_optional(annotation: object) -> tuple[object, bool]:
    """Split ``T | None`` / ``Optional[T]`` into ``(T, True)``; else ``(T, False)``.
    ``Annotated[T | None, ...]`` gives ``(Annotated[T, ...], True)``."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        inner, *metadata = typing.get_args(annotation)
        inner, nullable = split_optional(inner)
        if nullable:
            annotated = (inner, *metadata)
            return typing.Annotated[annotated], True
        return annotation, False
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(annotation)) == 2:
            return args[0], True
    return annotation, False


class DefaultBreaksRules(ConstraintError, DefaultArgTypeMismatch):
    """A default value of the right type breaks the declared rules.

    .. versionadded:: 2.0
    """


def check_default_rules(spec: TypeSpec, value: object, where: str) -> None:
    """Say which rule a default of ``spec``'s type breaks (:func:`matches`
    only says that it does not fit).

    :raises DefaultBreaksRules: it breaks one.

    .. versionadded:: 2.0
    """
    if isinstance(spec, Constrained) and spec.enum is None and matches(spec.base, value):
        rule = spec.check(value)
        if rule is not None:
            raise DefaultBreaksRules(f"{where}: default {value!r} breaks its rules: {rule}")


def matches(spec: TypeSpec, value: object) -> bool:
    """Whether ``value`` is a valid Python value for ``spec`` (used to check
    defaults). ``bool`` is not an ``int`` and vice versa."""
    if isinstance(spec, ListOf):
        return isinstance(value, (list, tuple)) and all(matches(spec.item, v) for v in value)
    if isinstance(spec, Constrained):
        if spec.enum is not None and isinstance(value, spec.enum):
            return True
        return matches(spec.base, value) and spec.check(value) is None
    if spec is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if spec is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if spec is datetime.date:
        return isinstance(value, datetime.date) and not isinstance(value, datetime.datetime)
    return isinstance(value, spec)
