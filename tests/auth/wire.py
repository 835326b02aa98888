"""Requests of every interface written by hand, and what their answers say
(result or fault), for the tests that compare the interfaces."""

from __future__ import annotations

import json
import xmlrpc.client
from dataclasses import dataclass
from typing import Any

from lxml import etree

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
INTERFACES = ("soap", "soap11", "jsonwsp", "jsonrpc10", "jsonrpc", "xmlrpc")


def request(iface: str, method: str, args: dict[str, Any], header: str = "") -> tuple[bytes, str]:
    """The body and content type of a call of ``method`` on ``iface``."""
    if iface in ("soap", "soap11"):
        params = "".join(f"<{k}>{v}</{k}>" for k, v in args.items())
        head = f"<e:Header>{header}</e:Header>" if header else ""
        text = (
            f'<e:Envelope xmlns:e="{SOAP_ENV}">{head}<e:Body><{method}>{params}</{method}>'
            "</e:Body></e:Envelope>"
        )
        return text.encode(), "text/xml; charset=utf-8"
    if iface == "jsonwsp":
        data: Any = {"methodname": method, "args": args}
    elif iface == "jsonrpc10":
        data = {"method": method, "params": list(args.values()), "id": 1}
    elif iface == "jsonrpc":
        data = {"jsonrpc": "2.0", "method": method, "params": args, "id": 1}
    else:
        return xmlrpc.client.dumps(tuple(args.values()), method).encode(), "text/xml"
    return json.dumps(data).encode(), "application/json"


@dataclass
class Answer:
    """What an answer says: ``ok`` with ``value``, or a fault with
    ``code`` (SOAP faultcode, JSON-RPC code...) and ``message``."""

    status: int
    ok: bool
    value: Any = None
    code: Any = None
    message: str = ""


def answer(iface: str, status: int, body: bytes) -> Answer:
    if iface in ("soap", "soap11"):
        root = etree.fromstring(body)
        fault = root.find(f".//{{{SOAP_ENV}}}Fault")
        if fault is not None:
            return Answer(
                status,
                False,
                code=fault.findtext("faultcode"),
                message=fault.findtext("faultstring") or "",
            )
        response = root.find(f"{{{SOAP_ENV}}}Body")[0]  # type: ignore[index]
        value = response.findtext(".//{*}result")
        if value is None:
            value = response.findtext("result")
        return Answer(status, True, value)
    if iface == "xmlrpc":
        try:
            (value,), _ = xmlrpc.client.loads(body)
        except xmlrpc.client.Fault as fault:
            return Answer(status, False, code=fault.faultCode, message=fault.faultString)
        return Answer(status, True, value)
    data = json.loads(body)
    if iface == "jsonwsp":
        if data["type"] == "jsonwsp/fault":
            return Answer(
                status, False, code=data["fault"]["code"], message=data["fault"]["string"]
            )
        return Answer(status, True, data["result"])
    error = data.get("error")
    if error:
        text = error.get("message") or error.get("string") or ""
        return Answer(status, False, code=error.get("code"), message=text)
    return Answer(status, True, data["result"])
