"""SOAP 1.1, rpc style (``soap11``), as Ladon 1.0 served it.

Same requests and faults as :mod:`ladon.interfaces.soap`; the response
element is ``ns:MResponse`` (``ns`` = ``urn:<Service>``) and the result is
always wrapped in an unqualified ``<result>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from ..types.spec import is_ladontype
from ..wire.schema import service_ns
from ._soapvalues import write
from .base import Call
from .base import Payload
from .soap import SOAPBase
from .wsdl import rpc_wsdl


class SOAP11Interface(SOAPBase):
    """The ``soap11`` interface (rpc style).

    .. versionadded:: 2.0
    """

    name: ClassVar[str] = "soap11"
    #: Attachments travel inline, as base64 (rpc/encoded has no MIME binding here).
    inline_attachments: ClassVar[bool] = True

    def encode_result(self, call: Call, result: object) -> Payload:
        plain = self.dump_result(call, result)
        m = call.method
        ns = service_ns(self.service.name)

        def write_result(out: list[str]) -> None:
            if plain is None and is_ladontype(m.rtype):
                return  # a nil object reaches rpc clients as None only when left out
            write(out, "result", m.rtype, plain, "")

        return self.respond(
            f'<ns:{m.name}Response xmlns:ns="{ns}">', f"</ns:{m.name}Response>", write_result
        )

    def describe(self, base_url: str, query: Mapping[str, str]) -> Payload:
        return Payload(rpc_wsdl(self.service, self.endpoint_url(base_url)), self.content_type)
