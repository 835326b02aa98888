"""The example app under Apache httpd with mod_wsgi in daemon mode.

Debian's ``apache2`` and ``libapache2-mod-wsgi-py3`` (``.ci/run`` installs
them when missing). That mod_wsgi embeds Debian's ``/usr/bin/python3``, not
the test venv's interpreter, so the test lays out a self-contained
application folder the way a deployment would: the ``ladon`` package, the
examples and the runtime dependencies (werkzeug, jinja2, markupsafe, lxml;
annotated-types for the examples) copied from the venv, which works when both interpreters have the same
``X.Y`` version (checked first). Apache runs in the foreground as a process
of the test (``-DFOREGROUND``), with its config, logs and sockets in a
temporary folder and a free port on 127.0.0.1, mounted under ``/api``; the
daemon processes run as ``nobody`` (mod_wsgi refuses root). It is stopped by
its PID. The config has what docs/servers.rst's has (``WSGIChunkedRequest
On`` included: a chunked request body reaches the app).
"""

from __future__ import annotations

import http.client
import importlib
import json
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
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

APACHE = Path("/usr/sbin/apache2")
MODULES = Path("/usr/lib/apache2/modules")
MOD_WSGI = MODULES / "mod_wsgi.so"
INSTALL = "apt-get install -y apache2 libapache2-mod-wsgi-py3"
RUNTIME_PACKAGES = ("werkzeug", "jinja2", "markupsafe", "lxml")
#: What the examples themselves import (ladon[constraints]: the attachments
#: example bounds its report with annotated-types constraints).
EXAMPLE_PACKAGES = ("annotated_types",)

CONFIG = """\
ServerRoot "{root}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile {root}/run/httpd.pid
DefaultRuntimeDir {root}/run
Mutex file:{root}/run
ErrorLog {root}/logs/error.log
LogLevel info
LogFormat "%h %l %u %t \\"%r\\" %>s %b" common
CustomLog {root}/logs/access.log common
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule wsgi_module {mod_wsgi}
User nobody
Group nogroup
StartServers 1
ServerLimit 1
ThreadsPerChild 16
MaxRequestWorkers 16
WSGIRestrictEmbedded On
WSGISocketPrefix {root}/run/wsgi
WSGIDaemonProcess ladon user=nobody group=nogroup threads=8 \\
    python-path={root}/lib:{root}/examples home={root} display-name=ladon-examples
WSGIProcessGroup ladon
WSGIApplicationGroup %{{GLOBAL}}
WSGIChunkedRequest On
WSGIScriptAlias /api {root}/wsgi/examples.wsgi
<Directory {root}/wsgi>
    Require all granted
</Directory>
"""


def _embedded_python() -> str:
    """The ``X.Y`` of the Python that Debian's mod_wsgi embeds."""
    target = os.path.realpath(MOD_WSGI)
    m = re.search(r"mod_wsgi\.so-(\d+\.\d+)$", target)
    if m is None:
        pytest.fail(f"cannot tell which Python {target} embeds", pytrace=False)
    return m.group(1)


def _requirements() -> None:
    missing = [str(p) for p in (APACHE, MOD_WSGI) if not p.exists()]
    if missing:
        pytest.fail(
            f"Apache with mod_wsgi is missing ({', '.join(missing)}): {INSTALL}", pytrace=False
        )
    embedded = _embedded_python()
    ours = f"{sys.version_info.major}.{sys.version_info.minor}"
    if embedded != ours:
        pytest.fail(
            f"Debian's mod_wsgi embeds Python {embedded} but the tests run on {ours}: "
            f"create the venv with /usr/bin/python3 (or pip install mod_wsgi and use "
            "mod_wsgi-express, built for this Python)",
            pytrace=False,
        )


def _copy_package(name: str, lib: Path) -> None:
    module = importlib.import_module(name)
    source = Path(next(iter(module.__path__)))
    shutil.copytree(source, lib / name, ignore=shutil.ignore_patterns("__pycache__"))


@pytest.fixture()
def site() -> Iterator[Path]:
    """A world-readable application folder (the daemon runs as nobody)."""
    root = Path(tempfile.mkdtemp(prefix="ladon-apache-"))
    try:
        for sub in ("lib", "wsgi", "logs", "run"):
            (root / sub).mkdir()
        _copy_package("ladon", root / "lib")
        for name in RUNTIME_PACKAGES + EXAMPLE_PACKAGES:
            _copy_package(name, root / "lib")
        shutil.copytree(EXAMPLES, root / "examples", ignore=shutil.ignore_patterns("__pycache__"))
        for path in [root, *root.rglob("*")]:
            mode = path.stat().st_mode
            extra = stat.S_IRGRP | stat.S_IROTH
            if path.is_dir():
                extra |= stat.S_IXGRP | stat.S_IXOTH
            path.chmod(mode | extra)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def check_chunked_request(port: int) -> None:
    """A body sent with ``Transfer-Encoding: chunked`` (SOAP stacks such as
    CXF and Axis2 stream theirs so) reaches the app and is answered by it,
    not refused by mod_wsgi with its own HTML 411."""
    call = {"methodname": "add", "args": {"a": 20, "b": 22}}
    body = json.dumps(call).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(
            "POST",
            "/api/Calculator/jsonwsp",
            body=iter([body[:10], body[10:]]),
            headers={"Content-Type": "application/json"},
            encode_chunked=True,
        )
        resp = conn.getresponse()
        answer = resp.read()
    finally:
        conn.close()
    assert resp.status == 200, (resp.status, answer[:300])
    assert json.loads(answer)["result"] == 42


def test_example_app_under_apache_mod_wsgi_daemon_mode(site: Path) -> None:
    _requirements()
    wsgi_file(site / "wsgi" / "examples.wsgi", [str(site / "lib"), str(site / "examples")])
    # examples are served from the copy, so the app's path is the copy too
    script = site / "wsgi" / "examples.wsgi"
    script.write_text(script.read_text().replace(str(EXAMPLES), str(site / "examples")))
    assert str(ROOT) not in script.read_text()
    port = free_port()
    conf = site / "httpd.conf"
    conf.write_text(
        CONFIG.format(root=site, port=port, modules=MODULES, mod_wsgi=MOD_WSGI), encoding="utf-8"
    )
    check = Process([str(APACHE), "-t", "-f", str(conf)], site)
    assert check.popen.wait(30) == 0, check.output()
    server = Process([str(APACHE), "-f", str(conf), "-DFOREGROUND"], site)
    error_log = site / "logs" / "error.log"
    try:
        base = f"http://127.0.0.1:{port}/api"
        wait_http(base + "/", process=server)
        check_deployment(base)
        check_chunked_request(port)
        log = error_log.read_text(errors="replace")
        assert "Starting process 'ladon'" in log, log  # daemon mode, not embedded
        # one process (no processes=, which sets wsgi.multiprocess even at 1):
        # the thread backend's task start warns of no other process
        assert "several processes" not in log, log
    finally:
        code = server.stop()
    log = error_log.read_text(errors="replace") if error_log.exists() else ""
    assert "Traceback" not in log, log
    assert code == 0 or code == -15, server.output() + log
