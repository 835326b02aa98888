"""The application of the task backend tests: served in process, by
gunicorn (``backend_app:app``) and by ``ladon worker backend_app:app``.

``app`` takes its task backend from ``LADON_TASKS``; tests build their own
with :func:`make_app`. Besides the task services it serves two configured
instances of one template class (``Hello`` and ``Bonjour``), so that
workers prove they run template instances with their configuration.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ladon import LadonWSGIApplication
from ladon import ladonize

SERVICES_DIR = Path(__file__).resolve().parent


class Greeter:
    """A service template: one class, one service per configured instance."""

    def __init__(self, service_name: str, greeting: str) -> None:
        self.service_name = service_name
        self.greeting = greeting

    @ladonize(tasktype=True)
    def greet(self, who: str) -> str:
        """Greet ``who`` in this instance's words."""
        return f"{self.greeting}, {who}!"

    @ladonize()
    def pid(self) -> int:
        """The pid of the process answering (a plain call)."""
        return os.getpid()


def make_app(tasks: object = None, **options: Any) -> LadonWSGIApplication:
    """The test application on the given task backend (URL or instance)."""
    return LadonWSGIApplication(
        [
            "backend_tasks",
            "legacy_backend_tasks",
            "production_tasks",
            Greeter("Hello", "Hello"),
            Greeter("Bonjour", "Bonjour"),
        ],
        [str(SERVICES_DIR)],
        tasks=tasks,  # type: ignore[arg-type]
        **options,
    )


app = make_app()
