"""``ladon serve`` and Ladon 1.0's ``ladon-ctl testserve`` as real
subprocesses: they print the URL, serve it, reload on change, stop on a
signal."""

from __future__ import annotations

import http.client
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import EXAMPLES
from .conftest import Process
from .conftest import free_port

pytestmark = pytest.mark.e2e

URL = r"Open (http://127\.0\.0\.1:(\d+)/)"


def _script(name: str) -> str:
    found = Path(sys.executable).with_name(name)
    if not found.exists():
        pytest.fail(f"the {name} command is missing: pip install -e '.[test]'", pytrace=False)
    return str(found)


def _add(base: str, a: int, b: int) -> object:
    body = json.dumps({"methodname": "add", "args": {"a": a, "b": b}}).encode()
    request = urllib.request.Request(
        base + "Calculator/jsonwsp", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.load(resp)["result"]


def test_serve_prints_the_url_serves_it_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    server = Process([_script("ladon"), "serve", str(EXAMPLES), "--port", "0"], tmp_path)
    try:
        url = server.wait_for(URL).group(1)
        assert "not for production" in server.output()
        assert "Calculator" in server.output() and "InstanceService" in server.output()
        assert _add(url, 2, 3) == 5
        with urllib.request.urlopen(url, timeout=10) as resp:
            assert b"InstanceService" in resp.read()
        server.popen.send_signal(signal.SIGINT)
        assert server.popen.wait(15) == 0
    finally:
        server.stop()


def test_serve_resolves_module_names_from_the_current_directory(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "calculator.py", tmp_path / "calculator.py")
    port = free_port()
    server = Process(
        [_script("ladon"), "serve", "calculator", "--port", str(port), "--tasks", "thread://"],
        tmp_path,
    )
    try:
        url = server.wait_for(URL).group(1)
        assert url == f"http://127.0.0.1:{port}/"
        assert _add(url, 20, 22) == 42
    finally:
        server.stop()


def _jsonwsp_url(base: str, headers: dict[str, str] | None = None) -> str:
    request = urllib.request.Request(base + "Calculator/jsonwsp/description", headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as resp:
        url: str = json.load(resp)["url"]
        return url


def test_serve_on_every_address_publishes_the_url_the_client_reached(tmp_path: Path) -> None:
    # --host 0.0.0.0 listens on every address; descriptions must not say
    # http://0.0.0.0:port/..., which no remote client can reach
    server = Process(
        [_script("ladon"), "serve", str(EXAMPLES), "--host", "0.0.0.0", "--port", "0"], tmp_path
    )
    try:
        url = server.wait_for(URL).group(1)
        port = server.wait_for(URL).group(2)
        assert _jsonwsp_url(url) == f"http://127.0.0.1:{port}/Calculator/jsonwsp"
        named = _jsonwsp_url(url, {"Host": f"svc.example:{port}"})
        assert named == f"http://svc.example:{port}/Calculator/jsonwsp"
    finally:
        server.stop()


def test_serve_base_url_and_trust_proxy_options(tmp_path: Path) -> None:
    fixed = Process(
        [
            _script("ladon"),
            "serve",
            str(EXAMPLES),
            "--port",
            "0",
            "--base-url",
            "https://api.example/v1",
        ],
        tmp_path,
    )
    try:
        url = fixed.wait_for(URL).group(1)
        forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
        assert _jsonwsp_url(url, forged) == "https://api.example/v1/Calculator/jsonwsp"
    finally:
        fixed.stop()
    proxied = Process(
        [_script("ladon"), "serve", str(EXAMPLES), "--port", "0", "--trust-proxy"], tmp_path
    )
    try:
        url = proxied.wait_for(URL).group(1)
        forwarded = {
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "public.example",
            "X-Forwarded-Prefix": "/gw",
        }
        assert _jsonwsp_url(url, forwarded) == "https://public.example/gw/Calculator/jsonwsp"
    finally:
        proxied.stop()


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--base-url", "api.example/v1", "expected the public URL of the application"),
        *(
            ("--max-wait", v, "expected seconds from 0 to 3600")
            for v in ("-1", "soon", "nan", "1e9")
        ),
    ],
)
def test_serve_refuses_an_option_value_it_cannot_use(option: str, value: str, said: str) -> None:
    """A base URL that is not one, a --max-wait that is no number of seconds."""
    done = subprocess.run(
        [_script("ladon"), "serve", str(EXAMPLES), option, value],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert said in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_reloads_a_changed_service(tmp_path: Path) -> None:
    service = tmp_path / "calculator.py"
    shutil.copy(EXAMPLES / "calculator.py", service)
    server = Process([_script("ladon"), "serve", str(service), "--port", "0", "--reload"], tmp_path)
    try:
        url = server.wait_for(URL).group(1)
        assert not url.endswith(":0/")  # --port 0 picks a real port once
        deadline = time.monotonic() + 15
        while True:
            try:
                assert _add(url, 2, 3) == 5
                break
            except OSError:
                assert time.monotonic() < deadline, server.output()
                time.sleep(0.1)
        time.sleep(1.1)  # the stat reloader compares modification times
        service.write_text(service.read_text().replace("return a + b\n", "return a + b + 100\n"))
        deadline = time.monotonic() + 15
        while True:
            try:
                if _add(url, 2, 3) == 105:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.1)
        assert "reloading" in server.output()
    finally:
        server.stop()


