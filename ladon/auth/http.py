"""Authenticators that read the HTTP request: :class:`RemoteUser` (the
server in front did it), :class:`BasicAuth` and :class:`BearerAuth`, and
:func:`cached` to keep a slow ``verify`` off the hot path.

.. versionadded:: 2.0
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from time import monotonic
from typing import Any

from ..ladonizer.access import Principal
from .base import AuthRequest
from .faults import Unauthorized

logger = logging.getLogger("ladon.auth")

#: Longest credentials looked at (a Basic pair, a token).
MAX_CREDENTIALS = 16 * 1024

Verify = Callable[[str, str], Principal | None]
VerifyToken = Callable[[str], Principal | None]


def _realm(realm: str) -> str:
    if not realm or any(c in realm for c in '"\\\r\n') or not realm.isprintable():
        raise ValueError(f"realm must be printable text without quotes, not {realm!r}")
    return realm


def _principal(value: object, who: str) -> Principal | None:
    if value is None or isinstance(value, Principal):
        return value
    raise TypeError(f"{who} must return a Principal or None, not {type(value).__name__}")


class RemoteUser:
    """Trusts ``REMOTE_USER``, set by the server in front of the
    application (Apache ``AuthType Basic`` with mod_wsgi, a proxy that
    authenticates in front of gunicorn).

    Only use it when nothing but that server can reach the application: a
    client that talks to gunicorn directly could set the variable (gunicorn
    never takes it from a header, but a misconfigured proxy might).

    :param roles: ``roles(name) -> roles`` of a user; default: none.
    :param key: the environ key read (``REMOTE_USER``).

    .. versionadded:: 2.0
    """

    scheme = "RemoteUser"
    http_level = True

    def __init__(
        self,
        roles: Callable[[str], Iterable[str]] | None = None,
        key: str = "REMOTE_USER",
    ) -> None:
        self.roles = roles
        self.key = key

    def challenge(self) -> str | None:
        return None  # the server in front challenges

    def applies_to(self, interface: str) -> bool:
        return True

    def authenticate(self, request: AuthRequest) -> Principal | None:
        name = request.environ.get(self.key)
        if not isinstance(name, str) or not name:
            return None
        roles = self.roles(name) if self.roles is not None else ()
        return Principal(name, roles)

    def __repr__(self) -> str:
        return f"RemoteUser(key={self.key!r})"


class BasicAuth:
    """HTTP Basic authentication (RFC 7617).

    :param verify: ``verify(user, password) -> Principal | None``; ``None``
        for a wrong password or an unknown user alike. Compare secrets in
        constant time (:func:`hmac.compare_digest`) or use a password hash
        library (see :class:`~ladon.auth.HtpasswdFile`); wrap a slow
        ``verify`` in :func:`cached`. With a cached ``verify`` (one with a
        ``cache_ttl``), an accepted ``Authorization`` header is remembered
        (by its keyed hash) for that long, so that its next calls skip
        decoding and verifying.
    :param realm: the realm of the challenge.

    A request whose ``Authorization`` header is not ``Basic`` is not
    looked at; malformed Basic credentials are refused (401).

    .. versionadded:: 2.0
    """

    scheme = "Basic"
    http_level = True

    def __init__(self, verify: Verify, realm: str = "Ladon") -> None:
        if not callable(verify):
            raise TypeError("BasicAuth needs verify(user, password) -> Principal | None")
        self.verify = verify
        self.realm = _realm(realm)
        ttl = getattr(verify, "cache_ttl", 0)
        self._seen = _Accepted(float(ttl)) if isinstance(ttl, int | float) and ttl > 0 else None

    def challenge(self) -> str | None:
        return f'Basic realm="{self.realm}", charset="UTF-8"'

    def applies_to(self, interface: str) -> bool:
        return True

    def remembered(self, environ: Mapping[str, Any]) -> Principal | None:
        """With a cached ``verify``: the principal of an ``Authorization``
        header accepted within ``cache_ttl`` (looked up by its keyed hash,
        never kept itself), else ``None``. The application asks it first,
        before the full :meth:`authenticate`."""
        seen = self._seen
        header = environ.get("HTTP_AUTHORIZATION")
        if seen is None or header.__class__ is not str:
            return None
        # PERF: seen.digest(header) without its frame
        mac = seen.mac.copy()
        mac.update(header.encode("utf-8", "surrogatepass"))
        hit = seen.entries.get(mac.digest())
        if hit is None or hit[0] <= monotonic():
            return None
        return hit[1]

    def authenticate(self, request: AuthRequest) -> Principal | None:
        principal = self.remembered(request.environ)
        if principal is not None:
            return principal
        header = request.environ.get("HTTP_AUTHORIZATION")
        seen = self._seen
        encoded = request.credentials("Basic")
        if encoded is None:
            return None
        user, password = _basic_pair(encoded)
        principal = _principal(self.verify(user, password), "BasicAuth's verify")
        if principal is None:
            logger.info("Basic authentication failed for user %r", user[:64])
            raise Unauthorized("Authentication failed: wrong user name or password")
        if seen is not None and isinstance(header, str):
            seen.put(header, principal)
        return principal

    def __repr__(self) -> str:
        return f"BasicAuth(realm={self.realm!r})"


def _basic_pair(encoded: str) -> tuple[str, str]:
    """The user and password of ``Basic`` credentials.

    :raises Unauthorized: they are malformed.
    """
    if not encoded or len(encoded) > MAX_CREDENTIALS:
        raise Unauthorized("Malformed Basic credentials")
    try:
        raw = base64.b64decode(encoded.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise Unauthorized("Malformed Basic credentials: not base64") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # RFC 7617: what older clients send
    user, sep, password = text.partition(":")
    if not sep or not user or any(c in user for c in "\x00\r\n"):
        raise Unauthorized("Malformed Basic credentials: expected user:password")
    return user, password


class _Accepted:
    """Accepted ``Authorization`` headers (by keyed hash) -> principal,
    for ``ttl`` seconds; at most ``maxsize`` of them."""

    def __init__(self, ttl: float, maxsize: int = 4096) -> None:
        self.ttl = ttl
        self.maxsize = maxsize
        # PERF: keyed BLAKE2b (a MAC), keyed once and copied per use
        self.mac = hashlib.blake2b(key=secrets.token_bytes(32), digest_size=32)
        self._lock = threading.Lock()
        #: MAC of a header -> (until when, its principal)
        self.entries: OrderedDict[bytes, tuple[float, Principal]] = OrderedDict()

    def digest(self, header: str) -> bytes:
        """What the cache keeps of a header: its MAC."""
        mac = self.mac.copy()
        mac.update(header.encode("utf-8", "surrogatepass"))
        return mac.digest()

    def put(self, header: str, principal: Principal) -> None:
        with self._lock:
            self.entries[self.digest(header)] = (monotonic() + self.ttl, principal)
            while len(self.entries) > self.maxsize:
                self.entries.popitem(last=False)


class BearerAuth:
    """``Authorization: Bearer <token>`` (RFC 6750).

    :param verify: ``verify(token) -> Principal | None``; ``None`` for a
        token that is not valid. It may also raise
        :class:`~ladon.auth.Unauthorized` with a reason (e.g. "the token has
        expired"). :class:`~ladon.auth.JWTVerifier` verifies JWTs.
    :param realm: the realm of the challenge.

    .. versionadded:: 2.0
    """

    scheme = "Bearer"
    http_level = True

    def __init__(self, verify: VerifyToken, realm: str = "Ladon") -> None:
        if not callable(verify):
            raise TypeError("BearerAuth needs verify(token) -> Principal | None")
        self.verify = verify
        self.realm = _realm(realm)

    def challenge(self) -> str | None:
        return f'Bearer realm="{self.realm}"'

    def applies_to(self, interface: str) -> bool:
        return True

    def authenticate(self, request: AuthRequest) -> Principal | None:
        token = request.credentials("Bearer")
        if token is None:
            return None
        if not token or len(token) > MAX_CREDENTIALS or not token.isascii() or " " in token:
            raise Unauthorized("Malformed Bearer token")
        principal = _principal(self.verify(token), "BearerAuth's verify")
        if principal is None:
            logger.info("Bearer authentication failed: the token is not valid")
            raise Unauthorized("Authentication failed: the token is not valid")
        return principal

    def __repr__(self) -> str:
        return f"BearerAuth(realm={self.realm!r})"


class cached:
    """Keep what a ``verify(user, password)`` accepted for ``ttl`` seconds,
    so that a slow password hash (bcrypt) is computed once per user and
    password, not on every call.

    Only accepted pairs are kept, under a keyed hash (BLAKE2b with a random
    key of this process) of user and password: the cache holds no
    password, and a wrong password is always verified.

    :param verify: the ``verify`` to cache.
    :param ttl: seconds an accepted pair is kept (a password changed or an
        account removed takes this long to be noticed).
    :param maxsize: most pairs kept (the oldest go first).

    .. versionadded:: 2.0
    """

    def __init__(self, verify: Verify, ttl: float = 60.0, maxsize: int = 4096) -> None:
        if not ttl > 0 or maxsize < 1:
            raise ValueError("cached() needs ttl > 0 and maxsize >= 1")
        self.verify = verify
        self.ttl = float(ttl)
        self.maxsize = maxsize
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._seen: OrderedDict[bytes, tuple[float, Principal]] = OrderedDict()

    @property
    def cache_ttl(self) -> float:
        """Seconds an accepted pair is kept (:class:`BasicAuth` then also
        remembers the accepted header that long)."""
        return self.ttl

    def __call__(self, user: str, password: str) -> Principal | None:
        secret = (
            user.encode("utf-8", "surrogatepass")
            + b"\0"
            + password.encode("utf-8", "surrogatepass")
        )
        digest = hashlib.blake2b(secret, key=self._key, digest_size=32).digest()
        now = time.monotonic()
        with self._lock:
            hit = self._seen.get(digest)
            if hit is not None and hit[0] > now:
                self._seen.move_to_end(digest)
                return hit[1]
        principal = self.verify(user, password)
        if principal is not None:
            with self._lock:
                self._seen[digest] = (now + self.ttl, principal)
                self._seen.move_to_end(digest)
                while len(self._seen) > self.maxsize:
                    self._seen.popitem(last=False)
        return principal

    def clear(self) -> None:
        """Forget every accepted pair."""
        with self._lock:
            self._seen.clear()
