"""Command line: ``ladon serve`` (development server), ``ladon call`` (a
JSON-WSP call from the shell) and Ladon 1.0's ``ladon-ctl testserve``."""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import re
import shutil
import signal
import sys
import sysconfig
import traceback
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from typing import Any
from typing import TextIO

from ._servechecks import listen_problem
from ._servechecks import no_service_problem
from ._servechecks import port_number
from ._servechecks import tasks_problem
from .exceptions.base import DefinitionError

BANNER = "Development server: not for production (use gunicorn or mod_wsgi)."

#: What building the application raises for a mistake in the services or
#: the options; anything else the top-level code of a service module (or
#: a module it imports) raises is one too (:func:`_is_load_error`), the rest
#: is a bug and keeps its traceback.
_LOAD_ERRORS = (DefinitionError, ImportError, SyntaxError, ValueError, OSError)

_LIBRARY_PATHS = ("stdlib", "platstdlib", "purelib", "platlib")
#: Where the frames of Ladon, the standard library and installed packages
#: live: the service code is elsewhere.
_NOT_SERVICE_CODE = (
    "<",
    os.path.dirname(os.path.abspath(__file__)) + os.sep,
    *sorted({os.path.join(sysconfig.get_paths()[k], "") for k in _LIBRARY_PATHS}),
)

_WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _build_app(
    targets: Sequence[str],
    tasks: str | None,
    debug: bool,
    base_url: str | None = None,
    trust_proxy: bool = False,
    log_requests: bool = False,
    max_wait: float = 30.0,
) -> object:
    from .server.wsgi import LadonWSGIApplication

    return LadonWSGIApplication(
        list(targets),
        tasks=tasks,
        debug=debug,
        base_url=base_url,
        trust_proxy=trust_proxy,
        log_requests=log_requests,
        max_wait=max_wait,
    )


def _seconds(text: str) -> float:
    """``--max-wait``: a number of seconds, 0 or more (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 3600:  # NaN fails too
        raise argparse.ArgumentTypeError(f"expected seconds from 0 to 3600, not {text!r}")
    return value


def _base_url(text: str) -> str:
    """``--base-url``: an absolute http(s) URL (argparse type)."""
    from urllib.parse import urlsplit

    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise argparse.ArgumentTypeError(
            f"expected the public URL of the application, like https://example.org/svc, not {text!r}"
        )
    return text


_LADON_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _is_load_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a mistake in the services rather than a bug of
    Ladon: one of :data:`_LOAD_ERRORS`, or anything raised while a module
    that is not Ladon's ran its top-level code (a service module being
    imported: ``x = undefined_name``, ``raise MyError(...)``)."""
    if isinstance(exc, _LOAD_ERRORS):
        return True
    return any(
        frame.name == "<module>" and not frame.filename.startswith(_LADON_DIR)
        for frame in traceback.extract_tb(exc.__traceback__)
    )


def _error_text(exc: BaseException) -> str:
    """What went wrong while loading the services, as Python shows it but
    without the traceback: for a syntax error its file, line, the line
    itself and a caret; else the place in the service code that raised
    (when there is one) and the exception."""
    if isinstance(exc, SyntaxError):
        return "".join(traceback.format_exception_only(type(exc), exc)).rstrip()
    outside = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if not frame.filename.startswith(_NOT_SERVICE_CODE)
    ]
    where = "".join(traceback.format_list(outside[-1:]))
    return f"{where}{type(exc).__name__}: {exc}".rstrip()


def _cannot_load(text: str, note: str = "") -> str:
    """The line (or lines) ``ladon serve`` writes when the services do not load."""
    head = f"ladon: cannot load the services{note}:"
    return f"{head}\n{text}\n" if "\n" in text else f"{head} {text}\n"


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _error_app(text: str) -> _WSGIApp:
    """A WSGI app answering every request with HTTP 500 and ``text``: what
    ``ladon serve --reload`` serves while the services do not load."""
    from werkzeug.wrappers import Response

    shown = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    body = f"Ladon cannot load the services; the server reloads when a file changes.\n\n{shown}\n"

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        response = Response(body, status=500, mimetype="text/plain")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        return response(environ, start_response)

    return app


def _module_path(name: str) -> str | None:
    """Where module ``name`` (or its top-level package) lives, found without
    importing it: a file, or a package's directory."""
    try:
        spec = importlib.util.find_spec(name.partition(".")[0])
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return next(iter(spec.submodule_search_locations), None)
    return spec.origin if spec.origin and os.path.isfile(spec.origin) else None


