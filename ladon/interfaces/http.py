"""Plain JSON over HTTP (``http``), described by OpenAPI 3.1.

One URL per method under the interface's URL, ``/<Service>/http/``:

======================================  =====================================
``POST /<method>``                      call: a JSON object of the named
                                        arguments (an empty body: none); the
                                        result is the JSON body (200)
``POST /<task>``                        start a task: ``202 Accepted``,
                                        ``Location`` of its status resource,
                                        the ``TaskInfoResponse`` as body
``GET /<task>/tasks/<id>``              the task's ``TaskProgressResponse``
``GET /<task>/tasks/<id>/result``       its result (409 while it runs)
``POST /<task>/tasks/<id>/cancel``      ask it to stop (``TaskProgressResponse``)
``GET /description``                    the OpenAPI 3.1 document
======================================  =====================================

A method's URL holds its name as UTF-8, %-escaped (``def größe`` is
``POST /gr%C3%B6%C3%9Fe``), and so does a ``Location``.

Arguments are strict JSON: each value must have the JSON type its schema
names (``40``, not ``"40"``, for an ``int``; ``null`` only where ``None`` is
allowed), and unknown names are refused. A method taking attachments takes
``multipart/form-data``: one part per argument, named after it; a file part
for each attachment, a JSON part (or plain form text, read as a JSON value
when it parses as one) for the others. A method returning an attachment
answers with the file itself.

Faults are RFC 9457 ``application/problem+json``::

    {"type": "about:blank", "title": "Unprocessable Content", "status": 422,
     "detail": "Argument \\"items[2].price\\": must be ≥ 0, got -1",
     "code": "client", "path": "items[2].price", "hint": ""}

with 400 (malformed request, or a ``ClientFault`` of the service), 401/403
(authentication faults), 404 (no such method or task), 405 (wrong HTTP
method, with ``Allow``), 409 (a task result asked for too early), 413 (too
large), 415 (not JSON nor form data), 422 (an argument missing, unknown, of
the wrong type or breaking a declared constraint) and 500 (a server fault;
no traceback unless in debug mode).

.. versionadded:: 2.0
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import functools
import http
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from typing import ClassVar
from urllib.parse import parse_qs
from urllib.parse import quote

from ..exceptions.service import ArgumentError
from ..exceptions.service import ClientFault
from ..exceptions.service import MalformedRequest
from ..exceptions.service import ResultError
from ..exceptions.service import ServerFault
from ..exceptions.service import ServiceFault
from ..exceptions.service import TaskNotReady
from ..exceptions.service import UnknownMethod
from ..exceptions.service import UnknownResource
from ..ladonizer.model import MethodInfo
from ..ladonizer.model import MethodKind
from ..ladonizer.model import ServiceInfo
from ..types.attachment import AttachmentSet
from ..types.attachment import attachment
from ..types.convert import Options
from ..types.convert import load
from ..types.spec import base_of
from ..types.spec import is_attachment
from ._json import decode_text
from ._json import dumps_bytes
from ._json import loads_json
from .base import Call
from .base import Interface
from .base import Payload
from .base import WireRequest
from .openapi import openapi_document

PROBLEM_JSON = "application/problem+json"
#: Types whose JSON values are strings (a form part gives them as text).
_TEXT = frozenset({str, bytes, datetime.datetime, datetime.date, decimal.Decimal})
_FORM = "multipart/form-data"


class MethodNotAllowed(ClientFault):
    """The URL does not take this HTTP method (405, with ``Allow``).

    .. versionadded:: 2.0
    """

    http_status: int | None = 405

    def __init__(self, message: str, allow: tuple[str, ...]) -> None:
        super().__init__(message)
        self.allow = allow


class UnsupportedMediaType(ClientFault):
    """The body is neither JSON nor form data (415).

    .. versionadded:: 2.0
    """

    http_status: int | None = 415


@dataclass(slots=True)
class HTTPCall(Call):
    """A call of the ``http`` interface: also the application's public URL,
    for the ``Location`` of a task's status resource.

    .. versionadded:: 2.0
    """

    base_url: str = ""


def problem_status(fault: ServiceFault) -> int:
    """The HTTP status of a fault on the ``http`` interface.

    .. versionadded:: 2.0
    """
    if fault.http_status is not None:
        return fault.http_status
    if isinstance(fault, UnknownMethod | UnknownResource):
        return 404
    if isinstance(fault, TaskNotReady):
        return 409
    if isinstance(fault, ArgumentError):
        return 422
    if fault.is_client:
        return 400
    return 500


@functools.lru_cache(maxsize=128)
def _json_type(ctype: str) -> bool:
    media = ctype.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and "+json" in media)


def _form_name(att: attachment) -> str | None:
    """The ``name`` of a form-data part's Content-Disposition."""
    disposition = att.headers.get("content-disposition", "")
    for item in disposition.split(";")[1:]:
        key, _, value = item.strip().partition("=")
        if key.strip().lower() == "name":
            return value.strip().strip('"')
    return None


