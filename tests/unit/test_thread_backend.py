"""Behaviour of the embedded thread task backend, with real threads."""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import pytest

from ladon.tasks import CANCEL_REQUESTED_MESSAGE
from ladon.tasks import CANCELLED_MESSAGE
from ladon.tasks import DEFAULT_TASKS_ENV
from ladon.tasks import TaskCancelled
from ladon.tasks import TaskError
from ladon.tasks import TaskHandle
from ladon.tasks import TaskRejected
from ladon.tasks import TaskState
from ladon.tasks import TaskStatus
from ladon.tasks import ThreadTaskBackend
from ladon.tasks import UnknownTask
from ladon.tasks import backend_from_url
from ladon.tasks import clamp_progress
from ladon.tasks import new_task_id
from ladon.testing import ManualClock

TIMEOUT = 5.0
METHOD = "svc.work"

MakeBackend = Callable[..., ThreadTaskBackend]


@pytest.fixture
def make_backend() -> Iterator[MakeBackend]:
    """Build backends with any options; every one is closed afterwards."""
    made: list[ThreadTaskBackend] = []

    def make(**options: object) -> ThreadTaskBackend:
        backend = ThreadTaskBackend(**options)  # type: ignore[arg-type]
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.close()


@pytest.fixture
def backend(make_backend: MakeBackend) -> ThreadTaskBackend:
    return make_backend(max_workers=4)


def wait_until(predicate: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.001)


def wait_finished(
    backend: ThreadTaskBackend, task_id: str, method: str = METHOD, timeout: float = TIMEOUT
) -> TaskStatus:
    deadline = time.monotonic() + timeout
    while True:
        status = backend.status(method, task_id)
        if status.state.finished:
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"task still {status.state.value}")
        time.sleep(0.001)


def held_job(started: threading.Event, release: threading.Event) -> Callable[[TaskHandle], str]:
    """A job that says it started, then waits for the test to release it."""

    def job(handle: TaskHandle) -> str:
        started.set()
        assert release.wait(TIMEOUT)
        return "released"

    return job


# -- results and scheduling ----------------------------------------------------


def test_200_tasks_on_4_workers_all_succeed_with_their_own_result(
    backend: ThreadTaskBackend,
) -> None:
    def job_for(n: int) -> Callable[[TaskHandle], int]:
        return lambda handle: n

    ids = [backend.submit(METHOD, job_for(n)) for n in range(200)]
    statuses = [wait_finished(backend, task_id) for task_id in ids]
    assert [s.state for s in statuses] == [TaskState.SUCCEEDED] * 200
    assert [s.result for s in statuses] == list(range(200))
    assert all(s.progress == 1.0 for s in statuses)
    assert all(s.task_id == task_id for s, task_id in zip(statuses, ids, strict=True))
    assert all(s.method == METHOD for s in statuses)


def test_tasks_beyond_the_worker_bound_wait_as_pending(make_backend: MakeBackend) -> None:
    backend = make_backend(max_workers=2)
    release = threading.Event()
    try:
        started = [threading.Event(), threading.Event()]
        busy = [backend.submit(METHOD, held_job(ev, release)) for ev in started]
        for ev in started:
            assert ev.wait(TIMEOUT)
        waiting = backend.submit(METHOD, lambda handle: "later")
        for task_id in busy:
            assert backend.status(METHOD, task_id).state is TaskState.RUNNING
        pending = backend.status(METHOD, waiting)
        assert pending.state is TaskState.PENDING
        assert pending.progress == 0.0
        assert pending.started is None and pending.finished is None
        assert pending.starttime == pending.created
    finally:
        release.set()
    assert wait_finished(backend, waiting).result == "later"
    for task_id in busy:
        assert wait_finished(backend, task_id).result == "released"


def test_result_can_be_fetched_again_and_again(backend: ThreadTaskBackend) -> None:
    task_id = backend.submit(METHOD, lambda handle: {"answer": 42})
    first = wait_finished(backend, task_id)
    second = backend.status(METHOD, task_id)
    assert first.result == second.result == {"answer": 42}
    assert second.state is TaskState.SUCCEEDED


@pytest.mark.parametrize("value", [0, "", [], False, None])
def test_falsy_results_are_succeeded_with_that_result(
    backend: ThreadTaskBackend, value: object
) -> None:
    task_id = backend.submit(METHOD, lambda handle: value)
    status = wait_finished(backend, task_id)
    assert status.state is TaskState.SUCCEEDED
    assert status.result == value
    assert type(status.result) is type(value)


