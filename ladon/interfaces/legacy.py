"""Ladon 1.0's interface plug-in API, served through the new one.

A Ladon 1.0 interface is a :class:`BaseInterface` subclass tying together a
:class:`ServiceDescriptor` (the description document), a
:class:`BaseRequestHandler` (request bytes -> ``{"methodname", "args"}``), a
:class:`BaseResponseHandler` (result dictionary -> response bytes) and a
:class:`BaseFaultHandler` (fault -> response bytes), and is registered with
:func:`ladon.interfaces.expose`. :func:`adapt` wraps such a class into an
:class:`~ladon.interfaces.base.Interface`, so that it is served beside the
built-in ones; arguments are converted and checked by Ladon as for every
interface.

The service information the handlers receive (``sinfo``) is a small
read-only view of the service model: ``servicename``, ``servicenumber``,
``method(name)``, ``method_list()`` and ``typemanager.type_dict`` /
``type_order``. Code that reached deeper into Ladon 1.0's internal objects
needs porting to :class:`~ladon.interfaces.base.Interface`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import ClassVar

from ..exceptions.base import DefinitionError
from ..exceptions.service import MalformedRequest
from ..exceptions.service import ServiceFault
from ..ladonizer.model import MethodInfo
from ..ladonizer.model import ServiceInfo
from ..types.spec import ListOf
from ..types.spec import TypeSpec
from ._plugin10 import BaseInterface
from .base import ABSENT
from .base import Call
from .base import Interface
from .base import Payload
from .base import WireRequest

# -- the service information handed to the handlers ----------------------------


def _legacy_type(spec: TypeSpec) -> object:
    """A spec as Ladon 1.0 wrote types: ``int``, ``[Point]``."""
    if isinstance(spec, ListOf):
        return [_legacy_type(spec.item)]
    return spec


class _Method:
    """Ladon 1.0's view of one method."""

    def __init__(self, info: MethodInfo, sinfo: _ServiceInfo) -> None:
        self._info = info
        self.sinfo = sinfo
        self._rtype = _legacy_type(info.rtype)
        self._encoding = info.encoding
        self._allow_unsafe_conversion = info.allow_unsafe_conversion
        self._method_doc = list(info.doc)
        self._rtype_doc = list(info.rtype_doc)

    def name(self) -> str:
        return self._info.name

    def args(self) -> list[dict[str, Any]]:
        return [
            {
                "name": p.name,
                "type": _legacy_type(p.type),
                "optional": p.optional,
                **({"default": p.default} if p.optional else {}),
                "doc": list(p.doc),
            }
            for p in self._info.params
        ]


class _TypeManager:
    def __init__(self, service: ServiceInfo) -> None:
        self.type_order = list(service.types)
        self.type_dict = {
            t: {f.name: _legacy_type(f.type) for f in t.ladon_type_info().fields}
            for t in service.types
        }


class _ServiceInfo:
    """Ladon 1.0's ``sinfo``: what the handlers may read of the service."""

    def __init__(self, service: ServiceInfo) -> None:
        self.servicename = service.name
        self.servicenumber = service.number
        self.doc_lines = service.doc.splitlines()
        self.typemanager = _TypeManager(service)
        self._methods = {name: _Method(m, self) for name, m in service.methods.items()}

    def method(self, name: str) -> _Method | None:
        return self._methods.get(name)

    def method_list(self) -> list[_Method]:
        return list(self._methods.values())


# -- the adapter ------------------------------------------------------------------------


def _stringify(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stringify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stringify(v) for v in value]
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _as_bytes(data: str | bytes) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def _with_charset(content_type: str) -> str:
    return content_type if "charset" in content_type else f"{content_type}; charset=utf-8"


class LegacyInterface(Interface):
    """An :class:`Interface` serving a Ladon 1.0 :class:`BaseInterface`
    subclass (see :func:`adapt`).

    .. versionadded:: 2.0
    """

    legacy_class: ClassVar[type[BaseInterface]]
    content_type: ClassVar[str] = "text/plain; charset=utf-8"

    def __init__(self, service: ServiceInfo, *, debug: bool = False) -> None:
        super().__init__(service, debug=debug)
        self.legacy = self.legacy_class(_ServiceInfo(service))

    def decode_call(self, request: WireRequest) -> Call:
        try:
            req = self.legacy.parse_request(request.body, "UTF-8")
        except ServiceFault:
            raise
        except Exception as exc:  # the plug-in could not parse it
            raise MalformedRequest(f"The request cannot be parsed: {exc}") from None
        if not isinstance(req, dict):
            raise MalformedRequest("The request cannot be parsed")
        m = self.method(req.get("methodname"))
        args = req.get("args") or {}
        if not isinstance(args, dict):
            raise MalformedRequest("The request's arguments are not named")
        return Call(
            m,
            self.bind_named(m, args),
            id=req.get("id", ABSENT),
            mirror=req.get("mirror", ABSENT),
        )

    def encode_result(self, call: Call, result: object) -> Payload:
        value = self.dump_result(call, result)
        res_dict: dict[str, Any] = {
            "servicename": self.service.name,
            "servicenumber": self.service.number,
            "method": call.method.name,
            "result": _stringify(value) if self.legacy.stringify_res_dict() else value,
        }
        if call.mirror is not ABSENT:
            res_dict["reflection"] = call.mirror
        if call.id is not ABSENT:
            res_dict["id"] = call.id
        body = _as_bytes(self.legacy.build_response(res_dict, "UTF-8"))
        return Payload(body, _with_charset(self.legacy.response_content_type()))

    def encode_fault(self, fault: ServiceFault, call: Call | None) -> Payload:
        name = call.method.name if call is not None else None
        reflection = None if call is None or call.mirror is ABSENT else call.mirror
        body = _as_bytes(self.legacy.build_fault_response(fault, name, "UTF-8", reflection))
        return Payload(body, _with_charset(self.legacy._fault_handler._content_type))

    def describe(self, base_url: str, query: Mapping[str, str]) -> Payload | None:
        text = self.legacy.description(self.endpoint_url(base_url), "UTF-8", **dict(query))
        if not text:
            return None
        return Payload(_as_bytes(text), _with_charset(self.legacy.description_content_type()))


def interface_names(cls: type[BaseInterface]) -> list[str]:
    """The names a Ladon 1.0 interface class gives itself.

    :raises DefinitionError: ``_interface_name()`` gives no usable name.
    """
    names = cls._interface_name()
    if isinstance(names, str):
        names = [names]
    if (
        not isinstance(names, list | tuple)
        or not names
        or not all(isinstance(n, str) and n and "/" not in n for n in names)
    ):
        raise DefinitionError(
            f"{cls.__qualname__}: the static _interface_name() must return a name or a "
            "list of names of the interface (URL segments)"
        )
    return list(names)


def adapt(cls: type[BaseInterface], name: str) -> type[Interface]:
    """An :class:`Interface` class serving the Ladon 1.0 interface ``cls``
    under ``name``.

    .. versionadded:: 2.0
    """
    return type(
        f"{cls.__name__}Adapter",
        (LegacyInterface,),
        {"name": name, "legacy_class": cls, "__module__": cls.__module__},
    )
