"""Telling the processes that share an SQLite task file that a task ended.

SQLite has no notifications between processes, and a waiting call must not
poll the file. So each process that has a waiting call (``<task>_wait``)
binds one Unix datagram socket and lists its address in the file's
``ladon_waiters`` table; a process that writes the end of a task sends the
task id to every address listed there (one ``sendto`` each, never
blocking), and the listener thread of each waiting process wakes the calls
waiting for that id. A ``*`` wakes them all (tasks failed in bulk because
their process stopped renewing its lease).

On Linux the sockets are in the abstract namespace (no file, gone with the
process); elsewhere they are files in a private temporary directory. An
address whose process is gone refuses the datagram and is dropped from the
table by the sender. A datagram that cannot be delivered (a full socket
buffer) is dropped: the waiting call reads its task again within
:data:`~ladon.tasks.waiting.RECHECK_INTERVAL` anyway.

.. versionadded:: 2.0
"""

from __future__ import annotations

import atexit
import logging
import os
import secrets
import shutil
import socket
import sys
import tempfile
import threading
import weakref
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

from .waiting import EndSignals

logger = logging.getLogger("ladon")

#: The table of the addresses of the processes that wait (added to the
#: task file's schema; older files get it when first opened).
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS ladon_waiters ("
    " address TEXT PRIMARY KEY, pid INTEGER NOT NULL, since REAL NOT NULL) WITHOUT ROWID"
)
#: What a datagram saying "every task may have ended" holds.
EVERY_TASK = b"*"
_ABSTRACT = sys.platform.startswith("linux")

Write = Callable[[str, Sequence[object]], object]
Query = Callable[[str, Sequence[object]], Sequence[Any]]


def _sockaddr(address: str) -> str | bytes:
    """The socket address of a stored one (``@name``: abstract)."""
    return b"\0" + address[1:].encode("ascii") if address.startswith("@") else address


class SocketWake:
    """The waiting calls of one process on one task file, and the
    datagrams that wake them.

    :param write: runs one write statement on the task file.
    :param query: runs one query on the task file.

    .. versionadded:: 2.0
    """

    def __init__(self, write: Write, query: Query) -> None:
        self._write = write
        self._query = query
        self.signals = EndSignals()
        self._lock = threading.Lock()
        self._pid = 0
        self._listener: socket.socket | None = None
        self._address: str | None = None
        self._tmpdir: str | None = None
        self._sender: socket.socket | None = None
        self._sender_pid = 0
        ref = weakref.ref(self)

        def forget() -> None:  # in a forked child: the parent's socket is not ours
            alive = ref()
            if alive is not None:
                alive._forget()

        def leave() -> None:
            alive = ref()
            if alive is not None:
                alive.close()

        if hasattr(os, "register_at_fork"):  # pragma: no branch - POSIX
            os.register_at_fork(after_in_child=forget)
        atexit.register(leave)

    @property
    def address(self) -> str | None:
        """This process's address, once it listens."""
        return self._address if self._pid == os.getpid() else None

    def listen(self) -> None:
        """Listen for ends (once per process); return once the address is
        listed, so that no end written afterwards is missed.

        :raises BackendUnavailable: the table cannot be written.
        """
        if self._pid == os.getpid() and self._listener is not None:
            return
        with self._lock:
            if self._pid == os.getpid() and self._listener is not None:
                return
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            try:
                if _ABSTRACT:
                    address = f"@ladon-{secrets.token_hex(12)}"
                else:  # pragma: no cover - not Linux
                    self._tmpdir = tempfile.mkdtemp(prefix="ladon-")
                    address = os.path.join(self._tmpdir, "wake.sock")
                sock.bind(_sockaddr(address))
                self._write(
                    "INSERT OR REPLACE INTO ladon_waiters (address, pid, since)"
                    " VALUES (?, ?, strftime('%s', 'now'))",
                    (address, os.getpid()),
                )
            except BaseException:
                sock.close()
                raise
            self._listener, self._address, self._pid = sock, address, os.getpid()
            threading.Thread(
                target=self._receive, args=(sock,), name="ladon-sqlite-wake", daemon=True
            ).start()

    def _receive(self, sock: socket.socket) -> None:
        while True:
            try:
                data = sock.recv(128)
            except OSError:
                return  # closed
            if data == EVERY_TASK:
                self.signals.notify_all()
            elif data:
                self.signals.notify(data.decode("ascii", "replace"))

    def announce(self, task_id: str | None) -> None:
        """Wake the calls waiting for ``task_id`` (``None``: every call) in
        every process that waits on the file, this one first. Never raises:
        a call that misses it reads its task again soon anyway."""
        if task_id is None:
            self.signals.notify_all()
        else:
            self.signals.notify(task_id)
        try:
            rows = self._query("SELECT address FROM ladon_waiters", ())
        except Exception as exc:  # the file is busy or away: the safety net covers it
            logger.debug("Cannot read the waiting processes: %s", exc)
            return
        if not rows:
            return
        own = self.address
        data = EVERY_TASK if task_id is None else task_id.encode("ascii")
        sender = self._sending_socket()
        for row in rows:
            address = str(row[0])
            if address == own:
                continue
            try:
                sender.sendto(data, _sockaddr(address))
            except (ConnectionRefusedError, FileNotFoundError):
                self._drop(address)  # its process is gone
            except OSError as exc:  # a full buffer (BlockingIOError), ...
                logger.debug("Cannot wake the process at %s: %s", address, exc)

    def _sending_socket(self) -> socket.socket:
        sender = self._sender
        if sender is None or self._sender_pid != os.getpid():
            sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sender.setblocking(False)
            self._sender, self._sender_pid = sender, os.getpid()
        return sender

    def _drop(self, address: str) -> None:
        try:
            self._write("DELETE FROM ladon_waiters WHERE address = ?", (address,))
        except Exception as exc:
            logger.debug("Cannot drop the waiting process at %s: %s", address, exc)

    def close(self) -> None:
        """Stop listening and remove this process's address."""
        with self._lock:
            sock, address = self._listener, self.address
            if sock is None or address is None:
                return
            self._listener = None
            self._address = None
            self._pid = 0
        self._drop(address)
        sock.close()
        if self._tmpdir is not None:  # pragma: no cover - not Linux
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def _forget(self) -> None:
        """In a forked child: close the parent's sockets here (the parent
        keeps them), start afresh."""
        for sock in (self._listener, self._sender):
            if sock is not None:
                try:
                    sock.close()
                except OSError:  # pragma: no cover
                    pass
        self._lock = threading.Lock()
        self._listener = self._sender = None
        self._address = None
        self._pid = self._sender_pid = 0
        self._tmpdir = None
        self.signals = EndSignals()
