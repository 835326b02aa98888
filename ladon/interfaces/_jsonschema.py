"""JSON Schema (2020-12, as OpenAPI 3.1 and OpenRPC use it) of the service
model: one schema per declared type, the declared constraints as keywords.

Values are described as the strict JSON of the ``http`` interface takes
and every JSON interface sends them: ``int`` is ``integer``, ``float`` is
``number``, ``Decimal`` a string of digits (so exact values survive JSON),
dates and times ISO 8601 strings, an enum a named schema of its values.

.. versionadded:: 2.0
"""

from __future__ import annotations

import datetime
import decimal
import enum
import inspect
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

from ..ladonizer.model import MethodInfo
from ..types.constraints import json_schema_keywords
from ..types.convert import Options
from ..types.convert import dump
from ..types.ladontype import LadonType
from ..types.spec import Constrained
from ..types.spec import ListOf
from ..types.spec import Slot
from ..types.spec import TypeSpec
from ..types.spec import is_attachment

#: The JSON Schema of each primitive.
PRIMITIVE_SCHEMAS: dict[type, dict[str, Any]] = {
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    str: {"type": "string"},
    bytes: {"type": "string"},
    datetime.datetime: {"type": "string", "format": "date-time"},
    datetime.date: {"type": "string", "format": "date"},
    # xsd:decimal's lexical space; the blanks are XML's four (ECMA 262's \s
    # also takes no-break spaces and line separators, which Ladon refuses)
    decimal.Decimal: {
        "type": "string",
        "pattern": r"^[ \t\n\r]*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)[ \t\n\r]*$",
    },
}
#: An attachment (a file part of a multipart/form-data request, or the
#: whole body of an answer).
ATTACHMENT_SCHEMA: dict[str, Any] = {
    "type": "string",
    "format": "binary",
    "contentMediaType": "application/octet-stream",
}

Ref = Callable[[str], str]


def _doc(lines: Iterable[str]) -> str:
    return "\n".join(lines).strip()


class SchemaBuilder:
    """Builds the schemas of one service's types, collecting the named
    ones (LadonTypes and enums) as components.

    :param ref: the ``$ref`` of a component by name, e.g.
        ``"#/components/schemas/{}".format``.
    :param prefix: put before every component name (the catalog document
        names ``Calc.Point`` and ``Shop.Point`` apart).
    """

    def __init__(self, ref: Ref, prefix: str = "") -> None:
        self.ref = ref
        self.prefix = prefix
        self.components: dict[str, dict[str, Any]] = {}

    def name_of(self, named: type) -> str:
        return self.prefix + named.__name__

    def schema(self, spec: TypeSpec, nullable: bool = False) -> dict[str, Any]:
        """The schema of values of ``spec`` (``null`` too when nullable)."""
        out = self._schema(spec)
        if nullable:
            return {"anyOf": [out, {"type": "null"}]}
        return out

    def _schema(self, spec: TypeSpec) -> dict[str, Any]:
        if isinstance(spec, Constrained):
            if spec.enum is not None:
                return {"$ref": self.ref(self._enum(spec))}
            out = self._schema(spec.base)
            is_list = isinstance(spec.base, ListOf)
            keywords = json_schema_keywords(spec.constraints, is_list)
            if spec.base is decimal.Decimal:
                # NOTE: a Decimal travels as a string; JSON Schema bounds
                # apply to numbers only: they are published as extensions.
                keywords = {f"x-{k}": v for k, v in keywords.items()}
            return {**out, **keywords}
        if isinstance(spec, ListOf):
            return {"type": "array", "items": self._schema(spec.item)}
        if isinstance(spec, type) and issubclass(spec, LadonType):
            return {"$ref": self.ref(self._object(spec))}
        if is_attachment(spec):
            return dict(ATTACHMENT_SCHEMA)
        return dict(PRIMITIVE_SCHEMAS[spec])

    def _enum(self, spec: Constrained) -> str:
        assert spec.enum is not None
        name = self.name_of(spec.enum)
        if name not in self.components:
            base = PRIMITIVE_SCHEMAS[spec.base]  # type: ignore[index]
            schema: dict[str, Any] = {**base, "enum": list(spec.constraints.choices or ())}
            doc = spec.enum.__doc__
            if doc and doc != enum.Enum.__doc__ and "An enumeration." not in doc:
                schema["description"] = inspect.cleandoc(doc)
            self.components[name] = schema
        return name

    def _object(self, cls: type[LadonType]) -> str:
        name = self.name_of(cls)
        if name in self.components:
            return name
        info = cls.ladon_type_info()
        schema: dict[str, Any] = {"type": "object"}
        self.components[name] = schema  # before the fields: types may refer to themselves
        if info.doc:
            schema["description"] = info.doc
        schema["properties"] = {f.name: self.slot(f) for f in info.fields}
        required = [f.name for f in info.fields if not f.optional]
        if required:
            schema["required"] = required
        return name

    def slot(self, s: Slot) -> dict[str, Any]:
        """The schema of a parameter or field, with its docs and default."""
        out = self.schema(s.type, s.nullable)
        if s.doc:
            out["description"] = _doc(s.doc)  # beside a $ref too: JSON Schema 2020-12
        if s.has_default:
            try:
                out["default"] = dump(s.type, s.default, s.name, Options(), s.nullable)
            except Exception:
                pass
        return out

    def params_object(self, method: MethodInfo) -> dict[str, Any]:
        """The JSON object of a method's named arguments."""
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {p.name: self.slot(p) for p in method.params},
            "additionalProperties": False,
        }
        required = [p.name for p in method.params if not p.optional]
        if required:
            schema["required"] = required
        return schema

    def result(self, method: MethodInfo) -> dict[str, Any]:
        return self.schema(method.rtype, method.rtype_nullable)
