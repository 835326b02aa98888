"""The access matrix, over real HTTP (requests) on a live server: every
interface x {anonymous, wrong password, user, admin} x {public method,
authenticated method, admin-only method, another user's task}, each cell
with its HTTP status and fault."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from conftest import LiveServer

from .conftest import basic
from .wire import INTERFACES
from .wire import answer
from .wire import request

pytestmark = pytest.mark.e2e

CALLERS = {
    "anonymous": None,
    "wrong-password": basic("bob", "not-bobs"),
    "user": basic("bob", "bob-pw"),
    "admin": basic("root", "root-pw"),
}
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
CHALLENGES = ['Basic realm="Ladon", charset="UTF-8"', 'Bearer realm="Ladon"']

# (method kind, caller) -> ("ok", value) | (status, fault kind)
OK = "ok"
EXPECTED: dict[tuple[str, str], Any] = {
    ("public", "anonymous"): OK,
    ("public", "wrong-password"): (401, "failed"),
    ("public", "user"): OK,
    ("public", "admin"): OK,
    ("authenticated", "anonymous"): (401, "required"),
    ("authenticated", "wrong-password"): (401, "failed"),
    ("authenticated", "user"): OK,
    ("authenticated", "admin"): OK,
    ("admin-only", "anonymous"): (401, "required"),
    ("admin-only", "wrong-password"): (401, "failed"),
    ("admin-only", "user"): (403, "denied"),
    ("admin-only", "admin"): OK,
    ("others-task", "anonymous"): (401, "required"),
    ("others-task", "wrong-password"): (401, "failed"),
    ("others-task", "user"): ("protocol", "unknown"),
    ("others-task", "admin"): OK,
}
MESSAGES = {
    "required": "Authentication required",
    "failed": "Authentication failed",
    "denied": "Access denied",
    "unknown": "Unknown task",
}
SOAP_CODES = {
    "required": "wsse:SecurityTokenUnavailable",
    "failed": "wsse:FailedAuthentication",
    "denied": "wsse:FailedAuthentication",
    "unknown": "SOAP-ENV:Client",
}


@pytest.fixture(scope="module")
def alices_task(vault_server: LiveServer) -> str:
    """A task alice started (and that has ended)."""
    url = f"{vault_server.url}/Vault/jsonwsp"
    auth = ("alice", "alice-pw")
    started = requests.post(
        url, json={"methodname": "count", "args": {"n": 7}}, auth=auth, timeout=10
    )
    task_id: str = started.json()["result"]["task_id"]
    deadline = time.monotonic() + 10
    while True:
        progress = requests.post(
            url,
            json={"methodname": "count_progress", "args": {"task_id": task_id}},
            auth=auth,
            timeout=10,
        ).json()["result"]
        if progress["state"] == "succeeded":
            return task_id
        assert time.monotonic() < deadline, progress
        time.sleep(0.02)


def _call(
    server: LiveServer, iface: str, kind: str, caller: str, task_id: str
) -> tuple[requests.Response, Any]:
    cells: dict[str, tuple[str, dict[str, Any], Any]] = {
        "public": ("ping", {}, "pong"),
        "authenticated": ("add", {"a": 2, "b": 3}, 5),
        "admin-only": ("audit", {}, "audited"),
        "others-task": ("count_result", {"task_id": task_id}, None),
    }
    method, args, expected_value = cells[kind]
    body, ctype = request(iface, method, args)
    headers = {"Content-Type": ctype}
    authorization = CALLERS[caller]
    if authorization:
        headers["Authorization"] = authorization
    response = requests.post(f"{server.url}/Vault/{iface}", data=body, headers=headers, timeout=10)
    return response, expected_value


@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize("kind", ["public", "authenticated", "admin-only", "others-task"])
@pytest.mark.parametrize("iface", INTERFACES)
def test_access_matrix(
    vault_server: LiveServer, alices_task: str, iface: str, kind: str, caller: str
) -> None:
    response, value = _call(vault_server, iface, kind, caller, alices_task)
    got = answer(iface, response.status_code, response.content)
    expected = EXPECTED[(kind, caller)]
    assert "Traceback" not in response.text
    assert "bob-pw" not in response.text and "not-bobs" not in response.text
    if expected == OK:
        assert response.status_code == 200, response.text
        assert got.ok, got
        if kind == "others-task":
            assert str(got.value).startswith("alice:7:")
        else:
            assert str(got.value) == str(value)
        assert "WWW-Authenticate" not in response.headers
        return
    status, fault = expected
    assert not got.ok, got
    assert MESSAGES[fault] in got.message, got
    if status == "protocol":  # the protocol's own fault status
        status = 500 if iface.startswith("soap") else 200
    assert response.status_code == status, response.text
    if status == 401:
        assert response.raw.headers.getlist("WWW-Authenticate") == CHALLENGES
    else:
        assert "WWW-Authenticate" not in response.headers
    if iface.startswith("soap"):
        assert got.code == SOAP_CODES[fault]
        if got.code.startswith("wsse:"):
            assert f'xmlns:wsse="{WSSE}"' in response.text
    elif iface == "jsonwsp":
        assert got.code == "client"
    elif iface == "jsonrpc":
        assert got.code == -32000
    elif iface == "xmlrpc":
        assert got.code == 99


def test_unknown_task_answer_is_the_same_for_a_foreign_and_an_unknown_id(
    vault_server: LiveServer, alices_task: str
) -> None:
    url = f"{vault_server.url}/Vault/jsonrpc"
    answers = []
    for task_id in (alices_task, "0" * 40):
        data = requests.post(
            url,
            json={"jsonrpc": "2.0", "method": "count_progress", "params": [task_id], "id": 1},
            auth=("bob", "bob-pw"),
            timeout=10,
        ).json()
        answers.append(data["error"]["message"].replace(task_id, "ID"))
    assert answers[0] == answers[1]
    cancel = requests.post(
        url,
        json={"jsonrpc": "2.0", "method": "count_cancel", "params": [alices_task], "id": 1},
        auth=("bob", "bob-pw"),
        timeout=10,
    ).json()
    assert "Unknown task" in cancel["error"]["message"]


# a call the caller may not make, with arguments its method refuses: the
# caller's refusal comes first (nothing of the method's rules is learnt)
BAD_ARGUMENTS: dict[str, tuple[str, dict[str, Any]]] = {
    "authenticated": ("add", {"a": "not-a-number", "b": 3}),
    "admin-only": ("audit", {"nope": 1}),
}
REFUSED_FIRST: dict[tuple[str, str], Any] = {
    ("authenticated", "anonymous"): (401, "required"),
    ("authenticated", "wrong-password"): (401, "failed"),
    ("authenticated", "user"): "arguments",
    ("authenticated", "admin"): "arguments",
    ("admin-only", "anonymous"): (401, "required"),
    ("admin-only", "wrong-password"): (401, "failed"),
    ("admin-only", "user"): (403, "denied"),
    ("admin-only", "admin"): "arguments",
}


@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize("kind", list(BAD_ARGUMENTS))
@pytest.mark.parametrize("iface", INTERFACES)
def test_the_caller_is_checked_before_the_arguments(
    vault_server: LiveServer, iface: str, kind: str, caller: str
) -> None:
    method, args = BAD_ARGUMENTS[kind]
    body, ctype = request(iface, method, args)
    headers = {"Content-Type": ctype}
    authorization = CALLERS[caller]
    if authorization:
        headers["Authorization"] = authorization
    response = requests.post(
        f"{vault_server.url}/Vault/{iface}", data=body, headers=headers, timeout=10
    )
    got = answer(iface, response.status_code, response.content)
    assert not got.ok, got
    assert "Traceback" not in response.text
    expected = REFUSED_FIRST[(kind, caller)]
    if expected == "arguments":  # a caller who may call it learns what is wrong
        assert response.status_code == (500 if iface.startswith("soap") else 200)
        assert "Authentication" not in got.message and "Access denied" not in got.message
        assert "nope" in got.message or "not-a-number" in got.message or "argument" in got.message
        return
    status, fault = expected
    assert response.status_code == status, response.text
    assert MESSAGES[fault] in got.message, got
    assert "not-a-number" not in response.text and "nope" not in response.text
    if iface.startswith("soap"):
        assert got.code == SOAP_CODES[fault]
