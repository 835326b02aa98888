"""Real clients with credentials on a live server: requests (Basic, Bearer
JWT) on JSON-RPC and JSON-WSP, ``xmlrpc.client`` with
``http://user:pw@host/...``, ``JSONWSPClient(auth=..., bearer_token=...)``
and ``ladon call --user/--bearer``."""

from __future__ import annotations

import os
import subprocess
import sys
import xmlrpc.client

import auth_app
import pytest
import requests
from conftest import LiveServer

from ladon.clients.jsonwsp import JSONWSPClient
from ladon.clients.jsonwsp import JSONWSPError
from ladon.clients.jsonwsp import JSONWSPFault

pytestmark = pytest.mark.e2e


class BearerAuth(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


@pytest.mark.parametrize(
    "auth",
    [requests.auth.HTTPBasicAuth("root", "root-pw"), BearerAuth(auth_app.token("root"))],
    ids=["basic", "bearer-jwt"],
)
def test_requests_on_json_rpc_and_json_wsp(
    vault_server: LiveServer, auth: requests.auth.AuthBase
) -> None:
    rpc = requests.post(
        f"{vault_server.url}/Vault/jsonrpc",
        json={"jsonrpc": "2.0", "method": "audit", "params": [], "id": "x"},
        auth=auth,
        timeout=10,
    )
    assert rpc.json() == {"jsonrpc": "2.0", "result": "audited", "id": "x"}
    wsp = requests.post(
        f"{vault_server.url}/Vault/jsonwsp",
        json={"methodname": "whoami", "args": {}},
        auth=auth,
        timeout=10,
    )
    assert wsp.json()["result"] == "root:admin"
    rpc10 = requests.post(
        f"{vault_server.url}/Vault/jsonrpc10",
        json={"method": "add", "params": [4, 5], "id": 3},
        auth=auth,
        timeout=10,
    )
    assert rpc10.json()["result"] == 9


def test_xmlrpc_client_with_credentials_in_the_url(vault_server: LiveServer) -> None:
    url = vault_server.url.replace("http://", "http://bob:bob-pw@") + "/Vault/xmlrpc"
    proxy = xmlrpc.client.ServerProxy(url)
    assert proxy.add(20, 22) == 42
    assert proxy.whoami() == "bob:"
    with pytest.raises(xmlrpc.client.ProtocolError) as info:
        proxy.audit()
    assert info.value.errcode == 403
    wrong = xmlrpc.client.ServerProxy(url.replace("bob-pw", "nope"))
    with pytest.raises(xmlrpc.client.ProtocolError) as info:
        wrong.add(1, 2)
    assert info.value.errcode == 401
    assert 'realm="Ladon"' in info.value.headers["WWW-Authenticate"]  # (a dict: the last of two)
    anonymous = xmlrpc.client.ServerProxy(vault_server.url + "/Vault/xmlrpc")
    assert anonymous.ping() == "pong"


def test_jsonwsp_client_with_basic_or_bearer(vault_server: LiveServer) -> None:
    description = f"{vault_server.url}/Vault/jsonwsp/description"
    basic = JSONWSPClient(description, auth=("alice", "alice-pw"))
    assert basic.call("whoami") == "alice:"
    task_id = basic.call("count", n=2)["task_id"]
    bearer = JSONWSPClient(description, bearer_token=auth_app.token("root"))
    assert bearer.call("audit") == "audited"
    assert bearer.call("count_progress", task_id=task_id)["task_id"] == task_id  # admin
    bob = JSONWSPClient(description, auth=("bob", "bob-pw"))
    with pytest.raises(JSONWSPFault, match="Unknown task"):
        bob.call("count_progress", task_id=task_id)
    with pytest.raises(JSONWSPFault, match="Access denied") as info:
        bob.call("audit")
    assert info.value.response is not None and info.value.response.status == 403
    anonymous = JSONWSPClient(description)
    with pytest.raises(JSONWSPFault, match="Authentication required") as info:
        anonymous.call("add", a=1, b=2)
    assert info.value.response is not None and info.value.response.status == 401
    with pytest.raises(ValueError):
        JSONWSPClient(description, auth=("a", "b"), bearer_token="t")


def test_jsonwsp_client_reads_a_protected_description(vault_app: object) -> None:
    app = auth_app.make_app(protect_docs=True)
    server = LiveServer(app)
    try:
        description = f"{server.url}/Vault/jsonwsp/description"
        with pytest.raises(JSONWSPError) as info:
            JSONWSPClient(description)
        assert info.value.status == 401
        assert JSONWSPClient(description, auth=("bob", "bob-pw")).call("add", a=1, b=1) == 2
    finally:
        server.stop()
        app.close()


def _ladon_call(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("LADON_PASSWORD", "LADON_TOKEN")}
    return subprocess.run(
        [sys.executable, "-m", "ladon.cli", "call", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**environ, **env},
        stdin=subprocess.DEVNULL,
    )


def test_ladon_call_with_credentials(vault_server: LiveServer) -> None:
    url = f"{vault_server.url}/Vault"
    done = _ladon_call(url, "whoami", "--user", "root", LADON_PASSWORD="root-pw")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == '"root:admin"'
    done = _ladon_call(url, "audit", "--bearer", LADON_TOKEN=auth_app.token("root"))
    assert done.returncode == 0 and done.stdout.strip() == '"audited"', done.stderr
    done = _ladon_call(url, "add", "a=1", "b=2")
    assert done.returncode == 1
    assert "fault (client): Authentication required" in done.stderr
    assert "hint: send credentials: Basic, Bearer" in done.stderr
    done = _ladon_call(url, "add", "a=1", "b=2", "--user", "root", LADON_PASSWORD="nope")
    assert done.returncode == 1 and "Authentication failed" in done.stderr
    assert "nope" not in done.stderr + done.stdout
    done = _ladon_call(url, "add", "a=1", "b=2", "--user", "root")
    assert done.returncode == 2 and "$LADON_PASSWORD" in done.stderr


def test_ladon_call_says_how_to_give_credentials_when_the_description_is_protected() -> None:
    app = auth_app.make_app(protect_docs=True)
    server = LiveServer(app)
    try:
        url = f"{server.url}/Vault"
        done = _ladon_call(url, "whoami")
        assert done.returncode == 2
        assert "HTTP 401" in done.stderr
        assert "--user NAME or --bearer" in done.stderr, done.stderr
        done = _ladon_call(url, "whoami", "--user", "bob", LADON_PASSWORD="wrong")
        assert done.returncode == 2 and "HTTP 401" in done.stderr
        assert "wrong" not in done.stderr
        done = _ladon_call(url, "whoami", "--user", "bob", LADON_PASSWORD="bob-pw")
        assert done.returncode == 0 and done.stdout.strip() == '"bob:"', done.stderr
    finally:
        server.stop()
        app.close()
