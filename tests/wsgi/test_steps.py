"""An application's own steps: every call of every interface goes through
them, they may refuse a call with a fault in the protocol's own shape, and
they see how each call ended (batches and introspection included)."""

from __future__ import annotations

import json
import xmlrpc.client
from collections.abc import Iterator

import pytest
import zeep
import zeep.exceptions
from conftest import SERVICES_DIR
from conftest import LiveServer
from webtest import TestApp

from ladon import ClientFault
from ladon.exceptions.base import DefinitionError
from ladon.interfaces.base import Call
from ladon.interfaces.base import Outcome
from ladon.server.dispatch import Exchange
from ladon.server.wsgi import LadonWSGIApplication


class Quota:
    """Refuses ``divide`` by zero before the method runs and records what
    every call did."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []

    def before_call(self, exchange: Exchange, call: Call) -> None:
        if call.method.name == "divide" and call.args[1] == 0:
            raise ClientFault("Refused by the quota step: no division by zero")

    def after_call(self, exchange: Exchange, call: Call, outcome: Outcome, seconds: float) -> None:
        assert seconds >= 0
        ended = "fault" if outcome.fault is not None else repr(outcome.result)
        self.seen.append((exchange.interface.name, call.method.name, ended))


@pytest.fixture(scope="module")
def quota() -> Quota:
    return Quota()


@pytest.fixture(scope="module")
def stepped_app(quota: Quota) -> Iterator[LadonWSGIApplication]:
    app = LadonWSGIApplication(["legacy_shapes"], [str(SERVICES_DIR)], steps=[quota])
    yield app
    app.close()


@pytest.fixture(scope="module")
def server(stepped_app: LadonWSGIApplication) -> Iterator[LiveServer]:
    live = LiveServer(stepped_app)
    yield live
    live.stop()


def test_a_step_sees_every_call_of_every_interface(
    stepped_app: LadonWSGIApplication, quota: Quota, server: LiveServer
) -> None:
    quota.seen.clear()
    web = TestApp(stepped_app)
    answer = web.post_json("/Shapes/jsonwsp", {"methodname": "add", "args": {"a": 2, "b": 3}})
    assert answer.json["result"] == 5
    soap = zeep.Client(f"{server.url}/Shapes/soap/description")
    assert soap.service.add(a=4, b=5) == 9
    rpc = xmlrpc.client.ServerProxy(f"{server.url}/Shapes/xmlrpc")
    assert rpc.add(1, 1) == 2
    batch = [
        {"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": 1},
        {"jsonrpc": "2.0", "method": "divide", "params": [1, 0], "id": 2},
    ]
    web.post("/Shapes/jsonrpc", json.dumps(batch), content_type="application/json")
    assert quota.seen == [
        ("jsonwsp", "add", "5"),
        ("soap", "add", "9"),
        ("xmlrpc", "add", "2"),
        ("jsonrpc", "add", "3"),
        ("jsonrpc", "divide", "fault"),
    ]


def test_a_step_refuses_a_call_in_each_protocols_shape(
    stepped_app: LadonWSGIApplication, server: LiveServer
) -> None:
    web = TestApp(stepped_app)
    answer = web.post_json("/Shapes/jsonwsp", {"methodname": "divide", "args": {"a": 1, "b": 0}})
    assert answer.json["fault"]["code"] == "client"
    assert answer.json["fault"]["string"] == "Refused by the quota step: no division by zero"
    soap = zeep.Client(f"{server.url}/Shapes/soap/description")
    with pytest.raises(zeep.exceptions.Fault) as fault:
        soap.service.divide(a=1, b=0)
    assert fault.value.message == "Refused by the quota step: no division by zero"
    rpc = xmlrpc.client.ServerProxy(f"{server.url}/Shapes/xmlrpc")
    with pytest.raises(xmlrpc.client.Fault) as xfault:
        rpc.divide(1, 0)
    assert "no division by zero" in xfault.value.faultString
    # the refusal is the call's answer: the method never ran, other calls do
    assert rpc.divide(9, 3) == 3


def test_something_that_is_not_a_step_is_refused_when_the_app_is_built() -> None:
    with pytest.raises(DefinitionError, match="expected before_call and after_call"):
        LadonWSGIApplication(["legacy_shapes"], [str(SERVICES_DIR)], steps=[object()])  # type: ignore[list-item]
