"""Sending completion callbacks (see :mod:`ladon.tasks.callbacks`).

A backend that ends a task with a callback hands its id to the
application's :class:`CallbackSender` (:meth:`~CallbackSender.due`). A
delivery thread then *claims* the callback in the store (one atomic change
of its state from ``pending`` to ``sending``: however many processes see
the task end, one sends), posts it, retries it and writes how it went.
A process that stops sending for a backend (it exits, or closes the
backend: :meth:`CallbackSender.release`) hands the callbacks it claimed and
has not sent back to ``pending``, for another process to send.

One slow or dead receiver does not hold up the others: a process sends
at most :data:`PER_RECEIVER` callbacks to one receiver (scheme, host and
port) at a time, tries and the waits between them included; the others
to it wait (``pending`` in the store, for this or another process), while
those to other receivers take the free delivery threads.

.. versionadded:: 2.0
"""

from __future__ import annotations

import http.client
import logging
import os
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Protocol
from typing import runtime_checkable
from urllib.parse import urlsplit

from ..observe import metrics
from ._pool import WorkerPool
from .base import BackendUnavailable
from .base import TaskState
from .base import TaskStatus
from .base import status_message
from .callbacks import HOSTS_ENV
from .callbacks import NETWORKS_ENV
from .callbacks import PENDING
from .callbacks import RETRIED_STATUSES
from .callbacks import SECRET_ENV
from .callbacks import SIGNATURE_HEADER
from .callbacks import CallbackSettings
from .callbacks import CallbackTarget
from .callbacks import _port
from .callbacks import _split
from .callbacks import shown_url
from .callbacks import sign
from .callbacks import url_host
from .jobs import to_json

logger = logging.getLogger("ladon")

#: The most bytes of a receiver's answer read (and ignored).
_MAX_ANSWER = 64 * 1024
#: Seconds beyond the longest a live process leaves a callback it holds
#: unchanged, before another process takes it (see
#: :attr:`CallbackSender.stale_after`).
STALE_MARGIN = 10.0
USER_AGENT = "Ladon (task callback)"
#: Tasks :meth:`CallbackSender.recheck` remembers (then it starts afresh),
#: and the seconds between two of its looks at one task.
_RECHECKS_KEPT = 1000
_RECHECK_EVERY = 1.0
#: The callbacks a process sends to one receiver at a time (see
#: :class:`CallbackSender`).
PER_RECEIVER = 2


@runtime_checkable
class CallbackStore(Protocol):
    """What a task backend does for callbacks (the built-in ones do).

    .. versionadded:: 2.0
    """

    def claim_callback(
        self, task_id: str, held: str | None = None, stale_after: float | None = None
    ) -> TaskStatus | None:
        """Take the callback of an ended task for sending: change its state
        to ``sending`` in one atomic step, from ``pending``; or, with
        ``stale_after``, from a state a process took it in (``sending``,
        ``retrying (...)``: see :func:`~ladon.tasks.callbacks.in_flight`)
        and has not changed for that many seconds (the process died);
        or, with ``held``, from exactly that state (the caller's own
        ``retrying (...)``, when its next try is due).

        :returns: the task's status (its :attr:`~TaskStatus.callback` set)
            when this call took it; ``None`` when there is nothing to send
            (no callback, the task runs, another process took it, the task
            expired).
        :raises BackendUnavailable: when the store cannot be reached.
        """
        ...

    def set_callback_state(self, task_id: str, state: str) -> None:
        """Write how the delivery goes (a task that expired meanwhile is
        left alone), noting the time while a process holds the callback
        (:func:`~ladon.tasks.callbacks.in_flight`).

        :raises BackendUnavailable: when the store cannot be reached.
        """
        ...


