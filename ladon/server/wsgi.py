"""``LadonWSGIApplication``: one WSGI app serving every service through every
interface, with the docs pages.

The request path: the app's :class:`~ladon.server.routing.Router` finds the
route; a call's body (and attachments) is read into a
:class:`~ladon.interfaces.base.WireRequest` and answered by the
:class:`~ladon.server.dispatch.Dispatcher`, the one route from decode to
encode; access logging is one wrapper around it all.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import http
import io
import logging
import os
import threading
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import TypeVar
from typing import cast
from urllib.parse import quote
from urllib.parse import urlsplit

from werkzeug.datastructures import EnvironHeaders
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from ..auth.base import Authenticator
from ..auth.base import NonceStore
from ..auth.faults import AuthFault
from ..exceptions.base import DefinitionError
from ..exceptions.service import MalformedRequest
from ..exceptions.service import ServiceFault
from ..interfaces import DEFAULT_INTERFACES
from ..interfaces import configure_soap
from ..interfaces import entry_point_interfaces
from ..interfaces import exposed_interfaces
from ..interfaces._json import dumps_bytes
from ..interfaces.base import BodyStream
from ..interfaces.base import Interface
from ..interfaces.base import Payload
from ..interfaces.base import WireRequest
from ..interfaces.http import HTTPInterface
from ..interfaces.openapi import openapi_document
from ..ladonizer.access import ADMIN_ROLE
from ..ladonizer.access import Access
from ..ladonizer.access import access_rule
from ..ladonizer.model import ServiceInfo
from ..ladonizer.registry import DEFAULT_NAMESPACE
from ..ladonizer.registry import build_services
from ..ladonizer.registry import discover
from ..observe import metrics as metrics_mod
from ..observe import tracing as tracing_mod
from ..observe.context import CURRENT_REQUEST
from ..observe.context import new_request_id
from ..observe.context import safe_request_id
from ..tasks import BACKEND_SCHEMES
from ..tasks import DEFAULT_TASKS_ENV
from ..tasks import BackendFactory
from ..tasks import TaskBackend
from ..tasks import ThreadTaskBackend
from ..tasks import backend_from_url
from ..tasks.calls import TaskCalls
from ..tasks.delivery import CallbackSender
from ..tasks.delivery import attach_sender
from ..tasks.delivery import callback_settings
from ..types.attachment import AttachmentSet
from ..types.attachment import attachment
from ..wire.multipart import MultipartLimits
from . import LOG_EXECUTION_TIME
from . import LOG_REQUEST_ACCESS
from . import LOG_REQUEST_DICT
from . import LOG_RESPONSE_DICT
from .admin import OPERATION_ROUTES
from .admin import Operations
from .admin import render_operator_page
from .body import content_coding
from .body import read_body
from .body import read_parts
from .dispatch import CallLog
from .dispatch import Dispatcher
from .dispatch import Exchange
from .dispatch import Step
from .observing import MetricsStep
from .observing import RequestFields
from .observing import TracingStep
from .operations import DEFAULT_MIN_SIZE
from .operations import REQUEST_ID_KEY
from .operations import AccessLog as AccessLog
from .operations import Compress
from .operations import wrap_application
from .pages import Pages
from .routing import Route
from .routing import RouteKind
from .routing import Router
from .routing import query_args
from .security import Authentication
from .security import LocalNonces
from .security import default_access
from .security import secured_services
from .taskheaders import CallbackStep
from .taskheaders import IdempotencyStep

logger = logging.getLogger("ladon")

StartResponse = Callable[..., Any]
WSGIEnviron = dict[str, Any]
WSGIApp = Callable[[WSGIEnviron, StartResponse], Iterable[bytes]]
#: ``post`` or ``_post`` of the application: (service, interface, subpath, environ)
_Poster = Callable[[ServiceInfo, Interface, str, WSGIEnviron], "Response | Payload"]

DEFAULT_MAX_CONTENT_LENGTH = 16 * 1024 * 1024
T = TypeVar("T")


class EmptyRequest(MalformedRequest):
    """A call with no body at all, or one this interface cannot read (a
    multipart request to an interface taking none): HTTP 400 (on SOAP, the
    500 of its faults).

    .. versionadded:: 2.0
    """

    http_status: int | None = 400
    about_request = True


class TransportFault(MalformedRequest):
    """What the server found wrong with a request body before its interface
    read it (too large, a bad or short Content-Length, no length, an
    unknown or broken Content-Encoding), for an interface that answers such
    errors with its own faults (every built-in one): ``http_status`` is the
    error's (413, 400, 411, 415) wherever the protocol lets the status vary;
    SOAP 1.1 keeps the 500 of its faults. A malformed request: JSON-RPC and
    XML-RPC give it the parse-error code, -32700.

    .. versionadded:: 2.0
    """

    about_request = True

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.http_status = status


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
    :param base_url: public URL of the application (written in descriptions
        and pages); default: rebuilt from each request as PEP 3333 does
        (scheme, the ``Host`` header, else SERVER_NAME and SERVER_PORT,
        then SCRIPT_NAME).
    :param interface_plugins: also serve the interfaces installed packages
        offer in the ``ladon.interfaces`` entry-point group.
    :param trust_proxy: build the public URL from ``X-Forwarded-Proto``,
        ``X-Forwarded-Host`` and ``X-Forwarded-Prefix`` (only behind a proxy
        that sets them).
    :param task_schemes: the task backend URL schemes understood by
        ``tasks=`` and ``LADON_TASKS`` (default
        :data:`~ladon.tasks.BACKEND_SCHEMES`).
    :param namespace: the XML target namespace of the services that set no
        ``ladon_namespace`` attribute, an absolute URI where ``{service}``
        stands for the service name (default ``"urn:{service}"``).
    :param soap_naming: how ``soap`` and ``soap11`` name things:
        ``"ladon10"`` (the default: Ladon 1.0's names and namespaces, which
        its clients rely on) or ``"python"`` (the Python names as they are,
        in the service's namespace, as ``soap12`` always does), for new
        deployments.
    :param soap_headers: more SOAP header blocks (``"{namespace}local"``)
        that a request may mark ``mustUnderstand`` (the steps that read
        them list theirs in a ``soap_headers`` attribute); WS-Addressing's
        and ``wsse:Security`` always are.
    :param auth: the authenticators (:mod:`ladon.auth`: ``RemoteUser()``,
        ``BasicAuth(verify)``, ``BearerAuth(verify)``,
        ``UsernameToken(password_for)``), tried in this order on every
        call of every interface. With them, a task belongs to the principal
        that started it.
    :param access: the rule of the methods that give none (nor their class,
        with ``ladon_access``): ``"anonymous"``, ``"authenticated"`` or a
        tuple of roles; default ``"authenticated"`` with ``auth``, else
        ``"anonymous"``.
    :param cors_origins: the origins whose pages may call the services
        from a browser (``["https://portal.example.com"]``, ``["*"]`` for
        any); default: none.
    :param protect_docs: the catalog, service pages and descriptions need
        an authenticated caller too (by the authenticators that read HTTP);
        default: they are public.
    :param steps: more :class:`~ladon.server.dispatch.Step` objects every
        call of every interface goes through, in order, after the
        authentication (so they see the caller) and before the call log.
    :param metrics: record Prometheus metrics of every call and task and
        serve them at ``/_ladon/metrics``; default: when prometheus-client
        is installed (``ladon[metrics]``).
    :param tracing: run every call and task in an OpenTelemetry span;
        default: when opentelemetry-api is installed (``ladon[otel]``).
    :param request_ids: give every request an id (the client's
        ``X-Request-ID`` when sane, else a new one), echoed in the answer,
        on every log line of the call and in the detail of an "Internal
        server error" fault.
    :param log_requests: write one structured line per request on the
        ``ladon.requests`` logger (see :mod:`ladon.server.operations`).
    :param compress_min_size: gzip answers of at least this many bytes for
        clients that accept it (``Accept-Encoding``); ``None``: never.
    :param metrics_access: who may read ``/_ladon/metrics`` (an access
        rule, as ``access=``); default: the ``admin`` role with ``auth``,
        anyone without.
    :param operator_access: who may use the operator page and task API
        (``/_ladon/tasks``, ``/_ladon/api/tasks``); default: the ``admin``
        role (without ``auth``, nobody unless ``"anonymous"`` is given).
    :param max_wait: the longest a ``<task>_wait`` call waits, in seconds
        (a longer ``timeout`` is cut to it); default 30.
    :param max_waiters: how many ``<task>_wait`` calls may wait at once in
        one process; one more is answered at once with a server fault
        (HTTP 503 where the protocol has statuses). Each waiting call holds
        a thread of the server: under gunicorn use the ``gthread`` worker
        class with at least this many ``--threads`` (see
        :doc:`/tasks`); default 64.
    :param callback_hosts: the hosts completion callbacks may go to
        (``Ladon-Callback-URL`` of a task start; ``"*.example.com"`` for
        its subdomains); default: the ``LADON_CALLBACK_HOSTS`` environment
        variable (comma-separated), else none: every callback URL is
        refused.
    :param callback_secret: the key callbacks are signed with
        (``Ladon-Signature``, HMAC-SHA256), at least 16 bytes, or a list of
        keys while they are rotated (the first is current); default: the
        ``LADON_CALLBACK_SECRET`` environment variable. Never written to
        the task store: processes that run tasks elsewhere (``ladon
        worker``) get it from their own configuration.
    :param callback_networks: loopback, private or link-local networks
        callbacks may reach (``["10.1.2.0/24"]``; ``["127.0.0.1/32"]`` for
        a receiver on this machine); default: the
        ``LADON_CALLBACK_NETWORKS`` environment variable, else none.
    :param callback_attempts: tries of a callback in all before it is
        given up (5xx, 408, 425, 429 answers, time-outs and connection
        errors are tried again).
    :param callback_backoff: seconds before the second try; doubled after
        each.
    :param callback_timeout: seconds one try may take.

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
        task_schemes: Mapping[str, BackendFactory] = BACKEND_SCHEMES,
        namespace: str = DEFAULT_NAMESPACE,
        soap_naming: str = "ladon10",
        soap_headers: Iterable[str] = (),
        auth: Sequence[Authenticator] | None = None,
        access: object = None,
        cors_origins: Sequence[str] = (),
        protect_docs: bool = False,
        steps: Sequence[Step] = (),
        metrics: bool | None = None,
        tracing: bool | None = None,
        request_ids: bool = True,
        log_requests: bool = False,
        compress_min_size: int | None = DEFAULT_MIN_SIZE,
        metrics_access: object = None,
        operator_access: object = None,
        max_wait: float = 30.0,
        max_waiters: int = 64,
        callback_hosts: Sequence[str] | None = None,
        callback_secret: str | bytes | Sequence[str | bytes] | None = None,
        callback_networks: Sequence[str] | None = None,
        callback_attempts: int = 5,
        callback_backoff: float = 1.0,
        callback_timeout: float = 5.0,
    ) -> None:
        authenticators = tuple(auth or ())
        settings = _configured(
            lambda: callback_settings(
                callback_hosts,
                callback_secret,
                callback_networks,
                callback_attempts,
                callback_backoff,
                callback_timeout,
            )
        )
        rule = default_access(authenticators, access, protect_docs)
        self.services: list[ServiceInfo] = secured_services(
            build_services(discover(services, path_list), namespace, rule), authenticators
        )
        if settings is not None:  # the descriptions offer Ladon-Callback-URL
            self.services = [dataclasses.replace(s, sends_callbacks=True) for s in self.services]
        self._by_name = {s.name.lower(): s for s in self.services}
        if interfaces is None:
            self.interfaces = {**DEFAULT_INTERFACES, **exposed_interfaces()}
        else:
            self.interfaces = dict(interfaces)
        if interface_plugins:
            self.interfaces.update(entry_point_interfaces())
        for name, cls in self.interfaces.items():
            if (
                not isinstance(name, str)
                or not name
                or "/" in name
                or name != name.strip()
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
        # PATH_INFO -> service, interface, subpath and what answers a POST
        # there (post, or _post itself): calls to endpoints seen before
        self._endpoints: dict[str, tuple[ServiceInfo, Interface, str, _Poster]] = {}
        self._urls: dict[tuple[object, ...], str] = {}
        self._task_schemes = task_schemes
        self._tasks_config: TaskBackend | str | None = (
            tasks if tasks is not None else os.environ.get(DEFAULT_TASKS_ENV)
        )
        self._tasks: TaskBackend | None = None
        self._local_nonces: LocalNonces | None = None
        self._lock = threading.Lock()
        chain: list[Step] = []
        self.tracing = _optional(tracing, tracing_mod.available(), "tracing", "otel")
        self.metrics = _optional(metrics, metrics_mod.available(), "metrics", "metrics")
        if self.tracing:
            chain.append(TracingStep())
        if self.metrics:
            chain.append(MetricsStep())
        if log_requests:
            chain.append(RequestFields())
        self.authentication: Authentication | None = None
        if authenticators:
            self.authentication = Authentication(authenticators, self.nonce_store, protect_docs)
            chain.append(self.authentication)
        self.protect_docs = protect_docs
        # the console relies on the browser's own credentials only where they
        # are the way in (protected pages, a server in front that logs in)
        self._browser_credentials = (
            not authenticators
            or protect_docs
            or any(a.scheme == "RemoteUser" for a in authenticators)
        )
        self._has_tasks = any(
            m.task_of or m.is_task for s in self.services for m in s.methods.values()
        )
        #: Sends the completion callbacks of the tasks this process ends
        #: (``None`` without ``callback_hosts``).
        self.callback_sender = CallbackSender(settings) if settings is not None else None
        if self._has_tasks:  # the headers of task starts
            chain.append(IdempotencyStep())
            chain.append(CallbackStep(settings))
        chain.extend(_checked_steps(steps))
        if logging & (LOG_REQUEST_DICT | LOG_RESPONSE_DICT | LOG_EXECUTION_TIME):
            chain.append(CallLog(logging))
        tasks_calls = _configured(
            lambda: TaskCalls(
                self.task_backend,
                debug,
                owners=bool(authenticators),
                max_wait=max_wait,
                max_waiters=max_waiters,
            )
        )
        self.dispatcher = Dispatcher(tasks_calls, debug, chain)
        understood = [*soap_headers]
        for step in chain:
            understood.extend(getattr(step, "soap_headers", ()))
        try:
            self.interfaces = configure_soap(self.interfaces, soap_naming, understood)
        except ValueError as exc:
            raise DefinitionError(str(exc)) from None
        if self._has_tasks and isinstance(self._tasks_config, str):
            # a bad URL fails now, not on first call
            backend_from_url(self._tasks_config, task_schemes).close()
        self.router = Router(self.interfaces)
        self.operations = Operations(
            self.task_backend,
            self._has_tasks,
            self.authentication,
            self.metrics,
            _rule(metrics_access, ("admin",) if authenticators else "anonymous", "metrics_access"),
            _rule(operator_access, (ADMIN_ROLE,), "operator_access"),
            lambda environ: render_operator_page(self.pages, self.page_root(environ)),
        )
        # PERF: request ids without the request log are given here, in
        # __call__, rather than by one more wrapper (see RequestContext)
        self._ids_here = request_ids and not log_requests
        self._wsgi: WSGIApp = wrap_application(
            self._respond,
            compress_min_size,
            cors_origins,
            bool(logging & LOG_REQUEST_ACCESS),
            log_requests,
            log_requests,
        )
        # PERF: what _wsgi does for a request without Accept-Encoding when its
        # only wrapper is Compress (the default): _respond itself
        inner = getattr(self._wsgi, "app", None)
        self._uncompressed: WSGIApp | None = (
            self._respond if isinstance(self._wsgi, Compress) and inner == self._respond else None
        )

    # -- pieces ---------------------------------------------------------------

    def task_backend(self) -> TaskBackend:
        """The task backend (created on first use)."""
        if self._tasks is None:
            with self._lock:
                if self._tasks is None:
                    cfg = self._tasks_config
                    if cfg is None:
                        backend: TaskBackend = ThreadTaskBackend()
                    elif isinstance(cfg, str):
                        backend = backend_from_url(cfg, self._task_schemes)
                    else:
                        backend = cfg
                    attach_sender(backend, self.callback_sender)
                    # a backend that may run tasks again in any process finds
                    # their services here (SQLite: tasks of a lost process)
                    bind = getattr(backend, "bind_services", None)
                    if callable(bind):
                        bind(self.service)
                    self._tasks = backend
        return self._tasks

    def nonce_store(self) -> NonceStore:
        """Where WS-Security nonces are remembered: the task backend (shared
        like the tasks: memory, the SQLite file, Redis), or, for a backend
        that keeps no nonces, this process's memory (logged once: a nonce
        could then be replayed to another process)."""
        backend = self.task_backend()
        if callable(getattr(backend, "claim_nonce", None)):
            return cast(NonceStore, backend)
        if self._local_nonces is None:
            logger.warning(
                "Task backend %r keeps no nonces: WS-Security nonces are remembered in this "
                "process only",
                backend,
            )
            self._local_nonces = LocalNonces()
        return self._local_nonces

    def close(self) -> None:
        """Stop the task backend (waits for running tasks)."""
        if self._tasks is not None:
            self._tasks.close()

    def _serves_http(self) -> bool:
        return any(issubclass(cls, HTTPInterface) for cls in self.interfaces.values())

    def catalog_openapi(self, environ: Mapping[str, Any]) -> Payload:
        """``/_ladon/openapi.json``: the OpenAPI 3.1 document of every
        service's ``http`` interface (404 when the app does not serve it)."""
        names = sorted(n for n, cls in self.interfaces.items() if issubclass(cls, HTTPInterface))
        if not names:
            raise NotFound("This application does not serve the http interface")
        name = "http" if "http" in names else names[0]
        doc = openapi_document(
            self.services,
            self.public_url(environ),
            name,
            title=self.pages.catalog_name,
            description=self.pages.catalog_desc,
        )
        return Payload(dumps_bytes(doc), "application/json")

    def service(self, name: str) -> ServiceInfo | None:
        """A service by name, case-insensitively (ASCII: a service's name
        is, and no other letter folds into one, as the Kelvin sign into k)."""
        return self._by_name.get(name.lower()) if name.isascii() else None

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
        """The application's public base URL, without a trailing slash.

        ``base_url`` when given; else rebuilt from the request as PEP 3333
        does (the ``Host`` header first, ``SERVER_NAME`` and ``SERVER_PORT``
        only without one; then ``SCRIPT_NAME``); behind a trusted proxy
        (``trust_proxy=True``) its ``X-Forwarded-Proto``,
        ``X-Forwarded-Host`` and ``X-Forwarded-Prefix`` win.
        """
        if self.base_url:
            return self.base_url
        # PERF: the same few hosts come again and again (bounded: the
        # Host header is client-chosen)
        get = environ.get
        key = (
            get("wsgi.url_scheme"),
            get("HTTP_HOST"),
            get("SERVER_NAME"),
            get("SERVER_PORT"),
            get("SCRIPT_NAME"),
            *(
                (get("HTTP_X_FORWARDED_PROTO"), get("HTTP_X_FORWARDED_HOST"))
                if self.trust_proxy
                else ()
            ),
            get("HTTP_X_FORWARDED_PREFIX") if self.trust_proxy else None,
        )
        url = self._urls.get(key)
        if url is None:
            url = self._public_url(environ)
            if len(self._urls) >= 256:
                self._urls.clear()
            self._urls[key] = url
        return url

    def page_root(self, environ: Mapping[str, Any]) -> str:
        """The path the pages' links start with: ``SCRIPT_NAME``, or the
        path of the public URL when ``base_url`` or a trusted proxy's
        ``X-Forwarded-Prefix`` says where the application is seen.

        .. versionadded:: 2.0
        """
        if not (self.base_url or self.trust_proxy):
            return _script(environ)
        return urlsplit(self.public_url(environ)).path.rstrip("/")

    def _public_url(self, environ: Mapping[str, Any]) -> str:
        scheme = str(environ.get("wsgi.url_scheme", "http"))
        host = _host_header(environ.get("HTTP_HOST"))
        port = ""
        if host is None:
            host = str(environ.get("SERVER_NAME", "localhost"))
            port = str(environ.get("SERVER_PORT", ""))
        prefix = quote(str(environ.get("SCRIPT_NAME", "")))
        if self.trust_proxy:
            scheme = str(environ.get("HTTP_X_FORWARDED_PROTO", scheme)).split(",")[0].strip()
            fwd_host = _host_header(str(environ.get("HTTP_X_FORWARDED_HOST", "")).split(",")[0])
            if fwd_host:
                host, port = fwd_host, ""
            prefix = str(environ.get("HTTP_X_FORWARDED_PREFIX", "")).rstrip("/") + prefix
        if ":" in host and not host.startswith("["):
            if host.count(":") == 1:
                host, port = host.split(":")
            else:
                host = f"[{host}]"
        elif host.startswith("[") and "]:" in host:
            host, _, port = host.rpartition(":")
        default_port = {"http": "80", "https": "443"}.get(scheme)
        netloc = host if not port or port == default_port else f"{host}:{port}"
        return f"{scheme}://{netloc}{prefix.rstrip('/')}"

    # -- WSGI -----------------------------------------------------------------

    def __call__(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        if not self._ids_here:
            return self._wsgi(environ, start_response)
        # what RequestContext does without the request log, one call less;
        # _respond writes the X-Request-ID header itself (no start_response
        # wrapper), except for what the wrappers answer alone (OPTIONS: a
        # CORS preflight)
        sent = environ.get("HTTP_X_REQUEST_ID")
        request_id = sent if sent is not None and safe_request_id(sent) else new_request_id()
        environ[REQUEST_ID_KEY] = request_id
        answer = start_response
        if environ.get("REQUEST_METHOD") == "OPTIONS":
            header = ("X-Request-ID", request_id)

            def answer(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                return start_response(status, [*headers, header], exc_info)

        app = self._uncompressed
        if app is None or environ.get("HTTP_ACCEPT_ENCODING"):
            app = self._wsgi
        token = CURRENT_REQUEST.set(request_id)  # PERF: the id alone, no record
        try:
            return app(environ, answer)
        finally:
            CURRENT_REQUEST.reset(token)

    def _respond(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        try:
            endpoint = self._endpoints.get(environ.get("PATH_INFO") or "")
            if endpoint is not None and environ.get("REQUEST_METHOD") == "POST":
                # NOTE: the hot path: a call to an endpoint seen before
                response = endpoint[3](endpoint[0], endpoint[1], endpoint[2], environ)
            else:
                response = self._handle(environ)
        except HTTPException as exc:
            response = _plain(exc.code or 500, exc.description or exc.name)
            if isinstance(exc, MethodNotAllowed):
                response.headers["Allow"] = ", ".join(exc.valid_methods or ["POST"])
        except Exception as exc:
            logger.error("Unexpected error handling %s", environ.get("PATH_INFO"), exc_info=exc)
            response = _plain(500, "Internal server error")
        if self._ids_here and environ.get("REQUEST_METHOD") != "OPTIONS":  # see __call__
            if isinstance(response, Response):
                response.headers["X-Request-ID"] = environ[REQUEST_ID_KEY]
                return response(environ, start_response)
            return _send(response, start_response, ("X-Request-ID", environ[REQUEST_ID_KEY]))
        if isinstance(response, Response):
            return response(environ, start_response)
        return _send(response, start_response)

    def _handle(self, environ: WSGIEnviron) -> Response | Payload:
        path_info: str = environ.get("PATH_INFO") or ""
        route = self.router.match(path_info)
        kind = route.kind
        if kind in _READ_ONLY and environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            raise MethodNotAllowed(
                valid_methods=["GET", "HEAD"],
                description="This document is read with GET",
            )
        if self.protect_docs:
            refused = self._refuse_docs(kind, environ)
            if refused is not None:
                return refused
        if kind is RouteKind.CATALOG:
            html = self.pages.catalog(
                self.services,
                self.page_root(environ),
                _skin(environ),
                openapi=self._serves_http(),
                operator=self._has_tasks,
            )
            return Response(html, content_type="text/html; charset=utf-8")
        if kind is RouteKind.STATIC:
            return self.pages.skin_file(route.path, environ)
        if kind is RouteKind.ASSET:
            return self.pages.asset(route.path, environ)
        if kind is RouteKind.OPENAPI:
            return self.catalog_openapi(environ)
        if kind in OPERATION_ROUTES:
            return self.operations.respond(kind, route.path, environ)
        service = self.service(route.service)
        if service is None:
            raise NotFound(f"No service named {route.service[:100]!r}")
        if kind is RouteKind.SERVICE:
            html = self.pages.service(
                service,
                self.interfaces,
                self.page_root(environ),
                _skin(environ),
                browser_credentials=self._browser_credentials,
            )
            return Response(html, content_type="text/html; charset=utf-8")
        return self._endpoint(service, route, path_info, environ)

    def _endpoint(
        self, service: ServiceInfo, route: Route, path_info: str, environ: WSGIEnviron
    ) -> Payload:
        """A request at an interface's URL: its description, or a call."""
        iface = self.interface(service, route.interface)
        if iface is None:
            raise NotFound(f"No interface named {route.interface[:100]!r}")
        wants_wsdl = str(environ.get("QUERY_STRING", "")).lower() in ("wsdl", "wsdl=")
        if route.kind is RouteKind.DESCRIPTION or (
            wants_wsdl and environ.get("REQUEST_METHOD") in ("GET", "HEAD")
        ):
            # ``<endpoint>?wsdl`` is where many SOAP tools look first.
            query = query_args(environ)
            payload = iface.describe(self.public_url(environ), query)
            if payload is None:
                raise NotFound(f"Interface {iface.name} has no description document")
            return payload
        verb = environ.get("REQUEST_METHOD")
        if verb != "POST":
            methods = iface.http_methods
            if methods is not None and verb not in methods:
                raise MethodNotAllowed(
                    valid_methods=sorted(methods),
                    description=f"Requests for {service.name} {route.interface} interface "
                    "must be posted",
                )
            return self.post(service, iface, route.path, environ)
        if len(self._endpoints) >= 1024:  # bounded: paths are client-chosen
            self._endpoints.clear()
        poster = self.post if iface.http_errors_as_faults else self._post
        self._endpoints[path_info] = (service, iface, route.path, poster)
        return poster(service, iface, route.path, environ)

    def _refuse_docs(self, kind: RouteKind, environ: WSGIEnviron) -> Response | None:
        """With ``protect_docs``: the refusal of a docs request (a page,
        a description, ``?wsdl``) without (or with wrong) credentials, else
        ``None`` (401 with the challenges, or 403 in an application with no
        HTTP scheme to offer: see
        :attr:`~ladon.server.security.Authentication.unauthenticated_status`)."""
        if kind not in _DOCS and not (
            kind is RouteKind.CALL
            and environ.get("REQUEST_METHOD") in ("GET", "HEAD")
            and str(environ.get("QUERY_STRING", "")).lower() in ("wsdl", "wsdl=")
        ):
            return None
        security = self.authentication
        assert security is not None
        try:
            principal = security.identify_http(environ)
        except AuthFault as fault:
            return security.refused(_plain, fault.faultstring)
        if principal is None:
            return security.refused(_plain, "Authentication required")
        return None

    def post(
        self, service: ServiceInfo, iface: Interface, subpath: str, environ: WSGIEnviron
    ) -> Payload:
        """Read the body of a call (with its attachments) and answer it.

        :param subpath: what follows the interface in the URL (``""`` at
            the endpoint itself).
        """
        if iface.http_errors_as_faults:
            try:
                return self._post(service, iface, subpath, environ)
            except HTTPException as exc:  # the body could not be read
                fault = TransportFault(exc.description or exc.name, exc.code or 400)
                return self.dispatcher.fault(iface, fault, None)
        return self._post(service, iface, subpath, environ)

    def _post(
        self, service: ServiceInfo, iface: Interface, subpath: str, environ: WSGIEnviron
    ) -> Payload:
        exchange = Exchange(service, iface, environ)
        ctype: str = environ.get("CONTENT_TYPE") or ""
        headers = _RequestHeaders(environ)
        verb: str = environ.get("REQUEST_METHOD") or "POST"
        base_url = query = ""
        if iface.wants_base_url and iface.needs_base_url(subpath):
            base_url = self.public_url(environ)
            query = str(environ.get("QUERY_STRING", ""))
        multipart = ctype[:10].lower() == "multipart/"
        if not (multipart and iface.accepts_attachments):
            if multipart:
                refused = EmptyRequest(
                    f"The {iface.name} interface takes no multipart requests: "
                    "send the request itself as the body"
                )
                return self.dispatcher.fault(iface, refused, None)
            body = read_body(environ, self.max_content_length)
            if not body and not iface.empty_body_ok:
                return self.dispatcher.fault(iface, _empty(iface), None)
            request = WireRequest(body, ctype, headers, verb, subpath, None, query, base_url)
            return self.dispatcher.answer(exchange, request)
        try:
            if content_coding(environ):  # a compressed multipart body: decoded first
                limits = self.multipart_limits
                data = read_body(environ, limits.max_root + limits.max_attachment_bytes)
                environ = {**environ, "wsgi.input": io.BytesIO(data)}
                environ["CONTENT_LENGTH"] = str(len(data))
            parts = read_parts(environ, ctype, self.multipart_limits)
        except ServiceFault as fault:
            return self.dispatcher.fault(iface, fault, None)
        form = iface.accepts_form_data and ctype[:19].lower() == "multipart/form-data"
        root, rest = (None, parts) if form else (parts[0], parts[1:])
        attachments = AttachmentSet([attachment(p.file, p.size, p.headers) for p in rest])
        try:
            if root is None:  # form data: every part is an argument
                body, content_type = b"", ctype
            else:
                body = root.file.read()
                if not body:
                    return self.dispatcher.fault(iface, _empty(iface, "first part"), None)
                content_type = root.content_type or "application/octet-stream"
            request = WireRequest(
                body, content_type, headers, verb, subpath, attachments, query, base_url
            )
            payload = self.dispatcher.answer(exchange, request)
        except BaseException:
            attachments.close()
            raise
        return _release_after(payload, attachments)


class _RequestHeaders(EnvironHeaders):
    """werkzeug's read-only view of the request headers, made in one frame
    (``EnvironHeaders.__init__`` also runs ``Headers.__init__``, whose list
    a view of the environ never fills: it stays this empty tuple)."""

    _list = ()  # type: ignore[assignment]

    def __init__(self, environ: WSGIEnviron) -> None:  # PERF: see the class
        self.environ = environ


def _checked_steps(steps: Sequence[Step]) -> list[Step]:
    """The application's own ``steps=``, each checked to be a step."""
    for step in steps:
        if not callable(getattr(step, "before_call", None)) or not callable(
            getattr(step, "after_call", None)
        ):
            raise DefinitionError(f"step {step!r}: expected before_call and after_call methods")
    return list(steps)


def _configured(build: Callable[[], T]) -> T:
    """``build()``; a ValueError (a wrong setting) is a DefinitionError."""
    try:
        return build()
    except ValueError as exc:
        raise DefinitionError(str(exc)) from None


def _optional(asked: bool | None, installed: bool, name: str, extra: str) -> bool:
    """Whether an optional feature is on: as asked, else when installed."""
    if asked is None:
        return installed
    if asked and not installed:
        raise DefinitionError(f"{name}=True needs its package: pip install 'ladon[{extra}]'")
    return bool(asked)


def _rule(value: object, default: object, name: str) -> Access:
    return access_rule(default if value is None else value, f"LadonWSGIApplication({name}=...)")


#: The routes only read (GET, HEAD): pages, assets and descriptions.
#: Routes read with GET (or HEAD) only. Ladon 1.0's pages, descriptions
#: and skin files answer any method as GET does (COMPAT 2).
_READ_ONLY = frozenset({RouteKind.ASSET, RouteKind.OPENAPI})
#: The routes ``protect_docs`` guards (static assets stay public).
_DOCS = frozenset({RouteKind.CATALOG, RouteKind.SERVICE, RouteKind.DESCRIPTION, RouteKind.OPENAPI})


def _empty(iface: Interface, what: str = "body") -> EmptyRequest:
    return EmptyRequest(
        f"The request {what} is empty; expected a {iface.name} request"
        if what == "body"
        else f"The request's {what} is empty; expected a {iface.name} request"
    )


def _host_header(value: object) -> str | None:
    """A usable ``Host`` header value, or ``None`` (absent, empty or holding
    characters no host name has)."""
    if not isinstance(value, str):
        return None
    host = value.strip()
    if not host or len(host) > 255 or any(c in host for c in "/\\?#@ \t\r\n\"'<>"):
        return None
    return host


def _send(
    payload: Payload, start_response: StartResponse, extra: tuple[str, str] | None = None
) -> Iterable[bytes]:
    """Send a payload without werkzeug's Response (a third of the time of a
    small call), with one ``extra`` header (the request id) if given."""
    stream = payload.stream
    if stream is not None:
        headers = [("Content-Type", payload.content_type), *payload.headers]
        length = stream.length
        if length is not None:
            headers.append(("Content-Length", str(length)))
    elif payload.status == 204:  # no content: no Content-Type either
        headers = list(payload.headers)
    else:
        headers = [
            ("Content-Type", payload.content_type),
            ("Content-Length", str(len(payload.body))),
            *payload.headers,
        ]
    if extra is not None:
        headers.append(extra)
    start_response(_status_line(payload.status), headers)
    return stream if stream is not None else [payload.body]


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
    return query_args(environ).get("skin") or None


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
