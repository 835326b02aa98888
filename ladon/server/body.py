"""Reading request bodies with a size limit, before anything parses them."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import LengthRequired
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.exceptions import UnsupportedMediaType

from ..wire.multipart import MultipartError
from ..wire.multipart import MultipartLimits
from ..wire.multipart import Part
from ..wire.multipart import boundary_of
from ..wire.multipart import read_multipart

logger = logging.getLogger("ladon")

_CHUNK = 64 * 1024


def declared_length(environ: Mapping[str, Any], limit: int) -> int | None:
    """The request's Content-Length, or ``None`` when it has none.

    :raises BadRequest: it is not a non-negative number.
    :raises RequestEntityTooLarge: it is over ``limit``.
    """
    length = environ.get("CONTENT_LENGTH", "")
    if length in ("", None):
        return None
    text = str(length).strip()
    if not text.isdigit():
        raise BadRequest("Content-Length must be a non-negative number")
    n = int(text)
    if n > limit:
        raise RequestEntityTooLarge(f"The request body is over the limit of {limit} bytes")
    return n


def _terminated(environ: Mapping[str, Any]) -> bool:
    """Whether the body's end can be found without a length (chunked)."""
    chunked = "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower()
    return bool(environ.get("wsgi.input_terminated") or chunked)


def content_coding(environ: Mapping[str, Any]) -> str:
    """The request's Content-Encoding, lower case ('' for none or identity).

    :raises UnsupportedMediaType: a coding other than gzip or deflate.
    """
    coding = str(environ.get("HTTP_CONTENT_ENCODING", "")).strip().lower()
    if coding in ("", "identity"):
        return ""
    if coding not in ("gzip", "x-gzip", "deflate"):
        raise UnsupportedMediaType(
            f"Content-Encoding must be gzip or deflate (or none), not {coding[:30]!r}"
        )
    return coding


def decompress(data: bytes, coding: str, limit: int) -> bytes:
    """Decode a gzip or deflate request body, refusing more than ``limit``
    bytes of output (a small body can decompress to gigabytes).

    :raises RequestEntityTooLarge: the decoded body is over ``limit``.
    :raises BadRequest: the body is not valid for its coding.
    """
    wbits = 16 + zlib.MAX_WBITS if coding in ("gzip", "x-gzip") else zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(data, limit + 1)
        if len(out) <= limit and not inflater.unconsumed_tail:
            out += inflater.flush()
    except zlib.error:
        raise BadRequest(f"The request body is not valid {coding} data") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise RequestEntityTooLarge(f"The decoded request body is over the limit of {limit} bytes")
    if not inflater.eof:
        raise BadRequest(f"The request body is truncated {coding} data")
    return out


def _read(stream: Any, n: int) -> bytes:
    """``stream.read(n)``; a read the server fails (the client went away,
    a malformed chunked body: ``OSError``, gunicorn's ``NoMoreData``,
    mod_wsgi's "request data read error") is the client's 400.

    :raises BadRequest: the body could not be read.
    """
    try:
        data: bytes = stream.read(n)
    except Exception as exc:
        logger.info("The request body could not be read: %s", type(exc).__name__)
        raise BadRequest(
            "The request body could not be read (the connection broke, or a chunked "
            "body is malformed)"
        ) from None
    return data


def read_body(environ: Mapping[str, Any], limit: int) -> bytes:
    """Read the whole request body (decoded when it has a Content-Encoding),
    refusing more than ``limit`` bytes before and after decoding.

    :raises UnsupportedMediaType: an unknown Content-Encoding (415).
    """
    if not environ.get("HTTP_CONTENT_ENCODING"):
        # PERF: the usual request, a plain body with a Content-Length.
        length = environ.get("CONTENT_LENGTH")
        if isinstance(length, str) and length.isascii() and length.isdigit():
            n = int(length)
            if n <= limit:
                data: bytes = _read(environ["wsgi.input"], n) if n else b""
                if len(data) == n:
                    return data
    coding = content_coding(environ)
    data = _read_raw(environ, limit)
    return decompress(data, coding, limit) if coding else data


def _read_raw(environ: Mapping[str, Any], limit: int) -> bytes:
    """Read the whole request body, refusing more than ``limit`` bytes.

    A declared Content-Length above the limit is refused before reading; a
    body without a length (chunked) is read up to the limit and refused,
    never truncated, if it goes beyond.

    :raises RequestEntityTooLarge: the body is over the limit (413).
    :raises BadRequest: Content-Length is not a number, or the body is
        shorter than it says (400).
    :raises LengthRequired: no length and no way to find the end (411).
    """
    stream = environ["wsgi.input"]
    n = declared_length(environ, limit)
    if n is not None:
        data: bytes = _read(stream, n) if n else b""
        if len(data) < n:
            raise BadRequest("The request body is shorter than its Content-Length")
        return data
    if not _terminated(environ):
        if environ.get("REQUEST_METHOD") == "POST":
            raise LengthRequired("A request body needs a Content-Length")
        return b""
    parts: list[bytes] = []
    size = 0
    while True:
        chunk = _read(stream, min(_CHUNK, limit + 1 - size))
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            raise RequestEntityTooLarge(f"The request body is over the limit of {limit} bytes")
    return b"".join(parts)


def body_reader(environ: Mapping[str, Any], limit: int) -> Callable[[int], bytes]:
    """``read(n)`` over the request body that stops at its end: at the
    Content-Length, or at the end of a chunked (terminated) body.

    :param limit: most bytes the whole body may have.
    :raises RequestEntityTooLarge: the declared length is over ``limit``.
    :raises BadRequest: the Content-Length is not a number.
    :raises LengthRequired: no length and no way to find the end.
    """
    stream = environ["wsgi.input"]
    n = declared_length(environ, limit)
    if n is not None:
        remaining = [n]

        def read_known(n: int) -> bytes:
            if remaining[0] <= 0:
                return b""
            data: bytes = _read(stream, min(n, remaining[0]))
            if not data:
                raise MultipartError("The request body is shorter than its Content-Length")
            remaining[0] -= len(data)
            return data

        return read_known
    if not _terminated(environ):
        raise LengthRequired("A request body needs a Content-Length")

    def read_all(n: int) -> bytes:
        return _read(stream, n)

    return read_all


def read_parts(
    environ: Mapping[str, Any], content_type: str, limits: MultipartLimits
) -> list[Part]:
    """Read a multipart request body into its parts (see
    :func:`ladon.wire.multipart.read_multipart`).

    :raises MultipartError: the body is malformed or has no boundary.
    :raises AttachmentLimitExceeded: it carries too much.
    """
    boundary = boundary_of(content_type)
    if boundary is None:
        raise MultipartError("The multipart content type has no boundary parameter")
    slack = 64 * 1024 + limits.max_parts * 4096
    read = body_reader(environ, limits.max_root + limits.max_attachment_bytes + slack)
    return read_multipart(read, boundary, limits)
