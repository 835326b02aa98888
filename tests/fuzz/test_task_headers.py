"""Property tests of the task-start headers (issue 14): whatever text a
client puts in ``Idempotency-Key`` or ``Ladon-Callback-URL`` (and in the SOAP
``IdempotencyKey`` header block), a task start on any interface answers with
its task id or the protocol's client fault; the checks themselves raise
nothing but ``ValueError``; and ``_wait`` answers any timeout with a result
or a fault, never a server error."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from xml.sax.saxutils import escape

import pytest
from hypothesis import given
from hypothesis import strategies as st
from webtest import TestApp

from ladon import ladonize
from ladon.server.wsgi import LadonWSGIApplication
from ladon.tasks.callbacks import CallbackSettings
from ladon.tasks.idempotency import check_key

from .test_properties import FAST

IFACES = ["soap", "soap11", "soap12", "jsonwsp", "jsonrpc10", "jsonrpc", "xmlrpc", "http"]
#: What a WSGI server can hand over as a header value: latin-1 text without
#: line breaks.
HEADER_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=300,
)
URLS = (
    st.builds(
        lambda scheme, host, port, path: f"{scheme}://{host}{port}{path}",
        st.sampled_from(["http", "https", "ftp", "HTTP", "javascript", ""]),
        st.sampled_from(
            ["127.0.0.1", "hooks.example.com", "[::1]", "169.254.169.254", "x", "", "a@b"]
        ),
        st.sampled_from(["", ":80", ":0", ":99999", ":-1", ":x"]),
        st.text(max_size=40).map(lambda t: "/" + t),
    )
    | HEADER_TEXT
)


class Jobs:
    @ladonize(tasktype=True)
    def job(self, n: int) -> int:
        return n


@pytest.fixture(scope="module")
def client() -> Iterator[TestApp]:
    app = LadonWSGIApplication(
        [Jobs],
        callback_hosts=["hooks.example.com", "127.0.0.1"],
        callback_networks=["127.0.0.1/32"],
        callback_secret="fuzz-secret-0123456789",
        callback_attempts=1,  # accepted URLs lead nowhere: no retries outlive the test
        callback_timeout=0.5,
        # the tasks run on pool threads while Hypothesis draws: no span ids
        # from the random module there (an SDK provider set by another test
        # module would make them)
        tracing=False,
    )
    yield TestApp(app)
    app.close()


def start(client: TestApp, iface: str, headers: dict[str, str], block: str = "") -> Any:
    if iface in ("soap", "soap11", "soap12"):
        env = (
            "http://www.w3.org/2003/05/soap-envelope"
            if iface == "soap12"
            else "http://schemas.xmlsoap.org/soap/envelope/"
        )
        job = 'o:job xmlns:o="urn:Jobs"' if iface == "soap12" else "job"  # soap12: qualified
        body = (
            f'<e:Envelope xmlns:e="{env}"><e:Header>{block}</e:Header>'
            f"<e:Body><{job}><n>1</n></{job.split()[0]}></e:Body></e:Envelope>"
        ).encode()
        ctype = "application/soap+xml" if iface == "soap12" else "text/xml"
        path = f"/Jobs/{iface}"
    elif iface == "xmlrpc":
        body = (
            b"<methodCall><methodName>job</methodName><params><param><value><int>1</int>"
            b"</value></param></params></methodCall>"
        )
        ctype, path = "text/xml", "/Jobs/xmlrpc"
    elif iface == "http":
        body, ctype, path = b'{"n": 1}', "application/json", "/Jobs/http/job"
    else:
        payload = {
            "jsonwsp": {"methodname": "job", "args": {"n": 1}},
            "jsonrpc10": {"method": "job", "params": [1], "id": 1},
            "jsonrpc": {"jsonrpc": "2.0", "method": "job", "params": [1], "id": 1},
        }[iface]
        body, ctype, path = json.dumps(payload).encode(), "application/json", f"/Jobs/{iface}"
    return client.post(path, body, headers={"Content-Type": ctype, **headers}, expect_errors=True)


def assert_started_or_refused(iface: str, answer: Any) -> None:
    """A task id, or a client fault (never a server error)."""
    text = answer.body.decode("utf-8", "replace")
    assert "Traceback" not in text and "Internal server error" not in text, text[:300]
    if re.search(r"[0-9a-f]{40}", text):  # the task id (no refusal holds one)
        assert answer.status_int in (200, 202), text[:300]
        return
    if iface in ("soap", "soap11"):
        assert answer.status_int == 500 and ":Client<" in text, text[:300]
    elif iface == "xmlrpc":  # every fault of a call is HTTP 200 (its specification)
        assert answer.status_int == 200 and "<fault>" in text, text[:300]
    else:
        assert answer.status_int in (400, 422), (answer.status_int, text[:300])


@pytest.mark.parametrize("iface", IFACES)
@FAST
@given(key=HEADER_TEXT)
def test_any_idempotency_key_starts_or_is_refused(client: TestApp, iface: str, key: str) -> None:
    assert_started_or_refused(iface, start(client, iface, {"Idempotency-Key": key}))


@pytest.mark.parametrize("iface", ["soap", "soap11", "soap12"])
@FAST
@given(
    key=st.text(max_size=300).filter(
        lambda t: not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]", t)
    )
)
def test_any_idempotency_key_header_block_starts_or_is_refused(
    client: TestApp, iface: str, key: str
) -> None:
    block = f'<lt:IdempotencyKey xmlns:lt="urn:ladon:tasks">{escape(key)}</lt:IdempotencyKey>'
    assert_started_or_refused(iface, start(client, iface, {}, block))


@pytest.mark.parametrize("iface", ["jsonwsp", "soap12", "xmlrpc", "http"])
@FAST
@given(url=URLS)
def test_any_callback_url_starts_or_is_refused(client: TestApp, iface: str, url: str) -> None:
    # latin-1 only: what a WSGI environ can carry
    url = url.encode("latin-1", "replace").decode("latin-1").replace("\r", "").replace("\n", "")
    assert_started_or_refused(iface, start(client, iface, {"Ladon-Callback-URL": url}))


@FAST
@given(text=st.text(max_size=400))
def test_the_checks_raise_only_value_errors(text: str) -> None:
    settings = CallbackSettings(["hooks.example.com"], ["fuzz-secret-0123456789"])
    for check in (check_key, settings.check_url):
        try:
            check(text)
        except ValueError:
            pass


@FAST
@given(
    timeout=st.floats(allow_nan=True, allow_infinity=True)
    | st.integers()
    | st.text(max_size=20)
    | st.none()
    | st.lists(st.integers(), max_size=2)
)
def test_any_wait_timeout_is_answered(client: TestApp, timeout: Any) -> None:
    body = json.dumps({"methodname": "job_wait", "args": {"task_id": "a" * 40, "timeout": timeout}})
    answer = client.post("/Jobs/jsonwsp", body, headers={"Content-Type": "application/json"})
    data = answer.json
    assert data["type"] == "jsonwsp/fault" and data["fault"]["code"] == "client", data
