"""Outages of the SQLite task file, told apart from lost processes.

A task's lease runs out when its process stops renewing it. Either the
process died (killed, crashed), or nobody could write the file for a while
(the disk full, the file or its directory made read-only, the host
suspended). Only the first may fail a task "worker lost" or run it again
elsewhere: after an outage, the processes that ran tasks all along must
get the time to renew their leases before anyone judges them.

So every process that uses the file beats in ``ladon_meta`` at each of its
heartbeats (``steady-beat``); the first beat after a gap longer than
:func:`max_gap` stamps the file writable from then on (``steady-since``).
A process judges the lease of another only while the file has been beaten
on without such a gap for at least that lease (:func:`may_judge`): after
an outage, every live process has a whole lease to renew its tasks, and a
process that did die is judged one lease later than it would have been.

Gaps are told in real (wall-clock) time, whatever clock the backend was
given: a :class:`~ladon.testing.ManualClock` moves leases, not outages.

.. versionadded:: 2.0
"""

from __future__ import annotations

import sqlite3

BEAT = "steady-beat"
SINCE = "steady-since"
_READ = "SELECT name, value FROM ladon_meta WHERE name IN (?, ?)"
_SET = "INSERT OR REPLACE INTO ladon_meta (name, value) VALUES (?, ?)"


def max_gap(lease: float, heartbeat: float) -> float:
    """The longest time between two beats that is not an outage.

    A process renews its leases every ``heartbeat`` (and at its first
    write after an outage, within one more heartbeat), so after a gap of
    ``g`` seconds unnoticed its tasks' heartbeats are at most ``g`` plus
    two heartbeats old: ``lease - 3 * heartbeat`` leaves one heartbeat to
    spare. Never less than one and a half heartbeats, the gap between the
    beats of a single process that is slow to write.
    """
    return max(1.5 * heartbeat, lease - 3 * heartbeat)


def read(rows: list[sqlite3.Row]) -> tuple[float | None, float]:
    """``(last beat, steady since)`` from the rows of :data:`QUERY`.

    ``None``: no process has beaten yet (a new file, or one used by an
    earlier version only). ``since`` is 0 when no gap was ever seen.
    """
    values = {str(row[0]): row[1] for row in rows}
    beat = values.get(BEAT)
    since = values.get(SINCE)
    return (
        float(beat) if isinstance(beat, (int, float)) else None,
        float(since) if isinstance(since, (int, float)) else 0.0,
    )


#: The query :func:`read` reads, with its parameters.
QUERY = (_READ, (BEAT, SINCE))


def beat(conn: sqlite3.Connection, now: float, gap: float) -> float:
    """Beat on the file (inside the caller's transaction); return the time
    since which it has been beaten on without a gap longer than ``gap``."""
    last, since = read(conn.execute(*QUERY).fetchall())
    if last is not None and now - last > gap:
        since = now  # an outage (or no process at all) ends here
        conn.execute(_SET, (SINCE, since))
    if last is None or now > last:
        conn.execute(_SET, (BEAT, now))
    return since


def may_judge(last: float | None, since: float, lease: float, now: float, gap: float) -> bool:
    """True when a lease of ``lease`` seconds that ran out may be judged:
    the file is beaten on (no gap longer than ``gap`` is under way) and
    has been, without such a gap, for at least ``lease``."""
    if last is None:
        return True  # no process of this version beats here yet
    return now - last <= gap and since + lease <= now
