"""A real HTTP receiver of completion callbacks on 127.0.0.1, for the tests:
it records every request and answers with the statuses a test queues
(200 once the queue is empty)."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any

from ladon.tasks.callbacks import verify_signature

#: The secret the tests' applications sign callbacks with.
SECRET = "test-callback-secret-0123456789abcdef"


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def verified(self, secret: str = SECRET) -> bool:
        return verify_signature(secret, self.headers.get("Ladon-Signature", ""), self.body)


class Receiver:
    """``http.server`` on a free port of 127.0.0.1, in a thread."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.answers: deque[int] = deque()
        self._lock = threading.Lock()
        #: Requests whose path starts with one of these are answered only
        #: once :meth:`let_go` is called (a receiver that hangs).
        self.held: tuple[str, ...] = ()
        self._go = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.requests.append(
                        Received(self.path, dict(self.headers.items()), body, time.time())
                    )
                    status = receiver.answers.popleft() if receiver.answers else 200
                if receiver.held and self.path.startswith(receiver.held):
                    receiver._go.wait(30)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:  # a held request the sender gave up
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port: int = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, *statuses: int) -> None:
        """Answer the next requests with these statuses."""
        with self._lock:
            self.answers.extend(statuses)

    def hold(self, *prefixes: str) -> None:
        """Leave the requests to paths with these prefixes unanswered (the
        sender's time-out cuts them) until :meth:`let_go`."""
        self._go.clear()
        self.held = prefixes

    def let_go(self) -> None:
        """Answer the held requests, and every one from now on."""
        self.held = ()
        self._go.set()

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self.answers.clear()

    def received(
        self, count: int, timeout: float = 15.0, path: str | None = None
    ) -> list[Received]:
        """Wait until ``count`` requests (to ``path``, if given) arrived;
        return them."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                got = [r for r in self.requests if path is None or r.path == path]
            if len(got) >= count:
                return got
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(got)} callback(s) received, expected {count}")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
