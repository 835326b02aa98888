"""SOAP 1.1, document/literal wrapped (``soap``, alias ``soapdocumentliteral``),
and what every SOAP interface shares (:class:`SOAPBase`).

Requests: a SOAP envelope of the interface's version; namespace prefixes
are ignored, the first element of the Body names the method and its
children are the arguments. Header blocks marked ``mustUnderstand`` must
be ones Ladon reads (WS-Addressing, ``wsse:Security``, and what the
application adds); WS-Addressing 1.0 headers are answered with
``wsa:Action``, ``wsa:MessageID`` and ``wsa:RelatesTo``.

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
from typing import Any
from typing import ClassVar

from lxml import etree

from ..exceptions.service import ArgumentError
from ..exceptions.service import MalformedRequest
from ..exceptions.service import ResultError
from ..exceptions.service import ServerFault
from ..exceptions.service import ServiceFault
from ..ladonizer.model import MethodInfo
from ..ladonizer.model import ServiceInfo
from ..types.attachment import attachment
from ..types.spec import ListOf
from ..types.spec import is_ladontype
from ..wire.multipart import related_response
from ..wire.schema import ARRAYS_NS
from ..wire.schema import FAULT_PREFIXES
from ..wire.schema import TEMPURI
from ..wire.schema import WSA_FAULT_ACTION
from ..wire.xml import escape
from ..wire.xml import local
from ..wire.xml import parse_xml
from ..wire.xml import xml_safe
from ._json import charset_of
from ._soapenv import SOAP11
from ._soapenv import UNDERSTOOD_HEADERS
from ._soapenv import ActionNotSupported
from ._soapenv import Addressing
from ._soapenv import MustUnderstand
from ._soapenv import SOAPVersion
from ._soapenv import VersionMismatch as VersionMismatch
from ._soapenv import addressing_header
from ._soapenv import not_understood
from ._soapenv import qname_markup
from ._soapenv import read_addressing
from ._soapnames import NAMINGS
from ._soapnames import PYTHON
from ._soapnames import SOAPNaming
from ._soapvalues import param_name
from ._soapvalues import part_id
from ._soapvalues import to_plain
from ._soapvalues import write
from ._soapvalues import write_fields
from .base import ABSENT
from .base import Call
from .base import Interface
from .base import Payload
from .base import RequestFault
from .base import WireRequest
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
        version = self.version
        root = parse_xml(request.body, charset_of(request.content_type))
        if root.tag != version.envelope_tag:
            if local(root.tag) != "Envelope":
                raise MalformedRequest("The request is not a SOAP envelope")
            received = etree.QName(root).namespace
            raise VersionMismatch(
                f"Expected a SOAP {version.name} envelope (namespace {version.env}), "
                f"got namespace {received!r}",
                received,
            )
        # PERF: a loop over the (one or two) children beats find(), which
        # parses its path on every call.
        header = body_el = None
        body_tag = version.body_tag
        for child in root:
            tag = child.tag
            if tag == body_tag:
                body_el = child
            elif tag == version.header_tag:
                header = child
        if header is None or not len(header):  # PERF: the plain case
            return self._decode_body(body_el, request, (), None)
        blocks = tuple(c for c in header if isinstance(c.tag, str))
        addressing = read_addressing(blocks)
        try:
            missed = not_understood(blocks, version, self.understood_headers)
            if missed:
                raise MustUnderstand(missed)
            return self._decode_body(body_el, request, blocks, addressing)
        except ServiceFault as fault:
            if addressing is None:
                raise
            raise RequestFault(fault, id=addressing) from None

    def _decode_body(
        self,
        body_el: etree._Element | None,
        request: WireRequest,
        blocks: tuple[etree._Element, ...],
        addressing: Addressing | None,
    ) -> Call:
        if body_el is None:
            raise MalformedRequest("The SOAP envelope has no Body")
        if not len(body_el):  # comments and PIs are gone: children are elements
            raise MalformedRequest("The SOAP Body is empty; expected a method element")
        method_el = body_el[0]
        m = self.method(param_name(method_el.tag))
        if addressing is not None:
            self._check_action(m, addressing)
        params = m.params_by_name
        values: dict[str, Any] = {}
        for c in method_el:
            name = param_name(c.tag)
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
                if isinstance(c.tag, str):
                    values[name] = None  # reported as an unknown parameter
                continue
            values[name] = to_plain(c, spec, name)
        attachments = request.attachments
        return Call(
            m,
            self.bind_named(m, values, attachments),
            id=ABSENT if addressing is None else addressing,
            attachments=attachments,
            header_blocks=blocks,
        )

    def _check_action(self, method: MethodInfo, addressing: Addressing) -> None:
        action = addressing.action or ""
        if not self.naming.accepts_action(self.service, method, action):
            shown = action if len(action) <= 200 else action[:197] + "..."
            raise ActionNotSupported(
                f"wsa:Action {shown!r} is not the action of {method.name} "
                "(see the wsam:Action of its input in the WSDL)"
            )

    # -- answers --------------------------------------------------------------------

    def answer_header(self, call: Call) -> str:
        """The header blocks of the answer to ``call`` (WS-Addressing)."""
        addressing = call.id
        if not isinstance(addressing, Addressing):
            return ""
        m = call.method
        action = self.naming.output_action(self.service, m, addressing.action or "")
        return addressing_header(addressing, action)

    def fault_header(self, fault: ServiceFault, call: Call | None) -> str:
        """The header blocks of a fault answer (WS-Addressing)."""
        addressing = addressing_of(fault, call)
        if addressing is None:
            return ""
        return addressing_header(addressing, WSA_FAULT_ACTION)

    def encode_fault(self, fault: ServiceFault, call: Call | None) -> Payload:
        """A SOAP 1.1 fault, HTTP 500 (SOAP 1.1 section 6.2)."""
        return soap11_fault(fault, self.fault_header(fault, call))

    def respond(
        self,
        open_tag: str,
        close_tag: str,
        write_result: Callable[[list[str]], None],
        files: list[attachment] | None = None,
        header: str = "",
    ) -> Payload:
        """Wrap what ``write_result`` writes in the envelope and response element.

        :param files: the list ``write_result`` appends attachments to; when
            it is not empty afterwards the answer is an XOP package
            (``multipart/related``, one part per attachment).
        :param header: the answer's header blocks.
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
        if not files:
            return Payload(envelope, self.content_type)
        media = version.media_type
        stream = related_response(
            envelope,
            f'application/xop+xml; charset=utf-8; type="{media}"',
            files,
            root_id="<rpc-part>",
            part_ids=lambda n: f"<{part_id(n)}>",
        )
        ctype = (
            'multipart/related; type="application/xop+xml"; start="<rpc-part>"; '
            f'start-info="{media}"; boundary={stream.boundary}'
        )
        return Payload(b"", ctype, stream=stream)


def soap11_fault(fault: ServiceFault, header: str = "") -> Payload:
    """A SOAP 1.1 fault envelope: ``faultcode`` (``SOAP-ENV:Client``,
    ``SOAP-ENV:Server``, another SOAP code, or a WS-Addressing fault's
    own), ``faultstring`` and ``detail``; HTTP 500.

    .. versionadded:: 2.0
    """
    p = SOAP11.prefix
    subcode, soap_code = fault.soap_subcode, fault.soap_code
    if subcode is not None and soap_code is None:
        # WS-Addressing SOAP binding 6.4: on SOAP 1.1 the subcode is the code
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
        return self.respond(open_tag, close_tag, write_result, files, header)

    def describe(self, base_url: str, query: Mapping[str, str]) -> Payload:
        return Payload(
            document_literal_wsdl(self.service, self.endpoint_url(base_url), self.naming),
            self.content_type,
        )
