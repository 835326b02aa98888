"""The application of the operations tests (metrics, tracing, request ids,
compression, health, ``ladon tasks``, the operator page): served in
process, by a live server, by gunicorn (``ops_app:app``) and by ``ladon
worker ops_app:app``.

Users: ``root`` (role ``admin``) and ``alice`` (no role), passwords
``<name>-pw``. With ``LADON_TEST_SPANS=<file>`` in the environment the
process records its spans with the OpenTelemetry SDK and writes each, as
one line of JSON, to that file (the SDK's console exporter), so that a test
reads the spans of gunicorn workers and RQ workers.
"""

from __future__ import annotations

import hmac
import os
import time
from typing import Any

from ladon import LadonWSGIApplication
from ladon import ladonize
from ladon.auth import BasicAuth
from ladon.auth import Principal
from ladon.tasks import Retry

PASSWORDS = {"root": "root-pw", "alice": "alice-pw"}
ROLES = {"root": ("admin",)}
SPANS_ENV = "LADON_TEST_SPANS"


def verify(user: str, password: str) -> Principal | None:
    known = PASSWORDS.get(user, "")
    if not hmac.compare_digest(password.encode(), known.encode()) or not known:
        return None
    return Principal(user, ROLES.get(user, ()))


class Jobs:
    """Tasks and plain calls for the operator's tools."""

    ladon_access = "anonymous"

    @ladonize()
    def add(self, a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @ladonize()
    def text(self, size: int) -> str:
        """A text of ``size`` characters (for compression)."""
        return ("Ladon compresses large answers. " * (size // 32 + 1))[:size]

    @ladonize()
    def explode(self) -> str:
        """Raise an unexpected error (an "Internal server error")."""
        raise RuntimeError("the secret state of the server")

    @ladonize()
    def misreport(self) -> int:
        """Return what its declared type refuses (a server fault, raised
        while the answer is written)."""
        return "seven"  # type: ignore[return-value]

    @ladonize(tasktype=True)
    def crawl(self, steps: int, pause: float, **kw: Any) -> int:
        """Report progress ``steps`` times, ``pause`` seconds apart."""
        task = kw["task"]
        for i in range(steps):
            time.sleep(pause)
            task.progress((i + 1) / steps, f"step {i + 1} of {steps}")
        return steps

    @ladonize(tasktype=True)
    def boom(self, reason: str) -> int:
        """Fail with ``reason``."""
        raise ValueError(reason)

    @ladonize(tasktype={"retries": 2, "retry_delay": 0})
    def heed(self, fail: str, **kw: Any) -> int:
        """Wait (at most 10 s) until cancelled, then return instead of
        reporting progress (``fail`` "error": raise; "retry": raise
        ``Retry``)."""
        task = kw["task"]
        deadline = time.monotonic() + 10
        while not task.cancelled and time.monotonic() < deadline:
            time.sleep(0.005)
        if fail == "retry":
            raise Retry("asked again after the cancel", delay=0)
        if fail:
            raise RuntimeError("stopped after the cancel")
        return 1

    @ladonize(tasktype={"retries": 2, "retry_delay": 0})
    def flaky(self, succeed_on: int, **kw: Any) -> int:
        """Ask to be run again until attempt ``succeed_on``; return it."""
        attempt = int(kw["task"].attempt)
        if attempt < succeed_on:
            raise Retry(f"attempt {attempt} found the printer busy", delay=0)
        return attempt


def _record_spans() -> None:
    path = os.environ.get(SPANS_ENV)
    if not path:
        return
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    out = open(path, "a", buffering=1, encoding="utf-8")
    provider = TracerProvider(resource=Resource.create({"process.pid": os.getpid()}))
    exporter = ConsoleSpanExporter(out=out, formatter=lambda span: span.to_json(indent=None) + "\n")
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)


def make_app(tasks: object = None, **options: Any) -> LadonWSGIApplication:
    """The test application, with HTTP Basic authentication."""
    return LadonWSGIApplication(
        [Jobs],
        tasks=tasks,  # type: ignore[arg-type]
        auth=[BasicAuth(verify, realm="ops")],
        access="anonymous",
        **options,
    )


_record_spans()
app = make_app()
#: The same, writing one structured line per request (docs/operations.rst).
logged = make_app(log_requests=True)
