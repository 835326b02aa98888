"""The application of the task-abuse tests: served in process and by
``ladon worker abuse_app:app`` (the redis backend).

``app`` takes its task backend from ``LADON_TASKS``; tests build their own
with :func:`make_app`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ladon import LadonWSGIApplication

SERVICES_DIR = Path(__file__).resolve().parent


def make_app(tasks: object = None, **options: Any) -> LadonWSGIApplication:
    """The abuse application on the given task backend (URL or instance)."""
    return LadonWSGIApplication(
        ["abuse_tasks"],
        [str(SERVICES_DIR)],
        tasks=tasks,  # type: ignore[arg-type]
        **options,
    )


app = make_app()
