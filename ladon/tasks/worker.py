"""``ladon worker``: run an application's tasks on RQ workers.

::

    ladon worker myproject.wsgi:application            # the app's own backend
    ladon worker myproject.wsgi:application --url 'redis://redis.internal:6379/0?queue=shop'
    ladon worker services/ --url redis://127.0.0.1:6379/0   # like ladon serve's targets

The worker imports the application (the very ``LadonWSGIApplication``
object the web processes serve: ``module:attr``, or a zero-argument factory
there), takes the Redis URL from ``--url``, else from the application's
task backend (its ``tasks=`` or ``LADON_TASKS``), and runs an RQ worker on
that backend's queue. Every task method of every service of the
application (configured template instances included) can run on it: the
RQ job names the service and the method, the record holds the arguments.

The worker rides out a Redis outage (it reconnects with a back-off; a task
that ends meanwhile writes its outcome once Redis is back), stops within
``--grace`` seconds of a SIGTERM, runs RQ's scheduler (the delayed re-runs
of tasks with retries) and beats in ``<prefix>workers:<queue>`` (see
:mod:`ladon.tasks._rqworker`).

The worker sends the completion callbacks of the tasks it ends with the
application's callback settings (``callback_hosts``, ``callback_secret``...,
which the application may take from the ``LADON_CALLBACK_*`` environment
variables); serving service files, it reads those variables. The secret is
never in the task store. A work horse sends its task's callback (with its
retries) before it exits.

.. versionadded:: 2.0
"""

from __future__ import annotations

import argparse
import atexit
import gc
import importlib
import logging
import os
import shutil
import signal
import socket
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import Protocol
from typing import runtime_checkable

from ..exceptions.base import DefinitionError
from ..ladonizer.model import ServiceInfo
from ..tools.processes import process_alive
from .base import TaskBackend
from .delivery import CallbackSender
from .delivery import attach_sender
from .delivery import callback_settings
from .execution import run_described

if TYPE_CHECKING:
    from .rqbackend import RedisTaskBackend

logger = logging.getLogger("ladon")


@runtime_checkable
class TaskApplication(Protocol):
    """What a worker needs of an application: its services and its task
    backend (a :class:`~ladon.server.wsgi.LadonWSGIApplication` is one).

    .. versionadded:: 2.0
    """

    @property
    def services(self) -> Sequence[ServiceInfo]: ...

    def service(self, name: str) -> ServiceInfo | None: ...

    def task_backend(self) -> TaskBackend: ...


class ServiceSet:
    """The services of service files, directories or modules, with a task
    backend: what ``ladon worker TARGETS --url ...`` serves without an
    application object.

    :param targets: as :func:`~ladon.ladonizer.registry.discover` takes them.
    :param backend: the task backend.

    .. versionadded:: 2.0
    """

    def __init__(self, targets: Sequence[str], backend: TaskBackend) -> None:
        from ..ladonizer.registry import build_services
        from ..ladonizer.registry import discover

        self.services = build_services(discover(list(targets)))
        self._by_name = {s.name.lower(): s for s in self.services}
        self._backend = backend

    def service(self, name: str) -> ServiceInfo | None:
        return self._by_name.get(name.lower())

    def task_backend(self) -> TaskBackend:
        return self._backend


def load_app(ref: str) -> TaskApplication:
    """Import the application ``module:attr`` names.

    :param ref: ``package.module:attr`` (``attr`` may be dotted, and may name
        a zero-argument factory returning the application).
    :raises ValueError: when ``ref`` does not name an application.

    .. versionadded:: 2.0
    """
    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"expected the application as module:attr, not {ref!r}")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())  # as gunicorn does
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(f"{module_name} has no attribute {attr!r}") from None
    if not isinstance(obj, TaskApplication) and callable(obj):
        obj = obj()
    if not isinstance(obj, TaskApplication):
        raise ValueError(f"{ref} is a {type(obj).__name__}, not a LadonWSGIApplication")
    return obj


