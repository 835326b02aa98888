"""What one request is, for every log line written while it is answered:
its request id and, once known, the call it carries.

The application sets the request's id in a
:class:`~contextvars.ContextVar` for the time of each request (its request
log wrapper, :class:`ladon.server.operations.RequestContext`, a
:class:`RequestRecord` that the call steps fill in); :class:`RequestIdFilter` and
:class:`~ladon.observe.logs.JSONFormatter` read it, so every log line of the
call (Ladon's, the service's, a library's) carries the request id.

.. versionadded:: 2.0
"""

from __future__ import annotations

import itertools
import logging
import os
import re
from contextvars import ContextVar
from dataclasses import dataclass

#: Longest ``X-Request-ID`` accepted from a client.
MAX_REQUEST_ID_LENGTH = 128
#: What a client's ``X-Request-ID`` may hold (UUIDs, ULIDs, hex, base64...).
_SAFE_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")


@dataclass(slots=True)
class RequestRecord:
    """One request: its id, and what the call steps learn about it (the
    fields of a structured log line).

    :param request_id: the request's id (the client's ``X-Request-ID``, or
        a new one).
    :param service: the service called, once known.
    :param interface: the interface serving it.
    :param method: the method called (the last of a batch).
    :param principal: the name of the caller, once identified.
    :param outcome: ``ok``, ``client_fault`` or ``server_fault``.

    .. versionadded:: 2.0
    """

    request_id: str
    service: str | None = None
    interface: str | None = None
    method: str | None = None
    principal: str | None = None
    outcome: str | None = None


#: The request being answered in this thread (or task), if any: its
#: :class:`RequestRecord` when the request log keeps one, else just its id
#: (a ``str``; PERF: no record made per request for nobody).
CURRENT_REQUEST: ContextVar[RequestRecord | str | None] = ContextVar("ladon_request", default=None)


def current_request_id() -> str | None:
    """The id of the request being answered here, or ``None`` outside one.

    .. versionadded:: 2.0
    """
    record = CURRENT_REQUEST.get()
    if record is None or isinstance(record, str):
        return record
    return record.request_id


#: ``_SAFE_ID.fullmatch``, bound once.
safe_request_id = _SAFE_ID.fullmatch


def accept_request_id(value: object) -> str | None:
    """A client's ``X-Request-ID`` when it is sane (1 to
    :data:`MAX_REQUEST_ID_LENGTH` characters among letters, digits and
    ``._:@/+=-``), else ``None`` (a new id is then made).

    .. versionadded:: 2.0
    """
    if isinstance(value, str) and _SAFE_ID.fullmatch(value):
        return value
    return None


def new_request_id() -> str:
    """A fresh request id: 32 hexadecimal digits, unique across processes
    and hosts (64 random bits drawn once per process, then a counter).
    Request ids tie a report to a log line; they are not secrets.

    .. versionadded:: 2.0
    """
    # PERF: one 128-bit counter whose high half is the random prefix
    return next(_counter).to_bytes(16, "big").hex()


def _reseed() -> None:
    """A new random prefix and counter (at import, and in a forked child)."""
    global _counter
    _counter = itertools.count((int.from_bytes(os.urandom(8), "big") << 64) | 1)


_counter = itertools.count(1)
_reseed()
if hasattr(os, "register_at_fork"):  # pragma: no branch - POSIX
    os.register_at_fork(after_in_child=_reseed)


class RequestIdFilter(logging.Filter):
    """A logging filter that gives every record a ``request_id`` attribute:
    the id of the request being answered, or ``"-"``. Add it to a handler
    and use ``%(request_id)s`` in its format::

        handler.addFilter(RequestIdFilter())
        handler.setFormatter(logging.Formatter("%(request_id)s %(levelname)s %(message)s"))

    .. versionadded:: 2.0
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id() or "-"
        return True
