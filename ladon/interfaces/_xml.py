"""Safe XML parsing and type-directed reading and writing of XML values."""

from __future__ import annotations

import base64
import binascii
import functools
import re
import threading
from typing import Any

from lxml import etree

from ..exceptions.service import ArgumentError
from ..exceptions.service import MalformedRequest
from ..types.attachment import attachment
from ..types.ladontype import LadonType
from ..types.spec import PRIMITIVES
from ..types.spec import ListOf
from ..types.spec import TypeSpec
from ..types.spec import is_attachment

XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"
XSI_NIL = f"{{{XSI}}}nil"
XOP = "http://www.w3.org/2004/08/xop/include"
XOP_INCLUDE = f"{{{XOP}}}Include"


_local = threading.local()


def safe_parser(recover: bool = False) -> etree.XMLParser:
    """A new parser for untrusted documents: no entity expansion, no DTD
    loading, no network, comments and PIs dropped; lxml's size and depth
    limits stay on (``huge_tree`` off)."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        recover=recover,
    )


def _parser() -> etree.XMLParser:
    """This thread's :func:`safe_parser` (lxml parsers may not be shared
    between threads; making one per request cost a tenth of a small call)."""
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = safe_parser()
    return parser


def parse_xml(body: bytes) -> etree._Element:
    """Parse a request document.

    :raises MalformedRequest: not well-formed XML, or a DOCTYPE is present.
    """
    if not body.strip():
        raise MalformedRequest("The request body is empty; expected an XML document")
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        raise MalformedRequest(f"The request is not well-formed XML: {exc.msg}") from None
    except ValueError as exc:  # e.g. bytes that lxml cannot take at all
        raise MalformedRequest(f"The request is not well-formed XML: {exc}") from None
    # PERF: an ASCII-compatible document without the text "<!DOCTYPE" has
    # none; others (UTF-16...) are asked.
    if b"<!DOCTYPE" in body or body[:1] not in _ASCII_STARTS or b"\x00" in body[:4]:
        doctype: Any = root.getroottree().docinfo  # lxml-stubs lack DocInfo.doctype
        if doctype.doctype or doctype.internalDTD is not None:
            raise MalformedRequest("A DOCTYPE is not allowed in the request")
    return root


_ASCII_STARTS = frozenset(bytes([b]) for b in b"<\t\r\n ")


@functools.lru_cache(maxsize=4096)
def param_name(tag: str) -> str:
    """The Python name of an element tag: local name, ``-`` read as ``_``."""
    return tag.rpartition("}")[2].replace("-", "_")


def local(tag: object) -> str:
    """The local name of an element tag ('' for comments and the like)."""
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


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
_ITEM_TEXTS = etree.XPath("*/text()", smart_strings=False)


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
    :raises ArgumentError: a field of an object is given twice.
    """
    if el.attrib and is_nil(el):
        return None
    if spec in _TEXT_TYPES:
        return {} if len(el) else (el.text or "")
    if isinstance(spec, ListOf):
        item = spec.item
        if item in _TEXT_TYPES and len(el) and not _ITEMS_COMPLEX(el):
            # PERF: the common list of numbers or strings. When no item has
            # attributes or children, XPath hands over all the texts at once
            # (no element proxy per item); an item without text takes the loop.
            # (The parser drops comments and PIs: every child is an element.)
            texts = _ITEM_TEXTS(el)
            if isinstance(texts, list) and len(texts) == len(el):
                return texts
        items = [c for c in el if isinstance(c.tag, str)]
        if not items and el.text and el.text.strip():
            # Text where a list was expected, e.g. suds given a plain Python
            # list for a wrapper array sends <numbers>1</numbers><numbers>2</numbers>:
            # let load() say so instead of reading an empty list.
            return el.text
        if item in _TEXT_TYPES:
            return [
                (None if c.attrib and is_nil(c) else {} if len(c) else (c.text or ""))
                for c in items
            ]
        return [to_plain(c, item, f"{path}[{i}]") for i, c in enumerate(items)]
    if is_attachment(spec):
        return _attachment_value(el)
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


def _attachment_value(el: etree._Element) -> str | bytes:
    """An attachment argument: a ``cid:`` reference to a MIME part (an
    ``xop:Include`` child, an ``href`` attribute as in SOAP with
    Attachments, or ``cid:...`` text as a ``swaRef``), else base64 text
    decoded to bytes (text that is not base64 is returned as is, for
    ``load()`` to refuse)."""
    for child in el:
        if child.tag == XOP_INCLUDE:
            return str(child.get("href", ""))
    href = el.get("href")
    if href is not None:
        return href
    text = (el.text or "").strip()
    if text[:4].lower() == "cid:":
        return text
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return text


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry (for fault texts
    and descriptions, which must always be sent)."""
    if not _ILLEGAL.search(text):
        return text
    return _ILLEGAL.sub("", text)


_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def escape(text: str) -> str:
    """Escape text for XML content; ``\\r`` is kept as ``&#13;``.

    :raises ValueError: the text holds characters XML 1.0 cannot carry.
    """
    if _ILLEGAL.search(text):
        raise ValueError("the text holds characters that XML cannot carry")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\r", "&#13;") if "\r" in text else text


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
) -> None:
    """Append the markup of ``<tag>`` holding a plain value of type ``spec``.

    NOTE: responses are written as text, not built as an lxml tree: it is
    several times faster, and the markup is simple enough to escape by hand.

    :param tag: the element name, with its prefix if any.
    :param prefix: prefix of nested elements (items, fields), e.g. ``"arr:"``.
    :param files: where attachments go when the answer is multipart: each
        is appended and written as an ``xop:Include`` of its part; without
        it attachments are written inline, as base64.
    """
    if value is None:
        out.append(f'<{tag} xsi:nil="true"/>')
    elif isinstance(spec, ListOf):
        out.append(f"<{tag}>")
        item_tag, item = prefix + "item", spec.item
        for v in value:
            write(out, item_tag, item, v, prefix, files)
        out.append(f"</{tag}>")
    elif isinstance(spec, type) and issubclass(spec, LadonType):
        out.append(f"<{tag}>")
        write_fields(out, spec, value, prefix, prefix, files)
        out.append(f"</{tag}>")
    elif isinstance(value, attachment):
        if files is None:
            out.append(f"<{tag}>{base64.b64encode(value.read()).decode('ascii')}</{tag}>")
        else:
            files.append(value)
            out.append(
                f'<{tag}><xop:Include xmlns:xop="{XOP}" href="cid:{part_id(len(files))}"/></{tag}>'
            )
    else:
        out.append(f"<{tag}>{escape(text_of(value))}</{tag}>")


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
) -> None:
    """Append one element per field of a plain object value."""
    for f in cls.ladon_type_info().fields:
        write(out, tag_prefix + wire_name(f.name), f.type, value[f.name], prefix, files)
