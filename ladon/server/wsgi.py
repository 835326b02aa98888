"""``LadonWSGIApplication``: one WSGI app serving every service through every
interface, with the docs pages."""

from __future__ import annotations

import dataclasses
import functools
import html
import http
import io
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from ..exceptions.base import DefinitionError
from ..exceptions.service import ServiceFault
from ..interfaces import DEFAULT_INTERFACES
from ..interfaces import entry_point_interfaces
from ..interfaces import exposed_interfaces
from ..interfaces.base import BodyStream
from ..interfaces.base import Call
from ..interfaces.base import Interface
from ..interfaces.base import Payload
from ..interfaces.multipart import MultipartLimits
from ..ladonizer.model import ServiceInfo
from ..ladonizer.registry import build_services
from ..ladonizer.registry import discover
from ..tasks import DEFAULT_TASKS_ENV
from ..tasks import TaskBackend
from ..tasks import ThreadTaskBackend
from ..tasks import backend_from_url
from ..types.attachment import AttachmentSet
from ..types.attachment import attachment
from . import LOG_EXECUTION_TIME
from . import LOG_JSON_FORMAT
from . import LOG_REQUEST_ACCESS
from . import LOG_REQUEST_DICT
from . import LOG_RESPONSE_DICT
from .body import content_coding
from .body import read_body
from .body import read_parts
from .customresponse import CustomResponse
from .dispatch import Dispatcher
from .dispatch import internal_error
from .pages import Pages
from .routing import Route
from .routing import RouteKind
from .routing import match

logger = logging.getLogger("ladon")
access_logger = logging.getLogger("ladon.access")
call_logger = logging.getLogger("ladon.calls")

StartResponse = Callable[..., Any]
WSGIEnviron = dict[str, Any]

DEFAULT_MAX_CONTENT_LENGTH = 16 * 1024 * 1024


