"""Task services for the suite shared by every task backend.

Tasks may run in another process (an RQ worker, another gunicorn worker),
so they are held and released through files: a held task writes
``<gates>/<name>.started`` (holding its pid) once it runs, then waits until
``<gates>/<name>.go`` or ``<gates>/ALL.go`` exists. Every wait has a
deadline, so a broken test fails instead of hanging.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from ladon import LadonType
from ladon import attachment
from ladon import ladonize
from ladon.tasks import Retry

#: The longest a held task waits for its gate.
HOLD_TIMEOUT = 15.0


def mark_started(gates: str, name: str) -> None:
    """Say that the task ``name`` runs (the file holds this process's pid)."""
    path = Path(gates) / f"{name}.started"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(str(os.getpid()), encoding="ascii")
    tmp.replace(path)


def released(gates: str, name: str) -> bool:
    """Whether the gate ``name`` (or every gate) is open."""
    base = Path(gates)
    return (base / f"{name}.go").exists() or (base / "ALL.go").exists()


def hold(gates: str, name: str) -> None:
    """Mark ``name`` started, then wait for its gate."""
    mark_started(gates, name)
    deadline = time.monotonic() + HOLD_TIMEOUT
    while not released(gates, name):
        if time.monotonic() > deadline:
            raise TimeoutError(f"gate {name!r} was never released")
        time.sleep(0.005)


def count_run(gates: str, name: str, attempt: int) -> None:
    """Append ``attempt pid time`` to ``<gates>/<name>.runs`` (one line per
    run, whichever process runs it)."""
    line = f"{attempt} {os.getpid()} {time.time():.6f}\n".encode("ascii")
    fd = os.open(Path(gates) / f"{name}.runs", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


class Report(LadonType):
    """A structured task result."""

    name: str
    sizes: list[int]
    note: str | None = None


class Tagged(LadonType):
    """Fields with filters that are not idempotent: each marks the text."""

    text = {
        "type": str,
        "filters": {
            "incoming_raw": [lambda v: f"{v}<in-raw"],
            "incoming": [lambda v: f"{v}<in"],
            "outgoing": [lambda v: f"{v}>out"],
            "outgoing_raw": [lambda v: f"{v}>out-raw"],
        },
    }


class Work:
    """Tasks with controllable timing and outcomes."""

    @ladonize(tasktype=True)
    def tag(self, tagged: Tagged, **kw: Any) -> Tagged:
        """Return ``tagged`` with what the task saw of its text."""
        return Tagged(text=f"{tagged.text}|task")

    @ladonize(tasktype=True)
    def hold(self, gates: str, name: str, text: str, **kw: Any) -> str:
        """Report 0.5 ("held"), wait for the gate ``name``, return ``text``."""
        kw["task"].progress(0.5, message="held")
        hold(gates, name)
        return text

    @ladonize(tasktype=True)
    def square(self, n: int, **kw: Any) -> int:
        """Return n * n at once, reporting progress on the way."""
        kw["update_progress"](0.5)
        return n * n

    @ladonize(tasktype=True)
    def nap(self, n: int, seconds: float, **kw: Any) -> int:
        """Sleep ``seconds`` in ten steps, reporting progress; return ``n``."""
        for i in range(10):
            time.sleep(seconds / 10)
            kw["update_progress"]((i + 1) / 10)
        return n

    @ladonize(tasktype=True)
    def whose(self) -> int:
        """Return the pid of the process that runs the task."""
        return os.getpid()

    @ladonize(tasktype=True)
    def staircase(self, gates: str, name: str, values: list[float], **kw: Any) -> int:
        """Report each of ``values`` (message ``step i``), waiting for the gate
        ``name-i`` after each; return how many were reported."""
        task = kw["task"]
        for i, value in enumerate(values):
            task.progress(value, message=f"step {i}")
            hold(gates, f"{name}-{i}")
        return len(values)

    @ladonize(tasktype=True)
    def explode(self, reason: str, **kw: Any) -> int:
        """Fail with ValueError(reason) after a little progress."""
        kw["update_progress"](0.25)
        raise ValueError(reason)

    @ladonize(tasktype=True)
    def zero(self) -> int:
        return 0

    @ladonize(tasktype=True)
    def empty_text(self) -> str:
        return ""

    @ladonize(tasktype=True)
    def empty_list(self) -> list[int]:
        return []

    @ladonize(tasktype=True)
    def false(self) -> bool:
        return False

    @ladonize(tasktype=True)
    def cooperative(self, gates: str, name: str, **kw: Any) -> str:
        """Run until ``task.cancelled`` (the result of a cancelled task is
        dropped anyway)."""
        task = kw["task"]
        mark_started(gates, name)
        deadline = time.monotonic() + HOLD_TIMEOUT
        while not task.cancelled:
            if time.monotonic() > deadline:
                return "never cancelled"
            time.sleep(0.002)
        return "stopped"

    @ladonize(tasktype=True)
    def spin(self, gates: str, name: str, **kw: Any) -> int:
        """Keep calling update_progress until it raises (on cancel)."""
        report = kw["update_progress"]
        mark_started(gates, name)
        deadline = time.monotonic() + HOLD_TIMEOUT
        i = 0
        while time.monotonic() < deadline:
            i += 1
            report(i / (i + 1))
        return -1

    @ladonize(tasktype=True)
    def stubborn(self, gates: str, name: str) -> str:
        """Ignore a cancel: sleep until the gate opens (no progress, no
        look at ``task.cancelled``)."""
        hold(gates, name)
        return "finished anyway"

    @ladonize(tasktype=True)
    def report(self, name: str, count: int) -> Report:
        """Return a Report named ``name`` with sizes 0..count-1."""
        return Report(name=name, sizes=list(range(count)), note=None)

    @ladonize(tasktype=True)
    def numbers(self, count: int) -> list[int]:
        """Return [0, 1, ..., count - 1]."""
        return list(range(count))

    @ladonize(tasktype=True)
    def inspect(self, report: Report, blob: bytes, when: float) -> str:
        """Describe what arrived: the argument types and values."""
        assert isinstance(report, Report), type(report)
        assert isinstance(blob, bytes), type(blob)
        return f"{type(report).__name__}:{report.name}:{sum(report.sizes)}:{blob.decode()}:{when}"

    @ladonize(attachment, rtype=str, tasktype=True)
    def weigh(self, blob: attachment) -> str:
        """Return the size and the first bytes of an attachment."""
        data = blob.read()
        return f"{len(data)}:{data[:5].decode()}"

    @ladonize(str, rtype=attachment, tasktype=True)
    def produce(self, text: str) -> attachment:
        """Return ``text`` three times, as an attachment."""
        return attachment.from_bytes((text * 3).encode())

    @ladonize(tasktype=True)
    def header(self, name: str, **kw: Any) -> str:
        """Return the request's environ value ``name`` (``""`` if absent)."""
        value = kw.get(name, "")
        return value if isinstance(value, str) else repr(value)


class Retrying:
    """Task methods that run again: ``tasktype={"retries": N}``."""

    @ladonize(tasktype={"retries": 2, "retry_delay": 0})
    def flaky(self, gates: str, name: str, failures: int, **kw: Any) -> str:
        """Raise Retry on the first ``failures`` attempts, then succeed."""
        task = kw["task"]
        count_run(gates, name, task.attempt)
        if task.attempt <= failures:
            raise Retry(f"busy at attempt {task.attempt}")
        task.progress(0.5, message="working")
        return f"attempt {task.attempt}"

    @ladonize(tasktype={"retries": 2, "retry_delay": 0.25})
    def patient(self, gates: str, name: str, failures: int, **kw: Any) -> str:
        """As :meth:`flaky`, waiting 0.25 s then 0.5 s between attempts."""
        task = kw["task"]
        count_run(gates, name, task.attempt)
        if task.attempt <= failures:
            raise Retry(f"busy at attempt {task.attempt}")
        return f"attempt {task.attempt}"

    @ladonize(tasktype={"retries": 1, "retry_delay": 0.2})
    def brief(self, gates: str, name: str, **kw: Any) -> str:
        """Raise Retry on the first attempt: the re-run waits 0.2 s."""
        task = kw["task"]
        count_run(gates, name, task.attempt)
        if task.attempt == 1:
            raise Retry("a brief pause")
        return f"attempt {task.attempt}"

    @ladonize(tasktype={"retries": 1, "retry_delay": 60})
    def impatient(self, gates: str, name: str, **kw: Any) -> str:
        """Its own delay is a minute; its Retry asks for none."""
        task = kw["task"]
        count_run(gates, name, task.attempt)
        if task.attempt == 1:
            raise Retry("again at once", delay=0)
        return f"attempt {task.attempt}"

    @ladonize(tasktype={"retries": 3, "retry_delay": 30})
    def sleepy(self, gates: str, name: str, **kw: Any) -> str:
        """Raise Retry at once; the next attempt would wait 30 s."""
        task = kw["task"]
        count_run(gates, name, task.attempt)
        raise Retry("come back later")

    @ladonize(attachment, rtype=str, tasktype={"retries": 1, "retry_delay": 0})
    def weigh_twice(self, blob: attachment, **kw: Any) -> str:
        """Read the attachment, ask to run again once, read it again."""
        data = blob.read()
        if kw["task"].attempt == 1:
            raise Retry(f"read {len(data)} bytes")
        return f"attempt {kw['task'].attempt}: {len(data)}:{data[:5].decode()}"

    @ladonize(tasktype=True)
    def once(self, gates: str, name: str, **kw: Any) -> str:
        """Raise Retry in a method that declares no retries."""
        count_run(gates, name, kw["task"].attempt)
        raise Retry("once more please")

    @ladonize(tasktype={"retries": 1, "retry_delay": 0})
    def survivor(self, gates: str, name: str, **kw: Any) -> str:
        """Attempt 1 holds at the gate ``name`` (to be killed or stopped);
        a later attempt answers at once."""
        task = kw["task"]
        count_run(gates, name, task.attempt)
        if task.attempt == 1:
            hold(gates, name)
            return "attempt 1"
        return f"attempt {task.attempt}"

    @ladonize(tasktype={"retries": 1, "retry_delay": 0})
    def holdfast(self, gates: str, name: str, **kw: Any) -> str:
        """Every attempt holds at the gate ``<name>-<attempt>``."""
        task = kw["task"]
        count_run(gates, name, task.attempt)
        hold(gates, f"{name}-{task.attempt}")
        return f"attempt {task.attempt}"

    @ladonize(tasktype={"retries": 2, "retry_delay": 0, "max_runtime": 0.5})
    def overrun(self, gates: str, name: str, **kw: Any) -> str:
        """Run past its max_runtime (0.5 s): never run again for that."""
        task = kw["task"]
        count_run(gates, name, task.attempt)
        deadline = time.monotonic() + HOLD_TIMEOUT
        while not task.cancelled and time.monotonic() < deadline:
            time.sleep(0.02)
        return "stopped"

    @ladonize(tasktype=True)
    def mortal(self, gates: str, name: str, **kw: Any) -> str:
        """Hold at the gate ``name``; no retries."""
        count_run(gates, name, kw["task"].attempt)
        hold(gates, name)
        return "done"


class Outage:
    """Control of the serving process for the store outage tests: only ever
    called on a gunicorn worker (never in the test process)."""

    @ladonize()
    def limit_file_size(self, nbytes: int) -> int:
        """Limit the size of the files this process writes (RLIMIT_FSIZE:
        a write beyond it fails with EFBIG, as on a full disk); -1 lifts
        the limit. Returns this process's pid."""
        import resource
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG, not death
        _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (hard if nbytes < 0 else nbytes, hard))
        return os.getpid()


class OtherWork:
    """A second service with a same-named task, for foreign-id checks."""

    @ladonize(tasktype=True)
    def zero(self) -> int:
        return 0
