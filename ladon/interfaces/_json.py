"""JSON reading and writing shared by the JSON interfaces."""

from __future__ import annotations

import codecs
import enum
import functools
import json
import re
from typing import Any

from ..exceptions.service import MalformedRequest
from ..exceptions.service import ServiceFault
from ..types.convert import WireNumber
from ..wire.jsonenc import c_encoder

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_BOM_STARTS = (b"\xef", b"\xfe", b"\xff", b"\x00")
#: Content types whose body is UTF-8 JSON (no other charset named).
_PLAIN_JSON = frozenset(
    ("application/json", "application/json; charset=utf-8", "application/json; charset=UTF-8")
)


@functools.lru_cache(maxsize=256)
def charset_of(ctype: str) -> str | None:
    """The ``charset=`` parameter of a Content-Type, if any."""
    for part in ctype.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip('"') or None
    return None


def decode_text(body: bytes, content_type: str) -> str:
    """Decode a request body: BOM first, then the declared charset, else UTF-8.

    :raises MalformedRequest: unknown charset or undecodable bytes.
    """
    if content_type in _PLAIN_JSON and body[:1] == b"{":
        # PERF: the usual request: UTF-8 (the default), no BOM
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            pass  # the general path says where
    charset = None
    if body[:1] in _BOM_STARTS:
        for bom, codec in _BOMS:
            if body.startswith(bom):
                charset = codec
                break
    if charset is None:
        charset = charset_of(content_type) or "utf-8"
        if charset.lower() in ("utf-8", "utf8"):
            charset = "utf-8"
        else:
            charset = _text_codec(charset)
    try:
        return body.decode(charset)
    except UnicodeDecodeError as exc:
        raise MalformedRequest(
            f"The request body is not valid {charset}: byte {exc.start}"
        ) from None
    except UnicodeError:  # codecs that raise it alone (punycode, undefined)
        raise MalformedRequest(f"The request body is not valid {charset}") from None


@functools.lru_cache(maxsize=64)
def _text_codec(charset: str) -> str:
    """``charset`` when it names a text encoding (not ``zlib``, ``rot13``...).

    :raises MalformedRequest: it names none.
    """
    try:
        info = codecs.lookup(charset)
    except (LookupError, ValueError):
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):
        raise MalformedRequest(f"Unknown charset {charset[:40]!r} in Content-Type") from None
    return info.name


def default_text(value: object) -> str:
    """A parameter's default as the JSON descriptions give it (a string,
    as Ladon 1.0 wrote ``str(default)``; an enum member as its value, which
    is what a client sends).

    .. versionadded:: 2.0
    """
    return str(value.value if isinstance(value, enum.Enum) else value)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                shown = key if len(key) <= 40 else key[:37] + "..."
                raise ValueError(f"key {shown!r} is given more than once")
            seen.add(key)
    return obj


def _number(text: str) -> float:
    """A JSON number with a fraction or an exponent, its text kept (see
    :class:`~ladon.types.convert.WireNumber`); one beyond a double's range
    (``1e400``) is refused: no JSON answer could carry it back."""
    value = WireNumber(text)
    if value - value != 0.0:  # infinite
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise ValueError(f"the number {shown} is beyond the range of a double")
    value.text = text
    return value


# Duplicate keys are refused: which one wins differs between parsers, and a
# proxy checking one and a server using the other is a known attack.
_DECODER = json.JSONDecoder(
    parse_constant=_reject_constant, object_pairs_hook=_unique_keys, parse_float=_number
)
_SCAN: Any = _DECODER.scan_once  # type: ignore[attr-defined]
_WS_TEXT = re.compile(r"[ \t\n\r]*")
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False)


def _unserialisable(obj: object) -> Any:
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


# NOTE: JSONEncoder.encode() builds a new C encoder on every call; build it
# once (no circular check: results are trees made by convert.dump).
_C_ENCODER = c_encoder(_unserialisable, ", ", ": ", False)


def _encode(obj: object) -> str:
    if _C_ENCODER is None:  # pragma: no cover - CPython always has it
        return _ENCODER.encode(obj)
    return "".join(_C_ENCODER(obj, 0))