def test_failing_task_is_failed_with_message_and_traceback(backend: ThreadTaskBackend) -> None:
    def job(handle: TaskHandle) -> None:
        handle.progress(0.3)
        raise ValueError("boom")

    status = wait_finished(backend, backend.submit(METHOD, job))
    assert status.state is TaskState.FAILED
    assert status.error == "boom"
    assert status.error_detail is not None
    assert "ValueError" in status.error_detail
    assert "in job" in status.error_detail
    assert status.result is None
    assert status.progress == 1.0
    assert status.finished is not None


def test_failure_without_a_message_reports_the_exception_class(
    backend: ThreadTaskBackend,
) -> None:
    def job(handle: TaskHandle) -> None:
        raise RuntimeError()

    status = wait_finished(backend, backend.submit(METHOD, job))
    assert status.state is TaskState.FAILED
    assert status.error == "RuntimeError"


# -- progress -------------------------------------------------------------------


def test_polled_progress_never_decreases(backend: ThreadTaskBackend) -> None:
    def job(handle: TaskHandle) -> str:
        for i in range(1, 301):
            handle.progress(i / 300)
            if i % 30 == 0:
                handle.progress(0.0)  # a lower value must not show
        return "ok"

    task_id = backend.submit(METHOD, job)
    seen: list[float] = []
    while True:
        status = backend.status(METHOD, task_id)
        seen.append(status.progress)
        if status.state.finished:
            break
    assert status.state is TaskState.SUCCEEDED
    assert seen == sorted(seen)
    assert seen[-1] == 1.0


def test_lower_progress_is_ignored(backend: ThreadTaskBackend) -> None:
    def job(handle: TaskHandle) -> list[float]:
        handle.progress(0.5)
        handle.progress(0.2)
        return [backend.status(METHOD, handle.id).progress]

    assert wait_finished(backend, backend.submit(METHOD, job)).result == [0.5]


def test_progress_values_are_clamped_or_ignored_without_error(
    backend: ThreadTaskBackend,
) -> None:
    def report(handle: TaskHandle, value: object) -> float:
        handle.progress(value)
        return backend.status(METHOD, handle.id).progress

    def job(handle: TaskHandle) -> list[float]:
        seen = [report(handle, -3), report(handle, 0.25)]
        for ignored in ("x", None, True, False, math.nan, [0.9], b"1"):
            seen.append(report(handle, ignored))
        seen.append(report(handle, -math.inf))  # clamps to 0.0: lower, so ignored
        seen.append(report(handle, math.inf))  # clamps to 1.0
        return seen

    def int_job(handle: TaskHandle) -> float:
        return report(handle, 1)

    status = wait_finished(backend, backend.submit(METHOD, job))
    assert status.state is TaskState.SUCCEEDED, status.error_detail
    assert status.result == [0.0, 0.25] + [0.25] * 7 + [0.25, 1.0]
    assert wait_finished(backend, backend.submit(METHOD, int_job)).result == 1.0


def test_clamp_progress_rule() -> None:
    assert clamp_progress(1.5) == 1.0
    assert clamp_progress(-3) == 0.0
    assert clamp_progress(1) == 1.0
    assert clamp_progress(0) == 0.0
    assert clamp_progress(10**400) == 1.0
    assert clamp_progress(0.5) == 0.5
    assert clamp_progress(-0.0) == 0.0
    assert clamp_progress(math.inf) == 1.0
    assert clamp_progress(-math.inf) == 0.0
    for ignored in ("x", None, True, False, math.nan, object()):
        assert clamp_progress(ignored) is None


def test_progress_message_is_stored_and_truncated(backend: ThreadTaskBackend) -> None:
    def job(handle: TaskHandle) -> list[str | None]:
        messages = []
        handle.progress(0.1, "step 1 of 3")
        messages.append(backend.status(METHOD, handle.id).message)
        handle.progress(None, "step 2 of 3")  # value ignored, message kept
        messages.append(backend.status(METHOD, handle.id).message)
        handle.update_progress(0.5)  # no message: the previous one stays
        messages.append(backend.status(METHOD, handle.id).message)
        handle.progress("bad", "x" * 5000)
        messages.append(backend.status(METHOD, handle.id).message)
        return messages

    status = wait_finished(backend, backend.submit(METHOD, job))
    assert status.state is TaskState.SUCCEEDED, status.error_detail
    assert isinstance(status.result, list)
    first, second, third, long = status.result
    assert (first, second, third) == ("step 1 of 3", "step 2 of 3", "step 2 of 3")
    assert long == "x" * 1000
    assert status.message == "x" * 1000


