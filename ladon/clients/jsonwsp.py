"""A JSON-WSP client (Ladon 1.0's ``JSONWSPClient``).

::

    from ladon.clients.jsonwsp import JSONWSPClient

    client = JSONWSPClient("http://127.0.0.1:8080/Calculator/jsonwsp/description")
    client.call("add", a=2, b=3)                  # -> 5
    resp = client.add(a=2, b=3)                   # Ladon 1.0 style: a JSONWSPResponse
    resp.response_dict["result"], resp.result     # -> 5, 5

A fault answer raises :class:`JSONWSPFault` (with ``code``, ``string``,
``detail`` and ``hint``); ``JSONWSPClient(..., raise_faults=False)`` returns
it as a :class:`JSONWSPResponse` instead, as Ladon 1.0 did.

Attachments both ways: an argument that is a binary file object, an
:class:`~ladon.types.attachment.attachment`, or a string ``"@path"`` naming
an existing file is sent as a part of a ``multipart/related`` request and
referred to as ``"cid:fileN"``. Attachments of the answer replace their
``"cid:..."`` references in :attr:`JSONWSPResponse.response_dict` as
:class:`~ladon.types.attachment.attachment` objects (spooled to temporary
files that are removed when the response is closed).
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import os
import re
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from typing import IO
from typing import Any
from urllib.parse import urlsplit

from ..exceptions.service import ServiceFault
from ..types.attachment import attachment
from ..wire.multipart import MultipartLimits
from ..wire.multipart import MultipartWriter
from ..wire.multipart import Part
from ..wire.multipart import attachment_headers
from ..wire.multipart import boundary_of
from ..wire.multipart import close_parts
from ..wire.multipart import is_multipart
from ..wire.multipart import read_multipart

logger = logging.getLogger("ladon.client")
_CHARSET_RE = re.compile(r"charset\s*=\s*\"?([-_.a-zA-Z0-9]+)", re.I)
#: What a client accepts in an answer (no limit on attachments but memory).
_CLIENT_LIMITS = MultipartLimits(
    max_root=1 << 30, max_parts=10_000, max_attachment_bytes=1 << 40, spool_threshold=512 * 1024
)


class JSONWSPError(Exception):
    """The server did not answer with JSON-WSP (HTTP error, not JSON...).

    :param message: what went wrong.
    :param status: the HTTP status, when there was an answer.

    .. versionadded:: 2.0
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class JSONWSPFault(Exception):
    """A fault answer (``"type": "jsonwsp/fault"``).

    :param fault: the ``fault`` member of the answer.
    :param response: the whole response.

    .. versionadded:: 2.0
    """

    def __init__(self, fault: Mapping[str, Any], response: JSONWSPResponse | None = None) -> None:
        self.fault = dict(fault)
        self.code: str = str(fault.get("code", "server"))
        self.string: str = str(fault.get("string", ""))
        detail = fault.get("detail") or []
        self.detail: list[str] = (
            [str(d) for d in detail] if isinstance(detail, list) else [str(detail)]
        )
        self.hint: str = str(fault.get("hint") or "")
        self.response = response
        super().__init__(f"{self.code}: {self.string}")


def probe_charset(headers: Mapping[str, str], default: str = "UTF-8") -> str:
    """The charset of a Content-Type header (keys in upper case, as Ladon 1.0)."""
    m = _CHARSET_RE.search(headers.get("CONTENT-TYPE", ""))
    return m.group(1) if m else default


class JSONWSPResponse:
    """An answer: HTTP ``status``, ``reason`` and ``headers`` (names in
    upper case), the decoded ``response_dict`` and the ``attachments`` of a
    multipart answer (Content-ID -> attachment).

    .. versionadded:: 2.0
    """

    def __init__(self, status: int, reason: str, headers: dict[str, str]) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.response_body: bytes = b""
        self.response_dict: dict[str, Any] = {}
        self.attachments: dict[str, attachment] = {}

    @property
    def is_fault(self) -> bool:
        return self.response_dict.get("type") == "jsonwsp/fault"

    @property
    def fault(self) -> dict[str, Any] | None:
        """The ``fault`` member of a fault answer, else ``None``."""
        if not self.is_fault:
            return None
        fault = self.response_dict.get("fault")
        return fault if isinstance(fault, dict) else {}

    @property
    def result(self) -> Any:
        """The method's result.

        :raises JSONWSPFault: the answer is a fault.
        """
        fault = self.fault
        if fault is not None:
            raise JSONWSPFault(fault, self)
        return self.response_dict.get("result")

    def close(self) -> None:
        """Close the attachments of the answer (their files are removed)."""
        for a in self.attachments.values():
            a.close()
        self.attachments = {}

    def __enter__(self) -> JSONWSPResponse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    def __repr__(self) -> str:
        return f"<JSONWSPResponse {self.status} {self.response_dict.get('type', '')}>"


