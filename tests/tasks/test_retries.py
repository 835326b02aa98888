"""Retries, in the behavioural suite shared by every task backend (thread,
sqlite, redis with real ``ladon worker`` processes).

A method declared ``tasktype={"retries": N, "retry_delay": s}`` that raises
``ladon.tasks.Retry`` runs again, up to N times, the delay doubling; it sees
its attempt in ``kw["task"].attempt`` and ``_progress`` says which attempt
runs. A method without retries never runs again. The services count their
runs in files (``<gates>/<name>.runs``), since on redis they run in other
processes. Lost and stopped workers are in ``test_gunicorn.py``,
``test_sqlite_outages.py`` and ``test_redis_outages.py``.
"""

from __future__ import annotations

import json
import re
import time

from webtest import TestApp

from . import test_backends as suite
from .backend_support import Client
from .backend_support import Gates
from .backend_support import in_process
from .backend_support import wait_until

# The shared suite's fixtures, for this module's tests.
backend = suite.backend
make_app = suite.make_app


def retrying(make_app: suite.MakeApp) -> Client:
    return Client(in_process(make_app()), "Retrying")


def test_a_task_raising_retry_runs_again_and_sees_its_attempt(
    make_app: suite.MakeApp, gates: Gates
) -> None:
    work = retrying(make_app)
    task_id = work.start("flaky", gates=gates.path, name="f", failures=1)
    status = work.wait_state("flaky", task_id)
    assert status["state"] == "succeeded", status
    assert status["message"] == "attempt 2 of 3: working"  # the attempt, then its own message
    assert work.result("flaky", task_id) == "attempt 2"
    assert [attempt for attempt, _, _ in gates.runs("f")] == [1, 2]


def test_retries_exhausted_fail_the_task_with_the_reason(
    make_app: suite.MakeApp, gates: Gates
) -> None:
    work = retrying(make_app)
    task_id = work.start("flaky", gates=gates.path, name="f", failures=9)
    status = work.wait_state("flaky", task_id)
    expected = "busy at attempt 3 (attempt 3 of 3; no retries left)"
    assert (status["state"], status["message"], status["progress"]) == ("failed", expected, 1.0)
    fault = work.fault("flaky_result", task_id=task_id)
    assert fault.code == "server" and fault.string == f"The task failed: {expected}"
    assert "Traceback" not in " ".join(fault.detail)
    assert [attempt for attempt, _, _ in gates.runs("f")] == [1, 2, 3]


def test_a_method_without_retries_is_never_run_again(make_app: suite.MakeApp, gates: Gates) -> None:
    work = retrying(make_app)
    task_id = work.start("once", gates=gates.path, name="o")
    status = work.wait_state("once", task_id)
    assert status["state"] == "failed"
    assert status["message"] == ("once more please (not run again: the method declares no retries)")
    time.sleep(0.3)  # a re-run, were there one, would have begun
    assert [attempt for attempt, _, _ in gates.runs("o")] == [1]


def test_the_delay_before_each_run_doubles(make_app: suite.MakeApp, gates: Gates) -> None:
    work = retrying(make_app)
    task_id = work.start("patient", gates=gates.path, name="p", failures=2)
    wait_until(lambda: len(gates.runs("p")) >= 1, what="the first attempt")
    waiting = work.wait_state("patient", task_id, ("pending",))
    # the next re-run is announced while the task waits for it (attempt 2,
    # or 3 on a machine so slow that attempt 2 came and went meanwhile)
    announced = re.fullmatch(
        r"attempt (\d) of 3 starts in [\d.]+ s; attempt (\d): busy at attempt (\d)",
        waiting["message"],
    )
    assert announced is not None, waiting
    coming, ended, failed = map(int, announced.groups())
    assert coming in (2, 3) and ended == failed == coming - 1
    status = work.wait_state("patient", task_id)
    assert status["state"] == "succeeded", status
    assert work.result("patient", task_id) == "attempt 3"
    (_, _, t1), (_, _, t2), (_, _, t3) = gates.runs("p")
    # 0.25 s then 0.5 s (the redis backend rounds each up to whole seconds)
    assert t2 - t1 >= 0.25 and t3 - t2 >= 0.5, (t2 - t1, t3 - t2)


