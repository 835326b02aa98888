"""gzip compression: answers a client accepts compressed, above the
threshold, of a compressible type, are compressed (with ``Vary``, the right
``Content-Length``, HEAD alike); tiny answers, refused encodings and
already compressed types never are. Real clients: zeep, suds, curl."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import LiveServer
from werkzeug.test import Client

from ladon.server.operations import accepts_gzip
from ladon.server.wsgi import LadonWSGIApplication

GZIP = {"Accept-Encoding": "gzip"}


@pytest.fixture(scope="module")
def app() -> Iterator[LadonWSGIApplication]:
    import ops_app

    application = ops_app.make_app()
    yield application
    application.close()


@pytest.fixture()
def client(app: LadonWSGIApplication) -> Client:
    return Client(app)


def text_call(client: Client, size: int, headers: dict[str, str]) -> Any:
    return client.post(
        "/Jobs/jsonwsp",
        json={"methodname": "text", "args": {"size": size}},
        headers=headers,
    )


def test_a_large_answer_is_gzipped_with_its_length_and_vary(client: Client) -> None:
    plain = text_call(client, 20_000, {})
    packed = text_call(client, 20_000, GZIP)
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert packed.headers["Vary"] == "Accept-Encoding"
    body = packed.get_data()
    assert int(packed.headers["Content-Length"]) == len(body)
    assert len(body) < len(plain.get_data()) / 10
    assert gzip.decompress(body) == plain.get_data()


def test_a_tiny_answer_is_never_compressed(client: Client) -> None:
    small = text_call(client, 10, GZIP)
    assert "Content-Encoding" not in small.headers
    assert b'"result": "Ladon comp"' in small.get_data()


@pytest.mark.parametrize(
    "accept",
    ["identity", "gzip;q=0", "deflate, br", "*;q=0", "gzip;q=zero"],
    ids=["identity", "gzip-q0", "other-codings", "star-q0", "bad-q"],
)
def test_no_gzip_unless_the_client_accepts_it(client: Client, accept: str) -> None:
    response = text_call(client, 20_000, {"Accept-Encoding": accept})
    assert "Content-Encoding" not in response.headers
    assert len(response.get_data()) > 20_000


def test_accept_encoding_is_read_as_the_rfc_says() -> None:
    assert accepts_gzip("gzip")
    assert accepts_gzip("deflate, gzip;q=0.5")
    assert accepts_gzip("*")
    assert accepts_gzip("x-gzip")
    assert accepts_gzip("GZIP ; Q=1")
    assert not accepts_gzip("gzip;q=0, *")
    assert not accepts_gzip("br, *;q=0")
    assert not accepts_gzip("")


def test_descriptions_and_pages_are_compressed_and_head_says_the_same(client: Client) -> None:
    for path in ("/Jobs/soap/description", "/Jobs/soap12/description", "/Jobs", "/"):
        get = client.get(path, headers=GZIP)
        head = client.head(path, headers=GZIP)
        plain = client.get(path)
        assert get.status_code == head.status_code == 200
        assert get.headers["Content-Encoding"] == "gzip", path
        assert gzip.decompress(get.get_data()) == plain.get_data()
        assert head.get_data() == b""
        for name in ("Content-Encoding", "Content-Length", "Content-Type", "Vary"):
            assert head.headers[name] == get.headers[name], (path, name)


def test_static_files_keep_working_conditional_requests(client: Client) -> None:
    first = client.get("/_ladon/static/ladon.js", headers=GZIP)
    assert first.headers["Content-Encoding"] == "gzip"
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    again = client.get("/_ladon/static/ladon.js", headers={**GZIP, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    # the 304 carries the ETag and Vary of the gzip answer it validates
    # (RFC 9110, 15.4.5); a client holding the plain answer gets its ETag
    assert again.headers["ETag"] == etag
    assert again.headers["Vary"] == "Accept-Encoding"
    strong = etag.removeprefix("W/")
    plain = client.get("/_ladon/static/ladon.js", headers={**GZIP, "If-None-Match": strong})
    assert plain.status_code == 304 and plain.headers["ETag"] == strong
    assert "Vary" not in plain.headers
    # hostile validators: many weak tags, odd spacing, none matching
    many = ", ".join(['W/"x"'] * 5000 + ["W/", '"', "W/W/" + strong])
    odd = client.get("/_ladon/static/ladon.js", headers={**GZIP, "If-None-Match": many})
    assert odd.status_code == 200 and odd.headers["ETag"] == etag


def test_already_compressed_types_are_not_compressed_again() -> None:
    from werkzeug.wrappers import Response

    from ladon.server.operations import Compress

    png = b"\x89PNG" + bytes(range(256)) * 40

    def raw(environ: dict[str, Any], start_response: Any) -> Any:
        ctype = environ["PATH_INFO"].strip("/").replace("_", "/")
        return Response(png, content_type=ctype)(environ, start_response)

    client = Client(Compress(raw, 100))
    for ctype in ("image/png", "application/zip", "application/octet-stream", "multipart/related"):
        response = client.get("/" + ctype.replace("/", "_"), headers=GZIP)
        assert "Content-Encoding" not in response.headers, ctype
        assert response.get_data() == png
    assert client.get("/image_svg+xml", headers=GZIP).headers["Content-Encoding"] == "gzip"


def test_the_threshold_is_configurable_and_compression_can_be_off() -> None:
    import ops_app

    eager = Client(ops_app.make_app(compress_min_size=0))
    assert text_call(eager, 200, GZIP).headers["Content-Encoding"] == "gzip"
    off = Client(ops_app.make_app(compress_min_size=None))
    assert "Content-Encoding" not in text_call(off, 20_000, GZIP).headers


class Recorder:
    """Wraps the live app: the Content-Encoding of every answer."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str, str]] = []
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            coding = next((v for k, v in headers if k.lower() == "content-encoding"), "")
            with self.lock:
                self.seen.append((environ["REQUEST_METHOD"], environ["PATH_INFO"], coding))
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