class _Files:
    """The files of one request, named ``file1``, ``file2``..."""

    def __init__(self) -> None:
        self.parts: list[tuple[str, attachment]] = []
        self.opened: list[IO[bytes]] = []

    def ref(self, value: object) -> str | None:
        att: attachment | None = None
        if isinstance(value, attachment):
            att = value
        elif hasattr(value, "read") and callable(value.read) and not isinstance(value, str):
            att = attachment(value)  # type: ignore[arg-type]
        elif isinstance(value, str) and value.startswith("@") and os.path.isfile(value[1:]):
            f = open(value[1:], "rb")
            self.opened.append(f)
            name = os.path.basename(value[1:])
            att = attachment(f, headers={"Content-Disposition": f'attachment; filename="{name}"'})
        if att is None:
            return None
        cid = f"file{len(self.parts) + 1}"
        self.parts.append((cid, att))
        return f"cid:{cid}"

    def walk(self, value: Any) -> Any:
        ref = self.ref(value)
        if ref is not None:
            return ref
        if isinstance(value, Mapping):
            return {k: self.walk(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.walk(v) for v in value]
        return value

    def close(self) -> None:
        for f in self.opened:
            f.close()


class JSONWSPClient:
    """A client of one service's ``jsonwsp`` interface.

    :param description: URL of the service's JSON-WSP description
        (``.../<Service>/jsonwsp/description``); the client then knows the
        methods (``client.add(...)``, :meth:`list_methods`) and the endpoint.
    :param url: the endpoint URL (``.../<Service>/jsonwsp``), when no
        description is loaded (or to override the one it gives).
    :param debug: log requests and answers on the ``ladon.client`` logger.
    :param via_proxy: send Ladon 1.0's ``Ladon-Proxy-Path`` header.
    :param cookies: cookies sent with every request.
    :param headers: headers sent with every request.
    :param timeout: seconds to wait for the server.
    :param raise_faults: raise :class:`JSONWSPFault` for fault answers
        (and :class:`JSONWSPError` for non-JSON-WSP answers); ``False``
        returns them as responses, as Ladon 1.0 did.
    :param auth: ``(user, password)`` sent as HTTP Basic credentials with
        every request (the description's too).
    :param bearer_token: a token sent as ``Authorization: Bearer`` with
        every request.

    .. versionadded:: 2.0
    """

    def __init__(
        self,
        description: str | None = None,
        url: str | None = None,
        debug: bool = False,
        via_proxy: bool = False,
        cookies: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        timeout: float = 60.0,
        raise_faults: bool = True,
        auth: tuple[str, str] | None = None,
        bearer_token: str | None = None,
    ) -> None:
        self.cookie_dict: dict[str, str] = dict(cookies or {})
        self.header_dict: dict[str, str] = dict(headers or {})
        if auth is not None and bearer_token is not None:
            raise ValueError("give auth (Basic) or bearer_token, not both")
        self._authorization: str | None = None
        if auth is not None:
            user, password = auth
            pair = f"{user}:{password}".encode()
            self._authorization = "Basic " + base64.b64encode(pair).decode("ascii")
        elif bearer_token is not None:
            self._authorization = f"Bearer {bearer_token}"
        self.debug = debug
        self.via_proxy = via_proxy
        self.timeout = timeout
        self.raise_faults = raise_faults
        self.url: str | None = None
        self.jsonwsp_description: dict[str, Any] | None = None
        if description:
            self.jsonwsp_description = self._fetch_description(description)
            described = self.jsonwsp_description.get("url")
            if isinstance(described, str) and described:
                self.url = described
        if url:
            self.url = url
        if self.url is None:
            raise ValueError("JSONWSPClient needs a description URL or an endpoint url")
        _split(self.url)  # a bad URL fails here, not at the first call

    @property
    def description_loaded(self) -> bool:
        return self.jsonwsp_description is not None

    # -- Ladon 1.0 header and cookie helpers ---------------------------------------

    def add_cookie(self, name: str, value: str) -> None:
        self.cookie_dict[name] = value

    def remove_cookie(self, name: str) -> None:
        self.cookie_dict.pop(name, None)

    def add_header(self, name: str, value: str) -> None:
        self.header_dict[name] = value

    def remove_header(self, name: str) -> None:
        self.header_dict.pop(name, None)

    # -- description ---------------------------------------------------------------

    def list_methods(self) -> list[str]:
        """The method names of the loaded description."""
        return list(self._methods())

    def method_info(self, method_name: str) -> dict[str, Any]:
        """Parameters (in order, mandatory and optional), docs and return
        type of a described method (Ladon 1.0's shape).

        :raises KeyError: the description has no such method.
        """
        minfo = self._methods()[method_name]
        params: dict[str, Any] = minfo.get("params", {})
        order = sorted(params, key=lambda p: params[p].get("def_order", 0))
        return {
            "method_name": method_name,
            "params_order": order,
            "mandatory_params": [p for p in order if not params[p].get("optional")],
            "optional_params": [p for p in order if params[p].get("optional")],
            "params_info": params,
            "doc_lines": minfo.get("doc_lines", []),
            "ret_info": minfo.get("ret_info", {}),
        }

    def _methods(self) -> dict[str, Any]:
        if self.jsonwsp_description is None:
            raise RuntimeError("no description loaded: pass description=URL")
        methods = self.jsonwsp_description.get("methods")
        return methods if isinstance(methods, dict) else {}

    def __getattr__(self, name: str) -> Callable[..., JSONWSPResponse]:
        desc = self.__dict__.get("jsonwsp_description")
        if name.startswith("_") or not desc or name not in (desc.get("methods") or {}):
            raise AttributeError(name)

        def method(**kw: Any) -> JSONWSPResponse:
            return self.call_method(name, **kw)

        method.__name__ = name
        return method

    # -- calls ---------------------------------------------------------------------

    def call(self, method_name: str, /, **kw: Any) -> Any:
        """Call a method and return its result. Attachments in it are the
        caller's to close.

        :raises JSONWSPFault: the service answered with a fault.
        :raises JSONWSPError: the answer is not JSON-WSP.
        """
        response = self.call_method(method_name, **kw)
        if response.is_fault:
            raise JSONWSPFault(response.fault or {}, response)
        if response.response_dict.get("type") != "jsonwsp/response":
            raise JSONWSPError(f"not a JSON-WSP answer (HTTP {response.status})", response.status)
        result = response.result
        response.attachments = {}  # the caller owns (and closes) them now
        return result

    def call_method(self, method_name: str, **kw: Any) -> JSONWSPResponse:
        """Call a method with named arguments (``mirror=`` and
        ``extra_headers=`` are taken as in Ladon 1.0).

        :raises TypeError: the description says a mandatory argument is missing.
        :raises JSONWSPFault: a fault answer (when ``raise_faults``).
        :raises JSONWSPError: the answer is not JSON-WSP (when ``raise_faults``).
        """
        extra_headers = kw.pop("extra_headers", None)
        data: dict[str, Any] = {"methodname": method_name}
        if "mirror" in kw:
            data["mirror"] = kw.pop("mirror")
        if self.description_loaded and method_name in self._methods():
            missing = [p for p in self.method_info(method_name)["mandatory_params"] if p not in kw]
            if missing:
                raise TypeError(f"{method_name}() is missing argument(s): {', '.join(missing)}")
        files = _Files()
        try:
            data["args"] = files.walk(kw)
            body = json.dumps(data, ensure_ascii=False).encode("utf-8")
            if files.parts:
                response = self._post_multipart(body, files.parts, extra_headers)
            else:
                response = self._request(
                    "POST", self._endpoint(), body, "application/json; charset=utf-8", extra_headers
                )
        finally:
            files.close()
        if self.raise_faults:
            if response.is_fault:
                raise JSONWSPFault(response.fault or {}, response)
            if response.status != 200 or not response.response_dict:
                text = response.response_body[:200].decode("utf-8", "replace").strip()
                raise JSONWSPError(
                    f"HTTP {response.status} {response.reason}: {text}", response.status
                )
        return response

    # -- transport -----------------------------------------------------------------

    def _endpoint(self) -> str:
        assert self.url is not None
        return self.url

    def _fetch_description(self, url: str) -> dict[str, Any]:
        response = self._request("GET", url, None, None, None)
        desc = response.response_dict
        if response.status != 200 or desc.get("type") != "jsonwsp/description":
            raise JSONWSPError(
                f"{url} is not a JSON-WSP description (HTTP {response.status})", response.status
            )
        return desc

    def _headers(self, content_type: str | None, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = {"Accept": "application/json, multipart/related"}
        if self._authorization is not None:
            headers["Authorization"] = self._authorization
        if content_type:
            headers["Content-Type"] = content_type
        headers.update(self.header_dict)
        if extra:
            headers.update(extra)
        if self.cookie_dict:
            cookies = "; ".join(f"{k}={v}" for k, v in self.cookie_dict.items())
            headers["Cookie"] = (
                f"{headers['Cookie']}; {cookies}" if "Cookie" in headers else cookies
            )
        return headers

    def _post_multipart(
        self,
        body: bytes,
        files: list[tuple[str, attachment]],
        extra: Mapping[str, str] | None,
    ) -> JSONWSPResponse:
        parts: list[tuple[list[tuple[str, str]], bytes | IO[bytes]]] = [
            ([("Content-Type", "application/json; charset=utf-8"), ("Content-ID", "body")], body)
        ]
        for cid, att in files:
            parts.append((attachment_headers(att, cid), att.bufferobj))
        writer = MultipartWriter(parts)
        ctype = f'multipart/related; type="application/json"; boundary={writer.boundary}'
        return self._request("POST", self._endpoint(), writer, ctype, extra)

    def _request(
        self,
        method: str,
        url: str,
        body: bytes | MultipartWriter | None,
        content_type: str | None,
        extra: Mapping[str, str] | None,
    ) -> JSONWSPResponse:
        scheme, host, port, path = _split(url)
        conn: http.client.HTTPConnection
        if scheme == "https":
            conn = http.client.HTTPSConnection(host, port, timeout=self.timeout)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
        headers = self._headers(content_type, extra)
        if self.via_proxy:
            headers["Ladon-Proxy-Path"] = url
        try:
            if isinstance(body, MultipartWriter):
                length = body.length
                if length is not None:
                    headers["Content-Length"] = str(length)
                    conn.request(method, path, _iterate(body), headers)
                else:
                    conn.request(method, path, _iterate(body), headers, encode_chunked=True)
            else:
                conn.request(method, path, body, headers)
            if self.debug:
                logger.debug("%s %s (%s)", method, url, content_type or "no body")
            response = _parse_response(conn.getresponse())
            if self.debug:
                logger.debug("HTTP %s: %s", response.status, response.response_body[:2000])
            return response
        except (OSError, http.client.HTTPException) as exc:
            raise JSONWSPError(f"cannot reach {scheme}://{host}:{port}{path}: {exc}") from exc
        except ServiceFault as exc:  # a malformed multipart answer
            raise JSONWSPError(f"malformed answer from {url}: {exc}") from exc
        finally:
            conn.close()


def _iterate(writer: MultipartWriter) -> Iterable[bytes]:
    yield from writer


def _split(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    port = parts.port or (443 if scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, parts.hostname, port, path


def _parse_response(raw: http.client.HTTPResponse) -> JSONWSPResponse:
    headers = {k.upper(): v for k, v in raw.getheaders()}
    response = JSONWSPResponse(raw.status, raw.reason, headers)
    ctype = headers.get("CONTENT-TYPE", "")
    charset = probe_charset(headers)
    if is_multipart(ctype) and boundary_of(ctype):
        parts = read_multipart(raw.read, boundary_of(ctype) or b"", _CLIENT_LIMITS)
        root: Part = parts[0]
        response.response_body = root.file.read()
        charset = probe_charset({"CONTENT-TYPE": root.content_type}, charset)
        for p in parts[1:]:
            response.attachments[p.content_id or f"part{len(response.attachments) + 1}"] = (
                attachment(p.file, p.size, p.headers)
            )
        close_parts([root])
    else:
        response.response_body = raw.read()
    try:
        decoded = json.loads(response.response_body.decode(charset))
    except (ValueError, LookupError):
        decoded = None
    if isinstance(decoded, dict):
        response.response_dict = _with_attachments(decoded, response.attachments)
    return response


def _with_attachments(data: dict[str, Any], files: Mapping[str, attachment]) -> dict[str, Any]:
    """Replace ``"cid:<id>"`` references in ``result`` by the attachments."""
    if not files or "result" not in data:
        return data

    def walk(v: Any) -> Any:
        if isinstance(v, str) and v[:4].lower() == "cid:":
            key = v[4:]
            return files.get(key) or files.get(f"<{key}>") or v
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    return {**data, "result": walk(data["result"])}


__all__ = ["JSONWSPClient", "JSONWSPError", "JSONWSPFault", "JSONWSPResponse", "probe_charset"]
