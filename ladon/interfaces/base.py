"""The interface plug-in API: the typed contract between the server and a
protocol.

NOTE: the request and answer classes are slotted dataclasses, not frozen
ones: they are made on every call, and a frozen one takes three times as
long to build. Treat them as values all the same.

An interface is a sans-I/O class. The server reads the HTTP request into a
:class:`WireRequest`; :meth:`Interface.decode_call` turns it into a
:class:`Call` (or a :class:`Batch` of them); the server runs each call
(checks, the method or the task backend, logging) and hands back what it
returned, or the fault it raised, to :meth:`Interface.encode_result`,
:meth:`Interface.encode_fault` or :meth:`Interface.encode_batch`, which
make the :class:`Payload` sent. An interface never calls the service and
never sees the WSGI environ. One instance serves one service and is reused.
"""

from __future__ import annotations

import abc
import dataclasses
import enum
import logging
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar
from typing import Final
from typing import Protocol

from werkzeug.datastructures import Headers

from ..exceptions.service import ArgumentError
from ..exceptions.service import ResultError
from ..exceptions.service import ServerFault
from ..exceptions.service import ServiceFault
from ..exceptions.service import UnknownMethod
from ..ladonizer.model import MethodInfo
from ..ladonizer.model import ServiceInfo
from ..types.attachment import AttachmentSet
from ..types.convert import TOO_DEEP_TO_READ
from ..types.convert import TOO_DEEP_TO_WRITE
from ..types.convert import Converted
from ..types.convert import Options
from ..types.convert import dump
from ..types.convert import load
from ._plugin10 import BaseFaultHandler as BaseFaultHandler
from ._plugin10 import BaseInterface as BaseInterface
from ._plugin10 import BaseRequestHandler as BaseRequestHandler
from ._plugin10 import BaseResponseHandler as BaseResponseHandler
from ._plugin10 import ServiceDescriptor as ServiceDescriptor

if TYPE_CHECKING:
    from lxml import etree

logger = logging.getLogger("ladon")


class Absent(enum.Enum):
    """The type of :data:`ABSENT`."""

    ABSENT = "absent"

    def __repr__(self) -> str:
        return "ABSENT"


#: A member the request did not have (a JSON-RPC notification has no ``id``,
#: a JSON-WSP request may have no ``mirror``), as opposed to ``null``.
ABSENT: Final = Absent.ABSENT


class BodyStream(Protocol):
    """A response body sent in chunks (e.g. a multipart answer with files).

    .. versionadded:: 2.0
    """

    @property
    def length(self) -> int | None:
        """The size in bytes, or ``None`` when it cannot be known ahead."""
        ...

    def __iter__(self) -> Iterator[bytes]: ...

    def close(self) -> None:
        """Release what the body is read from (called once it is sent)."""
        ...


@dataclass(slots=True)
class WireRequest:
    """An HTTP request, as an interface reads it.

    :param body: the protocol message: the request body, or the first part
        of a ``multipart/related`` request (the body decoded first when it
        came with a ``Content-Encoding``).
    :param content_type: the Content-Type of ``body``.
    :param headers: the HTTP request headers (werkzeug's, case-insensitive).
    :param method: the HTTP method.
    :param path: what follows the interface's URL, e.g. ``"/add"`` for
        ``/Calc/http/add``; ``""`` at the endpoint itself.
    :param attachments: the parts after the first of a multipart request
        (only for an interface that :attr:`~Interface.accepts_attachments`);
        every part of a ``multipart/form-data`` request (for one that
        :attr:`~Interface.accepts_form_data`, whose ``body`` is then empty).
    :param query: the query string (as sent, without ``?``).
    :param base_url: the application's public URL, for an interface that
        :attr:`~Interface.wants_base_url` (else ``""``).

    .. versionadded:: 2.0
    """

    body: bytes
    content_type: str
    headers: Headers
    method: str = "POST"
    path: str = ""
    attachments: AttachmentSet | None = None
    query: str = ""
    base_url: str = ""


@dataclass(slots=True)
class Payload:
    """What an interface answers: body, content type, HTTP status, headers.

    :param stream: a body sent in chunks instead of ``body`` (which is then
        empty), e.g. a multipart answer carrying attachments.

    .. versionadded:: 2.0
    """

    body: bytes
    content_type: str
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    stream: BodyStream | None = None


