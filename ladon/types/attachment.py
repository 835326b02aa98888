"""Binary payloads sent beside a request or response (multipart/related)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import IO
from typing import Any
from typing import ClassVar


class attachment:
    """A file-like binary payload.

    :param bufferobj: a binary file object (opened file, ``BytesIO``...).
    :param bytesize: its size in bytes when known.
    :param headers: the MIME headers of the part it came from.
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
        header_encoding: str = "UTF-8",
        autodelete: bool = False,
    ) -> None:
        self.bufferobj = bufferobj
        self.size = bytesize
        self.headers: dict[str, str] = {k.lower(): v for k, v in (headers or {}).items()}
        self.header_encoding = header_encoding
        self.autodelete = autodelete

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

    def readinto(self, buffer: Any) -> int:
        return self.bufferobj.readinto(buffer)  # type: ignore[attr-defined, no-any-return]

    def flush(self) -> None:
        self.bufferobj.flush()

    def close(self) -> None:
        name = getattr(self.bufferobj, "name", None)
        self.bufferobj.close()
        if self.autodelete and isinstance(name, str) and os.path.exists(name):
            os.unlink(name)
