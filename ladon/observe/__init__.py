"""Operations: what the server and the task layer share to make a running
application observable (request ids, structured logs, Prometheus metrics,
OpenTelemetry spans).

This package knows nothing of the server, the interfaces or the task
backends (the task layer imports it, see ``tests/unit/test_layering.py``);
prometheus-client and OpenTelemetry are imported only when used.

.. versionadded:: 2.0
"""

from __future__ import annotations

from .context import RequestIdFilter as RequestIdFilter
from .context import RequestRecord as RequestRecord
from .context import current_request_id as current_request_id
from .logs import JSONFormatter as JSONFormatter
from .metrics import callback_delivered as callback_delivered
from .metrics import task_finished as task_finished
from .metrics import task_started as task_started
from .metrics import waiters_changed as waiters_changed
