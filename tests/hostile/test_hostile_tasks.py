"""Hostile input on the task-start headers and ``_wait`` (issue 14), on every
interface: a bad ``Idempotency-Key`` (HTTP header or SOAP header block), a
bad ``Ladon-Callback-URL``, a bad ``_wait`` timeout or id is answered with
the protocol's own client fault, HTTP 400 where the protocol has statuses,
quickly, without a traceback, and starts nothing. Uses the harness of
``test_hostile.py`` (raw WSGI environs)."""

from __future__ import annotations

import json
import time
import xmlrpc.client
from collections.abc import Iterator
from typing import Any

import pytest
from lxml import etree
from test_hostile import SOAP12_ENV
from test_hostile import Answer
from test_hostile import assert_clean
from test_hostile import envelope_ns
from test_hostile import op
from test_hostile import request

from ladon import ladonize
from ladon.server.wsgi import LadonWSGIApplication

IFACES = ["soap", "soap11", "soap12", "jsonwsp", "jsonrpc10", "jsonrpc", "xmlrpc", "http"]
LT = "urn:ladon:tasks"
STARTED: list[int] = []


class Jobs:
    """A task whose runs are counted."""

    @ladonize(tasktype=True)
    def job(self, n: int) -> int:
        STARTED.append(n)
        return n

    @ladonize(tasktype=True)
    def fails(self, reason: str) -> int:
        raise ValueError(f"cannot do {reason}")


@pytest.fixture(scope="module")
def app() -> Iterator[LadonWSGIApplication]:
    application = LadonWSGIApplication(
        [Jobs],
        callback_hosts=["127.0.0.1", "hooks.example.com"],
        callback_networks=["127.0.0.1/32"],
        callback_secret="hostile-secret-0123456789",
    )
    yield application
    application.close()


def start_body(iface: str, header: str = "") -> tuple[str, bytes, str]:
    """Path, body and content type of ``job(1)`` on ``iface``."""
    if iface in ("soap", "soap11", "soap12"):
        env = envelope_ns(iface)
        start, end = op(iface, "job", "urn:Jobs")
        body = (
            f'<e:Envelope xmlns:e="{env}"><e:Header>{header}</e:Header>'
            f"<e:Body>{start}<n>1</n>{end}</e:Body></e:Envelope>"
        )
        ctype = "application/soap+xml" if iface == "soap12" else "text/xml"
        return f"/Jobs/{iface}", body.encode(), ctype
    if iface == "xmlrpc":
        body = (
            "<methodCall><methodName>job</methodName><params><param><value><int>1</int>"
            "</value></param></params></methodCall>"
        )
        return "/Jobs/xmlrpc", body.encode(), "text/xml"
    if iface == "http":
        return "/Jobs/http/job", b'{"n": 1}', "application/json"
    return f"/Jobs/{iface}", json_call(iface, "job", {"n": 1}, [1]), "application/json"


def json_call(iface: str, method: str, named: dict[str, Any], positional: list[Any]) -> bytes:
    if iface == "jsonwsp":
        return json.dumps({"methodname": method, "args": named}).encode()
    if iface == "jsonrpc10":
        return json.dumps({"method": method, "params": positional, "id": 1}).encode()
    return json.dumps({"jsonrpc": "2.0", "method": method, "params": named, "id": 1}).encode()


def client_fault(iface: str, answer: Answer, status: int = 400) -> str:
    """The fault's text, after checking it is the protocol's client fault
    with the expected HTTP status."""
    assert_clean(answer)
    if iface in ("soap", "soap11"):
        assert answer.status == 500, (answer.status, answer.body[:300])
        root = etree.fromstring(answer.body)
        assert (root.findtext(".//faultcode") or "").endswith(":Client")
        return root.findtext(".//faultstring") or ""
    # XML-RPC answers every call's fault with HTTP 200 (its specification;
    # xmlrpc.client reads no other status)
    assert answer.status == (200 if iface == "xmlrpc" else status), (
        answer.status,
        answer.body[:300],
    )
    if iface == "soap12":
        root = etree.fromstring(answer.body)
        ns = {"e": SOAP12_ENV}
        assert (root.findtext("e:Body/e:Fault/e:Code/e:Value", namespaces=ns) or "").endswith(
            ":Sender"
        )
        return root.findtext("e:Body/e:Fault/e:Reason/e:Text", namespaces=ns) or ""
    if iface == "xmlrpc":
        root = etree.fromstring(answer.body)
        return root.findtext(".//member[name='faultString']/value/string") or ""
    data = json.loads(answer.body)
    if iface == "jsonwsp":
        assert data["fault"]["code"] == "client"
        return str(data["fault"]["string"])
    if iface == "jsonrpc10":
        assert data["error"]["code"] == "client"
        return str(data["error"]["string"])
    if iface == "jsonrpc":
        assert data["error"]["data"]["code"] == "client"
        return str(data["error"]["message"])
    assert data["code"] == "client" and data["status"] == status
    return str(data["detail"])


