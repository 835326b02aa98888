"""Reading request bodies with a size limit, before anything parses them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import LengthRequired
from werkzeug.exceptions import RequestEntityTooLarge

_CHUNK = 64 * 1024


def read_body(environ: Mapping[str, Any], limit: int) -> bytes:
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
    length = environ.get("CONTENT_LENGTH", "")
    if length not in ("", None):
        text = str(length).strip()
        if not text.isdigit():
            raise BadRequest("Content-Length must be a non-negative number")
        n = int(text)
        if n > limit:
            raise RequestEntityTooLarge(f"The request body is over the limit of {limit} bytes")
        data: bytes = stream.read(n) if n else b""
        if len(data) < n:
            raise BadRequest("The request body is shorter than its Content-Length")
        return data
    chunked = "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower()
    if not (environ.get("wsgi.input_terminated") or chunked):
        if environ.get("REQUEST_METHOD") == "POST":
            raise LengthRequired("A request body needs a Content-Length")
        return b""
    parts: list[bytes] = []
    size = 0
    while True:
        chunk = stream.read(min(_CHUNK, limit + 1 - size))
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            raise RequestEntityTooLarge(f"The request body is over the limit of {limit} bytes")
    return b"".join(parts)
