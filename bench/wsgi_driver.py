"""Benchmark worker: builds one implementation's WSGI app and times calls to it.

This module only uses the standard library because it runs under several
interpreters: the one running ``bench_core.py`` (for ``floor`` and ``ladon``)
and the throw-away venvs holding ``ladon==1.0.7`` and ``spyne==2.14.0``.
``bench_core.py`` also imports it for the workload definitions.

Run as ``python wsgi_driver.py IMPL --repo REPO``.  The worker builds the app,
checks one response per benchmark, then answers JSON-line commands read from
stdin on its stdout:

* on start-up: ``{"ready": true, "info": {...}, "benches": {name: error|null}}``
  or ``{"ready": false, "error": "..."}``;
* ``{"cmd": "run", "bench": NAME, "seconds": T}`` ->
  ``{"bench": NAME, "calls": N, "seconds": S, "rate": N/S}`` (or ``"error"``);
* ``{"cmd": "quit"}`` (or end of input) ends the worker.

Anything the frameworks print goes to stderr, so stdout carries only replies.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
import traceback
import xml.etree.ElementTree as ET
from collections import namedtuple
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from typing import TextIO
from wsgiref.util import setup_testing_defaults

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

IMPLEMENTATIONS = ("floor", "ladon", "ladon107", "spyne")
BENCHMARKS = (
    "jsonwsp_add",
    "jsonwsp_echo10k",
    "soap_add",
    "soap_minmax100",
    "soap12_add",
    "soap12_minmax100",
)
BENCH_TITLES = {
    "jsonwsp_add": "JSON-WSP add(1, 2)",
    "jsonwsp_echo10k": "JSON-WSP echo of a 10 KiB string",
    "soap_add": "SOAP 1.1 document/literal add(1, 2)",
    "soap_minmax100": "SOAP 1.1 minmax of 100 ints -> {min, max}",
    # Ladon 1.0.7 and spyne have no SOAP 1.2: they answer these with SOAP 1.1
    "soap12_add": "SOAP 1.2 document/literal add(1, 2) (peers: their SOAP 1.1)",
    "soap12_minmax100": "SOAP 1.2 minmax of 100 ints (peers: their SOAP 1.1)",
}

SERVICE = "BenchService"
TNS = "urn:BenchService"
SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV_NS = "http://www.w3.org/2003/05/soap-envelope"
SOAP12_CT = 'application/soap+xml; charset=utf-8; action="%s"'
JSON_CT = "application/json"
SOAP_CT = "text/xml; charset=utf-8"

_SENTENCE = "The quick brown fox jumps over the lazy dog; Ladon echoes it back. "
ECHO_TEXT = (_SENTENCE * (10240 // len(_SENTENCE) + 1))[:10240]
MINMAX_VALUES = [(i * 7919) % 1999 - 999 for i in range(100)]
ADD_A, ADD_B = 1, 2

Check = Callable[[bytes], str | None]


@dataclass(frozen=True)
class Request:
    """One pre-built request and the check its response must pass."""

    path: str
    body: bytes
    content_type: str
    soap_action: str | None
    check: Check


# --------------------------------------------------------------------------
# Response checks
# --------------------------------------------------------------------------


def _json_check(expected: object, key: str | None) -> Check:
    """Response JSON (or its member ``key``) must equal ``expected``."""

    def check(body: bytes) -> str | None:
        try:
            doc = json.loads(body)
        except ValueError as exc:
            return f"response is not JSON ({exc}): {body[:300]!r}"
        if key is not None:
            if not isinstance(doc, dict) or key not in doc:
                return f"no {key!r} member in response: {body[:300]!r}"
            doc = doc[key]
        if doc != expected:
            return f"wrong result {str(doc)[:80]!r}, expected {str(expected)[:80]!r}"
        return None

    return check


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml_check(expected: dict[str, set[str]], value_map: dict[str, str]) -> Check:
    """The SOAP body must hold, for each key of ``expected``, an element whose
    local name is one of the given names and whose text is ``value_map[key]``;
    and no Fault."""

    def check(body: bytes) -> str | None:
        try:
            root = ET.fromstring(body)
        except ET.ParseError as exc:
            return f"response is not XML ({exc}): {body[:300]!r}"
        found: dict[str, bool] = dict.fromkeys(expected, False)
        for elem in root.iter():
            name = _local(elem.tag)
            if name == "Fault":
                return f"SOAP Fault: {body[:400]!r}"
            for key, names in expected.items():
                if name in names and (elem.text or "").strip() == value_map[key]:
                    found[key] = True
        missing = [k for k, ok in found.items() if not ok]
        if missing:
            return f"no correct {'/'.join(missing)} in response: {body[:400]!r}"
        return None

    return check


# --------------------------------------------------------------------------
# Requests per dialect ("ladon" for both Ladons and the floor, "spyne")
# --------------------------------------------------------------------------


def soap_envelope(inner: str, env: str = SOAP_ENV_NS) -> bytes:
    return (
        f'<soapenv:Envelope xmlns:soapenv="{env}" xmlns:tns="{TNS}">'
        f"<soapenv:Body>{inner}</soapenv:Body></soapenv:Envelope>"
    ).encode()


def _soap_add_body(env: str = SOAP_ENV_NS) -> bytes:
    return soap_envelope(f"<tns:add><tns:a>{ADD_A}</tns:a><tns:b>{ADD_B}</tns:b></tns:add>", env)


def _soap_minmax_body(item_tag: str, env: str = SOAP_ENV_NS) -> bytes:
    items = "".join(f"<tns:{item_tag}>{v}</tns:{item_tag}>" for v in MINMAX_VALUES)
    return soap_envelope(f"<tns:minmax><tns:values>{items}</tns:values></tns:minmax>", env)


_ADD_CHECK = _xml_check({"sum": {"result", "addResult"}}, {"sum": str(ADD_A + ADD_B)})
_MINMAX_CHECK = _xml_check(
    {"min": {"min"}, "max": {"max"}},
    {"min": str(min(MINMAX_VALUES)), "max": str(max(MINMAX_VALUES))},
)


def ladon_requests(soap12: bool = True) -> dict[str, Request]:
    """Requests in Ladon's wire format: JSON-WSP and Ladon's SOAP interfaces
    (``soap12``: this Ladon's SOAP 1.2 one, else the SOAP 1.1 calls stand
    for the ``soap12_*`` benchmarks).

    The SOAPAction follows Ladon 1.0's WSDL (``<service url>/<method>``);
    Ladon 1.0 itself ignores it and the namespaces.
    """
    base = f"/{SERVICE}"
    action = f'"http://127.0.0.1{base}/soap/%s"'

    def jsonwsp(method: str, args: dict[str, Any]) -> bytes:
        return json.dumps({"methodname": method, "args": args}).encode()

    soap11 = {
        "soap_add": Request(f"{base}/soap", _soap_add_body(), SOAP_CT, action % "add", _ADD_CHECK),
        "soap_minmax100": Request(
            f"{base}/soap", _soap_minmax_body("item"), SOAP_CT, action % "minmax", _MINMAX_CHECK
        ),
    }
    if soap12:
        pattern = f"{TNS}:{SERVICE}PortType:%sRequest"
        soap11["soap12_add"] = Request(
            f"{base}/soap12",
            _soap_add_body(SOAP12_ENV_NS),
            SOAP12_CT % (pattern % "add"),
            None,
            _ADD_CHECK,
        )
        soap11["soap12_minmax100"] = Request(
            f"{base}/soap12",
            _soap_minmax_body("item", SOAP12_ENV_NS),
            SOAP12_CT % (pattern % "minmax"),
            None,
            _MINMAX_CHECK,
        )
    else:  # no SOAP 1.2: the SOAP 1.1 calls are the baseline
        soap11["soap12_add"] = soap11["soap_add"]
        soap11["soap12_minmax100"] = soap11["soap_minmax100"]
    return {
        **soap11,
        "jsonwsp_add": Request(
            f"{base}/jsonwsp",
            jsonwsp("add", {"a": ADD_A, "b": ADD_B}),
            JSON_CT,
            None,
            _json_check(ADD_A + ADD_B, "result"),
        ),
        "jsonwsp_echo10k": Request(
            f"{base}/jsonwsp",
            jsonwsp("echo", {"s": ECHO_TEXT}),
            JSON_CT,
            None,
            _json_check(ECHO_TEXT, "result"),
        ),
    }


def spyne_requests() -> dict[str, Request]:
    """Requests for spyne: ``JsonDocument`` (``{"method": {args}}``, bare
    result) and ``Soap11`` (arrays of Integer are ``<integer>`` elements)."""

    def jdoc(method: str, args: dict[str, Any]) -> bytes:
        return json.dumps({method: args}).encode()

    return {
        "jsonwsp_add": Request(
            "/json",
            jdoc("add", {"a": ADD_A, "b": ADD_B}),
            JSON_CT,
            None,
            _json_check(ADD_A + ADD_B, None),
        ),
        "jsonwsp_echo10k": Request(
            "/json", jdoc("echo", {"s": ECHO_TEXT}), JSON_CT, None, _json_check(ECHO_TEXT, None)
        ),
        "soap_add": Request("/soap", _soap_add_body(), SOAP_CT, '"add"', _ADD_CHECK),
        "soap_minmax100": Request(
            "/soap", _soap_minmax_body("integer"), SOAP_CT, '"minmax"', _MINMAX_CHECK
        ),
        # no SOAP 1.2 in spyne: its SOAP 1.1 calls stand for the soap12_* benchmarks
        "soap12_add": Request("/soap", _soap_add_body(), SOAP_CT, '"add"', _ADD_CHECK),
        "soap12_minmax100": Request(
            "/soap", _soap_minmax_body("integer"), SOAP_CT, '"minmax"', _MINMAX_CHECK
        ),
    }


# --------------------------------------------------------------------------
# Apps
# --------------------------------------------------------------------------

AppFor = Callable[[str], WSGIApp]


def _floor_response(bench: str) -> tuple[bytes, str]:
    """A constant, correct, Ladon-1.0-shaped response for ``bench``."""
    if bench.startswith("jsonwsp_"):
        method, result = ("add", ADD_A + ADD_B) if bench == "jsonwsp_add" else ("echo", ECHO_TEXT)
        doc = {
            "servicename": SERVICE,
            "servicenumber": 1,
            "result": result,
            "type": "jsonwsp/response",
            "version": "1.0",
            "methodname": method,
        }
        return json.dumps(doc).encode(), f"{JSON_CT}; charset=utf-8"
    if bench.endswith("_add"):
        inner = f"<addResponse><result>{ADD_A + ADD_B}</result></addResponse>"
    else:
        inner = (
            f"<minmaxResponse><max>{max(MINMAX_VALUES)}</max>"
            f"<min>{min(MINMAX_VALUES)}</min></minmaxResponse>"
        )
    if bench.startswith("soap12_"):
        body = b'<?xml version="1.0" encoding="utf-8"?>' + soap_envelope(inner, SOAP12_ENV_NS)
        return body, "application/soap+xml; charset=utf-8"
    body = b'<?xml version="1.0" encoding="utf-8"?>' + soap_envelope(inner)
    return body, SOAP_CT


def _make_floor_app(body: bytes, content_type: str) -> WSGIApp:
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", list(headers))
        return [body]

    return app


def build_floor() -> tuple[AppFor, dict[str, str]]:
    apps = {b: _make_floor_app(*_floor_response(b)) for b in BENCHMARKS}
    return apps.__getitem__, {"version": "bare WSGI, constant body"}


def _services_dir(repo: str) -> str:
    return os.path.join(repo, "bench", "services")


def build_ladon(
    repo: str, modules: tuple[str, ...] = ("benchsvc",), **app_kw: Any
) -> tuple[AppFor, dict[str, str]]:
    """The new Ladon, imported from the repository checkout, serving
    ``modules`` from bench/services (``app_kw`` go to the application)."""
    sys.path.insert(0, repo)
    import ladon
    from ladon.server.wsgi import LadonWSGIApplication

    # The application as `pip install ladon` builds it: its defaults, with
    # the optional metrics and tracing off even when the dev venv has their
    # extras (request ids and compression stay on, as by default). Other
    # set-ups: LADON_BENCH_APP_OPTIONS='{"metrics": true}' and the like.
    base_install = {"metrics": False, "tracing": False}
    env_kw = json.loads(os.environ.get("LADON_BENCH_APP_OPTIONS") or "{}")
    app_kw = {**base_install, **env_kw, **app_kw}

    origin = os.path.dirname(os.path.abspath(ladon.__file__ or ""))
    if origin != os.path.join(os.path.abspath(repo), "ladon"):
        raise RuntimeError(f"imported ladon from {origin}, not from the repository {repo}")
    app = LadonWSGIApplication(list(modules), [_services_dir(repo)], **app_kw)
    version = getattr(ladon, "__version__", "repository checkout")
    return (lambda _bench: app), {"version": f"{version} ({origin})"}


def _patch_python_for_ladon107() -> list[str]:
    """Give Ladon 1.0.7 back ``inspect.getargspec`` (removed in Python 3.11).

    Ladon reads ``.args``, ``.keywords`` and ``.defaults`` from the result, so
    it needs a named tuple with the old field names, not a plain 4-tuple.
    That is the only patch it needs on 3.11 (it also imports ``imp``, which
    3.11 still has; its setup.py needs ``imp`` too, so it cannot even be
    installed on 3.12+).
    """
    import inspect

    if hasattr(inspect, "getargspec"):
        return []
    argspec = namedtuple("ArgSpec", "args varargs keywords defaults")

    def getargspec(func: Callable[..., Any]) -> Any:
        spec = inspect.getfullargspec(func)
        return argspec(spec.args, spec.varargs, spec.varkw, spec.defaults)

    inspect.getargspec = getargspec  # type: ignore[attr-defined]
    return ["inspect.getargspec"]


def build_ladon107(
    repo: str, modules: tuple[str, ...] = ("benchsvc",)
) -> tuple[AppFor, dict[str, str]]:
    """Ladon 1.0.7 from PyPI, serving the very same service modules."""
    applied = _patch_python_for_ladon107()
    import ladon
    from ladon.server.wsgi import LadonWSGIApplication

    origin = os.path.dirname(os.path.abspath(ladon.__file__ or ""))
    if origin.startswith(os.path.abspath(repo) + os.sep):
        raise RuntimeError(f"imported the repository's ladon ({origin}) instead of 1.0.7")
    app = LadonWSGIApplication(list(modules), [_services_dir(repo)])
    patches = ", ".join(applied) or "none"
    return (lambda _bench: app), {"version": f"1.0.7 ({origin}); patches: {patches}"}


def build_spyne(repo: str) -> tuple[AppFor, dict[str, str]]:
    """spyne 2.14 with JsonDocument and Soap11 apps mounted at /json and /soap."""
    sys.path.insert(0, _services_dir(repo))
    import spyne
    from spyne_benchsvc import make_wsgi_app

    app = make_wsgi_app()
    return (lambda _bench: app), {"version": spyne.__version__}


def build(impl: str, repo: str) -> tuple[AppFor, dict[str, Request], dict[str, str]]:
    if impl == "floor":
        app_for, info = build_floor()
        requests = ladon_requests()
    elif impl == "ladon":
        app_for, info = build_ladon(repo)
        requests = ladon_requests()
    elif impl == "ladon107":
        app_for, info = build_ladon107(repo)
        requests = ladon_requests(soap12=False)
    elif impl == "spyne":
        app_for, info = build_spyne(repo)
        requests = spyne_requests()
    else:
        raise ValueError(f"unknown implementation {impl!r}")
    info["python"] = f"{sys.version.split()[0]} ({sys.executable})"
    return app_for, requests, info


# --------------------------------------------------------------------------
# Calling and timing
# --------------------------------------------------------------------------


def base_environ(req: Request) -> dict[str, Any]:
    """A complete environ for ``req``; ``wsgi.input`` is replaced per call."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": req.path,
        "QUERY_STRING": "",
        "CONTENT_TYPE": req.content_type,
        "CONTENT_LENGTH": str(len(req.body)),
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    if req.soap_action is not None:
        environ["HTTP_SOAPACTION"] = req.soap_action
    setup_testing_defaults(environ)
    return environ


