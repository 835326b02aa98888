"""PHP's SoapClient (Debian's php-cli and php-soap, installed by .ci/run)
against every SOAP interface: it loads every WSDL Ladon serves for the
example services, and on ``Geometry`` calls a method with a list and a
LadonType, gets a fault as a SoapFault, and runs a task to its result; with
Ladon 1.0's names and with ``soap_naming="python"``."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import LiveServer

from ladon.server.wsgi import LadonWSGIApplication

from .conftest import IFACES
from .conftest import NAMINGS
from .conftest import SERVICES
from .scenario import check_scenario
from .scenario import run

pytestmark = pytest.mark.e2e

SCRIPT = Path(__file__).resolve().parent / "soap_client.php"
REFERENCES_SCRIPT = Path(__file__).resolve().parent / "soap_references.php"


@pytest.fixture(scope="module")
def php() -> str:
    found = shutil.which("php")
    assert found, "PHP is missing: apt-get install php-cli php-soap (.ci/run does it)"
    modules = subprocess.run([found, "-m"], capture_output=True, text=True, check=True).stdout
    assert "soap" in modules.split(), "PHP's soap extension is missing: apt-get install php-soap"
    return found


@pytest.mark.parametrize("naming", NAMINGS)
@pytest.mark.parametrize("iface", IFACES)
def test_php_soapclient_runs_the_scenario(
    php: str, servers: dict[str, tuple[str, LadonWSGIApplication]], iface: str, naming: str
) -> None:
    url = servers[naming][0]
    out = run([php, str(SCRIPT), f"{url}/Geometry/{iface}/description", iface, naming])
    check_scenario(out, iface)


@pytest.mark.parametrize("naming", NAMINGS)
@pytest.mark.parametrize("iface", IFACES)
def test_php_soapclient_loads_every_wsdl(
    php: str, servers: dict[str, tuple[str, LadonWSGIApplication]], iface: str, naming: str
) -> None:
    url, app = servers[naming]
    wsdls = [f"{url}/{s.name}/{iface}/description" for s in app.services]
    loaded = run([php, str(SCRIPT), "load", iface, *wsdls])
    assert loaded == {f"{url}/{s.name}/{iface}/description": len(s.methods) for s in app.services}


@pytest.fixture(scope="module")
def bookkeeping_url() -> Iterator[str]:
    """A live server of tests/services/bookkeeping.py."""
    app = LadonWSGIApplication(["bookkeeping"], [str(SERVICES)])
    server = LiveServer(app)
    yield server.url
    server.stop()
    app.close()


@pytest.mark.parametrize("iface", IFACES)
def test_php_soapclient_sending_one_array_twice_is_understood(
    php: str, bookkeeping_url: str, iface: str
) -> None:
    """PHP writes a reused array once, with an id, and refers to it (SOAP
    encoding's href/id, enc:ref/enc:id): both entries carry the amount."""
    out = run(
        [php, str(REFERENCES_SCRIPT), f"{bookkeeping_url}/Bookkeeping/{iface}/description", iface]
    )
    assert out["referred"], "PHP sent no reference: the test no longer tests them"
    assert out == {
        "answer": "tea=2.5 EUR; tea=2.5 EUR; cake=4 USD | x,y",
        "fault": None,
        "referred": True,
    }
