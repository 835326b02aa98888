"""SOAP 1.1, rpc/encoded (``soap11``), as Ladon 1.0 served it.

Same requests and faults as :mod:`ladon.interfaces.soap`, but the
operation element is in the namespace the binding's ``soap:body`` names,
and SOAP encoding's multi-reference values (elements with an ``id``) may
follow it in the Body. The response element is ``ns:MResponse`` (``ns`` =
``urn:<Service>``, or the service's namespace with
``soap_naming="python"``) and the result is always wrapped in an
unqualified ``<result>``. Every value carries its ``xsi:type``
(``xsd:long``, ``ns:Point``, ``ns:ArrayOfint``...), as SOAP encoding
expects: encoded clients (PHP's SoapClient, Node's ``soap``) then read
numbers and booleans as such, not as strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from ..types.spec import is_ladontype
from ..wire.xml import escape
from ._soapvalues import write
from .base import ABSENT
from .base import Call
from .base import Payload
from .soap import SOAPBase
from .wsdl import rpc_wsdl


class SOAP11Interface(SOAPBase):
    """The ``soap11`` interface (rpc/encoded).

    .. versionadded:: 2.0
    """

    name: ClassVar[str] = "soap11"
    #: Attachments travel inline, as base64 (rpc/encoded has no MIME binding here).
    inline_attachments: ClassVar[bool] = True
    multiref_siblings: ClassVar[bool] = True

    def operation_namespace(self) -> str:
        """The namespace of the operation elements: the one the binding's
        ``soap:body`` names (``urn:<Service>``, or the service's with
        ``soap_naming="python"``)."""
        return self.naming.rpc_ns(self.service)

    def encode_result(self, call: Call, result: object) -> Payload:
        plain = self.dump_result(call, result)
        m = call.method
        naming = self.naming
        ns = escape(naming.rpc_ns(self.service)).replace('"', "&quot;")
        python = naming.python

        def write_result(out: list[str]) -> None:
            if plain is None and is_ladontype(m.rtype):
                return  # a nil object reaches rpc clients as None only when left out
            write(out, "result", m.rtype, plain, "", None, python, "ns")

        header = self.answer_header(call) if call.id is not ABSENT else ""
        return self.respond(
            f'<ns:{m.name}Response xmlns:ns="{ns}">',
            f"</ns:{m.name}Response>",
            write_result,
            header=header,
        )

    def describe(self, base_url: str, query: Mapping[str, str]) -> Payload:
        return Payload(
            rpc_wsdl(self.service, self.endpoint_url(base_url), self.naming), self.content_type
        )