def post(
    app: LadonWSGIApplication, iface: str, headers: dict[str, str], header: str = ""
) -> Answer:
    path, body, ctype = start_body(iface, header)
    extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    return request(app, path, body, content_type=ctype, extra=extra)


BAD_KEYS = [
    ("", "empty"),
    ("x" * 256, "longer than 255"),
    ("x" * 100_000, "longer than 255"),
    ("ctrl\x01key", "printable ASCII"),
    ("lat\xe9in", "printable ASCII"),  # a byte above 0x7f, as WSGI gives it
    ('"unterminated\\"', "lone"),
    ("<script>alert(1)</script>\x00", "printable ASCII"),
    ("one, two", "holds a comma"),  # two header lines, as a server joins them
]
BAD_KEY_IDS = ["empty", "long", "huge", "control", "latin1", "bad-quote", "script", "two-lines"]


@pytest.mark.parametrize("iface", IFACES)
@pytest.mark.parametrize(("key", "said"), BAD_KEYS, ids=BAD_KEY_IDS)
def test_bad_idempotency_keys_are_client_faults(
    app: LadonWSGIApplication, iface: str, key: str, said: str
) -> None:
    before = len(STARTED)
    text = client_fault(iface, post(app, iface, {"Idempotency-Key": key}))
    assert "Idempotency-Key refused" in text and said in text
    assert "<script>" not in text and len(text) < 500
    assert len(STARTED) == before


SOAP_KEYS = [
    (f'<lt:IdempotencyKey xmlns:lt="{LT}"/>', "empty"),
    (f'<lt:IdempotencyKey xmlns:lt="{LT}">' + "k" * 300 + "</lt:IdempotencyKey>", "longer"),
    (f'<lt:IdempotencyKey xmlns:lt="{LT}">a&#9;b</lt:IdempotencyKey>', "printable"),
    (f'<lt:IdempotencyKey xmlns:lt="{LT}"><x>nested</x></lt:IdempotencyKey>', "empty"),
    (
        f'<lt:IdempotencyKey xmlns:lt="{LT}">one</lt:IdempotencyKey>'
        f'<lt:IdempotencyKey xmlns:lt="{LT}">two</lt:IdempotencyKey>',
        "two different idempotency keys (a SOAP IdempotencyKey header block and",
    ),
]


@pytest.mark.parametrize("iface", ["soap", "soap11", "soap12"])
@pytest.mark.parametrize(
    ("block", "said"), SOAP_KEYS, ids=["empty", "long", "control", "nested", "two"]
)
def test_bad_idempotency_key_header_blocks_are_client_faults(
    app: LadonWSGIApplication, iface: str, block: str, said: str
) -> None:
    before = len(STARTED)
    text = client_fault(iface, post(app, iface, {}, block))
    assert said in text
    assert len(STARTED) == before


@pytest.mark.parametrize("iface", ["soap", "soap11", "soap12"])
def test_a_header_block_that_must_be_understood_is(app: LadonWSGIApplication, iface: str) -> None:
    flag = "true" if iface == "soap12" else "1"
    env = envelope_ns(iface)
    block = (
        f'<lt:IdempotencyKey xmlns:lt="{LT}" xmlns:e="{env}" e:mustUnderstand="{flag}">'
        f"must-{iface}</lt:IdempotencyKey>"
    )
    before = len(STARTED)
    first, second = post(app, iface, {}, block), post(app, iface, {}, block)
    assert first.status == second.status == 200, first.body[:300]
    ids = [
        etree.fromstring(a.body).xpath(
            "string(//*[local-name()='task_id' or local-name()='task-id'])"
        )
        for a in (first, second)
    ]
    assert ids[0] and ids[0] == ids[1]
    # the HTTP header and the block must agree
    text = client_fault(iface, post(app, iface, {"Idempotency-Key": "other"}, block))
    assert "two different idempotency keys (the HTTP Idempotency-Key header and" in text
    ran_once(before)


