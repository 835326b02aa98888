"""The WSGI server side: application, routing, dispatch and docs pages.

The ``LOG_*`` flags are Ladon 1.0's values for ``LadonWSGIApplication(...,
logging=...)``.
"""

from __future__ import annotations

NO_LOGGING = 0
LOG_REQUEST_ACCESS = 1
LOG_REQUEST_DICT = 2
LOG_RESPONSE_DICT = 4
LOG_EXECUTION_TIME = 8
LOG_JSON_FORMAT = 16
