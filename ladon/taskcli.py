"""``ladon tasks APP-OR-URL list|show|cancel``: the tasks of an
application, for operators.

::

    ladon tasks myproject.wsgi:application list --state running
    ladon tasks services/ --tasks sqlite:///var/lib/shop/tasks.db list --age 1h --json
    ladon tasks https://shop.example.com/api list --user ops      # password: $LADON_PASSWORD
    ladon tasks https://shop.example.com/api cancel 5f0c...       # token: --bearer, $LADON_TOKEN

Against an application (``module:attr``, or service files, directories or
modules with ``--tasks URL`` or ``LADON_TASKS``) the task store is read
directly (SQLite, Redis); the thread backend keeps its tasks in the
memory of the serving process, so it is reached through the
application's URL, whose operator API (``/_ladon/api/tasks``) answers the
``admin`` role. Credentials never go on the command line: the password of
``--user`` is read from ``$LADON_PASSWORD`` (or typed), the token of
``--bearer`` from ``$LADON_TOKEN``.

.. versionadded:: 2.0
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

#: Exit statuses.
OK, NOT_FOUND, USAGE = 0, 1, 2


#: What a terminal must not be sent from a task (its message, its error,
#: its principal: text a client may have chosen): control characters
#: (escape sequences, line ends) and the bidirectional controls, which
#: reorder what follows on the line ("Trojan Source"), are shown escaped.
_ESCAPED = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}
_ESCAPED.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"})
_ESCAPED.update(
    {
        c: f"\\u{c:04x}"
        for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
    }
)


def printable(value: object) -> str:
    """``value`` as text a terminal shows as it is (control characters
    escaped: ``\\x1b``, ``\\n``).

    .. versionadded:: 2.0
    """
    return str(value).translate(_ESCAPED)


class TaskCLIError(Exception):
    """What ``ladon tasks`` prints before exiting with ``status``."""

    def __init__(self, message: str, status: int = USAGE) -> None:
        super().__init__(message)
        self.status = status


def add_tasks_parser(sub: Any) -> None:
    """Add the ``tasks`` subcommand to ``ladon``'s argument parser.

    .. versionadded:: 2.0
    """
    parser: argparse.ArgumentParser = sub.add_parser(
        "tasks",
        help="list, show or cancel the tasks of an application",
        description="The tasks of APP-OR-URL: an application's module:attr, service files, "
        "directories or modules (with --tasks or LADON_TASKS: the store is read directly), "
        "or the application's URL (its operator API, for the admin role; the password of "
        "--user is read from $LADON_PASSWORD, the token of --bearer from $LADON_TOKEN).",
    )
    parser.add_argument("target", metavar="APP-OR-URL")
    parser.add_argument("--tasks", metavar="URL", help="the task backend URL (with service files)")
    parser.add_argument(
        "--user", metavar="NAME", help="HTTP Basic user (password: $LADON_PASSWORD)"
    )
    parser.add_argument("--bearer", action="store_true", help="send $LADON_TOKEN as a Bearer token")
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="the tasks, newest first")
    listing.add_argument(
        "--state",
        action="append",
        default=[],
        choices=["pending", "running", "succeeded", "failed", "cancelled"],
        help="only tasks in this state (repeatable)",
    )
    listing.add_argument("--service", help="only the tasks of this service")
    listing.add_argument("--method", help="only the tasks of this task method")
    listing.add_argument("--age", help="only tasks created within this time (90, 10m, 2h, 1d)")
    listing.add_argument("--limit", type=int, default=100, help="at most N tasks (default 100)")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    for name, text in (("show", "one task"), ("cancel", "cancel a pending or running task")):
        action = actions.add_parser(name, help=text)
        action.add_argument("task_id", metavar="TASK-ID")
        action.add_argument("--json", action="store_true", help="print JSON instead of text")


def run_command(args: argparse.Namespace) -> int:
    """Run ``ladon tasks`` with parsed arguments.

    .. versionadded:: 2.0
    """
    try:
        source = _source(args)
        if args.action == "list":
            query = {
                "state": ",".join(args.state),
                "service": args.service or "",
                "method": args.method or "",
                "age": args.age or "",
                "limit": str(args.limit),
            }
            tasks = source.list({k: v for k, v in query.items() if v})
            sys.stdout.write(json.dumps(tasks, indent=2) + "\n" if args.json else table(tasks))
            return OK
        _check_id(args.task_id)
        task = source.show(args.task_id) if args.action == "show" else source.cancel(args.task_id)
        sys.stdout.write(json.dumps(task, indent=2) + "\n" if args.json else details(task))
        return OK
    except TaskCLIError as exc:
        sys.stderr.write(f"ladon tasks: {printable(exc)}\n")
        return exc.status


def _check_id(task_id: str) -> None:
    from .tasks.base import is_task_id

    if not is_task_id(task_id):
        raise TaskCLIError(
            f"unknown task {task_id[:64]!r}: give the whole task id (40 hexadecimal digits, "
            "as list prints it)",
            NOT_FOUND,
        )


# -- where the tasks are -----------------------------------------------------------------


class _Store:
    """The task store of an application, read directly."""

    def __init__(self, backend: Any) -> None:
        from .tasks.admin import TaskAdmin
        from .tasks.admin import backend_kind

        if backend_kind(backend) == "thread":
            raise TaskCLIError(
                "the thread task backend keeps its tasks in the memory of the serving "
                "process: give the application's URL (http://host:port/...) instead"
            )
        if not isinstance(backend, TaskAdmin):
            raise TaskCLIError(f"the task backend {type(backend).__name__} cannot list its tasks")
        self.backend: Any = backend

    def list(self, query: Mapping[str, str]) -> list[dict[str, Any]]:
        from .server.admin import parse_query
        from .tasks.admin import now
        from .tasks.admin import task_record

        try:
            parsed = parse_query(query)
        except ValueError as exc:
            raise TaskCLIError(str(exc)) from None
        at = now()
        return [task_record(s, at) for s in self._guard(lambda: self.backend.tasks(parsed))]

    def show(self, task_id: str) -> dict[str, Any]:
        from .tasks.admin import find_task
        from .tasks.admin import now
        from .tasks.admin import task_record

        return task_record(self._guard(lambda: find_task(self.backend, task_id)), now())

    def cancel(self, task_id: str) -> dict[str, Any]:
        from .tasks.admin import cancel_task
        from .tasks.admin import now
        from .tasks.admin import task_record

        return task_record(self._guard(lambda: cancel_task(self.backend, task_id)), now())

    @staticmethod
    def _guard(action: Any) -> Any:
        from .tasks.base import BackendUnavailable
        from .tasks.base import UnknownTask

        try:
            return action()
        except UnknownTask as exc:
            raise TaskCLIError(str(exc), NOT_FOUND) from None
        except BackendUnavailable as exc:
            raise TaskCLIError(f"the task store is unavailable: {exc}") from None


class _Remote:
    """The operator API of a running application."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.base = url.rstrip("/") + "/_ladon/api/tasks"
        self.headers = {"Accept": "application/json", **headers}

    def _call(self, path: str, method: str = "GET") -> Any:
        data = b"{}" if method == "POST" else None
        headers = dict(self.headers)
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            try:
                text = json.loads(exc.read()).get("error") or exc.reason
            except (ValueError, AttributeError):
                text = exc.reason
            status = NOT_FOUND if exc.code in (401, 403, 404) else USAGE
            if exc.code in (404, 405) and not path.startswith("/"):
                # the URL of a service or an interface, not of the application
                text = (
                    f"no operator API at {self.base}; give the application's URL "
                    "(the one /_ladon/ is under), not a service's"
                )
                status = NOT_FOUND
            raise TaskCLIError(f"{exc.code}: {printable(text)}", status) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TaskCLIError(f"cannot reach the application: {reason}") from None

    def list(self, query: Mapping[str, str]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._call("?" + urllib.parse.urlencode(query))["tasks"]
        return found

    def show(self, task_id: str) -> dict[str, Any]:
        task: dict[str, Any] = self._call("/" + urllib.parse.quote(task_id, safe=""))["task"]
        return task

    def cancel(self, task_id: str) -> dict[str, Any]:
        path = "/" + urllib.parse.quote(task_id, safe="") + "/cancel"
        task: dict[str, Any] = self._call(path, "POST")["task"]
        return task


def _source(args: argparse.Namespace) -> _Store | _Remote:
    target: str = args.target
    if target.startswith(("http://", "https://")):
        if "@" in urllib.parse.urlsplit(target).netloc:
            # never a password on the command line (the process list shows it)
            raise TaskCLIError(
                "the URL holds credentials (user:password@): give --user NAME with the "
                "password in $LADON_PASSWORD, or --bearer with $LADON_TOKEN"
            )
        return _Remote(target, _auth_headers(args.user, args.bearer))
    if args.user or args.bearer:
        raise TaskCLIError("--user and --bearer are for an application's URL")
    return _Store(_backend(target, args.tasks))


def _backend(target: str, url: str | None) -> Any:
    from .exceptions.base import DefinitionError
    from .tasks import DEFAULT_TASKS_ENV
    from .tasks import backend_from_url

    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        if ":" in target and not os.path.exists(target):
            from .tasks.worker import load_app

            # NOTE: before the import: an application built at import checks
            # its task URL then, and a SQLite backend creates its file (a
            # missing store would be listed as "no tasks" from a new, empty
            # file). Without tasks=... the application reads LADON_TASKS.
            _check_store(url or os.environ.get(DEFAULT_TASKS_ENV))
            app = load_app(target)
            # the URL the application builds its backend from (tasks=... in
            # its code: created at import when missing, see docs/operations.rst)
            configured = getattr(app, "_tasks_config", None)
            _check_store(url or (configured if isinstance(configured, str) else None))
            return backend_from_url(url) if url else app.task_backend()
        url = url or os.environ.get(DEFAULT_TASKS_ENV)
        if not url:
            raise TaskCLIError(
                "give the task backend: --tasks sqlite:///path.db (or redis://...) or LADON_TASKS"
            )
        _check_store(url)
        from .ladonizer.registry import discover

        # The services are loaded (a wrong target is said so) but no
        # application is built: reading and cancelling tasks needs the
        # store alone, not the services' access rules (an "authenticated"
        # service would ask for auth=...).
        if not discover([target]):
            raise TaskCLIError(f"cannot load {target}: it serves no service")
        return backend_from_url(url)
    except (DefinitionError, ImportError, ValueError, OSError) as exc:
        raise TaskCLIError(f"cannot load {target}: {exc}") from None


def _check_store(url: str | None) -> None:
    """Refuse a SQLite task store that does not exist: the commands read and
    cancel the tasks of a store an application writes, and opening a
    missing file would create an empty one (a mistyped path lists no
    tasks)."""
    parts = urllib.parse.urlsplit((url or "").strip())
    if parts.scheme != "sqlite":
        return
    path = urllib.parse.unquote(parts.path)
    if os.path.isabs(path) and not os.path.exists(path):
        # the URL's path may start with // (sqlite:////var/...): one is enough
        raise TaskCLIError(f"no task database at /{path.lstrip('/')}")


def _auth_headers(user: str | None, bearer: bool) -> dict[str, str]:
    from .cli import _credentials

    found = _credentials(user, bearer)
    if isinstance(found, str):
        raise TaskCLIError(found)
    if "auth" in found:
        name, password = found["auth"]
        token = base64.b64encode(f"{name}:{password}".encode()).decode("ascii")
        return {"Authorization": f"Basic {token}"}
    if "bearer_token" in found:
        return {"Authorization": f"Bearer {found['bearer_token']}"}
    return {}


# -- output ---------------------------------------------------------------------------------

_COLUMNS = (
    "ID",
    "TASK",
    "STATE",
    "PROGRESS",
    "DURATION",
    "PRINCIPAL",
    "ATTEMPT",
    "CREATED",
    "MESSAGE",
)


def _when(epoch: object) -> str:
    if not isinstance(epoch, int | float):
        return "-"
    return datetime.datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S")


def _row(task: Mapping[str, Any]) -> tuple[str, ...]:
    message = task.get("error") if task.get("state") == "failed" else task.get("message")
    return (
        # NOTE: the whole id, as show and cancel take it (40 hex digits)
        printable(task["id"]),
        printable(task["task"]),
        printable(task["state"]),
        f"{float(task['progress']):.0%}",
        f"{float(task['duration']):.1f}s" if task.get("started") is not None else "-",
        printable(task.get("principal") or "-"),
        _attempt(task),
        _when(task.get("created")),
        printable(" ".join(str(message or "").split())[:60]),
    )


def table(tasks: Sequence[Mapping[str, Any]]) -> str:
    """The tasks as a text table (one line each, with the whole ids that
    ``show`` and ``cancel`` take).

    .. versionadded:: 2.0
    """
    if not tasks:
        return "no tasks\n"
    rows = [_COLUMNS, *(_row(t) for t in tasks)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines) + "\n"


def details(task: Mapping[str, Any]) -> str:
    """One task, one field a line.

    .. versionadded:: 2.0
    """
    shown = {**task}
    for key in ("created", "started", "finished"):
        shown[key] = _when(task.get(key))
    width = max(len(k) for k in shown)
    return "".join(
        f"{printable(k).ljust(width)}  {'-' if v is None else printable(v)}\n"
        for k, v in shown.items()
    )


def _attempt(task: Mapping[str, Any]) -> str:
    """``2/3`` for a task whose method has retries, ``-`` otherwise."""
    attempt, attempts = task.get("attempt"), task.get("attempts")
    if not isinstance(attempt, int) or not isinstance(attempts, int) or attempts <= 1:
        return "-"
    return f"{attempt}/{attempts}"
