"""SOAP values: reading request elements into plain values guided by the
declared types, and writing plain result values as SOAP markup. The XML
itself is parsed by :mod:`ladon.wire.xml`."""

from __future__ import annotations

import base64
import binascii
import functools
import re
from typing import Any
from typing import cast

from lxml import etree

from ..exceptions.service import ArgumentError
from ..exceptions.service import ResultError
from ..types._describe import describe_value
from ..types.attachment import attachment
from ..types.constraints import LONG_MAX as LONG_MAX
from ..types.constraints import LONG_MIN as LONG_MIN
from ..types.ladontype import LadonType
from ..types.spec import PRIMITIVES
from ..types.spec import Constrained
from ..types.spec import ListOf
from ..types.spec import TypeSpec
from ..types.spec import base_of
from ..types.spec import is_attachment
from ..wire.schema import XOP
from ..wire.schema import XOP_INCLUDE
from ..wire.schema import XSD_TYPES
from ..wire.schema import array_name
from ..wire.schema import item_name
from ..wire.schema import restricted_inline
from ..wire.xml import escape
from ..wire.xml import local


@functools.lru_cache(maxsize=4096)
def param_name(tag: str) -> str:
    """The Python name of an element tag: local name, ``-`` read as ``_``."""
    return tag.rpartition("}")[2].replace("-", "_")


def wire_name(name: str) -> str:
    """Python name -> XML element name (``_`` written as ``-``, as Ladon 1.0)."""
    return name.replace("_", "-")


def py_name(name: str) -> str:
    return name.replace("-", "_")


def is_nil(el: etree._Element) -> bool:
    for key, value in el.attrib.items():
        if local(key) == "nil" and value.strip() in ("true", "1"):
            return True
    return False


#: Types whose XML form is plain text.
_TEXT_TYPES = frozenset(PRIMITIVES)
_ITEMS_COMPLEX = etree.XPath("boolean(*/@* | */*)")


def to_plain(el: etree._Element, spec: TypeSpec, path: str = "") -> Any:
    """Read an element as a plain value, guided by the expected type.

    Lists take every child element in order (normally ``item``); objects
    take children by local name (``-`` read as ``_``); other values take the
    element's text exactly as sent (whitespace and entities preserved).
    What does not fit the type is returned in a shape ``load()`` refuses
    with a message naming the argument: text where a list or an object was
    expected is returned as text, child elements where a value was expected
    as an (empty) object.

    :param path: where the element sits (``items[3].name``), for errors.
    :raises ArgumentError: a field of an object is given twice, or an
        ``int`` is beyond ``xsd:long`` (see :func:`check_long`).
    """
    if el.attrib and is_nil(el):
        return None
    spec = base_of(spec)
    if spec in _TEXT_TYPES:
        if len(el):
            return {}
        text = el.text or ""
        if spec is int and len(text) > _SAFE_DIGITS:
            check_long(text, path)
        return text
    if isinstance(spec, ListOf):
        return _list_plain(el, spec, path)
    if is_attachment(spec):
        return _attachment_value(el, path)
    if isinstance(spec, type) and issubclass(spec, LadonType):
        fields = {f.name: f.type for f in spec.ladon_type_info().fields}
        out: dict[str, Any] = {}
        for c in el:
            name = py_name(local(c.tag))
            ftype = fields.get(name)
            if ftype is not None:
                if name in out:
                    raise ArgumentError(f"{path}.{name}", "is given more than once")
                out[name] = to_plain(c, ftype, f"{path}.{name}")
        if not out and el.text and el.text.strip():
            return el.text  # text where an object was expected: let load() say so
        return out
    if len(el):
        return {}  # elements where a value was expected: load() refuses an object
    return el.text or ""


