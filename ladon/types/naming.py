"""The names the descriptions give declared types: a LadonType or an enum
its class name, a list ``ArrayOf<item>``, a constrained value
``<base>_<tag>`` (WSDL, OpenAPI, OpenRPC and JSON-WSP name them so), and
which names one service's descriptions hold (so that the registry can
refuse two types of one name).

.. versionadded:: 2.0
"""

from __future__ import annotations

import datetime
import decimal
import enum
import hashlib
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from types import MappingProxyType

from .constraints import Constraints
from .ladontype import LadonType
from .spec import Constrained
from .spec import ListOf
from .spec import TypeSpec

_PY_NAMES: Mapping[type, str] = MappingProxyType(
    {datetime.datetime: "datetime", datetime.date: "date", decimal.Decimal: "Decimal"}
)


def rules_tag(constraints: Constraints) -> str:
    """A short name for a set of constraints, stable across runs (the list
    types of constrained items need names of their own)."""
    return hashlib.sha256(repr(constraints).encode()).hexdigest()[:8]


def item_name(spec: TypeSpec) -> str:
    """The part of an ``ArrayOf...`` name that names the item type:
    ``int``, ``Point``, ``Color`` (an enum), ``int_1a2b3c4d`` (an int with
    constraints)."""
    if isinstance(spec, Constrained):
        if spec.enum is not None:
            return spec.enum.__name__
        if isinstance(spec.base, ListOf):
            return array_name(spec)
        return f"{item_name(spec.base)}_{rules_tag(spec.constraints)}"
    if isinstance(spec, ListOf):
        return array_name(spec)
    return _PY_NAMES.get(spec, spec.__name__)


def array_name(spec: ListOf | Constrained) -> str:
    """``ArrayOf<PythonClassName>``, as Ladon 1.0 named list types in WSDL
    (a list with a length rule: ``ArrayOfint_1a2b3c4d``)."""
    if isinstance(spec, Constrained):
        assert isinstance(spec.base, ListOf)
        return f"{array_name(spec.base)}_{rules_tag(spec.constraints)}"
    return "ArrayOf" + item_name(spec.item)


#: What a name of :func:`described_names` stands for: a class (a LadonType
#: or an enum), or a list or constrained spec (a type the WSDL generates).
Named = type[LadonType] | type[enum.Enum] | ListOf | Constrained


def described_names(
    types: Iterable[type[LadonType]], specs: Iterable[TypeSpec]
) -> Iterator[tuple[str, Named]]:
    """Every named type the descriptions of a service hold, with its name:
    the LadonTypes ``types`` (all those the service reaches), and the
    enums, lists and constrained values of ``specs`` (its parameters and
    results) and of the fields of ``types``. A spec may come more than once.
    """
    for t in types:
        yield t.__name__, t

    def visit(spec: TypeSpec) -> Iterator[tuple[str, Named]]:
        if isinstance(spec, ListOf):
            yield from visit(spec.item)
            yield array_name(spec), spec
        elif isinstance(spec, Constrained):
            if spec.enum is not None:
                yield spec.enum.__name__, spec.enum
                return
            yield from visit(spec.base)
            yield (array_name(spec) if isinstance(spec.base, ListOf) else item_name(spec)), spec

    for spec in specs:
        yield from visit(spec)
    for t in types:
        for f in t.ladon_type_info().fields:
            yield from visit(f.type)