class TaskWorker:
    """What one worker process serves: the application, its Redis backend.

    :param app: the application (or :class:`ServiceSet`).
    :param ref: its ``module:attr`` (``""`` when built from service targets).
    :param backend: the Redis task backend the tasks are read from.

    .. versionadded:: 2.0
    """

    def __init__(self, app: TaskApplication, ref: str, backend: RedisTaskBackend) -> None:
        self.app = app
        self.ref = ref
        self.backend = backend
        self.pid = os.getpid()

    @classmethod
    def build(cls, targets: Sequence[str], url: str | None) -> TaskWorker:
        """The worker of ``targets``: an application's ``module:attr``, or
        service files, directories or modules (then ``url`` or
        ``LADON_TASKS`` names the backend).

        :raises ValueError: no application there, or its backend is not Redis.
        """
        from . import DEFAULT_TASKS_ENV
        from . import backend_from_url
        from .rqbackend import RedisTaskBackend

        app: TaskApplication
        if len(targets) == 1 and ":" in targets[0] and not os.path.exists(targets[0]):
            ref = targets[0]
            app = load_app(ref)
            backend = backend_from_url(url) if url else app.task_backend()
        else:  # service files, directories or modules, as ``ladon serve`` takes
            if os.getcwd() not in sys.path and "" not in sys.path:
                sys.path.insert(0, os.getcwd())
            ref = ""
            url = url or os.environ.get(DEFAULT_TASKS_ENV)
            if not url:
                raise ValueError(
                    "give the Redis task backend: --url redis://host:6379/0 or LADON_TASKS"
                )
            backend = backend_from_url(url)
            app = ServiceSet(targets, backend)
        if not isinstance(backend, RedisTaskBackend):
            raise ValueError(
                f"the application's task backend is {type(backend).__name__}, not Redis:"
                " give --url redis://host:6379/0 or set LADON_TASKS"
            )
        sender = getattr(app, "callback_sender", None)
        if not isinstance(sender, CallbackSender):
            settings = callback_settings()  # LADON_CALLBACK_* (ValueError when wrong)
            sender = CallbackSender(settings) if settings is not None else None
        attach_sender(backend, sender)
        return cls(app, ref, backend)

    def run_task(self, app_ref: str, service: str, method: str, task_id: str) -> None:
        """Run one task of the application (what the RQ job calls).

        :param app_ref: the application's ``module:attr`` as the web side
            knows it (``app=`` option), or ``""``.
        :param service: the service's name.
        :param method: the task method's name.
        :param task_id: the task.
        """
        app = self.app

        from ._rqworker import OUTCOME_PENDING

        def runner(spec: Any, handle: Any) -> object:
            if app_ref and self.ref and app_ref != self.ref:
                raise LookupError(f"this worker serves {self.ref}, not {app_ref}")
            try:
                return run_described(app.service, spec, handle)
            finally:
                OUTCOME_PENDING.value = True  # the body has ended: its outcome is due

        in_horse = os.getpid() != self.pid
        worker = os.environ.get("RQ_WORKER_ID") or f"{socket.gethostname()}:{os.getpid()}"
        backend = self.backend
        try:
            backend.execute(
                task_id, service, method, runner, worker, self.pid if in_horse else None
            )
        finally:
            OUTCOME_PENDING.value = False  # written (or given up): callbacks may be cut
            sender = backend.callback_sender
            if in_horse and sender is not None:
                sender.drain()  # the horse exits next: its callback goes first

    def job_class(self) -> type:
        """An RQ job class whose ``run_task`` jobs run on this worker (the
        application loaded once, not once per job)."""
        from rq.job import Job

        from .rqbackend import JOB_FUNCTION

        run_task = self.run_task

        class LadonJob(Job):
            @property
            def func(self) -> Any:
                if self.func_name == JOB_FUNCTION:
                    return run_task
                return super().func

        return LadonJob

    def serve(
        self,
        *,
        burst: bool = False,
        name: str | None = None,
        max_jobs: int | None = None,
        simple: bool = False,
        log_level: str = "INFO",
        grace: float | None = 25.0,
    ) -> int:
        """Run an RQ worker until it is stopped (see :func:`serve`)."""
        from rq.serializers import JSONSerializer

        from ._rqworker import LadonSimpleWorker
        from ._rqworker import LadonWorker
        from ._rqworker import NameTaken
        from ._rqworker import own_connection
        from ._rqworker import wait_for_redis
        from .retries import WORKER_LOST
        from .retries import WORKER_STOPPED

        backend = self.backend
        stopping: list[int] = []

        def stop_waiting(signum: int, frame: Any) -> None:
            stopping.append(signum)

        # NOTE: Redis may not be there yet (or be away): wait for it, and
        # let SIGTERM end the wait.
        previous = signal.signal(signal.SIGTERM, stop_waiting)
        try:
            if not wait_for_redis(backend.client, lambda: bool(stopping)):
                return 0
        finally:
            signal.signal(signal.SIGTERM, previous)
        try:
            backend.load_scripts()
        except Exception as exc:  # BackendUnavailable: Redis went away again
            logger.warning("ladon worker: %s", exc)

        def horse_killed(job: Any, retpid: int, ret_val: int, rusage: Any) -> None:
            if worker.stopping:
                reason, detail = (
                    WORKER_STOPPED,
                    (
                        f"The worker was stopped and the task did not end within its {grace} s grace."
                    ),
                )
            else:
                reason = WORKER_LOST
                detail = f"The worker's work horse ended abnormally (status {ret_val})."
            backend.lose(str(job.id), detail, reason)

        options: dict[str, Any] = {
            # RQ's blocking reads on a pool of their own, whose socket timeout
            # RQ sets above them (not the backend's connections: their
            # timeout stays as the URL says)
            "connection": own_connection(backend.client),
            "serializer": JSONSerializer,
            "name": name,
            "job_class": self.job_class(),
            # RQ's abandoned-job clean-up (a vanished host) every minute
            "maintenance_interval": 60,
        }
        if not simple:
            options["work_horse_killed_handler"] = horse_killed
        cls = LadonSimpleWorker if simple else LadonWorker
        worker = cls([backend.queue_name], **options)
        worker.ladon_backend = backend
        if not simple:
            worker.grace = grace
        names = ", ".join(s.name for s in self.app.services)
        logger.info(
            "ladon worker %s: serving %s on queue %r", worker.name, names, backend.queue_name
        )
        # NOTE: the application's objects are moved out of the collector's
        # reach: a work horse forked per task then does not copy every page it
        # would have touched in a collection (copy-on-write).
        gc.collect()
        gc.freeze()
        try:
            # RQ's scheduler runs the delayed re-runs of tasks with retries
            worker.work(
                burst=burst, max_jobs=max_jobs, logging_level=log_level, with_scheduler=True
            )
        except NameTaken as exc:
            sys.stderr.write(f"ladon worker: {exc}\n")
            return 2
        except redis_errors() as exc:  # Redis went away as the worker stopped
            logger.warning(
                "ladon worker %s: stopped while Redis was unreachable: %s", worker.name, exc
            )
        return 0


