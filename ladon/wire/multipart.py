"""MIME ``multipart/related`` bodies, read and written as streams.

Requests and responses that carry attachments (JSON-WSP with files, SOAP
with attachments) are ``multipart/related``: the first part is the protocol
message, every further part one attachment, named by its ``Content-ID``.

:func:`read_multipart` parses such a body from a stream without holding it
whole in memory: the first (root) part is kept in memory up to a limit,
every other part goes to a :class:`tempfile.SpooledTemporaryFile` that moves
to an anonymous file on disk above a threshold (anonymous files disappear
when closed, or when the process dies). Limits on the number of parts and
on their total size are checked while reading.

:class:`MultipartWriter` is the other direction: an iterable of byte chunks
(with a ``close()``) that streams the parts of a response from the files
they sit in.

Both are plain code over file-like objects (no sockets, no WSGI), used by
the server, the interfaces and :class:`ladon.clients.jsonwsp.JSONWSPClient`.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import tempfile
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import IO
from typing import Any

from ..exceptions.service import ClientFault
from ..exceptions.service import MalformedRequest
from ..types.attachment import attachment

_CHUNK = 64 * 1024
#: Largest header block of one part.
MAX_HEADER_BYTES = 16 * 1024
#: Largest preamble (text before the first boundary) skipped.
MAX_PREAMBLE_BYTES = 64 * 1024
_BOUNDARY_RE = re.compile(r"""boundary\s*=\s*(?:"([^"]{1,200})"|([^;,\s"]{1,200}))""", re.I)
_UNSAFE_HEADER = re.compile(r"[\r\n\x00]")


class MultipartError(MalformedRequest):
    """The multipart body is malformed (HTTP 400 where the protocol lets the
    status vary: a bad HTTP body, not a fault of the service).

    .. versionadded:: 2.0
    """

    http_status: int | None = 400
    about_request = True


class AttachmentLimitExceeded(ClientFault):
    """The request carries more attachments, or more attachment bytes, than
    the application accepts. Answered with HTTP 413 where the protocol lets
    the status vary.

    .. versionadded:: 2.0
    """

    http_status: int | None = 413
    about_request = True


@dataclass(frozen=True, slots=True)
class MultipartLimits:
    """How much a multipart request may carry.

    :param max_root: bytes of the first (protocol) part.
    :param max_parts: attachments (parts after the first).
    :param max_attachment_bytes: bytes of all attachments together.
    :param spool_threshold: attachment bytes kept in memory before moving
        the part to a file on disk.

    .. versionadded:: 2.0
    """

    max_root: int = 16 * 1024 * 1024
    max_parts: int = 100
    max_attachment_bytes: int = 256 * 1024 * 1024
    spool_threshold: int = 512 * 1024


@dataclass(slots=True)
class Part:
    """One part of a multipart body.

    :param headers: header names in lower case, values as sent.
    :param file: the content, positioned at its start.
    :param size: bytes of content.

    .. versionadded:: 2.0
    """

    headers: dict[str, str]
    file: IO[bytes]
    size: int = 0

    @property
    def content_id(self) -> str | None:
        return self.headers.get("content-id")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def boundary_of(content_type: str) -> bytes | None:
    """The ``boundary`` parameter of a multipart content type, or ``None``."""
    m = _BOUNDARY_RE.search(content_type)
    if m is None:
        return None
    value = m.group(1) or m.group(2)
    try:
        return value.encode("ascii")
    except UnicodeEncodeError:
        return None


def is_multipart(content_type: str) -> bool:
    """Whether a content type is ``multipart/related`` (or another multipart)."""
    return content_type.lstrip()[:10].lower() == "multipart/"


def _parse_headers(block: bytes) -> dict[str, str]:
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        text = block.decode("latin-1")
    headers: dict[str, str] = {}
    last: str | None = None
    for line in text.splitlines():
        if not line.strip():
            continue
        if line[0] in " \t" and last is not None:
            headers[last] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise MultipartError(f"Malformed header line in a multipart part: {line[:60]!r}")
        last = name.strip().lower()
        headers[last] = value.strip()
    return headers


class _Reader:
    """The parser state over one body (see :func:`read_multipart`)."""

    def __init__(self, read: Callable[[int], bytes], boundary: bytes, limits: MultipartLimits):
        self.read = read
        self.delim = b"--" + boundary
        self.limits = limits
        self.buf = bytearray()
        self.eof = False
        self.parts: list[Part] = []
        self.attachment_bytes = 0

    def fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.read(_CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def skip_preamble(self) -> None:
        delim = self.delim
        while True:
            if self.buf.startswith(delim):
                del self.buf[: len(delim)]
                return
            at = self.buf.find(b"\n" + delim)
            if at >= 0:
                del self.buf[: at + 1 + len(delim)]
                return
            if len(self.buf) > MAX_PREAMBLE_BYTES:
                raise MultipartError("The multipart body does not start with its boundary")
            if not self.fill():
                raise MultipartError("The multipart body holds no part (boundary not found)")

    def after_delimiter(self) -> bool:
        """Consume what follows a delimiter; False at the closing one."""
        while len(self.buf) < 2 and self.fill():
            pass
        if self.buf[:2] == b"--":
            return False
        while True:
            at = self.buf.find(b"\n")
            if at >= 0:
                if self.buf[:at].strip(b" \t\r"):
                    raise MultipartError("Unexpected text after a multipart boundary")
                del self.buf[: at + 1]
                return True
            if len(self.buf) > 1024 or not self.fill():
                raise MultipartError("The multipart body ends inside a boundary line")

    def headers(self) -> dict[str, str]:
        while True:
            if self.buf[:2] == b"\r\n" or self.buf[:1] == b"\n":
                del self.buf[: 2 if self.buf[:1] == b"\r" else 1]
                return {}
            ends = [
                (i, n)
                for i, n in ((self.buf.find(b"\r\n\r\n"), 4), (self.buf.find(b"\n\n"), 2))
                if i >= 0
            ]
            if ends:
                at, n = min(ends)
                block = bytes(self.buf[:at])
                del self.buf[: at + n]
                return _parse_headers(block)
            if len(self.buf) > MAX_HEADER_BYTES:
                raise MultipartError("The headers of a multipart part are too long")
            if not self.fill():
                raise MultipartError("The multipart body ends inside the headers of a part")

    def _store(self, part: Part, data: bytes | bytearray, root: bool) -> None:
        if not data:
            return
        part.size += len(data)
        if root:
            if part.size > self.limits.max_root:
                raise AttachmentLimitExceeded(
                    f"The first part of the request is over the limit of {self.limits.max_root} bytes"
                )
        else:
            self.attachment_bytes += len(data)
            if self.attachment_bytes > self.limits.max_attachment_bytes:
                raise AttachmentLimitExceeded(
                    "The attachments are over the limit of "
                    f"{self.limits.max_attachment_bytes} bytes in all"
                )
        part.file.write(data)

    def body(self, part: Part, root: bool) -> None:
        """Copy a part's content until the next delimiter (consumed)."""
        marker = b"\n" + self.delim
        keep = len(marker) + 2
        start = 0
        while True:
            at = self.buf.find(marker, start)
            if at >= 0:
                after = self.buf[at + len(marker) : at + len(marker) + 1]
                if not after and not self.eof:
                    self.fill()
                    start = at
                    continue
                if after and after not in b"-\r\n \t":
                    start = at + 1  # "--boundaryX" inside the data: not a delimiter
                    continue
                end = at - 1 if at > 0 and self.buf[at - 1] == 0x0D else at
                self._store(part, self.buf[:end], root)
                del self.buf[: at + len(marker)]
                part.file.seek(0)
                return
            flush = len(self.buf) - keep
            if flush > 0:
                self._store(part, self.buf[:flush], root)
                del self.buf[:flush]
            start = 0
            if not self.fill():
                raise MultipartError("The multipart body ends before its closing boundary")

    def new_part(self, headers: dict[str, str]) -> Part:
        root = not self.parts
        if not root and len(self.parts) > self.limits.max_parts:
            raise AttachmentLimitExceeded(
                f"The request carries more than {self.limits.max_parts} attachments"
            )
        file: IO[bytes]
        if root:
            file = io.BytesIO()
        else:
            file = tempfile.SpooledTemporaryFile(
                max_size=self.limits.spool_threshold, prefix="ladon-att-"
            )
        part = Part(headers, file)
        self.parts.append(part)
        return part

    def run(self) -> list[Part]:
        self.skip_preamble()
        while self.after_delimiter():
            part = self.new_part(self.headers())
            self.body(part, root=len(self.parts) == 1)
        if not self.parts:
            raise MultipartError("The multipart body holds no part")
        return self.parts


