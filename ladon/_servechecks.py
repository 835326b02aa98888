"""What ``ladon serve`` (and ``ladon-ctl testserve``) checks before it
serves: the port number, the address to listen on, that the targets hold a
service, and the ``--tasks`` URL. Each check gives the sentence to print,
naming the option at fault, or ``None``."""

from __future__ import annotations

import argparse
import errno
import socket
from collections.abc import Sequence
from typing import Any


def port_number(text: str) -> int:
    """``--port``: a TCP port, 0 (any free port) to 65535 (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 0 to 65535, not {text!r}")
    return value


def listen_problem(host: str, port: int) -> str | None:
    """Why the development server could not listen on ``host:port``: the
    host does not resolve, is no address of this machine, or the port is
    taken. Checked by binding a socket as werkzeug's server does (same
    address family, ``SO_REUSEADDR``), then closing it."""
    if host.startswith("unix://"):
        return None  # werkzeug's own socket path form: it reports that itself
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        found = socket.getaddrinfo(
            host or None, port, family, socket.SOCK_STREAM, 0, socket.AI_PASSIVE
        )
    except (socket.gaierror, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        return f"--host {host!r}: cannot resolve this name or address ({reason})"
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(found[0][4])
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return (
                f"--port {port}: in use on {host} by another program "
                "(choose another port, or --port 0 for a free one)"
            )
        return f"--host {host!r}: cannot listen on this address ({exc.strerror or exc})"
    return None


def no_service_problem(app: Any, targets: Sequence[str]) -> str | None:
    """That the targets hold no service (a class with ``@ladonize``
    methods, or a module's ``LADON_SERVICES``)."""
    if app.services:
        return None
    return (
        f"no service found in {', '.join(targets)}: a service is a class with @ladonize "
        "methods (or a module's LADON_SERVICES list), in a .py file not starting with _"
    )


def tasks_problem(app: Any, url: str | None) -> str | None:
    """What is wrong with the ``--tasks`` URL when the services have no
    task method (the application checks it itself when they have one):
    the same check, building the backend once."""
    from .tasks import backend_from_url

    if url is None or any(m.task_of or m.is_task for s in app.services for m in s.methods.values()):
        return None
    try:
        backend_from_url(url).close()
    except (ValueError, OSError) as exc:
        return f"--tasks: {exc}"
    return None
