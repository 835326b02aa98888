"""SOAP 1.1, document/literal wrapped (``soap``, alias ``soapdocumentliteral``).

Requests: any SOAP 1.1 envelope; namespace prefixes are ignored, the first
element of the Body names the method and its children are the arguments.
Responses keep Ladon 1.0's shape: ``<MResponse xmlns="http://tempuri.org/">``
holding ``<result>`` (or, for a LadonType result, its fields directly); list
items and type fields are in the ``Arrays`` namespace, as the WSDL says.
Faults are HTTP 500 with ``SOAP-ENV:Client`` / ``SOAP-ENV:Server`` codes.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from typing import ClassVar

from lxml import etree

from ..exceptions.service import ArgumentError
from ..exceptions.service import ClientFault
from ..exceptions.service import MalformedRequest
from ..exceptions.service import ServerFault
from ..exceptions.service import ServiceFault
from ..types.attachment import attachment
from ..types.ladontype import LadonType
from ..types.spec import ListOf
from ..wire.multipart import related_response
from ..wire.schema import ARRAYS_NS
from ..wire.schema import FAULT_PREFIXES
from ..wire.schema import SOAP_ENV
from ..wire.schema import TEMPURI
from ..wire.schema import XSD
from ..wire.schema import XSI
from ..wire.xml import escape
from ..wire.xml import local
from ..wire.xml import parse_xml
from ..wire.xml import xml_safe
from ._soapvalues import param_name
from ._soapvalues import part_id
from ._soapvalues import to_plain
from ._soapvalues import write
from ._soapvalues import write_fields
from .base import Call
from .base import Interface
from .base import Payload
from .base import WireRequest
from .wsdl import document_literal_wsdl


class VersionMismatch(ClientFault):
    """The envelope is not a SOAP 1.1 envelope (SOAP 1.1 section 4.4.1)."""

    soap_code: str | None = "VersionMismatch"


_ENVELOPE_START = (
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV}" xmlns:xsi="{XSI}" xmlns:xsd="{XSD}">'
    "<SOAP-ENV:Body>"
)
_ENVELOPE_END = "</SOAP-ENV:Body></SOAP-ENV:Envelope>"
_ENVELOPE_TAG = f"{{{SOAP_ENV}}}Envelope"
_BODY_TAG = f"{{{SOAP_ENV}}}Body"
_HEADER_TAG = f"{{{SOAP_ENV}}}Header"


def _parts_of(envelope: etree._Element) -> tuple[etree._Element | None, etree._Element | None]:
    """The envelope's Header (or ``None``) and Body (or ``None``)."""
    # PERF: a loop over the (one or two) children beats find(), which parses
    # its path on every call.
    header = body = None
    for child in envelope:
        if child.tag == _BODY_TAG:
            body = child
        elif child.tag == _HEADER_TAG:
            header = child
    return header, body


def fault_code(fault: ServiceFault) -> str:
    """The ``<faultcode>`` element of a fault: ``SOAP-ENV:Client`` or
    ``SOAP-ENV:Server``, the envelope's ``SOAP-ENV:<soap_code>``, or a code
    of another namespace (``{ns}name`` in :attr:`~ServiceFault.soap_code`,
    e.g. WS-Security's ``wsse:FailedAuthentication``) with its namespace
    declared on the element.

    .. versionadded:: 2.0
    """
    code = fault.soap_code or ("Client" if fault.is_client else "Server")
    if code.startswith("{"):
        namespace, _, name = code[1:].partition("}")
        prefix = FAULT_PREFIXES.get(namespace, "fc")
        return (
            f'<faultcode xmlns:{prefix}="{escape(namespace)}">{prefix}:{escape(name)}</faultcode>'
        )
    return f"<faultcode>SOAP-ENV:{code}</faultcode>"


