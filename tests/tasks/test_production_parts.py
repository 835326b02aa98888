"""The parts of production tasks (issue 14), one by one: Idempotency-Key
checks, scoping and fingerprints; keys kept as long as their task (moved
clocks, no sleeping); signatures as a receiver checks them; callback URL
rules; the settings from the environment; the wake-up registry."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ladon.tasks import SQLiteTaskBackend
from ladon.tasks import TaskHandle
from ladon.tasks import ThreadTaskBackend
from ladon.tasks.callbacks import CallbackSettings
from ladon.tasks.callbacks import CallbackTarget
from ladon.tasks.callbacks import shown_url
from ladon.tasks.callbacks import sign
from ladon.tasks.callbacks import verify_signature
from ladon.tasks.delivery import callback_settings
from ladon.tasks.idempotency import MAX_KEY_LENGTH
from ladon.tasks.idempotency import AlreadyStarted
from ladon.tasks.idempotency import IdempotentStart
from ladon.tasks.idempotency import KeyReused
from ladon.tasks.idempotency import check_key
from ladon.tasks.idempotency import fingerprint
from ladon.tasks.idempotency import scoped_key
from ladon.tasks.waiting import EndSignals
from ladon.testing import ManualClock
from ladon.types.attachment import attachment

from .backend_support import RedisServer
from .backend_support import wait_until

SECRET = "s3cret-0123456789abcdef"

# -- Idempotency-Key ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "key"),
    [
        ("8e03978e-40d5-43e8-bc93-6894a57f9324", "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        ("  spaced key  ", "spaced key"),
        ('"quoted"', "quoted"),
        ('"with \\"escapes\\" and \\\\"', 'with "escapes" and \\'),
        ("x" * MAX_KEY_LENGTH, "x" * MAX_KEY_LENGTH),
        ('"a,b"', "a,b"),
    ],
    ids=["uuid", "spaces", "sf-string", "escapes", "longest", "quoted-comma"],
)
def test_keys_accepted(sent: str, key: str) -> None:
    assert check_key(sent) == key


@pytest.mark.parametrize(
    ("sent", "said"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ('""', "empty"),
        ("x" * (MAX_KEY_LENGTH + 1), "longer than 255"),
        ("tab\there", "printable ASCII"),
        ("nul\x00", "printable ASCII"),
        ("del\x7f", "printable ASCII"),
        ("clé", "printable ASCII"),
        ('"a\\b"', "may only escape"),
        ('"a"b"', "unescaped"),
        ('"a\\"', "lone"),
        ("one,two", "holds a comma"),
        ('"one","two"', "unescaped"),
    ],
    ids=["empty", "blank", "empty-quoted", "long", "tab", "nul", "del", "accent", "escape",
         "quote", "lone-backslash", "two-lines", "two-quoted-lines"],
)  # fmt: skip
def test_keys_refused(sent: str, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        check_key(sent)


def test_a_key_is_scoped_by_principal_and_method() -> None:
    keys = {
        scoped_key(None, "S.m", "k"),
        scoped_key("ann", "S.m", "k"),
        scoped_key("bob", "S.m", "k"),
        scoped_key(None, "S.other", "k"),
        scoped_key(None, "S.m", "k2"),
    }
    assert len(keys) == 5
    assert all(len(k) == 64 for k in keys)
    # no ambiguity from separators inside names
    assert scoped_key("a,b", "c", "d") != scoped_key("a", "b,c", "d")


def test_fingerprints_are_canonical_and_read_attachments_in_place() -> None:
    assert fingerprint([{"b": 1, "a": [1, 2]}, "x"]) == fingerprint([{"a": [1, 2], "b": 1}, "x"])
    assert fingerprint([1]) != fingerprint([1.5]) != fingerprint(["1"])
    data = attachment(io.BytesIO(b"0123456789" * 10_000), 100_000, {})
    data.read(5)
    first = fingerprint([data])
    assert data.tell() == 5 and data.read(5) == b"56789"  # put back where it was
    same = attachment.from_bytes(b"0123456789" * 10_000)
    assert fingerprint([same]) == first
    assert fingerprint([attachment.from_bytes(b"other")]) != first
    assert fingerprint([b"raw"]) == fingerprint([bytearray(b"raw")])


def test_fingerprints_keep_their_bytes_and_refuse_what_json_cannot_say() -> None:
    """The fast encoder writes the bytes of the canonical JSONEncoder (so a
    fingerprint stored before still matches) and refuses NaN like it."""
    import hashlib
    import json

    from ladon.tasks import idempotency

    values = [
        {"b": [1, -5, 2**70, 1.5, -0.0, 1e300], "a": {"é": 'x\u2028"\\', "Z": None}},
        "\ud800",
        [True, False, [], {}],
        {"10": 1, "9": 2},
    ]
    text = idempotency._CANONICAL.encode(values)
    expected = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    assert fingerprint(values) == expected
    assert json.loads(text) == json.loads(json.dumps(values))
    with pytest.raises(ValueError):
        fingerprint([float("nan")])


class _Job:
    def __init__(self, idem: IdempotentStart, runs: list[int]) -> None:
        self.idempotency = idem
        self.runs = runs

    def __call__(self, handle: TaskHandle) -> object:
        self.runs.append(1)
        return len(self.runs)


@pytest.fixture(params=["thread", "sqlite"])
def clocked(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, ManualClock]]:
    clock = ManualClock()
    backend: Any
    if request.param == "thread":
        backend = ThreadTaskBackend(max_workers=1, result_ttl=60, clock=clock)
    else:
        backend = SQLiteTaskBackend(tmp_path / "t.db", result_ttl=60, clock=clock)
    yield backend, clock
    backend.close()


def test_a_key_lives_as_long_as_its_task(clocked: tuple[Any, ManualClock]) -> None:
    backend, clock = clocked
    runs: list[int] = []
    idem = IdempotentStart("k" * 64, "f" * 64)
    task_id = backend.submit("S.m", _Job(idem, runs))
    wait_until(lambda: backend.status("S.m", task_id).state.finished, 5)
    clock.advance(59)  # kept: the same task
    with pytest.raises(AlreadyStarted) as seen:
        backend.submit("S.m", _Job(idem, runs))
    assert seen.value.task_id == task_id
    with pytest.raises(KeyReused):
        backend.submit("S.m", _Job(IdempotentStart(idem.key, "0" * 64), runs))
    clock.advance(2)  # the task expired, and its key with it: a new task
    again = backend.submit("S.m", _Job(idem, runs))
    assert again != task_id
    wait_until(lambda: backend.status("S.m", again).state.finished, 5)
    assert runs == [1, 1]


def test_a_deferred_fingerprint_is_made_when_a_store_needs_it(
    clocked: tuple[Any, ManualClock],
) -> None:
    """A start may give its fingerprint as a function: the thread backend
    calls it only when the key comes again, SQLite when it stores the key;
    the scope stands for the key until a store asks for its hash."""
    backend, _clock = clocked
    made: list[str] = []

    def later(value: str) -> Callable[[], str]:
        def make() -> str:
            made.append(value)
            return value * 64

        return make

    scope = ("ann", "S.m", "key-1")
    first = IdempotentStart(None, later("a"), scope)
    assert first.key == scoped_key(*scope) and first.local_key == scope
    runs: list[int] = []
    task_id = backend.submit("S.m", _Job(first, runs))
    assert made == ([] if isinstance(backend, ThreadTaskBackend) else ["a"])
    with pytest.raises(AlreadyStarted) as seen:
        backend.submit("S.m", _Job(IdempotentStart(None, later("a"), scope), runs))
    assert seen.value.task_id == task_id
    with pytest.raises(KeyReused):
        backend.submit("S.m", _Job(IdempotentStart(None, later("b"), scope), runs))
    assert sorted(made) == ["a", "a", "b"]  # each made once, when needed
    other = backend.submit(
        "S.m", _Job(IdempotentStart(None, later("c"), ("bob", *scope[1:])), runs)
    )
    assert other != task_id
    with pytest.raises(TypeError):
        IdempotentStart(None, "f" * 64)


def test_sqlite_keyed_ids_share_the_key_prefix_in_every_process(tmp_path: Path) -> None:
    """On SQLite a keyed start's id begins with an HMAC of its key under the
    file's secret (the primary key finds a kept task of the key, no index
    of its own): every backend on the file derives the same prefix, another
    key another one, and the second half stays random (a start after
    expiry has its own id). A file from before loses the old unique index."""
    import sqlite3

    from ladon.tasks.base import is_task_id

    path = tmp_path / "t.db"
    SQLiteTaskBackend(path).close()
    old = sqlite3.connect(path)  # the unique index of the first keyed starts
    old.execute(
        "CREATE UNIQUE INDEX ladon_tasks_idem ON ladon_tasks (idem_key) WHERE idem_key IS NOT NULL"
    )
    old.commit()
    old.close()
    clock = ManualClock()
    first = SQLiteTaskBackend(path, result_ttl=60, clock=clock)
    second = SQLiteTaskBackend(path, result_ttl=60, clock=clock)
    try:
        look = sqlite3.connect(path)
        indexes = {
            r[0] for r in look.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        }
        look.close()
        assert "ladon_tasks_idem" not in indexes
        runs: list[int] = []
        idem = IdempotentStart("a" * 64, "f" * 64)
        one = first.submit("S.m", _Job(idem, runs))
        wait_until(lambda: first.status("S.m", one).state.finished, 5)
        with pytest.raises(AlreadyStarted) as seen:  # the other process finds it
            second.submit("S.m", _Job(idem, runs))
        assert seen.value.task_id == one
        clock.advance(61)
        two = second.submit("S.m", _Job(idem, runs))
        other = second.submit("S.m", _Job(IdempotentStart("b" * 64, "f" * 64), runs))
        assert all(is_task_id(t) for t in (one, two, other))
        assert two != one and two[:20] == one[:20] and two[20:] != one[20:]
        assert other[:20] != one[:20]
        wait_until(lambda: second.status("S.m", two).state.finished, 5)
        wait_until(lambda: second.status("S.m", other).state.finished, 5)
        assert runs == [1, 1, 1]
    finally:
        first.close()
        second.close()


def test_a_redis_key_expires_with_its_record(redis_server: RedisServer) -> None:
    """The key and the record of a start get the same time to live, when
    written and when the task ends (read with PTTL: nothing waits for an
    expiry)."""
    import redis

    from ladon.tasks.jobs import JobSpec
    from ladon.tasks.rqbackend import RedisTaskBackend

    backend = RedisTaskBackend(redis_server.url(), queue="parts", prefix="parts:", result_ttl=30)

    class Described:
        idempotency = IdempotentStart("a" * 64, "b" * 64)

        def __call__(self, handle: TaskHandle) -> object:
            raise AssertionError("run by a worker only")

        def describe(self) -> JobSpec:
            return JobSpec("S", "m")

    client = redis.Redis(unix_socket_path=redis_server.socket)
    try:
        task_id = backend.submit("S.m", Described())
        record, key = f"parts:task:{task_id}", "parts:idem:" + "a" * 64
        assert client.get(key) == f"{task_id}|{'b' * 64}".encode()
        assert abs(client.pttl(key) - client.pttl(record)) < 1000
        with pytest.raises(AlreadyStarted):
            backend.submit("S.m", Described())
        backend.cancel("S.m", task_id)  # ends it: kept result_ttl from now
        assert 28_000 < client.pttl(key) <= 30_000
        assert abs(client.pttl(key) - client.pttl(record)) < 1000
    finally:
        client.delete(*client.keys("parts:*"))
        client.close()
        backend.close()


# -- signatures ------------------------------------------------------------------------------


def test_a_signature_verifies_and_nothing_else_does() -> None:
    body = b'{"task_id": "x"}'
    now = 1_800_000_000
    header = sign([SECRET.encode()], body, now)
    assert header.startswith(f"t={now},v1=") and len(header.split("v1=")[1]) == 64
    assert verify_signature(SECRET, header, body, now=now + 10)
    assert not verify_signature(SECRET, header, body + b" ", now=now)
    assert not verify_signature("another-secret-000000", header, body, now=now)
    assert not verify_signature(SECRET, header, body, now=now + 301)  # a replay
    assert not verify_signature(SECRET, header, body, now=now - 301)
    assert verify_signature(SECRET, header, body, tolerance=600, now=now + 400)
    for broken in ("", "v1=abc", f"t={now}", "t=soon,v1=00", "garbage", f"t={now},v1="):
        assert not verify_signature(SECRET, broken, body, now=now)


def test_rotated_secrets_sign_with_each() -> None:
    body = b"{}"
    header = sign([b"new-secret-0123456789", b"old-secret-0123456789"], body, 100)
    assert header.count("v1=") == 2
    assert verify_signature("new-secret-0123456789", header, body, now=100)
    assert verify_signature("old-secret-0123456789", header, body, now=100)


# -- callback settings and URLs ------------------------------------------------------------


def settings(**options: Any) -> CallbackSettings:
    hosts = options.pop("hosts", ["hooks.example.com", "*.corp.example", "127.0.0.1", "[::1]"])
    return CallbackSettings(hosts, [SECRET], **options)


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("", "empty"),
        ("https://hooks.example.org/x", "not one this server calls"),
        ("https://corp.example/x", "not one this server calls"),  # only its subdomains
        ("https://evil.com/x.corp.example", "not one this server calls"),
        ("gopher://hooks.example.com/x", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("https://me:pw@hooks.example.com/x", "credentials"),
        ("https://hooks.example.com/x#part", "fragment"),
        ("https://hooks.example.com:0x50/x", "malformed"),
        ("https://hooks.example.com/a b", "without spaces"),
        ("https://hooks.example.com/\r\nX-Evil: 1", "without spaces"),
        ("https://hooks.example.com/é", "printable ASCII"),
        ("https://hooks.example.com/" + "x" * 2100, "longer than 2048"),
        ("http:///x", "names no host"),
        ("http://127.0.0.1/x", "non-public"),
        ("http://[::1]/x", "non-public"),
    ],
)
def test_callback_urls_refused(url: str, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        settings().check_url(url)


@pytest.mark.parametrize(
    ("host", "networks", "ok"),
    [
        ("127.0.0.1", ["127.0.0.1/32"], True),
        ("127.0.0.1", ["10.0.0.0/8"], False),
        ("10.1.2.3", ["10.1.2.0/24"], True),
        ("10.1.3.3", ["10.1.2.0/24"], False),
        ("169.254.169.254", [], False),  # a cloud's metadata service
        ("192.168.1.1", [], False),
        ("100.64.0.1", [], False),  # shared address space
        ("0.0.0.0", [], False),
        ("224.0.0.1", [], False),
        ("::ffff:127.0.0.1", [], False),  # IPv4-mapped loopback
        ("fe80::1", [], False),
        ("fc00::1", [], False),
        ("93.184.216.34", [], True),  # public
        ("2606:2800:220:1:248:1893:25c8:1946", [], True),
    ],
)
def test_addresses_are_public_unless_their_network_is_allowed(
    host: str, networks: list[str], ok: bool
) -> None:
    literal = f"[{host}]" if ":" in host else host
    rules = settings(hosts=[literal], networks=networks)
    url = f"http://{literal}/hook"
    if ok:
        assert rules.check_url(url) == url
    else:
        with pytest.raises(ValueError, match="non-public"):
            rules.check_url(url)


def test_an_unresolvable_host_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot be resolved"):
        settings(hosts=["no-such-host.invalid"]).check_url("https://no-such-host.invalid/x")


def test_wrong_settings_are_refused_when_the_application_is_built() -> None:
    with pytest.raises(ValueError, match="callback_hosts is empty"):
        CallbackSettings([], [SECRET])
    with pytest.raises(ValueError, match="need a secret"):
        CallbackSettings(["h.example"], [])
    with pytest.raises(ValueError, match="at least 16 bytes"):
        CallbackSettings(["h.example"], ["short"])
    with pytest.raises(ValueError, match="callback_networks"):
        CallbackSettings(["h.example"], [SECRET], ["not-a-network"])
    with pytest.raises(ValueError, match="not a host name"):
        CallbackSettings(["https://h.example/"], [SECRET])
    with pytest.raises(ValueError, match="callback_attempts"):
        CallbackSettings(["h.example"], [SECRET], attempts=0)
    assert SECRET not in repr(CallbackSettings(["h.example"], [SECRET]))


def test_settings_come_from_the_environment_when_not_given() -> None:
    env = {
        "LADON_CALLBACK_HOSTS": "a.example, *.b.example",
        "LADON_CALLBACK_SECRET": SECRET,
        "LADON_CALLBACK_NETWORKS": "10.0.0.0/8",
    }
    found = callback_settings(environ=env)
    assert found is not None
    assert found.hosts == ("a.example", "*.b.example") and found.secrets == (SECRET.encode(),)
    assert callback_settings(environ={}) is None  # no hosts: no callbacks
    given = callback_settings(["c.example"], "another-secret-0123456", environ=env)
    assert given is not None and given.hosts == ("c.example",)
    with pytest.raises(ValueError, match="need a secret"):
        callback_settings(environ={"LADON_CALLBACK_HOSTS": "a.example"})


def test_logged_urls_show_no_query_and_no_credentials() -> None:
    assert shown_url("https://u:p@h.example:8443/a/b?token=t") == "https://h.example:8443/a/b"
    assert shown_url("http://h.example:0/") == "http://h.example:0/"
    target = CallbackTarget("https://h.example/x", "S", "m")
    assert CallbackTarget.from_text(target.to_text()) == target
    with pytest.raises(ValueError):
        CallbackTarget.from_text('{"url": 1}')


# -- the waiting calls of a process ----------------------------------------------------------


def test_end_signals_wake_the_calls_of_their_task_only() -> None:
    signals = EndSignals()
    mine, other = signals.subscribe("a"), signals.subscribe("b")
    assert len(signals) == 2
    signals.notify("a")
    assert mine.is_set() and not other.is_set()
    signals.notify_all()
    assert other.is_set()
    signals.unsubscribe("a", mine)
    signals.unsubscribe("b", other)
    signals.unsubscribe("b", other)  # twice: harmless
    assert len(signals) == 0
    signals.notify("a")  # nobody waits: nothing happens


def test_a_thread_backend_wait_returns_at_the_end(tmp_path: Path) -> None:
    backend = ThreadTaskBackend(max_workers=1)
    go = threading.Event()
    try:
        task_id = backend.submit("S.m", lambda handle: go.wait(5))
        started = time.monotonic()
        assert backend.wait("S.m", task_id, 0.2).state.value in ("pending", "running")
        assert time.monotonic() - started >= 0.2
        threading.Timer(0.1, go.set).start()
        assert backend.wait("S.m", task_id, 10).state.value == "succeeded"
        assert time.monotonic() - started < 3
    finally:
        go.set()
        backend.close()


# -- a callback over TLS ------------------------------------------------------------------


def _certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for ``name`` (a DNS name or an IP) and its key."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    try:
        alt: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        alt = x509.DNSName(name)
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.mark.parametrize(("named", "delivered"), [("127.0.0.1", True), ("other.example", False)])
def test_an_https_callback_checks_the_certificate_of_the_url_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, named: str, delivered: bool
) -> None:
    """The connection goes to the checked address, and TLS checks the
    certificate against the URL's host: a certificate for another name
    fails the try (not retried as a success)."""
    import ssl
    from http.server import BaseHTTPRequestHandler
    from http.server import HTTPServer

    from ladon.tasks.delivery import post_callback

    cert, key = _certificate(tmp_path, named)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts this one only
    got: list[bytes] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        rules = CallbackSettings(["127.0.0.1"], [SECRET], ["127.0.0.1/32"], timeout=5)
        url = f"https://127.0.0.1:{server.server_address[1]}/hook"
        outcome = post_callback(rules, url, b'{"a": 1}', "t" * 40)
        if delivered:
            assert outcome.delivered and outcome.status == 204 and got == [b'{"a": 1}']
        else:
            assert not outcome.delivered and outcome.status is None and outcome.retry
            assert "SSL" in outcome.text or "certificate" in outcome.text
            assert got == []
    finally:
        server.shutdown()
        server.server_close()


def test_a_callback_try_is_bounded_as_a_whole() -> None:
    """``callback_timeout`` bounds one try, connect to answer: a receiver
    that sends its answer one header line a second (each read well within
    the timeout) is given up as "timed out" at the timeout, not when it
    has finished."""
    from http.server import BaseHTTPRequestHandler
    from http.server import HTTPServer

    from ladon.tasks.delivery import post_callback

    class Drip(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            try:  # written raw: send_header() holds the lines until end_headers()
                self.wfile.write(b"HTTP/1.1 204 No Content\r\n")
                for i in range(8):
                    self.wfile.write(b"X-Drip-%d: x\r\n" % i)
                    self.wfile.flush()
                    time.sleep(0.5)
                self.wfile.write(b"\r\n")
            except OSError:
                pass  # the client went away: what the test wants

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Drip)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        rules = CallbackSettings(["127.0.0.1"], [SECRET], ["127.0.0.1/32"], timeout=1)
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        outcome = post_callback(rules, url, b'{"a": 1}', "t" * 40)
        # without the bound: 204 after 4 s, the answer's end
        assert (outcome.status, outcome.text, outcome.retry) == (None, "timed out", True)
    finally:
        server.shutdown()
        server.server_close()


def test_a_try_cut_during_the_tls_handshake_ends_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deadline of a try may come while the TLS handshake is under
    way: the connection's socket is shut then too (not only once the
    handshake is done), and a connection made after it is not used."""
    import socket
    import ssl

    from ladon.tasks.delivery import _cut
    from ladon.tasks.delivery import _PinnedHTTPS

    cert, key = _certificate(tmp_path, "127.0.0.1")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    listener = socket.create_server(("127.0.0.1", 0))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    def serve() -> None:  # the handshake answered 0.8 s late
        conn, _ = listener.accept()
        time.sleep(0.8)
        try:
            context.wrap_socket(conn, server_side=True).close()
        except OSError:
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    conn = _PinnedHTTPS("127.0.0.1", listener.getsockname()[1], "127.0.0.1", 5.0)
    timer = threading.Timer(0.3, _cut, (conn, conn.expired))
    timer.start()
    try:
        began = time.monotonic()
        with pytest.raises(OSError):  # TimeoutError, or the handshake's end of file
            conn.connect()
        assert time.monotonic() - began < 0.7  # not when the server answers
    finally:
        timer.cancel()
        conn.close()
        thread.join(5)
        listener.close()


