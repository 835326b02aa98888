"""Completion callbacks: one signed POST when a task ends.

A task started with a ``Ladon-Callback-URL`` header gets one ``POST`` to
that URL once it has ended (succeeded, failed or cancelled), from whichever
process ended it (a pool thread of the web process, another process sharing
the SQLite file, an RQ worker)::

    POST /hooks/ladon HTTP/1.1
    Content-Type: application/json
    Ladon-Signature: t=1767225600,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd
    Ladon-Task-Id: 3f0c...

    {"task_id": "3f0c...", "service": "Clones", "method": "cloneInstance",
     "state": "succeeded", "message": null, "result": {"instance": "vm-2"}}

``result`` is the task's result as the JSON interfaces write it (``null``
unless it succeeded); ``message`` is what ``_progress`` says (the error of a
failed task). ``Ladon-Signature`` is ``t=<unix time>,v1=<hex>``, the hex
being the HMAC-SHA256, keyed with the application's ``callback_secret``, of
the bytes ``<t>.`` followed by the body (one ``v1`` per secret while
secrets are rotated). A receiver recomputes it, compares in constant time
and refuses a ``t`` too far from its clock (see :func:`verify_signature`).

Only hosts the operator listed (``callback_hosts``) are called, over http
or https, never at a loopback, private, link-local or otherwise non-public
address unless its network is listed (``callback_networks``): the URL is
checked when the task starts (a client fault otherwise) and its host
resolved and checked again when the callback is sent, the connection going
to the address checked. Redirects are not followed. A 2xx answer delivers
it; 5xx, 408, 429, a time-out or a connection error are retried with
exponential back-off (``callback_backoff`` seconds, doubling) up to
``callback_attempts`` tries in all, then the callback is given up and
logged (host and path only: no query, no secret). Any other answer fails it
at once. How it went is kept with the task (``callback_state``) and shown
in ``_progress``'s message.

The secret is never written to the task store: every process that may end
tasks gets it from its own configuration (the application's
``callback_secret``, else the ``LADON_CALLBACK_SECRET`` environment
variable; ``ladon worker`` loads the application, or reads the variables
when it serves service files).

.. versionadded:: 2.0
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import os
import re
import socket
import time
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult
from urllib.parse import urlsplit

logger = logging.getLogger("ladon")

#: The request header naming the callback URL of a task start.
CALLBACK_URL_HEADER = "Ladon-Callback-URL"
#: The header of the callback carrying its signature.
SIGNATURE_HEADER = "Ladon-Signature"
#: Where the settings come from when the application gives none (and for
#: ``ladon worker`` serving service files): the secret, the allowed hosts
#: (comma-separated) and the allowed non-public networks (comma-separated).
SECRET_ENV = "LADON_CALLBACK_SECRET"
HOSTS_ENV = "LADON_CALLBACK_HOSTS"
NETWORKS_ENV = "LADON_CALLBACK_NETWORKS"
#: The longest callback URL accepted.
MAX_URL_LENGTH = 2048
#: The shortest secret accepted (in bytes).
MIN_SECRET_LENGTH = 16
#: The delivery state of a callback whose task has not ended (or that no
#: process took yet).
PENDING = "pending"
SENDING = "sending"
#: How the state of a callback waiting to be tried again begins
#: (``retrying (attempt 1 of 5: HTTP 503)``).
RETRYING = "retrying ("


def in_flight(state: str | None) -> bool:
    """Whether a callback in ``state`` is held by a process: being sent, or
    waiting to be tried again. A store notes when such a state was written;
    one left unchanged too long (its process is gone) may be taken by
    another process."""
    return state is not None and (state == SENDING or state.startswith(RETRYING))


#: Answers after which a callback is tried again.
RETRIED_STATUSES = frozenset({408, 425, 429})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class CallbackTarget:
    """Where a task's callback goes, as kept with the task.

    :param url: the checked URL.
    :param service: the service's name.
    :param method: the task method's name.

    .. versionadded:: 2.0
    """

    url: str
    service: str
    method: str

    def to_text(self) -> str:
        """The JSON text kept in the task store."""
        return json.dumps({"url": self.url, "service": self.service, "method": self.method})

    @classmethod
    def from_text(cls, text: str) -> CallbackTarget:
        """Read :meth:`to_text`'s JSON.

        :raises ValueError: it is not such a text.
        """
        data = json.loads(text)
        if not isinstance(data, dict) or not all(
            isinstance(data.get(k), str) for k in ("url", "service", "method")
        ):
            raise ValueError("not a callback target")
        return cls(data["url"], data["service"], data["method"])


def job_callback(job: object) -> str | None:
    """A job's ``callback`` attribute: the :meth:`CallbackTarget.to_text` of
    its callback (the framework's jobs have it when the start carried a
    ``Ladon-Callback-URL``), else ``None``.

    .. versionadded:: 2.0
    """
    value = getattr(job, "callback", None)
    return value if isinstance(value, str) and value else None


def sign(secrets: Sequence[bytes], body: bytes, timestamp: int) -> str:
    """The ``Ladon-Signature`` of a body: ``t=<timestamp>,v1=<hex>``, one
    ``v1`` per secret, each the HMAC-SHA256 of ``b"<timestamp>." + body``.

    .. versionadded:: 2.0
    """
    signed = str(timestamp).encode("ascii") + b"." + body
    macs = [hmac.new(secret, signed, hashlib.sha256).hexdigest() for secret in secrets]
    return ",".join([f"t={timestamp}", *(f"v1={mac}" for mac in macs)])


def verify_signature(
    secret: str | bytes,
    header: str,
    body: bytes,
    tolerance: float = 300.0,
    now: float | None = None,
) -> bool:
    """What a receiver does with a callback: True when ``header`` (the
    ``Ladon-Signature`` it came with) holds a ``v1`` that is the
    HMAC-SHA256 of ``b"<t>." + body`` under ``secret`` (compared in
    constant time), and ``t`` is within ``tolerance`` seconds of ``now``
    (so that an old callback cannot be replayed).

    :param secret: the application's ``callback_secret``.
    :param header: the ``Ladon-Signature`` header.
    :param body: the raw request body, as received.
    :param now: the receiver's time (default: :func:`time.time`).

    .. versionadded:: 2.0
    """
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    timestamp: int | None = None
    macs: list[str] = []
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            macs.append(value)
    if timestamp is None or not macs:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = hmac.new(key, f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()
    # every v1 is compared (no early exit on a match)
    found = False
    for mac in macs:
        found |= hmac.compare_digest(expected, mac)
    return found


def _host_allowed(host: str, hosts: Iterable[str]) -> bool:
    for allowed in hosts:
        if allowed.startswith("*."):
            if host.endswith(allowed[1:]) and len(host) > len(allowed) - 1:
                return True
        elif host == allowed:
            return True
    return False


def _public(address: IPAddress) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


class CallbackSettings:
    """Where callbacks may go, how they are signed and retried.

    :param hosts: the host names (or IP literals) callbacks may go to;
        ``*.example.com`` allows every subdomain of ``example.com``.
    :param secrets: the signing secret(s), 16 bytes or more; the first
        signs, all are in the signature while secrets are rotated.
    :param networks: networks (``"10.1.2.0/24"``, ``"127.0.0.1/32"``) that
        callbacks may reach although they are loopback, private or
        link-local; by default none is.
    :param attempts: tries in all before a callback is given up (>= 1).
    :param backoff: seconds before the second try; it doubles after each.
    :param timeout: seconds a try may take to connect and to answer.
    :raises ValueError: a setting is wrong.

    .. versionadded:: 2.0
    """

    def __init__(
        self,
        hosts: Iterable[str],
        secrets: Iterable[str | bytes],
        networks: Iterable[str] = (),
        attempts: int = 5,
        backoff: float = 1.0,
        timeout: float = 5.0,
    ) -> None:
        self.hosts = tuple(_host_rule(h) for h in hosts)
        keys = [s.encode("utf-8") if isinstance(s, str) else bytes(s) for s in secrets]
        if not self.hosts:
            raise ValueError("callback_hosts is empty: list the hosts callbacks may go to")
        if not keys:
            raise ValueError(
                f"callbacks need a secret to sign them: give callback_secret= (or set {SECRET_ENV})"
            )
        if any(len(k) < MIN_SECRET_LENGTH for k in keys):
            raise ValueError(
                f"callback_secret must be at least {MIN_SECRET_LENGTH} bytes long "
                "(e.g. secrets.token_hex(32))"
            )
        self.secrets = tuple(keys)
        try:
            self.networks: tuple[Network, ...] = tuple(
                ipaddress.ip_network(n.strip(), strict=False) for n in networks
            )
        except ValueError as exc:
            raise ValueError(f"callback_networks: {exc}") from None
        if not (isinstance(attempts, int) and attempts >= 1):
            raise ValueError(f"callback_attempts must be an integer >= 1, not {attempts!r}")
        if not (0 <= backoff < 3600):
            raise ValueError(f"callback_backoff must be seconds in [0, 3600), not {backoff!r}")
        if not (0 < timeout <= 600):
            raise ValueError(f"callback_timeout must be seconds in (0, 600], not {timeout!r}")
        self.attempts = attempts
        self.backoff = float(backoff)
        self.timeout = float(timeout)

    def __repr__(self) -> str:  # never the secrets
        return f"<CallbackSettings hosts={list(self.hosts)} attempts={self.attempts}>"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> CallbackSettings | None:
        """The settings :data:`HOSTS_ENV`, :data:`SECRET_ENV` and
        :data:`NETWORKS_ENV` give, or ``None`` when no hosts are set.

        :raises ValueError: they are set but wrong.
        """
        env = os.environ if environ is None else environ
        hosts = _split(env.get(HOSTS_ENV, ""))
        if not hosts:
            return None
        secret = env.get(SECRET_ENV, "")
        return cls(hosts, [secret] if secret else [], _split(env.get(NETWORKS_ENV, "")))

    def allowed_address(self, address: IPAddress) -> bool:
        """Whether a callback may connect to ``address``."""
        return _public(address) or any(address in n for n in self.networks)

    def check_url(self, url: str) -> str:
        """Check a ``Ladon-Callback-URL`` before a task starts.

        :returns: the URL.
        :raises ValueError: why it is refused (safe to show the client).
        """
        parts = _parse(url)
        host = url_host(parts)
        if not _host_allowed(host, self.hosts):
            raise ValueError(
                f"the callback host {host!r} is not one this server calls "
                "(the operator's callback_hosts)"
            )
        self.addresses(host, _port(parts))
        return url

    def addresses(self, host: str, port: int) -> list[IPAddress]:
        """The addresses of ``host`` a callback may connect to.

        :raises ValueError: it cannot be resolved, or one of its addresses
            is not allowed (loopback, private... without its network
            listed).
        """
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise ValueError(f"the callback host {host!r} cannot be resolved ({exc})") from None
        found: list[IPAddress] = []
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
            if not self.allowed_address(address):
                raise ValueError(
                    f"the callback host {host!r} resolves to {address}, a loopback, private "
                    "or otherwise non-public address this server does not call"
                )
            if address not in found:
                found.append(address)
        if not found:
            raise ValueError(f"the callback host {host!r} has no address")
        return found


def _split(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _host(host: str) -> str:
    return host.strip().lower().rstrip(".")


def url_host(parts: SplitResult) -> str:
    """The host a callback URL names, as it is checked, resolved and
    called (lower case, without a final dot: ``example.com.`` is
    ``example.com``), at start and at send alike.

    .. versionadded:: 2.0
    """
    return _host(parts.hostname or "")


def _host_rule(rule: str) -> str:
    text = _host(str(rule))
    body = text[2:] if text.startswith("*.") else text
    if not body or any(c in body for c in "/:@ *") and not _ip_literal(body):
        raise ValueError(f"callback_hosts: {rule!r} is not a host name, IP address or *.domain")
    return text.strip("[]")


def _ip_literal(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


_TWO_URLS = re.compile(r",\s*https?://", re.IGNORECASE)


def _parse(url: str) -> SplitResult:
    if not isinstance(url, str) or not url:
        raise ValueError("the callback URL is empty")
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"the callback URL is longer than {MAX_URL_LENGTH} characters")
    if _TWO_URLS.search(url):
        # a server joins repeated header lines with commas
        raise ValueError("the header holds more than one URL (was it sent twice?)")
    if not all("!" <= ch <= "~" for ch in url):
        raise ValueError(
            "the callback URL must be printable ASCII without spaces (percent-encode the rest)"
        )
    try:
        parts = urlsplit(url)
        port = parts.port  # refuses a bad port now
    except ValueError as exc:
        raise ValueError(f"the callback URL is malformed ({exc})") from None
    if port == 0:
        raise ValueError("the callback URL is malformed (port 0 takes no connection)")
    if parts.scheme not in ("http", "https"):
        raise ValueError("the callback URL must be http:// or https://")
    if not parts.hostname:
        raise ValueError("the callback URL names no host")
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            "the callback URL must not hold credentials (callbacks are signed instead)"
        )
    if parts.fragment:
        raise ValueError("the callback URL must not have a #fragment")
    return parts


def _port(parts: SplitResult) -> int:
    port = parts.port
    if port is not None:
        return port
    return 443 if parts.scheme == "https" else 80


def shown_url(url: str) -> str:
    """A URL as logs show it: scheme, host, port and path (no query, no
    credentials).

    .. versionadded:: 2.0
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = "" if parts.port is None else f":{parts.port}"
    except ValueError:
        return "<malformed URL>"
    return f"{parts.scheme}://{host}{port}{parts.path}"
