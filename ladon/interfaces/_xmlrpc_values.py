"""XML-RPC values: safe request parsing, reading ``<value>`` elements into
plain values, and writing results typed from their declared spec.

The type mapping is documented in :mod:`ladon.interfaces.xmlrpc`.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import decimal
import io
import math
import re
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from lxml import etree

from ..exceptions.service import ArgumentError
from ..exceptions.service import MalformedRequest
from ..exceptions.service import ResultError
from ..types.attachment import attachment
from ..types.convert import Options
from ..types.ladontype import LadonType
from ..types.spec import ListOf
from ..types.spec import TypeSpec
from ..types.spec import base_of
from ..types.spec import is_attachment
from ..wire.xml import escape
from ..wire.xml import in_declared_charset
from ..wire.xml import refused_document
from ..wire.xml import safe_parser
from ._rpc import InvalidRequest as InvalidRequest

#: Deepest nesting of arrays and structs read in one argument.
MAX_DEPTH = 64
#: Most digits read in a ``<biginteger>`` (other integer tags stop at 64 bits).
MAX_BIGINT_DIGITS = 1000
I4_MIN, I4_MAX = -(2**31), 2**31 - 1
I8_MIN, I8_MAX = -(2**63), 2**63 - 1


# -- parsing -----------------------------------------------------------------------

#: XML-RPC has no attachments: where a client sends a file too large for one value.
_ATTACHMENTS_HINT = (
    "XML-RPC has no attachments: send large files as attachments to another interface "
    "(MTOM/XOP on soap and soap12, multipart on jsonwsp and http)"
)


def _only_namespace_errors(log: Any) -> bool:
    errors = [e for e in log if e.level >= etree.ErrorLevels.ERROR]
    return bool(errors) and all(e.domain == etree.ErrorDomains.NAMESPACE for e in errors)


def parse_request(body: bytes, charset: str | None = None) -> etree._Element:
    """Parse a request document safely.

    :param charset: the ``charset`` of the request's Content-Type, the
        encoding of a document that does not name its own
        (:func:`~ladon.wire.xml.in_declared_charset`).

    Undeclared prefixes (``<ex:nil/>`` without ``xmlns:ex``, which some
    clients send) are tolerated; any other error is refused.

    :raises MalformedRequest: empty, not well-formed XML, or a DOCTYPE.
    """
    if not body:
        raise MalformedRequest("The request body is empty; expected an XML-RPC methodCall")
    if body.isspace():
        raise MalformedRequest("The request body holds only blanks; expected an XML-RPC methodCall")
    body = in_declared_charset(body, charset)
    strict = safe_parser(False)
    try:
        root = etree.fromstring(body, strict)
    except etree.XMLSyntaxError as exc:
        # NOTE: this parser's own log: exc.error_log may also hold what other
        # parses of the thread left in libxml2's global log.
        if not _only_namespace_errors(strict.error_log):
            raise refused_document(exc, _ATTACHMENTS_HINT) from None
        parser = safe_parser(True)
        root = etree.fromstring(body, parser)
        if root is None or not _only_namespace_errors(parser.error_log):  # pragma: no cover
            raise MalformedRequest(f"The request is not well-formed XML: {exc.msg}") from None
    except (ValueError, LookupError) as exc:  # e.g. an unknown encoding
        raise MalformedRequest(f"The request is not well-formed XML: {exc}") from None
    info: Any = root.getroottree().docinfo  # lxml-stubs lack DocInfo.doctype
    if info.doctype or info.internalDTD is not None:
        raise MalformedRequest("A DOCTYPE is not allowed in the request")
    return root


def name_of(el: etree._Element) -> str:
    """The local name of an element, without namespace or (undeclared) prefix."""
    tag: object = el.tag  # not a str for entities and the like
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2].rpartition(":")[2]


def elements(el: etree._Element) -> list[etree._Element]:
    """The child elements of ``el``."""
    return [c for c in el if isinstance(c.tag, str)]


def _show(text: str, limit: int = 40) -> str:
    return repr(text) if len(text) <= limit else repr(text[: limit - 3]) + "..."


def request_parts(root: etree._Element) -> tuple[str, list[etree._Element]]:
    """The method name and the ``<value>`` element of each ``<param>``.

    :raises InvalidRequest: the document is not a ``methodCall``.
    """
    if name_of(root) != "methodCall":
        raise InvalidRequest(
            f"The request is not an XML-RPC methodCall (root element <{name_of(root)}>)"
        )
    found: dict[str, etree._Element] = {}
    for c in elements(root):
        n = name_of(c)
        if n not in ("methodName", "params") or n in found:
            raise InvalidRequest(f"Unexpected element <{n}> in the methodCall")
        found[n] = c
    name_el = found.get("methodName")
    if name_el is None:
        raise InvalidRequest("The methodCall has no <methodName>")
    if elements(name_el):
        raise InvalidRequest("<methodName> must hold text only")
    name = (name_el.text or "").strip()
    if not name:
        raise InvalidRequest("The <methodName> is empty")
    values = []
    params = found.get("params")
    for i, p in enumerate(elements(params) if params is not None else (), 1):
        kids = elements(p)
        if name_of(p) != "param":
            raise InvalidRequest(f"<params> may hold only <param> elements, not <{name_of(p)}>")
        if len(kids) != 1 or name_of(kids[0]) != "value":
            raise InvalidRequest(f"Parameter {i}: a <param> must hold exactly one <value>")
        values.append(kids[0])
    return name, values


# -- reading values ------------------------------------------------------------------

_INT_RE = re.compile(r"[+-]?[0-9]+\Z")
_DOUBLE_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_DATETIME_RE = re.compile(
    r"([0-9]{4})-?([0-9]{2})-?([0-9]{2})"
    r"(?:T([0-9]{2}):?([0-9]{2}):?([0-9]{2})(?:[.,]([0-9]+))?"
    r"(Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?\Z"
)
_BOOLEANS = {"1": True, "0": False, "true": True, "false": False}
#: Bits of each integer tag (signed); ``<biginteger>`` has no bound but
#: :data:`MAX_BIGINT_DIGITS`.
_INT_BITS = {"int": 32, "i4": 32, "i8": 64, "i2": 16, "i1": 8}

Reader = Callable[[etree._Element, str, TypeSpec | None, str, int], Any]
#: The blanks XML Schema strips around a number (str.strip() takes more:
#: no-break spaces, line separators...).
_BLANKS = " \t\n\r"


def _text(el: etree._Element, tag: str, path: str) -> str:
    if elements(el):
        raise ArgumentError(path, f"<{tag}> must hold text, not elements")
    return el.text or ""


def _read_int(el: etree._Element, tag: str, spec: TypeSpec | None, path: str, depth: int) -> int:
    s = _text(el, tag, path).strip(_BLANKS)
    if not _INT_RE.match(s):
        raise ArgumentError(path, f"<{tag}> must hold an integer, got {_show(s)}")
    bits = _INT_BITS.get(tag)
    if len(s.lstrip("+-").lstrip("0")) > (MAX_BIGINT_DIGITS if bits is None else 19):
        raise ArgumentError(path, f"<{tag}> integer is out of range ({len(s)} characters)")
    value = int(s)
    if bits is not None and not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
        raise ArgumentError(path, f"<{tag}> integer is out of the {bits}-bit range")
    return value


def _read_double(
    el: etree._Element, tag: str, spec: TypeSpec | None, path: str, depth: int
) -> float:
    s = _text(el, tag, path).strip(_BLANKS)
    if not _DOUBLE_RE.match(s):
        raise ArgumentError(path, f"<{tag}> must hold a decimal number, got {_show(s)}")
    value = float(s)
    if not math.isfinite(value):
        raise ArgumentError(path, f"<{tag}> number is out of range")
    return value


def _read_boolean(
    el: etree._Element, tag: str, spec: TypeSpec | None, path: str, depth: int
) -> bool:
    s = _text(el, tag, path).strip()
    value = _BOOLEANS.get(s.lower())
    if value is None:
        raise ArgumentError(path, f"<boolean> must hold 1 or 0, got {_show(s)}")
    return value


def _read_string(el: etree._Element, tag: str, spec: TypeSpec | None, path: str, depth: int) -> str:
    return _text(el, tag, path)  # exactly as sent: whitespace is data


def _read_bigdecimal(
    el: etree._Element, tag: str, spec: TypeSpec | None, path: str, depth: int
) -> str:
    return _text(el, tag, path).strip(_BLANKS)  # the Decimal loader checks it


def _read_base64(el: etree._Element, tag: str, spec: TypeSpec | None, path: str, depth: int) -> Any:
    s = "".join(_text(el, tag, path).split())
    try:
        data = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        raise ArgumentError(path, f"<base64> is not valid base64: {_show(s)}") from None
    if spec is not None and is_attachment(spec):
        return attachment(io.BytesIO(data), len(data))
    return data


def parse_datetime(text: str) -> datetime.datetime:
    """Read an XML-RPC ``dateTime.iso8601`` (``20240228T23:30:00``); the ISO
    extended form, fractions of seconds, ``Z`` and offsets are accepted too.

    :raises ValueError: not such a date and time.
    """
    m = _DATETIME_RE.match(text.strip())
    if m is None:
        raise ValueError(text)
    year, month, day, hh, mm, ss, frac, zone = m.groups()
    tz: datetime.tzinfo | None = None
    if zone == "Z":
        tz = datetime.timezone.utc
    elif zone:
        minutes = int(zone[1:3]) * 60 + int(zone[-2:] if len(zone) > 3 else 0)
        tz = datetime.timezone(datetime.timedelta(minutes=-minutes if zone[0] == "-" else minutes))
    micro = int((frac or "0")[:6].ljust(6, "0"))
    return datetime.datetime(
        int(year), int(month), int(day), int(hh or 0), int(mm or 0), int(ss or 0), micro, tz
    )


def _read_datetime(
    el: etree._Element, tag: str, spec: TypeSpec | None, path: str, depth: int
) -> datetime.datetime:
    s = _text(el, tag, path).strip()
    try:
        return parse_datetime(s)
    except ValueError:
        raise ArgumentError(
            path, f"<dateTime.iso8601> must be like 20240501T12:30:00, got {_show(s)}"
        ) from None


def _read_nil(el: etree._Element, tag: str, spec: TypeSpec | None, path: str, depth: int) -> None:
    if elements(el) or (el.text or "").strip():
        raise ArgumentError(path, "<nil/> must be empty")


def array_values(el: etree._Element, path: str) -> list[etree._Element]:
    """The ``<value>`` elements of an ``<array>``."""
    kids = elements(el)
    if len(kids) != 1 or name_of(kids[0]) != "data":
        raise ArgumentError(path, "<array> must hold exactly one <data> element")
    values = elements(kids[0])
    for i, v in enumerate(values):
        if name_of(v) != "value":
            raise ArgumentError(f"{path}[{i}]", f"<data> may hold only <value>, not <{name_of(v)}>")
    return values


def _read_array(
    el: etree._Element, tag: str, spec: TypeSpec | None, path: str, depth: int
) -> list[Any]:
    item = spec.item if isinstance(spec, ListOf) else None
    return [
        read_value(v, item, f"{path}[{i}]", depth + 1) for i, v in enumerate(array_values(el, path))
    ]


def struct_members(el: etree._Element, path: str) -> dict[str, etree._Element]:
    """Member name -> ``<value>`` element of a ``<struct>``."""
    out: dict[str, etree._Element] = {}
    for member in elements(el):
        kids = elements(member)
        if name_of(member) != "member":
            raise ArgumentError(path, f"<struct> may hold only <member>, not <{name_of(member)}>")
        if sorted(name_of(k) for k in kids) != ["name", "value"]:
            raise ArgumentError(path, "a <member> must hold one <name> and one <value>")
        name_el, value_el = kids if name_of(kids[0]) == "name" else kids[::-1]
        key = _text(name_el, "name", path)
        if key in out:
            raise ArgumentError(path, f"member {_show(key)} appears twice")
        out[key] = value_el
    return out


def _member_path(path: str, key: str) -> str:
    return f"{path}.{key}" if key.isidentifier() and len(key) <= 40 else f"{path}[{_show(key)}]"


def _read_struct(
    el: etree._Element, tag: str, spec: TypeSpec | None, path: str, depth: int
) -> dict[str, Any]:
    fields: dict[str, TypeSpec] = {}
    if isinstance(spec, type) and issubclass(spec, LadonType):
        fields = {f.name: f.type for f in spec.ladon_type_info().fields}
    return {
        key: read_value(v, fields.get(key), _member_path(path, key), depth + 1)
        for key, v in struct_members(el, path).items()
    }


_READERS: dict[str, Reader] = {
    **dict.fromkeys(("int", "i4", "i8", "i1", "i2", "biginteger"), _read_int),
    "double": _read_double,
    "float": _read_double,
    "boolean": _read_boolean,
    "string": _read_string,
    "bigdecimal": _read_bigdecimal,
    "base64": _read_base64,
    "dateTime.iso8601": _read_datetime,
    "nil": _read_nil,
    "array": _read_array,
    "struct": _read_struct,
}


def read_value(el: etree._Element, spec: TypeSpec | None, path: str, depth: int = 0) -> Any:
    """Read a ``<value>`` element as a plain value for :func:`~ladon.types.convert.load`.

    :param spec: the declared type, if known (base64 becomes an
        :class:`~ladon.types.attachment.attachment` where one is expected).
    :param path: where the value sits, for error messages.
    :raises ArgumentError: the value is not valid XML-RPC.
    """
    if depth > MAX_DEPTH:
        raise ArgumentError(path, "values are nested too deeply")
    if spec is not None:
        spec = base_of(spec)
    kids = elements(el)
    if not kids:
        return el.text or ""  # an untyped value is a string
    if len(kids) > 1 or (el.text or "").strip() or (kids[0].tail or "").strip():
        raise ArgumentError(path, "a <value> must hold exactly one typed element")
    tag = name_of(kids[0])
    reader = _READERS.get(tag)
    if reader is None:
        raise ArgumentError(path, f"unknown XML-RPC type <{tag}>")
    return reader(kids[0], tag, spec, path, depth)


# -- writing values ------------------------------------------------------------------


def format_datetime(value: datetime.datetime) -> str:
    """``20240228T23:30:00``: whole seconds; an aware value is given in UTC."""
    if value.utcoffset() is not None:
        value = value.astimezone(datetime.timezone.utc)
    v = value
    return f"{v.year:04d}{v.month:02d}{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}"


def _escape(text: str, path: str) -> str:
    try:
        return escape(text)
    except ValueError:
        raise ResultError(path, "the text holds characters that XML cannot carry") from None


def _text_value(tag: str, text: str, path: str) -> str:
    return f"<value><{tag}>{_escape(text, path)}</{tag}></value>"


def _int_value(value: int, path: str) -> str:
    if I4_MIN <= value <= I4_MAX:
        return f"<value><int>{value}</int></value>"
    if I8_MIN <= value <= I8_MAX:
        return f"<value><i8>{value}</i8></value>"
    try:
        return f"<value><biginteger>{value}</biginteger></value>"
    except ValueError:  # more digits than str() writes
        raise ResultError(path, "the integer is too long to be sent") from None


def _base64_value(data: bytes) -> str:
    return f"<value><base64>{base64.b64encode(data).decode('ascii')}</base64></value>"


def write_plain(out: list[str], value: object, path: str) -> None:
    """Append the ``<value>`` of a plain value, typed by its Python type."""
    if value is None:
        out.append("<value><nil/></value>")
    elif isinstance(value, bool):
        out.append(f"<value><boolean>{int(value)}</boolean></value>")
    elif isinstance(value, int):
        out.append(_int_value(value, path))
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ResultError(path, "NaN and infinity cannot be sent")
        out.append(f"<value><double>{value!r}</double></value>")
    elif isinstance(value, str):
        out.append(_text_value("string", value, path))
    elif isinstance(value, (bytes, bytearray)):
        out.append(_base64_value(bytes(value)))
    elif isinstance(value, datetime.datetime):
        out.append(f"<value><dateTime.iso8601>{format_datetime(value)}</dateTime.iso8601></value>")
    elif isinstance(value, datetime.date):  # midnight of that day
        stamp = format_datetime(datetime.datetime(value.year, value.month, value.day))
        out.append(f"<value><dateTime.iso8601>{stamp}</dateTime.iso8601></value>")
    elif isinstance(value, decimal.Decimal):
        out.append(_text_value("string", format(value, "f"), path))
    elif isinstance(value, Mapping):
        out.append("<value><struct>")
        for k, v in value.items():
            out.append(f"<member><name>{_escape(str(k), path)}</name>")
            write_plain(out, v, _member_path(path, str(k)))
            out.append("</member>")
        out.append("</struct></value>")
    elif isinstance(value, (list, tuple)):
        out.append("<value><array><data>")
        for i, v in enumerate(value):
            write_plain(out, v, f"{path}[{i}]")
        out.append("</data></array></value>")
    else:
        raise ResultError(path, f"a {type(value).__name__} cannot be sent over XML-RPC")


def write_wire(out: list[str], spec: TypeSpec, value: object, path: str, opts: Options) -> None:
    """Append the ``<value>`` of a result already in plain wire form (what
    :func:`~ladon.types.convert.dump` gives), typed from ``spec``: ``bytes``
    (sent as text in plain form) go back to base64 in the method's
    encoding, dates and times (ISO text) to ``dateTime.iso8601``.

    :raises ResultError: a value cannot be sent.
    """
    spec = base_of(spec)
    if value is None:
        out.append("<value><nil/></value>")
    elif isinstance(spec, ListOf):
        out.append("<value><array><data>")
        items: list[Any] = value  # type: ignore[assignment]
        for i, v in enumerate(items):
            write_wire(out, spec.item, v, f"{path}[{i}]", opts)
        out.append("</data></array></value>")
    elif isinstance(spec, type) and issubclass(spec, LadonType):
        out.append("<value><struct>")
        values: Mapping[str, Any] = value  # type: ignore[assignment]
        for f in spec.ladon_type_info().fields:
            fpath = f"{path}.{f.name}"
            out.append(f"<member><name>{f.name}</name>")
            if "outgoing_raw" in f.filters:  # the filter may have made it anything
                write_plain(out, values[f.name], fpath)
            else:
                write_wire(out, f.type, values[f.name], fpath, opts)
            out.append("</member>")
        out.append("</struct></value>")
    elif is_attachment(spec):
        out.append(_base64_value(_attachment_bytes(value, path)))
    elif spec is bytes and isinstance(value, (bytes, bytearray)):
        out.append(_base64_value(bytes(value)))
    elif spec is bytes and isinstance(value, str):
        try:
            out.append(_base64_value(value.encode(opts.encoding)))
        except UnicodeEncodeError:
            raise ResultError(path, f"text cannot be encoded as {opts.encoding}") from None
    elif spec is datetime.datetime and isinstance(value, str):
        write_plain(out, datetime.datetime.fromisoformat(value), path)
    elif spec is datetime.date and isinstance(value, str):
        write_plain(out, datetime.date.fromisoformat(value), path)
    else:
        write_plain(out, value, path)


def _attachment_bytes(value: object, path: str) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    read = getattr(value, "read", None)
    if not callable(read):
        raise ResultError(path, f"expected an attachment, got {type(value).__name__}")
    try:
        data = read()
    finally:
        close = getattr(value, "close", None)
        if callable(close):
            close()  # it is sent: release its file
    if not isinstance(data, bytes):
        raise ResultError(path, f"the attachment gave {type(data).__name__}, not bytes")
    return data


# -- names for descriptions --------------------------------------------------------

_WIRE_NAMES: dict[type, str] = {
    int: "int",
    float: "double",
    bool: "boolean",
    str: "string",
    bytes: "base64",
    datetime.datetime: "dateTime.iso8601",
    datetime.date: "dateTime.iso8601",
    decimal.Decimal: "string",
}


def wire_type(spec: TypeSpec) -> str:
    """The XML-RPC type of a spec: ``int``, ``Point`` (a struct),
    ``array[Point]``."""
    spec = base_of(spec)
    if isinstance(spec, ListOf):
        return f"array[{wire_type(spec.item)}]"
    if is_attachment(spec):
        return "base64"
    if issubclass(spec, LadonType):
        return spec.__name__
    return _WIRE_NAMES.get(spec, "string")


def signature_type(spec: TypeSpec) -> str:
    """The type name ``system.methodSignature`` uses (``struct``, ``array``...)."""
    spec = base_of(spec)
    if isinstance(spec, ListOf):
        return "array"
    if isinstance(spec, type) and issubclass(spec, LadonType):
        return "struct"
    return wire_type(spec)
