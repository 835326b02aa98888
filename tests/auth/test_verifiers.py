"""The ready verifiers: an Apache htpasswd file written by Apache's own
``htpasswd`` (bcrypt, SHA-512-crypt, SHA-256-crypt), JWTs signed with HS256
and RS256 (a PEM key, a JWKS file), and :func:`ladon.auth.cached`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ladon.auth import HtpasswdFile
from ladon.auth import JWTVerifier
from ladon.auth import Principal
from ladon.auth import Unauthorized
from ladon.auth import cached

HTPASSWD_INSTALL = "apt-get install -y apache2-utils"


def _htpasswd() -> str:
    found = shutil.which("htpasswd")
    if found is None:
        pytest.fail(
            f"Apache's htpasswd is needed for these tests: {HTPASSWD_INSTALL}", pytrace=False
        )
    return found


@pytest.fixture(scope="module")
def htpasswd_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """alice (bcrypt), carol (SHA-512), dave (SHA-256), mallory (MD5, not
    accepted by default), written by Apache's htpasswd."""
    tool = _htpasswd()
    path = tmp_path_factory.mktemp("htpasswd") / "users"
    for flags, user, password in (
        ("-cbB", "alice", "wonder land"),
        ("-b5", "carol", "s3cret-ü"),
        ("-b2", "dave", "dave-pw"),
        ("-bm", "mallory", "md5-pw"),
    ):
        subprocess.run([tool, flags, str(path), user, password], check=True, capture_output=True)
    return path


def test_htpasswd_accepts_bcrypt_and_sha_crypt_entries(htpasswd_file: Path) -> None:
    verify = HtpasswdFile(htpasswd_file, roles=lambda u: ["staff"] if u == "alice" else [])
    assert verify("alice", "wonder land") == Principal("alice", ["staff"])
    assert verify("carol", "s3cret-ü") == Principal("carol")
    assert verify("dave", "dave-pw") == Principal("dave")
    for user, password in (("alice", "wonder"), ("carol", "s3cret-u"), ("nobody", "x")):
        assert verify(user, password) is None


class _Recording:
    """passlib's context, noting the hashes it is asked to check against."""

    def __init__(self, context: Any) -> None:
        self.context = context
        self.checked: list[str] = []

    def verify(self, secret: str | bytes, hashed: str) -> bool:
        self.checked.append(hashed)
        return bool(self.context.verify(secret, hashed))

    def dummy_verify(self) -> bool:
        self.checked.append("dummy")
        return bool(self.context.dummy_verify())


def test_htpasswd_unknown_users_cost_a_check_against_an_entry_of_the_file(
    htpasswd_file: Path, tmp_path: Path
) -> None:
    """Not passlib's dummy hash (bcrypt cost 12: ~100x a cost-5 entry of
    htpasswd -B), whose time would tell that the user does not exist."""
    verify = HtpasswdFile(htpasswd_file, cache_ttl=0)
    seen = _Recording(verify._context)
    verify._context = seen
    alice = next(
        line for line in htpasswd_file.read_text().splitlines() if line.startswith("alice:")
    )
    assert verify("nobody", "wonder land") is None  # alice's password, no such user
    assert verify("alice", "wrong") is None
    assert seen.checked == [alice.split(":", 1)[1]] * 2
    empty = tmp_path / "empty"
    empty.write_text("")
    no_users = HtpasswdFile(empty, cache_ttl=0)
    no_users._context = seen = _Recording(no_users._context)
    assert no_users("nobody", "x") is None and seen.checked == ["dummy"]


