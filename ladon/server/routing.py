"""URL scheme (Ladon 1.0 compatible), as a werkzeug :class:`~werkzeug.routing.Map`
owned by each application.

=================================  ============================================
``/``                              catalog page
``/<Service>``                     service page
``/<Service>/<iface>``             method calls (POST); deeper paths too
``/<Service>/<iface>/description`` description document (WSDL, JSON...)
``/skins/<path>``                  skin files (``path_list`` dirs' ``skins/``)
``/_ladon/static/<name>``          the docs pages' own css and js
``/_ladon/openapi.json``           OpenAPI 3.1 of every service (``http``)
``/_ladon/health[/ready]``         health checks (:mod:`.admin`)
``/_ladon/metrics``                Prometheus metrics
``/_ladon/tasks``                  the operator page
``/_ladon/api/tasks[/...]``        the operator's task API
=================================  ============================================

Empty path segments are ignored, as in Ladon 1.0 (``//Calc//jsonwsp/`` is
``/Calc/jsonwsp``). A path is read as UTF-8 (see :func:`decode_path`): a
method ``größe`` is at ``/<Service>/http/gr%C3%B6%C3%9Fe``. Service names are matched case-insensitively by the
application; interface names are the keys of its interface mapping, matched
exactly.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import NotFound
from werkzeug.routing import Map
from werkzeug.routing import Rule
from werkzeug.wrappers import Request


class RouteKind(enum.Enum):
    CATALOG = "catalog"
    SERVICE = "service"
    CALL = "call"
    DESCRIPTION = "description"
    STATIC = "static"
    ASSET = "asset"
    #: The catalog's OpenAPI document.
    OPENAPI = "openapi"
    #: ``/<Service>/<segment>...`` where the segment is no interface's name.
    NO_INTERFACE = "no_interface"
    #: ``/_ladon/health``: the process answers.
    HEALTH = "health"
    #: ``/_ladon/health/ready``: the task store answers.
    READY = "ready"
    #: ``/_ladon/metrics``: Prometheus text.
    METRICS = "metrics"
    #: ``/_ladon/tasks``: the operator page.
    OPERATOR = "operator"
    #: ``/_ladon/api/tasks[/<id>[/cancel]]``: the operator's task API.
    TASKS_API = "tasks_api"


@dataclass(frozen=True, slots=True)
class Route:
    """Where a request path leads.

    :param service: the service name as written in the path.
    :param interface: the interface name (or the unknown segment).
    :param path: the file of a skin or asset; for a call, what follows the
        interface segment (``"/add"`` for ``/Calc/http/add``), else ``""``.
    """

    kind: RouteKind
    service: str = ""
    interface: str = ""
    path: str = ""


def _rules(interfaces: Iterable[str]) -> list[Rule]:
    names = sorted(interfaces)
    iface = f"any({', '.join(names)}):interface" if names else "string:interface"
    kinds = RouteKind
    return [
        Rule("/", endpoint=kinds.CATALOG),
        Rule("/skins/<path:path>", endpoint=kinds.STATIC),
        Rule("/_ladon/static/<path>", endpoint=kinds.ASSET),
        Rule("/_ladon/openapi.json", endpoint=kinds.OPENAPI),
        Rule("/_ladon/health", endpoint=kinds.HEALTH),
        Rule("/_ladon/health/ready", endpoint=kinds.READY),
        Rule("/_ladon/metrics", endpoint=kinds.METRICS),
        Rule("/_ladon/tasks", endpoint=kinds.OPERATOR),
        Rule("/_ladon/api/tasks", endpoint=kinds.TASKS_API),
        Rule("/_ladon/api/tasks/<path:path>", endpoint=kinds.TASKS_API),
        Rule("/<service>", endpoint=kinds.SERVICE),
        Rule(f"/<service>/<{iface}>/description", endpoint=kinds.DESCRIPTION),
        Rule(f"/<service>/<{iface}>", endpoint=kinds.CALL),
        Rule(f"/<service>/<{iface}>/<path:path>", endpoint=kinds.CALL),
        Rule("/<service>/<other>", endpoint=kinds.NO_INTERFACE),
        Rule("/<service>/<other>/<path:path>", endpoint=kinds.NO_INTERFACE),
    ]


class Router:
    """Routes request paths for one application.

    :param interfaces: the names of the application's interfaces.
    """

    #: Most distinct paths remembered (paths are chosen by clients).
    max_cached = 1024

    def __init__(self, interfaces: Iterable[str]) -> None:
        self.interfaces = frozenset(interfaces)
        self.map = Map(_rules(self.interfaces), strict_slashes=False, merge_slashes=False)
        self._adapter = self.map.bind("localhost", "/")
        self._cache: dict[str, Route] = {}

    def match(self, path_info: str) -> Route:
        """Route a PATH_INFO (cached: the same paths come again and again).

        :raises NotFound: the path is not UTF-8 (see :func:`decode_path`).
        """
        route = self._cache.get(path_info)
        if route is None:
            route = self._match(decode_path(path_info))
            if len(self._cache) >= self.max_cached:
                self._cache.clear()
            self._cache[path_info] = route
        return route

    def _match(self, path_info: str) -> Route:
        path = "/" + "/".join(p for p in path_info.split("/") if p)
        try:
            endpoint, values = self._adapter.match(path, method="GET")
        except NotFound:
            # NOTE: werkzeug's rules do not match a segment holding a line
            # break (``.../tasks/a%0Ab``); such a path goes where its
            # segments say, for the interface to answer in its own way.
            return self._split(path)
        kind: RouteKind = endpoint
        rest = str(values.get("path", ""))
        if kind is RouteKind.CALL:
            rest = "/" + rest if rest else ""
        return Route(
            kind,
            str(values.get("service", "")),
            str(values.get("interface", values.get("other", ""))),
            rest,
        )

    def _split(self, path: str) -> Route:
        """Route a path the rules do not match, by its segments."""
        parts = path[1:].split("/")
        if len(parts) == 1:
            return Route(RouteKind.SERVICE, parts[0])
        service, iface, rest = parts[0], parts[1], "/".join(parts[2:])
        if iface not in self.interfaces:
            return Route(RouteKind.NO_INTERFACE, service, iface, rest)
        if rest == "description":
            return Route(RouteKind.DESCRIPTION, service, iface)
        return Route(RouteKind.CALL, service, iface, "/" + rest if rest else "")


def decode_path(path_info: str) -> str:
    """The request path as the client wrote it: PEP 3333 servers pass
    PATH_INFO's bytes (its %-escapes read) as latin-1 characters, while a
    URL's text is UTF-8 (RFC 3987), as method names in the OpenAPI
    document are (``/gr%C3%B6%C3%9Fe`` is ``/größe``). A path that is no
    latin-1 text was decoded by a server already and is kept.

    :raises NotFound: the bytes are not UTF-8 (no name is spelt so).

    .. versionadded:: 2.0
    """
    if path_info.isascii():
        return path_info
    try:
        raw = path_info.encode("latin-1")
    except UnicodeEncodeError:
        return path_info
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise NotFound("The request path is not valid UTF-8") from None


def query_args(environ: Mapping[str, Any]) -> MultiDict[str, str]:
    """The parameters of the request's query string.

    :raises BadRequest: it is not UTF-8 once its %-escapes are read (a
        server such as wsgiref or mod_wsgi passes raw bytes on).

    .. versionadded:: 2.0
    """
    try:
        return Request(dict(environ)).args
    except UnicodeDecodeError:
        raise BadRequest("The query string is not valid UTF-8") from None
