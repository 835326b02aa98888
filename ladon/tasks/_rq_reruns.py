"""Re-runs and outages on the Redis backend, with RQ's own machinery: its
``Job.retry`` (the retries left counted down, the delay waited by its
scheduler), the whole seconds that scheduler keeps, and outcomes written
once Redis is back.

.. versionadded:: 2.0
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import TypeVar

import redis
from rq import Queue
from rq import get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import StartedJobRegistry
from rq.serializers import JSONSerializer

from .base import BackendUnavailable

logger = logging.getLogger("ladon")
T = TypeVar("T")


def rq_interval(delay: float) -> int:
    """The interval RQ's retry waits for a delay of ``delay`` seconds: RQ's
    scheduler keeps whole seconds, rounded down, and looks every second, so
    a delay is rounded up and one second added; 0 stays 0 (at once, no
    scheduler). The re-run then comes within a second of that interval
    either way (from the delay rounded up, so never early, to two seconds
    after it): the interval is what a waiting task's message announces.

    .. versionadded:: 2.0
    """
    return 0 if delay <= 0 else math.ceil(delay) + 1


def set_rq_delay(seconds: int) -> None:
    """In a work horse whose task raised ``Retry(delay=...)``: have RQ's
    retry of the current job wait ``seconds`` this time (the method's own
    doubling delays stay for the later re-runs).

    .. versionadded:: 2.0
    """
    job = get_current_job()
    intervals = None if job is None else job.retry_intervals
    if job is None or not intervals or not job.retries_left:
        return
    index = max(len(intervals) - job.retries_left, 0)
    if index < len(intervals):
        intervals = list(intervals)
        intervals[index] = seconds
        job.retry_intervals = intervals


def run_again(client: redis.Redis, queue: Queue, task_id: str) -> None:
    """Have RQ run the job of a task whose worker was lost again, with its
    own retry, and its lost execution forgotten (so that RQ's abandoned-job
    clean-up does not count it twice). Logged, never raised, when it cannot.

    .. versionadded:: 2.0
    """
    try:
        job = Job.fetch(task_id, connection=client, serializer=JSONSerializer)
        with client.pipeline() as pipe:
            registry = StartedJobRegistry(queue.name, connection=client, serializer=JSONSerializer)
            remove = getattr(registry, "remove_executions", None)
            if callable(remove):
                remove(job, pipeline=pipe)
            else:  # pragma: no cover - RQ before 2: entries are job ids
                registry.remove(job, pipeline=pipe)
            if job.retries_left:
                job.retry(queue, pipe)
            else:  # pragma: no cover - enqueued without RQ's retry
                queue.enqueue_job(job, pipeline=pipe)
            pipe.execute()
    except NoSuchJobError:
        logger.error("Task %s may run again, but its RQ job is gone", task_id)
    except redis.RedisError as exc:
        logger.error("Task %s may run again, but RQ cannot be told: %s", task_id, exc)


def reliably(task_id: str, action: Callable[[], T], patience: float) -> T:
    """Run ``action`` until Redis answers, retrying with a doubling pause
    (0.1 s up to 5 s) for up to ``patience`` seconds: a task that ended
    during an outage writes its outcome once Redis is back.

    :raises BackendUnavailable: Redis stayed away for ``patience`` seconds.

    .. versionadded:: 2.0
    """
    delay = 0.1
    deadline = time.monotonic() + patience
    warned = False
    while True:
        try:
            result = action()
        except BackendUnavailable as exc:
            if time.monotonic() > deadline:
                raise
            if not warned:
                logger.warning(
                    "Task %s: %s; its outcome is written once Redis is back", task_id, exc
                )
                warned = True
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
            continue
        if warned:
            logger.warning("Task %s: Redis is back; its outcome is written", task_id)
        return result