def test_concurrent_progress_from_50_tasks(make_backend: MakeBackend) -> None:
    backend = make_backend(max_workers=50)
    barrier = threading.Barrier(50, timeout=TIMEOUT)

    def job(handle: TaskHandle) -> bool:
        barrier.wait()
        for i in range(1, 201):
            handle.update_progress(i / 400)
            handle.progress(None, f"{handle.id}:{i}")
        status = backend.status(METHOD, handle.id)
        return status.progress == 0.5 and status.message == f"{handle.id}:200"

    ids = [backend.submit(METHOD, job) for _ in range(50)]
    statuses = [wait_finished(backend, task_id) for task_id in ids]
    assert [s.state for s in statuses] == [TaskState.SUCCEEDED] * 50
    assert all(s.result is True for s in statuses)


# -- cancel ---------------------------------------------------------------------


def test_cancelling_a_pending_task_means_it_never_runs(make_backend: MakeBackend) -> None:
    backend = make_backend(max_workers=1)
    started, release = threading.Event(), threading.Event()
    ran: list[str] = []
    try:
        blocker = backend.submit(METHOD, held_job(started, release))
        assert started.wait(TIMEOUT)
        victim = backend.submit(METHOD, lambda handle: ran.append("victim"))
        status = backend.cancel(METHOD, victim)
        assert status.state is TaskState.CANCELLED
        assert status.started is None
        assert status.finished is not None
        assert status.progress == 1.0  # ended (cancelled), never started
        assert status.message == CANCELLED_MESSAGE == "cancelled"
    finally:
        release.set()
    assert wait_finished(backend, blocker).state is TaskState.SUCCEEDED
    # One worker, first in first out: once this one is done, the victim's turn passed.
    assert wait_finished(backend, backend.submit(METHOD, lambda h: 1)).result == 1
    assert ran == []
    assert backend.status(METHOD, victim).state is TaskState.CANCELLED


def test_cancelling_a_cooperative_running_task(backend: ThreadTaskBackend) -> None:
    started = threading.Event()

    def job(handle: TaskHandle) -> str:
        started.set()
        deadline = time.monotonic() + TIMEOUT
        while not handle.cancelled and time.monotonic() < deadline:
            time.sleep(0.001)
        return "stopped politely"

    task_id = backend.submit(METHOD, job)
    assert started.wait(TIMEOUT)
    answer = backend.cancel(METHOD, task_id)
    assert (answer.state, answer.message) == (TaskState.RUNNING, CANCEL_REQUESTED_MESSAGE)
    assert answer.finished is None
    status = wait_finished(backend, task_id)
    assert status.state is TaskState.CANCELLED
    assert (status.progress, status.message) == (1.0, CANCELLED_MESSAGE)
    assert status.result is None
    assert status.finished is not None


def test_a_task_cancelled_while_running_drops_its_later_reports(
    backend: ThreadTaskBackend,
) -> None:
    reported, cancelled, release = threading.Event(), threading.Event(), threading.Event()
    raised: list[str] = []

    def job(handle: TaskHandle) -> str:
        handle.progress(0.2, message="step 1")
        reported.set()
        assert cancelled.wait(TIMEOUT)
        try:
            handle.progress(0.9, message="step 2")
        except TaskCancelled:
            raised.append("TaskCancelled")  # a job that goes on regardless
        assert release.wait(TIMEOUT)
        return "done anyway"

    task_id = backend.submit(METHOD, job)
    assert reported.wait(TIMEOUT)
    answer = backend.cancel(METHOD, task_id)
    assert (answer.state, answer.progress, answer.message) == (
        TaskState.RUNNING,
        0.2,
        CANCEL_REQUESTED_MESSAGE,
    )
    cancelled.set()
    wait_until(lambda: raised == ["TaskCancelled"])
    status = backend.status(METHOD, task_id)  # the report of 0.9 was dropped
    assert (status.state, status.progress, status.message) == (
        TaskState.RUNNING,
        0.2,
        CANCEL_REQUESTED_MESSAGE,
    )
    assert backend.cancel(METHOD, task_id).message == CANCEL_REQUESTED_MESSAGE  # again: no change
    release.set()
    status = wait_finished(backend, task_id)
    assert (status.state, status.progress, status.message) == (
        TaskState.CANCELLED,
        1.0,
        CANCELLED_MESSAGE,
    )
    assert status.result is None


