"""WS-Security UsernameToken with real SOAP clients on a live server: zeep
(PasswordText and PasswordDigest) and suds (its own WS-Security tokens), on
``soap`` and ``soap11``; a replayed nonce, a ``Created`` ten minutes old,
an expired ``wsu:Timestamp``, a wrong password and a missing header each
refused with the OASIS fault; the WSDL's WS-SecurityPolicy assertion."""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
from collections.abc import Iterator
from typing import Any

import auth_app
import pytest
import requests
import suds.client
import suds.wsse
import zeep
import zeep.exceptions
import zeep.plugins
import zeep.wsse.username
from conftest import LiveServer
from lxml import etree
from suds import WebFault

from ladon import LadonWSGIApplication
from ladon.auth import AuthRequest
from ladon.auth import InvalidSecurity
from ladon.auth import Principal
from ladon.auth import UsernameToken

from .wire import answer

pytestmark = pytest.mark.e2e

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
WSP = "http://www.w3.org/ns/ws-policy"
SOAP_IFACES = ("soap", "soap11")


def _utc(minutes: float = 0) -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)


@pytest.fixture(scope="module")
def partner_server() -> Iterator[LiveServer]:
    """An application for SOAP partners: UsernameToken only (refusals are
    SOAP faults, HTTP 500, which suds reads as WebFaults)."""
    app = LadonWSGIApplication(
        [auth_app.Vault], auth=[UsernameToken(auth_app.PASSWORDS.get, roles=auth_app.roles_of)]
    )
    server = LiveServer(app)
    yield server
    server.stop()
    app.close()


def _zeep(
    server: LiveServer, iface: str, **wsse: object
) -> tuple[zeep.Client, zeep.plugins.HistoryPlugin]:
    history = zeep.plugins.HistoryPlugin()
    token = zeep.wsse.username.UsernameToken(**wsse) if wsse else None
    client = zeep.Client(f"{server.url}/Vault/{iface}/description", wsse=token, plugins=[history])
    return client, history


@pytest.mark.parametrize("digest", [False, True], ids=["PasswordText", "PasswordDigest"])
@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_zeep_username_token(vault_server: LiveServer, iface: str, digest: bool) -> None:
    client, history = _zeep(
        vault_server, iface, username="root", password="root-pw", use_digest=digest
    )
    assert client.service.add(2, 3) == 5
    assert client.service.whoami() == "root:admin"
    assert client.service.audit() == "audited"
    sent = etree.tostring(history.last_sent["envelope"]).decode()
    assert ("#PasswordDigest" in sent) == digest
    assert ("root-pw" in sent) != digest  # a digest never carries the password


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_zeep_replayed_digest_is_refused(vault_server: LiveServer, iface: str) -> None:
    client, history = _zeep(
        vault_server, iface, username="alice", password="alice-pw", use_digest=True
    )
    assert client.service.add(1, 1) == 2
    envelope = etree.tostring(history.last_sent["envelope"])
    replay = requests.post(
        f"{vault_server.url}/Vault/{iface}",
        data=envelope,
        headers={"Content-Type": "text/xml"},
        timeout=10,
    )
    got = answer(iface, replay.status_code, replay.content)
    assert replay.status_code == 500
    assert got.code == "wsse:FailedAuthentication"
    assert "nonce was used before" in got.message


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_zeep_refusals_carry_the_oasis_codes(vault_server: LiveServer, iface: str) -> None:
    cases: list[tuple[dict[str, Any], str, str]] = [
        (
            {"username": "alice", "password": "wrong", "use_digest": True},
            "wsse:FailedAuthentication",
            "could not be authenticated",
        ),
        (
            {"username": "nobody", "password": "wrong", "use_digest": True},
            "wsse:FailedAuthentication",
            "could not be authenticated",
        ),
        (
            {"username": "alice", "password": "wrong"},
            "wsse:FailedAuthentication",
            "could not be authenticated",
        ),
        (
            {"username": "alice", "password": "alice-pw", "use_digest": True, "created": _utc(-10)},
            "wsse:InvalidSecurity",
            "outside the accepted window",
        ),
        ({}, "wsse:SecurityTokenUnavailable", "Authentication required"),
    ]
    for wsse, code, message in cases:
        client, _ = _zeep(vault_server, iface, **wsse)
        with pytest.raises(zeep.exceptions.Fault) as info:
            client.service.add(1, 2)
        assert info.value.code == code, wsse
        assert message in info.value.message
        assert "alice-pw" not in info.value.message
    client, _ = _zeep(vault_server, iface, username="bob", password="bob-pw")
    with pytest.raises(zeep.exceptions.Fault) as info:
        client.service.audit()
    assert info.value.code == "wsse:FailedAuthentication"
    assert "Access denied" in info.value.message


