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

import dataclasses
import logging
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from ..auth.base import Authenticator
from ..auth.base import AuthRequest
from ..auth.base import NonceStore
from ..auth.faults import AuthFault
from ..auth.faults import CredentialsRequired
from ..auth.faults import FailedAuthentication
from ..auth.faults import Forbidden
from ..auth.faults import Unauthorized
from ..exceptions.base import DefinitionError
from ..exceptions.service import ServerFault
from ..interfaces.base import Call
from ..interfaces.base import Outcome
from ..ladonizer.access import ANONYMOUS
from ..ladonizer.access import AUTHENTICATED
from ..ladonizer.access import Access
from ..ladonizer.access import AccessKind
from ..ladonizer.access import InvalidPrincipal
from ..ladonizer.access import Principal
from ..ladonizer.access import access_rule
from ..ladonizer.model import MethodInfo
from ..ladonizer.model import MethodKind
from ..ladonizer.model import ServiceInfo
from ..tasks._nonces import MemoryNonces
from ..tasks.base import SYSTEM_CLOCK
from ..tasks.base import BackendUnavailable
from .dispatch import Exchange

if TYPE_CHECKING:
    from werkzeug.wrappers import Response

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

    #: It only checks calls: no :meth:`after_call` (see :class:`Step`).
    observes = False
    #: It also checks the caller of a call whose arguments are refused
    #: (before the argument fault is answered; see the dispatcher).
    checks_caller = True

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
        #: interface name -> the authenticators that read its requests
        self._by_interface: dict[
            str,
            tuple[
                tuple[Authenticator, ...], Callable[[Mapping[str, Any]], Principal | None] | None
            ],
        ] = {}

    # -- Step ---------------------------------------------------------------------------

    def before_call(self, exchange: Exchange, call: Call) -> None:
        method = call.method
        rule = method.access if method.kind is not MethodKind.INTROSPECTION else self.rule(method)
        if exchange.identified:
            principal = exchange.principal
        else:
            # PERF: a caller the first authenticator accepted a moment ago (a
            # cached Basic verify) is known from one look-up; identify() does
            # the rest
            found = self._by_interface.get(exchange.interface.name)
            remembered = found[1] if found is not None else None
            principal = remembered(exchange.environ) if remembered is not None else None
            if principal is not None:
                exchange.principal = principal
                exchange.identified = True
            else:
                principal = self.identify(exchange, call, remembered is not None)
        kind = rule.kind
        if (
            kind is AccessKind.ANONYMOUS
            or (principal is not None and kind is AccessKind.AUTHENTICATED)
            or rule.allows(principal)
        ):
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

    def check_credentials(self, exchange: Exchange) -> None:
        """Refuse the HTTP credentials of a request refused before its
        method is known, when they were sent and are wrong (see
        :class:`~ladon.server.dispatch.Step`). Credentials in the SOAP
        envelope (WS-Security) are not looked for: the envelope may not
        even parse."""
        if exchange.identified or not self.http_authenticators:
            return
        name = exchange.interface.name
        http = tuple(a for a in self.http_authenticators if a.applies_to(name))
        if http:
            self._find(http, AuthRequest(exchange.environ, name, (), self.nonces))

    # -- pieces -------------------------------------------------------------------------

    def rule(self, method: MethodInfo) -> Access:
        """The rule of ``method`` (introspection calls are descriptions)."""
        if method.kind is MethodKind.INTROSPECTION:
            return AUTHENTICATED if self.protect_docs else ANONYMOUS
        return method.access

    def identify(
        self, exchange: Exchange, call: Call, remembered_tried: bool = False
    ) -> Principal | None:
        """The caller of the request (looked for once per request).

        :param remembered_tried: the first authenticator's ``remembered``
            look-up was made for this request (and found nobody).
        :raises ServiceFault: credentials were sent and are wrong.
        """
        if exchange.identified:
            return exchange.principal
        name = exchange.interface.name
        found = self._by_interface.get(name)
        if found is None:
            found = self._for_interface(name)
        authenticators, remembered = found
        environ = exchange.environ
        principal = None
        if remembered is not None and not remembered_tried:
            principal = remembered(environ)
        if principal is None:  # PERF: else the first authenticator knew the caller
            request = AuthRequest(environ, name, call.header_blocks, self.nonces)
            principal = self._find(authenticators, request)
        exchange.principal = principal
        exchange.identified = True
        return principal

    def _for_interface(
        self, name: str
    ) -> tuple[tuple[Authenticator, ...], Callable[[Mapping[str, Any]], Principal | None] | None]:
        """The authenticators of ``name``, and the ``remembered`` look-up
        of the first one when it has one (a cached Basic verify)."""
        authenticators = tuple(a for a in self.authenticators if a.applies_to(name))
        remembered = getattr(authenticators[0], "remembered", None) if authenticators else None
        found = (authenticators, remembered if callable(remembered) else None)
        if len(self._by_interface) < 256:
            self._by_interface[name] = found
        return found

    @property
    def unauthenticated_status(self) -> int:
        """The HTTP status refusing a caller without (or with wrong)
        credentials: 401, with :attr:`challenges`, when the application has
        an HTTP scheme to offer, else 403.

        A 401 must carry a challenge (RFC 9110, 15.5.2); with no scheme to
        offer over HTTP (``RemoteUser``: the server in front challenges;
        ``UsernameToken``: only in SOAP) the request is refused instead.
        Calls, docs pages and descriptions (``protect_docs``) and the
        operator endpoints all answer so.

        .. versionadded:: 2.0
        """
        return 401 if self.challenges else 403

    def refused(self, make: Callable[[int, str], Response], text: str) -> Response:
        """A refusal of an unauthenticated request made by ``make(status,
        text)``, with :attr:`challenges` when it is a 401 (see
        :attr:`unauthenticated_status`).

        .. versionadded:: 2.0
        """
        status = self.unauthenticated_status
        response = make(status, text)
        if status == 401:
            for name, value in self.challenges:
                response.headers.add(name, value)
        return response

    def identify_http(self, environ: Mapping[str, Any]) -> Principal | None:
        """The caller of a docs page or description request (the
        authenticators that read HTTP).

        :raises ServiceFault: credentials were sent and are wrong.
        """
        request = AuthRequest(environ, "", (), self.nonces)
        return self._find([a for a in self.http_authenticators if a.applies_to("")], request)

    def _find(
        self, authenticators: Sequence[Authenticator], request: AuthRequest
    ) -> Principal | None:
        for authenticator in authenticators:
            try:
                principal = authenticator.authenticate(request)
            except AuthFault as fault:
                raise self.refusal(fault) from None
            except InvalidPrincipal as exc:
                # a verify (or roles) that gave a name no task store or
                # answer can hold (a JWT sub with a lone surrogate): the
                # credentials are refused, as wrong ones are
                logger.warning("%r gave a principal that cannot be used: %s", authenticator, exc)
                message = "Authentication failed: the user name or a role cannot be used"
                refused: AuthFault = (
                    Unauthorized(message)
                    if authenticator.http_level
                    else FailedAuthentication(message)
                )
                raise self.refusal(refused) from None
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
            if not self.challenges:
                # no scheme to offer over HTTP: refused (unauthenticated_status)
                fault.http_status = 403
        elif isinstance(fault, Forbidden):
            fault.http_level = self.http_level
        return fault

    def hint(self, interface: str) -> str:
        """How a client of ``interface`` may authenticate."""
        names = [a.scheme for a in self.authenticators if a.applies_to(interface)]
        return "send credentials: " + ", ".join(names) if names else ""


