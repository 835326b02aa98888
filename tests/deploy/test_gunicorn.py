"""The example app deployed under gunicorn (a real process on 127.0.0.1)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from .checks import check_deployment
from .conftest import EXAMPLES
from .conftest import ROOT
from .conftest import Process
from .conftest import free_port
from .conftest import wait_http
from .conftest import wsgi_file

pytestmark = pytest.mark.e2e


def _gunicorn() -> str:
    found = Path(sys.executable).with_name("gunicorn")
    if found.exists():
        return str(found)
    path = shutil.which("gunicorn")
    if path is None:
        pytest.fail("gunicorn is missing: pip install -e '.[test]'", pytrace=False)
    return path


def test_example_app_under_gunicorn(workdir: Path) -> None:
    wsgi_file(workdir / "examples_wsgi.py", [str(ROOT), str(EXAMPLES)])
    port = free_port()
    server = Process(
        [
            _gunicorn(),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "4",
            "--graceful-timeout",
            "5",
            "--no-control-socket",  # gunicorn 27 shares ~/.gunicorn/gunicorn.ctl otherwise
            "examples_wsgi:application",
        ],
        workdir,
    )
    try:
        server.wait_for(r"Booting worker")
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/", process=server)
        check_deployment(base)
    finally:
        server.stop()
    assert "Traceback" not in server.output()