def _list_plain(el: etree._Element, spec: ListOf, path: str) -> Any:
    """:func:`to_plain` of a list."""
    item = spec.item
    if item in _TEXT_TYPES and len(el) and not _ITEMS_COMPLEX(el):
        # PERF: the common list of numbers or strings. When no item has
        # attributes or children (one XPath test), their texts are the
        # values; an item without text takes the loop. (The parser drops
        # comments and PIs: every child is an element.) On a fresh tree
        # this beats an XPath collecting the text nodes.
        texts = [c.text for c in el]
        if None not in texts:
            if item is int and max(map(len, cast("list[str]", texts))) > _SAFE_DIGITS:
                _check_long_items(texts, path)
            return texts
    items = [c for c in el if isinstance(c.tag, str)]
    if not items and el.text and el.text.strip():
        # Text where a list was expected, e.g. suds given a plain Python
        # list for a wrapper array sends <numbers>1</numbers><numbers>2</numbers>:
        # let load() say so instead of reading an empty list.
        return el.text
    if item in _TEXT_TYPES:
        values = [
            (None if c.attrib and is_nil(c) else {} if len(c) else (c.text or "")) for c in items
        ]
        if item is int:
            _check_long_items(values, path)
        return values
    return [to_plain(c, item, f"{path}[{i}]") for i, c in enumerate(items)]


# LONG_MIN, LONG_MAX: the range of ``xsd:long``, the type the WSDLs publish for ``int``.
_LONG_RANGE = f"{LONG_MIN} to {LONG_MAX}"
#: Longest text that is always within it when it is an integer at all (18
#: digits, or 17 and a sign): longer ones are parsed and checked.
_SAFE_DIGITS = 18
_INTEGER = re.compile(r"[ \t\n\r]*[+-]?[0-9]+[ \t\n\r]*\Z")


def check_long(text: str, path: str) -> None:
    """Refuse the text of an ``int`` argument whose integer is beyond
    ``xsd:long``, the type the WSDL declares: a demanding client (or a
    schema-validating intermediary) would refuse it, so the server does
    too. Text that is not an integer is left to the conversion, which says
    so.

    .. versionadded:: 2.0

    :raises ArgumentError: the integer is out of range.
    """
    if not _INTEGER.match(text):
        return
    try:
        if LONG_MIN <= int(text) <= LONG_MAX:
            return
    except ValueError:  # more digits than int() reads: out of range all the same
        pass
    digits = text.strip()
    shown = digits if len(digits) <= 40 else digits[:37] + "..."
    raise ArgumentError(
        path,
        f"the integer is out of the range of xsd:long (64 bits) the WSDL publishes "
        f"({_LONG_RANGE}), got {shown}",
    )


def _check_long_items(values: list[Any], path: str) -> None:
    """:func:`check_long` on the texts of a list of ints (items ``path[i]``)."""
    for i, v in enumerate(values):
        if type(v) is str and len(v) > _SAFE_DIGITS:
            check_long(v, f"{path}[{i}]")


_REFERENCE = re.compile(r"\s*cidx?\s*:", re.IGNORECASE)


def _attachment_value(el: etree._Element, path: str) -> str | bytes:
    """An attachment argument: a ``cid:`` reference to a MIME part (an
    ``xop:Include`` child, an ``href`` attribute as in SOAP with
    Attachments, or ``cid:...``/``cidx:...`` text as a ``swaRef``), else
    base64 text decoded to bytes.

    :raises ArgumentError: text that is neither base64 nor a reference.
    """
    for child in el:
        if child.tag == XOP_INCLUDE:
            return str(child.get("href", ""))
    href = el.get("href")
    if href is not None:
        return href
    text = el.text or ""
    if _REFERENCE.match(text):
        return text.strip()
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ArgumentError(
            path,
            "is neither valid base64 (xsd:base64Binary) nor an attachment reference "
            f"(cid:<Content-ID> or cidx:<index>): got {describe_value(text.strip())}",
        ) from None


