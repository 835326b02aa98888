"""``gunicorn -w 4`` with WS-Security UsernameToken whose replay cache lives
in the SQLite task backend: a message accepted by one worker and replayed
to another is refused there (the nonce is in the shared file)."""

from __future__ import annotations

import base64
import datetime
import hashlib
import http.client
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from lxml import etree

from .backend_support import SERVICES_DIR
from .backend_support import child_env
from .backend_support import free_port
from .backend_support import stop_process
from .backend_support import wait_until

pytestmark = pytest.mark.e2e

WORKERS = 4
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DIGEST = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"


def _envelope(user: str, password: str) -> bytes:
    nonce = os.urandom(16)
    created = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    digest = base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest())
    return (
        f'<e:Envelope xmlns:e="{SOAP}" xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}"><e:Header>'
        f"<wsse:Security><wsse:UsernameToken><wsse:Username>{user}</wsse:Username>"
        f'<wsse:Password Type="{DIGEST}">{digest.decode()}</wsse:Password>'
        f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>"
        f"<wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security>"
        "</e:Header><e:Body><pid/></e:Body></e:Envelope>"
    ).encode()


def _post(port: int, body: bytes) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(
            "POST", "/Vault/soap", body, {"Content-Type": "text/xml", "Connection": "close"}
        )
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        pytest.fail("these tests need gunicorn: pip install -e '.[test]' (or pip install gunicorn)")
    tmp = tmp_path_factory.mktemp("gunicorn-wsse")
    port = free_port()
    access = tmp / "access.log"
    log = tmp / "gunicorn.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(WORKERS),
                "--bind",
                f"127.0.0.1:{port}",
                "--access-logfile",
                str(access),
                "--access-logformat",
                "%(p)s %(s)s",
                "--graceful-timeout",
                "3",
                "auth_app:app",
            ],
            cwd=str(SERVICES_DIR),
            env=child_env(LADON_TASKS=f"sqlite://{tmp / 'tasks.db'}"),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:

        def up() -> bool:
            try:
                return _post(port, b"")[0] > 0
            except OSError:
                return False

        wait_until(up, 30, "gunicorn answering")
        yield port, access
    finally:
        stop_process(proc)


def _answer(body: bytes) -> tuple[str | None, str | None]:
    root = etree.fromstring(body)
    fault = root.find(f".//{{{SOAP}}}Fault")
    if fault is not None:
        return None, fault.findtext("faultcode")
    return root.findtext(".//{*}result"), None


def test_a_nonce_replayed_to_another_worker_is_refused(gunicorn: tuple[int, Path]) -> None:
    port, access = gunicorn
    message = _envelope("alice", "alice-pw")
    status, body = _post(port, message)
    assert status == 200, body
    first_pid, _ = _answer(body)
    assert first_pid is not None
    time.sleep(0.1)
    before = len(access.read_text().splitlines())  # the readiness probes and the first call
    refused_by: set[str] = set()
    with ThreadPoolExecutor(WORKERS) as pool:
        for _ in range(25):
            for status, body in pool.map(lambda _: _post(port, message), range(WORKERS)):
                assert status == 500, body
                assert _answer(body) == (None, "wsse:FailedAuthentication")
                assert b"nonce was used before" in body
            time.sleep(0.05)  # gunicorn writes its access log line after the answer
            lines = access.read_text().splitlines()[before:]
            refused_by = {
                m.group(1) for m in (re.match(r"<?(\d+)>? 500$", line) for line in lines) if m
            }
            if refused_by - {first_pid}:
                break
    assert refused_by - {first_pid}, f"every replay reached worker {first_pid}: {refused_by}"
    # a fresh message is still accepted, by any worker
    fresh_status, _ = _post(port, _envelope("bob", "bob-pw"))
    assert fresh_status == 200
