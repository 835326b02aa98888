"""Ladon 1.0's service logging API, on top of the standard :mod:`logging`.

Service code written for Ladon 1.0 calls ``write(msg, loglevel)`` or
``info``/``notice``/``debug``/``trace``; a message passes when its level is
at or below the one set with :func:`set_loglevel` (default 4), as before::

    1 critical   2 elevated error   3 error   4 info   5 notice   6 debug   7 trace

Messages go to the ``ladon.service`` logger, so they follow the logging set
up of the application (gunicorn, mod_wsgi, ``logging.basicConfig``...).
:func:`set_logfile` also writes them to a rotating file, as Ladon 1.0 did
(it no longer writes to a fixed file in the temporary directory unless
asked to), with the access lines and call records the application's
``logging=`` flags make.

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


class Settings(logging.Filter):
    """The Ladon 1.0 log settings: kept on the ``ladon.service`` logger
    itself (as one of its filters), so that they live with the logging
    configuration, not in module variables. It filters nothing.

    .. versionadded:: 2.0
    """

    def __init__(self) -> None:
        super().__init__()
        self.level = 4
        self.file: str | None = None
        self.maxsize = 4_000_000
        self.backups = 5
        self.handler: logging.Handler | None = None


def settings() -> Settings:
    """The settings of the ``ladon.service`` logger (made on first use)."""
    for f in logger.filters:
        if isinstance(f, Settings):
            return f
    with _lock:
        for f in logger.filters:
            if isinstance(f, Settings):
                return f
        made = Settings()
        logger.addFilter(made)
        return made


def set_loglevel(level: int) -> None:
    """Let messages of ``level`` (1..7) and below through."""
    settings().level = int(level)


def get_loglevel() -> int:
    return settings().level


#: The loggers :func:`set_logfile` writes to the file: the service's
#: messages, and the access lines and call records of the application's
#: ``logging=`` flags, as Ladon 1.0's log file held them.
FILE_LOGGERS = ("ladon.service", "ladon.access", "ladon.calls")


def _reopen() -> None:
    state = settings()
    with _lock:
        old = state.handler
        if old is not None:
            for name in FILE_LOGGERS:
                logging.getLogger(name).removeHandler(old)
            old.close()
        state.handler = None
        if state.file:
            handler = logging.handlers.RotatingFileHandler(
                state.file, maxBytes=state.maxsize, backupCount=state.backups, delay=True
            )
            handler.setFormatter(logging.Formatter("%(asctime)s - %(message)s"))
            logger.addHandler(handler)
            if logger.level == logging.NOTSET or logger.level > logging.DEBUG:
                logger.setLevel(logging.DEBUG)
            for name in FILE_LOGGERS[1:]:  # they log at INFO
                other = logging.getLogger(name)
                other.addHandler(handler)
                if other.level == logging.NOTSET or other.level > logging.INFO:
                    other.setLevel(logging.INFO)
            state.handler = handler


def set_logfile(logfile: str | None) -> None:
    """Also write the messages to ``logfile`` (rotated); ``None`` stops it."""
    settings().file = logfile
    _reopen()


def set_log_maxsize(log_maxsize: int) -> None:
    """Bytes of the log file before it is rotated."""
    settings().maxsize = int(log_maxsize)
    _reopen()


def set_log_backup_count(backup_count: int) -> None:
    """Rotated log files kept."""
    settings().backups = int(backup_count)
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
