"""Waking the calls waiting for Redis tasks: every script that ends a task
publishes its id on ``<prefix>ended``; one listener thread per waiting
process is subscribed to it and wakes the calls waiting for that id.

A publication is not stored: the listener subscribes before any call of
its process reads its task for the last time, and when its connection
drops it subscribes again (with back-off) and wakes every waiting call, so
that each reads its task again.

.. versionadded:: 2.0
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable
from typing import Any

from .waiting import EndSignals

logger = logging.getLogger("ladon")

#: The longest a waiting call waits for the listener to subscribe before it
#: relies on reading its task now and then.
SUBSCRIBE_TIMEOUT = 2.0


class PubSubWake:
    """The waiting calls of one process on one Redis backend.

    :param client: returns the backend's Redis client.
    :param channel: the channel the ends are published on.

    .. versionadded:: 2.0
    """

    def __init__(self, client: Callable[[], Any], channel: str) -> None:
        self._client = client
        self.channel = channel
        self.signals = EndSignals()
        self._lock = threading.Lock()
        self._pid = 0
        self._subscribed = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        ref = weakref.ref(self)

        def forget() -> None:  # in a forked child: no listener, no waiting calls
            alive = ref()
            if alive is not None:
                alive._lock = threading.Lock()
                alive.signals = EndSignals()
                alive._thread = None
                alive._pid = 0

        if hasattr(os, "register_at_fork"):  # pragma: no branch - POSIX
            os.register_at_fork(after_in_child=forget)

    def listen(self) -> None:
        """Start the listener of this process (once) and return once it is
        subscribed (or after :data:`SUBSCRIBE_TIMEOUT` seconds)."""
        if self._pid != os.getpid() or self._thread is None:
            with self._lock:
                if self._pid != os.getpid() or self._thread is None:
                    self._subscribed = threading.Event()
                    self._stop = threading.Event()
                    self._pid = os.getpid()
                    self._thread = threading.Thread(
                        target=self._listen,
                        args=(self._subscribed, self._stop),
                        name="ladon-redis-wake",
                        daemon=True,
                    )
                    self._thread.start()
        self._subscribed.wait(SUBSCRIBE_TIMEOUT)

    def close(self) -> None:
        """Stop the listener (it unsubscribes within a second)."""
        self._stop.set()
        self._thread = None

    def _listen(self, subscribed: threading.Event, stop: threading.Event) -> None:
        import redis

        delay = 0.1
        while not stop.is_set():
            pubsub = None
            try:
                pubsub = self._client().pubsub()
                pubsub.subscribe(self.channel)
                while not stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    kind = message.get("type")
                    if kind == "subscribe":  # the server confirmed it: nothing is missed now
                        subscribed.set()
                        self.signals.notify_all()  # ended while (re)subscribing
                        delay = 0.1
                    elif kind == "message":
                        data = message.get("data")
                        if isinstance(data, bytes):
                            data = data.decode("ascii", "replace")
                        self.signals.notify(str(data))
            except Exception as exc:  # redis errors, and a client closed under it
                if stop.is_set():
                    break
                shown = exc if isinstance(exc, redis.RedisError | OSError) else repr(exc)
                logger.warning("Task end listener lost Redis (%s); subscribing again", shown)
                subscribed.clear()
                self.signals.notify_all()
                stop.wait(delay)
                delay = min(delay * 2, 5.0)
            finally:
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except Exception:  # pragma: no cover - closing a broken connection
                        pass
