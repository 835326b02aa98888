"""Ladon 1.0's service logging API, on top of the standard :mod:`logging`.

Service code written for Ladon 1.0 calls ``write(msg, loglevel)`` or
``info``/``notice``/``debug``/``trace``; a message passes when its level is
at or below the one set with :func:`set_loglevel` (default 4), as before::

    1 critical   2 elevated error   3 error   4 info   5 notice   6 debug   7 trace

Messages go to the ``ladon.service`` logger, so they follow the logging set
up of the application (gunicorn, mod_wsgi, ``logging.basicConfig``...).
:func:`set_logfile` also writes them to a rotating file, as Ladon 1.0 did
(it no longer writes to a fixed file in the temporary directory unless
asked to).

.. versionadded:: 2.0
"""

from __future__ import annotations

import logging
import logging.handlers
import threading
import traceback

logger = logging.getLogger("ladon.service")

_LEVELS = {
    1: logging.CRITICAL,
    2: logging.ERROR,
    3: logging.ERROR,
    4: logging.INFO,
    5: logging.INFO,
    6: logging.DEBUG,
    7: logging.DEBUG,
}
_lock = threading.Lock()
_state: dict[str, object] = {
    "level": 4,
    "file": None,
    "maxsize": 4_000_000,
    "backups": 5,
    "handler": None,
}


def set_loglevel(level: int) -> None:
    """Let messages of ``level`` (1..7) and below through."""
    _state["level"] = int(level)


def get_loglevel() -> int:
    level = _state["level"]
    return level if isinstance(level, int) else 4


def _reopen() -> None:
    with _lock:
        old = _state["handler"]
        if isinstance(old, logging.Handler):
            logger.removeHandler(old)
            old.close()
        _state["handler"] = None
        path = _state["file"]
        if isinstance(path, str) and path:
            maxsize = _state["maxsize"]
            backups = _state["backups"]
            handler = logging.handlers.RotatingFileHandler(
                path,
                maxBytes=maxsize if isinstance(maxsize, int) else 0,
                backupCount=backups if isinstance(backups, int) else 0,
                delay=True,
            )
            handler.setFormatter(logging.Formatter("%(asctime)s - %(message)s"))
            logger.addHandler(handler)
            if logger.level == logging.NOTSET or logger.level > logging.DEBUG:
                logger.setLevel(logging.DEBUG)
            _state["handler"] = handler


def set_logfile(logfile: str | None) -> None:
    """Also write the messages to ``logfile`` (rotated); ``None`` stops it."""
    _state["file"] = logfile
    _reopen()


def set_log_maxsize(log_maxsize: int) -> None:
    """Bytes of the log file before it is rotated."""
    _state["maxsize"] = int(log_maxsize)
    _reopen()


def set_log_backup_count(backup_count: int) -> None:
    """Rotated log files kept."""
    _state["backups"] = int(backup_count)
    _reopen()


def get_traceback() -> str:
    """The traceback of the exception being handled, as text."""
    return traceback.format_exc()


def write(msg: object, loglevel: int = 3, context: object = None, force: bool = False) -> None:
    """Log ``msg`` at Ladon level ``loglevel`` (default 3, an error) when the
    level set with :func:`set_loglevel` lets it through, or when ``force``."""
    if loglevel > get_loglevel() and not force:
        return
    logger.log(_LEVELS.get(loglevel, logging.DEBUG), "%s", msg)


def info(msg: object, context: object = None, force: bool = False) -> None:
    write(msg, 4, context, force)


def notice(msg: object, context: object = None, force: bool = False) -> None:
    write(msg, 5, context, force)


def debug(msg: object, context: object = None, force: bool = False) -> None:
    write(msg, 6, context, force)


def trace(msg: object, context: object = None, force: bool = False) -> None:
    write(msg, 7, context, force)