def callback_body(status: TaskStatus, target: CallbackTarget) -> bytes:
    """The JSON body of a task's callback.

    .. versionadded:: 2.0
    """
    result = status.result if status.state is TaskState.SUCCEEDED else None
    payload = {
        "task_id": status.task_id,
        "service": target.service,
        "method": target.method,
        "state": status.state.value,
        "message": status_message(status),
        "result": result,
    }
    return to_json(payload).encode("utf-8")


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to one checked address (the URL's host is the
    ``Host`` header). ``expired`` is set when the try's time is up (see
    :func:`_cut`): a connection made after that is not used."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.pinned = address
        self.expired = threading.Event()

    def connect(self) -> None:
        self.sock = _connected(self.pinned, self.port, self.timeout, self.expired)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """An HTTPS connection to one checked address; the certificate is
    checked against the URL's host."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.pinned = address
        self.expired = threading.Event()

    def connect(self) -> None:
        sock = _connected(self.pinned, self.port, self.timeout, self.expired)
        tls = self.tls.wrap_socket(sock, server_hostname=self.host, do_handshake_on_connect=False)
        self.sock = tls  # before the handshake: the deadline shuts it during it too
        tls.do_handshake()
        if self.expired.is_set():
            raise TimeoutError("the try's time is up")


def _connected(
    address: str, port: int, timeout: float | None, expired: threading.Event
) -> socket.socket:
    """A connection to ``address``, unless the try's time ran out while it
    was being made."""
    sock = socket.create_connection((address, port), timeout)
    if expired.is_set():
        sock.close()
        raise TimeoutError("the try's time is up")
    return sock


class _Try:
    """How one try went."""

    __slots__ = ("refused", "retry", "status", "text")

    def __init__(self, status: int | None, text: str, retry: bool, refused: bool = False) -> None:
        self.status = status
        self.text = text
        self.retry = retry
        #: the host's addresses are not allowed (any more): not tried
        self.refused = refused

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post_callback(
    settings: CallbackSettings, url: str, body: bytes, task_id: str, now: float | None = None
) -> _Try:
    """Post one signed callback (one try).

    .. versionadded:: 2.0
    """
    parts = urlsplit(url)
    host = url_host(parts)  # as the start checked it
    port = _port(parts)
    try:
        addresses = settings.addresses(host, port)
    except ValueError as exc:  # refused now: the host's addresses changed
        return _Try(None, str(exc), retry=False, refused=True)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    stamp = int(time.time() if now is None else now)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(settings.secrets, body, stamp),
        "Ladon-Task-Id": task_id,
        "Connection": "close",
    }
    cls = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    conn = cls(host, port, str(addresses[0]), settings.timeout)
    # The timeout bounds the whole try, not each read: a receiver that
    # drips its answer a byte at a time would hold a delivery thread (and
    # an RQ work horse) for as long as it likes. At the deadline the
    # socket is shut, which ends the read under way.
    expired = conn.expired
    deadline = threading.Timer(settings.timeout, _cut, (conn, expired))
    deadline.daemon = True
    deadline.start()
    try:
        conn.request("POST", path, body, headers)
        answer = conn.getresponse()
        answer.read(_MAX_ANSWER)
        status = answer.status
        deadline.cancel()
        if expired.is_set():  # cut short: a shut socket reads as the answer's end
            return _Try(None, "timed out", retry=True)
    except TimeoutError:
        return _Try(None, "timed out", retry=True)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if expired.is_set():
            return _Try(None, "timed out", retry=True)
        return _Try(None, f"{type(exc).__name__}: {exc}"[:200], retry=True)
    finally:
        deadline.cancel()
        conn.close()
    retry = status >= 500 or status in RETRIED_STATUSES
    return _Try(status, f"HTTP {status}", retry=retry)


def _cut(conn: http.client.HTTPConnection, expired: threading.Event) -> None:
    """End a try whose time is up: shut its socket (a blocked read ends)."""
    expired.set()
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class CallbackSender:
    """Sends the callbacks of the tasks a process ends, on a few threads.

    :param settings: hosts, secrets, tries.
    :param max_workers: how many callbacks are sent at once.
    :param per_receiver: how many of them at most go to one receiver
        (scheme, host and port); the next ones to it wait until one is
        sent or given up, for as long as its tries and the waits between
        them take (see :mod:`ladon.tasks.delivery`).

    .. versionadded:: 2.0
    """

    def __init__(
        self, settings: CallbackSettings, max_workers: int = 8, per_receiver: int = PER_RECEIVER
    ) -> None:
        self.settings = settings
        #: Seconds after which a callback a process took and left alone
        #: (``sending``, ``retrying (...)``) is taken by another: its
        #: process died. A live holder writes its state at least this
        #: often: a try (``timeout``), the longest wait before the next,
        #: and a margin.
        self.stale_after = (
            settings.timeout + settings.backoff * 2 ** max(settings.attempts - 2, 0) + STALE_MARGIN
        )
        self._max_workers = max_workers
        self.per_receiver = max(1, per_receiver)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pool: WorkerPool | None = None
        self._pid = 0
        self._outstanding = 0
        # NOTE: all of this process: the stores released (their callbacks
        # are left to other processes), the callbacks claimed here and not
        # sent or given up yet, and those of them a try is posting now
        self._released: list[CallbackStore] = []
        self._held: dict[tuple[int, str], CallbackStore] = {}
        self._posting: set[tuple[int, str]] = set()
        # task id -> when this process last asked a store whether another
        # process died holding its callback (see recheck)
        self._rechecked: dict[str, float] = {}
        # the callbacks on their way to a delivery thread, or waiting for
        # their receiver (due() leaves them be); receiver -> how many of
        # its callbacks this process is sending, and those waiting for it
        self._queued: set[tuple[int, str]] = set()
        self._busy: dict[str, int] = {}
        self._waiting: dict[str, deque[tuple[CallbackStore, str]]] = {}

    def __repr__(self) -> str:
        return f"<CallbackSender {self.settings!r}>"

    def _this_process(self) -> None:
        """Under the lock: forget what a parent process held."""
        if self._pid != os.getpid():
            self._pool = None
            self._pid = os.getpid()
            self._outstanding = 0
            self._released.clear()
            self._held.clear()
            self._posting.clear()
            self._rechecked.clear()
            self._queued.clear()
            self._busy.clear()
            self._waiting.clear()

    def _is_released(self, store: CallbackStore) -> bool:
        return any(s is store for s in self._released)

    def due(self, store: CallbackStore, task_id: str) -> None:
        """Send the callback of ``task_id`` if it is due, on a delivery
        thread (returns at once; safe to call while holding a lock). Once
        ``store`` is released (:meth:`release`), its callbacks are left
        ``pending``."""
        self._submit(store, task_id, None)

    def _submit(self, store: CallbackStore, task_id: str, receiver: str | None) -> bool:
        """:meth:`due`; ``receiver``: the callback waited for that receiver,
        and holds a place reserved for it (see :meth:`_next_for`).

        :returns: False when it was not handed to a delivery thread (it is
            on its way already, or the store was released)."""
        key = (id(store), task_id)
        with self._lock:
            self._this_process()
            # PERF: reads and heartbeats see a pending callback again and again
            if self._is_released(store) or key in self._queued or key in self._held:
                return False
            if self._pool is None:
                self._pool = WorkerPool(self._max_workers, name="ladon-callback")
            self._queued.add(key)
            self._outstanding += 1
            pool = self._pool
        try:
            pool.submit(self._deliver_then_count, store, task_id, receiver)
        except RuntimeError:  # pragma: no cover - shut down
            with self._lock:
                self._queued.discard(key)
            self._done()
            return False
        return True

    def recheck(self, store: CallbackStore, task_id: str) -> None:
        """:meth:`due` for a callback another process holds (``sending``,
        ``retrying (...)``), which is taken only if that process died: the
        store is asked at most once a second per task, however often the
        task is read meanwhile."""
        now = time.monotonic()
        with self._lock:
            last = self._rechecked.get(task_id)
            if last is not None and now - last < _RECHECK_EVERY:
                return
            if len(self._rechecked) >= _RECHECKS_KEPT:
                self._rechecked.clear()
            self._rechecked[task_id] = now
        self.due(store, task_id)

    def _deliver_then_count(
        self, store: CallbackStore, task_id: str, receiver: str | None = None
    ) -> None:
        try:
            with self._lock:
                self._queued.discard((id(store), task_id))
            self.deliver(store, task_id, receiver)
        finally:
            self._done()

    def _next_for(self, receiver: str) -> None:
        """Hand the callbacks waiting for ``receiver`` to delivery threads
        while it has free places, a place reserved for each (taken by its
        delivery, or given up when it has nothing to send)."""
        while True:
            with self._lock:
                waiting = self._waiting.get(receiver)
                if not waiting or self._busy.get(receiver, 0) >= self.per_receiver:
                    return
                store, task_id = waiting.popleft()
                if not waiting:
                    del self._waiting[receiver]
                self._queued.discard((id(store), task_id))
                self._busy[receiver] = self._busy.get(receiver, 0) + 1  # reserved
            if not self._submit(store, task_id, receiver):
                self._free(receiver)  # on its way already: the next one

    def _free(self, receiver: str) -> None:
        """Give up a place taken for ``receiver``."""
        with self._lock:
            left = self._busy.get(receiver, 0) - 1
            if left > 0:
                self._busy[receiver] = left
            else:
                self._busy.pop(receiver, None)

    def _done(self) -> None:
        with self._lock:
            self._outstanding -= 1
            if self._outstanding <= 0:
                self._idle.notify_all()

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until the callbacks handed to :meth:`due` are sent or given
        up (a work horse waits before it exits).

        :returns: False when ``timeout`` passed first.
        """
        with self._lock:
            if self._pid != os.getpid():
                return True
            return self._idle.wait_for(lambda: self._outstanding <= 0, timeout)

    def release(self, store: CallbackStore, timeout: float = 2.0) -> None:
        """Stop sending the callbacks of ``store`` in this process (it exits,
        or closes the backend): none is claimed any more, a try under way
        is given up to ``timeout`` seconds to be answered and written, and
        the callbacks claimed here and not sent (waiting to be tried, or to
        be tried again) go back to ``pending``, for another process to send
        (a try still under way after ``timeout`` is left ``sending``: its
        process is about to die mid-send).

        .. versionadded:: 2.0
        """
        sid = id(store)
        with self._lock:
            self._this_process()
            if not self._is_released(store):
                self._released.append(store)
            self._idle.notify_all()  # tries waiting to be made again give up now
            self._idle.wait_for(lambda: all(k[0] != sid for k in self._posting), timeout)
            keys = [k for k in self._held if k[0] == sid and k not in self._posting]
            for key in keys:
                del self._held[key]
            for receiver, waiting in list(self._waiting.items()):
                # pending in the store already: left to the other processes
                kept = deque((st, t) for st, t in waiting if st is not store)
                for st, t in waiting:
                    if st is store:
                        self._queued.discard((sid, t))
                if kept:
                    self._waiting[receiver] = kept
                else:
                    del self._waiting[receiver]
        for _, task_id in keys:
            self._give_back(store, task_id)

    def _give_back(self, store: CallbackStore, task_id: str) -> None:
        try:
            store.set_callback_state(task_id, PENDING)
        except Exception as exc:  # best effort (at exit): the callback stays claimed
            logger.warning("Cannot hand back the callback of task %s: %s", task_id, exc)

    def _begin_try(self, store: CallbackStore, key: tuple[int, str]) -> bool:
        """True: post the callback now. False: ``store`` was released, and
        the callback handed back."""
        with self._lock:
            if not self._is_released(store):
                self._posting.add(key)
                return True
            mine = self._held.pop(key, None) is not None
        if mine:
            self._give_back(store, key[1])
        return False

    def _end_try(self, key: tuple[int, str]) -> None:
        with self._lock:
            self._posting.discard(key)
            self._idle.notify_all()

    def _pause(self, store: CallbackStore, seconds: float) -> None:
        """Wait before a try again (cut short when ``store`` is released)."""
        with self._lock:
            self._idle.wait_for(lambda: self._is_released(store), seconds)

    def _take(self, key: tuple[int, str]) -> bool:
        """Stop holding a claimed callback; False when :meth:`release`
        handed it back meanwhile."""
        with self._lock:
            return self._held.pop(key, None) is not None

    def deliver(
        self, store: CallbackStore, task_id: str, waited_for: str | None = None
    ) -> str | None:
        """Claim and send one callback now, with its retries; or, when this
        process already sends :attr:`per_receiver` callbacks to its
        receiver, hand it back to ``pending`` to be sent after those.

        :param waited_for: the receiver the callback waited for, a place of
            which :meth:`_next_for` reserved for it (given up, and the next
            waiting callback sent, when this one has nothing to send).
        :returns: the final delivery state, or ``None`` when there was
            nothing to send (or ``store`` was released meanwhile, or the
            receiver is busy: the callback is ``pending`` again).
        """
        reserved = waited_for is not None
        with self._lock:
            self._this_process()
            released = self._is_released(store)
        status = None
        if not released:
            try:
                status = store.claim_callback(task_id, stale_after=self.stale_after)
            except BackendUnavailable as exc:
                logger.warning("Cannot claim the callback of task %s: %s", task_id, exc)
            except Exception as exc:  # a store's own failure: the place is given up below
                logger.error("Cannot claim the callback of task %s", task_id, exc_info=exc)
        if status is None or status.callback is None:
            if waited_for is not None:  # sent by another process meanwhile
                self._free(waited_for)
                self._next_for(waited_for)
            return None
        key = (id(store), task_id)
        try:
            target: CallbackTarget | None = CallbackTarget.from_text(status.callback)
        except ValueError:
            target = None
        receiver = _receiver(target.url) if target is not None else ""
        if reserved and receiver != waited_for:  # pragma: no cover - a target never changes
            assert waited_for is not None
            self._free(waited_for)
            self._next_for(waited_for)
            reserved = False
        with self._lock:
            released = self._is_released(store)
            busy = (
                not released and not reserved and self._busy.get(receiver, 0) >= self.per_receiver
            )
            if busy:
                self._queued.add(key)  # due() leaves it be while it is handed back
            elif not released:
                self._held[key] = store
                if not reserved:
                    self._busy[receiver] = self._busy.get(receiver, 0) + 1
        if released:  # released while it was being claimed
            self._give_back(store, task_id)
            if reserved:
                self._free(receiver)
            return None
        if busy:  # handed back, then queued: a place freed meanwhile takes it
            self._give_back(store, task_id)
            with self._lock:
                if self._is_released(store):
                    self._queued.discard(key)
                    return None
                self._waiting.setdefault(receiver, deque()).append((store, task_id))
            self._next_for(receiver)
            return None
        try:
            return self._send(store, task_id, key, status, target)
        finally:
            self._free(receiver)
            self._next_for(receiver)

    def _send(
        self,
        store: CallbackStore,
        task_id: str,
        key: tuple[int, str],
        status: TaskStatus,
        target: CallbackTarget | None,
    ) -> str | None:
        """Send a claimed callback, with its retries (see :meth:`deliver`)."""
        if target is None:
            if not self._take(key):
                return None
            return self._record(store, task_id, "failed (unreadable callback target)")
        body = callback_body(status, target)
        settings = self.settings
        attempts = settings.attempts
        attempt = 0
        waiting: str | None = None  # the state written before a pause
        while True:
            attempt += 1
            if not self._begin_try(store, key):
                return None
            try:
                if waiting is not None and not self._take_again(store, task_id, waiting):
                    self._take(key)  # another process took it: its process
                    return None
                outcome = post_callback(settings, target.url, body, task_id)
                if outcome.delivered or not outcome.retry or attempt == attempts:
                    self._take(key)  # posting: release() leaves it to this thread
                    return self._outcome(store, target, task_id, outcome, attempt)
                metrics.callback_delivered("retried")
                state = f"retrying (attempt {attempt} of {attempts}: {outcome.text})"[:300]
                # taken back from that state before the next try; when it
                # could not be written, the store still says "sending"
                waiting = state if self._write_state(store, task_id, state) else None
            finally:
                self._end_try(key)
            self._pause(store, settings.backoff * 2 ** (attempt - 1))

    @staticmethod
    def _take_again(store: CallbackStore, task_id: str, state: str) -> bool:
        """Take the callback again for its next try, from the ``retrying``
        state this process wrote; False when it is not that any more
        (another process took it, believing this one dead; it expired)."""
        try:
            return store.claim_callback(task_id, held=state) is not None
        except BackendUnavailable as exc:
            logger.warning("Cannot take the callback of task %s again: %s", task_id, exc)
            return True  # the store is away: try the receiver anyway

    def _outcome(
        self,
        store: CallbackStore,
        target: CallbackTarget,
        task_id: str,
        outcome: _Try,
        attempt: int,
    ) -> str:
        """Write how a delivery ended: delivered, or given up."""
        if outcome.delivered:
            metrics.callback_delivered("delivered")
            tries = f", {attempt} attempts" if attempt > 1 else ""
            return self._record(store, task_id, f"delivered ({outcome.text}{tries})")
        metrics.callback_delivered("refused" if outcome.refused else "failed")
        given_up = f"after {attempt} attempts: " if outcome.retry else ""
        logger.warning(
            "Callback of task %s to %s given up %s%s",
            task_id,
            shown_url(target.url),
            given_up,
            outcome.text,
        )
        return self._record(store, task_id, f"failed ({given_up}{outcome.text})")

    @classmethod
    def _record(cls, store: CallbackStore, task_id: str, state: str) -> str:
        """Write ``state`` (at most 300 characters); return it."""
        state = state[:300]
        cls._write_state(store, task_id, state)
        return state

    @staticmethod
    def _write_state(store: CallbackStore, task_id: str, state: str) -> bool:
        """Write ``state``; False when the store could not be reached."""
        try:
            store.set_callback_state(task_id, state)
        except BackendUnavailable as exc:
            logger.warning("Cannot record the callback state of task %s: %s", task_id, exc)
            return False
        return True