def run_task(app_ref: str, service: str, method: str, task_id: str) -> None:
    """The RQ job function, under a plain ``rq worker --serializer json``
    (``ladon worker`` runs its jobs on its own :class:`TaskWorker`): the
    application is imported from ``app_ref`` (already imported modules are
    not imported again).

    :param app_ref: the application's ``module:attr`` (``app=`` option of
        the backend URL).
    :param service: the service's name.
    :param method: the task method's name.
    :param task_id: the task.

    .. versionadded:: 2.0
    """
    if not app_ref:
        raise RuntimeError("run_task needs `ladon worker APP`, or app=module:attr in the URL")
    TaskWorker.build([app_ref], None).run_task(app_ref, service, method, task_id)


def serve(
    targets: Sequence[str],
    url: str | None = None,
    *,
    burst: bool = False,
    name: str | None = None,
    max_jobs: int | None = None,
    simple: bool = False,
    log_level: str = "INFO",
    grace: float | None = 25.0,
) -> int:
    """Run an RQ worker for the application until it is stopped.

    :param targets: ``module:attr`` of the application, or service files,
        directories or modules (as for ``ladon serve``).
    :param url: the Redis task backend URL; default: the application's.
    :param burst: stop once the queue is empty.
    :param name: the worker's name (default: RQ's).
    :param max_jobs: stop after that many tasks.
    :param simple: run tasks in the worker process itself instead of a
        forked work horse per task: faster, but a task that ignores a cancel
        cannot be killed and a crashing task takes the worker down.
    :param log_level: RQ's log level.
    :param grace: seconds a task may go on after SIGTERM before its work
        horse is killed (it then runs again elsewhere when its method has
        retries, else it ends failed: "worker stopped"); ``None``: wait for
        it. Ignored with ``simple`` (nothing to kill).
    :returns: the exit status.

    .. versionadded:: 2.0
    """
    try:
        worker = TaskWorker.build(targets, url)
    except (ImportError, ValueError, OSError, DefinitionError) as exc:
        sys.stderr.write(f"ladon worker: {exc}\n")
        return 2
    return worker.serve(
        burst=burst,
        name=name,
        max_jobs=max_jobs,
        simple=simple,
        log_level=log_level,
        grace=grace,
    )


