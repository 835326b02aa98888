"""End to end: real clients sending a body over the application's
``max_content_length`` get their protocol's own error, over a socket.

zeep reads a SOAP fault whatever the HTTP status; suds only at HTTP 500 (at
413 it raises a bare ``Exception((413, reason))``, losing the message), so
SOAP 1.1 answers with its usual 500 and SOAP 1.2 with 413. Python's
``xmlrpc.client`` raises ``ProtocolError`` for any status but 200 without
reading the body: it shows the 413.
"""

from __future__ import annotations

import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path

import pytest
import suds
import suds.client
import zeep
import zeep.exceptions
from conftest import LiveServer

from ladon.server.wsgi import LadonWSGIApplication

pytestmark = pytest.mark.e2e

SERVICES = Path(__file__).resolve().parents[1] / "services"
LIMIT = 4000
MESSAGE = f"The request body is over the limit of {LIMIT} bytes"


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    app = LadonWSGIApplication(["legacy_shapes"], [str(SERVICES)], max_content_length=LIMIT)
    live = LiveServer(app)
    yield live
    live.stop()
    app.close()


@pytest.mark.parametrize("iface", ["soap", "soap11", "soap12"])
def test_zeep_reads_the_fault_of_an_oversized_request(server: LiveServer, iface: str) -> None:
    client = zeep.Client(f"{server.url}/Shapes/{iface}/description")
    assert client.service.echo("small") == "small"
    with pytest.raises(zeep.exceptions.Fault) as caught:
        client.service.echo("x" * (2 * LIMIT))
    assert caught.value.message == MESSAGE


@pytest.mark.parametrize("iface", ["soap", "soap11"])
def test_suds_reads_the_fault_of_an_oversized_request(server: LiveServer, iface: str) -> None:
    client = suds.client.Client(f"{server.url}/Shapes/{iface}/description", cache=None)
    with pytest.raises(suds.WebFault) as caught:
        client.service.echo("x" * (2 * LIMIT))
    assert caught.value.fault.faultcode == "SOAP-ENV:Client"
    assert caught.value.fault.faultstring == MESSAGE


def test_xmlrpc_client_sees_the_413(server: LiveServer) -> None:
    proxy = xmlrpc.client.ServerProxy(f"{server.url}/Shapes/xmlrpc")
    with pytest.raises(xmlrpc.client.ProtocolError) as caught:
        proxy.echo("x" * (2 * LIMIT))
    assert caught.value.errcode == 413
