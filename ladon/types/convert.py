"""Conversion between wire values and Python values.

Interfaces first reduce a request to *plain* values: ``str`` (XML text, JSON
strings), ``int``/``float``/``bool``/``None`` (native JSON or XML-RPC values),
``bytes``, ``dict`` and ``list``. :func:`load` turns plain values into the
Python values a method declared; :func:`dump` turns a method's result back
into plain values (``dict`` with fields in alphabetical order, ``list``,
``str``, ``int``, ``float``, ``bool``, ``None``). Both are pure functions;
errors name the path of the bad value (``items[3].name``).
"""

from __future__ import annotations

import datetime
import decimal
import json
import math
import re
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..exceptions.service import ArgumentError
from ..exceptions.service import ResultError
from ._describe import describe_value as describe_value
from ._strict import strict_json as _strict_json
from .attachment import AttachmentSet
from .attachment import as_attachment
from .attachment import attachment
from .constraints import MAX_DECIMAL_EXPONENT as MAX_DECIMAL_EXPONENT
from .ladontype import FieldInfo
from .ladontype import LadonType
from .spec import Constrained
from .spec import ListOf
from .spec import TypeSpec
from .spec import is_attachment
from .spec import type_name

# The lexical spaces of XML Schema's numbers (what the WSDLs publish; the
# OpenAPI document publishes the decimal one as a pattern): ASCII digits,
# XML's four blanks around them. Python's int(), float() and Decimal() also
# take other digits ("\u0663"), underscores ("1_000"), and Decimal() an
# exponent: numbers as text are matched first.
_BLANK = r"[ \t\n\r]*"
#: ``xsd:long`` (and ``xsd:integer``).
_INT_RE = re.compile(_BLANK + r"[+-]?[0-9]+" + _BLANK)
_DIGITS = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
#: ``xsd:decimal``: no exponent.
_DECIMAL_RE = re.compile(_BLANK + _DIGITS + _BLANK)
#: ``xsd:double`` but ``INF``, ``-INF`` and ``NaN``, which are refused (JSON
#: cannot carry them either).
_DOUBLE_RE = re.compile(_BLANK + _DIGITS + r"(?:[eE][+-]?[0-9]+)?" + _BLANK)
#: What a value nested deeper than the conversion's stack gets (reading
#: an argument; writing a result): a RecursionError caught where the
#: conversion starts becomes the argument's or the result's fault.
TOO_DEEP_TO_READ = "is nested too deeply to be read"
TOO_DEEP_TO_WRITE = "is nested too deeply to be written"
#: The C JSON scanner, for lists of integers sent as text.
_SCAN_INTS: Any = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


class WireNumber(float):
    """A number a JSON request wrote with a fraction or an exponent: its
    value as a float, and its text as sent (:attr:`text`), from which a
    ``Decimal`` or a ``str`` argument is read exactly (``0.10`` stays
    ``0.10``, ``1e2`` for a ``str`` is ``"1e2"``, as Ladon 1.0 read JSON
    numbers as text). A ``float`` argument gets a plain float.

    .. versionadded:: 2.0
    """

    __slots__ = ("text",)
    text: str


@dataclass(frozen=True, slots=True)
class Options:
    """Per-method conversion settings.

    :param encoding: codec between text on the wire and ``bytes`` values.
    :param allow_unsafe: when dumping, coerce values of the wrong type
        (``int(2.7)``) instead of failing (Ladon 1.0 ``allow_unsafe_conversion``).
    :param attachments: the request's attachments, when it carried some.
    :param filters: run the LadonType fields' ``filters`` (off for the
        typed JSON a task backend stores: the filters run once, on the wire).
    :param raw_bytes: when dumping, keep ``bytes`` values as bytes (for a
        protocol that carries binary data itself, like XML-RPC's base64)
        instead of decoding them with ``encoding``.
    """

    encoding: str = "UTF-8"
    allow_unsafe: bool = False
    #: The attachments of the request, for ``cid:``/``cidx:`` references.
    attachments: AttachmentSet | None = None
    #: Run the fields' ``filters``. Off where values are stored or passed
    #: between processes as typed JSON: they run once, on the wire.
    filters: bool = True
    #: Dump ``bytes`` as bytes rather than text in ``encoding``.
    raw_bytes: bool = False
    #: Load only values of the JSON type the published JSON Schema names
    #: (an integer for ``int``, not ``"40"``; no ``null`` where ``None``
    #: is not allowed): the ``http`` interface, whose clients are checked
    #: against its OpenAPI document. Off: Ladon 1.0's lenient rules.
    strict: bool = False


