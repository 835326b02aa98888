"""The operator's endpoints under ``/_ladon/``:

==================================  =============================================
``/_ladon/health``                  the process answers: 200 ``{"status": "ok"}``
``/_ladon/health/ready``            the task store answers: 200, else 503
``/_ladon/metrics``                 Prometheus text (``ladon[metrics]``)
``/_ladon/tasks``                   the operator page (HTML)
``/_ladon/api/tasks``               the tasks, as JSON (``ladon tasks URL``)
``/_ladon/api/tasks/<id>``          one task
``/_ladon/api/tasks/<id>/cancel``   cancel it (POST, ``application/json``)
==================================  =============================================

Health is public (load balancers ask it) and says nothing a client should
not know. The others follow the application's authentication: the
metrics by ``metrics_access`` (default: the ``admin`` role with
authenticators, anyone without), the operator page and task API by
``operator_access`` (default: the ``admin`` role; an application without
authenticators refuses them unless told otherwise).

.. versionadded:: 2.0
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from ..exceptions.service import ServiceFault
from ..ladonizer.access import Access
from ..ladonizer.access import Principal
from ..observe import metrics
from ..tasks import TaskBackend
from ..tasks import TaskState
from ..tasks.admin import ACTIVE_STATES
from ..tasks.admin import MAX_LIMIT
from ..tasks.admin import MAX_MINUTES
from ..tasks.admin import TaskAdmin
from ..tasks.admin import TaskQuery
from ..tasks.admin import backend_kind
from ..tasks.admin import cancel_task
from ..tasks.admin import find_task
from ..tasks.admin import now
from ..tasks.admin import task_record
from ..tasks.admin import throughput
from ..tasks.base import BackendUnavailable
from ..tasks.base import UnknownTask
from .pages import Pages
from .routing import RouteKind
from .routing import query_args
from .security import Authentication

logger = logging.getLogger("ladon")

#: The route kinds answered here.
OPERATION_ROUTES = frozenset(
    {
        RouteKind.HEALTH,
        RouteKind.READY,
        RouteKind.METRICS,
        RouteKind.OPERATOR,
        RouteKind.TASKS_API,
    }
)


def _json(data: object, status: int = 200) -> Response:
    response = Response(
        json.dumps(data, ensure_ascii=False, default=str),
        status=status,
        content_type="application/json",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _problem(status: int, text: str) -> Response:
    return _json({"error": text}, status)


def parse_query(args: Mapping[str, str], states: Iterable[str] = ()) -> TaskQuery:
    """A :class:`~ladon.tasks.admin.TaskQuery` from ``state``, ``service``,
    ``method``, ``age`` (seconds) and ``limit`` values.

    :raises ValueError: a value that does not fit, with what is wrong.

    .. versionadded:: 2.0
    """
    wanted = [*states]
    text = args.get("state")
    if text:
        wanted.extend(t.strip() for t in text.split(",") if t.strip())
    try:
        chosen = frozenset(TaskState(s.lower()) for s in wanted)
    except ValueError:
        names = ", ".join(s.value for s in TaskState)
        raise ValueError(f"state must be among {names}") from None
    age = args.get("age")
    limit = args.get("limit")
    try:
        max_age = _seconds(age) if age else None
        count = int(limit) if limit else 100
    except ValueError:
        raise ValueError("age must be seconds (or 10m, 2h, 1d) and limit a number") from None
    if not 1 <= count <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, not {count!r}")
    return TaskQuery(
        states=chosen,
        service=args.get("service") or None,
        method=args.get("method") or None,
        max_age=max_age,
        limit=count,
    )


#: The listing's parameters that take several values, repeated
#: (``state=running&state=failed``) or separated by commas.
MULTI_VALUED = frozenset({"state"})
#: The listing's parameters that take one value (given twice: a 400).
SINGLE_VALUED = frozenset({"service", "method", "age", "limit", "active", "throughput"})
#: What a yes/no parameter (``active``) takes, in any case; no value is as
#: absent (no).
_YES = frozenset({"1", "true", "yes"})
_NO = frozenset({"", "0", "false", "no"})


def listing_args(args: MultiDict[str, str]) -> dict[str, str]:
    """The query parameters of the task listing, one text each: the values
    of a repeated :data:`MULTI_VALUED` parameter joined by commas (as
    :func:`parse_query` reads them). Other parameters are ignored.

    :raises ValueError: a :data:`SINGLE_VALUED` parameter given more than once.

    .. versionadded:: 2.0
    """
    found: dict[str, str] = {}
    for key in args:
        values = args.getlist(key)
        if key in MULTI_VALUED:
            found[key] = ",".join(values)
        elif key in SINGLE_VALUED:
            if len(values) > 1:
                raise ValueError(f"{key} is given {len(values)} times; it takes one value")
            found[key] = values[0]
    return found


def _flag(text: str | None, name: str) -> bool:
    """A yes/no parameter: 1, true, yes or 0, false, no (any case)."""
    value = "" if text is None else text.strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise ValueError(f"{name} must be 1, 0, true, false, yes or no")


def _minutes(text: str | None) -> int:
    """``throughput``: minutes (0 or missing: none)."""
    if not text:
        return 0
    try:
        minutes = int(text)
    except ValueError:
        minutes = -1
    if not 0 <= minutes <= MAX_MINUTES:
        raise ValueError(f"throughput must be minutes between 0 and {MAX_MINUTES}")
    return minutes


def _seconds(text: str) -> float:
    """``90``, ``90s``, ``10m``, ``2h``, ``1d`` as seconds."""
    text = text.strip().lower()
    unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}.get(text[-1:], 0)
    value = float(text[:-1] if unit else text) * (unit or 1)
    if not value >= 0 or value == float("inf"):
        raise ValueError(text)
    return value


class TaskCollector:
    """The task store's gauges, read at each scrape (exact whatever the
    number of processes: the store is shared): ``ladon_tasks{backend,
    state}``, ``ladon_task_queue_depth``, ``ladon_tasks_running``,
    ``ladon_task_workers`` (Redis) and ``ladon_task_store_up``.

    .. versionadded:: 2.0
    """

    def __init__(self, backend: Callable[[], TaskBackend]) -> None:
        self.backend = backend

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        backend = self.backend()
        kind = backend_kind(backend)
        up = GaugeMetricFamily(
            "ladon_task_store_up", "Whether the task store answered.", labels=["backend"]
        )
        if not isinstance(backend, TaskAdmin):
            return
        try:
            counts = backend.counts()
            figures = _queue_figures(backend)
        except BackendUnavailable as exc:
            logger.warning("Task store unavailable for the metrics: %s", exc)
            up.add_metric([kind], 0)
            yield up
            return
        up.add_metric([kind], 1)
        yield up
        tasks = GaugeMetricFamily(
            "ladon_tasks", "Tasks kept in the store, by state.", labels=["backend", "state"]
        )
        for state in TaskState:
            tasks.add_metric([kind, state.value], counts.get(state.value, 0))
        yield tasks
        depth = figures.get("queued", counts.get("pending", 0))
        yield _family("ladon_task_queue_depth", "Tasks waiting to run.", kind, depth)
        yield _family("ladon_tasks_running", "Tasks running now.", kind, counts.get("running", 0))
        if "workers" in figures:
            yield _family(
                "ladon_task_workers",
                "ladon workers that beat on the queue in the last 10 s.",
                kind,
                figures["workers"],
            )


def _family(name: str, doc: str, kind: str, value: float) -> Any:
    from prometheus_client.core import GaugeMetricFamily

    family = GaugeMetricFamily(name, doc, labels=["backend"])
    family.add_metric([kind], value)
    return family


def _queue_figures(backend: object) -> dict[str, int]:
    figures = getattr(backend, "queue_figures", None)
    if callable(figures):
        found = figures()
        if isinstance(found, dict):
            return found
    return {}


class Operations:
    """Answers the ``/_ladon/`` operator routes of one application.

    :param backend: returns the application's task backend.
    :param has_tasks: the application serves task methods.
    :param authentication: the application's authentication step, if any.
    :param metrics_on: metrics are recorded (``/_ladon/metrics`` serves them).
    :param metrics_access: who may read the metrics.
    :param operator_access: who may use the operator page and task API.
    :param render_page: renders the operator page for a request (its
        WSGI environ -> HTML; links under the application's public path).

    .. versionadded:: 2.0
    """

    def __init__(
        self,
        backend: Callable[[], TaskBackend],
        has_tasks: bool,
        authentication: Authentication | None,
        metrics_on: bool,
        metrics_access: Access,
        operator_access: Access,
        render_page: Callable[[Mapping[str, Any]], str],
    ) -> None:
        self.backend = backend
        self.has_tasks = has_tasks
        self.authentication = authentication
        self.metrics_on = metrics_on
        self.metrics_access = metrics_access
        self.operator_access = operator_access
        self.render_page = render_page
        self.collector = TaskCollector(backend)

    def respond(self, kind: RouteKind, path: str, environ: Mapping[str, Any]) -> Response:
        """The answer of an operator route."""
        verb = environ.get("REQUEST_METHOD", "GET")
        if kind is RouteKind.HEALTH:
            return self._only_get(verb) or _json({"status": "ok"})
        if kind is RouteKind.READY:
            return self._only_get(verb) or self.ready()
        if kind is RouteKind.METRICS:
            return (
                self._only_get(verb) or self.refused(self.metrics_access, environ) or self.scrape()
            )
        refused = self.refused(self.operator_access, environ)
        if refused is not None:
            return refused
        if kind is RouteKind.OPERATOR:
            not_get = self._only_get(verb)
            if not_get is not None:  # pragma: no cover - _only_get raises
                return not_get
            response = Response(self.render_page(environ), content_type="text/html; charset=utf-8")
            response.headers["Cache-Control"] = "no-store"
            return response
        return self.tasks_api(path, verb, environ)

    @staticmethod
    def _only_get(verb: str) -> Response | None:
        if verb in ("GET", "HEAD"):
            return None
        raise MethodNotAllowed(valid_methods=["GET", "HEAD"])

    # -- health ----------------------------------------------------------------------

    def ready(self) -> Response:
        """``/_ladon/health/ready``: 200 when the task store answers (or the
        application has no task methods), else 503."""
        if not self.has_tasks:
            return _json({"status": "ok", "tasks": None})
        try:
            backend = self.backend()
        except Exception as exc:  # a backend that cannot be built
            logger.error("Task backend unavailable for the readiness check: %s", exc)
            return _json({"status": "unavailable", "tasks": {"ok": False}}, 503)
        if not isinstance(backend, TaskAdmin):
            return _json({"status": "ok", "tasks": {"backend": backend_kind(backend)}})
        try:
            found = backend.readiness()
        except Exception as exc:
            logger.error("Task backend readiness check failed: %s", exc)
            return _json(
                {"status": "unavailable", "tasks": {"backend": backend_kind(backend), "ok": False}},
                503,
            )
        body = {
            "status": "ok" if found.ok else "unavailable",
            "tasks": {"backend": found.backend, "ok": found.ok, **found.checks},
        }
        return _json(body, 200 if found.ok else 503)

    # -- metrics -----------------------------------------------------------------------

    def scrape(self) -> Response:
        """``/_ladon/metrics``: the Prometheus text."""
        if not self.metrics_on:
            raise NotFound(
                "Metrics are off: install prometheus-client (pip install 'ladon[metrics]') "
                "and leave metrics=None or True"
            )
        extra = [self.collector.collect] if self.has_tasks else []
        body, ctype = metrics.exposition(extra)
        response = Response(body, content_type=ctype)
        response.headers["Cache-Control"] = "no-store"
        return response

    # -- access --------------------------------------------------------------------------

    def refused(self, rule: Access, environ: Mapping[str, Any]) -> Response | None:
        """The 401/403 answer when the caller may not pass ``rule``."""
        if not rule.needs_principal:
            return None
        security = self.authentication
        if security is None:
            return _problem(
                403,
                "This endpoint needs an authenticated caller with the role admin, but the "
                "application has no authenticators (auth=[...]); see docs/operations.rst",
            )
        try:
            principal: Principal | None = security.identify_http(environ)
        except ServiceFault as fault:
            if fault.http_status in (None, 401):
                return security.refused(_problem, fault.faultstring)
            return _problem(fault.http_status, fault.faultstring)
        if principal is None:
            return security.refused(_problem, "Authentication required")
        if not rule.allows(principal):
            return _problem(403, f"Access denied: this endpoint needs the role {_roles(rule)}")
        return None

    # -- tasks ---------------------------------------------------------------------------

    def tasks_api(self, path: str, verb: str, environ: Mapping[str, Any]) -> Response:
        """``/_ladon/api/tasks[/<id>[/cancel]]``."""
        if not self.has_tasks:
            return _problem(404, "This application serves no task methods")
        parts = [p for p in path.split("/") if p]
        try:
            backend = self.backend()
            if not parts:
                if verb not in ("GET", "HEAD"):
                    raise MethodNotAllowed(valid_methods=["GET", "HEAD"])
                try:
                    given = query_args(environ)
                except BadRequest as exc:
                    return _problem(400, str(exc.description))
                return self._list(backend, given)
            task_id = parts[0]
            if len(parts) == 1:
                if verb not in ("GET", "HEAD"):
                    raise MethodNotAllowed(valid_methods=["GET", "HEAD"])
                return _json({"task": task_record(find_task(backend, task_id), now())})
            if len(parts) == 2 and parts[1] == "cancel":
                if verb != "POST":
                    raise MethodNotAllowed(valid_methods=["POST"])
                ctype = str(environ.get("CONTENT_TYPE", "")).split(";")[0].strip().lower()
                if ctype != "application/json":
                    # NOTE: a form of another site cannot send this type without
                    # a CORS preflight: no cancel by cross-site request.
                    return _problem(415, "A cancel is posted as application/json")
                return _json({"task": task_record(cancel_task(backend, task_id), now())})
            return _problem(404, "No such operator endpoint")
        except UnknownTask:
            return _problem(
                404, f"Unknown task {parts[0][:64]!r} (it does not exist or has expired)"
            )
        except BackendUnavailable as exc:
            logger.error("Task backend unavailable: %s", exc)
            return _problem(503, "The task service is unavailable; try again later")
        except TypeError as exc:
            return _problem(501, str(exc))

    def _list(self, backend: TaskBackend, given: MultiDict[str, str]) -> Response:
        """The listing; ``state`` may be repeated (or its values separated
        by commas), the other parameters are given once. ``active=1`` adds
        ``active`` (every pending and running task the filters allow, up to
        ``MAX_LIMIT``, whatever the ``limit``), ``throughput=N`` adds
        ``throughput`` (the tasks finished in each of the last N minutes,
        all of them, from the store)."""
        try:
            args = listing_args(given)
            query = parse_query(args)
            active = _flag(args.get("active"), "active")
            minutes = _minutes(args.get("throughput"))
        except ValueError as exc:
            return _problem(400, str(exc))
        if not isinstance(backend, TaskAdmin):
            return _problem(501, f"The task backend {backend_kind(backend)} cannot list its tasks")
        at = now()
        found = [task_record(s, at) for s in backend.tasks(query)]
        body: dict[str, Any] = {
            "backend": backend_kind(backend),
            "now": at,
            "counts": backend.counts(),
            "tasks": found,
        }
        if active:
            states = (query.states or ACTIVE_STATES) & ACTIVE_STATES
            wide = replace(query, states=states, limit=MAX_LIMIT)
            body["active"] = [task_record(s, at) for s in backend.tasks(wide)] if states else []
        if minutes:
            body["throughput"] = {
                "minutes": minutes,
                "per_minute": throughput(backend, query, at, minutes),
            }
        return _json(body)


def metrics_app(app: Any) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """A WSGI application answering every request with ``app``'s metrics,
    without authentication: to serve on a listen address of its own that
    only the Prometheus server reaches (a second gunicorn bind, a port of
    the pod), instead of ``/_ladon/metrics`` behind the application's
    authentication::

        from ladon import metrics_app
        metrics = metrics_app(application)   # gunicorn -b 10.0.0.5:9100 app:metrics

    :param app: the :class:`~ladon.server.wsgi.LadonWSGIApplication`.

    .. versionadded:: 2.0
    """
    operations: Operations = app.operations

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            response = operations.scrape()
        except NotFound as exc:
            response = _problem(404, exc.description or "Metrics are off")
        return response(environ, start_response)

    return serve


def render_operator_page(pages: Pages, script_name: str) -> str:
    """The operator page (``templates/operator.html``): the tasks with live
    progress, state, duration, failure reason, principal, attempt and a
    cancel button, refreshed every two seconds by ``operator.js`` from the
    task API, with a chart of task throughput and latency.

    .. versionadded:: 2.0
    """
    template = pages.env.get_template("operator.html")
    return template.render(
        title="Tasks",
        api=f"{script_name}/_ladon/api/tasks",
        **pages._common(script_name, None),
    )


def _roles(rule: Access) -> str:
    return " or ".join(repr(r) for r in rule.roles) or "of an authenticated caller"
