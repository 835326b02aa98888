"""The application of the identity and access tests: served in process,
by a live server, by gunicorn (``auth_app:app``), by ``ladon worker
auth_app:app`` (RQ) and by Apache mod_wsgi (``LADON_TEST_AUTH=remote``).

Three users: ``alice`` and ``bob`` (no role), ``root`` (``admin``), each
with the password ``<name>-pw``; Bearer tokens are HS256 JWTs signed with
:data:`JWT_SECRET` for the audience ``ladon-tests``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from ladon import LadonWSGIApplication
from ladon import ladonize
from ladon.auth import BasicAuth
from ladon.auth import BearerAuth
from ladon.auth import Principal
from ladon.auth import RemoteUser
from ladon.auth import UsernameToken
from ladon.auth import cached

SERVICES_DIR = Path(__file__).resolve().parent

PASSWORDS = {"alice": "alice-pw", "bob": "bob-pw", "root": "root-pw"}
ROLES = {"root": ("admin",)}
JWT_SECRET = "ladon-tests-hs256-secret-of-32-bytes-or-more"
JWT_AUDIENCE = "ladon-tests"


def roles_of(user: str) -> tuple[str, ...]:
    return ROLES.get(user, ())


def verify(user: str, password: str) -> Principal | None:
    """A verify with a constant-time comparison, as the docs ask."""
    import hmac

    known = PASSWORDS.get(user)
    given = password.encode()
    if known is None:
        hmac.compare_digest(given, b"\0" * 16)
        return None
    if not hmac.compare_digest(given, known.encode()):
        return None
    return Principal(user, roles_of(user))


def token(user: str, lifetime: float = 300.0, **claims: Any) -> str:
    """A Bearer token of ``user`` (an HS256 JWT)."""
    import jwt

    now = int(time.time())
    payload = {
        "sub": user,
        "aud": JWT_AUDIENCE,
        "iat": now,
        "exp": now + int(lifetime),
        "roles": list(roles_of(user)),
        **claims,
    }
    return jwt.encode(payload, JWT_SECRET, algorithm="HS256")


class Vault:
    """A service whose methods need a caller unless they say otherwise."""

    ladon_access = "authenticated"

    @ladonize(access="anonymous")
    def ping(self) -> str:
        """Anyone may call."""
        return "pong"

    @ladonize()
    def add(self, a: int, b: int) -> int:
        """Any authenticated caller."""
        return a + b

    @ladonize()
    def pid(self) -> int:
        """The pid of the process answering."""
        return os.getpid()

    @ladonize(access=("admin",))
    def audit(self) -> str:
        """Only the admin role."""
        return "audited"

    @ladonize()
    def whoami(self, **kw: Any) -> str:
        """The caller's name and roles, as the method sees them."""
        principal = kw["principal"]
        return f"{principal.name}:{','.join(sorted(principal.roles))}"

    @ladonize(tasktype=True)
    def count(self, n: int, **kw: Any) -> str:
        """A task that tells who started it (and where it ran)."""
        principal = kw["principal"]
        kw["update_progress"](1.0)
        who = principal.name if principal is not None else "anonymous"
        return f"{who}:{n}:{os.getpid()}"

    @ladonize(access="anonymous", tasktype=True)
    def open_count(self, n: int, **kw: Any) -> str:
        """A task anyone may start."""
        principal = kw["principal"]
        return f"{principal.name if principal is not None else 'anonymous'}:{n}"

    @ladonize(tasktype=True)
    def request_keys(self, **kw: Any) -> list[str]:
        """The request keys a task sees (never the caller's credentials)."""
        return sorted(k for k in kw if k.startswith("HTTP_"))


def authenticators(kind: str = "all") -> list[Any]:
    if kind == "remote":
        return [RemoteUser(roles=roles_of)]
    from ladon.auth import JWTVerifier

    return [
        BasicAuth(cached(verify)),
        BearerAuth(JWTVerifier(JWT_SECRET, audience=JWT_AUDIENCE)),
        UsernameToken(PASSWORDS.get, roles=roles_of),
    ]


def make_app(tasks: object = None, kind: str = "all", **options: Any) -> LadonWSGIApplication:
    """The test application on the given task backend (URL or instance)."""
    return LadonWSGIApplication(
        [Vault],
        tasks=tasks,  # type: ignore[arg-type]
        auth=authenticators(kind),
        **options,
    )


app = make_app(kind=os.environ.get("LADON_TEST_AUTH", "all"))