@dataclass(frozen=True, slots=True)
class Converted:
    """A result already converted to its plain wire form by :func:`dump`
    (e.g. a task's result, converted once when the task ended): interfaces
    send :attr:`value` as it is.

    .. versionadded:: 2.0
    """

    value: Any


class _Bad(Exception):
    """Internal: a primitive could not be converted (message says why)."""


# -- loading (wire -> python) --------------------------------------------------


def _load_int(v: object, opts: Options) -> int:
    if isinstance(v, bool):
        raise _Bad("expected an integer")
    if isinstance(v, int):
        return v
    if isinstance(v, str):
        if _INT_RE.fullmatch(v) is None:
            raise _not_lexical(v, int, "an integer", "an optional sign")
        try:
            return int(v)
        except ValueError:  # more digits than int() accepts
            raise _Bad("integer is too long") from None
    raise _Bad("expected an integer")


def _not_lexical(text: str, kind: type, what: str, form: str) -> _Bad:
    """Why ``text`` is not a number of ``kind``: it is no number at all, it
    is infinite or NaN, or only Python reads it (digits other than 0-9,
    ``_``, other blanks, an exponent for a decimal)."""
    try:
        x = kind(text)
    except (ValueError, ArithmeticError):
        return _Bad(f"expected {what}")
    if (kind is float and not math.isfinite(x)) or (kind is decimal.Decimal and not x.is_finite()):
        return _Bad(f"expected a finite {what[2:]}")
    return _Bad(f"expected {what} as XML Schema writes it: digits 0-9, {form}")


def _finite(x: float) -> float:
    if not math.isfinite(x):
        raise _Bad("expected a finite number")
    return x


def _load_float(v: object, opts: Options) -> float:
    if isinstance(v, bool):
        raise _Bad("expected a number")
    if isinstance(v, (int, float)):
        try:
            return _finite(float(v))
        except OverflowError:
            raise _Bad("number is too large") from None
    if isinstance(v, str):
        if _DOUBLE_RE.fullmatch(v) is None:
            raise _not_lexical(v, float, "a number", "an optional sign, point and exponent")
        return _finite(float(v))  # 1e999 is infinite
    raise _Bad("expected a number")


def _load_bool(v: object, opts: Options) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, int):  # a JSON number, read as text by Ladon 1.0: 0 is false
        return v != 0
    if isinstance(v, str):
        s = v.strip()
        if s:
            # Ladon 1.0 rule: F..., f... and 0 are false, other text is true.
            return not (s[0] in "fF" or s == "0")
    raise _Bad("expected a boolean (true or false)")


def _load_str(v: object, opts: Options) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if isinstance(v, WireNumber):
            return v.text  # the number as the client wrote it
        try:
            return str(v)
        except ValueError:  # more digits than str() writes
            raise _Bad("number is too long") from None
    if isinstance(v, bytes):
        try:
            return v.decode(opts.encoding)
        except UnicodeDecodeError:
            raise _Bad(f"bytes are not valid {opts.encoding}") from None
    raise _Bad("expected a string")


def _load_bytes(v: object, opts: Options) -> bytes:
    if isinstance(v, (bytes, bytearray)):
        return bytes(v)
    if isinstance(v, str):
        try:
            return v.encode(opts.encoding)
        except UnicodeEncodeError:
            raise _Bad(f"text cannot be encoded as {opts.encoding}") from None
    raise _Bad("expected a string")


