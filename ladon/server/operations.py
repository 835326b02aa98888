"""Request-level operations, as WSGI wrappers around the application (like
:class:`AccessLog` and :class:`~ladon.server.cors.CORS`):

:class:`RequestContext`
    gives every request an id (the client's sane ``X-Request-ID``, else a
    new one), echoes it, holds it for every log line written while the
    request is answered (:mod:`ladon.observe.context`), and writes one
    structured line per request on the ``ladon.requests`` logger when asked.
:class:`Compress`
    gzips answers a client accepts compressed (``Accept-Encoding``), when
    they are of a compressible type and at least ``min_size`` bytes.

.. versionadded:: 2.0
"""

from __future__ import annotations

import gzip
import logging
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from ..exceptions.base import DefinitionError
from ..observe.context import CURRENT_REQUEST
from ..observe.context import RequestRecord
from ..observe.context import new_request_id
from ..observe.context import safe_request_id
from .cors import CORS

StartResponse = Callable[..., Any]
WSGIEnviron = dict[str, Any]
WSGIApp = Callable[[WSGIEnviron, StartResponse], Iterable[bytes]]

#: Ladon 1.0's access log (``LOG_REQUEST_ACCESS``).
access_logger = logging.getLogger("ladon.access")
#: The logger of the structured per-request lines.
request_logger = logging.getLogger("ladon.requests")

#: The WSGI environ key holding the request's id (methods taking ``**kw``
#: find it in their environ).
REQUEST_ID_KEY = "ladon.request_id"

#: Answers smaller than this many bytes are not compressed by default.
DEFAULT_MIN_SIZE = 1024

#: The content types compressed (what is already compressed never is:
#: images but SVG, archives, attachments, multipart answers).
COMPRESSIBLE = (
    "text/",
    "application/json",
    "application/xml",
    "application/soap+xml",
    "application/wsdl+xml",
    "application/javascript",
    "application/openrpc+json",
    "image/svg+xml",
)