def test_a_retry_whose_state_cannot_be_written_is_still_made() -> None:
    """The store cannot be written for a moment when a failed try writes
    "retrying (...)": the sender still tries again (it takes the callback
    back only from a state it did write)."""
    from ladon.tasks import ThreadTaskBackend
    from ladon.tasks.base import BackendUnavailable
    from ladon.tasks.callbacks import CallbackTarget
    from ladon.tasks.delivery import CallbackSender
    from ladon.tasks.delivery import callback_settings

    from .receiver import Receiver

    class Flaky(ThreadTaskBackend):
        failed = False

        def set_callback_state(self, task_id: str, state: str) -> None:
            if state.startswith("retrying") and not self.failed:
                self.failed = True
                raise BackendUnavailable("the store is away for a moment")
            super().set_callback_state(task_id, state)

    receiver = Receiver()
    receiver.answer(503)
    settings = callback_settings(["127.0.0.1"], SECRET, ["127.0.0.1/32"], backoff=0.05)
    assert settings is not None

    def job(task: TaskHandle) -> str:
        return "done"

    job.callback = CallbackTarget(receiver.url("/flaky"), "Svc", "job").to_text()  # type: ignore[attr-defined]
    backend = Flaky()
    backend.callback_sender = CallbackSender(settings)
    try:
        task_id = backend.submit("Svc.job", job)
        assert len(receiver.received(2, path="/flaky")) == 2
        deadline = time.monotonic() + 5
        while (
            backend.status("Svc.job", task_id).callback_state != "delivered (HTTP 200, 2 attempts)"
        ):
            assert time.monotonic() < deadline, backend.status("Svc.job", task_id).callback_state
            time.sleep(0.01)
        assert backend.failed
    finally:
        backend.close()
        receiver.stop()


