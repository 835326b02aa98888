"""A ready ``verify`` for :class:`~ladon.auth.BasicAuth`: an Apache
htpasswd file with bcrypt (``htpasswd -B``) and SHA-512/SHA-256-crypt
(``htpasswd -5`` / ``-2``) entries, checked with libpass (the maintained
passlib) and bcrypt: ``pip install 'ladon[htpasswd]'``.

.. versionadded:: 2.0
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence

from ..ladonizer.access import Principal
from .http import cached

logger = logging.getLogger("ladon.auth")

#: The hash schemes accepted by default (passlib names).
DEFAULT_SCHEMES = ("bcrypt", "sha512_crypt", "sha256_crypt")


def _context(schemes: Sequence[str]) -> object:
    try:
        from passlib.context import CryptContext  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError(
            "HtpasswdFile needs libpass and bcrypt: pip install 'ladon[htpasswd]'"
        ) from exc
    return CryptContext(schemes=list(schemes))


#: bcrypt reads at most 72 bytes of a password.
BCRYPT_MAX_BYTES = 72


def _secret(password: str, entry: str) -> str | bytes:
    """The password as ``entry``'s scheme reads it: for bcrypt its first 72
    bytes of UTF-8, as Apache (``htpasswd -B`` and ``AuthUserFile``) and
    every bcrypt before the Python ``bcrypt`` 5.0 (which refuses longer
    ones instead) read it, so that a long passphrase Apache accepts is
    accepted here too."""
    if entry.startswith("$2"):
        raw = password.encode("utf-8", "surrogatepass")
        if len(raw) > BCRYPT_MAX_BYTES:
            return raw[:BCRYPT_MAX_BYTES]
    return password


class HtpasswdFile:
    """``verify(user, password)`` over an Apache htpasswd file.

    :param path: the file (``user:hash`` lines, as ``htpasswd`` writes
        them); read again when it changes.
    :param roles: ``roles(user) -> roles``; default: none.
    :param schemes: the hash schemes accepted (passlib names); entries of
        other schemes (MD5 ``$apr1$``, SHA-1, crypt, plain text) never match
        and are logged once when the file is read. Add ``"apr_md5_crypt"``
        to take Apache's default MD5 entries.
    :param cache_ttl: seconds an accepted user and password are remembered
        (see :func:`~ladon.auth.cached`), so that bcrypt is not computed on
        every call; 0 to check every time.

    An unknown user costs a hash check against an entry of the file (same
    scheme, same cost), like a known one, so that the time taken does not
    tell whether the user exists.

    .. versionadded:: 2.0
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        roles: Callable[[str], Iterable[str]] | None = None,
        schemes: Sequence[str] = DEFAULT_SCHEMES,
        cache_ttl: float = 60.0,
    ) -> None:
        self.path = os.fspath(path)
        self.roles = roles
        self._context = _context(schemes)
        self._lock = threading.Lock()
        self._stamp: tuple[float, int] | None = None
        self._entries: dict[str, str] = {}
        self._load()
        self._check: Callable[[str, str], Principal | None] = (
            cached(self._verify, cache_ttl) if cache_ttl > 0 else self._verify
        )
        #: Read by :class:`~ladon.auth.BasicAuth`, which then remembers
        #: accepted headers that long (a changed file is noticed after it).
        self.cache_ttl = float(cache_ttl) if cache_ttl > 0 else 0.0

    def __call__(self, user: str, password: str) -> Principal | None:
        """The principal when ``password`` is ``user``'s, else ``None``."""
        self._load()
        return self._check(user, password)

    def _verify(self, user: str, password: str) -> Principal | None:
        context = self._context
        with self._lock:
            entry = self._entries.get(user)
        if entry is None:
            self._decoy(password)
            return None
        try:
            ok = context.verify(_secret(password, entry), entry)  # type: ignore[attr-defined]
        except (ValueError, TypeError):
            return None
        if not ok:
            return None
        return Principal(user, self.roles(user) if self.roles is not None else ())

    def _decoy(self, password: str) -> None:
        """What an unknown user costs: a check of ``password`` against an
        entry of the file (its scheme and cost, so that the time taken does
        not tell the user does not exist; the answer is thrown away), or
        passlib's dummy check when the file has none."""
        with self._lock:
            decoy = next(iter(self._entries.values()), None)
        if decoy is None:
            self._context.dummy_verify()  # type: ignore[attr-defined]
            return
        try:
            self._context.verify(_secret(password, decoy), decoy)  # type: ignore[attr-defined]
        except (ValueError, TypeError):
            pass

    def _load(self) -> None:
        try:
            info = os.stat(self.path)
        except OSError as exc:
            if self._stamp is None:
                raise ValueError(f"cannot read the htpasswd file {self.path}: {exc}") from None
            logger.error("Cannot read the htpasswd file %s: %s", self.path, exc)
            return
        stamp = (info.st_mtime, info.st_size)
        if stamp == self._stamp:
            return
        entries: dict[str, str] = {}
        with open(self.path, encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, start=1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                user, sep, hashed = line.partition(":")
                if not sep or not user:
                    logger.warning("%s:%d is not a user:hash line", self.path, number)
                    continue
                if self._context.identify(hashed, required=False) is None:  # type: ignore[attr-defined]
                    logger.warning(
                        "%s:%d: the entry of %r uses a hash scheme not accepted here",
                        self.path,
                        number,
                        user,
                    )
                    continue
                entries[user] = hashed
        with self._lock:
            self._entries = entries
            self._stamp = stamp
        clear = getattr(getattr(self, "_check", None), "clear", None)
        if clear is not None:
            clear()  # a changed file: passwords may have changed

    def __repr__(self) -> str:
        return f"HtpasswdFile({self.path!r})"