def test_cancelled_task_is_stopped_at_its_next_progress_report(
    backend: ThreadTaskBackend,
) -> None:
    started = threading.Event()
    stopped_by: list[str] = []

    def job(handle: TaskHandle) -> str:
        deadline = time.monotonic() + TIMEOUT
        try:
            while time.monotonic() < deadline:
                handle.update_progress(0.5)
                started.set()
                time.sleep(0.001)
        except TaskCancelled:
            stopped_by.append("TaskCancelled")
            raise
        return "ran to the end"

    task_id = backend.submit(METHOD, job)
    assert started.wait(TIMEOUT)
    backend.cancel(METHOD, task_id)
    status = wait_finished(backend, task_id)
    assert status.state is TaskState.CANCELLED
    assert stopped_by == ["TaskCancelled"]
    assert status.progress == 1.0  # the task has ended
    assert status.error is None


def test_except_exception_does_not_swallow_the_cancel(backend: ThreadTaskBackend) -> None:
    started = threading.Event()
    swallowed: list[BaseException] = []

    def job(handle: TaskHandle) -> str:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                handle.progress(0.1)
            except Exception as exc:  # the pattern a careless task uses
                swallowed.append(exc)
            started.set()
            time.sleep(0.001)
        return "never cancelled"

    task_id = backend.submit(METHOD, job)
    assert started.wait(TIMEOUT)
    backend.cancel(METHOD, task_id)
    assert wait_finished(backend, task_id).state is TaskState.CANCELLED
    assert swallowed == []
    assert issubclass(TaskCancelled, BaseException)
    assert not issubclass(TaskCancelled, Exception)


def test_cancelling_a_finished_task_leaves_it_unchanged(backend: ThreadTaskBackend) -> None:
    task_id = backend.submit(METHOD, lambda handle: "done")
    finished = wait_finished(backend, task_id)
    assert backend.cancel(METHOD, task_id) == finished
    assert backend.status(METHOD, task_id).result == "done"


def test_handle_does_not_report_cancelled_before_a_cancel(backend: ThreadTaskBackend) -> None:
    def job(handle: TaskHandle) -> bool:
        handle.progress(0.5)
        return handle.cancelled

    status = wait_finished(backend, backend.submit(METHOD, job))
    assert status.result is False


# -- ids and ownership ------------------------------------------------------------


def test_unknown_id_raises_unknown_task(backend: ThreadTaskBackend) -> None:
    missing = new_task_id()
    with pytest.raises(UnknownTask, match="unknown task") as info:
        backend.status(METHOD, missing)
    assert missing in str(info.value)
    assert isinstance(info.value, TaskError)
    with pytest.raises(UnknownTask):
        backend.cancel(METHOD, missing)


def test_foreign_id_is_unknown_to_another_method(backend: ThreadTaskBackend) -> None:
    task_id = backend.submit("a", lambda handle: "secret")
    assert wait_finished(backend, task_id, method="a").result == "secret"
    with pytest.raises(UnknownTask):
        backend.status("b", task_id)
    with pytest.raises(UnknownTask):
        backend.cancel("b", task_id)
    assert backend.status("a", task_id).state is TaskState.SUCCEEDED


def test_ids_are_40_hex_digits_and_distinct(backend: ThreadTaskBackend) -> None:
    ids = [new_task_id() for _ in range(1000)]
    ids += [backend.submit(METHOD, lambda handle: None) for _ in range(100)]
    assert all(re.fullmatch(r"[0-9a-f]{40}", task_id) for task_id in ids)
    assert len(set(ids)) == len(ids)


# -- retention --------------------------------------------------------------------


def test_finished_tasks_expire_after_result_ttl(make_backend: MakeBackend) -> None:
    clock = ManualClock()
    backend = make_backend(max_workers=2, result_ttl=60, clock=clock)
    task_id = backend.submit(METHOD, lambda handle: "short lived")
    assert wait_finished(backend, task_id).result == "short lived"
    assert len(backend) == 1
    clock.advance(59.9)
    assert backend.status(METHOD, task_id).result == "short lived"  # fetched again
    clock.advance(0.2)
    with pytest.raises(UnknownTask):
        backend.status(METHOD, task_id)
    assert len(backend) == 0


