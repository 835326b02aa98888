"""WS-Security 1.1 UsernameToken on the SOAP interfaces.

Reads the ``wsse:Security`` header of a SOAP envelope (the Call's header
blocks): a ``wsse:UsernameToken`` with a ``PasswordText`` or
``PasswordDigest`` password (``Base64(SHA-1(nonce + created + password))``),
its ``wsse:Nonce`` and ``wsu:Created``, and a ``wsu:Timestamp`` when there is
one. ``Created`` must lie within a window (default five minutes) of the
server's clock; a nonce is accepted once within that window, across every
process and host that shares the application's task backend (its nonce
store: memory for threads, the SQLite file, Redis).

.. versionadded:: 2.0
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import logging
import re
import time
from collections.abc import Callable
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..ladonizer.access import Principal
from ..wire.schema import SOAP12_ENV
from ..wire.schema import SOAP12_ROLE_NEXT
from ..wire.schema import SOAP12_ROLE_ULTIMATE
from ..wire.schema import SOAP_ACTOR_NEXT
from ..wire.schema import SOAP_ENV
from ..wire.schema import WSS_BASE64
from ..wire.schema import WSS_PASSWORD_DIGEST
from ..wire.schema import WSS_PASSWORD_TEXT
from ..wire.schema import WSSE
from ..wire.schema import WSU
from .base import AuthRequest
from .base import NonceStore
from .faults import FailedAuthentication
from .faults import InvalidSecurity

if TYPE_CHECKING:
    from lxml import etree

logger = logging.getLogger("ladon.auth")

#: The interfaces whose envelopes carry a ``wsse:Security`` header.
SOAP_INTERFACES = ("soap", "soapdocumentliteral", "soap11", "soap12")

_SECURITY = f"{{{WSSE}}}Security"
_TOKEN = f"{{{WSSE}}}UsernameToken"
_USERNAME = f"{{{WSSE}}}Username"
_PASSWORD = f"{{{WSSE}}}Password"
_NONCE = f"{{{WSSE}}}Nonce"
_CREATED = f"{{{WSU}}}Created"
_TIMESTAMP = f"{{{WSU}}}Timestamp"
_EXPIRES = f"{{{WSU}}}Expires"
_MAX_NAME = 256
_MAX_PASSWORD = 4096
_MAX_NONCE = 1024
_DATETIME = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)\Z"
)
#: What an unknown user's password is checked against (the same work as a
#: known user's, so that the time taken does not tell).
_DUMMY_PASSWORD = "\x00ladon-no-such-user\x00"


def parse_datetime(text: str) -> float:
    """An ``xsd:dateTime`` with a time zone, as epoch seconds.

    :raises ValueError: anything else.
    """
    m = _DATETIME.match(text.strip())
    if m is None:
        raise ValueError(f"not an xsd:dateTime with a time zone: {text[:40]!r}")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    fraction = float("0." + m.group(7)) if m.group(7) else 0.0
    zone = m.group(8)
    if zone == "Z":
        tz = datetime.timezone.utc
    else:
        sign = 1 if zone[0] == "+" else -1
        tz = datetime.timezone(
            sign * datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        )
    moment = datetime.datetime(year, month, day, hour, minute, second, tzinfo=tz)
    return moment.timestamp() + fraction


def password_digest(nonce: bytes, created: str, password: str) -> bytes:
    """``SHA-1(nonce + created + password)`` (UsernameToken profile 1.1,
    section 3.1), the digest a ``PasswordDigest`` carries in base64.

    .. versionadded:: 2.0
    """
    return hashlib.sha1(nonce + created.encode("utf-8") + password.encode("utf-8")).digest()


class UsernameToken:
    """WS-Security UsernameToken authentication on the SOAP interfaces.

    :param password_for: ``password_for(user) -> password | None``: the
        user's password in clear (a ``PasswordDigest`` is computed from
        it), ``None`` for an unknown user.
    :param roles: ``roles(user) -> roles``; default: none.
    :param window: seconds a ``Created`` (of the token or of a
        ``wsu:Timestamp``) may lie in the past; also how long a nonce is
        remembered (plus ``skew``).
    :param skew: seconds the sender's clock may be ahead of or behind this
        host's: a ``Created`` may lie up to ``skew`` seconds in the future,
        and a ``wsu:Timestamp`` whose ``Expires`` passed less than ``skew``
        seconds ago is still accepted (as WSS4J-style receivers allow
        clock differences both ways). ``0`` for no leeway.
    :param require_nonce: also require ``Nonce`` and ``Created`` with a
        ``PasswordText`` (a ``PasswordDigest`` always needs both).
    :param nonces: where nonces are remembered; default: the application's
        task backend (shared by its processes and hosts).
    :param interfaces: the interfaces it reads (``soap``, ``soap11`` and,
        when served, ``soap12``).
    :param clock: the time, in epoch seconds (tests give their own).

    Refusals are SOAP faults with the OASIS codes:
    ``wsse:FailedAuthentication`` (wrong password or unknown user, a nonce
    used before), ``wsse:InvalidSecurity`` (a malformed header, an
    unsupported password type, a ``Created`` or ``Timestamp`` out of the
    window), ``wsse:SecurityTokenUnavailable`` (a ``wsse:Security`` header
    with no UsernameToken, when the method needs a caller).

    .. versionadded:: 2.0
    """

    scheme = "UsernameToken"
    http_level = False

    def __init__(
        self,
        password_for: Callable[[str], str | None],
        *,
        roles: Callable[[str], Iterable[str]] | None = None,
        window: float = 300.0,
        skew: float = 60.0,
        require_nonce: bool = False,
        nonces: NonceStore | None = None,
        interfaces: Iterable[str] = SOAP_INTERFACES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not callable(password_for):
            raise TypeError("UsernameToken needs password_for(user) -> password | None")
        if not window > 0 or not skew >= 0:
            raise ValueError("UsernameToken needs window > 0 and skew >= 0 seconds")
        self.password_for = password_for
        self.roles = roles
        self.window = float(window)
        self.skew = float(skew)
        self.require_nonce = require_nonce
        self.nonces = nonces
        self.interfaces = frozenset(interfaces)
        self.clock = clock

    def challenge(self) -> str | None:
        return None  # not an HTTP scheme

    def applies_to(self, interface: str) -> bool:
        return interface in self.interfaces

    def authenticate(self, request: AuthRequest) -> Principal | None:
        if not self.applies_to(request.interface):
            return None
        # NOTE: a Security header for another node (an actor or role other
        # than this one) is not ours to read (WS-Security 1.1, 6.1)
        headers = [b for b in request.header_blocks if b.tag == _SECURITY and _for_us(b)]
        if not headers:
            return None
        if len(headers) > 1:
            raise InvalidSecurity("The envelope has more than one wsse:Security header for us")
        security = headers[0]
        now = self.clock()
        timestamps = security.findall(_TIMESTAMP)
        if len(timestamps) > 1:
            raise InvalidSecurity("The wsse:Security header has more than one wsu:Timestamp")
        if timestamps:
            self._check_timestamp(timestamps[0], now)
        tokens = security.findall(_TOKEN)
        if not tokens:
            return None
        if len(tokens) > 1:
            raise InvalidSecurity("The wsse:Security header has more than one UsernameToken")
        return self._verify(tokens[0], now, request)

    # -- checks ----------------------------------------------------------------------

    def _check_timestamp(self, timestamp: etree._Element, now: float) -> None:
        for tag, name in ((_CREATED, "Created"), (_EXPIRES, "Expires")):
            if len(timestamp.findall(tag)) > 1:
                raise InvalidSecurity(f"The wsu:Timestamp has more than one wsu:{name}")
        created = _text(timestamp.find(_CREATED), "wsu:Timestamp/wsu:Created", 64)
        if created is not None:
            self._check_created(created, now, "wsu:Timestamp")
        expires = _text(timestamp.find(_EXPIRES), "wsu:Timestamp/wsu:Expires", 64)
        if expires is not None:
            try:
                when = parse_datetime(expires)
            except ValueError:
                raise InvalidSecurity("wsu:Timestamp/wsu:Expires is not an xsd:dateTime") from None
            if created is not None and when < parse_datetime(created):
                raise InvalidSecurity("The wsu:Timestamp expires before it was created")
            # NOTE: skew is a grace after Expires too: a sender's clock may
            # be behind ours as well as ahead (documented with the parameter)
            if when + self.skew <= now:
                raise InvalidSecurity("The message has expired (wsu:Timestamp/wsu:Expires)")

    def _check_created(self, created: str, now: float, what: str) -> None:
        try:
            when = parse_datetime(created)
        except ValueError:
            raise InvalidSecurity(
                f"{what}'s Created is not an xsd:dateTime with a time zone"
            ) from None
        age = now - when
        if age > self.window or -age > self.skew:
            raise InvalidSecurity(
                f"{what}'s Created is outside the accepted window "
                f"({self.window:g} s in the past, {self.skew:g} s in the future)"
            )

    def _verify(self, token: etree._Element, now: float, request: AuthRequest) -> Principal:
        user = _text(token.find(_USERNAME), "UsernameToken/Username", _MAX_NAME)
        if not user:
            raise InvalidSecurity("The UsernameToken has no Username")
        password_el = token.find(_PASSWORD)
        given = _text(password_el, "UsernameToken/Password", _MAX_PASSWORD)
        if password_el is None or given is None:
            raise InvalidSecurity("The UsernameToken has no Password")
        kind = password_el.get("Type") or WSS_PASSWORD_TEXT
        if kind not in (WSS_PASSWORD_TEXT, WSS_PASSWORD_DIGEST):
            raise InvalidSecurity(
                "Unsupported UsernameToken password type (PasswordText and PasswordDigest are)"
            )
        nonce = _nonce(token.find(_NONCE))
        created = _text(token.find(_CREATED), "UsernameToken/wsu:Created", 64)
        digest = kind == WSS_PASSWORD_DIGEST
        if (digest or self.require_nonce) and (nonce is None or created is None):
            raise InvalidSecurity("The UsernameToken needs a Nonce and a wsu:Created")
        if created is not None:
            self._check_created(created, now, "UsernameToken")
        known = self.password_for(user)
        expected = known if known is not None else _DUMMY_PASSWORD
        if digest:
            assert nonce is not None and created is not None
            try:
                sent = base64.b64decode(given.strip().encode("ascii"), validate=True)
            except (binascii.Error, UnicodeEncodeError, ValueError):
                sent = b""
            ok = hmac.compare_digest(sent, password_digest(nonce, created, expected))
        else:
            ok = hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
        if not ok or known is None:
            logger.info("UsernameToken authentication failed for user %r", user[:64])
            raise FailedAuthentication()
        if nonce is not None:
            store = self.nonces if self.nonces is not None else request.nonces()
            key = "wsse-nonce:" + base64.b64encode(nonce).decode("ascii")
            if not store.claim_nonce(key, self.window + self.skew):
                logger.warning("UsernameToken nonce replayed (user %r)", user[:64])
                raise FailedAuthentication(
                    "The security token could not be authenticated: its nonce was used before"
                )
        roles = self.roles(user) if self.roles is not None else ()
        return Principal(user, roles)

    def __repr__(self) -> str:
        return f"UsernameToken(window={self.window:g})"


#: The values of SOAP 1.1's ``actor`` and SOAP 1.2's ``role`` that mean
#: this node (no attribute: the ultimate receiver, this node too).
_OUR_ROLES = frozenset({"", SOAP_ACTOR_NEXT, SOAP12_ROLE_NEXT, SOAP12_ROLE_ULTIMATE})
_ACTOR = f"{{{SOAP_ENV}}}actor"
_ROLE = f"{{{SOAP12_ENV}}}role"


def _for_us(block: etree._Element) -> bool:
    """Whether a header block is for this node (not another actor or role)."""
    target = block.get(_ACTOR)
    if target is None:
        target = block.get(_ROLE, "")
    return target.strip() in _OUR_ROLES


def _text(element: etree._Element | None, what: str, limit: int) -> str | None:
    if element is None:
        return None
    if len(element):
        raise InvalidSecurity(f"{what} must hold text only")
    text = element.text or ""
    if len(text) > limit:
        raise InvalidSecurity(f"{what} is too long")
    return text.strip() if what.endswith(("Username", "Created", "Expires")) else text


def _nonce(element: etree._Element | None) -> bytes | None:
    if element is None:
        return None
    encoding = element.get("EncodingType")
    if encoding not in (None, WSS_BASE64):
        raise InvalidSecurity("Unsupported Nonce EncodingType (Base64Binary is)")
    text = _text(element, "UsernameToken/Nonce", _MAX_NONCE) or ""
    try:
        nonce = base64.b64decode(text.strip().encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise InvalidSecurity("The UsernameToken's Nonce is not base64") from None
    if not nonce:
        raise InvalidSecurity("The UsernameToken's Nonce is empty")
    return nonce