def test_htpasswd_refuses_md5_unless_asked_and_says_so_in_the_log(
    htpasswd_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", "ladon.auth"):
        assert HtpasswdFile(htpasswd_file)("mallory", "md5-pw") is None
    assert "hash scheme not accepted" in caplog.text
    assert "md5-pw" not in caplog.text
    relaxed = HtpasswdFile(htpasswd_file, schemes=("bcrypt", "sha512_crypt", "apr_md5_crypt"))
    assert relaxed("mallory", "md5-pw") == Principal("mallory")


def test_htpasswd_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    tool = _htpasswd()
    path = tmp_path / "users"
    subprocess.run([tool, "-cbB", str(path), "eve", "one"], check=True, capture_output=True)
    verify = HtpasswdFile(path)
    assert verify("eve", "one") is not None
    subprocess.run([tool, "-bB", str(path), "eve", "two"], check=True, capture_output=True)
    os.utime(path, (time.time() + 5, time.time() + 5))
    assert verify("eve", "one") is None  # the cached pair is forgotten with the old file
    assert verify("eve", "two") is not None


@pytest.mark.parametrize(
    "passphrase",
    ["correct horse battery staple " * 3, "é" * 40 + "-and-more"],
    ids=["ascii-87-bytes", "cut-inside-a-character"],
)
def test_htpasswd_bcrypt_reads_a_long_passphrase_as_apache_does(
    tmp_path: Path, passphrase: str
) -> None:
    # bcrypt reads 72 bytes; Apache's htpasswd -B and AuthUserFile accept
    # the whole passphrase (the Python bcrypt 5 refuses more than 72 bytes)
    tool = _htpasswd()
    path = tmp_path / "users"
    subprocess.run([tool, "-cbB", str(path), "long", passphrase], check=True, capture_output=True)
    verify = HtpasswdFile(path, cache_ttl=0)
    assert len(passphrase.encode()) > 72
    assert verify("long", passphrase) == Principal("long")
    assert verify("long", passphrase[:-1] + "!") == Principal("long")  # as Apache: 72 bytes
    assert verify("long", "x" + passphrase[1:]) is None
    assert verify("long", passphrase[:20]) is None
    # an unknown user with a long passphrase costs a bcrypt check too
    seen = _Recording(verify._context)
    verify._context = seen
    assert verify("nobody", passphrase) is None
    assert seen.checked == [path.read_text().strip().split(":", 1)[1]]


def test_htpasswd_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read the htpasswd file"):
        HtpasswdFile(tmp_path / "nope")


def test_cached_verify_runs_once_per_accepted_pair_and_never_caches_refusals() -> None:
    calls: list[tuple[str, str]] = []

    def slow(user: str, password: str) -> Principal | None:
        calls.append((user, password))
        return Principal(user) if password == "right" else None

    verify = cached(slow, ttl=60)
    for _ in range(3):
        assert verify("ann", "right") == Principal("ann")
        assert verify("ann", "wrong") is None
    assert calls.count(("ann", "right")) == 1
    assert calls.count(("ann", "wrong")) == 3
    assert all("right" not in repr(k) for k in verify._seen)  # keyed hashes only


SECRET = "a-shared-secret-of-more-than-32-bytes!"


def _hs(claims: dict[str, object], key: str = SECRET, **headers: object) -> str:
    return jwt.encode(claims, key, algorithm="HS256", headers=headers or None)


def _now() -> int:
    return int(time.time())


def test_jwt_hs256_gives_the_principal_with_its_roles() -> None:
    verify = JWTVerifier(SECRET, audience="api")
    token = _hs({"sub": "ann", "aud": "api", "exp": _now() + 60, "roles": ["admin", "ops"]})
    assert verify(token) == Principal("ann", ["admin", "ops"])
    scoped = JWTVerifier(SECRET, audience="api", roles_claim="scope")
    token = _hs({"sub": "ann", "aud": "api", "exp": _now() + 60, "scope": "read write"})
    assert scoped(token) == Principal("ann", ["read", "write"])
    nested = JWTVerifier(SECRET, audience="api", roles_claim="realm_access.roles")
    token = _hs({"sub": "ann", "aud": "api", "exp": _now() + 60, "realm_access": {"roles": ["x"]}})
    assert nested(token) == Principal("ann", ["x"])


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"sub": "ann", "aud": "api", "exp": -120}, "has expired"),
        ({"sub": "ann", "aud": "api", "exp": 600, "nbf": 300}, "not valid yet"),
        ({"sub": "ann", "aud": "other", "exp": 600}, "not valid"),
        ({"sub": "ann", "exp": 600}, "not valid"),  # no aud, one is expected
        ({"sub": "ann", "aud": "api"}, "not valid"),  # no exp
        ({"aud": "api", "exp": 600}, "has no 'sub'"),
    ],
    ids=["expired", "nbf", "wrong-aud", "no-aud", "no-exp", "no-sub"],
)
def test_jwt_claims_are_checked(claims: dict[str, object], message: str) -> None:
    verify = JWTVerifier(SECRET, audience="api")
    shifted = {
        k: (_now() + v if k in ("exp", "nbf") and isinstance(v, int) else v)
        for k, v in claims.items()
    }
    token = _hs(shifted)
    with pytest.raises(Unauthorized, match=message) as info:
        verify(token)
    assert token not in str(info.value)


