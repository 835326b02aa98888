"""What the SQLite task file keeps for idempotent starts and completion
callbacks (issue 14), in one place: the added columns and indexes (an older
file gets them when first opened), and the statements that use them.

.. versionadded:: 2.0
"""

from __future__ import annotations

import sqlite3
from typing import Any

from .callbacks import PENDING
from .callbacks import SENDING

#: Columns added for issue 14, to new and older files alike:
#: ``idem_key`` (the scoped Idempotency-Key, unique while the task is kept),
#: ``idem_hash`` (its arguments' fingerprint), ``callback`` (the callback
#: target as JSON) and ``callback_state`` (how its delivery goes).
ADDED_COLUMNS = (
    ("idem_key", "TEXT"),
    ("idem_hash", "TEXT"),
    ("callback", "TEXT"),
    ("callback_state", "TEXT"),
)
#: Indexes on the added columns, made once they exist. The unique one is
#: what makes concurrent starts with one key start one task.
ADDED_INDEXES = (
    "CREATE UNIQUE INDEX IF NOT EXISTS ladon_tasks_idem ON ladon_tasks (idem_key)"
    " WHERE idem_key IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS ladon_tasks_callbacks ON ladon_tasks (callback_state)"
    f" WHERE callback_state = '{PENDING}'",
)
#: The new task (named parameters).
INSERT = (
    "INSERT INTO ladon_tasks (id, method, state, created, owner, heartbeat, lease, ttl,"
    " max_runtime, principal, attempt, attempts, retry_delay, job, idem_key, idem_hash,"
    " callback, callback_state)"
    " VALUES (:id, :method, 'pending', :now, :owner, :now, :lease, :ttl, :max_runtime,"
    " :principal, 1, :attempts, :retry_delay, :job, :idem_key, :idem_hash, :callback,"
    " :callback_state)"
)
#: Takes an ended task's pending callback for sending (one process wins).
CLAIM_CALLBACK = (
    f"UPDATE ladon_tasks SET callback_state = '{SENDING}'"
    f" WHERE id = ? AND callback_state = '{PENDING}' AND expires > ?"
)
SET_CALLBACK_STATE = (
    "UPDATE ladon_tasks SET callback_state = ? WHERE id = ? AND callback IS NOT NULL"
)
#: Ended tasks whose callback nobody took (their process had no sender, or
#: died first): a process with a sender sends them.
DUE_CALLBACKS = (
    f"SELECT id FROM ladon_tasks WHERE callback_state = '{PENDING}' AND expires > ? LIMIT 100"
)


#: The new task with an Idempotency-Key, unless a kept row holds the key
#: (the unique index decides, in the one statement): 0 rows then.
INSERT_ONCE = INSERT + " ON CONFLICT (idem_key) WHERE idem_key IS NOT NULL DO NOTHING"


def insert_taken(conn: sqlite3.Connection, params: dict[str, Any]) -> tuple[str, str] | None:
    """After :data:`INSERT_ONCE` inserted nothing: the task that holds the
    key, or (its row has expired, not yet swept) the new task inserted in
    its place. Run inside ``BEGIN IMMEDIATE``: no other process writes in
    between.

    :returns: ``(task_id, fingerprint)`` of the task the key started, or
        ``None`` when the new task was inserted.
    """
    row = conn.execute(
        "SELECT id, idem_hash, expires FROM ladon_tasks WHERE idem_key = ?",
        (params["idem_key"],),
    ).fetchone()
    if row is not None and (row[2] is None or row[2] > params["now"]):
        return str(row[0]), str(row[1])
    conn.execute("DELETE FROM ladon_tasks WHERE idem_key = ?", (params["idem_key"],))
    conn.execute(INSERT, params)
    return None