def test_a_task_past_its_max_runtime_fails_when_its_clock_says_so(
    make_backend: MakeBackend,
) -> None:
    clock = ManualClock()
    backend = make_backend(max_workers=1, max_runtime=30, clock=clock)
    started, release = threading.Event(), threading.Event()
    task_id = backend.submit(METHOD, held_job(started, release))
    assert started.wait(TIMEOUT)
    clock.advance(29.9)
    assert backend.status(METHOD, task_id).state is TaskState.RUNNING
    clock.advance(0.2)
    status = backend.status(METHOD, task_id)
    assert status.state is TaskState.FAILED
    assert status.error == "the task ran longer than its max_runtime of 30 s"
    release.set()


def test_memory_stays_bounded_over_many_tasks(make_backend: MakeBackend) -> None:
    backend = make_backend(max_workers=4, result_ttl=0)
    done = threading.Semaphore(0)

    def job(handle: TaskHandle) -> None:
        done.release()

    for _ in range(5000):
        backend.submit(METHOD, job)
    for _ in range(5000):
        assert done.acquire(timeout=TIMEOUT)
    wait_until(lambda: len(backend) == 0)
    assert len(backend) == 0


def test_running_and_pending_tasks_are_never_evicted(make_backend: MakeBackend) -> None:
    backend = make_backend(max_workers=1, result_ttl=0)
    started, release = threading.Event(), threading.Event()
    try:
        running = backend.submit(METHOD, held_job(started, release))
        assert started.wait(TIMEOUT)
        pending = backend.submit(METHOD, lambda handle: None)
        for _ in range(20):
            backend.submit(METHOD, lambda handle: None)
        assert backend.status(METHOD, running).state is TaskState.RUNNING
        assert backend.status(METHOD, pending).state is TaskState.PENDING
        assert len(backend) == 22
    finally:
        release.set()
    wait_until(lambda: len(backend) == 0)


# -- rejection and close ------------------------------------------------------------


def test_submit_after_close_is_rejected(make_backend: MakeBackend) -> None:
    backend = make_backend(max_workers=1)
    task_id = backend.submit(METHOD, lambda handle: "before")
    wait_finished(backend, task_id)
    backend.close()
    with pytest.raises(TaskRejected, match="closed"):
        backend.submit(METHOD, lambda handle: "after")
    assert backend.status(METHOD, task_id).result == "before"  # still readable
    backend.close()  # closing again is harmless


def test_submit_beyond_max_pending_is_rejected(make_backend: MakeBackend) -> None:
    backend = make_backend(max_workers=1, max_pending=2)
    started, release = threading.Event(), threading.Event()
    try:
        first = backend.submit(METHOD, held_job(started, release))
        assert started.wait(TIMEOUT)
        queued = [backend.submit(METHOD, lambda handle: "queued") for _ in range(2)]
        with pytest.raises(TaskRejected, match="pending"):
            backend.submit(METHOD, lambda handle: "too many")
        assert len(backend) == 3
    finally:
        release.set()
    assert wait_finished(backend, first).result == "released"
    for task_id in queued:
        assert wait_finished(backend, task_id).result == "queued"
    assert wait_finished(backend, backend.submit(METHOD, lambda h: "room again")).result == (
        "room again"
    )


def test_close_cancels_pending_tasks_and_lets_running_ones_finish(
    make_backend: MakeBackend,
) -> None:
    backend = make_backend(max_workers=1)
    started, release = threading.Event(), threading.Event()
    ran: list[str] = []
    try:
        running = backend.submit(METHOD, held_job(started, release))
        assert started.wait(TIMEOUT)
        pending = backend.submit(METHOD, lambda handle: ran.append("pending"))
        backend.close(wait=False)
        assert backend.status(METHOD, pending).state is TaskState.CANCELLED
        assert backend.status(METHOD, running).state is TaskState.RUNNING
    finally:
        release.set()
    backend.close(wait=True)
    assert backend.status(METHOD, running).state is TaskState.SUCCEEDED
    assert ran == []


def test_close_with_zero_ttl_cancels_and_forgets_pending_tasks(make_backend: MakeBackend) -> None:
    backend = make_backend(max_workers=1, result_ttl=0)
    started, release = threading.Event(), threading.Event()
    ran: list[int] = []
    try:
        backend.submit(METHOD, held_job(started, release))
        assert started.wait(TIMEOUT)
        for _ in range(10):
            backend.submit(METHOD, lambda handle: ran.append(1))
        backend.close(wait=False)
        assert len(backend) == 1  # only the running task is left
    finally:
        release.set()
    backend.close(wait=True)
    assert len(backend) == 0
    assert ran == []


def test_constructing_a_backend_starts_no_thread() -> None:
    before = threading.active_count()
    backend = ThreadTaskBackend(max_workers=8)
    assert threading.active_count() == before
    backend.close()
    assert threading.active_count() == before