def test_a_store_failing_to_claim_does_not_block_its_receiver() -> None:
    """A store whose claim fails with an error of its own (a bug, not an
    outage) while callbacks wait for their receiver: the places taken for
    them are given back, and the next callbacks to that receiver go."""
    from ladon.tasks import ThreadTaskBackend
    from ladon.tasks.base import TaskStatus
    from ladon.tasks.callbacks import CallbackTarget
    from ladon.tasks.delivery import CallbackSender
    from ladon.tasks.delivery import callback_settings

    from .receiver import Receiver

    class Broken(ThreadTaskBackend):
        fail = 0

        def claim_callback(
            self, task_id: str, held: str | None = None, stale_after: float | None = None
        ) -> TaskStatus | None:
            if self.fail:
                self.fail -= 1
                raise RuntimeError("a store's own bug")
            return super().claim_callback(task_id, held, stale_after)

    receiver = Receiver()
    receiver.hold("/held")
    settings = callback_settings(["127.0.0.1"], SECRET, ["127.0.0.1/32"], timeout=1.0)
    assert settings is not None

    def calling(path: str) -> Callable[[TaskHandle], object]:
        def run(task: TaskHandle) -> str:
            return "done"

        run.callback = CallbackTarget(receiver.url(path), "Svc", "job").to_text()  # type: ignore[attr-defined]
        return run

    backend = Broken()
    backend.callback_sender = CallbackSender(settings, per_receiver=1)
    try:
        backend.submit("Svc.job", calling("/held"))  # takes the receiver's one place
        receiver.received(1, path="/held")
        for _ in range(2):  # wait for that place
            backend.submit("Svc.job", calling("/later"))
        time.sleep(0.2)
        backend.fail = 2  # both claims of the waiting callbacks fail
        receiver.let_go()
        # both failed: the receiver's place is free again for the next one
        time.sleep(1.5)
        last = backend.submit("Svc.job", calling("/last"))
        assert len(receiver.received(1, path="/last", timeout=5)) == 1
        assert backend.status("Svc.job", last).callback_state is not None
    finally:
        receiver.let_go()
        backend.close()
        receiver.stop()