def ran_once(before: int) -> None:
    """Wait until one task ran since ``before`` (later tests count none)."""
    deadline = time.monotonic() + 5
    while len(STARTED) == before and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    assert len(STARTED) == before + 1


BAD_URLS = [
    ("ftp://127.0.0.1/x", "http:// or https://"),
    ("javascript:alert(1)", "http:// or https://"),
    ("http://hooks.example.net/x", "not one this server calls"),
    ("http://user:pass@127.0.0.1/x", "credentials"),
    ("http://127.0.0.1/x#frag", "fragment"),
    ("http://127.0.0.1:65536/x", "malformed"),
    ("http://127.0.0.1/" + "x" * 5000, "longer than 2048"),
    ("http://127.0.0.1/\x00", "printable ASCII"),
    ("http://[::1]:8/x", "not one this server calls"),
    ("", "empty"),
]
BAD_URL_IDS = [
    "ftp",
    "javascript",
    "host",
    "credentials",
    "fragment",
    "port",
    "long",
    "nul",
    "ipv6-loopback",
    "empty",
]


@pytest.mark.parametrize("iface", IFACES)
@pytest.mark.parametrize(("url", "said"), BAD_URLS, ids=BAD_URL_IDS)
def test_bad_callback_urls_are_client_faults(
    app: LadonWSGIApplication, iface: str, url: str, said: str
) -> None:
    before = len(STARTED)
    text = client_fault(iface, post(app, iface, {"Ladon-Callback-URL": url}))
    assert text.startswith("Ladon-Callback-URL refused") and said in text
    assert "pass" not in text  # the credentials are not repeated
    assert len(STARTED) == before


def test_a_callback_url_on_an_app_without_callbacks_is_refused() -> None:
    application = LadonWSGIApplication([Jobs])
    try:
        before = len(STARTED)
        text = client_fault(
            "jsonwsp", post(application, "jsonwsp", {"Ladon-Callback-URL": "http://x/"})
        )
        assert "sends no completion callbacks" in text
        assert len(STARTED) == before
    finally:
        application.close()


def wait_body(iface: str, task_id: str, timeout: str) -> tuple[str, bytes, str]:
    if iface in ("soap", "soap11", "soap12"):
        env = envelope_ns(iface)
        tag = "task-id" if iface != "soap12" else "task_id"
        start, end = op(iface, "job_wait", "urn:Jobs")
        body = (
            f'<e:Envelope xmlns:e="{env}"><e:Body>{start}<{tag}>{task_id}</{tag}>'
            f"<timeout>{timeout}</timeout>{end}</e:Body></e:Envelope>"
        )
        ctype = "application/soap+xml" if iface == "soap12" else "text/xml"
        return f"/Jobs/{iface}", body.encode(), ctype
    if iface == "xmlrpc":
        body = (
            "<methodCall><methodName>job_wait</methodName><params>"
            f"<param><value><string>{task_id}</string></value></param>"
            f"<param><value><double>{timeout}</double></value></param></params></methodCall>"
        )
        return "/Jobs/xmlrpc", body.encode(), "text/xml"
    if iface == "http":
        return f"/Jobs/http/job/tasks/{task_id}?wait={timeout}", b"", "application/json"
    value: Any = json.loads(timeout) if timeout.lstrip("-").replace(".", "").isdigit() else timeout
    named = {"task_id": task_id, "timeout": value}
    return (
        f"/Jobs/{iface}",
        json_call(iface, "job_wait", named, [task_id, value]),
        "application/json",
    )


def wait(app: LadonWSGIApplication, iface: str, task_id: str, timeout: str) -> Answer:
    path, body, ctype = wait_body(iface, task_id, timeout)
    if iface != "http":
        return request(app, path, body, content_type=ctype)
    path, _, query = path.partition("?")
    return request(app, path, method="GET", extra={"QUERY_STRING": query})


