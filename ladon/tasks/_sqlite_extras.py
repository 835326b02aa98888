"""What the SQLite task file keeps for idempotent starts and completion
callbacks (issue 14), in one place: the added columns and indexes (an older
file gets them when first opened), and the statements that use them.

.. versionadded:: 2.0
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3

from .callbacks import PENDING
from .callbacks import RETRYING
from .callbacks import SENDING

#: Columns added for issue 14, to new and older files alike:
#: ``idem_key`` (unused since keyed ids, kept: files that have it keep it),
#: ``idem_hash`` (the arguments' fingerprint of a keyed start), ``callback``
#: (the callback target as JSON), ``callback_state`` (how its delivery
#: goes) and ``callback_at`` (when a process took the callback or wrote
#: that it will try again: set while one holds it, NULL otherwise).
ADDED_COLUMNS = (
    ("idem_key", "TEXT"),
    ("idem_hash", "TEXT"),
    ("callback", "TEXT"),
    ("callback_state", "TEXT"),
    ("callback_at", "REAL"),
)
#: Index changes, made once the added columns exist. A keyed start's id
#: begins with a prefix derived from its key (:class:`KeyPrefixes`), so the
#: primary key finds a kept task of the key (:data:`INSERT_ONCE`); the
#: unique index on ``idem_key`` that did this before (one more b-tree
#: written per start) goes.
ADDED_INDEXES = (
    "DROP INDEX IF EXISTS ladon_tasks_idem",
    "CREATE INDEX IF NOT EXISTS ladon_tasks_callbacks ON ladon_tasks (callback_state)"
    f" WHERE callback_state = '{PENDING}'",
    "CREATE INDEX IF NOT EXISTS ladon_tasks_callbacks_held ON ladon_tasks (callback_at)"
    " WHERE callback_at IS NOT NULL",
)
#: What the file keeps about itself: the secret keyed task ids are made with.
META_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS ladon_meta (name TEXT PRIMARY KEY, value BLOB NOT NULL)"
    " WITHOUT ROWID"
)
_SECRET_NAME = "idempotency-secret"


def file_secret(conn: sqlite3.Connection) -> bytes:
    """The file's secret for keyed task ids (made by the first process to
    open the file; every process of the file reads the same; a file that
    has one is only read)."""
    query = "SELECT value FROM ladon_meta WHERE name = ?"
    row = conn.execute(query, (_SECRET_NAME,)).fetchone()
    if row is None:
        conn.execute(
            "INSERT OR IGNORE INTO ladon_meta (name, value) VALUES (?, ?)",
            (_SECRET_NAME, secrets.token_bytes(32)),
        )
        row = conn.execute(query, (_SECRET_NAME,)).fetchone()
    return bytes(row[0])


class KeyPrefixes:
    """The first half of the ids of the tasks a scoped Idempotency-Key
    starts: 20 hexadecimal digits of a keyed BLAKE2b (a MAC) of the key
    under the file's secret. The other 20 are random, so that a task
    started again once the first has expired has an id of its own. Nobody
    without the secret can compute a prefix from a key or tell it from a
    random one.

    :param secret: the file's secret (:func:`file_secret`).
    """

    def __init__(self, secret: bytes) -> None:
        # PERF: keyed once, copied per use; hashlib's own BLAKE2b keeps the
        # GIL for short input (OpenSSL's one-shot HMAC lets it go, and a
        # start then waits for whichever thread takes it)
        self._mac = hashlib.blake2b(key=secret, digest_size=10)

    def __call__(self, scoped_key: str) -> str:
        mac = self._mac.copy()
        mac.update(scoped_key.encode("utf-8", "surrogatepass"))
        return mac.hexdigest()


#: The new task (named parameters).
INSERT = (
    "INSERT INTO ladon_tasks (id, method, state, created, owner, heartbeat, lease, ttl,"
    " max_runtime, principal, attempt, attempts, retry_delay, job, idem_key, idem_hash,"
    " callback, callback_state)"
    " VALUES (:id, :method, 'pending', :now, :owner, :now, :lease, :ttl, :max_runtime,"
    " :principal, 1, :attempts, :retry_delay, :job, :idem_key, :idem_hash, :callback,"
    " :callback_state)"
)
#: Takes an ended task's callback for sending (one process wins): a pending
#: one, or one a process took and then left alone since ``:stale`` (it
#: died: NULL ``:stale``, never).
CLAIM_CALLBACK = (
    f"UPDATE ladon_tasks SET callback_state = '{SENDING}', callback_at = :now"
    " WHERE id = :id AND expires > :now"
    f" AND (callback_state = '{PENDING}' OR callback_at < :stale)"
)
#: Takes again the callback this process waits to try again (its state as
#: it wrote it): not when another process took it meanwhile.
CLAIM_HELD_CALLBACK = (
    f"UPDATE ladon_tasks SET callback_state = '{SENDING}', callback_at = :now"
    " WHERE id = :id AND expires > :now AND callback_state = :held"
)
SET_CALLBACK_STATE = (
    "UPDATE ladon_tasks SET callback_state = :state, callback_at = :at"
    " WHERE id = :id AND callback IS NOT NULL"
)
#: The pending callbacks a heartbeat reads (see DUE_CALLBACKS).
DUE_PAGE = 100
#: Ended tasks whose callback nobody took (their process had no sender, or
#: died first; or it waits for a busy receiver): a process with a sender
#: sends them, a hundred a heartbeat, the next hundred (ids after ``?``) at
#: the next, so that a backlog for a slow receiver hides no others.
DUE_CALLBACKS = (
    f"SELECT id FROM ladon_tasks WHERE callback_state = '{PENDING}' AND expires > ?"
    f" AND id > ? ORDER BY id LIMIT {DUE_PAGE}"
)
#: Callbacks a process took, then left alone since ``?`` (it died while
#: sending, or while waiting to try again).
STALE_CALLBACKS = "SELECT id FROM ladon_tasks WHERE callback_at < ? AND expires > ? LIMIT 100"
#: Tasks about to be deleted (expired at ``?``) whose callback was neither
#: sent nor given up: pending, or taken (by the state: a process of a
#: release before ``callback_at`` writes no time).
EXPIRING_CALLBACKS = (
    "SELECT id, callback_state FROM ladon_tasks WHERE expires <= ?"
    f" AND (callback_state = '{PENDING}' OR callback_state = '{SENDING}'"
    f" OR callback_state LIKE '{RETRYING}%')"
)


#: A kept task of a key: its id has the key's prefix (``:lo`` <= id <
#: ``:hi``), it has a fingerprint (a keyed start) and has not expired.
_KEPT = (
    "SELECT {what} FROM ladon_tasks WHERE id >= :lo AND id < :hi AND idem_hash IS NOT NULL"
    " AND (expires IS NULL OR expires > :now)"
)
#: The new task of a keyed start, unless a task of the key is kept (0 rows
#: then). One statement: SQLite runs it under the write lock, on the latest
#: state of the file, so two starts with one key never both insert.
INSERT_ONCE = (
    INSERT[: INSERT.index(" VALUES (")]
    + " SELECT "
    + INSERT[INSERT.index(" VALUES (") + 9 : -1]
    + " WHERE NOT EXISTS ("
    + _KEPT.format(what="1")
    + ")"
)
#: The kept task of a key: its id and fingerprint.
KEPT = _KEPT.format(what="id, idem_hash") + " LIMIT 1"


def key_range(prefix: str) -> dict[str, str]:
    """The ``:lo`` and ``:hi`` parameters of the ids that begin with ``prefix``."""
    return {"lo": prefix, "hi": prefix + "g"}  # "g" sorts after every hex digit
