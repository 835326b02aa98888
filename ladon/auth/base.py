"""What authenticators see and promise: :class:`AuthRequest` and the
:class:`Authenticator` protocol.

.. versionadded:: 2.0
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any
from typing import Protocol

from ..ladonizer.access import Principal

if TYPE_CHECKING:
    from lxml import etree


class NonceStore(Protocol):
    """Remembers one-time values (see :class:`ladon.tasks.base.NonceStore`,
    which the built-in task backends are).

    .. versionadded:: 2.0
    """

    def claim_nonce(self, key: str, ttl: float) -> bool:
        """True the first time ``key`` is claimed within ``ttl`` seconds."""
        ...


def _no_store() -> NonceStore:
    raise LookupError("no nonce store is available")


class AuthRequest:
    """One request, as an authenticator reads it.

    :param environ: the WSGI environ (``REMOTE_USER``, ``HTTP_AUTHORIZATION``).
    :param interface: the name of the interface called (``"soap"``,
        ``"jsonrpc"``...), ``""`` for a docs page or a description.
    :param header_blocks: the child elements of a SOAP envelope's Header.
    :param nonces: returns the application's nonce store (its task backend).

    .. versionadded:: 2.0
    """

    # NOTE: a plain slotted class: built once per call, it must be cheap.
    __slots__ = ("environ", "header_blocks", "interface", "nonces")

    def __init__(
        self,
        environ: Mapping[str, Any],
        interface: str = "",
        header_blocks: tuple[etree._Element, ...] = (),
        nonces: Callable[[], NonceStore] = _no_store,
    ) -> None:
        self.environ = environ
        self.interface = interface
        self.header_blocks = header_blocks
        self.nonces = nonces

    @property
    def authorization(self) -> str | None:
        """The ``Authorization`` header, or ``None``."""
        value = self.environ.get("HTTP_AUTHORIZATION")
        return value if isinstance(value, str) and value else None

    def credentials(self, scheme: str) -> str | None:
        """What follows ``scheme`` (case-insensitively) in the
        ``Authorization`` header, stripped; ``None`` for another scheme or
        no header."""
        header = self.authorization
        if header is None:
            return None
        given, _, rest = header.strip().partition(" ")
        if given.lower() != scheme.lower():
            return None
        return rest.strip()


class Authenticator(Protocol):
    """Finds the caller of a request, one way.

    The application tries its authenticators in order: the first that
    returns a principal wins; ``None`` means "no credentials of my kind",
    and the next one is tried. Credentials of its kind that are wrong make
    it raise a fault (:class:`~ladon.auth.Unauthorized`, or a
    :class:`~ladon.auth.WSSecurityFault`), which refuses the call.

    .. versionadded:: 2.0
    """

    #: The name shown in descriptions and pages (``"Basic"``...).
    scheme: str
    #: True when it reads the HTTP request (headers, ``REMOTE_USER``): it
    #: then also guards the docs pages (``protect_docs``), and refusals are
    #: HTTP 401/403 on SOAP too.
    http_level: bool

    def challenge(self) -> str | None:
        """The ``WWW-Authenticate`` value of a 401, or ``None``."""
        ...

    def applies_to(self, interface: str) -> bool:
        """Whether it looks at requests of ``interface``."""
        ...

    def authenticate(self, request: AuthRequest) -> Principal | None:
        """The caller, or ``None`` when the request has no credentials of
        this kind.

        :raises ServiceFault: the credentials are wrong.
        """
        ...