class LocalNonces:
    """Nonces in this process's memory (for a task backend without any).

    .. versionadded:: 2.0
    """

    def __init__(self) -> None:
        self._nonces = MemoryNonces(SYSTEM_CLOCK)

    def claim_nonce(self, key: str, ttl: float) -> bool:
        return self._nonces.claim(key, ttl)


def default_access(
    authenticators: Sequence[Authenticator], access: object, protect_docs: bool
) -> Access:
    """The application's default access rule.

    :raises DefinitionError: a rule or ``protect_docs`` needs a caller, but
        no authenticator is given.

    .. versionadded:: 2.0
    """
    if protect_docs and not authenticators:
        raise DefinitionError("protect_docs=True needs authenticators: give auth=[...]")
    if access is None:
        return AUTHENTICATED if authenticators else ANONYMOUS
    rule = access_rule(access, "LadonWSGIApplication(access=...)")
    if rule.needs_principal and not authenticators:
        raise DefinitionError(
            f"access={access!r} needs authenticated callers, but the application has no "
            "auth=[...]: give it authenticators (ladon.auth)"
        )
    return rule


def secured_services(
    services: list[ServiceInfo], authenticators: Sequence[Authenticator]
) -> list[ServiceInfo]:
    """The services, knowing the application's authentication schemes.

    :raises DefinitionError: a method needs a caller but there are no
        authenticators.

    .. versionadded:: 2.0
    """
    if not authenticators:
        for service in services:
            for m in service.methods.values():
                if m.access.needs_principal:
                    raise DefinitionError(
                        f"{service.name}.{m.name} has access {m.access}, which needs "
                        "authenticated callers, but the application has no auth=[...]: "
                        "give it authenticators (ladon.auth)"
                    )
        return services
    for a in authenticators:
        for attr in ("scheme", "http_level", "challenge", "applies_to", "authenticate"):
            if not hasattr(a, attr):
                raise DefinitionError(f"auth: {a!r} is not an authenticator (no {attr})")
    schemes = tuple(dict.fromkeys(str(a.scheme) for a in authenticators))
    return [dataclasses.replace(s, auth_schemes=schemes) for s in services]


def _roles(rule: Access) -> str:
    return " or ".join(repr(r) for r in rule.roles)
