"""What the operator's tools show of a task (``task_record``), the readiness
and listing of each backend kept apart from the HTTP layer, and the
filters' parser."""

from __future__ import annotations

import dataclasses

import pytest

from ladon.server.admin import parse_query
from ladon.tasks import TaskState
from ladon.tasks import TaskStatus
from ladon.tasks.admin import TaskQuery
from ladon.tasks.admin import task_record


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
    }
    assert "secret" not in str(record)


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
