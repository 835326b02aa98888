"""Real servers for the deployment tests: processes started on 127.0.0.1
(free ports), watched through their output files, stopped by process group."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from collections.abc import Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class Process:
    """A server process in its own session; output goes to files."""

    def __init__(
        self,
        argv: Sequence[str],
        workdir: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.argv = list(argv)
        self.out = workdir / f"{Path(argv[0]).name}.out"
        self.err = workdir / f"{Path(argv[0]).name}.err"
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.popen = subprocess.Popen(
                self.argv,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                cwd=str(cwd or workdir),
                env={**os.environ, **(env or {})},
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        text = self.out.read_text(errors="replace") + self.err.read_text(errors="replace")
        return text

    def wait_for(self, pattern: str, timeout: float = 20.0) -> re.Match[str]:
        """Wait until the output matches ``pattern``; fail if the process dies."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(pattern, self.output())
            if m:
                return m
            if self.popen.poll() is not None:
                pytest.fail(
                    f"{self.argv[0]} exited with {self.popen.returncode}:\n{self.output()}",
                    pytrace=False,
                )
            time.sleep(0.05)
        pytest.fail(f"no {pattern!r} from {self.argv[0]} in {timeout} s:\n{self.output()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Signal the process group, wait, then kill what is left."""
        if self.popen.poll() is None:
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.popen.wait(5)
        try:  # children left behind in the group
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        return self.popen.returncode


def wait_http(url: str, timeout: float = 20.0, process: Process | None = None) -> None:
    """Wait until ``url`` answers (any HTTP status)."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError as exc:
            last = exc
        if process is not None and process.popen.poll() is not None:
            pytest.fail(f"server exited:\n{process.output()}", pytrace=False)
        time.sleep(0.1)
    detail = process.output() if process else ""
    pytest.fail(f"{url} did not answer in {timeout} s ({last}):\n{detail}", pytrace=False)


def wsgi_file(path: Path, python_path: Sequence[str], step_seconds: float = 0.1) -> Path:
    """Write the WSGI script of the example app (every module of examples/).

    ``examples/tasks.py`` sleeps ``STEP_SECONDS`` per step; the deployment
    tests make it short.
    """
    path.write_text(
        "import sys\n"
        f"sys.path[:0] = {list(python_path)!r}\n"
        "import tasks\n"
        f"tasks.STEP_SECONDS = {step_seconds!r}\n"
        "from ladon import LadonWSGIApplication\n"
        f"application = LadonWSGIApplication([{str(EXAMPLES)!r}],"
        " catalog_name='Deployed examples')\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture()
def workdir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
