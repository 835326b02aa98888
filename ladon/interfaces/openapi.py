"""OpenAPI 3.1 documents of the ``http`` interface, rendered from the
service model.

One document per service (``/<Service>/http/description``): every method
an operation (``operationId`` = the method name), every LadonType and enum
a schema component with its constraints and docs, faults as RFC 9457
problem responses (the component ``Problem``; ``ladon.Problem`` in the
document of a service that has a type of that name), task starts as ``202`` with a ``Location`` header, the
task resources as their own paths. The catalog document
(``/_ladon/openapi.json``) holds every service, its paths under
``/<Service>/http/``, its operations and components named
``<Service>.<name>``, and the problem schema as ``ladon.Problem``.

.. versionadded:: 2.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..ladonizer.model import MethodInfo
from ..ladonizer.model import MethodKind
from ..ladonizer.model import ServiceInfo
from ..types.naming import described_names
from ..types.spec import TypeSpec
from ..types.spec import is_attachment
from ._jsonschema import ATTACHMENT_SCHEMA
from ._jsonschema import SchemaBuilder

OPENAPI_VERSION = "3.1.0"
#: What every document says it is (``info.version``).
API_VERSION = "1.0"
#: The component name of the problem schema in a service's document.
PROBLEM = "Problem"
#: Put before it while a type of the document has its name (and always in
#: the catalog document, whose own components are ``<Service>.<name>``).
PROBLEM_PREFIX = "ladon."
_FOLLOW = (
    MethodKind.TASK_PROGRESS,
    MethodKind.TASK_RESULT,
    MethodKind.TASK_CANCEL,
    MethodKind.TASK_WAIT,
)
_STATUS_TEXT = {
    400: "The request is malformed, or the service refused it (a client fault)",
    401: "Credentials are missing or wrong (see WWW-Authenticate)",
    403: "The caller lacks the role the method needs",
    404: "No such task (unknown, expired, or started by another method)",
    409: "The task has no result: it is still running, or was cancelled",
    413: "The request is too large",
    415: "The body is neither JSON nor multipart/form-data",
    422: "An argument is missing, unknown, of the wrong type or breaks a declared constraint",
    500: "The service failed",
    503: "Too many calls wait for tasks in this process (see Retry-After), or the task "
    "store is unavailable",
}
#: An Idempotency-Key as the server takes it unquoted
#: (:func:`ladon.tasks.idempotency.check_key`): printable ASCII without a
#: comma, not starting with a double quote (a quoted key is unquoted first),
#: without blanks at either end (they are cut off).
IDEMPOTENCY_KEY_PATTERN = r"^[!#-+\x2d-~]([ -+\x2d-~]*[!-+\x2d-~])?$"
#: The request header every task start reads (docs/tasks.rst).
_IDEMPOTENCY_HEADER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Starts the task once per key: the same key with the same "
    "arguments answers the same task; with other arguments, 422",
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
        "pattern": IDEMPOTENCY_KEY_PATTERN,
    },
}
#: The request header a task start reads where the application sends
#: completion callbacks (``callback_hosts``); elsewhere every value is a 400.
_CALLBACK_HEADER: dict[str, Any] = {
    "name": "Ladon-Callback-URL",
    "in": "header",
    "required": False,
    "description": "Where a signed POST goes when the task ends (hosts the "
    "server's operator allows; any other URL is a 400)",
    "schema": {"type": "string", "format": "uri", "maxLength": 2048},
}
_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem detail: what went wrong, and where.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "The fault's message."},
        "code": {"type": "string", "enum": ["client", "server"]},
        "path": {
            "type": "string",
            "description": "Where the bad value sits, e.g. items[2].price.",
        },
        "hint": {"type": "string"},
        "trace": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["type", "title", "status", "detail", "code"],
}


#: The security schemes of the authenticators that read HTTP (a SOAP
#: UsernameToken is not one of them): the scheme's name in
#: ``components/securitySchemes``, and its description.
_SCHEMES: dict[str, tuple[str, dict[str, Any]]] = {
    "Basic": ("basicAuth", {"type": "http", "scheme": "basic"}),
    "Bearer": ("bearerAuth", {"type": "http", "scheme": "bearer"}),
    "RemoteUser": (
        "serverAuth",
        {
            "type": "http",
            "scheme": "basic",
            "description": "Authenticated by the server in front of the application "
            "(REMOTE_USER), e.g. Apache with AuthType Basic",
        },
    ),
}


class _Document:
    """Builds one document; ``prefix`` names services apart in the catalog."""

    def __init__(self, catalog: bool, problem_name: str) -> None:
        self.catalog = catalog
        self.paths: dict[str, dict[str, Any]] = {}
        self.components: dict[str, dict[str, Any]] = {}
        self.problem_name = problem_name
        self.problem_ref = f"#/components/schemas/{self.problem_name}"
        self.schemes: dict[str, dict[str, Any]] = {}

    def problems(self, *statuses: int) -> dict[str, Any]:
        return {
            str(s): {
                "description": _STATUS_TEXT[s],
                "content": {"application/problem+json": {"schema": {"$ref": self.problem_ref}}},
            }
            for s in statuses
        }

    def add_service(self, service: ServiceInfo, path_prefix: str, iface: str) -> None:
        prefix = f"{service.name}." if self.catalog else ""
        builder = SchemaBuilder("#/components/schemas/{}".format, prefix)
        tags = [service.name] if self.catalog else []
        schemes = [_SCHEMES[s] for s in service.auth_schemes if s in _SCHEMES]
        for name, scheme in schemes:
            self.schemes[name] = scheme
        for m in service.methods.values():
            if m.kind is MethodKind.INTROSPECTION:
                continue
            before = set(self.paths)
            op = self.operation(m, builder, prefix, tags, service.sends_callbacks)
            self.paths[f"{path_prefix}/{m.name}"] = {"post": op}
            if m.kind is MethodKind.TASK_START:
                self.task_paths(service, m, builder, path_prefix, prefix, tags)
            if schemes and m.access.needs_principal:
                # any one of the application's schemes identifies the caller
                security: list[dict[str, list[str]]] = [{name: []} for name, _ in schemes]
                refusals = self.problems(401, 403) if m.access.roles else self.problems(401)
                for path in set(self.paths) - before:
                    for operation in self.paths[path].values():
                        operation["security"] = security
                        operation["responses"] = {**operation["responses"], **refusals}
        self.components.update(builder.components)

    def operation(
        self,
        m: MethodInfo,
        builder: SchemaBuilder,
        prefix: str,
        tags: list[str],
        callbacks: bool = False,
    ) -> dict[str, Any]:
        op: dict[str, Any] = {"operationId": prefix + m.name}
        if tags:
            op["tags"] = tags
        doc = "\n".join(m.doc).strip()
        if doc:
            op["summary"] = doc.split("\n\n")[0].replace("\n", " ")[:200]
            op["description"] = doc
        params = builder.params_object(m)
        if m.takes_attachments:
            form = dict(params)
            form["properties"] = {
                p.name: (dict(ATTACHMENT_SCHEMA) if is_attachment(p.type) else schema)
                for p, schema in zip(m.params, params["properties"].values(), strict=True)
            }
            # NOTE: the default encodings say it: text for the primitives,
            # application/json for lists and objects.
            content: dict[str, Any] = {"multipart/form-data": {"schema": form}}
        else:
            content = {"application/json": {"schema": params}}
        op["requestBody"] = {"required": "required" in params, "content": content}
        statuses = [400, 413, 415, 422, 500]
        if m.kind in _FOLLOW:
            statuses.insert(1, 404)  # an unknown task
        if m.kind is MethodKind.TASK_RESULT:
            statuses.insert(2, 409)  # no result yet
        if m.kind in (MethodKind.TASK_START, MethodKind.TASK_WAIT):
            statuses.append(503)  # the store is away; too many waiting calls
        if m.kind is MethodKind.TASK_START:
            op["parameters"] = (
                [_IDEMPOTENCY_HEADER, _CALLBACK_HEADER] if callbacks else [_IDEMPOTENCY_HEADER]
            )
        op["responses"] = {**self.success(m, builder), **self.problems(*statuses)}
        return op

    def success(self, m: MethodInfo, builder: SchemaBuilder) -> dict[str, Any]:
        rdoc = "\n".join(m.rtype_doc).strip() or "The result"
        if is_attachment(m.rtype):
            # The file's own type (an attachment says it): any; named as
            # octet-stream too, which generators read as a file.
            files = {"schema": dict(ATTACHMENT_SCHEMA)}
            return {
                "200": {
                    "description": rdoc,
                    "content": {"application/octet-stream": files, "*/*": dict(files)},
                }
            }
        body = {"application/json": {"schema": builder.result(m)}}
        if m.kind is MethodKind.TASK_START:
            return {
                "202": {
                    "description": "The task was started; follow it at the Location URL",
                    "headers": {
                        "Location": {
                            "description": "The task's status resource",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    },
                    "content": body,
                }
            }
        return {"200": {"description": rdoc, "content": body}}

    def task_paths(
        self,
        service: ServiceInfo,
        start: MethodInfo,
        builder: SchemaBuilder,
        path_prefix: str,
        prefix: str,
        tags: list[str],
    ) -> None:
        base = f"{path_prefix}/{start.name}/tasks/{{task_id}}"
        task_id = {
            "name": "task_id",
            "in": "path",
            "required": True,
            "description": f"The id {start.name} returned",
            "schema": {"type": "string"},
        }

        def op(method: str, summary: str, responses: dict[str, Any]) -> dict[str, Any]:
            out: dict[str, Any] = {"operationId": prefix + method, "summary": summary}
            if tags:
                out["tags"] = tags
            out["parameters"] = [task_id]
            out["responses"] = responses
            return out

        progress = service.methods[start.name + "_progress"]
        result = service.methods[start.name + "_result"]
        progress_body = {
            "200": {
                "description": "The task's state and progress",
                "content": {"application/json": {"schema": builder.result(progress)}},
            }
        }
        get = op(
            f"{start.name}_status",
            f"Progress and state of a task started with {start.name}",
            {**progress_body, **self.problems(400, 404, 500)},
        )
        wait = service.methods.get(start.name + "_wait")
        if wait is not None:  # a bad wait is 422, too many waiting calls 503
            get["responses"] = {**get["responses"], **self.problems(422, 503)}
            get["parameters"] = [
                task_id,
                {
                    "name": "wait",
                    "in": "query",
                    "required": False,
                    "description": "Answer once the task has ended or after this many "
                    "seconds (capped by the server)",
                    "schema": {"type": "number", "minimum": 0},
                },
            ]
        self.paths[base] = {"get": get}
        self.paths[base + "/result"] = {
            "get": op(
                f"{start.name}_task_result",
                f"The result of a task started with {start.name}",
                {
                    "200": {
                        "description": "The task's result",
                        "content": {"application/json": {"schema": builder.result(result)}},
                    },
                    **self.problems(400, 404, 409, 500),
                },
            )
        }
        self.paths[base + "/cancel"] = {
            "post": op(
                f"{start.name}_task_cancel",
                f"Ask a task started with {start.name} to stop",
                {**progress_body, **self.problems(400, 404, 500)},
            )
        }

    def finish(self, info: dict[str, Any], servers: list[dict[str, Any]]) -> dict[str, Any]:
        schemas = dict(sorted(self.components.items()))
        schemas[self.problem_name] = _PROBLEM_SCHEMA
        return {
            "openapi": OPENAPI_VERSION,
            "info": info,
            "servers": servers,
            "paths": self.paths,
            "components": {
                "schemas": schemas,
                **({"securitySchemes": dict(self.schemes)} if self.schemes else {}),
            },
        }


def _component_names(service: ServiceInfo, prefix: str) -> set[str]:
    """The names :class:`SchemaBuilder` gives the service's components (its
    LadonTypes and enums), each after ``prefix``."""
    specs: list[TypeSpec] = []
    for m in service.methods.values():
        specs.extend(p.type for p in m.params)
        specs.append(m.rtype)
    return {
        prefix + name
        for name, named in described_names(service.types, specs)
        if isinstance(named, type)
    }


def _problem_name(services: Sequence[ServiceInfo], catalog: bool) -> str:
    """The component name of the problem schema: :data:`PROBLEM` (with
    :data:`PROBLEM_PREFIX` in the catalog), prefixed (again) while a
    component of the document has that name: a user type ``Problem`` keeps
    its name, which the other descriptions give it too."""
    taken: set[str] = set()
    for s in services:
        taken |= _component_names(s, f"{s.name}." if catalog else "")
    name = PROBLEM_PREFIX + PROBLEM if catalog else PROBLEM
    while name in taken:
        name = PROBLEM_PREFIX + name
    return name


def openapi_document(
    services: Sequence[ServiceInfo],
    base_url: str,
    iface: str = "http",
    *,
    title: str | None = None,
    description: str = "",
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of one service (``services`` holds one) or,
    with several, of a catalog of them.

    :param base_url: the application's public URL (``base_url`` or rebuilt
        from the request, SCRIPT_NAME included).
    :param iface: the name the ``http`` interface is served under.
    :param title: the catalog document's title.

    .. versionadded:: 2.0
    """
    catalog = len(services) != 1 or title is not None
    doc = _Document(catalog, _problem_name(services, catalog))
    if not catalog:
        service = services[0]
        doc.add_service(service, "", iface)
        info: dict[str, Any] = {"title": service.name, "version": API_VERSION}
        if service.doc:
            info["description"] = service.doc
        return doc.finish(info, [{"url": f"{base_url}/{service.name}/{iface}"}])
    for service in services:
        doc.add_service(service, f"/{service.name}/{iface}", iface)
    info = {"title": title or "Ladon Service Catalog", "version": API_VERSION}
    if description:
        info["description"] = description
    out = doc.finish(info, [{"url": base_url or "/"}])
    out["tags"] = [
        {
            "name": s.name,
            **({"description": s.doc} if s.doc else {}),
            "externalDocs": {
                "description": f"The OpenAPI document of {s.name} alone",
                "url": f"{base_url}/{s.name}/{iface}/description",
            },
        }
        for s in services
    ]
    return out