class LadonWSGIApplication:
    """The WSGI application.

    :param services: one item or a list of: module names (imported after the
        ``path_list`` directories are appended to ``sys.path``), paths of
        ``.py`` files or directories, modules, classes (a fresh instance per
        call) and configured instances (served as they are).
    :param path_list: directories to append to ``sys.path`` first.
    :param catalog_name: title of the catalog page.
    :param catalog_desc: description on the catalog page.
    :param logging: Ladon 1.0 logging flags (``ladon.server.LOG_*``).
    :param tasks: task backend: an instance, or a URL such as ``thread://``;
        default: the ``LADON_TASKS`` environment variable, else an embedded
        :class:`~ladon.tasks.ThreadTaskBackend`.
    :param interfaces: name -> interface class; default
        :data:`~ladon.interfaces.DEFAULT_INTERFACES`.
    :param debug: put tracebacks in faults (never in production).
    :param max_content_length: largest request body accepted, in bytes (for
        a multipart request: of its first part, the protocol message).
    :param max_attachments: most attachments (parts after the first) one
        multipart request may carry.
    :param max_attachment_bytes: most bytes all the attachments of one
        request may hold together; over it, or over ``max_attachments``,
        the call is answered with the interface's fault (HTTP 413 where the
        protocol allows). Attachments are spooled to anonymous temporary
        files above 512 KiB and removed when the call is answered.
    :param base_url: public URL of the application (used in descriptions);
        default: built from the WSGI environ (scheme, SERVER_NAME,
        SERVER_PORT, SCRIPT_NAME), never from request headers.
    :param interface_plugins: also serve the interfaces installed packages
        offer in the ``ladon.interfaces`` entry-point group.
    :param trust_proxy: build the public URL from ``X-Forwarded-Proto``,
        ``X-Forwarded-Host`` and ``X-Forwarded-Prefix`` (only behind a proxy
        that sets them).

    .. versionadded:: 2.0
    """

    def __init__(
        self,
        services: object,
        path_list: str | Sequence[str] | None = None,
        catalog_name: str | None = None,
        catalog_desc: str | None = None,
        logging: int = 0,
        *,
        tasks: TaskBackend | str | None = None,
        interfaces: Mapping[str, type[Interface]] | None = None,
        debug: bool = False,
        max_content_length: int = DEFAULT_MAX_CONTENT_LENGTH,
        max_attachments: int = 100,
        max_attachment_bytes: int = 256 * 1024 * 1024,
        base_url: str | None = None,
        trust_proxy: bool = False,
        interface_plugins: bool = False,
    ) -> None:
        self.services: list[ServiceInfo] = build_services(discover(services, path_list))
        self._by_name = {s.name.lower(): s for s in self.services}
        if interfaces is None:
            self.interfaces = {**DEFAULT_INTERFACES, **exposed_interfaces()}
        else:
            self.interfaces = dict(interfaces)
        if interface_plugins:
            self.interfaces.update(entry_point_interfaces())
        for name, cls in self.interfaces.items():
            if (
                not name
                or "/" in name
                or not (isinstance(cls, type) and issubclass(cls, Interface))
            ):
                raise DefinitionError(f"interface {name!r}: expected an Interface subclass")
        self.debug = debug
        self.logging = logging
        self.max_content_length = max_content_length
        self.multipart_limits = MultipartLimits(
            max_root=max_content_length,
            max_parts=max_attachments,
            max_attachment_bytes=max_attachment_bytes,
        )
        self.base_url = base_url.rstrip("/") if base_url else None
        self.trust_proxy = trust_proxy
        self.pages = Pages(catalog_name or "Ladon Service Catalog", catalog_desc or "", path_list)
        self._instances: dict[tuple[str, str], Interface] = {}
        self._endpoints: dict[Route, tuple[ServiceInfo, Interface]] = {}
        self._tasks_config: TaskBackend | str | None = (
            tasks if tasks is not None else os.environ.get(DEFAULT_TASKS_ENV)
        )
        self._tasks: TaskBackend | None = None
        self._lock = threading.Lock()
        self.dispatcher = Dispatcher(self.task_backend, debug)
        self._has_tasks = any(
            m.task_of or m.is_task for s in self.services for m in s.methods.values()
        )
        if self._has_tasks and isinstance(self._tasks_config, str):
            backend_from_url(self._tasks_config).close()  # a bad URL fails now, not on first call

    # -- pieces ---------------------------------------------------------------

    def task_backend(self) -> TaskBackend:
        """The task backend (created on first use)."""
        if self._tasks is None:
            with self._lock:
                if self._tasks is None:
                    cfg = self._tasks_config
                    if cfg is None:
                        self._tasks = ThreadTaskBackend()
                    elif isinstance(cfg, str):
                        self._tasks = backend_from_url(cfg)
                    else:
                        self._tasks = cfg
        return self._tasks

    def close(self) -> None:
        """Stop the task backend (waits for running tasks)."""
        if self._tasks is not None:
            self._tasks.close()

    def service(self, name: str) -> ServiceInfo | None:
        """A service by name, case-insensitively."""
        return self._by_name.get(name.lower())

    def interface(self, service: ServiceInfo, name: str) -> Interface | None:
        """The interface instance serving ``service`` under ``name``."""
        key = (service.name, name)
        inst = self._instances.get(key)
        if inst is None:
            cls = self.interfaces.get(name)
            if cls is None:
                return None
            inst = self._instances[key] = cls(service, debug=self.debug)
        return inst

    def public_url(self, environ: Mapping[str, Any]) -> str:
        """The application's public base URL, without a trailing slash."""
        if self.base_url:
            return self.base_url
        scheme = str(environ.get("wsgi.url_scheme", "http"))
        host = str(environ.get("SERVER_NAME", "localhost"))
        port = str(environ.get("SERVER_PORT", ""))
        prefix = quote(str(environ.get("SCRIPT_NAME", "")))
        if self.trust_proxy:
            scheme = str(environ.get("HTTP_X_FORWARDED_PROTO", scheme)).split(",")[0].strip()
            fwd_host = environ.get("HTTP_X_FORWARDED_HOST")
            if fwd_host:
                host, port = str(fwd_host).split(",")[0].strip(), ""
            prefix = str(environ.get("HTTP_X_FORWARDED_PREFIX", "")).rstrip("/") + prefix
        if ":" in host and not host.startswith("["):
            if host.count(":") == 1:
                host, port = host.split(":")
            else:
                host = f"[{host}]"
        default_port = {"http": "80", "https": "443"}.get(scheme)
        netloc = host if not port or port == default_port else f"{host}:{port}"
        return f"{scheme}://{netloc}{prefix.rstrip('/')}"

    # -- WSGI -----------------------------------------------------------------

    def __call__(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        try:
            response = self._handle(environ)
            if isinstance(response, Payload):
                # NOTE: calls skip werkzeug's Response: it was a third of the
                # time of a small call.
                if response.status == 204:  # no content: no Content-Type either
                    headers = list(response.headers)
                else:
                    headers = [
                        ("Content-Type", response.content_type),
                        ("Content-Length", str(len(response.body))),
                        *response.headers,
                    ]
                stream = response.stream
                if stream is not None:
                    length = stream.length
                    headers = [("Content-Type", response.content_type), *response.headers]
                    if length is not None:
                        headers.append(("Content-Length", str(length)))
                    start_response(_status_line(response.status), headers)
                    if self.logging & LOG_REQUEST_ACCESS:
                        _log_access(environ, response.status)
                    return stream
                start_response(_status_line(response.status), headers)
                if self.logging & LOG_REQUEST_ACCESS:
                    _log_access(environ, response.status)
                return [response.body]
        except HTTPException as exc:
            response = _plain(exc.code or 500, exc.description or exc.name)
            if self.logging & LOG_REQUEST_ACCESS:
                _log_access(environ, response.status_code)
            if isinstance(exc, MethodNotAllowed):
                response.headers["Allow"] = "POST"
        except Exception as exc:
            logger.error("Unexpected error handling %s", environ.get("PATH_INFO"), exc_info=exc)
            response = _plain(500, "Internal server error")
        if self.logging & LOG_REQUEST_ACCESS and response.status_code < 400:
            _log_access(environ, response.status_code)
        return response(environ, start_response)

    def _handle(self, environ: WSGIEnviron) -> Response | Payload:
        route = match(environ.get("PATH_INFO", "") or "")
        endpoint = self._endpoints.get(route)
        if endpoint is not None and environ.get("REQUEST_METHOD") == "POST":
            # NOTE: the hot path: a call to an endpoint seen before.
            return self.post(endpoint[0], endpoint[1], environ)
        if route.kind is RouteKind.CATALOG:
            html = self.pages.catalog(self.services, _script(environ), _skin(environ))
            return Response(html, content_type="text/html; charset=utf-8")
        if route.kind is RouteKind.STATIC:
            return self.pages.skin_file(route.path, environ)
        if route.kind is RouteKind.ASSET:
            return self.pages.asset(route.path, environ)
        service = self.service(route.service)
        if service is None:
            raise NotFound(f"No service named {route.service[:100]!r}")
        if route.kind is RouteKind.SERVICE:
            html = self.pages.service(service, self.interfaces, _script(environ), _skin(environ))
            return Response(html, content_type="text/html; charset=utf-8")
        iface = self.interface(service, route.interface)
        if iface is None:
            raise NotFound(f"No interface named {route.interface[:100]!r}")
        wants_wsdl = str(environ.get("QUERY_STRING", "")).lower() in ("wsdl", "wsdl=")
        if route.kind is RouteKind.DESCRIPTION or (
            wants_wsdl and environ.get("REQUEST_METHOD") in ("GET", "HEAD")
        ):
            # ``<endpoint>?wsdl`` is where many SOAP tools look first.
            query = Request(environ).args
            payload = iface.describe(self.public_url(environ), query)
            if payload is None:
                raise NotFound(f"Interface {iface.name} has no description document")
            return payload
        if environ.get("REQUEST_METHOD") != "POST":
            raise MethodNotAllowed(
                description=f"Requests for {service.name} {route.interface} interface must be posted"
            )
        if len(self._endpoints) >= 1024:  # bounded: paths are client-chosen
            self._endpoints.clear()
        self._endpoints[route] = (service, iface)
        return self.post(service, iface, environ)

    def post(self, service: ServiceInfo, iface: Interface, environ: WSGIEnviron) -> Payload:
        """Read the body of a call (with its attachments) and answer it."""
        ctype = str(environ.get("CONTENT_TYPE", ""))
        if not (ctype[:10].lower() == "multipart/" and iface.accepts_attachments):
            body = read_body(environ, self.max_content_length)
            return self.call(service, iface, body, environ)
        try:
            if content_coding(environ):  # a compressed multipart body: decoded first
                limits = self.multipart_limits
                data = read_body(environ, limits.max_root + limits.max_attachment_bytes)
                environ = {**environ, "wsgi.input": io.BytesIO(data)}
                environ["CONTENT_LENGTH"] = str(len(data))
            parts = read_parts(environ, ctype, self.multipart_limits)
        except ServiceFault as fault:
            return self._fault(iface, fault, None)
        root, rest = parts[0], parts[1:]
        attachments = AttachmentSet([attachment(p.file, p.size, p.headers) for p in rest])
        environ = {
            **environ,
            "attachments": list(attachments),
            "attachments_by_id": dict(attachments.by_id),
        }
        body = root.file.read()
        headers = {"Content-Type": root.content_type or "application/octet-stream"}
        return self.call(service, iface, body, environ, headers, attachments)

    def call(
        self,
        service: ServiceInfo,
        iface: Interface,
        body: bytes,
        environ: Mapping[str, Any],
        headers: Mapping[str, str] | None = None,
        attachments: AttachmentSet | None = None,
    ) -> Payload:
        """Decode, run and encode one call; every failure becomes a fault.

        :param headers: the request headers the interface reads (default:
            the request's Content-Type).
        :param attachments: the attachments of a multipart request; closed
            once the answer is sent (or by the task that took them).
        """
        payload = self._call(service, iface, body, environ, headers, attachments)
        if attachments is not None:
            payload = _release_after(payload, attachments)
        return payload

    def _call(
        self,
        service: ServiceInfo,
        iface: Interface,
        body: bytes,
        environ: Mapping[str, Any],
        headers: Mapping[str, str] | None,
        attachments: AttachmentSet | None,
    ) -> Payload:
        call: Call | None = None
        try:
            if headers is None:
                headers = {"Content-Type": str(environ.get("CONTENT_TYPE", ""))}
            if attachments is not None:
                call = iface.decode_call(body, headers, attachments=attachments)  # type: ignore[call-arg]
                call.context["attachments"] = attachments
                result = self.dispatcher.invoke(service, call, environ)
                return self._encode(iface, call, result)
            if iface.batches:
                batch = iface.call_batch(
                    body, headers, lambda c: self.dispatcher.invoke(service, c, environ)
                )
                if batch is not None:
                    return batch
            call = iface.decode_call(body, headers)
            started = time.perf_counter() if self.logging else 0.0
            result = self.dispatcher.invoke(service, call, environ)
            if self.logging:
                self._log_call(service, iface, call, result, time.perf_counter() - started)
            return self._encode(iface, call, result)
        except ServiceFault as fault:
            return self._fault(iface, fault, call)
        except Exception as exc:
            return self._fault(iface, internal_error(exc, self.debug), call)

    def _encode(self, iface: Interface, call: Call, result: object) -> Payload:
        if isinstance(result, CustomResponse):
            return _custom(result)
        return iface.encode_result(call, result)

    def _log_call(
        self, service: ServiceInfo, iface: Interface, call: Call, result: object, seconds: float
    ) -> None:
        """Ladon 1.0 ``logging=`` flags, through the ``ladon.calls`` logger."""
        flags = self.logging
        record: dict[str, object] = {
            "service": service.name,
            "interface": iface.name,
            "method": call.method.name,
        }
        if flags & LOG_REQUEST_DICT:
            record["args"] = {
                p.name: a for p, a in zip(call.method.params, call.args, strict=False)
            }
        if flags & LOG_RESPONSE_DICT:
            record["result"] = result
        if flags & LOG_EXECUTION_TIME:
            record["seconds"] = round(seconds, 6)
        if len(record) == 3:
            return
        if flags & LOG_JSON_FORMAT:
            call_logger.info(json.dumps(record, default=repr, ensure_ascii=False))
        else:
            call_logger.info(" ".join(f"{k}={v!r}" for k, v in record.items()))

    def _fault(self, iface: Interface, fault: ServiceFault, call: Call | None) -> Payload:
        try:
            payload = iface.encode_fault(fault, call)
            status = getattr(fault, "http_status", None)
            if isinstance(status, int) and payload.status == 200:
                payload = dataclasses.replace(payload, status=status)
            return payload
        except Exception as exc:
            logger.error("Interface %s failed to encode a fault", iface.name, exc_info=exc)
            return Payload(b"Internal server error", "text/plain; charset=utf-8", 500)


def _release_after(payload: Payload, attachments: AttachmentSet) -> Payload:
    """Close a request's attachments once its answer is sent (a streamed
    answer may read them), unless a task took them over."""
    stream = payload.stream
    if stream is None:
        attachments.close()
        return payload
    own_close = stream.close

    def close() -> None:
        try:
            own_close()
        finally:
            attachments.close()

    return dataclasses.replace(payload, stream=_ClosingStream(stream, close))


class _ClosingStream:
    """A body stream whose ``close`` also runs extra clean-up."""

    def __init__(self, stream: BodyStream, close: Callable[[], None]) -> None:
        self._stream = stream
        self._close = close

    @property
    def length(self) -> int | None:
        return self._stream.length

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._stream)

    def close(self) -> None:
        self._close()


