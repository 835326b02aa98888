"""Apache httpd authenticates (``AuthType Basic`` with an htpasswd file
written by Apache's ``htpasswd``) and mod_wsgi passes ``REMOTE_USER`` to
the application's ``RemoteUser()`` authenticator: the methods see the
caller, the access rules and task ownership hold, Apache answers the
challenge itself."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from .conftest import ROOT
from .conftest import Process
from .conftest import free_port
from .conftest import wait_http
from .test_apache import APACHE
from .test_apache import CONFIG
from .test_apache import MOD_WSGI
from .test_apache import MODULES
from .test_apache import _requirements
from .test_apache import site  # noqa: F401 - the fixture

pytestmark = pytest.mark.e2e

AUTH_CONFIG = """\
LoadModule auth_basic_module {modules}/mod_auth_basic.so
LoadModule authn_core_module {modules}/mod_authn_core.so
LoadModule authn_file_module {modules}/mod_authn_file.so
LoadModule authz_user_module {modules}/mod_authz_user.so
<Location /api>
    AuthType Basic
    AuthName "Ladon partners"
    AuthBasicProvider file
    AuthUserFile {root}/htpasswd
    Require valid-user
</Location>
"""

WSGI = """\
import os, sys
sys.path[:0] = [{lib!r}, {services!r}]
os.environ["LADON_TEST_AUTH"] = "remote"
import auth_app
application = auth_app.app
"""


def _htpasswd(path: Path) -> None:
    tool = shutil.which("htpasswd")
    if tool is None:
        pytest.fail("Apache's htpasswd is needed: apt-get install -y apache2-utils", pytrace=False)
    for flags, user in (("-cbB", "alice"), ("-b5", "bob"), ("-bB", "root")):
        subprocess.run(
            [tool, flags, str(path), user, f"{user}-pw"], check=True, capture_output=True
        )


def test_apache_basic_auth_passes_remote_user_to_the_app(site: Path) -> None:  # noqa: F811
    _requirements()
    services = site / "services"
    services.mkdir()
    shutil.copy(ROOT / "tests" / "services" / "auth_app.py", services / "auth_app.py")
    _htpasswd(site / "htpasswd")
    for path in (services, services / "auth_app.py", site / "htpasswd"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    (site / "wsgi" / "examples.wsgi").write_text(
        WSGI.format(lib=str(site / "lib"), services=str(services)), encoding="utf-8"
    )
    port = free_port()
    conf = site / "httpd.conf"
    conf.write_text(
        CONFIG.format(root=site, port=port, modules=MODULES, mod_wsgi=MOD_WSGI)
        + AUTH_CONFIG.format(root=site, modules=MODULES),
        encoding="utf-8",
    )
    check = Process([str(APACHE), "-t", "-f", str(conf)], site)
    assert check.popen.wait(30) == 0, check.output()
    server = Process([str(APACHE), "-f", str(conf), "-DFOREGROUND"], site)
    error_log = site / "logs" / "error.log"
    try:
        base = f"http://127.0.0.1:{port}/api/Vault"
        wait_http(base + "/", process=server)

        def call(method: str, user: str | None, **args: Any) -> requests.Response:
            auth = (user, f"{user}-pw") if user else None
            return requests.post(
                base + "/jsonwsp", json={"methodname": method, "args": args}, auth=auth, timeout=10
            )

        anonymous = call("ping", None)
        assert anonymous.status_code == 401  # Apache refuses before the app
        assert 'Basic realm="Ladon partners"' in anonymous.headers["WWW-Authenticate"]
        assert call("whoami", "root").json()["result"] == "root:admin"
        assert call("whoami", "bob").json()["result"] == "bob:"
        denied = call("audit", "bob")
        assert denied.status_code == 403
        assert denied.json()["fault"]["string"].startswith("Access denied")
        assert "WWW-Authenticate" not in denied.headers
        wrong = requests.post(
            base + "/jsonwsp",
            json={"methodname": "ping", "args": {}},
            auth=("bob", "x"),
            timeout=10,
        )
        assert wrong.status_code == 401
        task_id = call("count", "alice", n=5).json()["result"]["task_id"]
        deadline = time.monotonic() + 20
        while (
            call("count_progress", "alice", task_id=task_id).json()["result"]["state"]
            != "succeeded"
        ):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert (
            call("count_result", "bob", task_id=task_id)
            .json()["fault"]["string"]
            .startswith("Unknown task")
        )
        assert call("count_result", "root", task_id=task_id).json()["result"].startswith("alice:5:")
    finally:
        code = server.stop()
    log = error_log.read_text(errors="replace") if error_log.exists() else ""
    assert "Traceback" not in log, log
    assert "bob-pw" not in log
    assert code == 0 or code == -15, server.output() + log