@dataclass(slots=True)
class Call:
    """A decoded method call.

    :param method: the method called.
    :param args: the converted arguments, in the method's parameter order.
    :param id: the request id the answer repeats (JSON-RPC, JSON-WSP; on
        SOAP the request's WS-Addressing headers, which the answer relates
        to), or :data:`ABSENT`.
    :param mirror: JSON-WSP's ``mirror``, repeated as ``reflection``, or
        :data:`ABSENT`.
    :param notification: a JSON-RPC 2.0 notification: run, never answered.
    :param attachments: the request's attachments (a multipart request);
        closed once the call is answered, unless a task took them over.
    :param header_blocks: the child elements of a SOAP envelope's
        ``Header``, for the steps that read them (WS-Security,
        WS-Addressing...).

    .. versionadded:: 2.0
    """

    method: MethodInfo
    args: list[Any]
    id: object = ABSENT
    mirror: object = ABSENT
    notification: bool = False
    attachments: AttachmentSet | None = None
    header_blocks: tuple[etree._Element, ...] = ()

    @property
    def multipart(self) -> bool:
        """The request was ``multipart/related`` (answers may be too)."""
        return self.attachments is not None


def about_method(
    fault: ServiceFault, method: MethodInfo, header_blocks: tuple[etree._Element, ...] = ()
) -> None:
    """Note on a fault raised while the arguments of ``method`` were read
    which method the request called (and its SOAP header blocks), unless
    noted already: the application then checks the caller first, so that
    a caller who may not call the method learns nothing of its arguments'
    rules (401/403 rather than an argument fault).

    .. versionadded:: 2.0
    """
    if getattr(fault, "called_method", None) is None:
        fault.called_method = method  # type: ignore[attr-defined]
    if header_blocks and not getattr(fault, "header_blocks", ()):
        fault.header_blocks = header_blocks  # type: ignore[attr-defined]


@dataclass(slots=True)
class Batch:
    """Several calls in one request (a JSON-RPC 2.0 batch, XML-RPC's
    ``system.multicall``), each decoded on its own: an item is the call, or
    the fault its decoding raised.

    .. versionadded:: 2.0
    """

    items: tuple[Call | ServiceFault, ...]


@dataclass(slots=True)
class Outcome:
    """How one call of a batch ended: its result, or its fault.

    :param call: the call, ``None`` for an item that could not be decoded.

    .. versionadded:: 2.0
    """

    call: Call | None
    result: object = None
    fault: ServiceFault | None = None


class RequestFault(ServiceFault):
    """A fault raised while decoding a request, carrying what the answer must
    repeat (a JSON-RPC ``id``) although no :class:`Call` exists yet.

    :param fault: the original fault (kept in :attr:`original`; its code,
        HTTP status and SOAP codes are this fault's too).
    :param id: the request's id, or :data:`ABSENT` (on SOAP: the request's
        WS-Addressing headers, which the fault answers).
    :param notification: the request was a notification (not answered).

    .. versionadded:: 2.0
    """

    def __init__(
        self, fault: ServiceFault, id: object = ABSENT, notification: bool = False
    ) -> None:
        super().__init__(fault.faultcode, fault.faultstring, fault.detail, hint=fault.hint)
        self.original = fault
        self.id = id
        self.notification = notification
        self.http_status = fault.http_status
        self.soap_code = fault.soap_code
        self.soap_subcode = fault.soap_subcode
        self.http_headers = fault.http_headers
        self.http_level = fault.http_level