def _receiver(url: str) -> str:
    """What one receiver's callbacks share: the URL's scheme, host and port."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2].lower()}"


def callback_settings(
    hosts: Sequence[str] | None = None,
    secret: str | bytes | Sequence[str | bytes] | None = None,
    networks: Sequence[str] | None = None,
    attempts: int = 5,
    backoff: float = 1.0,
    timeout: float = 5.0,
    environ: Mapping[str, str] | None = None,
) -> CallbackSettings | None:
    """An application's callback settings: each one given, else its
    environment variable (:data:`~ladon.tasks.callbacks.HOSTS_ENV`,
    :data:`~ladon.tasks.callbacks.SECRET_ENV`,
    :data:`~ladon.tasks.callbacks.NETWORKS_ENV`); ``None`` without hosts
    (no callbacks).

    :raises ValueError: a setting is wrong, or hosts come without a secret.

    .. versionadded:: 2.0
    """
    env = os.environ if environ is None else environ
    if hosts is None:
        hosts = _split(env.get(HOSTS_ENV, ""))
    elif isinstance(hosts, str):
        hosts = [hosts]
    if not hosts:
        return None
    if secret is None:
        secret = env.get(SECRET_ENV) or None
    keys: list[str | bytes] = []
    if isinstance(secret, str | bytes):
        keys = [secret]
    elif secret is not None:
        keys = list(secret)
    if networks is None:
        networks = _split(env.get(NETWORKS_ENV, ""))
    elif isinstance(networks, str):
        networks = [networks]
    return CallbackSettings(hosts, keys, networks, attempts, backoff, timeout)


def attach_sender(backend: object, sender: CallbackSender | None) -> None:
    """Have ``backend`` send its callbacks with ``sender``: a backend that
    can (it has a ``callback_sender`` attribute) and has none yet.

    .. versionadded:: 2.0
    """
    if sender is None or not hasattr(backend, "callback_sender"):
        return
    if getattr(backend, "callback_sender", None) is None:
        backend.callback_sender = sender
