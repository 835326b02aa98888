"""A ready ``verify`` for :class:`~ladon.auth.BearerAuth`: JSON Web Tokens
signed with HS256 (a shared secret) or RS256 (a public key, or a JWKS file
of an identity provider), checked with PyJWT: ``pip install 'ladon[jwt]'``.

.. versionadded:: 2.0
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from typing import Any

from ..ladonizer.access import Principal
from .faults import Unauthorized

logger = logging.getLogger("ladon.auth")

try:
    import jwt
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError("JWTVerifier needs PyJWT: pip install 'ladon[jwt]'") from exc

_SYMMETRIC = {"HS256", "HS384", "HS512"}
_ASYMMETRIC = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}


class JWTVerifier:
    """``verify(token)`` for JWTs: signature, ``exp`` (required), ``nbf``,
    ``aud`` and ``iss`` checked.

    :param key: the HS256 secret (``str`` or ``bytes``), or a PEM public key
        for RS256; give this or ``jwks_file``.
    :param jwks_file: a JWKS file (``{"keys": [...]}``, as an identity
        provider publishes it); the key is chosen by the token's ``kid``.
        Read again when it changes.
    :param algorithms: the accepted algorithms; default ``("HS256",)`` for
        a secret, ``("RS256",)`` for a public key or a JWKS. ``none`` is
        never accepted, nor a mix of secret and public-key algorithms.
    :param audience: the accepted ``aud`` (one or several); without it a
        token carrying an ``aud`` is refused.
    :param issuer: the required ``iss``, if any.
    :param leeway: seconds of clock difference allowed on ``exp`` and ``nbf``.
    :param name_claim: the claim naming the principal (``sub``).
    :param roles_claim: the claim holding the roles: a list, or a string of
        space-separated roles (like ``scope``); a dotted path reaches into
        objects (``realm_access.roles``).

    Refusals say why without repeating the token: "the token has
    expired", "the token is not valid yet", "the token is not valid".

    .. versionadded:: 2.0
    """

    def __init__(
        self,
        key: str | bytes | None = None,
        *,
        jwks_file: str | os.PathLike[str] | None = None,
        algorithms: Sequence[str] | None = None,
        audience: str | Sequence[str] | None = None,
        issuer: str | None = None,
        leeway: float = 0.0,
        name_claim: str = "sub",
        roles_claim: str | None = "roles",
    ) -> None:
        if (key is None) == (jwks_file is None):
            raise ValueError("JWTVerifier needs key or jwks_file (one of them)")
        asymmetric = jwks_file is not None or _looks_like_pem(key)
        if algorithms is None:
            algorithms = ("RS256",) if asymmetric else ("HS256",)
        chosen = set(algorithms)
        if not chosen or not chosen <= _SYMMETRIC | _ASYMMETRIC:
            raise ValueError(f"unsupported JWT algorithms {sorted(chosen)!r}")
        if chosen & _SYMMETRIC and (asymmetric or chosen & _ASYMMETRIC):
            raise ValueError("a JWTVerifier takes either HMAC or public-key algorithms, not both")
        if chosen & _ASYMMETRIC and not asymmetric:
            raise ValueError("public-key algorithms need a PEM public key or a JWKS file")
        self.algorithms = tuple(algorithms)
        self.audience = audience
        self.issuer = issuer
        self.leeway = float(leeway)
        self.name_claim = name_claim
        self.roles_claim = roles_claim
        self._key = key
        self._jwks_path = os.fspath(jwks_file) if jwks_file is not None else None
        self._jwks: dict[str, Any] = {}
        self._single: Any = None
        self._stamp: tuple[float, int] | None = None
        self._lock = threading.Lock()
        if self._jwks_path is not None:
            self._load_jwks()

    def __call__(self, token: str) -> Principal | None:
        """The principal a valid token names.

        :raises Unauthorized: the token is expired, not yet valid or not
            valid.
        """
        try:
            key = self._key_for(token)
            claims = jwt.decode(
                token,
                key,
                algorithms=list(self.algorithms),
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("Authentication failed: the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise Unauthorized("Authentication failed: the token is not valid yet") from None
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            logger.info("JWT refused: %s", type(exc).__name__)
            raise Unauthorized("Authentication failed: the token is not valid") from None
        name = claims.get(self.name_claim)
        if not isinstance(name, str) or not name:
            raise Unauthorized(f"Authentication failed: the token has no {self.name_claim!r}")
        return Principal(name, self._roles(claims))

    def _roles(self, claims: dict[str, Any]) -> list[str]:
        if not self.roles_claim:
            return []
        value: Any = claims
        for part in self.roles_claim.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, str):
            return value.split()
        if isinstance(value, list):
            return [r for r in value if isinstance(r, str) and r]
        return []

    def _key_for(self, token: str) -> Any:
        if self._jwks_path is None:
            return self._key
        self._load_jwks()
        kid = jwt.get_unverified_header(token).get("kid")
        with self._lock:
            if isinstance(kid, str) and kid in self._jwks:
                return self._jwks[kid]
            if kid is None and self._single is not None:
                return self._single
        raise jwt.InvalidKeyError("no key of the JWKS matches the token's kid")

    def _load_jwks(self) -> None:
        path = self._jwks_path
        assert path is not None
        try:
            info = os.stat(path)
            stamp = (info.st_mtime, info.st_size)
            if stamp == self._stamp:
                return
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
            keys = jwt.PyJWKSet.from_dict(data).keys
        except (OSError, ValueError, jwt.PyJWTError) as exc:
            if self._stamp is None:
                raise ValueError(f"cannot read the JWKS file {path}: {exc}") from None
            logger.error("Cannot read the JWKS file %s: %s", path, exc)
            return
        by_kid = {k.key_id: k.key for k in keys if k.key_id}
        single = keys[0].key if len(keys) == 1 else None
        with self._lock:
            self._jwks, self._single, self._stamp = by_kid, single, stamp

    def __repr__(self) -> str:
        return f"JWTVerifier(algorithms={self.algorithms!r})"


def _looks_like_pem(key: object) -> bool:
    if isinstance(key, bytes):
        return key.lstrip().startswith(b"-----BEGIN")
    return isinstance(key, str) and key.lstrip().startswith("-----BEGIN")