class Interface(abc.ABC):
    """Base class of every interface (protocol).

    :param service: the service this instance serves.
    :param debug: whether faults may carry tracebacks.

    .. versionadded:: 2.0
    """

    #: URL segment and mapping key, e.g. ``"jsonwsp"``.
    name: ClassVar[str]
    #: Content type of responses.
    content_type: ClassVar[str]
    #: Whether the interface takes ``multipart/related`` requests: the
    #: server then reads the parts and gives the first as the
    #: :class:`WireRequest`'s body, the others as its attachments.
    accepts_attachments: ClassVar[bool] = False
    #: Whether the interface carries attachments inside its own message
    #: (e.g. XML-RPC base64): results holding attachments are then dumped
    #: with :class:`~ladon.types.attachment.attachment` objects in them.
    inline_attachments: ClassVar[bool] = False
    #: Whether the protocol carries binary data itself (XML-RPC's base64):
    #: ``bytes`` results are then dumped as bytes, not as text in the
    #: method's encoding.
    binary: ClassVar[bool] = False
    #: Whether ``multipart/form-data`` requests reach the interface as every
    #: part in :attr:`WireRequest.attachments` (with an empty body).
    accepts_form_data: ClassVar[bool] = False
    #: The HTTP methods that reach :meth:`decode_call` (others are answered
    #: 405 by the server); the interface itself answers the methods a
    #: particular path does not take.
    http_methods: ClassVar[frozenset[str] | None] = frozenset({"POST"})
    #: Whether a request without a body reaches :meth:`decode_call` (else
    #: the server answers it with a fault).
    empty_body_ok: ClassVar[bool] = False
    #: Whether the server fills :attr:`WireRequest.base_url` (it costs a
    #: little per request), for the requests :meth:`needs_base_url` names.
    wants_base_url: ClassVar[bool] = False
    #: Whether the errors the server finds before the interface reads the
    #: request (body too large, unknown Content-Encoding...) are answered
    #: with this interface's fault rather than plain text.
    http_errors_as_faults: ClassVar[bool] = False
    #: Whether a call's fault answered with HTTP 200 may carry the status
    #: it asks for instead (a reused Idempotency-Key's 422, a full waiting
    #: room's 503). False for XML-RPC, whose answers are 200 (its
    #: specification; ``xmlrpc.client`` reads no other): only refusals at
    #: the HTTP level (401, 403) and faults about the request itself
    #: (:attr:`~ladon.exceptions.service.ServiceFault.about_request`) keep
    #: theirs there.
    fault_statuses: ClassVar[bool] = True

    def __init__(self, service: ServiceInfo, *, debug: bool = False) -> None:
        self.service = service
        self.debug = debug

    @abc.abstractmethod
    def decode_call(self, request: WireRequest) -> Call | Batch:
        """Read a request: one call, or a batch of calls.

        :raises ServiceFault: (usually a :class:`ClientFault`) the request is
            wrong; a :class:`RequestFault` when the answer must repeat
            something of it.
        """

    @abc.abstractmethod
    def encode_result(self, call: Call, result: object) -> Payload:
        """Serialise what the method returned (see :meth:`dump_result`)."""

    @abc.abstractmethod
    def encode_fault(self, fault: ServiceFault, call: Call | None) -> Payload:
        """Serialise a fault (``call`` is ``None`` when the request could not
        be decoded)."""

    def encode_batch(self, batch: Batch, outcomes: Sequence[Outcome]) -> Payload:
        """Serialise the answers of a batch, one :class:`Outcome` per item,
        in order. Only an interface whose :meth:`decode_call` makes batches
        needs it."""
        raise ServerFault(f"The {self.name} interface answers no batches")

    def run_introspection(self, call: Call) -> object:
        """Answer a call of one of the interface's own methods
        (:attr:`~ladon.ladonizer.model.MethodKind.INTROSPECTION`, e.g.
        XML-RPC's ``system.listMethods``); the result is encoded as any."""
        raise UnknownMethod(f"Service {self.service.name} has no method {call.method.name!r}")

    def needs_base_url(self, subpath: str) -> bool:
        """Whether the request to ``subpath`` (the path after the
        interface's endpoint) needs :attr:`WireRequest.base_url`; asked only
        of an interface that :attr:`wants_base_url`. Default: every request.

        .. versionadded:: 2.0
        """
        return True

    def describe(self, base_url: str, query: Mapping[str, str]) -> Payload | None:
        """The description document (WSDL, JSON description...), if any.

        :param base_url: the application's public URL, without trailing ``/``.
        :param query: the query parameters of the description request.
        """
        return None

    # -- helpers for subclasses ------------------------------------------------

    def endpoint_url(self, base_url: str) -> str:
        return f"{base_url}/{self.service.name}/{self.name}"

    def method(self, name: object) -> MethodInfo:
        """Look a method up by its wire name.

        :raises UnknownMethod: no such method.
        """
        if not isinstance(name, str) or not name:
            raise UnknownMethod("The request does not name a method")
        m = self.service.methods.get(name)
        if m is None:
            shown = name if len(name) <= 60 else name[:57] + "..."
            raise UnknownMethod(f"Service {self.service.name} has no method {shown!r}")
        return m

    def bind_named(
        self,
        method: MethodInfo,
        values: Mapping[str, Any],
        attachments: AttachmentSet | None = None,
        options: Options | None = None,
        null_is_default: bool = True,
    ) -> list[Any]:
        """Convert named wire arguments into positional Python arguments.

        :param attachments: the request's attachments, which ``cid:`` and
            ``cidx:`` references in the arguments name.
        :param options: the conversion options (default: the method's).
        :param null_is_default: an explicit null for an optional parameter
            that is not nullable takes its default (else the conversion
            judges the null).
        :raises ArgumentError: an argument is missing, unknown or of the wrong type.
        """
        opts = method.options if options is None else options
        if attachments is not None:
            opts = dataclasses.replace(opts, attachments=attachments)
        args = []
        found = 0
        name = ""
        try:
            for p in method.params:
                name = p.name
                if name in values:
                    found += 1
                    value = values[name]
                    spec = p.type
                    if value.__class__ is spec and (spec is int or spec is str):
                        args.append(value)  # PERF: load()'s first case, without its frame
                    elif value is None and null_is_default and p.optional and not p.nullable:
                        args.append(p.default)  # an explicit null/nil: the default
                    else:
                        args.append(load(p.type, value, name, opts, p.nullable))
                elif p.optional:
                    args.append(p.default)
                else:
                    raise ArgumentError(name, "is not optional and was not given")
            if found != len(values):
                unknown = sorted(str(k) for k in values if method.param(k) is None)
                raise ArgumentError(
                    "", f"Method {method.name} has no parameter(s) {', '.join(map(repr, unknown))}"
                )
        except RecursionError:
            # NOTE: a value nested deeper than the conversion's stack (JSON
            # parsers take a few hundred levels): the request's fault
            fault = ArgumentError(name, TOO_DEEP_TO_READ)
            about_method(fault, method)
            raise fault from None
        except ServiceFault as fault:
            about_method(fault, method)
            raise
        return args

    def bind_positional(
        self,
        method: MethodInfo,
        values: Sequence[Any],
        attachments: AttachmentSet | None = None,
    ) -> list[Any]:
        """Convert positional wire arguments; trailing optional ones may be left out."""
        if len(values) > len(method.params):
            fault = ArgumentError(
                "",
                f"Method {method.name} takes {len(method.params)} argument(s), {len(values)} given",
            )
            about_method(fault, method)
            raise fault
        named = {p.name: v for p, v in zip(method.params, values, strict=False)}
        return self.bind_named(method, named, attachments)

    def dump_result(self, call: Call, result: object) -> Any:
        """The plain wire value of a result (checked against its type); a
        :class:`~ladon.types.convert.Converted` result is that already.

        :raises ResultError: the result does not match the declared type.
        """
        m = call.method
        rtype = m.rtype
        if result.__class__ is rtype and (rtype is int or rtype is str):
            return result  # PERF: dump()'s first case, without its frames
        if m.returns_attachments and not self.accepts_attachments and not self.inline_attachments:
            raise ServerFault(
                f"Method {m.name} returns attachments, which the {self.name} interface "
                "cannot carry; call it through jsonwsp or soap"
            )
        if type(result) is Converted:
            return result.value
        opts = dataclasses.replace(m.options, raw_bytes=True) if self.binary else m.options
        try:
            try:
                return dump(m.rtype, result, "result", opts, m.rtype_nullable)
            except RecursionError:
                raise ResultError("result", TOO_DEEP_TO_WRITE) from None
        except ResultError as exc:
            # a bug in the service: its result breaks its declared type
            logger.error("Service %s, method %s: %s", self.service.name, m.name, exc)
            raise
