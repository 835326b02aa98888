"""Who is calling, and who may call what: the :class:`Principal` and the
:class:`Access` rule of each published method.

Both are part of the service model: the rule of a method is computed once,
when the application is built, from ``@ladonize(..., access=...)``, the
class attribute ``ladon_access`` and the application's default (in that
order), and the generated task methods take the rule of their start method.
The authenticators that find the principal live in :mod:`ladon.auth`.

.. versionadded:: 2.0
"""

from __future__ import annotations

import enum
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from ..exceptions.base import DefinitionError

#: The role that may follow every principal's tasks.
ADMIN_ROLE: Final = "admin"

#: The rule names ``access=`` takes besides a tuple of roles.
ANONYMOUS_NAME: Final = "anonymous"
AUTHENTICATED_NAME: Final = "authenticated"

#: What ``access=`` may be: ``"anonymous"``, ``"authenticated"`` or a tuple
#: (or list, set) of role names, any one of which lets a caller in.
AccessSpec = str | Iterable[str]


class InvalidPrincipal(ValueError):
    """A principal's name or a role is text that cannot be stored or sent:
    empty, or not encodable as UTF-8 (a lone surrogate, as a JSON string
    or a ``surrogateescape``-decoded header may hold). An authenticator
    whose ``verify`` (or ``roles``) gives such a value refuses the
    credentials (HTTP 401, or the protocol's authentication fault).

    .. versionadded:: 2.0
    """


def _checked_text(value: str, what: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidPrincipal(
            f"{what} must be text that UTF-8 can encode (no lone surrogates)"
        ) from None
    return value


class Principal:
    """The caller of a request, as an authenticator found it.

    :param name: the user's name (an account, the ``sub`` of a token...).
    :param roles: the roles the caller has.
    :raises InvalidPrincipal: the name is empty, or the name or a role
        cannot be encoded as UTF-8 (tasks store the name, answers send it).

    Principals compare equal when name and roles are equal. A method that
    takes ``**kw`` finds the caller in ``kw["principal"]`` (``None`` for an
    anonymous caller), wherever it runs (a task on an RQ worker too).

    .. versionadded:: 2.0
    """

    __slots__ = ("name", "roles")

    name: str
    roles: frozenset[str]

    def __init__(self, name: str, roles: Iterable[str] = ()) -> None:
        if not isinstance(name, str) or not name:
            raise InvalidPrincipal("a principal needs a non-empty name")
        if isinstance(roles, str):
            raise TypeError(f"roles must be a collection of role names, not the string {roles!r}")
        object.__setattr__(self, "name", _checked_text(name, "a principal's name"))
        object.__setattr__(self, "roles", frozenset(_checked_text(str(r), "a role") for r in roles))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a Principal cannot be changed")

    def has_role(self, *roles: str) -> bool:
        """True when the principal has at least one of ``roles``."""
        return not self.roles.isdisjoint(roles)

    @property
    def is_admin(self) -> bool:
        """True for a principal with the :data:`ADMIN_ROLE` (it sees every
        principal's tasks)."""
        return ADMIN_ROLE in self.roles

    def owns(self, owner: str | None) -> bool:
        """True when ``owner`` (the name stored with a task) is this
        principal's name (compared in constant time)."""
        return owner is not None and hmac.compare_digest(
            owner.encode("utf-8"), self.name.encode("utf-8")
        )

    def as_dict(self) -> dict[str, object]:
        """The principal as plain data (``name`` and sorted ``roles``), e.g.
        to send it with a task to another process."""
        return {"name": self.name, "roles": sorted(self.roles)}

    @classmethod
    def from_dict(cls, data: object) -> Principal | None:
        """The principal :meth:`as_dict` gave, or ``None`` for anything else."""
        if not isinstance(data, dict):
            return None
        name, roles = data.get("name"), data.get("roles", [])
        if not isinstance(name, str) or not name or not isinstance(roles, list):
            return None
        try:
            return cls(name, [r for r in roles if isinstance(r, str)])
        except InvalidPrincipal:
            return None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Principal):
            return NotImplemented
        return self.name == other.name and self.roles == other.roles

    def __hash__(self) -> int:
        return hash((self.name, self.roles))

    def __repr__(self) -> str:
        return f"Principal({self.name!r}, {sorted(self.roles)!r})"

    def __reduce__(self) -> tuple[type[Principal], tuple[str, tuple[str, ...]]]:
        return (Principal, (self.name, tuple(sorted(self.roles))))


class AccessKind(enum.Enum):
    """The three kinds of rule."""

    ANONYMOUS = ANONYMOUS_NAME
    AUTHENTICATED = AUTHENTICATED_NAME
    ROLES = "roles"


@dataclass(frozen=True, slots=True)
class Access:
    """Who may call a method.

    :param kind: anyone, any authenticated caller, or a caller with one of
        ``roles``.
    :param roles: for :attr:`AccessKind.ROLES`, the roles that let a caller
        in (any one of them).

    Build one with :func:`access_rule`.

    .. versionadded:: 2.0
    """

    kind: AccessKind
    roles: tuple[str, ...] = ()

    @property
    def needs_principal(self) -> bool:
        """True when an anonymous caller is refused."""
        return self.kind is not AccessKind.ANONYMOUS

    def allows(self, principal: Principal | None) -> bool:
        """Whether ``principal`` (``None``: anonymous) may call."""
        if self.kind is AccessKind.ANONYMOUS:
            return True
        if principal is None:
            return False
        return self.kind is AccessKind.AUTHENTICATED or principal.has_role(*self.roles)

    def describe(self) -> str:
        """``"anonymous"``, ``"authenticated"`` or ``"roles: a, b"``."""
        if self.kind is AccessKind.ROLES:
            return "roles: " + ", ".join(self.roles)
        return str(self.kind.value)

    def __str__(self) -> str:
        return self.describe()


#: Anyone may call (the default without authentication).
ANONYMOUS: Final = Access(AccessKind.ANONYMOUS)
#: Any authenticated caller may call.
AUTHENTICATED: Final = Access(AccessKind.AUTHENTICATED)


def access_rule(value: object, where: str = "access") -> Access:
    """The :class:`Access` that ``value`` names.

    :param value: an :class:`Access`, ``"anonymous"``, ``"authenticated"``, or a
        tuple (list, set) of role names.
    :param where: what the rule belongs to, for the error message.
    :raises DefinitionError: for anything else (a single role must be given
        as a tuple: ``access=("admin",)``).

    .. versionadded:: 2.0
    """
    if isinstance(value, Access):
        return value
    if isinstance(value, str):
        if value == ANONYMOUS_NAME:
            return ANONYMOUS
        if value == AUTHENTICATED_NAME:
            return AUTHENTICATED
        raise DefinitionError(
            f"{where}: {value!r} is not an access rule; give 'anonymous', 'authenticated' "
            f"or a tuple of roles (a single role: ({value!r},))"
        )
    if isinstance(value, tuple | list | set | frozenset):
        roles = tuple(value)
        if not roles or not all(isinstance(r, str) and r.strip() == r and r for r in roles):
            raise DefinitionError(
                f"{where}: roles must be a non-empty tuple of non-empty role names, not {value!r}"
            )
        ordered = tuple(sorted(set(roles))) if isinstance(value, set | frozenset) else roles
        return Access(AccessKind.ROLES, tuple(dict.fromkeys(ordered)))
    raise DefinitionError(
        f"{where}: expected 'anonymous', 'authenticated' or a tuple of roles, not {value!r}"
    )
