"""Authentication and access on the one request path.

:class:`Authentication` is a :class:`~ladon.server.dispatch.Step`: before
each call it finds the caller with the application's authenticators (once
per request), records it on the :class:`~ladon.server.dispatch.Exchange`
and checks the method's :class:`~ladon.ladonizer.access.Access` rule. The
same step answers for every interface; the faults it raises carry their
HTTP status and ``WWW-Authenticate`` challenges, which the dispatcher puts
on the interface's answer.

.. versionadded:: 2.0
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from ..auth.base import Authenticator
from ..auth.base import AuthRequest
from ..auth.base import NonceStore
from ..auth.faults import AuthFault
from ..auth.faults import CredentialsRequired
from ..auth.faults import Forbidden
from ..auth.faults import Unauthorized
from ..exceptions.service import ServerFault
from ..interfaces.base import Call
from ..interfaces.base import Outcome
from ..ladonizer.access import ANONYMOUS
from ..ladonizer.access import AUTHENTICATED
from ..ladonizer.access import Access
from ..ladonizer.access import Principal
from ..ladonizer.model import MethodInfo
from ..ladonizer.model import MethodKind
from ..tasks.base import BackendUnavailable
from .dispatch import Exchange

logger = logging.getLogger("ladon.auth")


class Authentication:
    """The step that identifies the caller and enforces access rules.

    :param authenticators: tried in order; the first that returns a
        principal wins.
    :param nonces: returns the nonce store (the application's task backend).
    :param protect_docs: descriptions and introspection calls need an
        authenticated caller too.

    .. versionadded:: 2.0
    """

    def __init__(
        self,
        authenticators: Sequence[Authenticator],
        nonces: Callable[[], NonceStore],
        protect_docs: bool = False,
    ) -> None:
        self.authenticators = tuple(authenticators)
        self.nonces = nonces
        self.protect_docs = protect_docs
        self.challenges = tuple(
            ("WWW-Authenticate", c) for c in (a.challenge() for a in self.authenticators) if c
        )
        #: Refusals are HTTP 401/403 on SOAP too when some authenticator
        #: reads HTTP; with WS-Security alone they are SOAP faults (500).
        self.http_level = any(a.http_level for a in self.authenticators)
        self.http_authenticators = tuple(a for a in self.authenticators if a.http_level)

    # -- Step ---------------------------------------------------------------------------

    def before_call(self, exchange: Exchange, call: Call) -> None:
        rule = self.rule(call.method)
        principal = self.identify(exchange, call)
        if rule.allows(principal):
            return
        if principal is None:
            raise self.refusal(
                CredentialsRequired(
                    f"Authentication required: {call.method.name} needs an authenticated caller",
                    hint=self.hint(exchange.interface.name),
                )
            )
        raise self.refusal(
            Forbidden(f"Access denied: {call.method.name} needs the role {_roles(rule)}")
        )

    def after_call(self, exchange: Exchange, call: Call, outcome: Outcome, seconds: float) -> None:
        pass

    # -- pieces -------------------------------------------------------------------------

    def rule(self, method: MethodInfo) -> Access:
        """The rule of ``method`` (introspection calls are descriptions)."""
        if method.kind is MethodKind.INTROSPECTION:
            return AUTHENTICATED if self.protect_docs else ANONYMOUS
        return method.access

    def identify(self, exchange: Exchange, call: Call) -> Principal | None:
        """The caller of the request (looked for once per request).

        :raises ServiceFault: credentials were sent and are wrong.
        """
        if exchange.identified:
            return exchange.principal
        request = AuthRequest(
            exchange.environ, exchange.interface.name, call.header_blocks, self.nonces
        )
        exchange.principal = self._find(self.authenticators, request)
        exchange.identified = True
        return exchange.principal

    def identify_http(self, environ: Mapping[str, Any]) -> Principal | None:
        """The caller of a docs page or description request (the
        authenticators that read HTTP).

        :raises ServiceFault: credentials were sent and are wrong.
        """
        return self._find(self.http_authenticators, AuthRequest(environ, "", (), self.nonces))

    def _find(
        self, authenticators: Sequence[Authenticator], request: AuthRequest
    ) -> Principal | None:
        for authenticator in authenticators:
            if not authenticator.applies_to(request.interface):
                continue
            try:
                principal = authenticator.authenticate(request)
            except AuthFault as fault:
                raise self.refusal(fault) from None
            except BackendUnavailable as exc:
                logger.error("The nonce store is unavailable: %s", exc)
                raise ServerFault(
                    "The authentication service is unavailable; try again later"
                ) from None
            if principal is not None:
                return principal
        return None

    def refusal(self, fault: AuthFault) -> AuthFault:
        """``fault`` with the application's challenges (a 401) and HTTP
        level."""
        if isinstance(fault, Unauthorized):
            fault.http_headers = self.challenges
            fault.http_level = self.http_level
        elif isinstance(fault, Forbidden):
            fault.http_level = self.http_level
        return fault

    def hint(self, interface: str) -> str:
        """How a client of ``interface`` may authenticate."""
        names = [a.scheme for a in self.authenticators if a.applies_to(interface)]
        return "send credentials: " + ", ".join(names) if names else ""


def _roles(rule: Access) -> str:
    return " or ".join(repr(r) for r in rule.roles)