@pytest.mark.parametrize("iface", IFACES)
@pytest.mark.parametrize(
    ("timeout", "said"),
    [("-1", "≥ 0"), ("-0.001", "≥ 0"), ("NaN", ""), ("1e400", ""), ("soon", "")],
    ids=["negative", "tiny-negative", "nan", "overflow", "text"],
)
def test_bad_wait_timeouts_are_client_faults(
    app: LadonWSGIApplication, iface: str, timeout: str, said: str
) -> None:
    answer = wait(app, iface, "a" * 40, timeout)
    if iface == "xmlrpc" and timeout in ("NaN", "soon", "1e400"):
        # not a <double> XML-RPC reads: a malformed request
        text = client_fault(iface, answer, answer.status)
    else:
        text = client_fault(iface, answer, 422 if iface == "http" else answer.status)
    assert "timeout" in text or "wait" in text or "double" in text.lower()
    assert said in text


@pytest.mark.parametrize("iface", IFACES)
@pytest.mark.parametrize("task_id", ["", "0" * 40, "x" * 10_000, "../../etc/passwd"])
def test_waits_for_unknown_tasks_are_client_faults_at_once(
    app: LadonWSGIApplication, iface: str, task_id: str
) -> None:
    answer = wait(app, iface, task_id, "30")
    assert answer.seconds < 1
    if iface == "http" and (not task_id or "/" in task_id):
        assert answer.status == 404
        return
    text = client_fault(iface, answer, 404 if iface == "http" else answer.status)
    assert "Unknown task" in text and "etc/passwd" not in text[80:]


@pytest.mark.parametrize("iface", IFACES)
def test_a_key_sent_again_with_other_arguments_is_a_422_conflict_400_on_soap12(
    app: LadonWSGIApplication, iface: str
) -> None:
    path, body, ctype = start_body(iface)
    headers = {"HTTP_IDEMPOTENCY_KEY": f"conflict-{iface}"}
    before = len(STARTED)
    first = request(app, path, body, content_type=ctype, extra=headers)
    assert first.status in (200, 202), first.body[:300]
    other = body.replace(b">1<", b">2<") if iface != "http" else b'{"n": 2}'
    other = other.replace(b'"n": 1', b'"n": 2').replace(b"[1]", b"[2]")
    answer = request(app, path, other, content_type=ctype, extra=headers)
    # SOAP 1.2's HTTP binding answers every env:Sender fault with 400
    text = client_fault(iface, answer, 400 if iface == "soap12" else 422)
    assert "already started a task with other arguments" in text
    ran_once(before)  # the first start ran, the second did not


@pytest.mark.parametrize("iface", IFACES)
def test_a_failure_reason_a_client_chose_keeps_the_tasks_status_readable(
    app: LadonWSGIApplication, iface: str
) -> None:
    """The exception's text is the failed task's message: control
    characters in it (here from the argument) become U+FFFD, as in a
    progress message, so every interface can still write the status."""
    body = json.dumps({"methodname": "fails", "args": {"reason": "a\u0001b\u001b[31m"}})
    started = request(app, "/Jobs/jsonwsp", body.encode())
    task_id = json.loads(started.body)["result"]["task_id"]
    path, wait_call, ctype = wait_body(iface, task_id, "10")
    path = path.replace("/job/", "/fails/")
    wait_call = wait_call.replace(b"job_wait", b"fails_wait")
    if iface == "http":
        path, _, query = path.partition("?")
        answer = request(app, path, method="GET", extra={"QUERY_STRING": query})
    else:
        answer = request(app, path, wait_call, content_type=ctype)
    assert_clean(answer)
    assert answer.status == 200, answer.body[:400]
    text = answer.body.decode()
    message: Any
    if iface == "xmlrpc":
        loaded: Any = xmlrpc.client.loads(answer.body)[0][0]
        message = loaded["message"]
    elif iface in ("soap", "soap11", "soap12"):
        message = etree.fromstring(answer.body).xpath("string(//*[local-name()='message'])")
    else:
        data = json.loads(text)
        found = data.get("result", data)
        message = (found or {}).get("message", "")
    assert message == "cannot do a\ufffdb\ufffd[31m", text[:400]