def _until(check: Callable[[], bool], server: Process, timeout: float = 20.0) -> None:
    """Poll ``check`` (connection errors count as not yet) until it holds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except (OSError, ValueError, http.client.HTTPException):
            pass  # refused or cut off while restarting, or a 500
        assert server.popen.poll() is None, f"the server exited:\n{server.output()}"
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.1)


def _get(url: str) -> tuple[int, str, str]:
    """Status, content type and text of a GET, HTTP errors included."""
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read().decode()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.headers["Content-Type"], exc.read().decode()


def test_serve_reload_survives_a_syntax_error_and_serves_again_when_fixed(
    tmp_path: Path,
) -> None:
    service = tmp_path / "calculator.py"
    shutil.copy(EXAMPLES / "calculator.py", service)
    good = service.read_text()
    server = Process([_script("ladon"), "serve", str(service), "--port", "0", "--reload"], tmp_path)
    try:
        url = server.wait_for(URL).group(1)
        _until(lambda: _add(url, 2, 3) == 5, server)
        time.sleep(1.1)  # the stat reloader compares modification times
        service.write_text(good.replace("return a + b\n", "return a + b +\n"))

        # the server reports the error and keeps serving it, on every URL
        _until(lambda: _get(url + "Calculator")[0] == 500, server)
        status, content_type, text = _get(url + "Calculator/jsonwsp/description")
        assert status == 500 and content_type.startswith("text/plain")
        assert "cannot load the services" in text
        assert f'File "{service}", line' in text
        assert "return a + b +" in text and "SyntaxError" in text
        assert "Traceback" not in text and "registry.py" not in text  # the error line only
        server.wait_for(r"cannot load the services[^\n]*:\n  File .*calculator\.py")
        assert "Traceback" not in server.output()

        time.sleep(1.1)
        service.write_text(good.replace("return a + b\n", "return a + b + 100\n"))
        _until(lambda: _add(url, 2, 3) == 105, server)
        assert _get(url + "Calculator")[0] == 200
    finally:
        server.stop()


def test_serve_reports_a_syntax_error_at_start_without_a_traceback(tmp_path: Path) -> None:
    service = tmp_path / "calculator.py"
    service.write_text("from ladon import ladonize\n\nclass Calculator:\n    def add(self, a, b)\n")
    for reload in ([], ["--reload"]):
        server = Process(
            [_script("ladon"), "serve", str(service), "--port", "0", *reload], tmp_path
        )
        try:
            assert server.popen.wait(30) == 2
            output = server.output()
            assert f'cannot load the services:\n  File "{service}", line 4\n' in output
            assert "def add(self, a, b)" in output and "SyntaxError" in output
            assert "Traceback" not in output
        finally:
            server.stop()


def _refused(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command that must stop at once, with exit status 2 and no
    traceback (one that serves instead is stopped, its process group too)."""
    argv = (_script(argv[0]), *argv[1:])
    with subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=cwd,
        start_new_session=True,
    ) as popen:
        try:
            out, err = popen.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(popen.pid, signal.SIGKILL)
            out, err = popen.communicate()
    done = subprocess.CompletedProcess(argv, popen.returncode, out, err)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "Serving" not in done.stdout
    return done


