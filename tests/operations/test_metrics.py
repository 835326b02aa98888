"""``/_ladon/metrics``: calls counted by service, interface, method and
outcome, latencies, sizes, tasks (started, finished, durations, the
store's gauges), read with prometheus-client's parser; access through the
application's authentication, or a separate app; exact under a real
``gunicorn -w 4`` in prometheus-client's multi-process mode."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tasks.backend_support import SERVICES_DIR
from tasks.backend_support import child_env
from tasks.backend_support import free_port
from tasks.backend_support import pid_alive
from tasks.backend_support import stop_process
from tasks.backend_support import wait_until
from werkzeug.test import Client

from ladon import metrics_app
from ladon.observe import callback_delivered
from ladon.observe import waiters_changed
from ladon.server.wsgi import LadonWSGIApplication

from .conftest import basic
from .conftest import families
from .conftest import sample

ADMIN = basic("root")


@pytest.fixture(scope="module")
def app() -> Iterator[LadonWSGIApplication]:
    import ops_app

    application = ops_app.make_app(tasks="thread://")
    yield application
    application.close()


def scrape(app: Any, headers: dict[str, str] | None = None) -> str:
    response = Client(app).get("/_ladon/metrics", headers=headers or ADMIN)
    assert response.status_code == 200, response.get_data()
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return response.get_data(as_text=True)


def jsonwsp(client: Client, method: str, **args: Any) -> Any:
    return client.post("/Jobs/jsonwsp", json={"methodname": method, "args": args}).get_json()


def calls(text: str, method: str, outcome: str, iface: str = "jsonwsp") -> float:
    return sample(
        text,
        "ladon_calls_total",
        service="Jobs",
        interface=iface,
        method=method,
        outcome=outcome,
    )


def _jobs_jsonwsp(labels: dict[str, str]) -> bool:
    """A sample of this module's service through JSON-WSP (the metrics are
    the process's: other tests' services may have an ``add`` too)."""
    return labels["service"] == "Jobs" and labels["interface"] == "jsonwsp"


def test_calls_are_counted_exactly_by_method_and_outcome(app: LadonWSGIApplication) -> None:
    client = Client(app)
    before = scrape(app)
    for n in range(7):
        assert jsonwsp(client, "add", a=n, b=1)["result"] == n + 1
    jsonwsp(client, "add", a="x", b=1)  # its argument refused: counted under "add"
    jsonwsp(client, "explode")  # a server fault
    jsonwsp(client, "misreport")  # a server fault found while the answer is written
    client.post("/Jobs/jsonwsp", data=b"{oops", content_type="application/json")
    client.post(
        "/Jobs/jsonrpc", json={"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": 1}
    )
    after = scrape(app)
    delta = {
        (m, o, i): calls(after, m, o, i) - calls(before, m, o, i)
        for m in ("add", "explode", "misreport", "-")
        for o in ("ok", "client_fault", "server_fault")
        for i in ("jsonwsp", "jsonrpc")
    }
    assert {k: v for k, v in delta.items() if v} == {
        ("add", "ok", "jsonwsp"): 7,
        ("add", "client_fault", "jsonwsp"): 1,
        ("explode", "server_fault", "jsonwsp"): 1,
        ("misreport", "server_fault", "jsonwsp"): 1,
        ("-", "client_fault", "jsonwsp"): 1,  # not JSON: no method known
        ("add", "ok", "jsonrpc"): 1,
    }
    found = families(after)
    latency = found["ladon_call_duration_seconds"]
    counts = {
        s.labels["method"]: s.value
        for s in latency.samples
        if s.name.endswith("_count") and _jobs_jsonwsp(s.labels)
    }
    old = {
        s.labels["method"]: s.value
        for s in families(before)["ladon_call_duration_seconds"].samples
        if s.name.endswith("_count") and _jobs_jsonwsp(s.labels)
    }
    # every call is timed, the refused ones too
    assert counts["add"] - old.get("add", 0) == 8
    assert counts["-"] - old.get("-", 0) == 1
    sizes = sample(after, "ladon_request_size_bytes_count", service="Jobs", interface="jsonwsp")
    assert (
        sizes
        - sample(before, "ladon_request_size_bytes_count", service="Jobs", interface="jsonwsp")
        == 11
    )
    assert "ladon_response_size_bytes" in found


def test_tasks_are_counted_where_they_run_and_the_store_is_read(
    app: LadonWSGIApplication,
) -> None:
    from tasks.backend_support import Client as TaskClient
    from tasks.backend_support import in_process

    jobs = TaskClient(in_process(app), "Jobs")
    before = scrape(app)
    for _ in range(3):
        assert jobs.run("crawl", steps=2, pause=0.01) == 2
    failed = jobs.start("boom", reason="disk full")
    assert jobs.wait_state("boom", failed)["state"] == "failed"
    after = scrape(app)

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta("ladon_tasks_started_total", task="Jobs.crawl") == 3
    assert delta("ladon_tasks_started_total", task="Jobs.boom") == 1
    assert delta("ladon_tasks_finished_total", task="Jobs.crawl", state="succeeded") == 3
    assert delta("ladon_tasks_finished_total", task="Jobs.boom", state="failed") == 1
    assert delta("ladon_task_duration_seconds_count", task="Jobs.crawl", state="succeeded") == 3
    assert delta("ladon_task_duration_seconds_sum", task="Jobs.crawl", state="succeeded") >= 0.06
    assert sample(after, "ladon_task_store_up", backend="thread") == 1
    assert sample(after, "ladon_tasks", backend="thread", state="succeeded") >= 3
    assert sample(after, "ladon_tasks", backend="thread", state="failed") >= 1
    assert sample(after, "ladon_tasks_running", backend="thread") == 0
    assert sample(after, "ladon_task_queue_depth", backend="thread") == 0


@pytest.mark.parametrize("fail", ["", "error", "retry"], ids=["returns", "raises", "retries"])
def test_a_cancelled_task_is_counted_cancelled_however_its_job_ends(
    app: LadonWSGIApplication, fail: str
) -> None:
    """A job that looks at ``task.cancelled`` and then returns (or raises)
    ends cancelled, and its attempt is counted so, not as succeeded (or
    failed)."""
    from tasks.backend_support import Client as TaskClient
    from tasks.backend_support import in_process

    jobs = TaskClient(in_process(app), "Jobs")
    before = scrape(app)
    task_id = jobs.start("heed", fail=fail)
    jobs.wait_state("heed", task_id, ("running",))  # a pending one would never run
    jobs.cancel("heed", task_id)
    assert jobs.wait_state("heed", task_id)["state"] == "cancelled"
    after = scrape(app)

    def delta(state: str) -> float:
        name, labels = "ladon_tasks_finished_total", {"task": "Jobs.heed", "state": state}
        return sample(after, name, **labels) - sample(before, name, **labels)

    states = ("cancelled", "succeeded", "failed", "retried")
    assert tuple(delta(state) for state in states) == (1, 0, 0, 0)


def test_waiters_and_callback_deliveries_have_their_recording_api(
    app: LadonWSGIApplication,
) -> None:
    before = scrape(app)
    waiters_changed(+1)
    waiters_changed(+1)
    waiters_changed(-1)
    callback_delivered("delivered")
    callback_delivered("retried")
    callback_delivered("retried")
    callback_delivered("failed")
    with pytest.raises(ValueError, match="unknown callback outcome"):
        callback_delivered("lost")  # type: ignore[arg-type]
    after = scrape(app)
    assert sample(after, "ladon_task_waiters") - sample(before, "ladon_task_waiters") == 1
    for outcome, n in (("delivered", 1), ("retried", 2), ("failed", 1), ("refused", 0)):
        name = "ladon_task_callbacks_total"
        assert sample(after, name, outcome=outcome) - sample(before, name, outcome=outcome) == n
    waiters_changed(-1)


def test_waiting_calls_retried_attempts_and_callbacks_are_counted() -> None:
    """The production-task calls of issue 14 feed the metrics: a waiting
    ``_wait`` call, an attempt that raised Retry, a callback tried twice."""
    import ops_app
    from tasks.receiver import SECRET
    from tasks.receiver import Receiver

    receiver = Receiver()
    app = ops_app.make_app(
        tasks="thread://?max_workers=4",
        callback_hosts=["127.0.0.1"],
        callback_networks=["127.0.0.1/32"],
        callback_secret=SECRET,
        callback_backoff=0.01,
    )
    try:
        client = Client(app)
        before = scrape(app)
        receiver.answer(503)  # the first try fails, the second delivers
        started = client.post(
            "/Jobs/jsonwsp",
            json={"methodname": "crawl", "args": {"steps": 40, "pause": 0.05}},
            headers={"Ladon-Callback-URL": receiver.url("/done")},
        ).get_json()["result"]["task_id"]
        answers: list[Any] = []
        waiter = threading.Thread(
            target=lambda: answers.append(
                jsonwsp(client, "crawl_wait", task_id=started, timeout=20)
            )
        )
        waiter.start()
        wait_until(
            lambda: (
                sample(scrape(app), "ladon_task_waiters") - sample(before, "ladon_task_waiters")
                == 1
            ),
            10,
            "the wait call counted while it waits",
        )
        waiter.join(20)
        assert answers[0]["result"]["state"] == "succeeded"
        retried = jsonwsp(client, "flaky", succeed_on=2)["result"]["task_id"]
        assert jsonwsp(client, "flaky_wait", task_id=retried, timeout=10)["result"]["state"] == (
            "succeeded"
        )
        receiver.received(2, path="/done")
        name = "ladon_task_callbacks_total"
        wait_until(
            lambda: (
                sample(scrape(app), name, outcome="delivered")
                - sample(before, name, outcome="delivered")
                == 1
            ),
            10,
            "the delivery counted",
        )
        after = scrape(app)
        assert sample(after, "ladon_task_waiters") == sample(before, "ladon_task_waiters")
        assert sample(after, name, outcome="retried") - sample(before, name, outcome="retried") == 1
        finished = "ladon_tasks_finished_total"
        for state, n in (("retried", 1), ("succeeded", 1)):
            got = sample(after, finished, task="Jobs.flaky", state=state)
            assert got - sample(before, finished, task="Jobs.flaky", state=state) == n, state
    finally:
        app.close()
        receiver.stop()


def test_metrics_follow_the_applications_authentication(app: LadonWSGIApplication) -> None:
    client = Client(app)
    anonymous = client.get("/_ladon/metrics")
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic")
    assert client.get("/_ladon/metrics", headers=basic("alice")).status_code == 403
    wrong = client.get("/_ladon/metrics", headers=basic("root", "nope"))
    assert wrong.status_code == 401
    assert b"nope" not in wrong.get_data()
    assert client.get("/_ladon/metrics", headers=ADMIN).status_code == 200


def test_metrics_of_an_app_without_auth_are_open_unless_told() -> None:
    open_app = LadonWSGIApplication(["legacy_shapes"])
    assert Client(open_app).get("/_ladon/metrics").status_code == 200
    import ops_app

    public = ops_app.make_app(metrics_access="anonymous")
    assert Client(public).get("/_ladon/metrics").status_code == 200


def test_metrics_app_serves_them_on_an_address_of_its_own(app: LadonWSGIApplication) -> None:
    separate = Client(metrics_app(app))
    response = separate.get("/")
    assert response.status_code == 200
    assert "ladon_calls_total" in response.get_data(as_text=True)
    assert separate.get("/anything").status_code == 200


def test_a_scrape_skips_the_empty_file_of_a_process_killed_as_it_began(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """prometheus-client creates a process's file before it sizes it: one
    killed in between leaves 0 bytes for good, which its collector cannot
    read (every scrape failed). The files of the other processes count."""
    from ladon.observe import metrics as metrics_mod

    folder = tmp_path / "prometheus"
    folder.mkdir()
    writer = "from prometheus_client import Counter\nCounter('ladon_probe', 'a probe').inc(3)\n"
    subprocess.run(
        [sys.executable, "-c", writer],
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)},
        check=True,
    )
    (folder / "counter_4194301.db").write_bytes(b"")  # killed as it began
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    body, _ = metrics_mod.exposition()
    assert sample(body.decode(), "ladon_probe_total") == 3


def test_metrics_off() -> None:
    import ops_app

    off = ops_app.make_app(metrics=False)
    assert not any(type(s).__name__ == "MetricsStep" for s in off.dispatcher.steps)
    response = Client(off).get("/_ladon/metrics", headers=ADMIN)
    assert response.status_code == 404


# -- gunicorn -w 4, multi-process mode ---------------------------------------------------

#: A process that dies with a ``_wait`` in flight (its live gauge file says
#: 1), having started a task (a counter, which outlives it).
DIES_WAITING = """
import os
from ladon.observe import metrics
metrics.enable()
metrics.waiters_changed(1)
metrics.task_started("Jobs.gone")
print(os.getpid())
os._exit(0)
"""
#: A new process of the application: its scrape of every process's files.
SCRAPES = """
import sys
from werkzeug.test import Client
import ops_app
sys.stdout.write(Client(ops_app.app).get("/_ladon/metrics", headers={headers!r}).get_data(True))
"""


def test_a_starting_process_forgets_the_live_gauges_of_dead_processes(tmp_path: Path) -> None:
    """mod_wsgi has no hook to call ``mark_process_dead`` from: a daemon
    process killed with a ``_wait`` in flight would count as a waiter for
    good. A process that sets up its metrics removes the live-gauge files
    of the processes gone from this host."""
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = child_env(PROMETHEUS_MULTIPROC_DIR=str(folder))
    dead = subprocess.run(
        [sys.executable, "-c", DIES_WAITING], env=env, capture_output=True, check=True
    )
    pid = int(dead.stdout)
    assert (folder / f"gauge_livesum_{pid}.db").exists()
    assert not pid_alive(pid)
    scraped = subprocess.run(
        [sys.executable, "-c", SCRAPES.format(headers=ADMIN)],
        env=env,
        capture_output=True,
        check=True,
        cwd=str(SERVICES_DIR),
    )
    text = scraped.stdout.decode()
    assert "ladon_task_waiters" in text, scraped.stderr.decode()[-2000:]
    assert sample(text, "ladon_task_waiters") == 0.0
    assert not (folder / f"gauge_livesum_{pid}.db").exists()
    # what the dead process counted is still counted
    assert sample(text, "ladon_tasks_started_total", task="Jobs.gone") == 1.0


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    tmp = tmp_path_factory.mktemp("metrics")
    folder = tmp / "prometheus"
    folder.mkdir()
    port = free_port()
    log = open(tmp / "gunicorn.log", "wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "4",
            "--bind",
            f"127.0.0.1:{port}",
            "--no-control-socket",
            "ops_app:app",
        ],
        cwd=str(SERVICES_DIR),
        env=child_env(
            PROMETHEUS_MULTIPROC_DIR=str(folder), LADON_TASKS=f"sqlite://{tmp / 'tasks.db'}"
        ),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def workers() -> int:
        path = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
        return len(path.read_text().split()) if path.exists() else 0

    def up() -> bool:
        assert proc.poll() is None, (tmp / "gunicorn.log").read_text()[-2000:]
        try:
            request(port, "GET", "/_ladon/health")
        except OSError:
            return False
        return workers() == 4

    try:
        wait_until(up, 30.0, "gunicorn -w 4 serving")
        yield port
    finally:
        stop_process(proc)
        log.close()


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body, {"Connection": "close", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.mark.e2e
def test_counts_are_exact_under_gunicorn_with_four_workers(gunicorn: int) -> None:
    port = gunicorn
    body = json.dumps({"methodname": "add", "args": {"a": 1, "b": 2}}).encode()
    for _ in range(120):  # fresh connections: spread over the workers
        status, answer = request(
            port, "POST", "/Jobs/jsonwsp", body, {"Content-Type": "application/json"}
        )
        assert status == 200 and b'"result": 3' in answer
    for _ in range(20):
        request(port, "POST", "/Jobs/jsonwsp", b"{", {"Content-Type": "application/json"})
    # several scrapes, landing on different workers, all see every process
    for _ in range(6):
        status, text = request(port, "GET", "/_ladon/metrics", headers=ADMIN)
        assert status == 200
        metrics = text.decode()
        assert calls(metrics, "add", "ok") == 120
        assert calls(metrics, "-", "client_fault") == 20
    # tasks: started on any worker, counted once, the store's gauges exact
    starts = [
        request(
            port,
            "POST",
            "/Jobs/jsonwsp",
            json.dumps({"methodname": "crawl", "args": {"steps": 1, "pause": 0.0}}).encode(),
            {"Content-Type": "application/json"},
        )
        for _ in range(8)
    ]
    assert all(status == 200 for status, _ in starts)

    def all_done() -> bool:
        text = request(port, "GET", "/_ladon/metrics", headers=ADMIN)[1].decode()
        return sample(text, "ladon_tasks", backend="sqlite", state="succeeded") == 8

    wait_until(all_done, 20.0, "8 tasks succeeded")
    final = request(port, "GET", "/_ladon/metrics", headers=ADMIN)[1].decode()
    assert sample(final, "ladon_tasks_started_total", task="Jobs.crawl") == 8
    assert sample(final, "ladon_tasks_finished_total", task="Jobs.crawl", state="succeeded") == 8
    assert sample(final, "ladon_task_store_up", backend="sqlite") == 1


@pytest.mark.e2e
def test_an_rq_worker_serves_the_metrics_of_its_work_horses(tmp_path: Path) -> None:
    import urllib.request

    import ops_app
    from tasks.backend_support import Client as TaskClient
    from tasks.backend_support import RedisServer
    from tasks.backend_support import in_process

    redis = RedisServer()
    url = redis.url(queue="metrics", prefix="metrics:")
    app = ops_app.make_app(tasks=url)
    port = free_port()
    # what workers killed without their exit handlers left (SIGKILL): the
    # directory of a pid that ended goes, that of a running one stays
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = tmp_path / f"ladon-worker-metrics-{gone.stdout.strip()}-left"
    alive = tmp_path / f"ladon-worker-metrics-{os.getpid()}-live"
    for folder_left in (dead, alive):
        folder_left.mkdir()
        (folder_left / "counter_1.db").write_bytes(b"x")
    log = open(tmp_path / "worker.log", "wb")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ladon.cli",
            "worker",
            "ops_app:app",
            "--url",
            url,
            "--metrics-port",
            str(port),
        ],
        env={**child_env(), "TMPDIR": str(tmp_path)},
        cwd=str(SERVICES_DIR),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        jobs = TaskClient(in_process(app), "Jobs")
        for n in (1, 2, 3):
            assert jobs.run("crawl", steps=n, pause=0.01) == n
        failed = jobs.start("boom", reason="no ink")
        assert jobs.wait_state("boom", failed)["state"] == "failed"

        def scraped() -> str:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                return str(response.read().decode())

        def counted() -> bool:
            text = scraped()
            return (
                sample(text, "ladon_tasks_finished_total", task="Jobs.crawl", state="succeeded")
                == 3
            )

        wait_until(counted, 10.0, "the worker's metrics")
        assert not dead.exists() and alive.exists()
        text = scraped()
        assert sample(text, "ladon_tasks_finished_total", task="Jobs.boom", state="failed") == 1
        assert (
            sample(text, "ladon_task_duration_seconds_count", task="Jobs.crawl", state="succeeded")
            == 3
        )
        # the web side counted the starts, the store's gauges see the four tasks
        web = scrape(app)
        assert sample(web, "ladon_task_store_up", backend="redis") == 1
        assert sample(web, "ladon_tasks", backend="redis", state="succeeded") == 3
        assert sample(web, "ladon_tasks", backend="redis", state="failed") == 1
        assert sample(web, "ladon_task_workers", backend="redis") == 1
        # the directory of its work horses' metrics goes with the worker
        stop_process(worker)
        said = (tmp_path / "worker.log").read_text()
        assert "(from " in said, said[-2000:]
        folder = said.split("(from ", 1)[1].split(")", 1)[0]
        assert folder and not os.path.exists(folder), folder
    finally:
        stop_process(worker)
        log.close()
        app.close()
        redis.stop()