#: ``xsd:dateTime``'s end of a day (``2024-05-01T24:00:00``: the next day's
#: midnight), which Python's ISO reader refuses.
_END_OF_DAY = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})T24:00(?::00(?:\.0+)?)?((?:[+-][0-9]{2}:[0-9]{2})?)"
)
#: ``xsd:date`` with its optional time zone (``2024-02-01Z``,
#: ``2024-02-01+02:00``: Java's XMLGregorianCalendar sends them); a Python
#: date has no zone: the date is taken as written.
_DATE_ZONE = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[Zz]|[+-](?:1[0-3]|0[0-9]):[0-5][0-9]|[+-]14:00)"
)


def _parse_datetime(text: str) -> datetime.datetime:
    s = text.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    try:
        return datetime.datetime.fromisoformat(s)
    except ValueError:
        end = _END_OF_DAY.fullmatch(s)
        if end is not None:
            try:
                midnight = datetime.datetime.fromisoformat(f"{end[1]}T00:00:00{end[2]}")
                return midnight + datetime.timedelta(days=1)
            except (ValueError, OverflowError):
                pass
        raise _Bad("expected an ISO 8601 date and time, like 2024-05-01T12:30:00") from None


def _load_datetime(v: object, opts: Options) -> datetime.datetime:
    if isinstance(v, datetime.datetime):
        return v
    if isinstance(v, str):
        return _parse_datetime(v)
    raise _Bad("expected an ISO 8601 date and time, like 2024-05-01T12:30:00")


def _load_date(v: object, opts: Options) -> datetime.date:
    if isinstance(v, datetime.datetime):
        return v.date()
    if isinstance(v, datetime.date):
        return v
    if isinstance(v, str):
        s = v.strip()
        zoned = _DATE_ZONE.fullmatch(s)
        try:
            return datetime.date.fromisoformat(s if zoned is None else zoned[1])
        except ValueError:
            pass
    raise _Bad("expected an ISO 8601 date, like 2024-05-01")


def _load_decimal(v: object, opts: Options) -> decimal.Decimal:
    if isinstance(v, bool):
        raise _Bad("expected a decimal number")
    if isinstance(v, decimal.Decimal):
        d = v
    elif isinstance(v, str):
        if _DECIMAL_RE.fullmatch(v) is None:
            raise _not_lexical(
                v, decimal.Decimal, "a decimal number", "an optional sign and point, no exponent"
            )
        d = decimal.Decimal(v)
    elif isinstance(v, (int, float)):  # a JSON number: its own notation
        try:
            d = decimal.Decimal(v.text if isinstance(v, WireNumber) else str(v))
        except (decimal.InvalidOperation, ValueError):  # more digits than str() writes
            raise _Bad("expected a decimal number") from None
    else:
        raise _Bad("expected a decimal number")
    if not d.is_finite():
        raise _Bad("expected a finite decimal number")
    if abs(d.adjusted()) > MAX_DECIMAL_EXPONENT:
        raise _Bad(
            f"decimal number too large or too precise (exponent beyond +/-{MAX_DECIMAL_EXPONENT})"
        )
    return d


_LOADERS: dict[type, Callable[[Any, Options], Any]] = {
    int: _load_int,
    float: _load_float,
    bool: _load_bool,
    str: _load_str,
    bytes: _load_bytes,
    datetime.datetime: _load_datetime,
    datetime.date: _load_date,
    decimal.Decimal: _load_decimal,
}


def apply_filters(funcs: Iterable[Callable[[Any], Any]], value: Any) -> Any:
    """``value`` passed through a field's filter functions, in order."""
    for f in funcs:
        value = f(value)
    return value


_apply = apply_filters


def _load_object(cls: type[LadonType], value: object, path: str, opts: Options) -> LadonType:
    if isinstance(value, cls):
        return value
    if not isinstance(value, Mapping):
        raise ArgumentError(
            path, f"expected an object ({cls.__name__}), got {describe_value(value)}"
        )
    obj = cls.__new__(cls)
    for f in cls.ladon_type_info().fields:
        fpath = f"{path}.{f.name}"
        if f.name in value and not (value[f.name] is None and f.is_list and not opts.strict):
            raw = value[f.name]
            if opts.filters and "incoming_raw" in f.filters:
                raw = _apply(f.filters["incoming_raw"], raw)
            py = load(f.type, raw, fpath, opts, nullable=f.nullable)
            if opts.filters and "incoming" in f.filters:
                py = _apply(f.filters["incoming"], py)
        else:
            try:
                py = f.missing_value()
            except LookupError:
                raise ArgumentError(fpath, "is not optional and was not given") from None
            if isinstance(py, list):
                py = list(py)
        obj.__dict__[f.name] = py
    return obj


