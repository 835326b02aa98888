"""Structured logs: one JSON object per line.

:class:`JSONFormatter` is a :class:`logging.Formatter`: ``ladon serve
--log-format json`` installs it, and an operator names it in gunicorn's or
mod_wsgi's logging configuration (``docs/operations.rst``). Each line holds
the time, level, logger and message, the request id of the request being
answered, and the fields a record carries in ``extra`` (the per-request
line of ``ladon.requests`` carries ``service``, ``interface``, ``method``,
``status``, ``duration``, ``principal``...). Nothing is taken from the
request's headers or body, so no credential can reach a log line.

.. versionadded:: 2.0
"""

from __future__ import annotations

import datetime
import json
import logging
from typing import Any

from .context import current_request_id

#: The attributes every :class:`logging.LogRecord` has: not copied as fields.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys()
    | {"message", "asctime", "request_id", "taskName"}
)


class JSONFormatter(logging.Formatter):
    """Formats each record as one line of JSON.

    Fields: ``time`` (ISO 8601, UTC), ``level``, ``logger``, ``message``,
    ``request_id`` (when the record is written while a request is
    answered), the record's ``extra`` fields, and ``exception`` (the
    formatted traceback) when the record has one.

    In gunicorn, for instance (``gunicorn --log-config-dict`` or a
    ``logconfig_dict`` in its settings)::

        logconfig_dict = {
            "version": 1,
            "formatters": {"json": {"()": "ladon.observe.JSONFormatter"}},
            "handlers": {"out": {"class": "logging.StreamHandler", "formatter": "json"}},
            "root": {"handlers": ["out"], "level": "INFO"},
            "loggers": {"ladon": {"handlers": ["out"], "level": "INFO", "propagate": False}},
        }

    .. versionadded:: 2.0
    """

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if not request_id or request_id == "-":
            request_id = current_request_id()
        if request_id:
            data["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            data["exception"] = record.exc_text
        if record.stack_info:
            data["stack"] = self.formatStack(record.stack_info)
        return json.dumps(data, default=str, ensure_ascii=False)