def _envelope(token: str, timestamp: str = "") -> bytes:
    return (
        f'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsse="{WSSE}" '
        f'xmlns:wsu="{WSU}"><e:Header><wsse:Security>{timestamp}{token}</wsse:Security></e:Header>'
        "<e:Body><add><a>1</a><b>2</b></add></e:Body></e:Envelope>"
    ).encode()


def _digest_token(user: str, password: str, created: str, nonce: bytes | None = None) -> str:
    nonce = nonce if nonce is not None else os.urandom(16)
    digest = base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest())
    return (
        f"<wsse:UsernameToken><wsse:Username>{user}</wsse:Username>"
        f'<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">'
        f"{digest.decode()}</wsse:Password><wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>"
        f"<wsu:Created>{created}</wsu:Created></wsse:UsernameToken>"
    )


def _post_soap(server: LiveServer, body: bytes) -> tuple[int, object]:
    r = requests.post(
        f"{server.url}/Vault/soap", data=body, headers={"Content-Type": "text/xml"}, timeout=10
    )
    return r.status_code, answer("soap", r.status_code, r.content)


def test_timestamp_is_honoured(vault_server: LiveServer) -> None:
    now = _utc().strftime("%Y-%m-%dT%H:%M:%SZ")
    expired = (
        f"<wsu:Timestamp><wsu:Created>{_utc(-3).isoformat()}</wsu:Created>"
        f"<wsu:Expires>{_utc(-2).isoformat()}</wsu:Expires></wsu:Timestamp>"
    )
    status, got = _post_soap(
        vault_server, _envelope(_digest_token("alice", "alice-pw", now), expired)
    )
    assert status == 500 and got.code == "wsse:InvalidSecurity" and "expired" in got.message  # type: ignore[attr-defined]
    fresh = (
        f"<wsu:Timestamp><wsu:Created>{_utc().isoformat()}</wsu:Created>"
        f"<wsu:Expires>{_utc(1).isoformat()}</wsu:Expires></wsu:Timestamp>"
    )
    status, got = _post_soap(
        vault_server, _envelope(_digest_token("alice", "alice-pw", now), fresh)
    )
    assert status == 200 and got.value == "3"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("skew", "expired_ago", "accepted"),
    [(60, 59, True), (60, 60, False), (0, 1, False), (0, -1, True)],
    ids=["within-skew", "at-skew", "no-skew", "no-skew-not-expired"],
)
def test_skew_is_also_the_grace_after_a_timestamps_expires(
    skew: float, expired_ago: float, accepted: bool
) -> None:
    """Clocks differ both ways: an ``Expires`` up to ``skew`` seconds past
    passes, as a ``Created`` up to ``skew`` seconds ahead does."""
    now = 1_800_000_000.0

    def at(offset: float) -> str:
        moment = datetime.datetime.fromtimestamp(now + offset, datetime.timezone.utc)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    security = etree.fromstring(
        f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}"><wsu:Timestamp>'
        f"<wsu:Created>{at(-120)}</wsu:Created><wsu:Expires>{at(-expired_ago)}</wsu:Expires>"
        "</wsu:Timestamp><wsse:UsernameToken><wsse:Username>alice</wsse:Username>"
        "<wsse:Password>alice-pw</wsse:Password></wsse:UsernameToken></wsse:Security>"
    )
    token = UsernameToken(auth_app.PASSWORDS.get, skew=skew, clock=lambda: now)
    request = AuthRequest({}, "soap", (security,))
    if accepted:
        assert token.authenticate(request) == Principal("alice")
    else:
        with pytest.raises(InvalidSecurity, match="The message has expired"):
            token.authenticate(request)