def _load_ints(values: list[Any] | tuple[Any, ...], path: str, opts: Options) -> list[int]:
    """A list of ints (PERF: the hot case of numbers sent as text or JSON)."""
    try:
        joined = ",".join(values)  # TypeError unless every item is text
    except TypeError:
        pass
    else:
        if joined.isascii():
            if not joined.encode("ascii").translate(None, b"0123456789-,"):
                # Plain integers (what clients send): read as one JSON array
                # by the C scanner. What it refuses (a leading zero, a plus
                # sign, blanks, an empty item...) goes on below.
                try:
                    ints, end = _SCAN_INTS("[" + joined + "]", 0)
                except (StopIteration, ValueError):
                    pass
                else:
                    if end == len(joined) + 2 and len(ints) == len(values):
                        return ints  # type: ignore[no-any-return]
            # int() also takes "1_000" and other blanks ("\f1"), which the rule
            # for ints (optional sign, ASCII digits, XML blanks around) refuses.
            if not joined.encode("ascii").translate(None, b"0123456789+-, \t\n\r"):
                try:
                    return list(map(int, values))
                except ValueError:
                    pass  # empty, not a number, too long: the slow path says which
    out: list[int] = []
    append = out.append
    for i, v in enumerate(values):
        t = type(v)
        if t is int:
            append(v)
        elif t is str and 0 < len(v) < 19 and v.isascii() and v.isdigit():
            append(int(v))  # 18 digits at most: no str_digits limit to trip on
        else:
            append(load(int, v, f"{path}[{i}]", opts))
    return out


def _load_list(spec: ListOf, value: object, path: str, opts: Options) -> list[Any]:
    if isinstance(value, str) and not value.strip() and not opts.strict:
        return []  # an empty XML element
    if not isinstance(value, (list, tuple)):
        raise ArgumentError(path, f"expected a list, got {describe_value(value)}")
    item = spec.item
    if not opts.strict:
        if item is int:
            return _load_ints(value, path, opts)
        if item is str:
            return [
                v if type(v) is str else load(str, v, f"{path}[{i}]", opts)
                for i, v in enumerate(value)
            ]
    return [load(item, v, f"{path}[{i}]", opts) for i, v in enumerate(value)]


def load(spec: TypeSpec, value: object, path: str, opts: Options, nullable: bool = False) -> Any:
    """Convert a plain wire value to the Python value of ``spec``.

    :param spec: the declared type.
    :param value: the plain value from the request.
    :param path: where the value sits, for error messages.
    :param opts: the method's conversion options.
    :param nullable: whether ``None`` is acceptable.
    :raises ArgumentError: the value does not fit the type.
    """
    t = type(value)
    if t is spec and (spec is int or spec is str):
        return value  # the common case, already right (bool is not int here)
    if spec is int and t is str and not opts.strict:
        text: str = value  # type: ignore[assignment]
        if 0 < len(text) < 19 and text.isascii() and text.isdigit():
            return int(text)  # PERF: digits as XML text, the SOAP case
    if value is None:
        if nullable:
            return None
        if isinstance(spec, ListOf) and not opts.strict:
            return []
        raise ArgumentError(path, f"expected {type_name(spec)}, got null")
    if isinstance(spec, Constrained):
        return _load_constrained(spec, value, path, opts)
    if isinstance(spec, ListOf):
        return _load_list(spec, value, path, opts)
    loader = _LOADERS.get(spec)
    if loader is not None:
        if opts.strict:
            value = _strict_json(spec, value, path)
        try:
            return loader(value, opts)
        except _Bad as exc:
            raise ArgumentError(path, f"{exc}, got {describe_value(value)}") from None
    if isinstance(spec, type) and issubclass(spec, LadonType):
        return _load_object(spec, value, path, opts)
    if is_attachment(spec):
        return _load_attachment(value, path, opts)
    raise ArgumentError(path, f"unsupported type {type_name(spec)}")  # pragma: no cover