def test_jwt_wrong_signature_alg_none_and_garbage_are_refused() -> None:
    verify = JWTVerifier(SECRET, audience="api")
    claims = {"sub": "ann", "aud": "api", "exp": _now() + 60}
    forged = _hs(claims, key="another-secret-of-more-than-32-bytes!!")
    unsigned = jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
    for token in (forged, unsigned, "not.a.token", "x"):
        with pytest.raises(Unauthorized, match="not valid"):
            verify(token)


def test_jwt_issuer_and_leeway() -> None:
    verify = JWTVerifier(SECRET, audience="api", issuer="https://idp.example", leeway=30)
    ok = _hs({"sub": "a", "aud": "api", "iss": "https://idp.example", "exp": _now() - 10})
    assert verify(ok) == Principal("a")
    with pytest.raises(Unauthorized):
        verify(_hs({"sub": "a", "aud": "api", "iss": "https://evil.example", "exp": _now() + 60}))


@pytest.fixture(scope="module")
def rsa_keys() -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, public


def test_jwt_rs256_with_a_pem_public_key(rsa_keys: tuple[rsa.RSAPrivateKey, bytes]) -> None:
    private, public = rsa_keys
    verify = JWTVerifier(public, audience="api")
    token = jwt.encode({"sub": "ann", "aud": "api", "exp": _now() + 60}, private, algorithm="RS256")
    assert verify(token) == Principal("ann")
    # the public key used as an HMAC secret (algorithm confusion) is refused
    confused = jwt.encode(
        {"sub": "ann", "aud": "api", "exp": _now() + 60}, "x" * 40, algorithm="HS256"
    )
    with pytest.raises(Unauthorized):
        verify(confused)


def test_jwt_rs256_with_a_jwks_file_picks_the_key_by_kid(
    rsa_keys: tuple[rsa.RSAPrivateKey, bytes], tmp_path: Path
) -> None:
    private, _ = rsa_keys
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks = {
        "keys": [
            {
                **json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(k.public_key())),
                "kid": kid,
                "use": "sig",
            }
            for k, kid in ((private, "k1"), (other, "k2"))
        ]
    }
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks))
    verify = JWTVerifier(jwks_file=path, audience="api")
    claims = {"sub": "ann", "aud": "api", "exp": _now() + 60}
    assert verify(jwt.encode(claims, other, algorithm="RS256", headers={"kid": "k2"})) == Principal(
        "ann"
    )
    assert verify(
        jwt.encode(claims, private, algorithm="RS256", headers={"kid": "k1"})
    ) == Principal("ann")
    for headers in ({"kid": "k1"}, {"kid": "unknown"}, None):
        with pytest.raises(Unauthorized):  # k2's signature under k1's kid, unknown kid, no kid
            verify(jwt.encode(claims, other, algorithm="RS256", headers=headers))


def test_jwt_verifier_configuration_mistakes() -> None:
    with pytest.raises(ValueError, match="one of them"):
        JWTVerifier()
    with pytest.raises(ValueError, match="unsupported"):
        JWTVerifier(SECRET, algorithms=["none"])
    with pytest.raises(ValueError, match="either HMAC or public-key"):
        JWTVerifier(SECRET, algorithms=["HS256", "RS256"])
    with pytest.raises(ValueError, match="public-key algorithms need"):
        JWTVerifier(SECRET, algorithms=["RS256"])
