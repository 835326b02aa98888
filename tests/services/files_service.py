"""A service with attachment parameters and results (Ladon 1.0 style)."""

import hashlib
import io

from ladon.ladonizer import ladonize
from ladon.types.attachment import attachment
from ladon.types.ladontype import LadonType

#: What the last call of ``inspect`` saw (tests read it after the request).
SEEN: list[dict[str, object]] = []


class Document(LadonType):
    name = str
    content = attachment


class Folder(LadonType):
    title = str
    documents = [Document]


class Files:
    """Uploads and downloads."""

    @ladonize(attachment, rtype=str)
    def digest(self, data):
        """SHA-256 of an uploaded file, read in chunks."""
        h = hashlib.sha256()
        while True:
            chunk = data.read(65536)
            if not chunk:
                break
            h.update(chunk)
        return h.hexdigest()

    @ladonize([attachment], rtype=[int])
    def sizes(self, files):
        return [len(f.read()) for f in files]

    @ladonize(str, int, rtype=attachment)
    def make(self, text, repeat):
        data = text.encode("utf-8") * repeat
        return attachment(io.BytesIO(data), len(data), {"Content-Type": "text/plain"})

    @ladonize(int, rtype=[attachment])
    def make_many(self, count):
        return [io.BytesIO(b"part %d" % i) for i in range(count)]

    @ladonize(Folder, rtype=Folder)
    def echo_folder(self, folder):
        return folder

    @ladonize(attachment, rtype=bool)
    def inspect(self, data, **kw):
        """Record what the attachment looks like inside the call."""
        SEEN.append(
            {
                "attachment": data,
                "on_disk": bool(getattr(data.bufferobj, "_rolled", False)),
                "headers": dict(data.headers),
                "all": [a.header("content-id") for a in kw["attachments"]],
                "by_id": sorted(kw["attachments_by_id"]),
            }
        )
        return True

    @ladonize(attachment, rtype=int, tasktype=True)
    def count_bytes(self, data, **kw):
        """A task reading its attachment in the background."""
        total = 0
        while True:
            chunk = data.read(1000)
            if not chunk:
                break
            total += len(chunk)
            kw["update_progress"](0.5)
        return total

    @ladonize(str, rtype=str)
    def request_header(self, name, **kw):
        """The value of a request header (``Cookie``, ``X-Token``...)."""
        return kw.get("HTTP_" + name.upper().replace("-", "_"), "")
