"""Command line: ``ladon serve`` (development server) and Ladon 1.0's
``ladon-ctl testserve``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from .exceptions.base import DefinitionError

BANNER = "Development server: not for production (use gunicorn or mod_wsgi)."


def _build_app(targets: Sequence[str], tasks: str | None, debug: bool) -> object:
    from .server.wsgi import LadonWSGIApplication

    return LadonWSGIApplication(list(targets), tasks=tasks, debug=debug)


def _serve(
    targets: Sequence[str],
    host: str,
    port: int,
    reload: bool,
    tasks: str | None,
    debug: bool,
    threaded: bool = True,
) -> int:
    from werkzeug.serving import run_simple

    try:
        app = _build_app(targets, tasks, debug)
    except (DefinitionError, ImportError, ValueError, OSError) as exc:
        sys.stderr.write(f"ladon: cannot load the services: {exc}\n")
        return 2
    names = ", ".join(s.name for s in app.services)  # type: ignore[attr-defined]
    shown = f"[{host}]" if ":" in host else host
    sys.stdout.write(f"{BANNER}\nServing {names}\nOpen http://{shown}:{port}/\n")
    sys.stdout.flush()
    run_simple(host, port, app, use_reloader=reload, threaded=threaded)  # type: ignore[arg-type]
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ladon`` command."""
    parser = argparse.ArgumentParser(prog="ladon", description="Ladon web services")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve service modules with the development server")
    serve.add_argument("targets", nargs="+", help="service files, directories or module names")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--reload", action="store_true", help="restart when a file changes")
    serve.add_argument("--tasks", default=None, help="task backend URL, e.g. thread://")
    serve.add_argument("--debug", action="store_true", help="tracebacks in faults")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        return _serve(args.targets, args.host, args.port, args.reload, args.tasks, args.debug)
    return 2  # pragma: no cover - argparse rejects other commands


def ctl_main(argv: Sequence[str] | None = None) -> int:
    """Ladon 1.0's ``ladon-ctl testserve [-p PORT] [-v] [-m] module.py ...``."""
    parser = argparse.ArgumentParser(prog="ladon-ctl")
    sub = parser.add_subparsers(dest="command", required=True)
    ts = sub.add_parser("testserve", help="serve modules with the development server")
    ts.add_argument("-p", "--port", type=int, default=8888)
    ts.add_argument("-v", "--verbose", action="store_true")
    ts.add_argument("-m", "--multithreaded", action="store_true")
    ts.add_argument("modules", nargs="+")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO)
    return _serve(args.modules, "127.0.0.1", args.port, False, None, False, args.multithreaded)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
