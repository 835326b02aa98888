"""Structured logs: one JSON object per line, a line per request with the
request id, service, interface, method, status, duration and principal;
never a credential (a Basic-auth call's password appears nowhere)."""

from __future__ import annotations

import base64
import json
import logging
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from tasks.backend_support import SERVICES_DIR
from tasks.backend_support import child_env
from tasks.backend_support import stop_process
from tasks.backend_support import wait_until
from werkzeug.test import Client

from ladon.observe import JSONFormatter

from .conftest import basic

PASSWORD = "root-pw"
SECRETS = (PASSWORD, base64.b64encode(f"root:{PASSWORD}".encode()).decode(), "s3cr3t-guess")


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JSONFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture()
def lines() -> Iterator[Lines]:
    handler = Lines()
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old)


def test_one_json_line_per_request_with_its_fields_and_no_credentials(lines: Lines) -> None:
    import ops_app

    app = ops_app.make_app(log_requests=True)
    client = Client(app)
    ok = client.post(
        "/Jobs/jsonwsp",
        json={"methodname": "add", "args": {"a": 1, "b": 2}},
        headers={**basic("root"), "X-Request-ID": "line-1"},
    )
    assert ok.status_code == 200
    client.post(
        "/Jobs/jsonwsp",
        json={"methodname": "add", "args": {"a": 1, "b": 2}},
        headers=basic("root", "s3cr3t-guess"),
    )
    client.post("/Jobs/jsonwsp", json={"methodname": "explode", "args": {}}, headers=basic("root"))
    client.post("/Jobs/soap11", data=b"<not xml", content_type="text/xml")
    client.get("/_ladon/health?token=abc").close()  # a streamed answer: logged at its close
    client.post(  # its argument refused: the call and its caller are known
        "/Jobs/jsonwsp",
        json={"methodname": "add", "args": {"a": "x", "b": 2}},
        headers=basic("root"),
    )
    records = [json.loads(line) for line in lines.lines]
    requests = [r for r in records if r["logger"] == "ladon.requests"]
    assert len(requests) == 6
    first = requests[0]
    assert first["request_id"] == "line-1"
    assert first["service"] == "Jobs" and first["interface"] == "jsonwsp"
    assert first["method"] == "add" and first["principal"] == "root"
    assert first["status"] == 200 and first["outcome"] == "ok"
    assert first["http_method"] == "POST" and first["path"] == "/Jobs/jsonwsp"
    assert 0 <= first["duration"] < 5
    assert set(first) >= {"time", "level", "logger", "message"}
    refused = requests[1]
    assert refused["status"] == 401 and refused["principal"] is None
    assert refused["outcome"] == "client_fault"
    exploded = requests[2]
    assert exploded["outcome"] == "server_fault" and exploded["principal"] == "root"
    error = next(r for r in records if r["level"] == "ERROR")
    assert error["request_id"] == exploded["request_id"]  # the error line names the request
    undecoded = requests[3]
    assert undecoded["service"] == "Jobs" and undecoded["method"] is None
    assert undecoded["outcome"] == "client_fault"
    assert requests[4]["path"] == "/_ladon/health" and "service" not in requests[4]
    refused_argument = requests[5]
    assert refused_argument["method"] == "add" and refused_argument["principal"] == "root"
    assert refused_argument["outcome"] == "client_fault"
    everything = "\n".join(lines.lines)
    for secret in SECRETS:
        assert secret not in everything
    assert "abc" not in everything  # no query string


def test_the_formatter_keeps_extras_and_exceptions() -> None:
    formatter = JSONFormatter()
    record = logging.LogRecord("ladon.x", logging.WARNING, __file__, 1, "hello %s", ("you",), None)
    record.order = 7
    data = json.loads(formatter.format(record))
    assert data["message"] == "hello you" and data["order"] == 7 and data["level"] == "WARNING"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", data["time"])
    try:
        raise ValueError("bad")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "m", (), sys.exc_info())
    assert "ValueError: bad" in json.loads(formatter.format(record))["exception"]


@pytest.mark.e2e
def test_ladon_serve_log_format_json(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ladon.cli",
                "serve",
                str(SERVICES_DIR / "ops_app.py"),
                "--port",
                "0",
                "--log-format",
                "json",
            ],
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=out,
            stdin=subprocess.DEVNULL,
        )
    try:
        assert proc.stdout is not None
        url = ""
        while not url:
            line = proc.stdout.readline().decode()
            assert line, log.read_text()
            found = re.search(r"Open (http://\S+/)", line)
            url = found.group(1) if found else ""
        request = urllib.request.Request(
            url + "Jobs/jsonwsp",
            json.dumps({"methodname": "add", "args": {"a": 2, "b": 2}}).encode(),
            {"Content-Type": "application/json", **basic("root"), "X-Request-ID": "serve-1"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.load(response)["result"] == 4
            assert response.headers["X-Request-ID"] == "serve-1"

        def logged() -> bool:
            return "serve-1" in log.read_text()

        wait_until(logged, 10.0, "the request's log line")
    finally:
        stop_process(proc)
        if proc.stdout is not None:
            proc.stdout.close()
    text = log.read_text()
    records = [json.loads(line) for line in text.splitlines() if line.strip()]  # all JSON
    request_line = next(r for r in records if r.get("request_id") == "serve-1")
    assert request_line["logger"] == "ladon.requests"
    assert request_line["method"] == "add" and request_line["status"] == 200
    for secret in SECRETS:
        assert secret not in text


#: The logging configuration docs/operations.rst gives for gunicorn.
GUNICORN_CONF = """
logconfig_dict = {
    "version": 1,
    "filters": {"request_id": {"()": "ladon.observe.RequestIdFilter"}},
    "formatters": {"json": {"()": "ladon.observe.JSONFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json",
                            "filters": ["request_id"]}},
    "root": {"handlers": ["stderr"], "level": "INFO"},
    "loggers": {"ladon": {"handlers": ["stderr"], "level": "INFO", "propagate": False}},
}
"""


@pytest.mark.e2e
def test_the_documented_gunicorn_configuration(tmp_path: Path) -> None:
    from tasks.backend_support import free_port

    conf = tmp_path / "gunicorn.conf.py"
    conf.write_text(GUNICORN_CONF)
    log = tmp_path / "gunicorn.log"
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                str(conf),
                "-b",
                f"127.0.0.1:{port}",
                "--no-control-socket",
                "ops_app:logged",
            ],
            cwd=str(SERVICES_DIR),
            env=child_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        url = f"http://127.0.0.1:{port}/Jobs/jsonwsp"

        def call() -> bool:
            request = urllib.request.Request(
                url,
                json.dumps({"methodname": "explode", "args": {}}).encode(),
                {"Content-Type": "application/json", **basic("root"), "X-Request-ID": "g-1"},
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    return bool(response.status == 200)
            except OSError:
                return False

        wait_until(call, 30.0, "gunicorn answering")
        wait_until(lambda: '"logger": "ladon.requests"' in log.read_text(), 10.0, "the line")
    finally:
        stop_process(proc)
    lines = [line for line in log.read_text().splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    request_line = next(r for r in records if r["logger"] == "ladon.requests")
    assert request_line["request_id"] == "g-1"
    assert request_line["principal"] == "root" and request_line["outcome"] == "server_fault"
    error = next(r for r in records if r["level"] == "ERROR")
    assert error["request_id"] == "g-1" and "the secret state" in error["exception"]
    for secret in SECRETS:
        assert secret not in log.read_text()
