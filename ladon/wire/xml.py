"""XML from untrusted clients: parsing with every dangerous feature off, and
the text rules of XML 1.0 for what the server writes.

.. versionadded:: 2.0
"""

from __future__ import annotations

import codecs
import functools
import re
import threading
from typing import Any

from lxml import etree

from ..exceptions.service import MalformedRequest

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


#: The most bytes given to the push parser at once (see :func:`parse_xml`).
_FEED_SLICE = 1024 * 1024

_ASCII_STARTS = frozenset(bytes([b]) for b in b"<\t\r\n ")
_DECLARES_ENCODING = re.compile(rb"\s*<\?xml[^>]*?\sencoding\s*=")
_UTF8 = frozenset({"utf-8", "utf8", "UTF-8", "UTF8"})


@functools.lru_cache(maxsize=64)
def _text_codec(charset: str) -> str | None:
    try:
        info = codecs.lookup(charset)
    except (LookupError, ValueError):
        return None
    return info.name if getattr(info, "_is_text_encoding", True) else None


def in_declared_charset(body: bytes, charset: str | None, strict: bool = False) -> bytes:
    """``body`` as UTF-8 when the request's Content-Type ``charset`` says
    how a document that does not name its own encoding (no byte order
    mark, no ``encoding`` in an XML declaration) is encoded: XML 1.0
    appendix F.2, RFC 7303; Ladon 1.0 read the charset too. Else ``body``
    itself, for the document's own rule (else UTF-8): no charset, UTF-8
    (or ASCII, which UTF-8 reads too), one Python does not know as a text
    encoding, or a document that names its encoding.

    :param strict: a charset Python does not know as a text encoding is
        refused rather than left to the document's rule.
    :raises MalformedRequest: the bytes are not valid in that charset; or
        (``strict``) the charset is unknown.

    .. versionadded:: 2.0
    """
    if charset is None or charset in _UTF8:
        return body  # PERF: the usual request
    codec = _text_codec(charset.strip().strip('"'))
    if codec is None and strict:
        raise MalformedRequest(f"Unknown charset {charset[:40]!r} in Content-Type")
    if body[:1] not in _ASCII_STARTS:
        return body  # a BOM or UTF-16 speaks for itself
    # NOTE: ASCII is read as UTF-8, its superset (a client saying us-ascii
    # while sending UTF-8 is not refused)
    if codec in (None, "utf-8", "ascii") or _DECLARES_ENCODING.match(body, 0, 200):
        return body
    try:
        # NOTE: decoded by Python, which knows more charsets than libxml2
        return body.decode(codec).encode("utf-8", "surrogatepass")
    except UnicodeDecodeError as exc:
        raise MalformedRequest(
            f"The request is not well-formed XML: byte {exc.start} is not valid {codec} "
            "(the Content-Type's charset)"
        ) from None
    except UnicodeError:  # codecs such as "undefined" or "idna" raise only this
        raise MalformedRequest(
            f"The request cannot be decoded as {codec} (the Content-Type's charset)"
        ) from None


def parse_xml(body: bytes, charset: str | None = None, strict: bool = False) -> etree._Element:
    """Parse a request document.

    :param charset: the ``charset`` of the request's Content-Type (see
        :func:`in_declared_charset`).
    :param strict: refuse a ``charset`` Python does not know (see
        :func:`in_declared_charset`).
    :raises MalformedRequest: not well-formed XML, or a DOCTYPE is present.
    """
    if not body:
        raise MalformedRequest("The request body is empty; expected an XML document")
    if body.isspace():
        raise MalformedRequest("The request body holds only blanks; expected an XML document")
    if charset is not None and charset not in _UTF8:  # PERF: in_declared_charset's first case
        body = in_declared_charset(body, charset, strict)
    parser = getattr(_local, "parser", None) or _parser()
    try:
        # PERF: the parser's push interface reuses its parser context
        # (fromstring() sets one up per call: a tenth of a minmax(100) parse
        # goes in its allocations)
        if len(body) <= _FEED_SLICE:
            parser.feed(body)
        else:
            # NOTE: in slices: libxml2 (huge_tree off) refuses an input
            # buffer over 10,000,000 bytes, so a body fed whole would be
            # refused for its size alone, below max_content_length
            for start in range(0, len(body), _FEED_SLICE):
                parser.feed(body[start : start + _FEED_SLICE])
        root = parser.close()
    except etree.XMLSyntaxError as exc:  # the parser is ready for the next document
        if len(body) > _FEED_SLICE:
            raise refused_document(exc) from None
        # NOTE: read again as before the push interface: the same document
        # refused, with libxml2's first error (the push parser may report a
        # later one: "no element found" for an undefined entity), or read
        # (the push parser refuses UTF-32 with a byte order mark)
        try:
            root = etree.fromstring(body, parser)
        except etree.XMLSyntaxError as first:
            raise refused_document(first) from None
        except ValueError as other:
            raise MalformedRequest(f"The request is not well-formed XML: {other}") from None
    except ValueError as exc:  # e.g. bytes that lxml cannot take at all
        _reset(parser)
        raise MalformedRequest(f"The request is not well-formed XML: {exc}") from None
    except BaseException:
        _reset(parser)
        raise
    if (body[:1] != b"<" or body[1:2] in _NOT_A_TAG) and not _root_comes_first(body):
        doctype: Any = root.getroottree().docinfo  # lxml-stubs lack DocInfo.doctype
        if doctype.doctype or doctype.internalDTD is not None:
            raise MalformedRequest("A DOCTYPE is not allowed in the request")
    return root