def _watched_paths(targets: Sequence[str], error: BaseException | None) -> list[str]:
    """What the reloader watches besides the imported modules: the service
    files and directories, and the files the error names (a module that
    failed to import is not in ``sys.modules``, where the reloader looks)."""
    paths: set[str] = set()
    for target in targets:
        found = target if os.path.exists(target) else _module_path(target)
        if found:
            paths.add(os.path.abspath(found))
    if isinstance(error, SyntaxError) and error.filename and os.path.isfile(error.filename):
        paths.add(os.path.abspath(error.filename))
    if error is not None:
        for frame in traceback.extract_tb(error.__traceback__):
            if os.path.isfile(frame.filename):
                paths.add(os.path.abspath(frame.filename))
    return sorted(paths)


def _serve(
    targets: Sequence[str],
    host: str,
    port: int,
    reload: bool,
    tasks: str | None,
    debug: bool,
    threaded: bool = True,
    base_url: str | None = None,
    trust_proxy: bool = False,
    log_requests: bool = False,
    max_wait: float = 30.0,
) -> int:
    from werkzeug.serving import is_running_from_reloader
    from werkzeug.serving import make_server

    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())  # module names resolve from here, as with python -m
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        # NOTE: started from a script's background job (bash ignores SIGINT
        # there, and Python keeps an ignored SIGINT): Ctrl-C, or a SIGINT
        # sent to it, still stops the development server
        signal.signal(signal.SIGINT, signal.default_int_handler)
    reloaded = reload and is_running_from_reloader()
    try:
        app = _build_app(targets, tasks, debug, base_url, trust_proxy, log_requests, max_wait)
    except Exception as exc:  # the service modules run here: they may raise anything
        if not reloaded and not _is_load_error(exc):
            raise
        text = _error_text(exc)
        if not reloaded:
            sys.stderr.write(_cannot_load(text))
            return 2
        # NOTE: a child of the reloader that exits ends the reloader too; so
        # it serves the error and keeps watching until a file is fixed.
        sys.stderr.write(_cannot_load(text, " (the server reloads when a file changes)"))
        sys.stderr.flush()
        return _run_reloading(_error_app(text), host, port, _watched_paths(targets, exc), threaded)
    if not reloaded:  # the reloader's child serves what its parent checked
        problem = (
            no_service_problem(app, targets)
            or tasks_problem(app, tasks)
            or listen_problem(host, port)
        )
        if problem:
            app.close()  # type: ignore[attr-defined]
            sys.stderr.write(f"ladon: {problem}\n")
            return 2
    if reload:
        if not reloaded:
            names = ", ".join(s.name for s in app.services)  # type: ignore[attr-defined]
            if port == 0:
                port = _free_port(host)  # the reloaded child binds it again
                os.environ[_RELOAD_PORT_ENV] = str(port)
            sys.stdout.write(f"{BANNER}\nServing {names}\nOpen http://{_browsable(host)}:{port}/\n")
            sys.stdout.flush()
        return _run_reloading(app, host, port, _watched_paths(targets, None), threaded)
    try:
        server = make_server(host, port, app, threaded=threaded)  # type: ignore[arg-type]
    except OSError as exc:  # the port is taken, the host is not ours...
        sys.stderr.write(f"ladon: cannot listen on {host}:{port}: {exc.strerror or exc}\n")
        return 2
    names = ", ".join(s.name for s in app.services)  # type: ignore[attr-defined]
    sys.stdout.write(f"{BANNER}\nServing {names}\nOpen http://{_browsable(host)}:{server.port}/\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        app.close()  # type: ignore[attr-defined]
    return 0


def _run_reloading(
    app: object, host: str, port: int, watched: Sequence[str], threaded: bool
) -> int:
    """Serve ``app`` with werkzeug's reloader: this process watches, a child
    serves and is restarted when a module, or one of ``watched``, changes."""
    from werkzeug.serving import is_running_from_reloader
    from werkzeug.serving import run_simple

    if port == 0 and is_running_from_reloader():
        port = int(os.environ.get(_RELOAD_PORT_ENV, "0"))
    run_simple(
        host,
        port,
        app,  # type: ignore[arg-type]
        use_reloader=True,
        extra_files=watched,
        threaded=threaded,
    )
    return 0


_RELOAD_PORT_ENV = "LADON_SERVE_PORT"


def _browsable(host: str) -> str:
    """The host to print in the URL: a wildcard address is reached through
    the loopback one."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _free_port(host: str) -> int:
    """A port free on ``host`` now (for ``--reload --port 0``)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
    return port


def _description_url(url: str) -> str:
    """The JSON-WSP description URL of a service URL given in any of its
    forms (service page, ``.../jsonwsp`` endpoint, description)."""
    base = url.rstrip("/")
    if base.endswith("/jsonwsp/description"):
        return base
    if base.endswith("/jsonwsp"):
        return base + "/description"
    return base + "/jsonwsp/description"


def _call_value(text: str, ptype: object) -> object:
    """A command-line value: text for string parameters, else JSON when it
    parses as JSON (numbers, true, [..], {..}), else the text itself."""
    if ptype == "string" or text.startswith("@"):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _printable(value: object, out_dir: str | None, saved: list[str]) -> object:
    """``value`` with attachments saved to ``out_dir`` (or summarised)."""
    from .types.attachment import attachment

    if isinstance(value, attachment):
        if out_dir is None:
            data = value.read()
            value.close()
            return f"<attachment: {len(data)} bytes; use --out DIR to save it>"
        name = os.path.basename(value.header("content-id") or f"attachment-{len(saved) + 1}")
        path = os.path.join(out_dir, name.strip("<>") or f"attachment-{len(saved) + 1}")
        with open(path, "wb") as f:
            shutil.copyfileobj(value, f)
        value.close()
        saved.append(path)
        return {"attachment": path}
    if isinstance(value, dict):
        return {k: _printable(v, out_dir, saved) for k, v in value.items()}
    if isinstance(value, list):
        return [_printable(v, out_dir, saved) for v in value]
    return value


#: Where ``ladon call`` reads the password of ``--user`` and the token of
#: ``--bearer`` (never from the command line, which ``ps`` shows).
PASSWORD_ENV = "LADON_PASSWORD"
TOKEN_ENV = "LADON_TOKEN"


def _secret(env: str, prompt: str) -> str | None:
    """A secret from the environment, else typed at a terminal."""
    value = os.environ.get(env)
    if value is not None:
        return value
    if not sys.stdin.isatty():
        return None
    import getpass

    return getpass.getpass(prompt)


def _credentials(user: str | None, bearer: bool) -> dict[str, Any] | str:
    """The client's credential options, or the error to print."""
    if user is not None and bearer:
        return "give --user or --bearer, not both"
    if user is not None:
        password = _secret(PASSWORD_ENV, f"Password for {user}: ")
        if password is None:
            return f"--user needs the password in ${PASSWORD_ENV} (or a terminal to type it)"
        return {"auth": (user, password)}
    if bearer:
        token = _secret(TOKEN_ENV, "Bearer token: ")
        if not token:
            return f"--bearer needs the token in ${TOKEN_ENV} (or a terminal to type it)"
        return {"bearer_token": token.strip()}
    return {}


#: What the interfaces say of a mandatory argument left out
#: (:class:`~ladon.exceptions.service.ArgumentError`), said the same here.
_NOT_GIVEN = "is not optional and was not given"


def _call_args(
    method: str, info: dict[str, Any], assignments: Sequence[str]
) -> dict[str, object] | list[str]:
    """The arguments of a call from its ``NAME=VALUE`` words, or what is
    wrong with them: a malformed word, an unknown name, or the mandatory
    arguments left out (said as the service's own fault says it)."""
    from .exceptions.service import ArgumentError

    args: dict[str, object] = {}
    for item in assignments:
        name, sep, text = item.partition("=")
        if not sep or not name:
            return [f"expected NAME=VALUE, got {item!r}"]
        if name not in info["params_info"]:
            known = ", ".join(info["params_order"]) or "none"
            return [f"{method} has no parameter {name!r} (it has: {known})"]
        args[name] = _call_value(text, info["params_info"][name].get("type"))
    missing = [p for p in info["mandatory_params"] if p not in args]
    return [str(ArgumentError(name, _NOT_GIVEN)) for name in missing] or args


def _call(
    url: str,
    method: str | None,
    assignments: Sequence[str],
    out_dir: str | None,
    user: str | None = None,
    bearer: bool = False,
    start: dict[str, str] | None = None,
    wait: bool = False,
) -> int:
    from .clients.jsonwsp import JSONWSPClient
    from .clients.jsonwsp import JSONWSPError
    from .clients.jsonwsp import JSONWSPFault

    credentials = _credentials(user, bearer)
    if isinstance(credentials, str):
        sys.stderr.write(f"ladon call: {credentials}\n")
        return 2
    try:
        client = JSONWSPClient(_description_url(url), **credentials)
    except (JSONWSPError, ValueError) as exc:
        sys.stderr.write(f"ladon call: {exc}\n")
        if isinstance(exc, JSONWSPError) and exc.status == 401:
            given = "the credentials given were refused" if credentials else "none were given"
            sys.stderr.write(
                f"hint: the service asks for credentials ({given}): --user NAME or --bearer\n"
            )
        return 2
    if method is None:
        for name in client.list_methods():
            info = client.method_info(name)
            params = [
                p if p in info["mandatory_params"] else f"[{p}]" for p in info["params_order"]
            ]
            sys.stdout.write(f"{name} {' '.join(params)}\n".replace(" \n", "\n"))
        return 0
    if method not in client.list_methods():
        sys.stderr.write(f"ladon call: the service has no method {method!r}\n")
        return 2
    args = _call_args(method, client.method_info(method), assignments)
    if isinstance(args, list):
        sys.stderr.writelines(f"ladon call: {problem}\n" for problem in args)
        return 2
    try:
        result = client.call(method, **args, extra_headers=start or {})
        if wait and isinstance(result, dict) and f"{method}_wait" in client.list_methods():
            result = _follow(client, method, str(result.get("task_id", "")))
    except JSONWSPFault as fault:
        sys.stderr.write(f"fault ({fault.code}): {fault.string}\n")
        if fault.hint:
            sys.stderr.write(f"hint: {fault.hint}\n")
        return 1
    except (JSONWSPError, TypeError) as exc:
        sys.stderr.write(f"ladon call: {exc}\n")
        return 2
    saved: list[str] = []
    shown = _printable(result, out_dir, saved)
    sys.stdout.write(json.dumps(shown, indent=2, ensure_ascii=False) + "\n")
    return 0


def _follow(client: Any, method: str, task_id: str) -> object:
    """Wait for a task with ``<method>_wait`` (its state on stderr as it
    goes), then fetch its result (a fault when it failed or was cancelled)."""
    status: dict[str, Any] = {"state": "pending"}
    while status.get("state") not in ("succeeded", "failed", "cancelled"):
        status = client.call(f"{method}_wait", task_id=task_id, timeout=30)
        progress = float(status.get("progress") or 0)
        message = f" {status['message']}" if status.get("message") else ""
        sys.stderr.write(f"task {task_id}: {status.get('state')} {progress:.0%}{message}\n")
    return client.call(f"{method}_result", task_id=task_id)


_LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class _PlainFormatter(logging.Formatter):
    """Drops ANSI escape sequences: werkzeug's development server colours
    its request and startup lines, which a log file must not hold. A line
    written during a request ends with its request id."""

    def format(self, record: logging.LogRecord) -> str:
        text = _ANSI_ESCAPE.sub("", super().format(record))
        request_id = getattr(record, "request_id", "-")
        return text if request_id == "-" else f"{text} [request {request_id}]"


def _colours(stream: TextIO) -> bool:
    """Whether to keep colours on ``stream``: only on a terminal, and not
    when ``NO_COLOR`` is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _configure_logging(level: int, log_format: str = "text") -> None:
    """Log to stderr: text (without colours unless stderr is a terminal;
    a line written while a request is answered ends with its request id),
    or one JSON object per line (:class:`ladon.observe.JSONFormatter`)."""
    from .observe import JSONFormatter
    from .observe import RequestIdFilter

    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    formatter: logging.Formatter
    if log_format == "json":
        formatter = JSONFormatter()
        # werkzeug's own request lines repeat what ladon.requests says
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    elif _colours(sys.stderr):
        formatter = _RequestFormatter(_LOG_FORMAT)
    else:
        formatter = _PlainFormatter(_LOG_FORMAT)
    handler.setFormatter(formatter)
    logging.basicConfig(level=level, handlers=[handler])


class _RequestFormatter(logging.Formatter):
    """Text lines, with the request id of a line written during a request."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        request_id = getattr(record, "request_id", "-")
        return text if request_id == "-" else f"{text} [request {request_id}]"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ladon`` command."""
    parser = argparse.ArgumentParser(prog="ladon", description="Ladon web services")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve service modules with the development server")
    serve.add_argument("targets", nargs="+", help="service files, directories or module names")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=port_number, default=8080, help="0 for a free port")
    serve.add_argument("--reload", action="store_true", help="restart when a file changes")
    serve.add_argument(
        "--tasks",
        default=None,
        help="task backend URL: thread:// (default), sqlite:///abs/path.db, redis://host:6379/0?app=module:attr",
    )
    serve.add_argument("--debug", action="store_true", help="tracebacks in faults")
    serve.add_argument(
        "--base-url",
        type=_base_url,
        default=None,
        help="the public URL written in descriptions and pages (default: from each "
        "request's Host header)",
    )
    serve.add_argument(
        "--trust-proxy",
        action="store_true",
        help="take the public URL from X-Forwarded-Proto/-Host/-Prefix (behind a proxy "
        "that sets them)",
    )
    serve.add_argument(
        "--max-wait",
        type=_seconds,
        default=30.0,
        help="the longest a <task>_wait call waits, in seconds (default 30)",
    )
    serve.add_argument(
        "--log-format",
        choices=["text", "json"],
        default="text",
        help="json: one JSON object per log line, and one line per request (request id, "
        "service, interface, method, status, duration, principal)",
    )
    call = sub.add_parser(
        "call",
        help="call a method through JSON-WSP",
        description="Call METHOD of the service at URL (its page, its jsonwsp endpoint or "
        "its description) with NAME=VALUE arguments. Values are JSON (2, true, [1,2], "
        '{"x": 1}) except for string parameters; @path sends a file as an attachment. '
        "Without METHOD, list the methods. With --user, the password is read from "
        f"${PASSWORD_ENV} (or typed at the terminal); with --bearer, the token from "
        f"${TOKEN_ENV}.",
    )
    call.add_argument("url")
    call.add_argument("method", nargs="?")
    call.add_argument("arguments", nargs="*", metavar="NAME=VALUE")
    call.add_argument("--out", metavar="DIR", help="save attachments of the result in DIR")
    call.add_argument(
        "--user", metavar="NAME", help=f"send HTTP Basic credentials (password: ${PASSWORD_ENV})"
    )
    call.add_argument(
        "--bearer", action="store_true", help=f"send a Bearer token (from ${TOKEN_ENV})"
    )
    call.add_argument(
        "--idempotency-key",
        metavar="KEY",
        help="start a task once per KEY (sent as the Idempotency-Key header)",
    )
    call.add_argument(
        "--callback-url",
        metavar="URL",
        help="have the task POST its outcome to URL when it ends (Ladon-Callback-URL)",
    )
    call.add_argument(
        "--wait",
        action="store_true",
        help="for a task: wait for its end (METHOD_wait) and print its result",
    )
    from .taskcli import add_tasks_parser
    from .tasks.worker import add_worker_parser

    add_worker_parser(sub)
    add_tasks_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "call":
        start = {}
        if args.idempotency_key is not None:
            start["Idempotency-Key"] = args.idempotency_key
        if args.callback_url is not None:
            start["Ladon-Callback-URL"] = args.callback_url
        return _call(
            args.url,
            args.method,
            args.arguments,
            args.out,
            args.user,
            args.bearer,
            start,
            args.wait,
        )
    if args.command == "tasks":
        from .taskcli import run_command as run_tasks

        return run_tasks(args)
    _configure_logging(logging.INFO, getattr(args, "log_format", "text"))
    if args.command == "serve":
        return _serve(
            args.targets,
            args.host,
            args.port,
            args.reload,
            args.tasks,
            args.debug,
            base_url=args.base_url,
            trust_proxy=args.trust_proxy,
            log_requests=args.log_format == "json",
            max_wait=args.max_wait,
        )
    if args.command == "worker":
        from .tasks.worker import run_command

        return run_command(args)
    return 2  # pragma: no cover - argparse rejects other commands


def ctl_main(argv: Sequence[str] | None = None) -> int:
    """Ladon 1.0's ``ladon-ctl testserve [-p PORT] [-v] [-m] module.py ...``."""
    parser = argparse.ArgumentParser(prog="ladon-ctl")
    sub = parser.add_subparsers(dest="command", required=True)
    ts = sub.add_parser("testserve", help="serve modules with the development server")
    ts.add_argument("-p", "--port", type=port_number, default=8888)
    ts.add_argument("-v", "--verbose", action="store_true")
    ts.add_argument("-m", "--multithreaded", action="store_true")
    ts.add_argument("modules", nargs="+")
    args = parser.parse_args(argv)
    _configure_logging(logging.DEBUG if args.verbose else logging.INFO)
    return _serve(args.modules, "127.0.0.1", args.port, False, None, False, args.multithreaded)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