class RequestContext:
    """Request ids for every request, and the structured request log.

    :param app: the WSGI application wrapped.
    :param log_requests: write one line per request on ``ladon.requests``
        (INFO), with the fields ``request_id``, ``http_method``, ``path``
        (without the query string), ``status``, ``duration`` (seconds) and,
        for a call, ``service``, ``interface``, ``method``, ``principal``
        (the caller's name) and ``outcome``. No header and no body is ever
        logged, so no credential is either.

    .. versionadded:: 2.0
    """

    def __init__(self, app: WSGIApp, log_requests: bool = False) -> None:
        self.app = app
        self.log_requests = log_requests

    def __call__(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        sent = environ.get("HTTP_X_REQUEST_ID")
        request_id = sent if sent is not None and safe_request_id(sent) else new_request_id()
        environ[REQUEST_ID_KEY] = request_id
        header = ("X-Request-ID", request_id)
        record = RequestRecord(request_id)
        if not self.log_requests:  # PERF: the usual case, nothing to remember

            def echo(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                return start_response(status, [*headers, header], exc_info)

            token = CURRENT_REQUEST.set(record)
            try:
                return self.app(environ, echo)
            finally:
                CURRENT_REQUEST.reset(token)
        statuses: list[str] = []
        started = time.perf_counter()

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            statuses.append(status)
            return start_response(status, [*headers, header], exc_info)

        token = CURRENT_REQUEST.set(record)
        try:
            body = self.app(environ, start)
        finally:
            CURRENT_REQUEST.reset(token)
        if isinstance(body, list | tuple):
            self._log(environ, record, statuses, started)
            return body
        return _Closing(body, lambda: self._log(environ, record, statuses, started))

    def _log(
        self, environ: WSGIEnviron, record: RequestRecord, statuses: list[str], started: float
    ) -> None:
        status = int(statuses[-1].split(" ", 1)[0]) if statuses else 0
        duration = time.perf_counter() - started
        fields: dict[str, Any] = {
            "request_id": record.request_id,
            "http_method": environ.get("REQUEST_METHOD", ""),
            "path": str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", "")),
            "status": status,
            "duration": round(duration, 6),
        }
        if record.service is not None:
            fields.update(
                service=record.service,
                interface=record.interface,
                method=record.method,
                principal=record.principal,
                outcome=record.outcome,
            )
        request_logger.info(
            "%s %s %s %.1f ms",
            fields["http_method"],
            fields["path"],
            status,
            duration * 1000,
            extra=fields,
        )


class _Closing:
    """A streamed answer whose end runs ``done`` (once)."""

    def __init__(self, body: Iterable[bytes], done: Callable[[], None]) -> None:
        self._body = body
        self._done: Callable[[], None] | None = done

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            done, self._done = self._done, None
            if done is not None:
                done()


def accepts_gzip(header: str) -> bool:
    """Whether an ``Accept-Encoding`` header accepts ``gzip`` (by name or
    ``*``, with a quality above 0).

    .. versionadded:: 2.0
    """
    star: bool | None = None
    for item in header.split(","):
        coding, _, params = item.strip().partition(";")
        coding = coding.strip().lower()
        if coding not in ("gzip", "x-gzip", "*"):
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if coding == "*":
            star = quality > 0
        else:
            return quality > 0
    return bool(star)


def compressible(content_type: str) -> bool:
    """Whether answers of ``content_type`` are worth compressing."""
    ctype = content_type.split(";", 1)[0].strip().lower()
    return ctype.startswith(COMPRESSIBLE) or ctype.endswith(("+json", "+xml"))


class Compress:
    """gzip compression of answers, when the client accepts it.

    An answer is compressed when the request's ``Accept-Encoding`` accepts
    ``gzip``, the answer has a body of at least ``min_size`` bytes (its
    ``Content-Length``), a compressible type (text, JSON, XML, SOAP, WSDL,
    JavaScript, SVG) and no ``Content-Encoding`` yet, and compressing makes
    it smaller. It then gets ``Content-Encoding: gzip``, the compressed
    ``Content-Length``, ``Vary: Accept-Encoding`` and a weak ETag. A
    ``HEAD`` request gets the headers the ``GET`` would (the answer is
    made and compressed, and not sent). Answers of other requests are not
    touched (nor delayed: a request without ``Accept-Encoding`` costs one
    look-up).

    :param app: the WSGI application wrapped.
    :param min_size: the smallest answer compressed, in bytes.
    :param level: gzip's compression level (1 fastest .. 9 smallest).

    .. versionadded:: 2.0
    """

    def __init__(self, app: WSGIApp, min_size: int = DEFAULT_MIN_SIZE, level: int = 6) -> None:
        if min_size < 0:
            raise ValueError(f"compress_min_size must be zero or more bytes, not {min_size!r}")
        if not 1 <= level <= 9:
            raise ValueError(f"the gzip level must be between 1 and 9, not {level!r}")
        self.app = app
        self.min_size = min_size
        self.level = level

    def __call__(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        accept = environ.get("HTTP_ACCEPT_ENCODING")
        if not accept or not accepts_gzip(str(accept)):
            return self.app(environ, start_response)
        head = environ.get("REQUEST_METHOD") == "HEAD"
        inner = {**environ, "REQUEST_METHOD": "GET"} if head else environ
        held: list[tuple[str, list[tuple[str, str]], Any]] = []
        written: list[bytes] = []

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            held[:] = [(status, list(headers), exc_info)]
            return written.append

        body = self.app(inner, start)
        try:
            chunks = list(body) if self._worth(held) else None
        except BaseException:
            _close(body)
            raise
        if not held:  # a lazy application: its answer is passed on as it is
            return _Deferred(body, held, written, start_response)
        status, headers, exc_info = held[0]
        if chunks is None:
            if status[:3] == "304":
                headers = _validated_gzip(headers, environ.get("HTTP_IF_NONE_MATCH"))
            start_response(status, headers, exc_info)
            if head:
                _close(body)
                return []
            if written:
                return _Prefixed(written, body)
            return body
        _close(body)
        data = b"".join(written) + b"".join(chunks)
        packed = gzip.compress(data, self.level, mtime=0)
        if len(packed) >= len(data):
            start_response(status, headers, exc_info)
            return [] if head else [data]
        start_response(status, _gzip_headers(headers, len(packed)), exc_info)
        return [] if head else [packed]

    def _worth(self, held: list[tuple[str, list[tuple[str, str]], Any]]) -> bool:
        if not held:
            return False
        status, headers, _exc = held[0]
        if status[:3] in ("204", "304") or status[:1] == "1":
            return False
        length: int | None = None
        ctype = ""
        for name, value in headers:
            lower = name.lower()
            if lower == "content-encoding":
                return False
            if lower == "content-length":
                try:
                    length = int(value)
                except ValueError:
                    return False
            elif lower == "content-type":
                ctype = value
        return length is not None and length >= self.min_size and compressible(ctype)


def _gzip_headers(headers: list[tuple[str, str]], length: int) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    vary: list[str] = []
    for name, value in headers:
        lower = name.lower()
        if lower == "content-length":
            continue
        if lower == "vary":
            vary.extend(v.strip() for v in value.split(",") if v.strip())
            continue
        if lower == "etag" and not value.startswith("W/"):
            value = "W/" + value
        out.append((name, value))
    if not any(v.lower() == "accept-encoding" for v in vary):
        vary.append("Accept-Encoding")
    out.extend(
        [
            ("Content-Encoding", "gzip"),
            ("Content-Length", str(length)),
            ("Vary", ", ".join(vary)),
        ]
    )
    return out


def _validated_gzip(headers: list[tuple[str, str]], if_none_match: object) -> list[tuple[str, str]]:
    """The headers of a 304 that validates the gzip answer a client holds:
    its ``If-None-Match`` names the weak ETag that compression gave the
    200 (``W/"x"`` for the application's ``"x"``), so the 304 says that ETag
    and ``Vary: Accept-Encoding`` too, as the 200 did (RFC 9110, 15.4.5)."""
    if not isinstance(if_none_match, str) or "W/" not in if_none_match:
        return headers
    for name, value in headers:
        if name.lower() == "etag" and not value.startswith("W/"):
            weak = "W/" + value
            if weak not in (tag.strip() for tag in if_none_match.split(",")):
                return headers
            out = [(n, weak if n.lower() == "etag" else v) for n, v in headers]
            vary = [v for n, v in headers if n.lower() == "vary"]
            if not any("accept-encoding" in v.lower() for v in vary):
                out = [(n, v) for n, v in out if n.lower() != "vary"]
                out.append(("Vary", ", ".join([*vary, "Accept-Encoding"])))
            return out
    return headers


def _close(body: Iterable[bytes]) -> None:
    close = getattr(body, "close", None)
    if close is not None:
        close()


class _Deferred:
    """The answer of an application that calls ``start_response`` only
    once its body is iterated: passed on uncompressed."""

    def __init__(
        self,
        body: Iterable[bytes],
        held: list[tuple[str, list[tuple[str, str]], Any]],
        written: list[bytes],
        start_response: StartResponse,
    ) -> None:
        self._body = body
        self._held = held
        self._written = written
        self._start = start_response

    def __iter__(self) -> Iterator[bytes]:
        started = False
        for chunk in self._body:
            if not started and self._held:
                started = True
                self._start(*self._held[0])
                yield from self._written
            yield chunk
        if not started and self._held:
            self._start(*self._held[0])
            yield from self._written

    def close(self) -> None:
        _close(self._body)


class _Prefixed:
    """What the application wrote through ``write()``, then its body."""

    def __init__(self, written: list[bytes], body: Iterable[bytes]) -> None:
        self._written = written
        self._body = body

    def __iter__(self) -> Iterator[bytes]:
        yield from self._written
        yield from self._body

    def close(self) -> None:
        _close(self._body)


class AccessLog:
    """Logs one line per request on ``ladon.access`` (Ladon 1.0's
    ``LOG_REQUEST_ACCESS``): client address, method, path, status.

    :param app: the WSGI application wrapped.

    .. versionadded:: 2.0
    """

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        statuses: list[str] = []

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            statuses.append(status)
            return start_response(status, headers, exc_info)

        body = self.app(environ, start)
        status = statuses[-1].split(" ", 1)[0] if statuses else "-"
        access_logger.info(
            "%s %s %s %s",
            environ.get("REMOTE_ADDR", "-"),
            environ.get("REQUEST_METHOD", "-"),
            quote(str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))),
            status,
        )
        return body


def wrap_application(
    app: WSGIApp,
    compress_min_size: int | None,
    cors_origins: Sequence[str],
    access_log: bool,
    request_ids: bool,
    log_requests: bool,
) -> WSGIApp:
    """The application's request-level wrappers, innermost first:
    compression, CORS, Ladon 1.0's access log, request ids and the
    structured request log.

    :raises DefinitionError: a bad threshold or origin.

    .. versionadded:: 2.0
    """
    try:
        if compress_min_size is not None:
            app = Compress(app, compress_min_size)
        if cors_origins:
            app = CORS(app, list(cors_origins))
    except ValueError as exc:
        raise DefinitionError(str(exc)) from None
    if access_log:
        app = AccessLog(app)
    if request_ids:
        app = RequestContext(app, log_requests)
    return app
