"""Faults a service raises in Ladon 1.0's forms: ``ServiceFault(faultcode,
faultstring, detail, stack_depth, hint)`` with a code of its own, with SOAP's
``Client``/``Server`` spelling, and with the message alone first."""

from __future__ import annotations

import json
import xmlrpc.client

import pytest
from lxml import etree
from werkzeug.test import Client

from ladon import LadonWSGIApplication
from ladon.exceptions.service import ServiceFault
from ladon.ladonizer import ladonize


class QuotaFault(ServiceFault):
    def __init__(self, msg: str) -> None:
        super().__init__("quota", msg, "over quota detail", 2, "quota hint")


class Quotas:
    @ladonize(str, rtype=int)
    def take(self, what: str) -> int:
        if what == "soap-client":
            raise ServiceFault("Client", f"refused: {what}")
        if what == "message-first":
            raise ServiceFault(f"only a message: {what}")
        raise QuotaFault(f"no more: {what}")


@pytest.fixture(scope="module")
def client() -> Client:
    return Client(LadonWSGIApplication([Quotas]))


def _jsonwsp(client: Client, what: str) -> dict[str, object]:
    body = json.dumps({"methodname": "take", "args": {"what": what}})
    resp = client.post("/Quotas/jsonwsp", data=body, content_type="application/json")
    fault: dict[str, object] = resp.get_json()["fault"]
    return fault


def test_a_fault_code_of_the_service_keeps_its_message_on_every_interface(
    client: Client,
) -> None:
    fault = _jsonwsp(client, "a")
    assert (fault["code"], fault["string"]) == ("quota", "no more: a")
    assert (fault["detail"], fault["hint"]) == (["over quota detail"], "quota hint")
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "take", "params": ["a"]})
    error = client.post("/Quotas/jsonrpc", data=body, content_type="application/json").get_json()
    assert error["error"]["message"] == "no more: a"
    assert error["error"]["data"]["code"] == "quota"
    call = xmlrpc.client.dumps(("a",), "take")
    resp = client.post("/Quotas/xmlrpc", data=call, content_type="text/xml")
    with pytest.raises(xmlrpc.client.Fault) as caught:
        xmlrpc.client.loads(resp.data)
    assert caught.value.faultString.splitlines()[0] == "no more: a"
    envelope = (
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
        '<take xmlns="urn:Quotas"><what>a</what></take></s:Body></s:Envelope>'
    )
    resp = client.post("/Quotas/soap", data=envelope, content_type="text/xml")
    doc = etree.fromstring(resp.data)
    assert doc.findtext(".//faultstring") == "no more: a"
    assert str(doc.findtext(".//faultcode")).endswith(":Server")  # SOAP 1.1 knows two codes


def test_soap_spelling_and_a_message_alone_are_read_as_ladon_1_did(client: Client) -> None:
    fault = _jsonwsp(client, "soap-client")
    assert (fault["code"], fault["string"]) == ("client", "refused: soap-client")
    fault = _jsonwsp(client, "message-first")
    assert (fault["code"], fault["string"]) == ("server", "only a message: message-first")
