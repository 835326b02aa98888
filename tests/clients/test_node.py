"""Node.js's ``soap`` package (npm, installed into tests/clients/node by
.ci/run) against every SOAP interface: it loads every WSDL Ladon serves for
the example services, and on ``Geometry`` calls a method with a list and a
LadonType, gets a fault as the client's error, and runs a task to its
result; with Ladon 1.0's names and with ``soap_naming="python"``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ladon.server.wsgi import LadonWSGIApplication

from .conftest import IFACES
from .conftest import NAMINGS
from .scenario import check_scenario
from .scenario import run

pytestmark = pytest.mark.e2e

NODE_DIR = Path(__file__).resolve().parent / "node"
SCRIPT = NODE_DIR / "soap_client.js"


@pytest.fixture(scope="module")
def node() -> str:
    found = shutil.which("node")
    assert found, "Node.js is missing: apt-get install nodejs npm (.ci/run does it)"
    installed = NODE_DIR / "node_modules" / "soap" / "package.json"
    npm = shutil.which("npm")
    if not installed.is_file() and npm is not None:
        # a fresh clone: the pinned packages of package-lock.json, from the
        # npm registry (what .ci/run does first)
        subprocess.run(
            [npm, "ci", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund", "--silent"],
            check=False,
            timeout=600,
        )
    assert installed.is_file(), (
        f"the soap package is missing: npm ci --prefix {NODE_DIR} (needs npm; .ci/run does it)"
    )
    return found


@pytest.mark.parametrize("naming", NAMINGS)
@pytest.mark.parametrize("iface", IFACES)
def test_node_soap_runs_the_scenario(
    node: str, servers: dict[str, tuple[str, LadonWSGIApplication]], iface: str, naming: str
) -> None:
    url = servers[naming][0]
    out = run([node, str(SCRIPT), f"{url}/Geometry/{iface}/description", iface, naming])
    check_scenario(out, iface)
    if iface == "soap12":
        assert out["fault"]["status"] == 400  # a Sender fault (SOAP 1.2 HTTP binding)
    else:
        assert out["fault"]["status"] == 500


@pytest.mark.parametrize("naming", NAMINGS)
@pytest.mark.parametrize("iface", IFACES)
def test_node_soap_loads_every_wsdl(
    node: str, servers: dict[str, tuple[str, LadonWSGIApplication]], iface: str, naming: str
) -> None:
    url, app = servers[naming]
    wsdls = [f"{url}/{s.name}/{iface}/description" for s in app.services]
    loaded = run([node, str(SCRIPT), "load", iface, *wsdls])
    assert loaded == {f"{url}/{s.name}/{iface}/description": len(s.methods) for s in app.services}