def _log_access(environ: Mapping[str, Any], status: int) -> None:
    access_logger.info(
        "%s %s %s %s",
        environ.get("REMOTE_ADDR", "-"),
        environ.get("REQUEST_METHOD", "-"),
        quote(str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))),
        status,
    )


def _custom(result: CustomResponse) -> Payload:
    headers = list(result.response_headers())
    ctype = next((v for k, v in headers if k.lower() == "content-type"), "application/octet-stream")
    rest = tuple((k, v) for k, v in headers if k.lower() not in ("content-type", "content-length"))
    data = result.response_data()
    body = data if isinstance(data, bytes) else b"".join(data)
    return Payload(body, ctype, 200, rest)


@functools.lru_cache(maxsize=64)
def _status_line(status: int) -> str:
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _skin(environ: Mapping[str, Any]) -> str | None:
    """The ``?skin=NAME`` of a docs page request (validated by the pages)."""
    query = str(environ.get("QUERY_STRING", ""))
    if "skin=" not in query:
        return None
    return Request(environ).args.get("skin") or None  # type: ignore[arg-type]


def _script(environ: Mapping[str, Any]) -> str:
    return quote(str(environ.get("SCRIPT_NAME", ""))).rstrip("/")


def _plain(status: int, text: str) -> Response:
    # What the client sent may be in ``text`` (a service name...): escaped, and
    # nosniff, so that no browser ever runs it as HTML.
    response = Response(
        html.escape(text, quote=False) + "\n",
        status=status,
        content_type="text/plain; charset=utf-8",
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