@pytest.mark.parametrize(
    ("last_line", "said"),
    [
        ("x = undefined_name", "NameError: name 'undefined_name' is not defined"),
        ('raise MyError("boom")', "MyError: boom"),
    ],
    ids=["name-error", "raise"],
)
@pytest.mark.parametrize(
    "command",
    [
        ["ladon", "serve", "--port", "0"],
        ["ladon", "serve", "--port", "0", "--reload"],
        ["ladon-ctl", "testserve", "-p", "0"],
    ],
    ids=["serve", "reload", "testserve"],
)
def test_serve_reports_a_runtime_error_at_import_without_a_traceback(
    tmp_path: Path, last_line: str, said: str, command: list[str]
) -> None:
    """Any exception the service module raises while it is imported stops
    the command as a syntax error does: its place and its line, exit 2."""
    service = tmp_path / "calculator.py"
    shutil.copy(EXAMPLES / "calculator.py", service)
    with service.open("a") as f:
        f.write(f"\n\nclass MyError(Exception):\n    pass\n\n\n{last_line}\n")
    line = len(service.read_text().splitlines())
    done = _refused(*command, str(service), cwd=tmp_path)
    assert f'cannot load the services:\n  File "{service}", line {line}, in <module>\n' in (
        done.stderr
    )
    assert last_line in done.stderr and said in done.stderr
    assert "importlib" not in done.stderr


@pytest.mark.parametrize("value", ["-5", "65536", "http"])
def test_every_port_option_takes_0_to_65535_only(value: str) -> None:
    calculator = str(EXAMPLES / "calculator.py")
    for argv in (
        ("ladon", "serve", "--port", value, calculator),
        ("ladon", "serve", "--reload", "--port", value, calculator),
        ("ladon-ctl", "testserve", "-p", value, calculator),
    ):
        done = _refused(*argv)
        assert f"expected a port number from 0 to 65535, not {value!r}" in done.stderr


@pytest.mark.parametrize("reload", [[], ["--reload"]], ids=["plain", "reload"])
def test_serve_names_the_host_it_cannot_resolve_or_listen_on(reload: list[str]) -> None:
    calculator = str(EXAMPLES / "calculator.py")
    done = _refused("ladon", "serve", *reload, "--host", "256.1.1.1", calculator)
    assert "--host '256.1.1.1': cannot resolve this name or address" in done.stderr
    # an address of another machine (TEST-NET-1, RFC 5737)
    done = _refused("ladon", "serve", *reload, "--host", "192.0.2.1", "--port", "0", calculator)
    assert "--host '192.0.2.1': cannot listen on this address" in done.stderr


def test_serve_names_the_port_in_use() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _refused("ladon", "serve", "--port", str(port), str(EXAMPLES / "calculator.py"))
    assert f"--port {port}: in use on 127.0.0.1" in done.stderr


def test_serve_refuses_targets_without_a_service(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "noservice.py").write_text("x = 1\n")
    for target in ("empty", "noservice.py"):
        done = _refused("ladon", "serve", "--port", "0", target, cwd=tmp_path)
        assert f"ladon: no service found in {target}: " in done.stderr
    done = _refused("ladon-ctl", "testserve", "-p", "0", "noservice.py", cwd=tmp_path)
    assert "no service found in noservice.py" in done.stderr


def test_serve_checks_the_tasks_url_without_task_methods(tmp_path: Path) -> None:
    """calculator.py has no task method: the --tasks URL is checked all the same."""
    calculator = str(EXAMPLES / "calculator.py")
    done = _refused("ladon", "serve", "--port", "0", "--tasks", "bogus://x", calculator)
    assert "ladon: --tasks: unsupported task backend scheme 'bogus'" in done.stderr
    done = _refused(
        "ladon", "serve", "--port", "0", "--tasks", "thread://?max_workers=x", calculator
    )
    assert "max_workers must be an integer" in done.stderr