def _load_constrained(spec: Constrained, value: object, path: str, opts: Options) -> Any:
    """Load the base value, then check the rules (an enum's value becomes
    its member)."""
    base = spec.base
    if type(value) is base and (
        base is int or base is str or (base is float and value - value == 0.0)  # type: ignore[operator]
    ):
        py: Any = value  # PERF: already right (a finite float: x - x is 0.0)
    else:
        py = load(base, value, path, opts)
    broken = spec.check(py)
    if broken is not None:
        raise ArgumentError(path, f"{broken}, got {_shown(py)}")
    if spec.enum is not None:
        return spec.enum(py)
    return py


def _shown(value: object) -> str:
    """What an error message shows of a checked value (of a list: its length)."""
    if isinstance(value, list):
        return f"{len(value)} item" + ("" if len(value) == 1 else "s")
    if isinstance(value, decimal.Decimal):
        text = format(value, "f")
        return text if len(text) <= 40 else text[:37] + "..."
    return describe_value(value)


def _load_attachment(value: object, path: str, opts: Options) -> attachment:
    if isinstance(value, attachment):
        return value
    if isinstance(value, bytes | bytearray):  # e.g. XML-RPC base64
        return attachment.from_bytes(bytes(value))
    if isinstance(value, str):
        if opts.attachments is not None:
            try:
                return opts.attachments.resolve(value)
            except LookupError as exc:
                raise ArgumentError(path, str(exc)) from None
        if value.strip().lower().startswith(("cid:", "cidx:")):
            raise ArgumentError(
                path,
                f"refers to an attachment ({describe_value(value)}) but the request "
                "carries none; send it as multipart/related with the file as a part",
            )
    raise ArgumentError(
        path,
        "expected an attachment reference (cid:<Content-ID> or cidx:<index>), "
        f"got {describe_value(value)}",
    )


# -- dumping (python -> wire) --------------------------------------------------


def _dump_int(v: object, opts: Options) -> int:
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if opts.allow_unsafe and isinstance(v, (int, float, decimal.Decimal, str)):
        try:
            return int(v)
        except (ValueError, OverflowError):
            pass
    raise _Bad("expected int")


def _dump_float(v: object, opts: Options) -> float:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        try:
            x = float(v)
        except OverflowError:
            raise _Bad("number is too large for a float") from None
    elif opts.allow_unsafe and isinstance(v, (decimal.Decimal, str)):
        try:
            x = float(v)
        except ValueError:
            raise _Bad("expected float") from None
    else:
        raise _Bad("expected float")
    if not math.isfinite(x):
        raise _Bad("NaN and infinity cannot be sent")
    return x


def _dump_bool(v: object, opts: Options) -> bool:
    if isinstance(v, bool):
        return v
    if opts.allow_unsafe:
        return bool(v)
    raise _Bad("expected bool")


def _dump_str(v: object, opts: Options) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bytes):
        try:
            return v.decode(opts.encoding)
        except UnicodeDecodeError:
            raise _Bad(f"bytes are not valid {opts.encoding}") from None
    if opts.allow_unsafe and v is not None:
        return str(v)
    raise _Bad("expected str")


def _dump_bytes(v: object, opts: Options) -> str | bytes:
    if opts.raw_bytes and isinstance(v, (bytes, bytearray)):
        return bytes(v)
    return _dump_str(v, opts)


def _dump_datetime(v: object, opts: Options) -> str:
    if isinstance(v, datetime.datetime):
        return v.isoformat()
    raise _Bad("expected datetime")


def _dump_date(v: object, opts: Options) -> str:
    if isinstance(v, datetime.datetime):
        return v.date().isoformat()
    if isinstance(v, datetime.date):
        return v.isoformat()
    raise _Bad("expected date")