def call_once(app: WSGIApp, req: Request) -> tuple[str, bytes]:
    """One full call; returns the status line and the body."""
    status: list[str] = []

    def start_response(st: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        status.append(st)
        return lambda _data: None

    environ = base_environ(req)
    environ["wsgi.input"] = io.BytesIO(req.body)
    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return (status[-1] if status else "<start_response not called>"), body


def verify(app: WSGIApp, req: Request) -> str | None:
    """Error text if the response to ``req`` is not a correct 200, else None."""
    try:
        status, body = call_once(app, req)
    except Exception:
        return "app raised: " + traceback.format_exc(limit=-3).strip()
    if not status.startswith("200"):
        return f"status {status!r}: {body[:400]!r}"
    return req.check(body)


def _write(_data: bytes) -> None:
    return None


def _start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
    return _write


def measure(app: WSGIApp, req: Request, seconds: float) -> tuple[int, float]:
    """Call ``app`` back to back for ``seconds``; returns (calls, elapsed).

    Each call gets a shallow copy of a pre-built environ and a fresh
    ``BytesIO`` body, and the response iterable is consumed and closed.  The
    clock is read once per batch; batches grow until they take ~5 ms.
    """
    base = base_environ(req)
    body = req.body
    bytes_io = io.BytesIO
    start_response = _start_response
    clock = time.perf_counter
    calls = 0
    batch = 1
    start = clock()
    deadline = start + seconds
    while True:
        batch_start = clock()
        for _ in range(batch):
            environ = base.copy()
            environ["wsgi.input"] = bytes_io(body)
            result = app(environ, start_response)
            for _chunk in result:
                pass
            close = getattr(result, "close", None)
            if close is not None:
                close()
        calls += batch
        now = clock()
        if now >= deadline:
            return calls, now - start
        if now - batch_start < 0.005:
            batch *= 2


# --------------------------------------------------------------------------
# Worker main loop
# --------------------------------------------------------------------------


def _last_line(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()[-1]


def _reply(out: TextIO, payload: dict[str, Any]) -> None:
    out.write(json.dumps(payload) + "\n")
    out.flush()


def _serve(out: TextIO, app_for: AppFor, requests: dict[str, Request]) -> None:
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd.get("cmd") != "run":
            return
        bench = cmd["bench"]
        try:
            calls, elapsed = measure(app_for(bench), requests[bench], float(cmd["seconds"]))
        except Exception as exc:
            traceback.print_exc()
            _reply(out, {"bench": bench, "error": _last_line(exc)})
            continue
        _reply(out, {"bench": bench, "calls": calls, "seconds": elapsed, "rate": calls / elapsed})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("impl", choices=IMPLEMENTATIONS)
    parser.add_argument("--repo", required=True, help="repository root (holds bench/services)")
    args = parser.parse_args(argv)

    # Keep stdout for replies only: whatever the frameworks print goes to stderr.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    try:
        app_for, requests, info = build(args.impl, args.repo)
    except BaseException as exc:  # ImportError, SyntaxError, SystemExit, ...
        traceback.print_exc()
        _reply(out, {"ready": False, "error": _last_line(exc)})
        return 1
    problems = {bench: verify(app_for(bench), requests[bench]) for bench in BENCHMARKS}
    _reply(out, {"ready": True, "info": info, "benches": problems})
    _serve(out, app_for, requests)
    return 0


if __name__ == "__main__":
    sys.exit(main())
