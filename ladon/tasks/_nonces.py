"""One-time values kept for a while (WS-Security nonces), in each backend's
store: in memory for the thread backend, a table for SQLite, keys with an
expiry for Redis (see :class:`~ladon.tasks.base.NonceStore`).

.. versionadded:: 2.0
"""

from __future__ import annotations

import hashlib
import heapq
import threading

from .base import BackendUnavailable
from .base import Clock

#: The SQLite table of claimed nonces.
SQLITE_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS ladon_nonces ("
    " nonce TEXT PRIMARY KEY, expires REAL NOT NULL) WITHOUT ROWID"
)
#: Claims a nonce: inserts it, or takes over a forgotten (expired) row;
#: changes no row when it is held.
SQLITE_CLAIM = (
    "INSERT INTO ladon_nonces (nonce, expires) VALUES (:nonce, :expires)"
    " ON CONFLICT (nonce) DO UPDATE SET expires = excluded.expires"
    " WHERE ladon_nonces.expires <= :now"
)
SQLITE_SWEEP = "DELETE FROM ladon_nonces WHERE expires <= ?"


def nonce_key(key: str) -> str:
    """What a store keeps for ``key``: its SHA-256, in hex (fixed size,
    whatever the client sent)."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def check_ttl(ttl: float) -> float:
    """``ttl`` as seconds > 0.

    :raises ValueError: for anything else.
    """
    if not (isinstance(ttl, int | float) and 0 < ttl < 10 * 365 * 86400):
        raise ValueError(f"a nonce is kept for more than 0 seconds, not {ttl!r}")
    return float(ttl)


class MemoryNonces:
    """Nonces of one process, forgotten ``ttl`` seconds after their claim.

    :param clock: where the time is read (its monotonic clock).
    :param max_entries: how many nonces may be held at once; beyond that a
        claim fails (:class:`~ladon.tasks.BackendUnavailable`) rather than
        forgetting one early, which would let it be replayed.

    .. versionadded:: 2.0
    """

    def __init__(self, clock: Clock, max_entries: int = 1_000_000) -> None:
        self._clock = clock
        self._max = max_entries
        self._lock = threading.Lock()
        self._held: dict[str, float] = {}
        self._expiry: list[tuple[float, str]] = []

    def __len__(self) -> int:
        with self._lock:
            self._sweep(self._clock.monotonic())
            return len(self._held)

    def claim(self, key: str, ttl: float) -> bool:
        """Claim ``key`` for ``ttl`` seconds; False when it is held."""
        ttl = check_ttl(ttl)
        digest = nonce_key(key)
        with self._lock:
            now = self._clock.monotonic()
            self._sweep(now)
            expires = self._held.get(digest)
            if expires is not None and expires > now:
                return False
            if len(self._held) >= self._max:
                raise BackendUnavailable(f"too many nonces held ({self._max}); try again later")
            self._held[digest] = now + ttl
            heapq.heappush(self._expiry, (now + ttl, digest))
            return True

    def _sweep(self, now: float) -> None:
        expiry, held = self._expiry, self._held
        while expiry and expiry[0][0] <= now:
            expires, digest = heapq.heappop(expiry)
            if held.get(digest) == expires:
                del held[digest]