#: libxml2's limit on one text, attribute value or CDATA section, in bytes,
#: without ``XML_PARSE_HUGE`` (``huge_tree``, which stays off).
MAX_TEXT_BYTES = 10_000_000
#: What libxml2 says when a value is over :data:`MAX_TEXT_BYTES`.
_TOO_LARGE = (
    "Text node too long",
    "Buffer size limit exceeded",
    "CData section too big",
    "AttValue length too long",
)
#: What a client whose value is too large can do instead.
ATTACHMENTS_HINT = (
    "send large files as attachments (MTOM/XOP on soap and soap12, multipart on jsonwsp and http)"
)


def refused_document(exc: etree.XMLSyntaxError, hint: str = ATTACHMENTS_HINT) -> MalformedRequest:
    """The client fault for a document the parser refused: not well-formed,
    or holding a value over :data:`MAX_TEXT_BYTES` (said plainly, with
    ``hint``, rather than as libxml2's "try XML_PARSE_HUGE").

    .. versionadded:: 2.0
    """
    message = exc.msg or ""
    if any(text in message for text in _TOO_LARGE):
        return MalformedRequest(
            f"The request holds a text over {MAX_TEXT_BYTES:,} bytes (the XML parser's "
            f"limit for one value): {hint}"
        )
    return MalformedRequest(f"The request is not well-formed XML: {message}")


def _reset(parser: etree.XMLParser) -> None:
    """Make a parser whose document failed other than by a syntax error
    (after which lxml resets it) ready for the next one."""
    try:
        parser.close()
    except (etree.XMLSyntaxError, ValueError):
        pass  # the half-read document's own error: closed all the same


_XML_BLANKS = b" \t\r\n"
#: What follows ``<`` in markup that is not an element's start tag (and
#: UTF-16's NUL, and nothing at all).
_NOT_A_TAG = frozenset({b"?", b"!", b"\x00", b""})


def _root_comes_first(body: bytes) -> bool:
    """Whether a well-formed document's first markup is its root element,
    maybe after an XML declaration and blanks: then it has no DOCTYPE,
    which may only come before the root (XML 1.0, 2.8). PERF: a look at a
    few bytes instead of a search of the whole body; any other start (a
    comment, a PI, a byte order mark, UTF-16...) is answered by asking the
    parsed document."""
    start = 0
    if body[:5] == b"<?xml":
        end = body.find(b"?>", 5, 300)  # no value of a declaration holds "?>"
        if end < 0:
            return False
        start = end + 2
        if body[start : start + 1] in _XML_BLANKS:
            head = body[start : start + 64]
            rest = head.lstrip(_XML_BLANKS)
            if not rest:
                return False
            start += len(head) - len(rest)
    return body[start : start + 1] == b"<" and body[start + 1 : start + 2] not in _NOT_A_TAG


def local(tag: object) -> str:
    """The local name of an element tag ('' for comments and the like)."""
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry (for fault texts
    and descriptions, which must always be sent)."""
    if not _ILLEGAL.search(text):
        return text
    return _ILLEGAL.sub("", text)


def escape(text: str) -> str:
    """Escape text for XML content; ``\\r`` is kept as ``&#13;``.

    :raises ValueError: the text holds characters XML 1.0 cannot carry.
    """
    if _ILLEGAL.search(text):
        raise ValueError("the text holds characters that XML cannot carry")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\r", "&#13;") if "\r" in text else text
