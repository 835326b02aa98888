"""Files in and out: attachment parameters and results.

Over JSON-WSP a file travels as a part of a ``multipart/related`` request
(``JSONWSPClient`` does it for any file object or ``"@path"`` argument); over
SOAP inline as base64 (zeep, suds) or as a MIME part; over the ``http``
interface as a ``multipart/form-data`` part. See docs/interfaces.rst.

The report's length is bounded by a declared constraint (``Le(1000)``, from
the ``annotated-types`` package): without it a client could ask for a
report of a billion lines.
"""

from __future__ import annotations

import hashlib
import io
from typing import Annotated

from annotated_types import Ge
from annotated_types import Le

from ladon import LadonType
from ladon import attachment
from ladon import ladonize


class Receipt(LadonType):
    """What the service saw of an uploaded file."""

    name: str
    size: int
    sha256: str


class Files:
    """Upload files and get reports back."""

    @ladonize()
    def upload(self, name: str, data: attachment) -> Receipt:
        """Store a file (here: only measure it).

        :param name: a name for the file
        :param data: the file
        """
        digest = hashlib.sha256()
        size = 0
        while chunk := data.read(65536):
            digest.update(chunk)
            size += len(chunk)
        return Receipt(name=name, size=size, sha256=digest.hexdigest())

    @ladonize()
    def report(self, title: str, lines: Annotated[int, Ge(0), Le(1000)] = 3) -> attachment:
        """A small text report, as a file.

        :param title: its first line
        :param lines: how many numbered lines follow
        """
        text = "\n".join([title, *(f"{i}. line {i}" for i in range(1, lines + 1))]) + "\n"
        return attachment(io.BytesIO(text.encode()), headers={"Content-Type": "text/plain"})
