"""SOAP 1.1, rpc style (``soap11``), as Ladon 1.0 served it.

Same requests and faults as :mod:`ladon.interfaces.soap`; the response
element is ``ns:MResponse`` (``ns`` = ``urn:<Service>``) and the result is
always wrapped in an unqualified ``<result>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from lxml import etree

from ..exceptions.service import ServerFault
from ._xml import write
from .base import Call
from .base import Payload
from .soap import SOAPBase
from .soap import _reason


def service_ns(service_name: str) -> str:
    return f"urn:{service_name}"


class SOAP11Interface(SOAPBase):
    """The ``soap11`` interface (rpc style).

    .. versionadded:: 2.0
    """

    name: ClassVar[str] = "soap11"

    def encode_result(self, call: Call, result: object) -> Payload:
        plain = self.dump_result(call, result)
        env, body = self.envelope()
        ns = service_ns(self.service.name)
        resp = etree.SubElement(body, f"{{{ns}}}{call.method.name}Response", nsmap={"ns": ns})
        try:
            write(resp, "result", call.method.rtype, plain, None)
        except ValueError as exc:
            raise ServerFault(f"The result cannot be written as XML: {_reason(exc)}") from None
        return self.result_payload(env)

    def describe(self, base_url: str, query: Mapping[str, str]) -> Payload:
        from .wsdl import rpc_wsdl

        return Payload(rpc_wsdl(self.service, self.endpoint_url(base_url)), self.content_type)
