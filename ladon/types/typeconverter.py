"""Ladon 1.0's ``TypeConverter``: what a method with ``**kw`` finds in
``kw['LADON_METHOD_TC']`` to convert values the way the interfaces do.

.. versionadded:: 2.0
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

from .convert import Options
from .convert import dump
from .convert import load
from .spec import normalize


class TypeConverter:
    """Converts between wire text and the Python value of a declared type.

    :param encoding: codec between text and ``bytes``.
    :param allow_unsafe_conversion: coerce wrongly typed values when
        converting to text.
    :param only_strings_to_unicode: kept for Ladon 1.0; no effect.
    """

    def __init__(
        self,
        encoding: str = "UTF-8",
        allow_unsafe_conversion: bool = False,
        only_strings_to_unicode: bool = True,
    ) -> None:
        self.encoding = encoding
        self.allow_unsafe_conversion = allow_unsafe_conversion
        self.only_strings_to_unicode = only_strings_to_unicode
        self._options = Options(encoding, allow_unsafe_conversion)

    def from_unicode_string(
        self,
        val: object,
        typ: object,
        prefilters: Iterable[Callable[[Any], Any]] | None = None,
        postfilters: Iterable[Callable[[Any], Any]] | None = None,
        attr_name: str | None = None,
    ) -> Any:
        """Convert a wire value (usually text) to a value of ``typ``.

        :raises ArgumentError: it does not fit.
        """
        for f in prefilters or ():
            val = f(val)
        value = load(normalize(typ, "TypeConverter"), val, attr_name or "value", self._options)
        for f in postfilters or ():
            value = f(value)
        return value

    def to_unicode_string(
        self,
        val: object,
        expected_typ: object,
        prefilters: Iterable[Callable[[Any], Any]] | None = None,
        postfilters: Iterable[Callable[[Any], Any]] | None = None,
        attr_name: str | None = None,
    ) -> Any:
        """Convert a value of ``expected_typ`` to its text on the wire.

        :raises ResultError: it does not have that type.
        """
        for f in prefilters or ():
            val = f(val)
        spec = normalize(expected_typ, "TypeConverter")
        out = dump(spec, val, attr_name or "value", self._options)
        if isinstance(out, bool):
            out = "true" if out else "false"
        elif isinstance(out, int | float):
            out = repr(out) if isinstance(out, float) else str(out)
        for f in postfilters or ():
            out = f(out)
        return out
