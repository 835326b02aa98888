"""A small bounded thread pool for the thread task backend.

``concurrent.futures.ThreadPoolExecutor`` keeps its idle-thread count in a
Python-level semaphore that the request thread and the pool threads fight
over on every task; here a plain lock guards one counter and the hand-off
is a C ``SimpleQueue``, which made task start-up several times cheaper.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("ladon")

_STOP: Any = object()


class WorkerPool:
    """At most ``max_workers`` daemon threads, started on demand.

    :param max_workers: the bound.
    :param name: prefix of the thread names.
    """

    def __init__(self, max_workers: int, name: str = "ladon-task") -> None:
        self._max = max_workers
        self._name = name
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._idle = 0  # workers waiting for work and not yet promised any
        self._shutdown = False

    def submit(self, fn: Callable[..., object], *args: object) -> None:
        """Run ``fn(*args)`` on a pool thread (queued while all are busy).

        :raises RuntimeError: the pool was shut down.
        """
        with self._lock:
            if self._shutdown:
                raise RuntimeError("the pool is shut down")
            self._queue.put((fn, args))
            if self._idle > 0:
                self._idle -= 1  # that idle worker will take this item
            elif len(self._threads) < self._max:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            fn, args = item
            try:
                fn(*args)
            except BaseException as exc:
                logger.error("Task runner failed", exc_info=exc)
            with self._lock:
                self._idle += 1

    def shutdown(self, wait: bool = True) -> None:
        """Drop queued work, stop the threads once their current job ends.

        :param wait: wait for the running jobs to end.
        """
        with self._lock:
            self._shutdown = True
            threads = list(self._threads)
            while True:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
            for _ in threads:
                self._queue.put(_STOP)
        if wait:
            current = threading.current_thread()
            for thread in threads:
                if thread is not current:
                    thread.join()
