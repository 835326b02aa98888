"""Processes of this host, as the task layer and the metrics judge them.

.. versionadded:: 2.0
"""

from __future__ import annotations

import os


def process_alive(pid: int, born: float | None = None) -> bool:
    """Whether process ``pid`` of this host runs (a zombie does not); with
    ``born`` (a time since the epoch), on Linux, also that it started
    before then: a later one only reuses the pid.

    .. versionadded:: 2.0
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive, whose it is unknown
        pass
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open("/proc/stat", encoding="ascii") as f:
            boot = next(float(line.split()[1]) for line in f if line.startswith("btime "))
    except (OSError, IndexError, StopIteration, ValueError):  # not Linux
        return True
    if fields[0] == "Z":
        return False
    # NOTE: field 22 of stat, the start in clock ticks since boot (whole
    # seconds of boot time: a second of slack)
    started = boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    return born is None or started <= born + 1.0
