"""The faults of a refused call: authentication missing or wrong (401),
a role missing (403), a WS-Security header that is wrong.

Each interface sends them in its own shape (a SOAP Fault, a JSON-WSP fault,
a JSON-RPC error, an XML-RPC fault). On SOAP their ``faultcode`` is the
OASIS WS-Security code (``wsse:FailedAuthentication``,
``wsse:InvalidSecurity``, ``wsse:SecurityTokenUnavailable``), with the
``wsse`` namespace declared. No message says whether a user exists, and
none repeats a password or a token.

.. versionadded:: 2.0
"""

from __future__ import annotations

from ..exceptions.service import ClientFault
from ..wire.schema import WSSE

#: The OASIS WS-Security 1.1 fault codes (SOAP Message Security, section 12).
FAILED_AUTHENTICATION = f"{{{WSSE}}}FailedAuthentication"
INVALID_SECURITY = f"{{{WSSE}}}InvalidSecurity"
SECURITY_TOKEN_UNAVAILABLE = f"{{{WSSE}}}SecurityTokenUnavailable"


class AuthFault(ClientFault):
    """Base class of the refusals of the authentication step.

    .. versionadded:: 2.0
    """

    soap_code: str | None = FAILED_AUTHENTICATION


class Unauthorized(AuthFault):
    """Credentials were sent and are wrong (HTTP 401 with a
    ``WWW-Authenticate`` challenge per HTTP scheme the application takes).

    An authenticator (or a ``verify`` function) may raise it with a message
    of its own, e.g. "the token has expired"; it must never repeat the
    credentials nor say whether the user exists.

    .. versionadded:: 2.0
    """

    http_status: int | None = 401
    default_message = "Authentication failed"


class CredentialsRequired(Unauthorized):
    """No credentials, and the method needs a caller (HTTP 401; on SOAP
    ``wsse:SecurityTokenUnavailable``).

    .. versionadded:: 2.0
    """

    soap_code: str | None = SECURITY_TOKEN_UNAVAILABLE
    default_message = "Authentication required"


class Forbidden(AuthFault):
    """The caller is known but lacks the role the method needs (HTTP 403).

    .. versionadded:: 2.0
    """

    http_status: int | None = 403
    default_message = "Access denied"


class WSSecurityFault(AuthFault):
    """A WS-Security header that was refused: a SOAP fault (HTTP 500, as
    SOAP 1.1 sends faults), with the OASIS fault code.

    .. versionadded:: 2.0
    """


class FailedAuthentication(WSSecurityFault):
    """``wsse:FailedAuthentication``: the UsernameToken's password is wrong
    (or the user unknown: the message does not say which), or its nonce was
    used before.

    .. versionadded:: 2.0
    """

    soap_code: str | None = FAILED_AUTHENTICATION
    default_message = "The security token could not be authenticated or authorized"


class InvalidSecurity(WSSecurityFault):
    """``wsse:InvalidSecurity``: the ``wsse:Security`` header cannot be
    processed: malformed, an unsupported password type, a ``Created`` or a
    ``wsu:Timestamp`` outside the accepted window.

    .. versionadded:: 2.0
    """

    soap_code: str | None = INVALID_SECURITY
    default_message = "An error was discovered processing the <wsse:Security> header"


class SecurityTokenUnavailable(WSSecurityFault):
    """``wsse:SecurityTokenUnavailable``: the ``wsse:Security`` header holds
    no token this service takes.

    .. versionadded:: 2.0
    """

    soap_code: str | None = SECURITY_TOKEN_UNAVAILABLE
    default_message = "The security token is missing"