@pytest.mark.parametrize("reload", [False, True], ids=["plain", "reload"])
def test_serve_log_has_no_colour_codes_when_not_on_a_terminal(tmp_path: Path, reload: bool) -> None:
    server = Process(
        [
            _script("ladon"),
            "serve",
            str(EXAMPLES),
            "--port",
            "0",
            *(["--reload"] if reload else []),
        ],
        tmp_path,
    )
    try:
        url = server.wait_for(URL).group(1)
        _until(lambda: _add(url, 1, 1) == 2, server)
        # werkzeug colours 404 (yellow), other 4xx (red) and 5xx lines on a terminal
        for path in ("nowhere", "Calculator/jsonwsp", "_ladon/static/ladon.css"):
            _get(url + path)
        server.wait_for(r'"GET /nowhere HTTP/1\.1" 404')
        server.wait_for(r'"GET /Calculator/jsonwsp HTTP/1\.1" 405')
        assert "\x1b" not in server.output()
    finally:
        server.stop()


def test_serve_keeps_colours_on_a_terminal(tmp_path: Path) -> None:
    primary, secondary = os.openpty()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    popen = subprocess.Popen(
        [_script("ladon"), "serve", str(EXAMPLES / "calculator.py"), "--port", "0"],
        stdin=subprocess.DEVNULL,
        stdout=secondary,
        stderr=secondary,
        cwd=tmp_path,
        env=env,
        start_new_session=True,
    )
    os.close(secondary)
    seen = b""

    def read_until(pattern: bytes) -> re.Match[bytes]:
        nonlocal seen
        deadline = time.monotonic() + 20
        while not (found := re.search(pattern, seen)):
            assert time.monotonic() < deadline, seen.decode(errors="replace")
            if select.select([primary], [], [], 0.2)[0]:
                seen += os.read(primary, 65536)
        return found

    try:
        url = read_until(rb"Open (http://127\.0\.0\.1:\d+/)").group(1).decode()
        _get(url + "nowhere")
        read_until(rb"\x1b\[33m[^\n]*GET /nowhere")  # yellow, as werkzeug shows a 404
    finally:
        os.killpg(popen.pid, signal.SIGTERM)
        popen.wait(15)
        os.close(primary)


def test_serve_refuses_a_bad_task_backend_url(tmp_path: Path) -> None:
    server = Process(
        [_script("ladon"), "serve", str(EXAMPLES), "--port", "0", "--tasks", "nope://x"],
        tmp_path,
    )
    try:
        assert server.popen.wait(30) == 2
        assert "cannot load the services" in server.output()
    finally:
        server.stop()


@pytest.mark.parametrize(
    "command", ["ladon-ctl", f"ladon-{sys.version_info[0]}.{sys.version_info[1]}-ctl"]
)
def test_ladon_ctl_testserve_serves_modules(tmp_path: Path, command: str) -> None:
    port = free_port()
    server = Process(
        [_script(command), "testserve", "-p", str(port), str(EXAMPLES / "calculator.py")],
        tmp_path,
    )
    try:
        url = server.wait_for(URL).group(1)
        assert url == f"http://127.0.0.1:{port}/"
        assert _add(url, 1, 1) == 2
        check_pages_base = url.rstrip("/")
        with urllib.request.urlopen(check_pages_base + "/Calculator", timeout=10) as resp:
            assert b'id="method-statistics"' in resp.read()
    finally:
        server.stop()


def test_serve_page_assets_work_through_the_dev_server(tmp_path: Path) -> None:
    server = Process([_script("ladon"), "serve", str(EXAMPLES), "--port", "0"], tmp_path)
    try:
        url = server.wait_for(URL).group(1)
        with urllib.request.urlopen(url + "_ladon/static/ladon.css", timeout=10) as resp:
            assert resp.headers["Content-Type"].startswith("text/css")
    finally:
        server.stop()
