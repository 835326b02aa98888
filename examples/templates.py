"""Service templates: one class, many services.

``ServiceBase`` is written once and served three times, each instance with
its own name, state and ``configure`` signature (taken from the callback
it holds). ``ServiceN`` deviates on purpose: its ``start`` also starts a
sidekick. The module lists what it serves in ``LADON_SERVICES``, so
``ladon serve examples/`` serves Service1, Service2 and ServiceN (not the
template class, which needs constructor arguments).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ladon import callback_method
from ladon import ladonize

#: seconds per step of ``install`` (tests make it shorter)
STEP_SECONDS = 0.5


class ServiceBase:
    """A managed service: install, start, stop and configure it."""

    def __init__(self, service_name: str, config_callback: Callable[..., bool]) -> None:
        self.service_name = service_name
        self.config_callback = config_callback
        self.running = False
        self.venvs: list[str] = []

    @ladonize(rtype=bool, tasktype=True)
    def install(self, venv: str = "default", **kw):
        """Install the service into a virtual environment (a background task).

        :param venv: name of the virtual environment
        """
        task = kw["task"]
        for i, step in enumerate(["create venv", "download", "install", "verify"]):
            task.progress(i / 4, message=f"{self.service_name}: {step}")
            time.sleep(STEP_SECONDS)
        self.venvs.append(venv)
        return True

    @ladonize(rtype=bool)
    def start(self):
        """Start the service; True once it runs."""
        self.running = True
        return True

    @ladonize(rtype=bool)
    def stop(self):
        """Stop the service; True once it is stopped."""
        self.running = False
        return True

    @ladonize()
    def status(self) -> str:
        """``running`` or ``stopped``."""
        return "running" if self.running else "stopped"

    @callback_method("config_callback")
    def configure(self, *args, **kw):
        """Configure the service (parameters depend on the service)."""
        return self.config_callback(*args, **kw)


SIDEKICKS: list[str] = []


def start_some_sidekick() -> None:
    SIDEKICKS.append("sidekick")


class ServiceN(ServiceBase):
    """A managed service that needs a sidekick process."""

    @ladonize(rtype=bool)
    def start(self):
        """Start the sidekick, then the service."""
        start_some_sidekick()
        return super().start()


def configure1(service1_a: str = "default_a", service1_b: str = "default_b") -> bool:
    """Set the two options of Service1.

    :param service1_a: the first option
    :param service1_b: the second option
    """
    return bool(service1_a and service1_b)


def configure2(service2_a: str = "default_a") -> bool:
    """Set the option of Service2.

    :param service2_a: its only option
    """
    return bool(service2_a)


def configureN(workers: int, verbose: bool = False) -> bool:
    """Set how many workers ServiceN runs.

    :param workers: number of worker processes (1 or more)
    :param verbose: log every request
    """
    return workers >= 1


LADON_SERVICES = [
    ServiceBase("Service1", configure1),
    ServiceBase("Service2", configure2),
    ServiceN("ServiceN", configureN),
]