_ASCII_ENCODER = json.JSONEncoder(ensure_ascii=True, allow_nan=False)


def loads_json(body: bytes, content_type: str) -> Any:
    """Parse a JSON request body of any shape (object, array, scalar).

    :raises MalformedRequest: empty, undecodable, not JSON, or too deep.

    .. versionadded:: 2.0
    """
    if not body:
        raise MalformedRequest("The request body is empty; expected a JSON object")
    if body.isspace():
        raise MalformedRequest("The request body holds only blanks; expected a JSON object")
    text = None
    if content_type in _PLAIN_JSON and body[:1] == b"{":  # PERF: decode_text's usual case
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            pass  # decode_text says where
    if text is None:
        text = decode_text(body, content_type)
    try:
        # PERF: JSONDecoder.decode() without its two Python frames.
        obj, end = _SCAN(text, _WS_TEXT.match(text).end())  # type: ignore[union-attr]
        if end != len(text):
            tail = _WS_TEXT.match(text, end).end()  # type: ignore[union-attr]
            if tail != len(text):
                raise json.JSONDecodeError("Extra data", text, tail)
        return obj
    except StopIteration as err:
        exc: ValueError = json.JSONDecodeError("Expecting value", text, err.value)
        raise MalformedRequest(_json_error(exc)) from None
    except RecursionError:
        raise MalformedRequest("The JSON request is nested too deeply") from None
    except ValueError as exc:
        raise MalformedRequest(_json_error(exc)) from None


def _json_error(exc: ValueError) -> str:
    if "integer string conversion" in str(exc):
        return "The request holds a number with too many digits"
    msg = str(exc).split(": line")[0] if isinstance(exc, json.JSONDecodeError) else str(exc)
    where = (
        f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
    )
    return f"The request is not valid JSON: {msg}{where}"


def loads_request(body: bytes, content_type: str) -> dict[str, Any]:
    """Parse a JSON request object.

    :raises MalformedRequest: not JSON, too deep, or not an object.
    """
    data = loads_json(body, content_type)
    if not isinstance(data, dict):
        raise MalformedRequest("The request must be a JSON object")
    return data


def fault_members(fault: ServiceFault) -> dict[str, Any]:
    """The Ladon 1.0 fault object of JSON-WSP and JSON-RPC 1.0 (``filename``
    and ``lineno`` kept for old clients, always ``null``)."""
    return {
        "code": fault.faultcode,
        "string": fault.faultstring,
        "detail": fault.detail.splitlines() if fault.detail else [],
        "filename": None,
        "lineno": None,
        "hint": fault.hint,
    }


def dumps_bytes(obj: object) -> bytes:
    """Serialise to UTF-8 JSON (non-ASCII written raw, as Ladon 1.0 did)."""
    text = _encode(obj)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: escape them instead
        return _ASCII_ENCODER.encode(obj).encode("ascii")


def dumps_value(value: object) -> bytes:
    """Serialise one value as :func:`dumps_bytes` does, a long string
    without per-character escaping when it needs none."""
    if type(value) is int:  # PERF: an int's JSON text is its decimal digits
        return str(value).encode("ascii")
    if type(value) is str and len(value) >= _LONG_TEXT:
        fast = _plain_text(value)
        if fast is not None:
            return fast
    return dumps_bytes(value)


#: Strings from this length on are checked for the fast path of dumps_value.
_LONG_TEXT = 512
#: The bytes a JSON string escapes (with non-ASCII written raw): control
#: characters, the quote and the backslash. In UTF-8 they never occur inside
#: the encoding of another character.
_ESCAPED = bytes(range(32)) + b'"\\'
#: Every other byte.
_UNESCAPED = bytes(b for b in range(256) if b not in _ESCAPED)


def _plain_text(text: str) -> bytes | None:
    """The UTF-8 JSON string of ``text`` when it needs no escaping (else
    ``None``): found with one C pass over the bytes, where the encoder
    looks at every character in turn."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return None
    # PERF: what is left once every byte that needs no escape is deleted
    # (empty, the usual case: nothing is copied)
    if data.translate(None, _UNESCAPED):
        return None
    return b'"' + data + b'"'