def text_of(value: object) -> str:
    """The XML text of a plain scalar."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write(
    out: list[str],
    tag: str,
    spec: TypeSpec,
    value: Any,
    prefix: str,
    files: list[attachment] | None = None,
    python_names: bool = False,
    typed: str | None = None,
) -> None:
    """Append the markup of ``<tag>`` holding a plain value of type ``spec``.

    NOTE: responses are written as text, not built as an lxml tree: it is
    several times faster, and the markup is simple enough to escape by hand.

    :param tag: the element name, with its prefix if any.
    :param prefix: prefix of nested elements (items, fields), e.g. ``"arr:"``.
    :param files: where attachments go when the answer is multipart: each
        is appended and written as an ``xop:Include`` of its part; without
        it attachments are written inline, as base64.
    :param python_names: field elements take the Python names as they are
        (else ``_`` is written ``-``, as in Ladon 1.0).
    :param typed: write ``xsi:type`` on every value (rpc/encoded), naming
        the types of the service with this prefix (e.g. ``"ns"``).
    """
    declared = spec  # its xsi:type names a constrained type as the WSDL does
    if isinstance(spec, Constrained):
        spec = spec.base
    if value is None:
        out.append(f'<{tag} xsi:nil="true"/>')
    elif isinstance(spec, ListOf):
        out.append(f"<{tag}{xsi_type(declared, typed)}>" if typed else f"<{tag}>")
        item_tag, item = prefix + "item", spec.item
        for i, v in enumerate(value):
            try:
                write(out, item_tag, item, v, prefix, files, python_names, typed)
            except ResultError as exc:
                raise exc.within(f"[{i}]") from None
        out.append(f"</{tag}>")
    elif isinstance(spec, type) and issubclass(spec, LadonType):
        out.append(f"<{tag}{xsi_type(declared, typed)}>" if typed else f"<{tag}>")
        write_fields(out, spec, value, prefix, prefix, files, python_names, typed)
        out.append(f"</{tag}>")
    elif spec is int and type(value) is int:
        if not LONG_MIN <= value <= LONG_MAX:
            # The WSDL publishes int as xsd:long: never send more than it says.
            # (the path is the value's own: the callers above prefix theirs)
            raise ResultError(
                "",
                "the integer is out of the range of xsd:long (64 bits) the WSDL publishes "
                f"({_LONG_RANGE})",
            )
        attr = xsi_type(declared, typed) if typed else ""
        out.append(f"<{tag}{attr}>{value}</{tag}>")
    elif isinstance(value, attachment):
        attr = xsi_type(declared, typed) if typed else ""
        if files is None:
            data = base64.b64encode(value.read()).decode("ascii")
            out.append(f"<{tag}{attr}>{data}</{tag}>")
        else:
            files.append(value)
            out.append(
                f'<{tag}{attr}><xop:Include xmlns:xop="{XOP}" '
                f'href="cid:{part_id(len(files))}"/></{tag}>'
            )
    elif typed:
        out.append(f"<{tag}{xsi_type(declared, typed)}>{escape(text_of(value))}</{tag}>")
    else:
        out.append(f"<{tag}>{escape(text_of(value))}</{tag}>")


def xsi_type(spec: TypeSpec, prefix: str | None) -> str:
    """The `` xsi:type="..."`` attribute of a value of ``spec`` (types of the
    service named with ``prefix``, XML Schema's with ``xsd``)."""
    return _xsi_type(spec, prefix)


@functools.lru_cache(maxsize=4096)  # bounded: specs are the services' own
def _xsi_type(given: object, prefix: str | None) -> str:
    spec: TypeSpec = given  # type: ignore[assignment]
    if isinstance(spec, ListOf):
        attr = f' xsi:type="{prefix}:{array_name(spec)}"'
    elif isinstance(spec, Constrained):
        if restricted_inline(spec):
            # its base type: suds converts a value only by a built-in type
            # (and the restriction is an XSD type of that value all the same)
            return _xsi_type(spec.base, prefix)
        attr = f' xsi:type="{prefix}:{item_name(spec)}"'  # as the WSDL names it
    elif isinstance(spec, type) and issubclass(spec, LadonType):
        attr = f' xsi:type="{prefix}:{spec.__name__}"'
    elif is_attachment(spec):
        attr = ' xsi:type="xsd:base64Binary"'
    else:
        attr = f' xsi:type="xsd:{XSD_TYPES[spec]}"'
    return attr


def part_id(n: int) -> str:
    """The Content-ID (without angle brackets) of the n-th attachment of an answer."""
    return f"ladon-attachment-{n}"


def write_fields(
    out: list[str],
    cls: type[LadonType],
    value: dict[str, Any],
    tag_prefix: str,
    prefix: str,
    files: list[attachment] | None = None,
    python_names: bool = False,
    typed: str | None = None,
) -> None:
    """Append one element per field of a plain object value (the arguments
    are those of :func:`write`)."""
    for f in cls.ladon_type_info().fields:
        name = f.name if python_names else wire_name(f.name)
        try:
            write(out, tag_prefix + name, f.type, value[f.name], prefix, files, python_names, typed)
        except ResultError as exc:
            raise exc.within(f.name) from None
