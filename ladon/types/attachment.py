"""Binary payloads sent beside a request or response (``multipart/related``).

A parameter declared ``attachment`` receives an :class:`attachment`: a
file-like object over one MIME part of the request. A method returns
attachments the same way (an :class:`attachment`, any binary file object or
``bytes``); the interface then answers with a multipart response.

On the wire (JSON-WSP) an argument refers to a part by ``"cid:<Content-ID>"``
or ``"cidx:<n>"`` (0-based among the attachment parts), as in Ladon 1.0.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from collections.abc import Mapping
from typing import IO
from typing import Any
from typing import ClassVar
from urllib.parse import unquote


class attachment:
    """A file-like binary payload.

    :param bufferobj: a binary file object (opened file, ``BytesIO``...).
    :param bytesize: its size in bytes when known.
    :param headers: the MIME headers of the part it came from (or to send
        with it, e.g. ``{"Content-Type": "image/png"}``).
    :param header_encoding: codec of the header values.
    :param autodelete: remove the underlying file when closed.

    .. versionadded:: 2.0
    """

    _ladon_is_attachment: ClassVar[bool] = True

    def __init__(
        self,
        bufferobj: IO[bytes],
        bytesize: int | None = None,
        headers: Mapping[str, str] | None = None,
        header_encoding: str | None = "UTF-8",
        autodelete: bool = False,
    ) -> None:
        self.bufferobj = bufferobj
        self.size = bytesize
        self.headers: dict[str, str] = {k.lower(): v for k, v in (headers or {}).items()}
        self.header_encoding = header_encoding or "UTF-8"
        self.autodelete = autodelete

    @classmethod
    def from_bytes(cls, data: bytes, headers: Mapping[str, str] | None = None) -> attachment:
        """An attachment holding ``data`` in memory.

        .. versionadded:: 2.0
        """
        return cls(io.BytesIO(data), len(data), headers)

    @property
    def content_type(self) -> str:
        """The part's ``Content-Type`` (``application/octet-stream`` if none)."""
        return self.headers.get("content-type") or "application/octet-stream"

    def header(self, name: str) -> str | None:
        """The value of a MIME header of this part, or ``None``."""
        return self.headers.get(name.lower())

    def read(self, size: int = -1) -> bytes:
        return self.bufferobj.read(size)

    def readline(self, size: int = -1) -> bytes:
        return self.bufferobj.readline(size)

    def readlines(self, hint: int = -1) -> list[bytes]:
        return self.bufferobj.readlines(hint)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.bufferobj.seek(offset, whence)

    def tell(self) -> int:
        return self.bufferobj.tell()

    def seekable(self) -> bool:
        return bool(getattr(self.bufferobj, "seekable", lambda: False)())

    def readinto(self, buffer: Any) -> int:
        return self.bufferobj.readinto(buffer)  # type: ignore[attr-defined, no-any-return]

    def flush(self) -> None:
        self.bufferobj.flush()

    @property
    def closed(self) -> bool:
        return bool(getattr(self.bufferobj, "closed", False))

    def close(self) -> None:
        name = getattr(self.bufferobj, "name", None)
        self.bufferobj.close()
        if self.autodelete and isinstance(name, str) and os.path.exists(name):
            os.unlink(name)

    def __enter__(self) -> attachment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        cid = self.headers.get("content-id")
        return f"<attachment {cid or ''} size={self.size}>".replace("  ", " ")


def as_attachment(value: object) -> attachment | None:
    """``value`` as an :class:`attachment` (an attachment, a binary file
    object or ``bytes``), else ``None``.

    .. versionadded:: 2.0
    """
    if isinstance(value, attachment):
        return value
    if isinstance(value, bytes | bytearray):
        return attachment.from_bytes(bytes(value))
    if hasattr(value, "read") and callable(value.read):
        return attachment(value)  # type: ignore[arg-type]
    return None


class AttachmentSet:
    """The attachments of one request, in order, found by reference.

    :param items: the attachments, in the order of their parts.

    .. versionadded:: 2.0
    """

    def __init__(self, items: list[attachment]) -> None:
        self.items = items
        self._handed_over = False
        self.by_id: dict[str, attachment] = {}
        for a in items:
            cid = a.headers.get("content-id")
            if cid:
                self.by_id.setdefault(cid, a)
                self.by_id.setdefault(cid.strip().strip("<>").strip(), a)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[attachment]:
        return iter(self.items)

    def resolve(self, ref: str) -> attachment:
        """The attachment ``ref`` names: ``cid:<Content-ID>`` or ``cidx:<n>``.

        :raises LookupError: with a message saying what is wrong.
        """
        head, sep, rest = ref.partition(":")
        kind = head.strip().lower()
        if not sep or kind not in ("cid", "cidx"):
            shown = ref if len(ref) <= 60 else ref[:57] + "..."
            raise LookupError(
                f"{shown!r} is not an attachment reference; write cid:<Content-ID> or cidx:<index>"
            )
        if kind == "cidx":
            text = rest.strip()
            if not text.isdigit() or int(text) >= len(self.items):
                raise LookupError(
                    f"{ref[:60]!r} names no attachment: the request carries "
                    f"{len(self.items)} (cidx counts from 0)"
                )
            return self.items[int(text)]
        for key in (rest, rest.strip().strip("<>").strip(), unquote(rest).strip("<>")):
            found = self.by_id.get(key)
            if found is not None:
                return found
        raise LookupError(f"{ref[:60]!r} names no attachment of the request")

    def hand_over(self) -> None:
        """Make :meth:`close` a no-op: whoever called this (a background
        task using the attachments) closes them with :meth:`close_now`."""
        self._handed_over = True

    def close(self) -> None:
        """Close every attachment (their temporary files are removed),
        unless they were handed over (:meth:`hand_over`)."""
        if not self._handed_over:
            self.close_now()

    def close_now(self) -> None:
        """Close every attachment, handed over or not."""
        for a in self.items:
            try:
                a.close()
            except OSError:  # pragma: no cover - closing a temporary file
                pass