def test_the_waiting_message_says_when_the_re_run_starts(
    make_app: suite.MakeApp, gates: Gates, backend: suite.Backend
) -> None:
    work = retrying(make_app)
    task_id = work.start("brief", gates=gates.path, name="b")  # retry_delay 0.2
    wait_until(lambda: len(gates.runs("b")) >= 1, what="the first attempt")
    waiting = work.wait_state("brief", task_id, ("pending",))
    announced = re.fullmatch(
        r"attempt 2 of 2 starts in ([\d.]+) s; attempt 1: a brief pause", waiting["message"]
    )
    assert announced is not None, waiting
    status = work.wait_state("brief", task_id)
    assert (status["state"], status["message"]) == ("succeeded", "attempt 2 of 2")
    (_, _, t1), (_, _, t2) = gates.runs("b")
    waited, said = t2 - t1, float(announced.group(1))
    if backend.name == "redis":
        # RQ's scheduler keeps whole seconds and looks every second: it waits
        # the delay rounded up plus one, and runs the job within a second of it
        assert said == 2
        assert 0.2 <= waited and said - 1 <= waited <= said + 1.5, (said, waited)
    else:  # a timer of the process: the delay itself
        assert said == 0.2
        assert said <= waited <= said + 0.5, (said, waited)


def test_a_retry_may_give_its_own_delay(make_app: suite.MakeApp, gates: Gates) -> None:
    work = retrying(make_app)
    started = time.monotonic()
    task_id = work.start("impatient", gates=gates.path, name="i")
    status = work.wait_state("impatient", task_id)
    assert status["state"] == "succeeded"
    assert work.result("impatient", task_id) == "attempt 2"
    assert time.monotonic() - started < 30  # not the method's own minute


def test_a_task_waiting_to_run_again_can_be_cancelled(
    make_app: suite.MakeApp, gates: Gates, backend: suite.Backend
) -> None:
    work = retrying(make_app)
    task_id = work.start("sleepy", gates=gates.path, name="s")
    wait_until(lambda: len(gates.runs("s")) >= 1, what="the first attempt")
    status = work.wait_state("sleepy", task_id, ("pending",))
    wait = 31 if backend.name == "redis" else 30  # RQ: whole seconds, one more
    assert status["message"] == f"attempt 2 of 4 starts in {wait} s; attempt 1: come back later"
    cancelled = work.cancel("sleepy", task_id)
    assert (cancelled["state"], cancelled["message"]) == ("cancelled", "cancelled")
    assert work.progress("sleepy", task_id)["state"] == "cancelled"
    assert [attempt for attempt, _, _ in gates.runs("s")] == [1]


def test_a_first_attempt_shows_no_attempt_number(make_app: suite.MakeApp, gates: Gates) -> None:
    work = retrying(make_app)
    task_id = work.start("flaky", gates=gates.path, name="f", failures=0)
    status = work.wait_state("flaky", task_id)
    assert (status["state"], status["message"]) == ("succeeded", "working")


def test_attachments_are_read_again_by_the_next_attempt(make_app: suite.MakeApp) -> None:
    http = TestApp(make_app())
    boundary = "RetryBoundary"
    request = json.dumps({"methodname": "weigh_twice", "args": {"blob": "cid:f1"}}).encode()
    body = b"".join(
        [
            f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(),
            request,
            f"\r\n--{boundary}\r\nContent-ID: f1\r\n\r\n".encode(),
            b"hello again",
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
    answer = http.post(
        "/Retrying/jsonwsp", body, {"Content-Type": f"multipart/related; boundary={boundary}"}
    ).json
    task_id = answer["result"]["task_id"]
    work = Client(lambda path, data: http.post_json(path, data).json, "Retrying")
    assert work.wait_state("weigh_twice", task_id)["state"] == "succeeded"
    assert work.result("weigh_twice", task_id) == "attempt 2: 11:hello"


def test_a_task_past_its_max_runtime_is_not_run_again(
    make_app: suite.MakeApp, gates: Gates
) -> None:
    work = retrying(make_app)
    task_id = work.start("overrun", gates=gates.path, name="r")  # retries 2, max_runtime 0.5
    status = work.wait_state("overrun", task_id, timeout=20)
    assert (status["state"], status["message"]) == (
        "failed",
        "the task ran longer than its max_runtime of 0.5 s",
    )
    time.sleep(1.5)  # a re-run, were there one, would have begun
    assert [attempt for attempt, _, _ in gates.runs("r")] == [1]