def test_a_timestamp_must_be_one_and_say_one_time_each(vault_server: LiveServer) -> None:
    now = _utc().strftime("%Y-%m-%dT%H:%M:%SZ")
    fresh = (
        f"<wsu:Timestamp><wsu:Created>{_utc().isoformat()}</wsu:Created>"
        f"<wsu:Expires>{_utc(1).isoformat()}</wsu:Expires></wsu:Timestamp>"
    )
    backwards = (
        f"<wsu:Timestamp><wsu:Created>{_utc().isoformat()}</wsu:Created>"
        f"<wsu:Expires>{_utc(-0.5).isoformat()}</wsu:Expires></wsu:Timestamp>"
    )
    two_created = fresh.replace("<wsu:Expires>", f"<wsu:Created>{now}</wsu:Created><wsu:Expires>")
    for timestamp, message in [
        (fresh + "<wsu:Timestamp>garbage</wsu:Timestamp>", "more than one wsu:Timestamp"),
        (two_created, "more than one wsu:Created"),
        (backwards, "expires before it was created"),
    ]:
        token = _digest_token("alice", "alice-pw", now)
        status, got = _post_soap(vault_server, _envelope(token, timestamp))
        assert (status, got.code) == (500, "wsse:InvalidSecurity")  # type: ignore[attr-defined]
        assert message in got.message  # type: ignore[attr-defined]


def test_a_security_header_for_another_actor_is_not_read(vault_server: LiveServer) -> None:
    now = _utc().strftime("%Y-%m-%dT%H:%M:%SZ")
    theirs = (
        '<wsse:Security e:actor="urn:intermediary">'
        f"{_digest_token('bob', 'bob-pw', now)}</wsse:Security>"
    )
    ours = f"<wsse:Security>{_digest_token('alice', 'alice-pw', now)}</wsse:Security>"

    def envelope(*headers: str) -> bytes:
        return (
            f'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" '
            f'xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}"><e:Header>{"".join(headers)}</e:Header>'
            "<e:Body><add><a>1</a><b>2</b></add></e:Body></e:Envelope>"
        ).encode()

    # alone, it identifies nobody: the call is anonymous, and add needs a caller
    status, got = _post_soap(vault_server, envelope(theirs))
    assert got.code == "wsse:SecurityTokenUnavailable"  # type: ignore[attr-defined]
    # beside ours, ours is read
    status, got = _post_soap(vault_server, envelope(theirs, ours))
    assert (status, got.value) == (200, "3")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (
            "<wsse:UsernameToken><wsse:Username>alice</wsse:Username></wsse:UsernameToken>",
            "no Password",
        ),
        (
            '<wsse:UsernameToken><wsse:Username>alice</wsse:Username><wsse:Password Type="x">a</wsse:Password></wsse:UsernameToken>',
            "Unsupported",
        ),
        (
            '<wsse:UsernameToken><wsse:Username>alice</wsse:Username><wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">x</wsse:Password></wsse:UsernameToken>',
            "needs a Nonce",
        ),
        (
            "<wsse:UsernameToken><wsse:Username>alice</wsse:Username><wsse:Password>alice-pw</wsse:Password><wsse:Nonce>!!</wsse:Nonce></wsse:UsernameToken>",
            "not base64",
        ),
        (
            "<wsse:UsernameToken><wsse:Username>alice</wsse:Username><wsse:Password>alice-pw</wsse:Password><wsu:Created>yesterday</wsu:Created></wsse:UsernameToken>",
            "xsd:dateTime",
        ),
        (
            "<wsse:UsernameToken><wsse:Username><b/></wsse:Username></wsse:UsernameToken>",
            "text only",
        ),
        ("<wsse:UsernameToken/><wsse:UsernameToken/>", "more than one"),
    ],
    ids=[
        "no-password",
        "bad-type",
        "digest-without-nonce",
        "bad-nonce",
        "bad-created",
        "nested",
        "two-tokens",
    ],
)
def test_malformed_tokens_are_invalid_security(
    vault_server: LiveServer, token: str, message: str
) -> None:
    status, got = _post_soap(vault_server, _envelope(token))
    assert status == 500
    assert got.code == "wsse:InvalidSecurity"  # type: ignore[attr-defined]
    assert message in got.message  # type: ignore[attr-defined]


