"""Identity and access: who is calling, what they may call, whose tasks
they see.

Give the application its authenticators, tried in order, and a default
rule::

    from ladon import LadonWSGIApplication
    from ladon.auth import BasicAuth, BearerAuth, HtpasswdFile, JWTVerifier, UsernameToken

    app = LadonWSGIApplication(
        ["calculator"],
        auth=[BasicAuth(HtpasswdFile("/etc/ladon/htpasswd")),
              BearerAuth(JWTVerifier(jwks_file="/etc/ladon/jwks.json", audience="ladon")),
              UsernameToken(partner_passwords.get)],
        access="authenticated",
    )

A method overrides the default with ``@ladonize(..., access="anonymous")``
or ``access=("admin",)``, a class with ``ladon_access = ...``. See
:doc:`/security`.

:class:`HtpasswdFile` needs ``pip install 'ladon[htpasswd]'`` and
:class:`JWTVerifier` ``pip install 'ladon[jwt]'``; both are imported on
first use.

.. versionadded:: 2.0
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from ..ladonizer.access import ADMIN_ROLE as ADMIN_ROLE
from ..ladonizer.access import ANONYMOUS as ANONYMOUS
from ..ladonizer.access import AUTHENTICATED as AUTHENTICATED
from ..ladonizer.access import Access as Access
from ..ladonizer.access import InvalidPrincipal as InvalidPrincipal
from ..ladonizer.access import Principal as Principal
from ..ladonizer.access import access_rule as access_rule
from .base import Authenticator as Authenticator
from .base import AuthRequest as AuthRequest
from .base import NonceStore as NonceStore
from .faults import AuthFault as AuthFault
from .faults import CredentialsRequired as CredentialsRequired
from .faults import FailedAuthentication as FailedAuthentication
from .faults import Forbidden as Forbidden
from .faults import InvalidSecurity as InvalidSecurity
from .faults import SecurityTokenUnavailable as SecurityTokenUnavailable
from .faults import Unauthorized as Unauthorized
from .faults import WSSecurityFault as WSSecurityFault
from .http import BasicAuth as BasicAuth
from .http import BearerAuth as BearerAuth
from .http import RemoteUser as RemoteUser
from .http import cached as cached
from .wsse import UsernameToken as UsernameToken

if TYPE_CHECKING:  # imported on first use: they need optional packages
    from .htpasswd import HtpasswdFile as HtpasswdFile
    from .tokens import JWTVerifier as JWTVerifier


def __getattr__(name: str) -> Any:
    if name == "HtpasswdFile":
        from .htpasswd import HtpasswdFile

        return HtpasswdFile
    if name == "JWTVerifier":
        from .tokens import JWTVerifier

        return JWTVerifier
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
