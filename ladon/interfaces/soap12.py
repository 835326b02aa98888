"""SOAP 1.2, document/literal wrapped (``soap12``).

Requests: a SOAP 1.2 envelope, usually sent as ``application/soap+xml;
charset=utf-8; action="..."`` (the action may also come as a
WS-Addressing ``wsa:Action`` header, which must then name the operation
and equal the ``action`` parameter when both are sent; an ``action``
parameter naming another operation than the Body's is refused); the
Body's one element, in the service's namespace, names the method and its
children are the arguments. The envelope is read as SOAP 1.2 says, where
``soap`` is lenient for Ladon 1.0's clients: a ``charset`` Python does not
know, elements beside one Header and one Body, a ``mustUnderstand`` that
is not an ``xs:boolean`` are Sender faults. Attachments come as MTOM/XOP packages
(``multipart/related; type="application/xop+xml"``, ``xop:Include`` in the
envelope) or inline as base64; the answer to an XOP package is one.

Responses: ``<MResponse xmlns="<service namespace>"><result>...``, Python
names as they are (``task_id``), types in the service's namespace (see
:mod:`ladon.interfaces._soapnames`).

Faults (SOAP 1.2 part 1, 5.4): ``env:Code`` with ``env:Sender`` or
``env:Receiver`` and a subcode naming Ladon's fault (``ladon:ArgumentError``
in ``urn:ladon:faults``) or a WS-Addressing fault, ``env:Reason/env:Text
xml:lang="en"``, ``env:Detail``; HTTP 400 for Sender faults and 500 for the
others, as the SOAP 1.2 HTTP binding says (HTTP 415 for a SOAP 1.2 envelope
sent as another media type than ``application/soap+xml``). A SOAP 1.1 envelope gets a SOAP
1.1 ``VersionMismatch`` fault (any other root than ``env:Envelope`` a SOAP
1.2 one) with an ``env:Upgrade`` header naming SOAP
1.2 (part 1, appendix A); header blocks marked ``mustUnderstand`` that no
part of Ladon reads get ``env:MustUnderstand`` with an ``env:NotUnderstood``
header per block.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from typing import ClassVar

from ..exceptions.service import ServiceFault
from ..ladonizer.model import ServiceInfo
from ..types.attachment import attachment
from ..types.spec import is_ladontype
from ..wire.schema import LADON_FAULTS
from ..wire.schema import SOAP12_ENV
from ..wire.schema import SOAP_ENV
from ..wire.schema import WSSE
from ..wire.xml import escape
from ..wire.xml import xml_safe
from ._soapenv import SOAP12
from ._soapenv import AddressingFault
from ._soapenv import MustUnderstand
from ._soapenv import VersionMismatch
from ._soapenv import qname_markup
from ._soapnames import SOAPNaming
from ._soapvalues import write
from .base import ABSENT
from .base import Call
from .base import Payload
from .base import RequestFault
from .soap import SOAPBase
from .soap import XOPCall
from .soap import answers_xop
from .soap import soap11_fault
from .wsdl import document_literal_wsdl

#: SOAP 1.1 fault code names as SOAP 1.2 says them.
_CODES = {"Client": "Sender", "Server": "Receiver"}

#: Statuses a SOAP 1.2 fault keeps: the HTTP binding's own (400, 500) and
#: those about the HTTP exchange rather than the message (authentication,
#: method, size, media type, load); any other becomes 400 or 500.
_HTTP_STATUSES = frozenset({400, 401, 403, 405, 411, 413, 415, 429, 500, 503})

#: The ``env:Upgrade`` header block: this node speaks SOAP 1.2.
UPGRADE = (
    f'<env:Upgrade xmlns:env="{SOAP12_ENV}">'
    f'<env:SupportedEnvelope qname="env:Envelope"/></env:Upgrade>'
)


def ladon_subcode(fault: ServiceFault) -> str:
    """Ladon's subcode of a fault: ``{urn:ladon:faults}<class>``, the class
    being the fault's own when Ladon defines it, else the Ladon class it
    derives from (a service's ``class QuotaExceeded(ClientFault)`` gives
    ``ClientFault``).

    .. versionadded:: 2.0
    """
    for cls in type(fault).__mro__:
        if cls.__module__.split(".")[0] == "ladon":
            return f"{{{LADON_FAULTS}}}{cls.__name__}"
    return f"{{{LADON_FAULTS}}}{'ClientFault' if fault.is_client else 'ServerFault'}"


class SOAP12Interface(SOAPBase):
    """The ``soap12`` interface: SOAP 1.2 document/literal wrapped.

    .. versionadded:: 2.0
    """

    name: ClassVar[str] = "soap12"
    version = SOAP12
    content_type: ClassVar[str] = SOAP12.content_type
    naming: ClassVar[SOAPNaming] = SOAPNaming(python=True)
    accepts_attachments: ClassVar[bool] = True

    @classmethod
    def configured(
        cls, *, naming: str | None = None, understood_headers: Iterable[str] = ()
    ) -> type[SOAPBase]:
        """As :meth:`SOAPBase.configured`, but the naming stays the Python one."""
        return super().configured(naming=None, understood_headers=understood_headers)

    def __init__(self, service: ServiceInfo, *, debug: bool = False) -> None:
        super().__init__(service, debug=debug)
        #: method name -> the open and close tags of its response element
        self._tags: dict[str, tuple[str, str]] = {}

    def encode_result(self, call: Call, result: object) -> Payload:
        plain = self.dump_result(call, result)
        m = call.method
        tags = self._tags.get(m.name)
        if tags is None:  # once per method
            ns = escape(self.service.namespace).replace('"', "&quot;")
            tags = self._tags[m.name] = (f'<{m.name}Response xmlns="{ns}">', f"</{m.name}Response>")
        simple = self.simple_answer(call, plain, tags[0], tags[1])
        if simple is not None:
            return simple
        files: list[attachment] | None = [] if call.multipart else None

        def write_result(out: list[str]) -> None:
            if plain is None and is_ladontype(m.rtype):
                return  # a nullable object that is None is left out: clients read None
            write(out, "result", m.rtype, plain, "", files, True)

        header = self.answer_header(call) if call.id is not ABSENT else ""
        xop = isinstance(call, XOPCall)
        return self.respond(tags[0], tags[1], write_result, files, header, xop)

    def encode_fault(self, fault: ServiceFault, call: Call | None) -> Payload:
        original = fault.original if isinstance(fault, RequestFault) else fault
        if isinstance(original, VersionMismatch) and original.received == SOAP_ENV:
            # SOAP 1.2 part 1, appendix A: a SOAP 1.1 fault, offering 1.2
            return soap11_fault(fault, UPGRADE)
        header = self.fault_header(fault, call)
        side = "Client" if fault.is_client else "Server"
        subcode = fault.soap_subcode
        code = fault.soap_code or side
        if code.startswith("{"):
            # a code of another namespace (WS-Security's wsse:FailedAuthentication...):
            # SOAP 1.2 puts it under Sender or Receiver, as a subcode
            code, subcode = side, code
        code = _CODES.get(code, code)
        if isinstance(original, MustUnderstand):
            for n, name in enumerate(original.headers):
                qname, decl = qname_markup(name, f"h{n}")
                header += f'<env:NotUnderstood qname="{qname}"{decl}/>'
        elif isinstance(original, VersionMismatch):
            header += UPGRADE
        parts = [
            SOAP12.envelope_open(header),
            f"<env:Fault><env:Code><env:Value>env:{code}</env:Value>",
        ]
        if code in ("Sender", "Receiver"):
            prefix = "wsse" if subcode is not None and subcode.startswith("{" + WSSE) else "c"
            subcode, decl = qname_markup(subcode or ladon_subcode(original), prefix)
            parts.append(f"<env:Subcode><env:Value{decl}>{subcode}</env:Value>")
            if isinstance(original, AddressingFault) and original.subsubcode:
                # e.g. wsa:InvalidAddressingHeader / wsa:ActionMismatch (WS-Addressing
                # SOAP binding 6.4.1), in the subcode's namespace
                name = f"{prefix}:{original.subsubcode}" if decl else original.subsubcode
                parts.append(f"<env:Subcode><env:Value{decl}>{name}</env:Value></env:Subcode>")
            parts.append("</env:Subcode>")
        parts.append(
            "</env:Code><env:Reason>"
            f'<env:Text xml:lang="en">{escape(xml_safe(fault.faultstring))}</env:Text>'
            "</env:Reason>"
        )
        # a WS-Addressing fault's [Details] (wsa:ProblemHeaderQName, SOAP binding 6.4)
        details = original.details() if isinstance(original, AddressingFault) else ""
        if fault.detail or fault.hint or details:
            parts.append(f'<env:Detail xmlns:ladon="{LADON_FAULTS}">{details}')
            if fault.detail:
                parts.append(f"<ladon:detail>{escape(xml_safe(fault.detail))}</ladon:detail>")
            if fault.hint:
                parts.append(f"<ladon:hint>{escape(xml_safe(fault.hint))}</ladon:hint>")
            parts.append("</env:Detail>")
        parts.append("</env:Fault>" + SOAP12.envelope_close)
        status = fault.http_status
        if status in (401, 403) and not fault.http_level:
            # a refusal in an application whose only authenticator is
            # WS-Security: a plain SOAP fault, as on SOAP 1.1 (no HTTP
            # challenge to answer it with)
            status = None
        if status not in _HTTP_STATUSES:
            # SOAP 1.2 part 2, 7.5.2.2: 400 for env:Sender, 500 for the rest;
            # a status of the application's (422 for a reused
            # Idempotency-Key...) is one the SOAP binding does not know
            status = 400 if code == "Sender" else 500
        payload = Payload("".join(parts).encode("utf-8"), self.content_type, status)
        return self.xop_package(payload, []) if answers_xop(fault, call) else payload

    def describe(self, base_url: str, query: Mapping[str, str]) -> Payload:
        wsdl = document_literal_wsdl(
            self.service, self.endpoint_url(base_url), self.naming, soap12=True
        )
        return Payload(wsdl, "text/xml; charset=utf-8")
