"""The strict JSON typing of :attr:`ladon.types.convert.Options.strict`:
each value must have the JSON type its published JSON Schema names.

.. versionadded:: 2.0
"""

from __future__ import annotations

import datetime
import decimal

from ..exceptions.service import ArgumentError
from ._describe import describe_value

#: The JSON types :attr:`Options.strict` takes for each primitive.
_STRICT_TYPES: dict[type, tuple[type, ...]] = {
    int: (int,),
    float: (int, float),
    bool: (bool,),
    str: (str,),
    bytes: (str,),
    datetime.datetime: (str,),
    datetime.date: (str,),
    decimal.Decimal: (str,),
}
_STRICT_NAMES = {
    int: "an integer",
    float: "a number",
    bool: "true or false",
    datetime.datetime: "a date-time string",
    datetime.date: "a date string",
    decimal.Decimal: "a decimal number as a string",
}


def strict_json(spec: type, value: object, path: str) -> object:
    """``value`` when it has the JSON type the schema of ``spec`` names
    (an integral float counts as an integer, as in JSON Schema).

    :raises ArgumentError: it has another.
    """
    kinds = _STRICT_TYPES[spec]
    if isinstance(value, bool) and spec is not bool:
        ok = False
    elif spec is int and isinstance(value, float):
        if value.is_integer():
            return int(value)
        ok = False
    else:
        ok = isinstance(value, kinds)
    if not ok:
        expected = _STRICT_NAMES.get(spec, "a string")
        raise ArgumentError(path, f"expected {expected}, got {describe_value(value)}")
    return value