def read_multipart(
    read: Callable[[int], bytes], boundary: bytes, limits: MultipartLimits | None = None
) -> list[Part]:
    """Parse a multipart body from a stream.

    :param read: ``read(n)`` of the body; returns ``b""`` at its end.
    :param boundary: the ``boundary`` parameter of the content type.
    :param limits: what the body may carry (:class:`MultipartLimits`).
    :returns: the parts in order, each file positioned at its start; the
        caller closes them (:func:`close_parts`).
    :raises MultipartError: the body is malformed.
    :raises AttachmentLimitExceeded: a limit was passed.

    Both ``CRLF`` and bare ``LF`` line ends are accepted, as are
    transport padding after a boundary and a preamble before the first.

    .. versionadded:: 2.0
    """
    if not boundary or len(boundary) > 200:
        raise MultipartError("The multipart content type has no usable boundary")
    reader = _Reader(read, boundary, limits or MultipartLimits())
    try:
        return reader.run()
    except BaseException:
        close_parts(reader.parts)
        raise


def close_parts(parts: Sequence[Part]) -> None:
    """Close every part's file (temporary files are removed)."""
    for part in parts:
        try:
            part.file.close()
        except OSError:  # pragma: no cover - closing a temp file
            pass


def safe_header_value(value: str) -> str:
    """A header value with CR, LF and NUL removed (no header injection)."""
    return _UNSAFE_HEADER.sub(" ", value)