def test_the_wsdl_asks_for_a_username_token_where_a_caller_is_needed(
    vault_server: LiveServer,
) -> None:
    for iface in SOAP_IFACES:
        url = f"{vault_server.url}/Vault/{iface}/description"
        zeep.Client(url)  # the policy does not disturb zeep
        suds.client.Client(url, cache=None)  # nor suds
        wsdl = etree.fromstring(requests.get(url, timeout=10).content)
        ns = {"w": "http://schemas.xmlsoap.org/wsdl/", "wsp": WSP}
        policy = wsdl.find("wsp:Policy", ns)
        assert policy is not None and policy.get(f"{{{WSU}}}Id") == "UsernameTokenPolicy"
        assert (
            policy.find(
                ".//{http://docs.oasis-open.org/ws-sx/ws-securitypolicy/200702}UsernameToken"
            )
            is not None
        )
        referring = {
            op.get("name")
            for op in wsdl.findall("w:binding/w:operation", ns)
            if op.find("wsp:PolicyReference", ns) is not None
        }
        assert "add" in referring and "audit" in referring and "count_result" in referring
        assert "ping" not in referring and "open_count" not in referring


def _suds(
    server: LiveServer, iface: str, token: suds.wsse.UsernameToken | None
) -> suds.client.Client:
    client = suds.client.Client(f"{server.url}/Vault/{iface}/description", cache=None)
    if token is not None:
        security = suds.wsse.Security()
        security.tokens.append(token)
        client.set_options(wsse=security)
    return client


def _suds_token(
    user: str, password: str, nonce: str | None = None, created: datetime.datetime | None = None
) -> suds.wsse.UsernameToken:
    token = suds.wsse.UsernameToken(user, password)
    token.setnonce(nonce)
    token.setcreated(created)
    return token


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_suds_username_token(partner_server: LiveServer, iface: str) -> None:
    # suds writes the nonce it was given (or made) once: a fresh token per call
    client = _suds(partner_server, iface, _suds_token("root", "root-pw"))
    assert client.service.add(2, 3) == 5
    client = _suds(
        partner_server,
        iface,
        _suds_token("root", "root-pw", nonce=base64.b64encode(os.urandom(9)).decode()),
    )
    assert client.service.whoami() == "root:admin"
    client = _suds(partner_server, iface, suds.wsse.UsernameToken("root", "root-pw"))
    assert client.service.audit() == "audited"  # PasswordText without nonce or Created
    assert client.service.audit() == "audited"


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_suds_password_digest(partner_server: LiveServer, iface: str) -> None:
    nonce = os.urandom(16)
    created = _utc()
    token = suds.wsse.UsernameToken("alice")
    token.setnonce(base64.b64encode(nonce).decode())
    token.setnonceencoding(True)
    token.setcreated(created)
    created_text = str(suds.sax.date.DateTime(created))
    digest = hashlib.sha1(nonce + created_text.encode() + b"alice-pw").digest()
    token.setpassworddigest(base64.b64encode(digest).decode())
    assert _suds(partner_server, iface, token).service.add(20, 22) == 42


