"""SOAP 1.1, document/literal wrapped (``soap``, alias ``soapdocumentliteral``).

Requests: any SOAP 1.1 envelope; namespace prefixes are ignored, the first
element of the Body names the method and its children are the arguments.
Responses keep Ladon 1.0's shape: ``<MResponse xmlns="http://tempuri.org/">``
holding ``<result>`` (or, for a LadonType result, its fields directly); list
items and type fields are in the ``Arrays`` namespace, as the WSDL says.
Faults are HTTP 500 with ``SOAP-ENV:Client`` / ``SOAP-ENV:Server`` codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import ClassVar

from lxml import etree

from ..exceptions.service import ClientFault
from ..exceptions.service import MalformedRequest
from ..exceptions.service import ServerFault
from ..exceptions.service import ServiceFault
from ..types.ladontype import LadonType
from ._xml import XSD
from ._xml import XSI
from ._xml import local
from ._xml import parse_xml
from ._xml import py_name
from ._xml import to_plain
from ._xml import write
from ._xml import write_fields
from .base import Call
from .base import Interface
from .base import Payload

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_ENC = "http://schemas.xmlsoap.org/soap/encoding/"
TEMPURI = "http://tempuri.org/"
ARRAYS_NS = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"
_ENVELOPE_NSMAP = {"SOAP-ENV": SOAP_ENV, "xsi": XSI, "xsd": XSD}
# Items and type fields live in the Arrays namespace: declared once per response.
_RESPONSE_NSMAP = {None: TEMPURI, "arr": ARRAYS_NS}


class VersionMismatch(ClientFault):
    """The envelope is not a SOAP 1.1 envelope (SOAP 1.1 section 4.4.1)."""

    soap_code: ClassVar[str] = "VersionMismatch"


class SOAPBase(Interface):
    """What both SOAP flavours share: request parsing and faults."""

    content_type: ClassVar[str] = "text/xml; charset=utf-8"

    def decode_call(self, body: bytes, headers: Mapping[str, str]) -> Call:
        root = parse_xml(body)
        if local(root.tag) != "Envelope":
            raise MalformedRequest("The request is not a SOAP envelope")
        if etree.QName(root).namespace != SOAP_ENV:
            raise VersionMismatch(
                f"Expected a SOAP 1.1 envelope (namespace {SOAP_ENV}), "
                f"got namespace {etree.QName(root).namespace!r}"
            )
        body_el = root.find(f"{{{SOAP_ENV}}}Body")
        if body_el is None:
            raise MalformedRequest("The SOAP envelope has no Body")
        method_el = next((c for c in body_el if isinstance(c.tag, str)), None)
        if method_el is None:
            raise MalformedRequest("The SOAP Body is empty; expected a method element")
        m = self.method(py_name(local(method_el.tag)))
        types = {p.name: p.type for p in m.params}
        values: dict[str, Any] = {}
        for c in method_el:
            name = py_name(local(c.tag))
            spec = types.get(name)
            if spec is None:
                if isinstance(c.tag, str):
                    values[name] = None  # reported as an unknown parameter
                continue
            values[name] = to_plain(c, spec)
        return Call(m, self.bind_named(m, values))

    def encode_fault(self, fault: ServiceFault, call: Call | None) -> Payload:
        code = getattr(fault, "soap_code", None) or ("Client" if fault.is_client else "Server")
        env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"SOAP-ENV": SOAP_ENV})
        f = etree.SubElement(etree.SubElement(env, f"{{{SOAP_ENV}}}Body"), f"{{{SOAP_ENV}}}Fault")
        etree.SubElement(f, "faultcode").text = f"SOAP-ENV:{code}"
        etree.SubElement(f, "faultstring").text = _xml_safe(fault.faultstring)
        detail = fault.detail or ""
        if fault.hint:
            detail = f"{detail}\n{fault.hint}" if detail else fault.hint
        if detail:
            etree.SubElement(f, "detail").text = _xml_safe(detail)
        return Payload(_serialize(env), self.content_type, 500)

    def envelope(self) -> tuple[etree._Element, etree._Element]:
        env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap=_ENVELOPE_NSMAP)
        return env, etree.SubElement(env, f"{{{SOAP_ENV}}}Body")

    def result_payload(self, env: etree._Element) -> Payload:
        try:
            return Payload(_serialize(env), self.content_type)
        except ValueError as exc:  # pragma: no cover - caught earlier by _check_text
            raise ServerFault(f"The result cannot be written as XML: {exc}") from None


def _serialize(el: etree._Element) -> bytes:
    return bytes(etree.tostring(el, xml_declaration=True, encoding="UTF-8"))


def _xml_safe(text: str) -> str:
    """Drop characters XML 1.0 cannot carry (fault texts must always serialise)."""
    return "".join(
        ch
        for ch in text
        if ch in "\t\n\r"
        or (" " <= ch <= "\ud7ff")
        or ("\ue000" <= ch <= "\ufffd")
        or ch > "\uffff"
    )


class SOAPInterface(SOAPBase):
    """The ``soap`` interface: SOAP 1.1 document/literal wrapped.

    .. versionadded:: 2.0
    """

    name: ClassVar[str] = "soap"

    def encode_result(self, call: Call, result: object) -> Payload:
        plain = self.dump_result(call, result)
        env, body = self.envelope()
        m = call.method
        resp = etree.SubElement(body, f"{{{TEMPURI}}}{m.name}Response", nsmap=_RESPONSE_NSMAP)  # type: ignore[arg-type]
        rtype = m.rtype
        try:
            if isinstance(rtype, type) and issubclass(rtype, LadonType) and plain is not None:
                # Ladon 1.0 wire shape: the fields sit directly in MResponse.
                write_fields(resp, rtype, plain, f"{{{TEMPURI}}}", ARRAYS_NS)
            else:
                write(resp, f"{{{TEMPURI}}}result", rtype, plain, ARRAYS_NS)
        except ValueError as exc:
            raise ServerFault(f"The result cannot be written as XML: {_reason(exc)}") from None
        return self.result_payload(env)

    def describe(self, base_url: str, query: Mapping[str, str]) -> Payload:
        from .wsdl import document_literal_wsdl

        return Payload(
            document_literal_wsdl(self.service, self.endpoint_url(base_url)), self.content_type
        )


def _reason(exc: ValueError) -> str:
    text = str(exc)
    if "XML compatible" in text:
        return "it contains characters that XML cannot carry"
    return text
