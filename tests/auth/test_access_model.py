"""Principals and access rules in the service model: ``@ladonize(access=)``,
``ladon_access`` and the application's default, inherited by the task
methods; mistakes refused when the application is built."""

from __future__ import annotations

import pickle

import pytest

from ladon import LadonWSGIApplication
from ladon import ladonize
from ladon.auth import ANONYMOUS
from ladon.auth import AUTHENTICATED
from ladon.auth import BasicAuth
from ladon.auth import InvalidPrincipal
from ladon.auth import Principal
from ladon.auth import access_rule
from ladon.exceptions.base import DefinitionError
from ladon.server.security import Authentication


def _nobody(user: str, password: str) -> Principal | None:
    return None


class Mixed:
    @ladonize(access="anonymous")
    def open(self) -> int:
        return 1

    @ladonize()
    def default(self) -> int:
        return 2

    @ladonize(access=("admin", "ops"))
    def staff(self) -> int:
        return 3

    @ladonize(tasktype=True, access=("ops",))
    def job(self) -> int:
        return 4


class Guarded(Mixed):
    ladon_access = ("auditor",)


def _rules(app: LadonWSGIApplication, service: str) -> dict[str, str]:
    info = app.service(service)
    assert info is not None
    return {name: m.access.describe() for name, m in info.methods.items()}


def test_principal_holds_name_and_roles_and_cannot_change() -> None:
    p = Principal("alice", ["ops", "ops", "admin"])
    assert p.name == "alice"
    assert p.roles == frozenset({"ops", "admin"})
    assert p.is_admin and p.has_role("nobody", "ops") and not p.has_role("x")
    assert p == Principal("alice", ("admin", "ops"))
    assert hash(p) == hash(Principal("alice", {"admin", "ops"}))
    with pytest.raises(AttributeError):
        p.name = "mallory"
    assert pickle.loads(pickle.dumps(p)) == p
    assert Principal.from_dict(p.as_dict()) == p
    assert Principal.from_dict({"name": 3}) is None
    with pytest.raises(ValueError):
        Principal("")
    with pytest.raises(TypeError):
        Principal("bob", "admin")


@pytest.mark.parametrize(
    ("name", "roles"),
    [("\ud800x", ()), ("alice", ("ops", "\udcff"))],
    ids=["name", "role"],
)
def test_a_principal_is_text_utf8_can_encode(name: str, roles: tuple[str, ...]) -> None:
    """Task stores keep the name and answers send it: a lone surrogate (a
    JWT's ``"\\ud800"``) is refused, and a stored one is no principal."""
    with pytest.raises(InvalidPrincipal, match="UTF-8") as refused:
        Principal(name, roles)
    assert isinstance(refused.value, ValueError)
    assert Principal.from_dict({"name": name, "roles": list(roles)}) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("anonymous", "anonymous"),
        ("authenticated", "authenticated"),
        (("admin",), "roles: admin"),
        (["a", "b", "a"], "roles: a, b"),
        (frozenset({"b", "a"}), "roles: a, b"),
    ],
    ids=["anonymous", "authenticated", "tuple", "list", "set"],
)
def test_access_rule_names(value: object, expected: str) -> None:
    assert access_rule(value).describe() == expected


@pytest.mark.parametrize(
    "value",
    ["admin", "", (), ("",), (" admin",), ("a", 3), 7, None],
    ids=["bare-role", "empty", "no-roles", "empty-role", "spaced", "non-str", "int", "none"],
)
def test_access_rule_refuses_what_it_cannot_read(value: object) -> None:
    with pytest.raises(DefinitionError, match="access"):
        access_rule(value, "access")


def test_a_bare_role_string_says_to_write_a_tuple() -> None:
    with pytest.raises(DefinitionError, match=r"\('admin',\)"):

        class Bad:
            @ladonize(access="admin")
            def m(self) -> int:
                return 1


def test_rules_allow_whom_they_say() -> None:
    alice = Principal("alice")
    root = Principal("root", ["admin"])
    staff = access_rule(("admin", "ops"))
    assert ANONYMOUS.allows(None) and ANONYMOUS.allows(alice)
    assert not AUTHENTICATED.allows(None) and AUTHENTICATED.allows(alice)
    assert not staff.allows(None) and not staff.allows(alice) and staff.allows(root)


def test_method_rule_then_class_rule_then_app_default() -> None:
    app = LadonWSGIApplication([Mixed, Guarded], auth=[BasicAuth(_nobody)])
    assert _rules(app, "Mixed") == {
        "open": "anonymous",
        "default": "authenticated",  # the app default with auth
        "staff": "roles: admin, ops",
        "job": "roles: ops",
        "job_progress": "roles: ops",
        "job_result": "roles: ops",
        "job_cancel": "roles: ops",
        "job_wait": "roles: ops",
    }
    guarded = _rules(app, "Guarded")
    assert guarded["default"] == "roles: auditor"
    assert guarded["open"] == "anonymous"
    other = LadonWSGIApplication([Mixed], auth=[BasicAuth(_nobody)], access="anonymous")
    assert _rules(other, "Mixed")["default"] == "anonymous"


def test_instance_attribute_ladon_access_counts_too() -> None:
    instance = Mixed()
    instance.ladon_access = ("ops",)  # type: ignore[attr-defined]
    app = LadonWSGIApplication([instance], auth=[BasicAuth(_nobody)])
    assert _rules(app, "Mixed")["default"] == "roles: ops"


def test_without_auth_everything_is_anonymous_and_unchanged() -> None:
    class Plain:
        @ladonize()
        def m(self) -> int:
            return 1

    app = LadonWSGIApplication([Plain])
    assert _rules(app, "Plain") == {"m": "anonymous"}
    assert app.service("Plain").auth_schemes == ()  # type: ignore[union-attr]
    assert app.authentication is None
    # no authentication step: the plain call path checks nobody
    assert not any(isinstance(step, Authentication) for step in app.dispatcher.steps)


@pytest.mark.parametrize(
    "build",
    [
        lambda: LadonWSGIApplication([Mixed]),
        lambda: LadonWSGIApplication([Guarded], access="anonymous"),
        lambda: LadonWSGIApplication([], access="authenticated"),
        lambda: LadonWSGIApplication([], protect_docs=True),
    ],
    ids=["method-rule", "class-rule", "app-rule", "protect-docs"],
)
def test_rules_needing_a_caller_need_authenticators(build: object) -> None:
    with pytest.raises(DefinitionError, match=r"auth=\[\.\.\.\]"):
        build()  # type: ignore[operator]


def test_bad_authenticators_and_origins_are_refused_at_construction() -> None:
    with pytest.raises(DefinitionError, match="not an authenticator"):
        LadonWSGIApplication([Mixed], auth=[object()])  # type: ignore[list-item]
    with pytest.raises(DefinitionError, match="not an origin"):
        LadonWSGIApplication([], cors_origins=["https://x.example/path"])


def test_schemes_are_published_in_the_model() -> None:
    app = LadonWSGIApplication([Mixed], auth=[BasicAuth(_nobody)])
    assert app.service("Mixed").auth_schemes == ("Basic",)  # type: ignore[union-attr]
