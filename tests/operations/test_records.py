"""What the operator's tools show of a task (``task_record``), the readiness
and listing of each backend kept apart from the HTTP layer, and the
filters' parser."""

from __future__ import annotations

import dataclasses

import pytest

from ladon.server.admin import parse_query
from ladon.tasks import TaskState
from ladon.tasks import TaskStatus
from ladon.tasks.admin import Readiness
from ladon.tasks.admin import TaskQuery
from ladon.tasks.admin import newest
from ladon.tasks.admin import task_record
from ladon.tasks.admin import throughput
from ladon.tasks.callbacks import CallbackTarget


def status(**changes: object) -> TaskStatus:
    base: dict[str, object] = {
        "task_id": "a" * 40,
        "method": "Shop.invoice",
        "state": TaskState.FAILED,
        "progress": 1.0,
        "message": "step 3",
        "created": 100.0,
        "started": 101.0,
        "finished": 103.5,
        "error": "the printer is on fire",
        "error_detail": "Traceback (most recent call last): secret",
        "owner": "alice",
    }
    base.update(changes)
    return TaskStatus(**base)  # type: ignore[arg-type]


def test_a_record_has_the_fields_the_tools_show_and_never_the_traceback() -> None:
    record = task_record(status())
    assert record == {
        "id": "a" * 40,
        "task": "Shop.invoice",
        "service": "Shop",
        "method": "invoice",
        "state": "failed",
        "progress": 1.0,
        "message": "step 3",
        "created": 100.0,
        "started": 101.0,
        "finished": 103.5,
        "duration": 2.5,
        "error": "the printer is on fire",
        "principal": "alice",
        "attempt": 1,
        "attempts": 1,
        "callback": None,
    }
    assert "secret" not in str(record)


def test_a_record_shows_how_the_callback_goes_never_its_url() -> None:
    target = CallbackTarget("https://hooks.example/done/k3y?token=s3cret", "Shop", "invoice")
    hooked = status(callback=target.to_text(), callback_state="failed (after 4 attempts: HTTP 500)")
    record = task_record(hooked)
    assert record["callback"] == "failed (after 4 attempts: HTTP 500)"
    assert "s3cret" not in str(record) and "k3y" not in str(record)
    pending = task_record(status(callback=target.to_text(), callback_state="pending"))
    assert pending["callback"] == "pending"


def test_a_record_shows_the_attempt_of_a_retried_task() -> None:
    retried = dataclasses.replace(status(), attempt=3, attempts=5)
    record = task_record(retried)
    assert (record["attempt"], record["attempts"]) == (3, 5)


def test_a_waiting_task_has_no_duration_and_only_a_failed_one_an_error() -> None:
    waiting = task_record(
        status(state=TaskState.PENDING, started=None, finished=None, error=None), now=200.0
    )
    assert waiting["duration"] == 0.0 and waiting["error"] is None
    running = task_record(status(state=TaskState.RUNNING, finished=None), now=111.0)
    assert running["duration"] == 10.0 and running["error"] is None


def test_the_filters() -> None:
    query = parse_query({"state": "running, failed", "service": "Shop", "age": "2h"})
    assert query.states == {TaskState.RUNNING, TaskState.FAILED}
    assert query.max_age == 7200 and query.limit == 100
    assert query.matches("shop.invoice", TaskState.RUNNING, 5000.0, 10000.0)
    assert not query.matches("Shop.invoice", TaskState.RUNNING, 1000.0, 10000.0)  # too old
    assert not query.matches("Other.invoice", TaskState.FAILED, 9000.0, 10000.0)
    assert parse_query({"age": "90"}).max_age == 90
    assert parse_query({"age": "1d"}).max_age == 86400
    with pytest.raises(ValueError, match="limit must be between"):
        TaskQuery(limit=0)


class Finished:
    """A store that keeps the given statuses (a TaskAdmin)."""

    def __init__(self, statuses: list[TaskStatus]) -> None:
        self.statuses = statuses

    def tasks(self, query: TaskQuery) -> list[TaskStatus]:
        return newest(self.statuses, query, 10_000.0)

    def counts(self) -> dict[str, int]:
        return {}

    def readiness(self) -> Readiness:
        return Readiness(True, "stub")


def test_throughput_counts_every_task_finished_per_minute() -> None:
    at = 10_000.0
    ended = [
        status(task_id=f"{n:040x}", state=TaskState.SUCCEEDED, started=at - 100, finished=at - 30)
        for n in range(1500)  # more than any listing returns
    ]
    ended.append(status(state=TaskState.FAILED, started=at - 200, finished=at - 150))
    ended.append(status(state=TaskState.SUCCEEDED, finished=at - 3600))  # too old
    ended.append(status(state=TaskState.RUNNING, finished=None))
    minutes = throughput(Finished(ended), TaskQuery(), at, 15)
    assert [m["finished"] for m in minutes] == [0] * 12 + [1, 0, 1500]
    assert minutes[-1]["mean_duration"] == 70.0 and minutes[-3]["mean_duration"] == 50.0
    assert minutes[0]["start"] == at - 900 and minutes[-1]["start"] == at - 60
    failed = throughput(Finished(ended), TaskQuery(states=frozenset({TaskState.FAILED})), at, 3)
    assert [m["finished"] for m in failed] == [1, 0, 0]
    with pytest.raises(ValueError, match="minutes"):
        throughput(Finished(ended), TaskQuery(), at, 0)
