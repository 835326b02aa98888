"""SOAP 1.1, document/literal wrapped (``soap``, alias ``soapdocumentliteral``),
and what every SOAP interface shares (:class:`SOAPBase`).

Requests: a SOAP envelope of the interface's version; prefixes are
ignored, the Body's one element names the method (in the namespace the
WSDL gives it; with Ladon 1.0's naming also unqualified or in the other
namespace Ladon 1.0 published, as Ladon 1.0 ignored namespaces) and its
children are the arguments. Header blocks marked ``mustUnderstand`` must
be ones Ladon reads (WS-Addressing, ``wsse:Security``, and what the
application adds); WS-Addressing 1.0 headers are answered with
``wsa:Action``, ``wsa:MessageID``, ``wsa:RelatesTo`` and the reference
parameters of the ``wsa:ReplyTo`` (of a fault: the ``wsa:FaultTo``, else
the ``wsa:ReplyTo``).

Responses of ``soap`` keep Ladon 1.0's shape: ``<MResponse
xmlns="http://tempuri.org/">`` holding ``<result>`` (or, for a LadonType
result, its fields directly); list items and type fields are in the
``Arrays`` namespace, as the WSDL says (with ``soap_naming="python"``:
Python names, in the service's namespace). Faults are HTTP 500 with
``SOAP-ENV:Client`` / ``SOAP-ENV:Server`` codes.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from typing import ClassVar

from lxml import etree

from ..exceptions.service import ArgumentError
from ..exceptions.service import MalformedRequest
from ..exceptions.service import ResultError
from ..exceptions.service import ServerFault
from ..exceptions.service import ServiceFault
from ..exceptions.service import UnknownMethod
from ..ladonizer.model import MethodInfo
from ..ladonizer.model import ServiceInfo
from ..types.attachment import attachment
from ..types.convert import load
from ..types.spec import ListOf
from ..types.spec import is_ladontype
from ..wire.multipart import related_response
from ..wire.schema import ARRAYS_NS
from ..wire.schema import FAULT_PREFIXES
from ..wire.schema import TEMPURI
from ..wire.schema import WSA
from ..wire.schema import WSA_ADDRESSING_FAULT_ACTION
from ..wire.schema import WSA_FAULT_ACTION
from ..wire.xml import escape
from ..wire.xml import local
from ..wire.xml import parse_xml
from ..wire.xml import xml_safe
from ._json import charset_of
from ._soapenv import SOAP11
from ._soapenv import UNDERSTOOD_HEADERS
from ._soapenv import ActionMismatch
from ._soapenv import ActionNotSupported
from ._soapenv import Addressing
from ._soapenv import AddressingFault
from ._soapenv import MustUnderstand
from ._soapenv import OperationMismatch
from ._soapenv import SOAPVersion
from ._soapenv import VersionMismatch as VersionMismatch
from ._soapenv import WrongMediaType
from ._soapenv import action_param
from ._soapenv import addressing_header
from ._soapenv import clip
from ._soapenv import media_type
from ._soapenv import not_understood
from ._soapenv import qname_markup
from ._soapenv import read_addressing
from ._soapnames import NAMINGS
from ._soapnames import PYTHON
from ._soapnames import SOAPNaming
from ._soapvalues import References
from ._soapvalues import item_texts
from ._soapvalues import param_name
from ._soapvalues import part_id
from ._soapvalues import simple_text
from ._soapvalues import to_plain
from ._soapvalues import write
from ._soapvalues import write_fields
from .base import ABSENT
from .base import Call
from .base import Interface
from .base import Payload
from .base import RequestFault
from .base import WireRequest
from .base import about_method
from .wsdl import document_literal_wsdl
from .wsdl import flattened


def addressing_of(fault: ServiceFault, call: Call | None) -> Addressing | None:
    """The WS-Addressing headers of the request a fault answers.

    .. versionadded:: 2.0
    """
    if call is not None:
        found = call.id
    elif isinstance(fault, RequestFault):
        found = fault.id
    else:
        return None
    return found if isinstance(found, Addressing) else None


#: Most accepted actions an interface remembers.
_ACTIONS_KEPT = 256
#: Most parameter element tags an interface remembers the names of.
_NAMES_KEPT = 256


@dataclass(slots=True)
class XOPCall(Call):
    """A call that came as an MTOM/XOP package (its root part
    ``application/xop+xml``): its answer, fault or result, is an XOP
    package too, with or without attachments, as MTOM clients (WCF) expect.

    .. versionadded:: 2.0
    """


class XOPFault(RequestFault):
    """A fault found in a request that came as an MTOM/XOP package: answered
    as one too (see :class:`XOPCall`).

    .. versionadded:: 2.0
    """


def answers_xop(fault: ServiceFault, call: Call | None) -> bool:
    """Whether a fault answers an XOP request (and so is an XOP package).

    .. versionadded:: 2.0
    """
    return isinstance(call, XOPCall) or isinstance(fault, XOPFault)


class SOAPBase(Interface):
    """What every SOAP interface shares: the envelope, its header blocks and
    WS-Addressing, request parsing, answers and SOAP 1.1 faults.

    The class attributes below are what :meth:`configured` sets for an
    application.

    .. versionadded:: 2.0
    """

    #: The SOAP version of the envelopes.
    version: ClassVar[SOAPVersion] = SOAP11
    content_type: ClassVar[str] = SOAP11.content_type
    #: How elements, namespaces and actions are named.
    naming: ClassVar[SOAPNaming] = SOAPNaming()
    #: Header blocks (``{namespace}local``) a request may mark
    #: ``mustUnderstand``: anything else so marked is a MustUnderstand fault.
    understood_headers: ClassVar[frozenset[str]] = UNDERSTOOD_HEADERS
    #: Errors found reading the body (too large, bad length, unknown
    #: coding) are answered with this interface's fault.
    http_errors_as_faults: ClassVar[bool] = True
    #: The Body may hold multi-reference values (elements with an ``id``)
    #: after the operation's element (SOAP 1.1 encoding, section 5.4.1).
    multiref_siblings: ClassVar[bool] = False

    def __init__(self, service: ServiceInfo, *, debug: bool = False) -> None:
        super().__init__(service, debug=debug)
        #: The namespace of the operation elements of a request (see
        #: :meth:`operation_namespace`).
        self.operation_ns = self.operation_namespace()
        #: The namespaces a request's operation element may be in: that one
        #: with the Python naming (and on SOAP 1.2); ``None``, any (or none),
        #: with Ladon 1.0's naming, as Ladon 1.0 ignored namespaces and
        #: prefixes (COMPAT.md 3.3, 3.4).
        self.operation_namespaces: frozenset[str] | None = (
            frozenset({self.operation_ns}) if self.naming.python or self.version.strict else None
        )
        #: action -> the method it was found to name (see _check_action_param)
        self._actions: dict[str, str] = {}
        #: an operation element's tag -> the method it calls (see _operation)
        self._operations: dict[object, MethodInfo] = {}
        #: a parameter element's tag -> the parameter's name
        self._param_names: dict[object, str] = {}
        #: method name -> its parameters when all are int or str (see _text_args)
        self._text_plans: dict[str, tuple[tuple[str, object], ...] | None] = {}

    def operation_namespace(self) -> str:
        """The namespace the WSDL gives the operation elements of a request
        (document/literal: the wrapper elements' target namespace)."""
        return self.naming.wrapper_ns(self.service)

    @classmethod
    def configured(
        cls, *, naming: str | None = None, understood_headers: Iterable[str] = ()
    ) -> type[SOAPBase]:
        """This interface as one application configures it: a subclass with
        another naming (``"ladon10"`` or ``"python"``, ``None`` to keep the
        class's) and more understood header blocks.

        :raises ValueError: an unknown naming, or a header name that is not
            ``{namespace}local``.
        """
        if naming is not None and naming not in NAMINGS:
            raise ValueError(f"soap_naming must be one of {NAMINGS}, not {naming!r}")
        extra = frozenset(understood_headers)
        for name in extra:
            if not (isinstance(name, str) and name.startswith("{") and "}" in name[1:-1]):
                raise ValueError(f"a SOAP header block is named '{{namespace}}local', not {name!r}")
        new_naming = cls.naming if naming is None else SOAPNaming(naming == PYTHON)
        if new_naming == cls.naming and extra <= cls.understood_headers:
            return cls
        attrs = {
            "naming": new_naming,
            "understood_headers": cls.understood_headers | extra,
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
            "__doc__": cls.__doc__,
        }
        return type(cls.__name__, (cls,), attrs)

    # -- requests ----------------------------------------------------------------

    def decode_call(self, request: WireRequest) -> Call:
        ctype = request.content_type
        if request.attachments is None or ctype[:19].lower() != "application/xop+xml":
            return self._decode(request, ctype, False)  # PERF: the plain case
        try:
            return self._decode(request, ctype, True)
        except RequestFault as fault:
            raise XOPFault(fault.original, fault.id) from None
        except ServiceFault as fault:
            raise XOPFault(fault) from None

    def _decode(self, request: WireRequest, ctype: str, xop: bool) -> Call:
        version = self.version
        root = parse_xml(request.body, charset_of(ctype), version.strict)
        if root.tag != version.envelope_tag:
            if local(root.tag) != "Envelope":
                if not version.strict:  # SOAP 1.1: not a SOAP message at all
                    raise MalformedRequest("The request is not a SOAP envelope")
                # SOAP 1.2 part 1, 5.4.6: a wrong root, by namespace or by
                # local name, is a VersionMismatch
                raise VersionMismatch(
                    f"Expected a SOAP {version.name} envelope ({{{version.env}}}Envelope), "
                    f"got the element {clip(str(root.tag))}",
                    None,
                )
            received = etree.QName(root).namespace
            raise VersionMismatch(
                f"Expected a SOAP {version.name} envelope (namespace {version.env}), "
                f"got namespace {received!r}",
                received,
            )
        if (
            version.strict
            and request.attachments is None
            # PERF: the usual "application/soap+xml; ..." read from its start
            and not (
                ctype.startswith(version.media_type)
                and ctype[len(version.media_type) : len(version.media_type) + 1] in _TYPE_ENDS
            )
            and media_type(ctype) != version.media_type
        ):
            # NOTE: after the envelope's version, which a SOAP 1.1 client
            # (text/xml) learns from its VersionMismatch fault
            raise WrongMediaType(
                f"A SOAP {version.name} request is sent as {version.media_type} "
                f"(got {clip(media_type(ctype)) or 'no Content-Type'})",
                hint=f"send Content-Type: {version.content_type}",
            )
        header: etree._Element | None
        body_el: etree._Element | None
        if len(root) == 1 and (only := root[0]).tag == version.body_tag:
            header, body_el, problem = None, only, ""  # PERF: the usual envelope
        else:
            header, body_el, problem = self._envelope_parts(root)
        action = action_param(ctype) if version.action_param else None
        if header is None or not len(header):  # PERF: the plain case
            if problem:
                raise MalformedRequest(problem)
            return self._decode_body(body_el, request, (), None, action, xop)
        blocks = tuple(c for c in header if isinstance(c.tag, str))
        try:
            addressing = read_addressing(blocks)
        except AddressingFault as fault:
            # answered with the fault action, relating to the request's MessageID
            raise RequestFault(fault, id=fault.addressing) from None
        try:
            if problem:
                raise MalformedRequest(problem)
            missed = not_understood(blocks, version, self.understood_headers)
            if missed:
                raise MustUnderstand(missed)
            return self._decode_body(body_el, request, blocks, addressing, action, xop)
        except ServiceFault as fault:
            if addressing is None:
                raise
            raise RequestFault(fault, id=addressing) from None

    def _envelope_parts(
        self, root: etree._Element
    ) -> tuple[etree._Element | None, etree._Element | None, str]:
        """The Header and the Body of an envelope, and what is wrong with
        its children ("" when nothing): two Bodies or two Headers; on a
        :attr:`~SOAPVersion.strict` version (SOAP 1.2, whose envelope holds
        nothing else) also other elements, or a Header after the Body.
        SOAP 1.1 lets elements follow the Body (its section 4.1.1)."""
        version = self.version
        header = body_el = None
        problem = ""
        body_tag, header_tag, strict = version.body_tag, version.header_tag, version.strict
        # PERF: a loop over the (one or two) children beats find(), which
        # parses its path on every call.
        for child in root:
            tag = child.tag
            if tag == body_tag:
                if body_el is not None:
                    problem = "The SOAP envelope has more than one Body"
                body_el = child
            elif tag == header_tag:
                if header is not None:
                    problem = "The SOAP envelope has more than one Header"
                elif strict and body_el is not None:
                    problem = "The SOAP Header must come before the Body"
                header = child
            elif strict and isinstance(tag, str) and not problem:
                where = "after the Body" if body_el is not None else "beside the Header and Body"
                problem = (
                    f"The SOAP {version.name} envelope holds an element {clip(tag)} {where}; "
                    "it takes one optional Header and one Body, nothing else"
                )
        return header, body_el, problem

    def _decode_body(
        self,
        body_el: etree._Element | None,
        request: WireRequest,
        blocks: tuple[etree._Element, ...],
        addressing: Addressing | None,
        action: str | None = None,
        xop: bool = False,
    ) -> Call:
        if body_el is None:
            raise MalformedRequest("The SOAP envelope has no Body")
        count = len(body_el)
        if not count:  # comments and PIs are gone: children are elements
            raise MalformedRequest("The SOAP Body is empty; expected a method element")
        if count > 1:
            self._check_body_siblings(body_el)
        method_el = body_el[0]
        m = self._operation(method_el.tag)
        if action:  # an empty action="" says nothing (as SOAP 1.1's SOAPAction "")
            self._check_action_param(m, action, addressing)
        if addressing is not None:
            self._check_action(m, addressing)
        attachments = request.attachments
        if attachments is None:
            args = self._text_args(m, method_el)
            if args is not None:  # PERF: the usual call, its arguments numbers and strings
                id = ABSENT if addressing is None else addressing
                return (XOPCall if xop else Call)(m, args, id, ABSENT, False, None, blocks)
        try:
            values = self._read_values(m, method_el, body_el)
            args = self.bind_named(m, values, attachments)
        except ServiceFault as fault:
            about_method(fault, m, blocks)  # WS-Security reads the blocks
            raise
        return (XOPCall if xop else Call)(
            m,
            args,
            id=ABSENT if addressing is None else addressing,
            attachments=attachments,
            header_blocks=blocks,
        )

    def _read_values(
        self, m: MethodInfo, method_el: etree._Element, body_el: etree._Element
    ) -> dict[str, Any]:
        """The plain values of the arguments in a method element, by name
        (``None`` for an element naming no parameter, which
        :meth:`bind_named` reports).

        :raises ArgumentError: an argument is given twice, or cannot be read
            (see :func:`~ladon.interfaces._soapvalues.to_plain`).
        """
        params = m.params_by_name
        values: dict[str, Any] = {}
        # SOAP encoding's multi-reference values (href/id, enc:ref/enc:id)
        refs = References(body_el, self.version.name == "1.2")
        names = self._param_names
        for c in method_el:
            tag = c.tag
            name = names.get(tag)
            if name is None:
                name = param_name(tag)
                if len(names) < _NAMES_KEPT:  # bounded: the tags are the client's
                    names[tag] = name
            p = params.get(name)
            spec = None if p is None else p.type
            if name in values:
                how = (
                    "; a list is one element holding one <item> per value"
                    if isinstance(spec, ListOf)
                    else ""
                )
                raise ArgumentError(name, f"is given more than once{how}")
            if spec is None:
                if isinstance(tag, str):
                    values[name] = None  # reported as an unknown parameter
                continue
            values[name] = to_plain(c, spec, name, refs)
        return values

    def _text_args(self, m: MethodInfo, method_el: etree._Element) -> list[Any] | None:
        """The arguments of a call whose parameters are all ``int`` or
        ``str``, read in one pass when the request holds exactly one plain
        element per parameter, in their order (no attribute, no child; an
        ``int`` as plain digits); ``None`` for any other request, which the
        general path reads (and judges)."""
        plans = self._text_plans
        if m.name in plans:
            plan = plans[m.name]
        else:
            plan = plans[m.name] = _text_plan(m)
        if plan is None or len(method_el) != len(plan):
            return None
        names = self._param_names
        args: list[Any] = []
        for c, (name, spec) in zip(method_el, plan, strict=True):
            if names.get(c.tag) != name or c.keys():
                return None
            if spec is str or spec is int:
                if len(c):
                    return None
                text = c.text or ""
                if spec is str:
                    args.append(text)
                elif 0 < len(text) < 19 and text.isascii() and text.isdigit():
                    args.append(int(text))
                else:
                    return None
            else:  # a list of ints or strs
                texts = item_texts(c, spec is _INTS)
                if texts is None:
                    return None
                if spec is _STRS:
                    args.append(texts)
                    continue
                try:
                    args.append(load(_INTS, texts, name, m.options))
                except ArgumentError:
                    return None  # the general path says what is wrong
        return args

    def _check_body_siblings(self, body_el: etree._Element) -> None:
        """A Body holding more than the operation's element: refused, but
        for SOAP encoding's multi-reference values (elements with an ``id``
        attribute) after it on an rpc/encoded interface; with Ladon 1.0's
        naming the first element is the call and the others are not read,
        as Ladon 1.0 did (COMPAT.md 3.3)."""
        if self.operation_namespaces is None:
            return
        extra = list(body_el)[1:]
        if self.multiref_siblings and all(el.get("id") is not None for el in extra):
            return
        raise MalformedRequest(
            f"The SOAP Body holds {len(body_el)} elements; a request calls one operation"
            + (
                " (multi-reference values with an id attribute may follow it)"
                if self.multiref_siblings
                else ""
            )
        )

    def _operation(self, tag: object) -> MethodInfo:
        """The method a Body's element names: its local name, if the
        element is in one of :attr:`operation_namespaces`.

        :raises UnknownMethod: another namespace, or no such method.
        """
        found = self._operations.get(tag)
        if found is not None:
            return found  # PERF: a tag seen before
        if not isinstance(tag, str):
            return self.method(None)
        ns, _, name = tag[1:].partition("}") if tag[:1] == "{" else ("", "", tag)
        allowed = self.operation_namespaces
        if allowed is not None and ns not in allowed:
            where = f"in namespace {clip(ns)!r}" if ns else "in no namespace"
            raise UnknownMethod(
                f"Service {self.service.name} has no operation {clip(name, 60)!r} {where}; "
                f"its operation elements are in {self.operation_ns}"
            )
        m = self.method(param_name(name))
        if len(self._operations) < _NAMES_KEPT:  # bounded: spellings are the client's
            self._operations[tag] = m
        return m

    def _check_action_param(
        self, method: MethodInfo, action: str, addressing: Addressing | None
    ) -> None:
        """The ``action`` parameter of the media type (SOAP 1.2): equal to
        ``wsa:Action`` when both are sent (WS-Addressing SOAP binding), and
        not the action of another operation than the Body's. An action no
        operation declares is let pass, as clients sent any before
        WS-Addressing."""
        if addressing is not None:
            if addressing.action != action:
                raise ActionMismatch(
                    f"The action parameter of the Content-Type ({clip(action)!r}) is not "
                    f"the wsa:Action ({clip(addressing.action or '')!r}); they must be equal"
                )
            return  # wsa:Action is checked next
        if self._actions.get(action) == method.name:
            return  # PERF: the usual request, seen before
        naming, service = self.naming, self.service
        if naming.accepts_action(service, method, action):
            if len(self._actions) < _ACTIONS_KEPT:  # bounded: actions are the client's
                self._actions[action] = method.name
            return
        for other in service.methods.values():
            if other is not method and naming.accepts_action(service, other, action):
                raise OperationMismatch(
                    f"The action parameter of the Content-Type ({clip(action)!r}) is the "
                    f"action of {other.name}, but the Body calls {method.name}"
                )

    def _check_action(self, method: MethodInfo, addressing: Addressing) -> None:
        action = addressing.action or ""
        if not self.naming.accepts_action(self.service, method, action):
            raise ActionNotSupported(
                f"wsa:Action {clip(action)!r} is not the action of {method.name} "
                "(see the wsam:Action of its input in the WSDL)",
                action=action,
            )

    # -- answers --------------------------------------------------------------------

    def answer_header(self, call: Call) -> str:
        """The header blocks of the answer to ``call`` (WS-Addressing, with
        the reference parameters of its ``wsa:ReplyTo``)."""
        addressing = call.id
        if not isinstance(addressing, Addressing):
            return ""
        m = call.method
        action = self.naming.output_action(self.service, m, addressing.action or "")
        return addressing_header(addressing, action, addressing.reply_params)

    def fault_header(self, fault: ServiceFault, call: Call | None) -> str:
        """The header blocks of a fault answer (WS-Addressing): WS-Addressing's
        own faults carry its fault action, every other fault SOAP's; the
        reference parameters are the fault endpoint's (``wsa:FaultTo``, else
        ``wsa:ReplyTo``)."""
        addressing = addressing_of(fault, call)
        if addressing is None:
            return ""
        original = fault.original if isinstance(fault, RequestFault) else fault
        own = isinstance(original, AddressingFault)
        return addressing_header(
            addressing,
            WSA_ADDRESSING_FAULT_ACTION if own else WSA_FAULT_ACTION,
            addressing.fault_endpoint_params,
        )

    def encode_fault(self, fault: ServiceFault, call: Call | None) -> Payload:
        """A SOAP 1.1 fault, HTTP 500 (SOAP 1.1 section 6.2)."""
        payload = soap11_fault(fault, self.fault_header(fault, call))
        return self.xop_package(payload, []) if answers_xop(fault, call) else payload

    def respond(
        self,
        open_tag: str,
        close_tag: str,
        write_result: Callable[[list[str]], None],
        files: list[attachment] | None = None,
        header: str = "",
        xop: bool = False,
    ) -> Payload:
        """Wrap what ``write_result`` writes in the envelope and response element.

        :param files: the list ``write_result`` appends attachments to; when
            it is not empty afterwards the answer is an XOP package
            (``multipart/related``, one part per attachment).
        :param header: the answer's header blocks.
        :param xop: the answer is an XOP package even without attachments
            (the answer to an XOP request).
        """
        version = self.version
        out = [version.envelope_open(header) if header else version.opening, open_tag]
        try:
            write_result(out)
        except ResultError as exc:  # its path is the result's own: "[2].x"
            raise exc.within("result") from None
        except ValueError as exc:
            raise ServerFault(f"The result cannot be written as XML: {exc}") from None
        out.append(close_tag)
        out.append(version.envelope_close)
        try:
            envelope = "".join(out).encode("utf-8")
        except UnicodeEncodeError:
            raise ServerFault("The result cannot be written as XML: lone surrogates") from None
        if not files and not xop:
            return Payload(envelope, self.content_type)
        return self.xop_package(Payload(envelope, self.content_type), files or [])

    def simple_answer(
        self, call: Call, plain: object, open_tag: str, close_tag: str
    ) -> Payload | None:
        """PERF: the answer to a plain call (no WS-Addressing, no
        attachments, no XOP) whose result is an int or a str (see
        :func:`~ladon.interfaces._soapvalues.simple_text`), written in one
        piece; ``None`` for any other, which :meth:`respond` writes."""
        if call.id is not ABSENT or call.attachments is not None or call.__class__ is not Call:
            return None
        text = simple_text(call.method.rtype, plain)
        if text is None:
            return None
        version = self.version
        try:
            envelope = (
                f"{version.opening}{open_tag}<result>{text}</result>{close_tag}"
                f"{version.envelope_close}"
            ).encode()
        except UnicodeEncodeError:  # lone surrogates: respond() says so
            return None
        return Payload(envelope, self.content_type)

    def xop_package(self, payload: Payload, files: list[attachment]) -> Payload:
        """``payload`` (an envelope) as an XOP package: a ``multipart/related``
        whose root part is the envelope, then one part per attachment."""
        media = self.version.media_type
        stream = related_response(
            payload.body,
            f'application/xop+xml; charset=utf-8; type="{media}"',
            files,
            root_id="<rpc-part>",
            part_ids=lambda n: f"<{part_id(n)}>",
        )
        ctype = (
            'multipart/related; type="application/xop+xml"; start="<rpc-part>"; '
            f'start-info="{media}"; boundary={stream.boundary}'
        )
        return Payload(b"", ctype, payload.status, payload.headers, stream)


def soap11_fault(fault: ServiceFault, header: str = "") -> Payload:
    """A SOAP 1.1 fault envelope: ``faultcode`` (``SOAP-ENV:Client``,
    ``SOAP-ENV:Server``, another SOAP code, or a WS-Addressing fault's
    most specific code, its [Details] in a ``wsa:FaultDetail`` header
    block), ``faultstring`` and ``detail``; HTTP 500. Another fault's
    ``soap_subcode`` is SOAP 1.2's alone: SOAP 1.1 has no subcodes.

    .. versionadded:: 2.0
    """
    p = SOAP11.prefix
    original = fault.original if isinstance(fault, RequestFault) else fault
    subcode, soap_code = fault.soap_subcode, fault.soap_code
    if isinstance(original, AddressingFault):
        # WS-Addressing SOAP binding 6: SOAP 1.1 has no subcodes, the most
        # specific one is the faultcode (wsa:OnlyAnonymousAddressSupported,
        # not wsa:InvalidAddressingHeader), and the [Details] go in a
        # wsa:FaultDetail header block (SOAP 1.1's detail is the Body's)
        code, decl = qname_markup(original.specific_code, "c")
        details = original.details()
        if details:
            header += f'<wsa:FaultDetail xmlns:wsa="{WSA}">{details}</wsa:FaultDetail>'
    elif soap_code is None and subcode is not None and subcode.startswith(_WSA_CODE):
        # another fault with a WS-Addressing subcode: the code, as above
        code, decl = qname_markup(subcode, "c")
    elif soap_code is not None and soap_code.startswith("{"):
        # a code of another namespace, e.g. WS-Security's wsse:FailedAuthentication
        namespace = soap_code[1:].partition("}")[0]
        code, decl = qname_markup(soap_code, FAULT_PREFIXES.get(namespace, "fc"))
    else:
        code, decl = f"{p}:{soap_code or ('Client' if fault.is_client else 'Server')}", ""
    detail = fault.detail or ""
    if fault.hint:
        detail = f"{detail}\n{fault.hint}" if detail else fault.hint
    parts = [
        SOAP11.envelope_open(header),
        f"<{p}:Fault><faultcode{decl}>{code}</faultcode>",
        f"<faultstring>{escape(xml_safe(fault.faultstring))}</faultstring>",
    ]
    if detail:
        parts.append(f"<detail>{escape(xml_safe(detail))}</detail>")
    parts.append(f"</{p}:Fault>" + SOAP11.envelope_close)
    return Payload("".join(parts).encode("utf-8"), SOAP11.content_type, 500)


_WSA_CODE = "{" + WSA + "}"


#: What may follow a media type in a Content-Type: its end, or its parameters.
_TYPE_ENDS = frozenset({"", ";", " ", "\t"})


def _text_plan(m: MethodInfo) -> tuple[tuple[str, object], ...] | None:
    """A method's parameters as (name, kind) when each is an ``int``, a
    ``str`` or a list of either, read as SOAP reads them (not strictly);
    else ``None``. The kind is ``int``, ``str``, :data:`_INTS` or
    :data:`_STRS`."""
    if m.options.strict:
        return None
    plan: list[tuple[str, object]] = []
    for p in m.params:
        spec = p.type
        if spec is int or spec is str:
            plan.append((p.name, spec))
        elif spec == _INTS or spec == _STRS:  # a list as such: no constraint, not nullable
            plan.append((p.name, _INTS if spec == _INTS else _STRS))
        else:
            return None
    return tuple(plan)


_INTS = ListOf(int)
_STRS = ListOf(str)


class SOAPInterface(SOAPBase):
    """The ``soap`` interface: SOAP 1.1 document/literal wrapped.

    .. versionadded:: 2.0
    """

    name: ClassVar[str] = "soap"
    accepts_attachments: ClassVar[bool] = True

    def __init__(self, service: ServiceInfo, *, debug: bool = False) -> None:
        super().__init__(service, debug=debug)
        #: method name -> its response element's tags, the prefix of its
        #: array items and whether its result is flattened (made once)
        self._shapes: dict[str, tuple[str, str, str, bool]] = {}

    def _shape(self, m: MethodInfo) -> tuple[str, str, str, bool]:
        naming = self.naming
        if naming.python:
            ns = escape(naming.wrapper_ns(self.service)).replace('"', "&quot;")
            open_tag, prefix = f'<{m.name}Response xmlns="{ns}">', ""
        else:
            open_tag = f'<{m.name}Response xmlns="{TEMPURI}" xmlns:arr="{ARRAYS_NS}">'
            prefix = "arr:"
        shape = self._shapes[m.name] = (open_tag, f"</{m.name}Response>", prefix, flattened(m))
        return shape

    def encode_result(self, call: Call, result: object) -> Payload:
        plain = self.dump_result(call, result)
        m = call.method
        rtype = m.rtype
        python = self.naming.python
        open_tag, close_tag, prefix, flat = self._shapes.get(m.name) or self._shape(m)
        if not flat:
            simple = self.simple_answer(call, plain, open_tag, close_tag)
            if simple is not None:
                return simple
        # Attachments go in MIME parts when the client sent parts itself,
        # else inline as base64 (what the WSDL's base64Binary says).
        files: list[attachment] | None = [] if call.multipart else None

        def write_result(out: list[str]) -> None:
            if flat:
                # Ladon 1.0 wire shape: the fields sit directly in MResponse.
                write_fields(out, rtype, plain, "", prefix, files, python)  # type: ignore[arg-type]
            elif plain is not None or not is_ladontype(rtype):
                write(out, "result", rtype, plain, prefix, files, python)
            # else: a nullable LadonType result that is None is left out

        header = self.answer_header(call) if call.id is not ABSENT else ""
        xop = isinstance(call, XOPCall)
        return self.respond(open_tag, close_tag, write_result, files, header, xop)

    def describe(self, base_url: str, query: Mapping[str, str]) -> Payload:
        return Payload(
            document_literal_wsdl(self.service, self.endpoint_url(base_url), self.naming),
            self.content_type,
        )