def add_worker_parser(sub: Any) -> None:
    """Add the ``worker`` subcommand to ``ladon``'s argument parser.

    :param sub: the ``add_subparsers()`` object of the ``ladon`` parser.

    .. versionadded:: 2.0
    """
    parser: argparse.ArgumentParser = sub.add_parser(
        "worker",
        help="run the application's tasks on an RQ worker (redis backend)",
        description="Run an RQ worker for APP, given as module:attr (the "
        "LadonWSGIApplication the web processes serve) or as service files, "
        "directories or modules. The Redis URL is --url, else the application's "
        "task backend (tasks= or LADON_TASKS).",
    )
    parser.add_argument("app", nargs="+", metavar="APP", help="module:attr, or service targets")
    parser.add_argument("--url", help="redis://host:6379/0?queue=... (default: the app's)")
    parser.add_argument("--burst", action="store_true", help="stop once the queue is empty")
    parser.add_argument("--name", help="the worker's name")
    parser.add_argument("--max-jobs", type=int, default=None, help="stop after N tasks")
    parser.add_argument(
        "--simple",
        action="store_true",
        help="run tasks in the worker process (no fork per task; no hard cancel)",
    )
    parser.add_argument("--log-level", default="INFO", help="RQ's log level (default INFO)")
    parser.add_argument(
        "--grace",
        type=_grace,
        default=25.0,
        help="seconds a task may go on after SIGTERM before it is stopped (default 25; "
        "'none': wait for it)",
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        help="serve this worker's Prometheus metrics (task durations and states, from every "
        "work horse) on this port (needs ladon[metrics])",
    )
    parser.add_argument(
        "--metrics-host", default="127.0.0.1", help="address of --metrics-port (default 127.0.0.1)"
    )


def serve_metrics(port: int, host: str = "127.0.0.1") -> str:
    """Serve the metrics of this worker and its work horses over HTTP.

    Work horses are forked per task and end with it, so their metrics go
    through prometheus-client's multi-process mode: ``PROMETHEUS_MULTIPROC_DIR``
    when set (it may be the web processes' own directory, on their host),
    else a new temporary directory. Call it before the application is
    loaded (the mode is chosen when prometheus-client is imported).

    :returns: the multi-process directory.
    :raises ImportError: prometheus-client is not installed.

    .. versionadded:: 2.0
    """
    import tempfile

    from ..observe import metrics

    folder = metrics.multiprocess_dir()
    if folder is None:
        _remove_dead_dirs(tempfile.gettempdir())
        folder = tempfile.mkdtemp(prefix=f"{_OWN_DIR_PREFIX}{os.getpid()}-")
        os.environ[metrics.MULTIPROC_ENV] = folder
        atexit.register(_remove_own_dir, folder, os.getpid())
    from prometheus_client import CollectorRegistry
    from prometheus_client import start_http_server

    metrics.enable()
    registry = CollectorRegistry()
    registry.register(metrics.MultiProcessFamilies(folder))
    start_http_server(port, host, registry)
    logger.info("ladon worker: metrics on http://%s:%s/ (from %s)", host, port, folder)
    return folder


#: The start of the name of a worker's own metrics directory (then its
#: pid, a dash and a random part).
_OWN_DIR_PREFIX = "ladon-worker-metrics-"


def _remove_dead_dirs(parent: str) -> None:
    """Remove the metrics directories that workers killed without their
    exit handlers (SIGKILL, the out-of-memory killer) left in ``parent``:
    those of this user whose worker's pid no longer runs here."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        pid_text = name[len(_OWN_DIR_PREFIX) :].partition("-")[0]
        if not name.startswith(_OWN_DIR_PREFIX) or not pid_text.isdigit():
            continue
        path = os.path.join(parent, name)
        try:
            if os.stat(path).st_uid != os.getuid() or process_alive(int(pid_text)):
                continue
        except (OSError, ValueError, OverflowError):  # not ours to judge
            continue
        logger.info("ladon worker: removing %s, left by a worker that was killed", path)
        shutil.rmtree(path, ignore_errors=True)


def _remove_own_dir(folder: str, owner: int) -> None:
    """At the worker's exit: remove the metrics directory it made (not in
    a work horse, a fork that may run exit handlers too)."""
    if os.getpid() == owner:
        shutil.rmtree(folder, ignore_errors=True)


def run_command(args: argparse.Namespace) -> int:
    """Run ``ladon worker`` with parsed arguments.

    .. versionadded:: 2.0
    """
    if args.metrics_port is not None:
        try:
            serve_metrics(args.metrics_port, args.metrics_host)
        except (ImportError, OSError) as exc:
            sys.stderr.write(f"ladon worker: cannot serve metrics: {exc}\n")
            return 2
    return serve(
        args.app,
        args.url,
        burst=args.burst,
        name=args.name,
        max_jobs=args.max_jobs,
        simple=args.simple,
        log_level=args.log_level,
        grace=args.grace,
    )


def _grace(text: str) -> float | None:
    """``--grace``: seconds >= 0, or ``none``."""
    if text.strip().lower() == "none":
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected seconds >= 0 or 'none', not {text!r}")
    return value


def redis_errors() -> tuple[type[Exception], ...]:
    """The errors of a Redis that cannot be reached."""
    from ._rqworker import REDIS_DOWN

    return REDIS_DOWN