@pytest.mark.parametrize(
    "options",
    [{"max_workers": 0}, {"result_ttl": -1}, {"result_ttl": math.nan}, {"max_pending": -1}],
)
def test_invalid_options_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        ThreadTaskBackend(**options)  # type: ignore[arg-type]


# -- time ---------------------------------------------------------------------------


def test_starttime_and_duration() -> None:
    clock = ManualClock()
    backend = ThreadTaskBackend(clock=clock)
    started, release = threading.Event(), threading.Event()
    try:
        created = clock.time()
        task_id = backend.submit(METHOD, held_job(started, release))
        assert started.wait(TIMEOUT)
        first = backend.status(METHOD, task_id)
        assert first.created == first.started == first.starttime == created
        assert first.duration == 0
        clock.advance(2.5)
        assert backend.status(METHOD, task_id).duration == 2.5  # grows while running
        assert first.duration == 0  # a snapshot keeps its own
    finally:
        release.set()
    done = wait_finished(backend, task_id)
    assert done.finished is not None and done.started is not None
    assert done.duration == done.finished - done.started == 2.5
    clock.advance(10)
    assert backend.status(METHOD, task_id).duration == 2.5
    backend.close()


def test_duration_is_never_negative() -> None:
    status = TaskStatus(
        task_id="t",
        method="m",
        state=TaskState.SUCCEEDED,
        progress=1.0,
        message=None,
        created=100.0,
        started=200.0,
        finished=150.0,  # a clock that stepped back
    )
    assert status.duration == 0.0
    assert status.starttime == 200.0


def test_task_state_finished_property() -> None:
    assert [s for s in TaskState if s.finished] == [
        TaskState.SUCCEEDED,
        TaskState.FAILED,
        TaskState.CANCELLED,
    ]
    assert TaskState("running") is TaskState.RUNNING
    assert isinstance(TaskState.PENDING, str)
    assert TaskState.PENDING.value == "pending"


# -- backend_from_url -----------------------------------------------------------------


def test_backend_from_thread_url_is_configured() -> None:
    backend = backend_from_url("thread://?max_workers=2&result_ttl=5")
    try:
        assert isinstance(backend, ThreadTaskBackend)
        assert backend.max_workers == 2
        assert backend.result_ttl == 5.0
        task_id = backend.submit(METHOD, lambda handle: "via url")
        assert wait_finished(backend, task_id).result == "via url"
    finally:
        backend.close()


def test_backend_from_plain_thread_url_uses_defaults() -> None:
    backend = backend_from_url("thread://")
    try:
        assert isinstance(backend, ThreadTaskBackend)
        assert backend.result_ttl == 3600.0
        assert backend.max_pending == 10_000
    finally:
        backend.close()


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/",
        "memory://",
        "",
        "/tmp/tasks.db",
    ],
)
def test_unsupported_scheme_is_a_value_error_naming_accepted_schemes(url: str) -> None:
    with pytest.raises(ValueError, match=r"thread://.*sqlite://.*redis://"):
        backend_from_url(url)


def test_shared_backends_are_built_from_their_urls(tmp_path: Path) -> None:
    from ladon.tasks import RedisTaskBackend
    from ladon.tasks import SQLiteTaskBackend

    sqlite = backend_from_url(f"sqlite:///{tmp_path}/t.db")
    try:
        assert isinstance(sqlite, SQLiteTaskBackend)
    finally:
        sqlite.close()
    redis = backend_from_url("redis://:secret@localhost:6379/0")  # does not connect yet
    try:
        assert isinstance(redis, RedisTaskBackend)
    finally:
        redis.close()


def test_a_bad_redis_url_never_shows_its_password() -> None:
    with pytest.raises(ValueError) as info:
        backend_from_url("redis://:secret@localhost:6379/0?colour=blue")
    assert "secret" not in str(info.value) and "colour" in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "thread://?max_workers=0",
        "thread://?max_workers=many",
        "thread://?result_ttl=-1",
        "thread://?result_ttl=nan",
        "thread://?max_pending=-5",
        "thread://?colour=blue",
        "thread://?max_workers=2&max_workers=3",
        "thread://somehost",
    ],
)
def test_bad_thread_url_parameters_are_value_errors(url: str) -> None:
    with pytest.raises(ValueError):
        backend_from_url(url)


def test_tasks_env_name() -> None:
    assert DEFAULT_TASKS_ENV == "LADON_TASKS"
