"""Jobs as data: what a backend that runs tasks elsewhere needs to know.

The thread backend runs the callable the framework hands it and keeps what
it returns. A backend that keeps results outside the process (SQLite,
Redis) writes that value as *typed JSON* (:func:`to_json`): the framework's
jobs return their result already in the plain form
:func:`ladon.types.convert.dump` gives. A backend that runs tasks in
another process (RQ workers) needs the whole call as data: the service, the
method and the arguments in that same typed JSON. Never pickles: a worker
rebuilds the call from text it can check.

The framework's jobs (:class:`ladon.tasks.execution.ServiceJob`) are
:class:`DescribedJob` objects.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from typing import Protocol

from ..types.attachment import attachment
from .base import TaskHandle

#: The key of the JSON object standing for an attachment (never a field
#: name: it is not a Python identifier).
ATTACHMENT_KEY = "$attachment"


@dataclass(frozen=True, slots=True)
class JobSpec:
    """One call of a task method, described as data.

    :param service: the service's name (``ServiceInfo.name``).
    :param method: the task method's published name.
    :param args: JSON text of the list of arguments in typed JSON, in
        parameter order (see :func:`to_json`).
    :param environ: JSON text of the portable part of the request's WSGI
        environ (text values such as ``REMOTE_ADDR`` and ``HTTP_*``, without
        credentials), for methods that take ``**kw``.
    :param principal: JSON text of the caller (``{"name": ..., "roles":
        [...]}``), or ``""`` for an anonymous one.
    :param traceparent: the W3C ``traceparent`` of the start call's span
        (the task's span is its child), or ``""``.

    .. versionadded:: 2.0
    """

    service: str
    method: str
    args: str = "[]"
    environ: str = "{}"
    principal: str = ""
    traceparent: str = ""


class DescribedJob(Protocol):
    """A job that can also be described as data, to run in another process.

    .. versionadded:: 2.0
    """

    def __call__(self, handle: TaskHandle) -> object:
        """Run the job here; return its result."""
        ...

    def describe(self) -> JobSpec:
        """Return the job as data. Attachments are read into the description
        (and closed); the job must not be called afterwards."""
        ...


def _default(value: object) -> object:
    if isinstance(value, attachment):
        data = value.read()
        encoded = base64.b64encode(data).decode("ascii")
        return {ATTACHMENT_KEY: encoded, "headers": dict(value.headers)}
    if isinstance(value, bytes | bytearray):
        return {ATTACHMENT_KEY: base64.b64encode(bytes(value)).decode("ascii"), "headers": {}}
    raise TypeError(f"a {type(value).__name__} cannot be written as typed JSON")


def _hook(obj: dict[str, Any]) -> object:
    encoded = obj.get(ATTACHMENT_KEY)
    if isinstance(encoded, str) and set(obj) <= {ATTACHMENT_KEY, "headers"}:
        headers = obj.get("headers")
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            return obj
        return attachment.from_bytes(
            data,
            {str(k): str(v) for k, v in headers.items()} if isinstance(headers, Mapping) else None,
        )
    return obj


def to_json(value: object) -> str:
    """Write a typed-JSON value (from :func:`ladon.types.convert.dump`) as
    JSON text. Attachments (and raw ``bytes``) become
    ``{"$attachment": base64, "headers": {...}}`` objects.

    :raises TypeError: for a value typed JSON cannot hold.
    :raises ValueError: for a NaN or an infinity.

    .. versionadded:: 2.0
    """
    return json.dumps(value, default=_default, allow_nan=False, ensure_ascii=False)


def from_json(text: str) -> Any:
    """Read JSON text written by :func:`to_json`; attachment objects come
    back as in-memory :class:`~ladon.types.attachment.attachment` objects.

    .. versionadded:: 2.0
    """
    return json.loads(text, object_hook=_hook)


__all__ = [
    "ATTACHMENT_KEY",
    "DescribedJob",
    "JobSpec",
    "from_json",
    "to_json",
]
