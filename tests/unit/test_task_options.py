"""The options of a task method (``tasktype={"retries": N, "retry_delay": s,
"max_runtime": s}``), checked when the decorator runs and carried typed in
the model; ``ladon.tasks.Retry``; the messages of re-runs; the backends'
new settings (``drain_timeout``, ``no_worker_timeout``)."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import pytest

from ladon import ladonize
from ladon.exceptions.base import DefinitionError
from ladon.ladonizer import callback_method
from ladon.ladonizer.registry import build_services
from ladon.tasks import Retry
from ladon.tasks import SQLiteTaskBackend
from ladon.tasks import TaskState
from ladon.tasks import backend_from_url
from ladon.tasks.retries import RETRY_REQUESTED
from ladon.tasks.retries import final_error
from ladon.tasks.retries import refused_retry
from ladon.tasks.retries import shown_message
from ladon.tasks.retries import waiting_message
from ladon.tasks.worker import _grace
from ladon.types.tasktype import MAX_RETRY_DELAY
from ladon.types.tasktype import TaskOptions
from ladon.types.tasktype import task_options

WHERE = f"{__name__}"


class Clone:
    @ladonize(tasktype={"retries": 3, "retry_delay": 2.5, "max_runtime": 600})
    def clone(self, name: str) -> str:
        return name

    @ladonize(tasktype=True)
    def plain_task(self) -> int:
        return 1

    @ladonize()
    def not_a_task(self) -> int:
        return 1


def _method(name: str) -> Any:
    (service,) = build_services([Clone])
    return service.methods[name]


def test_the_model_carries_the_options_typed() -> None:
    start = _method("clone")
    assert start.task_options == TaskOptions(retries=3, retry_delay=2.5, max_runtime=600.0)
    assert start.task_options.attempts == 4
    assert start.max_runtime == 600.0
    assert _method("plain_task").task_options == TaskOptions()  # tasktype=True: the defaults
    assert _method("plain_task").max_runtime is None
    assert _method("not_a_task").task_options is None
    assert _method("clone_progress").task_options is None  # only the start method


@pytest.mark.parametrize(
    ("tasktype", "key", "says"),
    [
        ({"retries": -1}, "retries", "from 0 to 100"),
        ({"retries": 101}, "retries", "from 0 to 100"),
        ({"retries": 2.0}, "retries", "whole number"),
        ({"retries": True}, "retries", "whole number"),
        ({"retries": "3"}, "retries", "whole number"),
        ({"retry_delay": -0.5}, "retry_delay", "from 0 to 86400"),
        ({"retry_delay": math.nan}, "retry_delay", "seconds"),
        ({"retry_delay": math.inf}, "retry_delay", "seconds"),
        ({"retry_delay": 86401}, "retry_delay", "seconds"),
        ({"retry_delay": False}, "retry_delay", "seconds"),
        ({"max_runtime": 0}, "max_runtime", "> 0"),
        ({"retrys": 3}, "retrys", "unknown key"),
        ({"retries": 1, "delay": 3}, "delay", "unknown key"),
    ],
    ids=lambda v: str(v),
)
def test_a_bad_tasktype_is_refused_when_decorating_naming_the_method(
    tasktype: dict[str, object], key: str, says: str
) -> None:
    with pytest.raises(DefinitionError) as info:

        class Bad:
            @ladonize(tasktype=tasktype)
            def job(self) -> int:
                return 0

    message = str(info.value)
    assert message.startswith(f"{WHERE}.{sys._getframe().f_code.co_name}.<locals>.Bad.job: ")
    assert key in message and says in message


def test_callback_methods_check_their_tasktype_too() -> None:
    with pytest.raises(DefinitionError, match=r"Configurable\.run: tasktype\[\"retries\"\]"):

        class Configurable:
            @callback_method("run", tasktype={"retries": -2})
            def run(self, *args: object) -> int:
                return 0


def test_ladon_1_0_tasktype_keys_are_still_taken() -> None:
    assert task_options({"enable": True, "redis_server": "localhost"}) == TaskOptions()
    assert task_options(True) == TaskOptions()


def test_the_delay_doubles_from_retry_delay_up_to_a_day() -> None:
    options = TaskOptions(retries=5, retry_delay=3)
    assert [options.delay(a) for a in range(1, 7)] == [0.0, 3.0, 6.0, 12.0, 24.0, 48.0]
    assert TaskOptions(retries=100, retry_delay=60).delay(101) == MAX_RETRY_DELAY
    assert TaskOptions(retries=2, retry_delay=0).delay(3) == 0.0


def test_retry_cleans_its_message_and_checks_its_delay() -> None:
    assert Retry().reason == RETRY_REQUESTED and Retry().delay is None
    hostile = Retry("\x00bad\ud800" + "x" * 5000, delay=2)
    assert hostile.reason.startswith("\ufffdbad\ufffd") and len(hostile.reason) == 1000
    assert hostile.delay == 2.0
    for delay in (-1, math.nan, True, 86401):
        with pytest.raises(ValueError, match=r"Retry\(delay=...\)"):
            Retry("x", delay=delay)


def test_the_messages_of_re_runs() -> None:
    assert waiting_message(2, 4, 2.5, "busy") == "attempt 2 of 4 starts in 2.5 s; attempt 1: busy"
    assert waiting_message(3, 3, 0, "worker lost") == (
        "attempt 3 of 3 starts now; attempt 2: worker lost"
    )
    assert final_error("worker lost", 1, 1) == "worker lost"  # Ladon 2.0's words, unchanged
    assert final_error("busy", 3, 3) == "busy (attempt 3 of 3; no retries left)"
    assert refused_retry("busy") == "busy (not run again: the method declares no retries)"
    assert shown_message(TaskState.RUNNING, None, 1, 3) is None  # a first run says nothing more
    assert shown_message(TaskState.RUNNING, "copying", 2, 3) == "attempt 2 of 3: copying"
    assert shown_message(TaskState.SUCCEEDED, None, 3, 3) == "attempt 3 of 3"
    assert shown_message(TaskState.CANCELLED, "cancelled", 2, 3) == "cancelled"
    assert shown_message(TaskState.PENDING, "waiting", 2, 3) == "waiting"


def test_drain_timeout_and_no_worker_timeout_options(tmp_path: Path) -> None:
    sqlite = backend_from_url(f"sqlite://{tmp_path}/t.db?drain_timeout=20")
    assert isinstance(sqlite, SQLiteTaskBackend) and sqlite.drain_timeout == 20.0
    assert SQLiteTaskBackend(tmp_path / "u.db").drain_timeout == 0.0  # at once by default
    with pytest.raises(ValueError, match="drain_timeout"):
        backend_from_url(f"sqlite://{tmp_path}/t.db?drain_timeout=-1")
    with pytest.raises(ValueError, match="drain_timeout"):
        SQLiteTaskBackend(tmp_path / "v.db", drain_timeout=math.nan)
    from ladon.tasks.rqbackend import RedisTaskBackend

    default = backend_from_url("redis://localhost/0")
    assert isinstance(default, RedisTaskBackend) and default.no_worker_timeout == 300.0
    for url, bound in (
        ("redis://localhost/0?no_worker_timeout=30", 30.0),
        ("redis://localhost/0?no_worker_timeout=none", None),
    ):
        backend = backend_from_url(url)
        assert isinstance(backend, RedisTaskBackend) and backend.no_worker_timeout == bound
    for bad in ("0", "-5", "inf", "soon"):
        with pytest.raises(ValueError, match="no_worker_timeout"):
            backend_from_url(f"redis://:secret@localhost/0?no_worker_timeout={bad}")


def test_the_worker_grace_option() -> None:
    assert _grace("25") == 25.0 and _grace("0") == 0.0 and _grace("none") is None
    for bad in ("-1", "inf", "nan", "soon"):
        with pytest.raises(Exception, match="seconds >= 0"):
            _grace(bad)
