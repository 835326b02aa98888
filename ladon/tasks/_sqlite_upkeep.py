"""Keeping the SQLite task file in shape: connections that failed are
dropped, the space of deleted records goes back to the file system.

A connection SQLite opened while the file (or its directory) could not be
written stays read-only for good, and one that hit a full disk may keep
failing: the backend closes a connection after any error but a lock and
opens a new one for the next statement. The file runs in incremental
auto-vacuum, and the write-ahead log is cut back to
:data:`JOURNAL_SIZE_LIMIT` after a checkpoint, so neither keeps its peak
size once the records that made it are deleted.

.. versionadded:: 2.0
"""

from __future__ import annotations

import logging
import sqlite3

logger = logging.getLogger("ladon")

#: The largest the write-ahead log stays after a checkpoint (bytes).
JOURNAL_SIZE_LIMIT = 4 * 1024 * 1024


def limit_log(conn: sqlite3.Connection) -> None:
    """Have the log cut back to :data:`JOURNAL_SIZE_LIMIT` after each
    checkpoint of this connection."""
    conn.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")


def close_quietly(conn: sqlite3.Connection) -> None:
    """Close a connection that failed (the next statement opens another)."""
    try:
        conn.close()
    except sqlite3.Error:  # pragma: no cover - closing a broken connection
        pass


def incremental_vacuum(conn: sqlite3.Connection) -> None:
    """Put the file in incremental auto-vacuum: a new file at once, a file
    of an earlier version with one ``VACUUM`` (skipped, and logged, when it
    fails for want of room; retried by the caller when the file is busy).
    """
    if conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2:
        return
    conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'ladon_tasks'").fetchone()
    if exists:
        try:
            conn.execute("VACUUM")
        except sqlite3.OperationalError as exc:
            text = str(exc).lower()
            if "locked" in text or "busy" in text:
                raise
            logger.warning("The task database could not be vacuumed: %s", exc)


def shrink(conn: sqlite3.Connection) -> None:
    """Free the pages of deleted records (incremental vacuum) and cut the
    log back (a checkpoint that truncates it)."""
    # NOTE: executescript steps the pragma to its end; execute() would free
    # one page (the sqlite3 module steps a statement without columns once).
    conn.executescript("PRAGMA incremental_vacuum;")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