def _stream_size(f: IO[bytes]) -> int | None:
    """Bytes left in a file from its position, when that can be known."""
    try:
        if f.seekable():
            here = f.tell()
            end = f.seek(0, os.SEEK_END)
            f.seek(here)
            return end - here
    except (OSError, ValueError, AttributeError):
        return None
    return None


@dataclass
class MultipartWriter:
    """A multipart body as a stream of chunks.

    :param parts: ``(headers, content)`` pairs; ``content`` is bytes or a
        binary file object read from its current position.
    :param boundary: the boundary; a random one by default.
    :param on_close: called once by :meth:`close` (e.g. to close the
        attachments the parts came from).

    Iterate it (once) for the body; :attr:`length` is its size in bytes when
    every file's size can be known, else ``None``. A WSGI server calls
    :meth:`close` when the response is done, even when the client left.

    .. versionadded:: 2.0
    """

    parts: list[tuple[list[tuple[str, str]], bytes | IO[bytes]]]
    boundary: str = field(default_factory=lambda: secrets.token_hex(16))
    on_close: Callable[[], None] | None = None
    _closed: bool = False

    def _head(self, headers: list[tuple[str, str]]) -> bytes:
        lines = [f"--{self.boundary}"]
        lines += [f"{safe_header_value(k)}: {safe_header_value(v)}" for k, v in headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")

    def _tail(self) -> bytes:
        return f"--{self.boundary}--\r\n".encode("ascii")

    @property
    def length(self) -> int | None:
        total = len(self._tail())
        for headers, content in self.parts:
            total += len(self._head(headers)) + 2
            if isinstance(content, bytes | bytearray):
                total += len(content)
            else:
                size = _stream_size(content)
                if size is None:
                    return None
                total += size
        return total

    def __iter__(self) -> Iterator[bytes]:
        for headers, content in self.parts:
            yield self._head(headers)
            if isinstance(content, bytes | bytearray):
                yield bytes(content)
            else:
                while True:
                    chunk = content.read(_CHUNK)
                    if not chunk:
                        break
                    yield chunk
            yield b"\r\n"
        yield self._tail()

    def close(self) -> None:
        """Release what the parts came from (once)."""
        if not self._closed:
            self._closed = True
            if self.on_close is not None:
                self.on_close()


def collect_attachments(value: Any, ref: Callable[[int], str]) -> tuple[Any, list[attachment]]:
    """Replace every :class:`~ladon.types.attachment.attachment` inside a
    plain wire value (dicts and lists, at any depth) by a reference.

    :param value: a dumped result.
    :param ref: gives the reference text of the n-th attachment (from 1).
    :returns: the value with references, and the attachments in order.

    .. versionadded:: 2.0
    """
    found: list[attachment] = []

    def walk(v: Any) -> Any:
        if isinstance(v, attachment):
            found.append(v)
            return ref(len(found))
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    return walk(value), found


def attachment_headers(att: attachment, content_id: str) -> list[tuple[str, str]]:
    """The MIME headers of an attachment part: its own (Content-Type,
    Content-Disposition...) with the given Content-ID.

    .. versionadded:: 2.0
    """
    headers = [("Content-Type", att.content_type), ("Content-ID", content_id)]
    for name, value in att.headers.items():
        if name not in ("content-type", "content-id", "content-length"):
            headers.append(("-".join(w.capitalize() for w in name.split("-")), value))
    return headers


def _ladon_part_id(n: int) -> str:
    return f"ladon-attachment-{n}"


def related_response(
    root: bytes,
    root_type: str,
    attachments: list[attachment],
    root_id: str = "rpc-part",
    part_ids: Callable[[int], str] = _ladon_part_id,
) -> MultipartWriter:
    """A ``multipart/related`` answer: the protocol message, then one part
    per attachment, by default with ``Content-ID: ladon-attachment-N``
    (Ladon 1.0's names). Closing it closes the attachments.

    :param part_ids: the Content-ID of the n-th attachment (from 1).

    .. versionadded:: 2.0
    """
    parts: list[tuple[list[tuple[str, str]], bytes | IO[bytes]]] = [
        ([("Content-Type", root_type), ("Content-ID", root_id)], root)
    ]
    for n, att in enumerate(attachments, 1):
        parts.append((attachment_headers(att, part_ids(n)), att.bufferobj))

    def close() -> None:
        for att in attachments:
            try:
                att.close()
            except OSError:  # pragma: no cover - closing a file
                pass

    return MultipartWriter(parts, on_close=close)


__all__ = [
    "collect_attachments",
    "related_response",
    "AttachmentLimitExceeded",
    "MultipartError",
    "MultipartLimits",
    "MultipartWriter",
    "Part",
    "boundary_of",
    "close_parts",
    "is_multipart",
    "read_multipart",
]
