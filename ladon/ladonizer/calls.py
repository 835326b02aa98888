"""Calling a published method: what it receives besides its arguments.

Used by the server for plain calls and by the task backends (in this
process, another one, or on an RQ worker) for task bodies, so that a method
sees the same ``**kw`` wherever it runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from ..types.typeconverter import TypeConverter
from .model import MethodInfo
from .model import ServiceInfo


def accept_languages(environ: Mapping[str, Any]) -> list[str]:
    """Two-letter language codes from Content-Language then Accept-Language.

    .. versionadded:: 2.0
    """
    langs: list[str] = []
    for header in ("HTTP_CONTENT_LANGUAGE", "HTTP_ACCEPT_LANGUAGE"):
        for part in str(environ.get(header, "")).split(","):
            code = part.split(";")[0].strip()[:2].lower()
            if code.isalpha() and len(code) == 2 and code not in langs:
                langs.append(code)
    return langs or ["en"]


def extras(method: MethodInfo, environ: Mapping[str, Any]) -> dict[str, Any]:
    """What a method with ``**kw`` receives (Ladon 1.0: the WSGI environ plus
    ``LADON_*`` keys).

    .. versionadded:: 2.0
    """
    kw = dict(environ)
    kw["LADON_METHOD_NAME"] = method.name
    kw["LADON_ACCEPT_LANGUAGES"] = accept_languages(environ)
    kw["LADON_RTYPE"] = method.rtype
    kw["LADON_METHOD_TC"] = TypeConverter(method.encoding, method.allow_unsafe_conversion)
    return kw


def call_method(
    service: ServiceInfo,
    method: MethodInfo,
    args: Sequence[Any],
    kw: Mapping[str, Any] | None = None,
) -> object:
    """Call ``method`` of ``service`` on the object its factory gives.

    :param kw: the keyword arguments of a method that takes ``**kw``
        (see :func:`extras`); ignored for one that does not.

    .. versionadded:: 2.0
    """
    target = getattr(service.factory(), method.attr)
    if method.accepts_kw and kw is not None:
        return target(*args, **kw)
    return target(*args)