def _dump_decimal(v: object, opts: Options) -> str:
    if isinstance(v, (int, decimal.Decimal)) and not isinstance(v, bool):
        d = decimal.Decimal(v)
        if d.is_finite() and abs(d.adjusted()) <= MAX_DECIMAL_EXPONENT:
            return format(d, "f")
    raise _Bad("expected a finite Decimal")


_DUMPERS: dict[type, Callable[[Any, Options], Any]] = {
    int: _dump_int,
    float: _dump_float,
    bool: _dump_bool,
    str: _dump_str,
    bytes: _dump_bytes,
    datetime.datetime: _dump_datetime,
    datetime.date: _dump_date,
    decimal.Decimal: _dump_decimal,
}


def field_values(
    cls: type[LadonType], value: object, path: str, filters: bool = True
) -> Iterator[tuple[FieldInfo, Any, str]]:
    """The fields of an object result, in order, each with its Python value
    (its default when unset, ``outgoing`` filters applied) and its path.
    ``outgoing_raw`` filters are the caller's, on the wire value.

    :raises ResultError: ``value`` is not such an object, or a mandatory
        field is unset.
    """
    values: Mapping[str, Any]
    if isinstance(value, cls):  # PERF: before the (slower) ABC check
        values = value.__dict__
    elif isinstance(value, Mapping):
        values = value
    else:
        raise ResultError(path, f"expected {cls.__name__}, got {type(value).__name__}")
    for f in cls.ladon_type_info().fields:
        fpath = f"{path}.{f.name}"
        if f.name in values:
            v = values[f.name]
        else:
            try:
                v = f.missing_value()
            except LookupError:
                raise ResultError(fpath, "mandatory field was not set") from None
        if filters and "outgoing" in f.filters:
            v = _apply(f.filters["outgoing"], v)
        yield f, v, fpath


def _dump_object(cls: type[LadonType], value: object, path: str, opts: Options) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f, v, fpath in field_values(cls, value, path, opts.filters):
        w = dump(f.type, v, fpath, opts, nullable=f.nullable)
        if opts.filters and "outgoing_raw" in f.filters:
            w = apply_filters(f.filters["outgoing_raw"], w)
        out[f.name] = w
    return out


def _dump_constrained(spec: Constrained, value: object, path: str, opts: Options) -> Any:
    """Check the rules on a result value (an enum member is sent as its
    value), then dump the base value.

    :raises ResultError: a rule is broken: a bug in the service.
    """
    if spec.enum is not None and isinstance(value, spec.enum):
        value = value.value
    wire = dump(spec.base, value, path, opts)
    # what is sent is checked (allow_unsafe may have coerced the value)
    checked = decimal.Decimal(wire) if spec.base is decimal.Decimal else wire
    broken = spec.check(checked)
    if broken is not None:
        raise ResultError(path, f"{broken}, got {_shown(checked)}")
    return wire


def dump(spec: TypeSpec, value: object, path: str, opts: Options, nullable: bool = False) -> Any:
    """Convert a method's Python value to a plain wire value.

    :raises ResultError: the value does not match the declared type.
    """
    if type(value) is spec and (spec is int or spec is str or spec is bool):
        return value  # the common case, already right
    if value is None:
        if nullable:
            return None
        raise ResultError(path, f"expected {type_name(spec)}, got None")
    if isinstance(spec, Constrained):
        return _dump_constrained(spec, value, path, opts)
    if isinstance(spec, ListOf):
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
            raise ResultError(path, f"expected a list, got {type(value).__name__}")
        item = spec.item
        return [dump(item, v, f"{path}[{i}]", opts) for i, v in enumerate(value)]
    dumper = _DUMPERS.get(spec)
    if dumper is not None:
        try:
            return dumper(value, opts)
        except _Bad as exc:
            raise ResultError(path, f"{exc}, got {type(value).__name__}") from None
    if isinstance(spec, type) and issubclass(spec, LadonType):
        return _dump_object(spec, value, path, opts)
    if is_attachment(spec):
        att = as_attachment(value)
        if att is None:
            raise ResultError(
                path, f"expected an attachment, a binary file or bytes, got {type(value).__name__}"
            )
        return att
    raise ResultError(path, f"unsupported type {type_name(spec)}")  # pragma: no cover