@pytest.mark.parametrize("iface", SOAP_IFACES)
def test_suds_refusals_are_web_faults_with_the_oasis_codes(
    partner_server: LiveServer, iface: str
) -> None:
    nonce = base64.b64encode(os.urandom(12)).decode()
    assert (
        _suds(partner_server, iface, _suds_token("alice", "alice-pw", nonce)).service.add(1, 1) == 2
    )
    cases = [
        (_suds_token("alice", "alice-pw", nonce), "wsse:FailedAuthentication"),  # replayed nonce
        (_suds_token("alice", "wrong"), "wsse:FailedAuthentication"),
        (_suds_token("alice", "alice-pw", created=_utc(-10)), "wsse:InvalidSecurity"),
        (None, "wsse:SecurityTokenUnavailable"),
    ]
    for token, code in cases:
        with pytest.raises(WebFault) as info:
            _suds(partner_server, iface, token).service.add(1, 2)
        assert info.value.fault.faultcode == code
    with pytest.raises(WebFault) as info:
        _suds(partner_server, iface, _suds_token("bob", "bob-pw")).service.audit()
    assert info.value.fault.faultcode == "wsse:FailedAuthentication"
    assert "Access denied" in info.value.fault.faultstring


# -- SOAP 1.2 ------------------------------------------------------------------------------


@pytest.mark.parametrize("digest", [False, True], ids=["PasswordText", "PasswordDigest"])
def test_zeep_username_token_on_soap12(vault_server: LiveServer, digest: bool) -> None:
    client, history = _zeep(
        vault_server, "soap12", username="root", password="root-pw", use_digest=digest
    )
    assert client.service.add(2, 3) == 5
    assert client.service.whoami() == "root:admin"
    sent = etree.tostring(history.last_sent["envelope"]).decode()
    assert "http://www.w3.org/2003/05/soap-envelope" in sent  # a SOAP 1.2 envelope


def test_soap12_refusals_are_sender_faults_with_the_oasis_subcode(
    vault_server: LiveServer,
) -> None:
    client, _ = _zeep(vault_server, "soap12", username="alice", password="wrong", use_digest=True)
    with pytest.raises(zeep.exceptions.Fault) as info:
        client.service.add(1, 2)
    assert "could not be authenticated" in info.value.message
    assert info.value.code.endswith("Sender")
    subcodes = [etree.QName(c).localname for c in (info.value.subcodes or [])]
    assert subcodes == ["FailedAuthentication"]
    # on the wire: env:Sender, then wsse:FailedAuthentication in the WS-Security namespace
    client, history = _zeep(vault_server, "soap12", username="alice", password="wrong")
    with pytest.raises(zeep.exceptions.Fault):
        client.service.add(1, 2)
    received = history.last_received
    assert received is not None
    body = etree.tostring(received["envelope"]).decode()
    assert f'xmlns:wsse="{WSSE}">wsse:FailedAuthentication</' in body


def test_a_username_token_is_checked_before_the_arguments(partner_server: LiveServer) -> None:
    """A call with arguments its method refuses: a wrong UsernameToken is
    refused first; a right one learns what is wrong with the arguments."""
    created = _utc().strftime("%Y-%m-%dT%H:%M:%SZ")

    def post(token: str) -> tuple[int, Any]:
        body = _envelope(token).replace(b"<a>1</a>", b"<a>not-a-number</a>")
        r = requests.post(
            f"{partner_server.url}/Vault/soap",
            data=body,
            headers={"Content-Type": "text/xml"},
            timeout=10,
        )
        return r.status_code, answer("soap", r.status_code, r.content)

    status, got = post(_digest_token("bob", "wrong", created))
    assert status == 500 and got.code == "wsse:FailedAuthentication", got
    status, got = post(_digest_token("bob", "bob-pw", created))
    assert status == 500 and got.code == "SOAP-ENV:Client", got
    assert "not-a-number" in got.message