@pytest.fixture(scope="module")
def recorder(app: LadonWSGIApplication) -> Recorder:
    return Recorder(app)


@pytest.fixture(scope="module")
def live(recorder: Recorder) -> Iterator[LiveServer]:
    server = LiveServer(recorder)
    yield server
    server.stop()


@pytest.mark.e2e
def test_zeep_reads_compressed_wsdls_and_answers(live: LiveServer, recorder: Recorder) -> None:
    import zeep
    from requests import Session

    session = Session()
    encodings: list[str] = []
    session.hooks["response"].append(
        lambda r, *a, **k: encodings.append(r.headers.get("Content-Encoding", ""))
    )
    recorder.seen.clear()
    for iface in ("soap", "soap11", "soap12"):
        client = zeep.Client(
            f"{live.url}/Jobs/{iface}/description",
            transport=zeep.Transport(session=session),
        )
        assert client.service.text(5000) == ("Ladon compresses large answers. " * 160)[:5000]
        assert client.service.add(2, 3) == 5
    # the WSDLs and the large answers came gzipped, the small ones plain
    assert encodings.count("gzip") >= 6, encodings
    assert "" in encodings
    posts = [c for m, p, c in recorder.seen if m == "POST"]
    assert posts.count("gzip") == 3 and posts.count("") == 3, recorder.seen


@pytest.mark.e2e
@pytest.mark.parametrize("iface", ["soap", "soap11"])
def test_suds_gets_gzipped_answers_when_it_asks(
    live: LiveServer, recorder: Recorder, iface: str
) -> None:
    from suds.client import Client as SudsClient

    recorder.seen.clear()
    plain = SudsClient(f"{live.url}/Jobs/{iface}/description", cache=None)
    assert plain.service.text(5000) == ("Ladon compresses large answers. " * 160)[:5000]
    # NOTE: suds decodes gzipped SOAP answers, but not a gzipped WSDL (its
    # document reader does not): the header is set once the WSDL is read.
    asking = SudsClient(f"{live.url}/Jobs/{iface}/description", cache=None)
    asking.set_options(headers=GZIP)
    assert asking.service.text(5000) == ("Ladon compresses large answers. " * 160)[:5000]
    assert asking.service.add(4, 5) == 9
    posts = [c for m, p, c in recorder.seen if m == "POST"]
    assert posts == ["", "gzip", ""], recorder.seen


@pytest.mark.e2e
def test_curl_compressed(live: LiveServer) -> None:
    curl = shutil.which("curl")
    if curl is None:
        pytest.fail("curl is needed for this test: apt-get install -y curl")
    url = f"{live.url}/Jobs/soap/description"
    plain = subprocess.run([curl, "-sS", url], capture_output=True, check=True).stdout
    done = subprocess.run(
        [curl, "-sS", "--compressed", "-D", "-", url], capture_output=True, check=True
    )
    head, _, body = done.stdout.partition(b"\r\n\r\n")
    assert b"content-encoding: gzip" in head.lower()
    assert b"vary: accept-encoding" in head.lower()
    assert body == plain
    head_only = subprocess.run(
        [curl, "-sS", "-I", "--compressed", url], capture_output=True, check=True, text=True
    ).stdout.lower()
    assert "content-encoding: gzip" in head_only
    length = int(head_only.split("content-length:")[1].split()[0])
    assert length == len(gzip.compress(plain, 6, mtime=0))
