"""Metrics and tracing as steps on the one request path: every call of
every interface is counted, timed and traced the same way.

:class:`MetricsStep` records ``ladon_calls_total`` (by service, interface,
method and outcome), ``ladon_call_duration_seconds`` and the request and
response sizes (:mod:`ladon.observe.metrics`). :class:`TracingStep` runs
each call in an OpenTelemetry server span (a child of the request's W3C
``traceparent`` when it has one), current while the method runs, so that a
task started by the call carries it. :class:`RequestFields` fills the
request's log record (:mod:`ladon.observe.context`).

.. versionadded:: 2.0
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable
from typing import Any

from ..exceptions.service import ServiceFault
from ..interfaces.base import Call
from ..interfaces.base import Outcome
from ..interfaces.base import Payload
from ..observe import metrics
from ..observe import tracing
from ..observe.context import CURRENT_REQUEST
from ..observe.context import RequestRecord
from ..observe.context import current_request_id
from .dispatch import Exchange
from .dispatch import refused_method

#: ``rpc.system`` of each interface name (others are named as they are).
RPC_SYSTEMS = {
    "soap": "soap",
    "soapdocumentliteral": "soap",
    "soap11": "soap",
    "soap12": "soap",
    "jsonrpc": "jsonrpc",
    "jsonrpc10": "jsonrpc",
    "xmlrpc": "xmlrpc",
    "jsonwsp": "jsonwsp",
    "http": "http",
}

#: The ``method`` label of a request that could not be decoded into calls.
UNDECODED = "-"


def outcome_label(outcome: Outcome) -> metrics.Outcome:
    """``ok``, ``client_fault`` or ``server_fault``."""
    fault = outcome.fault
    if fault is None:
        return "ok"
    return "client_fault" if fault.is_client else "server_fault"


class _Histogram:
    """A labelled prometheus-client histogram child, observed without
    re-checking what ``observe`` checks on every call (the same two value
    updates: the sum, and the bucket of the first bound not below the
    amount), falling back to ``observe`` where the library changed."""

    __slots__ = ("_add", "_bounds", "_buckets", "observe")

    def __init__(self, child: Any) -> None:
        try:
            self._add = child._sum.inc
            self._bounds = list(child._upper_bounds)
            self._buckets = [bucket.inc for bucket in child._buckets]
        except AttributeError:  # pragma: no cover - another prometheus-client
            self.observe: Callable[[float], None] = child.observe
        else:
            self.observe = self._observe

    def _observe(self, amount: float) -> None:
        self._add(amount)
        self._buckets[bisect_left(self._bounds, amount)](1)


def _counter(child: Any) -> Callable[[float], None]:
    """``inc`` of a labelled counter child, as :class:`_Histogram` does."""
    value = getattr(child, "_value", None)
    inc = getattr(value, "inc", None)
    return inc if callable(inc) else child.inc  # type: ignore[no-any-return]


class MetricsStep:
    """Counts and times every call (:mod:`ladon.observe.metrics`).

    .. versionadded:: 2.0
    """

    def __init__(self) -> None:
        self.metrics = metrics.enable()
        self._calls: dict[
            tuple[str, str, str], tuple[dict[str, Callable[[float], None]], _Histogram]
        ] = {}
        self._sizes: dict[tuple[str, str], tuple[_Histogram, _Histogram]] = {}

    def before_call(self, exchange: Exchange, call: Call) -> None:
        pass

    def _children(
        self, key: tuple[str, str, str]
    ) -> tuple[dict[str, Callable[[float], None]], _Histogram]:
        found = self._calls.get(key)
        if found is None:
            m = self.metrics
            found = (
                {
                    o: _counter(m.calls.labels(*key, o))
                    for o in ("ok", "client_fault", "server_fault")
                },
                _Histogram(m.call_seconds.labels(*key)),
            )
            self._calls[key] = found
        return found

    def after_call(self, exchange: Exchange, call: Call, outcome: Outcome, seconds: float) -> None:
        exchange.calls += 1
        counters, latency = self._children(
            (exchange.service.name, exchange.interface.name, call.method.name)
        )
        counters[outcome_label(outcome)](1)
        latency.observe(seconds)

    def after_answer(self, exchange: Exchange, payload: Payload) -> None:
        key = (exchange.service.name, exchange.interface.name)
        fault = exchange.decode_fault
        if exchange.calls == 0 and fault is not None:
            # a call whose arguments were refused counts under its method
            method = refused_method(fault)
            name = UNDECODED if method is None else method.name
            counters, latency = self._children((*key, name))
            counters["client_fault" if fault.is_client else "server_fault"](1)
            if exchange.started:
                latency.observe(time.perf_counter() - exchange.started)
        sizes = self._sizes.get(key)
        if sizes is None:
            m = self.metrics
            sizes = self._sizes[key] = (
                _Histogram(m.request_bytes.labels(*key)),
                _Histogram(m.response_bytes.labels(*key)),
            )
        request = exchange.request
        if request is not None:
            sizes[0].observe(len(request.body))
        stream = payload.stream
        length = len(payload.body) if stream is None else stream.length
        if length is not None:
            sizes[1].observe(length)


class TracingStep:
    """Runs every call in an OpenTelemetry ``SERVER`` span named
    ``Service/method``, with ``rpc.system``, ``rpc.service``,
    ``rpc.method`` and ``ladon.interface``; a fault sets the span's status
    to error (its message as description) and ``ladon.fault`` to
    ``client`` or ``server``. The request's ``traceparent`` (and
    ``tracestate``) header makes it a child of the caller's span. A request
    refused before any call ran (an argument of the wrong type, an unknown
    method, a body that is not well-formed) is a span named ``Service``
    (no ``rpc.method``) with the fault's status.

    .. versionadded:: 2.0
    """

    def __init__(self) -> None:
        tracing.enable()
        from opentelemetry import context as otel_context
        from opentelemetry import trace
        from opentelemetry.trace import SpanKind
        from opentelemetry.trace import Status
        from opentelemetry.trace import StatusCode

        self._tracer = tracing.tracer()
        self._trace = trace
        self._provider: object = None
        self._records = False
        self._attach = otel_context.attach
        self._detach = otel_context.detach
        self._in_context = trace.set_span_in_context
        self._server = SpanKind.SERVER
        self._status = Status
        self._error = StatusCode.ERROR

    def _recording(self) -> bool:
        """Whether an SDK records spans: not while the global provider is
        still the API's default (no SDK configured) or a no-op one."""
        # PERF: the provider is read without the API's function (a global
        # read instead of a call); anything unexpected counts as an SDK.
        provider = getattr(self._trace, "_TRACER_PROVIDER", self)
        if provider is not self._provider:
            self._provider = provider
            self._records = provider is not None and not isinstance(
                provider, self._trace.NoOpTracerProvider
            )
        return self._records

    def before_call(self, exchange: Exchange, call: Call) -> None:
        if not self._recording():
            return  # no SDK: no span to make
        service = exchange.service.name
        method = call.method.name
        span = self._start(exchange, f"{service}/{method}", method)
        exchange.span = (span, self._attach(self._in_context(span)))

    def after_call(self, exchange: Exchange, call: Call, outcome: Outcome, seconds: float) -> None:
        held = exchange.span
        if held is None:
            return
        exchange.span = None
        span, token = held
        if outcome.fault is not None:
            self._failed(span, outcome.fault)
        self._detach(token)
        span.end()

    def after_answer(self, exchange: Exchange, payload: Payload) -> None:
        """A request refused before any call ran (not well-formed, an
        unknown method, a wrong argument) is a span too, named after the
        service alone (as the metrics count it under method ``-``), with
        the fault's status."""
        fault = exchange.decode_fault
        if fault is None or not self._recording():
            return
        method = refused_method(fault)
        service = exchange.service.name
        if method is None:
            span = self._start(exchange, service, None)
        else:  # its arguments were refused: the call's own span
            span = self._start(exchange, f"{service}/{method.name}", method.name)
        self._failed(span, fault)
        span.end()

    def _start(self, exchange: Exchange, name: str, method: str | None) -> Any:
        """A server span under the request's ``traceparent``, if any."""
        environ = exchange.environ
        parent = None
        traceparent = environ.get("HTTP_TRACEPARENT")
        if traceparent:
            carrier = {"traceparent": str(traceparent)}
            state = environ.get("HTTP_TRACESTATE")
            if state:
                carrier["tracestate"] = str(state)
            parent = tracing.parent_context(carrier)
        service = exchange.service.name
        iface = exchange.interface.name
        attributes = {
            "rpc.system": RPC_SYSTEMS.get(iface, iface),
            "rpc.service": service,
            "ladon.interface": iface,
        }
        if method is not None:
            attributes["rpc.method"] = method
        span = self._tracer.start_span(
            name, context=parent, kind=self._server, attributes=attributes
        )
        request_id = current_request_id()
        if request_id is not None and span.is_recording():
            span.set_attribute("ladon.request_id", request_id)
        return span

    def _failed(self, span: Any, fault: ServiceFault) -> None:
        if span.is_recording():
            span.set_attribute("ladon.fault", "client" if fault.is_client else "server")
            span.set_status(self._status(self._error, fault.faultstring[:200]))


class RequestFields:
    """Writes what a call is (service, interface, method, caller, outcome)
    into the request's record, for the structured request log line.

    .. versionadded:: 2.0
    """

    def before_call(self, exchange: Exchange, call: Call) -> None:
        pass

    def after_call(self, exchange: Exchange, call: Call, outcome: Outcome, seconds: float) -> None:
        record = CURRENT_REQUEST.get()
        if not isinstance(record, RequestRecord):  # no request log
            return
        record.service = exchange.service.name
        record.interface = exchange.interface.name
        record.method = call.method.name
        principal = exchange.principal
        record.principal = None if principal is None else principal.name
        record.outcome = outcome_label(outcome)

    def after_answer(self, exchange: Exchange, payload: Payload) -> None:
        record = CURRENT_REQUEST.get()
        fault = exchange.decode_fault
        if not isinstance(record, RequestRecord) or record.service is not None or fault is None:
            return
        record.service = exchange.service.name
        record.interface = exchange.interface.name
        record.outcome = "client_fault" if fault.is_client else "server_fault"
        method = refused_method(fault)
        if method is not None:  # its arguments were refused: the call is known
            record.method = method.name
            principal = exchange.principal
            record.principal = None if principal is None else principal.name
