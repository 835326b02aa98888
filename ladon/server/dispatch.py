"""The one path of a call, from the decoded request to the encoded answer.

:meth:`Dispatcher.answer` is the whole route: the interface decodes the
request into one :class:`~ladon.interfaces.base.Call` or a
:class:`~ladon.interfaces.base.Batch`; each call is run by :meth:`Dispatcher.run`
(the method, an introspection call of the interface, or the task backend),
which turns every failure into a fault; the interface encodes the result or
the fault. Batches take the same steps per call.

What every call goes through whatever its protocol (Ladon 1.0's call
logging, authentication, metrics, tracing...) is a :class:`Step` given to
the dispatcher: ``before_call`` may refuse the call with a fault,
``after_call`` sees how it ended.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from typing import Protocol

from ..exceptions.service import ResultError
from ..exceptions.service import ServiceFault
from ..exceptions.service import UnexpectedError
from ..interfaces.base import Call
from ..interfaces.base import Interface
from ..interfaces.base import Outcome
from ..interfaces.base import Payload
from ..interfaces.base import RequestFault
from ..interfaces.base import WireRequest
from ..ladonizer.access import Principal
from ..ladonizer.calls import call_method
from ..ladonizer.calls import extras
from ..ladonizer.model import MethodInfo
from ..ladonizer.model import MethodKind
from ..ladonizer.model import ServiceInfo
from ..observe.context import current_request_id
from ..tasks.calls import TaskCalls
from ..tasks.execution import SECRET_ENVIRON_KEYS
from ..tasks.threads import ThreadTaskBackend
from ..types.convert import TOO_DEEP_TO_WRITE
from . import LOG_EXECUTION_TIME
from . import LOG_JSON_FORMAT
from . import LOG_REQUEST_DICT
from . import LOG_RESPONSE_DICT
from .customresponse import CustomResponse

logger = logging.getLogger("ladon")
call_logger = logging.getLogger("ladon.calls")

_PLAIN = MethodKind.PLAIN


def _broken() -> Payload:
    """What is sent for a fault the encoders themselves could not write:
    plain text, HTTP 500 (with the request id)."""
    return Payload(
        f"Internal server error{_request_id_note()}".encode(), "text/plain; charset=utf-8", 500
    )


def _request_id_note() -> str:
    request_id = current_request_id()
    return f" (request id {request_id})" if request_id else ""


def refused_method(fault: ServiceFault | None) -> MethodInfo | None:
    """The method a request called whose arguments ``fault`` refuses (its
    decoding got as far as the method), else ``None``.

    .. versionadded:: 2.0
    """
    original = fault.original if isinstance(fault, RequestFault) else fault
    method = getattr(original, "called_method", None)
    return method if isinstance(method, MethodInfo) else None


def internal_error(exc: BaseException, debug: bool) -> UnexpectedError:
    """The fault sent for an unexpected exception (logged here): "Internal
    server error", whose detail names the request id (which is on the
    log line), and holds the traceback in debug mode.

    .. versionadded:: 2.0
    """
    logger.error("Unexpected error in a service call", exc_info=exc)
    request_id = current_request_id()
    lines = ["".join(traceback.format_exception(exc)).rstrip("\n")] if debug else []
    if request_id:
        lines.append(f"request id: {request_id}")
    return UnexpectedError("\n".join(lines) or None)


@dataclass(slots=True)
class Exchange:
    """One request being answered: what every step of the path may read
    (and what steps learn about it, as typed fields).

    :param service: the service called.
    :param interface: the interface serving it.
    :param environ: the WSGI environ (methods taking ``**kw`` receive it,
        as in Ladon 1.0).
    :param request: the request as the interface read it (``None`` before
        it was read).
    :param principal: the caller, once a step identified it (``None``:
        anonymous).
    :param identified: whether the caller was looked for already (the
        authentication step does it once per request).
    :param idempotency_key: the task start's ``Idempotency-Key``, once the
        step that reads it found one.
    :param callback_url: the task start's ``Ladon-Callback-URL``, once the
        step that reads it checked it.
    :param decode_fault: the fault answering a request that could not be
        decoded into calls (its steps never ran).
    :param calls: how many calls of the request the observing steps saw.
    :param span: the tracing step's span of the call being run.
    :param started: when the dispatcher began answering the request
        (``time.perf_counter()``; set only when a step has
        ``after_answer``).

    .. versionadded:: 2.0
    """

    service: ServiceInfo
    interface: Interface
    environ: Mapping[str, Any]
    request: WireRequest | None = None
    principal: Principal | None = None
    identified: bool = False
    idempotency_key: str | None = None
    callback_url: str | None = None
    decode_fault: ServiceFault | None = None
    calls: int = 0
    span: Any = None
    started: float = 0.0


class Step(Protocol):
    """Something every call goes through, whatever its protocol.

    A step that only checks calls may have a class attribute ``observes =
    False``: its :meth:`after_call` is then never called (and when no step
    observes, calls are not timed). A step that concerns some kinds of
    methods only (e.g. task starts) may have a class attribute ``kinds``, a
    set of :class:`~ladon.ladonizer.model.MethodKind`: other calls skip it
    (and calls no step concerns take the plain path).

    A step with ``checks_caller = True`` (authentication) also sees, in
    :meth:`before_call`, the calls whose arguments are refused, before
    their fault is answered; it may also have a method
    ``check_credentials(exchange)``, called for a request refused before
    its method is known (not well-formed, no such method): it raises the
    refusal of credentials that were sent and are wrong, which is then the
    answer.

    A step may also have a method ``after_answer(exchange, payload)``,
    called once per request with the answer about to be sent (also for a
    request that could not be decoded: ``exchange.decode_fault``); it must
    not raise. Metrics read sizes there.

    .. versionadded:: 2.0
    """

    def before_call(self, exchange: Exchange, call: Call) -> None:
        """Called before the method runs; raise a
        :class:`~ladon.exceptions.service.ServiceFault` to refuse the call
        (the fault is its answer)."""
        ...

    def after_call(self, exchange: Exchange, call: Call, outcome: Outcome, seconds: float) -> None:
        """Called once the call has its result or fault (``seconds`` from
        the start of :meth:`before_call` of the first step). It must not
        raise."""
        ...


class CallLog:
    """Ladon 1.0's ``logging=`` flags, as a step: one line per call on the
    ``ladon.calls`` logger (service, interface, method, and with the flags
    the arguments, the result or fault, the time taken).

    :param flags: the ``ladon.server.LOG_*`` flags.

    .. versionadded:: 2.0
    """

    def __init__(self, flags: int) -> None:
        self.flags = flags

    def before_call(self, exchange: Exchange, call: Call) -> None:
        pass

    def after_call(self, exchange: Exchange, call: Call, outcome: Outcome, seconds: float) -> None:
        flags = self.flags
        record: dict[str, object] = {
            "service": exchange.service.name,
            "interface": exchange.interface.name,
            "method": call.method.name,
        }
        if flags & LOG_REQUEST_DICT:
            record["args"] = {
                p.name: a for p, a in zip(call.method.params, call.args, strict=False)
            }
        if flags & LOG_RESPONSE_DICT:
            if outcome.fault is None:
                record["result"] = outcome.result
            else:
                record["fault"] = outcome.fault.faultstring
        if flags & LOG_EXECUTION_TIME:
            record["seconds"] = round(seconds, 6)
        if len(record) == 3:
            return
        if flags & LOG_JSON_FORMAT:
            call_logger.info(json.dumps(record, default=repr, ensure_ascii=False))
        else:
            call_logger.info(" ".join(f"{k}={v!r}" for k, v in record.items()))


class Dispatcher:
    """Runs decoded calls and encodes their answers.

    :param tasks: answers the task methods.
    :param debug: put tracebacks of unexpected errors in faults.
    :param steps: what every call goes through, in order.

    .. versionadded:: 2.0
    """

    def __init__(self, tasks: TaskCalls, debug: bool = False, steps: Sequence[Step] = ()) -> None:
        self.tasks = tasks
        self.debug = debug
        self.steps = tuple(steps)
        self._process_checked = False  # see _check_process_backend
        # per kind of method: the befores and the observers of its steps
        self._plan: dict[
            MethodKind, tuple[tuple[Callable[[Exchange, Call], None], ...], tuple[Step, ...]]
        ] = {}
        for kind in MethodKind:
            mine = [s for s in self.steps if kind in getattr(s, "kinds", (kind,))]
            self._plan[kind] = (
                tuple(step.before_call for step in mine),
                tuple(s for s in mine if getattr(s, "observes", True)),
            )
        # PERF: a plain call finds its plan without hashing the enum
        self._plain_plan = self._plan[MethodKind.PLAIN]
        #: the checks of the caller (authentication), which also run when a
        #: call's arguments are refused: the refusal of the caller comes first
        self._caller_checks = tuple(
            step.before_call for step in self.steps if getattr(step, "checks_caller", False)
        )
        #: ... and of credentials, for a request refused before its method is known
        self._credential_checks: tuple[Callable[[Exchange], None], ...] = tuple(
            check
            for check in (getattr(s, "check_credentials", None) for s in self.steps)
            if callable(check)
        )
        self._answered: tuple[Callable[[Exchange, Payload], None], ...] = tuple(
            hook
            for hook in (getattr(s, "after_answer", None) for s in self.steps)
            if callable(hook)
        )
        if self._answered:
            self.answer = self._answer_observed  # type: ignore[method-assign]

    def _answer_observed(self, exchange: Exchange, request: WireRequest) -> Payload:
        exchange.started = time.perf_counter()
        payload = Dispatcher.answer(self, exchange, request)
        for hook in self._answered:
            try:
                hook(exchange, payload)
            except Exception as exc:
                logger.error("Step %r failed after an answer", hook, exc_info=exc)
        return payload

    def answer(self, exchange: Exchange, request: WireRequest) -> Payload:
        """Decode, run and encode: the whole route of a call."""
        iface = exchange.interface
        exchange.request = request
        try:
            decoded = iface.decode_call(request)
        except ServiceFault as fault:
            if self._caller_checks:
                fault = self._caller_first(exchange, fault)
            exchange.decode_fault = fault
            return self.fault(iface, fault, None)
        except Exception as exc:
            unexpected = exchange.decode_fault = internal_error(exc, self.debug)
            return self.fault(iface, unexpected, None)
        if isinstance(decoded, Call):
            kind = decoded.method.kind
            befores, observers = self._plain_plan if kind is _PLAIN else self._plan[kind]
            if observers:
                return self._observed(exchange, iface, decoded, befores, observers)
            # PERF: no step watches the outcome (no steps, or checks such as
            # authentication): run and encode without the Outcome in between
            # (the same faults as run() and encode()).
            try:
                for before in befores:
                    before(exchange, decoded)
                m = decoded.method
                if kind is _PLAIN and not m.accepts_kw:  # PERF: invoke()'s usual case
                    result = getattr(exchange.service.factory(), m.attr)(*decoded.args)
                else:
                    result = self.invoke(exchange, decoded)
                if isinstance(result, CustomResponse):
                    return _custom(result)
                try:
                    return iface.encode_result(decoded, result)
                except RecursionError:
                    raise ResultError("result", TOO_DEEP_TO_WRITE) from None
            except ServiceFault as fault:
                return self.fault(iface, fault, decoded)
            except Exception as exc:
                return self.fault(iface, internal_error(exc, self.debug), decoded)
        checked = self._caller_first if self._caller_checks else None
        with self.tasks.batch():  # its waits share one max_wait
            outcomes = [
                self.run(exchange, item)
                if isinstance(item, Call)
                else Outcome(None, fault=item if checked is None else checked(exchange, item))
                for item in decoded.items
            ]
        return self._guarded(iface, None, lambda: iface.encode_batch(decoded, outcomes))

    def _caller_first(self, exchange: Exchange, fault: ServiceFault) -> ServiceFault:
        """The refusal of the caller, if the caller may not call the method
        whose arguments ``fault`` refuses; else ``fault``. An anonymous
        caller, or one with wrong credentials, learns nothing of a
        protected method's argument rules. A request refused before its
        method is known (a body that does not parse, an unknown method)
        gets the refusal of wrong credentials sent with it, as every other
        call does."""
        method = refused_method(fault)
        if method is None:
            return self._refusal_or(fault, lambda: [c(exchange) for c in self._credential_checks])
        original = fault.original if isinstance(fault, RequestFault) else fault
        call = Call(method, [], header_blocks=getattr(original, "header_blocks", ()))
        return self._refusal_or(fault, lambda: [c(exchange, call) for c in self._caller_checks])

    def _refusal_or(self, fault: ServiceFault, checks: Callable[[], object]) -> ServiceFault:
        """The refusal ``checks`` raise (repeating the id of ``fault``), else ``fault``."""
        try:
            checks()
        except ServiceFault as refusal:
            if isinstance(fault, RequestFault):  # the answer still repeats the id
                return RequestFault(refusal, fault.id, fault.notification)
            return refusal
        except Exception as exc:
            return internal_error(exc, self.debug)
        return fault

    def run(self, exchange: Exchange, call: Call) -> Outcome:
        """Run one call through the steps; every failure becomes its fault."""
        kind = call.method.kind
        befores, observers = self._plain_plan if kind is _PLAIN else self._plan[kind]
        if not befores:  # PERF: the plain case, no clock
            return self._run(exchange, call)
        started = time.perf_counter() if observers else 0.0
        outcome = self._checked_run(exchange, call, befores)
        if observers:
            self._observe(exchange, call, outcome, time.perf_counter() - started, observers)
        return outcome

    def _observed(
        self,
        exchange: Exchange,
        iface: Interface,
        call: Call,
        befores: Sequence[Callable[[Exchange, Call], None]],
        observers: Sequence[Step],
    ) -> Payload:
        """One call (not in a batch) with steps that watch its outcome: they
        see it once the answer is written, so that a result the interface
        cannot write counts as the server fault it becomes."""
        started = time.perf_counter()
        outcome = self._checked_run(exchange, call, befores)
        payload, outcome = self._encoded(iface, outcome)
        self._observe(exchange, call, outcome, time.perf_counter() - started, observers)
        return payload

    def _checked_run(
        self,
        exchange: Exchange,
        call: Call,
        befores: Sequence[Callable[[Exchange, Call], None]],
    ) -> Outcome:
        try:
            for before in befores:
                before(exchange, call)
        except ServiceFault as fault:
            return Outcome(call, fault=fault)
        except Exception as exc:
            return Outcome(call, fault=internal_error(exc, self.debug))
        return self._run(exchange, call)

    @staticmethod
    def _observe(
        exchange: Exchange,
        call: Call,
        outcome: Outcome,
        seconds: float,
        observers: Sequence[Step],
    ) -> None:
        for step in observers:
            try:
                step.after_call(exchange, call, outcome, seconds)
            except Exception as exc:
                logger.error("Step %r failed after a call", step, exc_info=exc)

    def _run(self, exchange: Exchange, call: Call) -> Outcome:
        try:
            return Outcome(call, self.invoke(exchange, call))
        except ServiceFault as fault:
            return Outcome(call, fault=fault)
        except Exception as exc:
            return Outcome(call, fault=internal_error(exc, self.debug))

    def invoke(self, exchange: Exchange, call: Call) -> object:
        """Call the method (or answer the task or introspection call)."""
        m = call.method
        kind = m.kind
        if kind is MethodKind.PLAIN:
            if not m.accepts_kw:  # PERF: the usual method, called directly
                return getattr(exchange.service.factory(), m.attr)(*call.args)
            return call_method(exchange.service, m, call.args, self._kw(exchange, call))
        if kind is MethodKind.TASK_START:
            if not self._process_checked:
                self._check_process_backend(exchange.environ)
            kw = self._kw(exchange, call)
            if kw is not None:
                kw.pop("wsgi.input", None)  # the request is over when the task runs
                for secret in SECRET_ENVIRON_KEYS:  # its caller is kw["principal"]
                    kw.pop(secret, None)
            return self.tasks.start(
                exchange.service,
                m,
                call.args,
                kw,
                call.attachments,
                exchange.principal,
                exchange.idempotency_key,
                exchange.callback_url,
            )
        if kind is MethodKind.INTROSPECTION:
            return exchange.interface.run_introspection(call)
        if kind is MethodKind.TASK_WAIT:
            return self.tasks.wait(
                exchange.service, m, call.args[0], call.args[1], exchange.principal
            )
        return self.tasks.follow(exchange.service, m, call.args[0], exchange.principal)

    def _check_process_backend(self, environ: Mapping[str, Any]) -> None:
        """At the first task start: warn when the server runs several
        processes (PEP 3333's ``wsgi.multiprocess``) and the tasks are kept
        in this one (the thread backend)."""
        self._process_checked = True
        if not environ.get("wsgi.multiprocess"):
            return
        if isinstance(self.tasks.task_backend(), ThreadTaskBackend):
            logger.warning(
                "Tasks are kept in this process (the thread backend) but the server runs "
                "several processes (wsgi.multiprocess): a task's _progress, _result, _wait "
                "or _cancel call that lands on another process answers 'Unknown task'. "
                "Give the application tasks='sqlite:///PATH' (one host) or 'redis://...' "
                "(see the deployment docs), or serve it with one process."
            )

    @staticmethod
    def _kw(exchange: Exchange, call: Call) -> dict[str, Any] | None:
        """What a method taking ``**kw`` receives (Ladon 1.0: the environ,
        the ``LADON_*`` keys and, for a multipart request, its
        ``attachments`` and ``attachments_by_id``; and the caller,
        ``principal``)."""
        if not call.method.accepts_kw:
            return None
        kw = extras(call.method, exchange.environ)
        kw["principal"] = exchange.principal
        if call.attachments is not None:
            kw["attachments"] = list(call.attachments)
            kw["attachments_by_id"] = dict(call.attachments.by_id)
        return kw

    def encode(self, iface: Interface, outcome: Outcome) -> Payload:
        """The answer to one call: its result, or its fault."""
        return self._encoded(iface, outcome)[0]

    def _encoded(self, iface: Interface, outcome: Outcome) -> tuple[Payload, Outcome]:
        """The answer to one call, and the outcome it tells (a result that
        cannot be written is answered, and told, as a fault)."""
        call = outcome.call
        if outcome.fault is not None or call is None:
            return self.fault(iface, outcome.fault or UnexpectedError(), call), outcome
        result = outcome.result
        if isinstance(result, CustomResponse):
            return _custom(result), outcome
        try:
            try:
                return iface.encode_result(call, result), outcome
            except RecursionError:
                raise ResultError("result", TOO_DEEP_TO_WRITE) from None
        except ServiceFault as fault:
            failed = Outcome(call, fault=fault)
        except Exception as exc:
            failed = Outcome(call, fault=internal_error(exc, self.debug))
        assert failed.fault is not None
        return self.fault(iface, failed.fault, call), failed

    def fault(self, iface: Interface, fault: ServiceFault, call: Call | None) -> Payload:
        """The answer carrying ``fault``, with the HTTP status the fault
        asks for where the protocol leaves it open (its faults are 200), or
        everywhere for a fault decided at the HTTP level
        (:attr:`~ladon.exceptions.service.ServiceFault.http_level`), and the
        headers it asks for."""
        try:
            payload = iface.encode_fault(fault, call)
        except Exception as exc:
            logger.error("Interface %s failed to encode a fault", iface.name, exc_info=exc)
            return _broken()
        status = fault.http_status
        extra = fault.http_headers
        open_status = payload.status == 200 and (iface.fault_statuses or fault.about_request)
        if status is None or not (open_status or fault.http_level):
            if not extra:
                return payload
            status = payload.status
        return Payload(
            payload.body, payload.content_type, status, payload.headers + extra, payload.stream
        )

    def _guarded(
        self, iface: Interface, call: Call | None, encode: Callable[[], Payload]
    ) -> Payload:
        """Run an encoder; a result it cannot write becomes a fault."""
        try:
            return encode()
        except ServiceFault as fault:
            return self.fault(iface, fault, call)
        except Exception as exc:
            return self.fault(iface, internal_error(exc, self.debug), call)


def _custom(result: CustomResponse) -> Payload:
    headers = list(result.response_headers())
    ctype = next((v for k, v in headers if k.lower() == "content-type"), "application/octet-stream")
    rest = tuple((k, v) for k, v in headers if k.lower() not in ("content-type", "content-length"))
    data = result.response_data()
    body = data if isinstance(data, bytes) else b"".join(data)
    return Payload(body, ctype, 200, rest)