class SOAPBase(Interface):
    """What both SOAP flavours share: request parsing and faults."""

    content_type: ClassVar[str] = "text/xml; charset=utf-8"

    def decode_call(self, request: WireRequest) -> Call:
        root = parse_xml(request.body)
        if root.tag != _ENVELOPE_TAG:
            if local(root.tag) != "Envelope":
                raise MalformedRequest("The request is not a SOAP envelope")
            raise VersionMismatch(
                f"Expected a SOAP 1.1 envelope (namespace {SOAP_ENV}), "
                f"got namespace {etree.QName(root).namespace!r}"
            )
        header, body_el = _parts_of(root)
        if body_el is None:
            raise MalformedRequest("The SOAP envelope has no Body")
        if not len(body_el):  # comments and PIs are gone: children are elements
            raise MalformedRequest("The SOAP Body is empty; expected a method element")
        method_el = body_el[0]
        m = self.method(param_name(method_el.tag))
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
        blocks = () if header is None else tuple(c for c in header if isinstance(c.tag, str))
        return Call(
            m,
            self.bind_named(m, values, attachments),
            attachments=attachments,
            header_blocks=blocks,
        )

    def encode_fault(self, fault: ServiceFault, call: Call | None) -> Payload:
        detail = fault.detail or ""
        if fault.hint:
            detail = f"{detail}\n{fault.hint}" if detail else fault.hint
        parts = [
            _ENVELOPE_START,
            f"<SOAP-ENV:Fault>{fault_code(fault)}",
            f"<faultstring>{escape(xml_safe(fault.faultstring))}</faultstring>",
        ]
        if detail:
            parts.append(f"<detail>{escape(xml_safe(detail))}</detail>")
        parts.append("</SOAP-ENV:Fault>" + _ENVELOPE_END)
        return Payload("".join(parts).encode("utf-8"), self.content_type, 500)

    def respond(
        self,
        open_tag: str,
        close_tag: str,
        write_result: Callable[[list[str]], None],
        files: list[attachment] | None = None,
    ) -> Payload:
        """Wrap what ``write_result`` writes in the envelope and response element.

        :param files: the list ``write_result`` appends attachments to; when
            it is not empty afterwards the answer is an XOP package
            (``multipart/related``, one part per attachment).
        """
        out = [_ENVELOPE_START, open_tag]
        try:
            write_result(out)
        except ValueError as exc:
            raise ServerFault(f"The result cannot be written as XML: {exc}") from None
        out.append(close_tag)
        out.append(_ENVELOPE_END)
        try:
            envelope = "".join(out).encode("utf-8")
        except UnicodeEncodeError:
            raise ServerFault("The result cannot be written as XML: lone surrogates") from None
        if not files:
            return Payload(envelope, self.content_type)
        stream = related_response(
            envelope,
            'application/xop+xml; charset=utf-8; type="text/xml"',
            files,
            root_id="<rpc-part>",
            part_ids=lambda n: f"<{part_id(n)}>",
        )
        ctype = (
            'multipart/related; type="application/xop+xml"; start="<rpc-part>"; '
            f'start-info="text/xml"; boundary={stream.boundary}'
        )
        return Payload(b"", ctype, stream=stream)


class SOAPInterface(SOAPBase):
    """The ``soap`` interface: SOAP 1.1 document/literal wrapped.

    .. versionadded:: 2.0
    """

    name: ClassVar[str] = "soap"
    accepts_attachments: ClassVar[bool] = True

    def encode_result(self, call: Call, result: object) -> Payload:
        plain = self.dump_result(call, result)
        m = call.method
        rtype = m.rtype
        open_tag = f'<{m.name}Response xmlns="{TEMPURI}" xmlns:arr="{ARRAYS_NS}">'
        # Attachments go in MIME parts when the client sent parts itself,
        # else inline as base64 (what the WSDL's base64Binary says).
        files: list[attachment] | None = [] if call.multipart else None

        def write_result(out: list[str]) -> None:
            if isinstance(rtype, type) and issubclass(rtype, LadonType) and plain is not None:
                # Ladon 1.0 wire shape: the fields sit directly in MResponse.
                write_fields(out, rtype, plain, "", "arr:", files)
            else:
                write(out, "result", rtype, plain, "arr:", files)

        return self.respond(open_tag, f"</{m.name}Response>", write_result, files)

    def describe(self, base_url: str, query: Mapping[str, str]) -> Payload:
        return Payload(
            document_literal_wsdl(self.service, self.endpoint_url(base_url)), self.content_type
        )