class HTTPInterface(Interface):
    """The ``http`` interface: plain JSON over HTTP (see the module docs).

    .. versionadded:: 2.0
    """

    name: ClassVar[str] = "http"
    content_type: ClassVar[str] = "application/json"
    accepts_attachments: ClassVar[bool] = True
    accepts_form_data: ClassVar[bool] = True
    #: every HTTP method reaches the interface, which answers 405 (with
    #: ``Allow``) for those a URL does not take
    http_methods: ClassVar[frozenset[str] | None] = None
    empty_body_ok: ClassVar[bool] = True
    wants_base_url: ClassVar[bool] = True
    http_errors_as_faults: ClassVar[bool] = True

    def __init__(self, service: ServiceInfo, *, debug: bool = False) -> None:
        super().__init__(service, debug=debug)
        #: method name -> its conversion options, strict
        self._strict: dict[str, Options] = {}
        #: subpath of a plain method ("/add") -> the method and its strict
        #: options: the calls answered without the public URL or a Location
        self._plain: dict[str, tuple[MethodInfo, Options]] = {}
        for m in service.methods.values():
            if m.kind is MethodKind.PLAIN and not m.returns_attachments:
                plan = (m, dataclasses.replace(m.options, strict=True))
                self._plain["/" + m.name] = plan
                self._strict[m.name] = plan[1]

    # -- requests --------------------------------------------------------------------

    def needs_base_url(self, subpath: str) -> bool:
        """Only task starts (their ``Location``) and the task resources
        write URLs: a plain call is answered without the public URL."""
        if subpath in self._plain:
            return False
        name = subpath[1:] if subpath[:1] == "/" else subpath
        if "/" in name:
            return True
        m = self.service.methods.get(name)
        return m is None or m.kind is MethodKind.TASK_START  # unknown: decode_call says

    def decode_call(self, request: WireRequest) -> Call:
        path = request.path
        plan = self._plain.get(path)
        if plan is not None and request.method == "POST":
            # PERF: a plain method posted to, the usual call
            m = plan[0]
            attachments = request.attachments
            values = self._values(m, request)
            args = self.bind_named(m, values, attachments, plan[1], null_is_default=False)
            return HTTPCall(m, args, attachments=attachments, base_url=request.base_url)
        parts = path[1:].split("/") if path[:1] == "/" else [p for p in path.split("/") if p]
        verb = request.method.upper()
        if len(parts) == 1 and parts[0]:
            m = self.method(parts[0])
            if verb != "POST":
                raise MethodNotAllowed(f"{m.name} is called with POST", ("POST",))
            return HTTPCall(
                m,
                self._arguments(m, request),
                attachments=request.attachments,
                base_url=request.base_url,
            )
        parts = [p for p in parts if p]
        endpoint = request.base_url
        if len(parts) in (3, 4) and parts[1] == "tasks":
            return self._task_call(parts, verb, request, endpoint)
        shown = request.path if len(request.path) <= 60 else request.path[:57] + "..."
        raise UnknownResource(f"Service {self.service.name} has no resource {shown!r}")

    def _task_call(
        self, parts: list[str], verb: str, request: WireRequest, endpoint: str
    ) -> HTTPCall:
        start = self.service.methods.get(parts[0])
        if start is None or start.kind is not MethodKind.TASK_START:
            raise UnknownResource(f"{parts[0]!r} is not a task method of {self.service.name}")
        task_id = parts[2]
        action = parts[3] if len(parts) == 4 else ""
        if action == "":
            suffix, allowed = "_progress", "GET"
            query = parse_qs(request.query, keep_blank_values=True)  # "?wait=" is no number
            wait = self.service.methods.get(start.name + "_wait")
            if "wait" in query and wait is not None and verb == "GET":
                # the long-running-operation method: wait for the task to end
                spec = wait.params[1].type if len(wait.params) > 1 else float
                timeout = load(spec, query["wait"][-1], "wait", wait.options)
                return HTTPCall(wait, [task_id, timeout], base_url=endpoint)
        elif action == "result":
            suffix, allowed = "_result", "GET"
        elif action == "cancel":
            suffix, allowed = "_cancel", "POST"
        else:
            raise UnknownResource(f"A task has no resource {action[:40]!r}")
        if verb != allowed:
            raise MethodNotAllowed(f"This task resource takes {allowed}", (allowed,))
        return HTTPCall(self.method(start.name + suffix), [task_id], base_url=endpoint)

    def _arguments(self, m: MethodInfo, request: WireRequest) -> list[Any]:
        return self._bind(m, self._values(m, request), request.attachments)

    def _values(self, m: MethodInfo, request: WireRequest) -> Mapping[str, Any]:
        """The named arguments a request carries (JSON or form data)."""
        ctype = request.content_type
        body = request.body
        if ctype[:19].lower() == _FORM:
            return self._form_values(m, request.attachments)
        if (ctype == "application/json" or _json_type(ctype)) and body and not body.isspace():
            values = loads_json(body, ctype)
            if not isinstance(values, dict):
                raise MalformedRequest("The request body must be a JSON object of named arguments")
            return values
        if not body.strip():
            return {}
        media = ctype.split(";")[0].strip()[:60] or "none"
        raise UnsupportedMediaType(
            f"Send the arguments as application/json (or multipart/form-data for "
            f"files); got Content-Type {media!r}"
        )

    def _form_values(self, m: MethodInfo, parts: AttachmentSet | None) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for part in parts or ():
            name = _form_name(part)
            if name is None:
                raise MalformedRequest("A form-data part has no name")
            if name in values:
                raise ArgumentError(name, "is given more than once")
            p = m.param(name)
            if p is not None and is_attachment(p.type):
                values[name] = part
                continue
            raw = part.read()
            if p is None:
                values[name] = None  # refused as unknown by _bind
                continue
            values[name] = self._form_value(raw, part, base_of(p.type) in _TEXT)
        return values

    def _form_value(self, raw: bytes, part: attachment, text_type: bool) -> Any:
        """A form part's value: JSON when the part says so; else its text
        for a parameter whose values are strings, its text read as JSON
        (a number, true, a list...) for the others."""
        ctype = part.headers.get("content-type", "")
        if _json_type(ctype):
            return loads_json(raw, ctype)
        text = decode_text(raw, ctype)
        if text_type:
            return text
        try:
            return json.loads(text)
        except ValueError:
            return text  # refused by the conversion, which names the argument

    def _bind(
        self, m: MethodInfo, values: Mapping[str, Any], attachments: AttachmentSet | None
    ) -> list[Any]:
        opts = self._strict.get(m.name)
        if opts is None:
            opts = self._strict[m.name] = dataclasses.replace(m.options, strict=True)
        return self.bind_named(m, values, attachments, opts, null_is_default=False)

    # -- answers ---------------------------------------------------------------------

    def encode_result(self, call: Call, result: object) -> Payload:
        m = call.method
        if m.kind is MethodKind.PLAIN and not m.returns_attachments:
            # PERF: the usual answer, a JSON value
            return Payload(dumps_bytes(self.dump_result(call, result)), self.content_type)
        if is_attachment(m.rtype) and result is not None:
            return self._file(self.dump_result(call, result))
        if m.returns_attachments:
            raise ServerFault(
                f"Method {m.name} returns attachments inside a structure, which the http "
                "interface cannot carry; call it through jsonwsp or soap"
            )
        value = self.dump_result(call, result)
        body = dumps_bytes(value)
        if m.kind is MethodKind.TASK_START and isinstance(value, dict):
            # NOTE: a header is latin-1; a URL's non-ASCII name is UTF-8,
            # %-escaped (the router reads it back so)
            location = f"/{quote(m.name)}/tasks/{quote(str(value.get('task_id', '')))}"
            if isinstance(call, HTTPCall) and call.base_url:
                location = self.endpoint_url(call.base_url) + location
            return Payload(body, self.content_type, 202, (("Location", location),))
        return Payload(body, self.content_type)

    def _file(self, value: object) -> Payload:
        if not isinstance(value, attachment):
            raise ResultError("result", "expected an attachment")
        ctype = value.headers.get("content-type") or "application/octet-stream"
        return Payload(value.read(), ctype)

    def encode_fault(self, fault: ServiceFault, call: Call | None) -> Payload:
        status = problem_status(fault)
        try:
            title = http.HTTPStatus(status).phrase
        except ValueError:
            title = "Error"
        problem: dict[str, Any] = {
            "type": "about:blank",
            "title": title,
            "status": status,
            "detail": fault.faultstring,
            "code": fault.faultcode,
        }
        path = getattr(fault, "path", None)
        if isinstance(path, str) and path and fault.is_client:
            problem["path"] = path
        if fault.hint:
            problem["hint"] = fault.hint
        if fault.detail:
            problem["trace"] = fault.detail.splitlines()
        headers: tuple[tuple[str, str], ...] = ()
        allow = getattr(fault, "allow", None)
        if status == 405 and isinstance(allow, tuple):
            headers = (("Allow", ", ".join(allow)),)
        return Payload(dumps_bytes(problem), PROBLEM_JSON, status, headers)

    # -- description -------------------------------------------------------------------

    def describe(self, base_url: str, query: Mapping[str, str]) -> Payload:
        doc = openapi_document([self.service], base_url, self.name)
        return Payload(dumps_bytes(doc), "application/json")
