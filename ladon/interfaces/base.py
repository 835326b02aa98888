"""The interface plug-in API.

An interface is a sans-I/O class: it turns request bytes into a
:class:`Call`, and results or faults into a :class:`Payload`. It never
calls the service; the server does that between ``decode_call`` and
``encode_result``. One instance serves one service and is reused.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar
from typing import Protocol

from ..exceptions.service import ArgumentError
from ..exceptions.service import ServerFault
from ..exceptions.service import ServiceFault
from ..exceptions.service import UnknownMethod
from ..ladonizer.model import MethodInfo
from ..ladonizer.model import ServiceInfo
from ..types.convert import Options
from ..types.convert import dump
from ..types.convert import load
from ..types.spec import contains_attachment

if TYPE_CHECKING:
    from ..types.attachment import AttachmentSet


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


@dataclass(frozen=True, slots=True)
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
    :param context: what the interface needs to echo in its answer
        (JSON-WSP ``mirror``, JSON-RPC ``id``...).

    .. versionadded:: 2.0
    """

    method: MethodInfo
    args: list[Any]
    context: dict[str, Any] = field(default_factory=dict)


def options_of(method: MethodInfo) -> Options:
    """The conversion options of a method."""
    return Options(method.encoding, method.allow_unsafe_conversion)


class Interface(abc.ABC):
    """Base class of every interface (protocol).

    :param service: the service this instance serves.
    :param debug: whether faults may carry tracebacks (the server puts them
        in :attr:`ServiceFault.detail` only in debug mode).

    .. versionadded:: 2.0
    """

    #: URL segment and mapping key, e.g. ``"jsonwsp"``.
    name: ClassVar[str]
    #: Content type of responses.
    content_type: ClassVar[str]
    #: Whether :meth:`call_batch` may answer a request (several calls in one body).
    batches: ClassVar[bool] = False
    #: Whether the interface takes ``multipart/related`` requests: the
    #: server then reads the parts and calls ``decode_call(root, headers,
    #: attachments=...)`` with the protocol message and the other parts.
    accepts_attachments: ClassVar[bool] = False
    #: Whether the interface carries attachments inside its own message
    #: (e.g. XML-RPC base64): results holding attachments are then dumped
    #: with :class:`~ladon.types.attachment.attachment` objects in them.
    inline_attachments: ClassVar[bool] = False

    def __init__(self, service: ServiceInfo, *, debug: bool = False) -> None:
        self.service = service
        self.debug = debug
        self._options: dict[str, Options] = {}
        self._plans: dict[str, tuple[Options, tuple[tuple[Any, ...], ...]]] = {}
        self._returns_attachments: dict[str, bool] = {}

    @abc.abstractmethod
    def decode_call(self, body: bytes, headers: Mapping[str, str]) -> Call:
        """Parse a request body.

        An interface that sets :attr:`accepts_attachments` also takes an
        ``attachments`` keyword (an :class:`~ladon.types.attachment.AttachmentSet`,
        given only for multipart requests; ``body`` and ``headers`` are then
        those of the first part).

        :raises ServiceFault: (usually a :class:`ClientFault`) the request is wrong.
        """

    @abc.abstractmethod
    def encode_result(self, call: Call, result: object) -> Payload:
        """Serialise what the method returned."""

    @abc.abstractmethod
    def encode_fault(self, fault: ServiceFault, call: Call | None) -> Payload:
        """Serialise a fault (``call`` is ``None`` when the request could not
        be decoded)."""

    def call_batch(
        self, body: bytes, headers: Mapping[str, str], run: Callable[[Call], object]
    ) -> Payload | None:
        """Answer a request that holds several calls (e.g. a JSON-RPC 2.0
        batch), or return ``None`` when ``body`` is an ordinary request.

        The server asks this first when the class sets :attr:`batches`; on
        ``None`` it goes on with :meth:`decode_call`.

        :param run: invokes the service method of one decoded call and
            returns its result.
        """
        return None

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

    def options(self, method: MethodInfo) -> Options:
        opts = self._options.get(method.name)
        if opts is None:
            opts = self._options[method.name] = options_of(method)
        return opts

    def _plan(self, method: MethodInfo) -> tuple[Options, tuple[tuple[Any, ...], ...]]:
        plan = self._plans.get(method.name)
        if plan is None:
            params = tuple(
                (p.name, p.type, p.nullable, p.optional, p.default) for p in method.params
            )
            plan = self._plans[method.name] = (self.options(method), params)
        return plan

    def bind_named(
        self,
        method: MethodInfo,
        values: Mapping[str, Any],
        attachments: AttachmentSet | None = None,
    ) -> list[Any]:
        """Convert named wire arguments into positional Python arguments.

        :param attachments: the request's attachments, which ``cid:`` and
            ``cidx:`` references in the arguments name.
        :raises ArgumentError: an argument is missing, unknown or of the wrong type.
        """
        opts, params = self._plan(method)
        if attachments is not None:
            opts = dataclasses.replace(opts, attachments=attachments)
        args = []
        found = 0
        for name, spec, nullable, optional, default in params:
            if name in values:
                found += 1
                value = values[name]
                if value is None and optional and not nullable:
                    args.append(default)  # an explicit null/nil: the default
                else:
                    args.append(load(spec, value, name, opts, nullable))
            elif optional:
                args.append(default)
            else:
                raise ArgumentError(name, "is not optional and was not given")
        if found != len(values):
            unknown = sorted(str(k) for k in values if method.param(k) is None)
            raise ArgumentError(
                "", f"Method {method.name} has no parameter(s) {', '.join(map(repr, unknown))}"
            )
        return args

    def bind_positional(
        self,
        method: MethodInfo,
        values: Sequence[Any],
        attachments: AttachmentSet | None = None,
    ) -> list[Any]:
        """Convert positional wire arguments; trailing optional ones may be left out."""
        if len(values) > len(method.params):
            raise ArgumentError(
                "",
                f"Method {method.name} takes {len(method.params)} argument(s), {len(values)} given",
            )
        named = {p.name: v for p, v in zip(method.params, values, strict=False)}
        return self.bind_named(method, named, attachments)

    def dump_result(self, call: Call, result: object) -> Any:
        """The plain wire value of a result (checks its type).

        :raises ResultError: the result does not match the declared type.
        """
        m = call.method
        if not (self.accepts_attachments or self.inline_attachments) and self.returns_attachments(
            m
        ):
            raise ServerFault(
                f"Method {m.name} returns attachments, which the {self.name} interface "
                "cannot carry; call it through jsonwsp or soap"
            )
        return dump(m.rtype, result, "result", self.options(m), m.rtype_nullable)

    def returns_attachments(self, method: MethodInfo) -> bool:
        """Whether the method's result may hold attachments (cached)."""
        known = self._returns_attachments.get(method.name)
        if known is None:
            known = self._returns_attachments[method.name] = contains_attachment(method.rtype)
        return known


# NOTE: Ladon 1.0's plug-in classes keep their import path,
# ``ladon.interfaces.base``; they live in .legacy, which needs the classes above.
from .legacy import BaseFaultHandler as BaseFaultHandler  # noqa: E402
from .legacy import BaseInterface as BaseInterface  # noqa: E402
from .legacy import BaseRequestHandler as BaseRequestHandler  # noqa: E402
from .legacy import BaseResponseHandler as BaseResponseHandler  # noqa: E402
from .legacy import ServiceDescriptor as ServiceDescriptor  # noqa: E402
