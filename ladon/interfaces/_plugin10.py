"""Ladon 1.0's interface plug-in classes (``ladon.interfaces.base``):
a :class:`BaseInterface` ties together a :class:`ServiceDescriptor`, a
:class:`BaseRequestHandler`, a :class:`BaseResponseHandler` and a
:class:`BaseFaultHandler`. They are served through
:mod:`ladon.interfaces.legacy`, which adapts them to the
:class:`~ladon.interfaces.base.Interface` API.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..exceptions.base import DefinitionError
from ..exceptions.service import ServiceFault


class ServiceDescriptor:
    """Generates the description document of a Ladon 1.0 interface.

    .. versionadded:: 2.0
    """

    _content_type = "text/plain"

    def generate(
        self,
        servicename: str,
        servicenumber: int,
        typemanager: Any,
        methodlist: list[Any],
        service_url: str,
        encoding: str,
        **kw: Any,
    ) -> str | bytes:
        return ""


class BaseRequestHandler:
    """Parses a request into ``{"methodname": ..., "args": {...}}``.

    .. versionadded:: 2.0
    """

    def parse_request(self, req: bytes, sinfo: Any, encoding: str) -> dict[str, Any]:
        return {}


class BaseResponseHandler:
    """Builds the response of a call from its result dictionary
    (``servicename``, ``servicenumber``, ``method``, ``result``...).

    .. versionadded:: 2.0
    """

    _content_type = "text/plain"
    _stringify_res_dict = False

    def build_response(self, res_dict: dict[str, Any], sinfo: Any, encoding: str) -> str | bytes:
        return ""


class BaseFaultHandler:
    """Builds the response of a fault.

    .. versionadded:: 2.0
    """

    _content_type = "text/plain"
    _stringify_res_dict = False

    def build_fault_response(
        self,
        service_exc: ServiceFault,
        sinfo: Any,
        methodname: str | None,
        encoding: str,
        reflection: object = None,
    ) -> str | bytes:
        return ""


class BaseInterface:
    """Base class of Ladon 1.0 interfaces: give the handler classes to
    ``__init__`` and name the interface in the static ``_interface_name``.

    .. versionadded:: 2.0
    """

    def __init__(self, sinfo: Any, **kw: Any) -> None:
        self._sinfo = sinfo
        self._service_descriptor: ServiceDescriptor = _handler(
            kw, "service_descriptor", ServiceDescriptor
        )
        self._request_handler: BaseRequestHandler = _handler(
            kw, "request_handler", BaseRequestHandler
        )
        self._response_handler: BaseResponseHandler = _handler(
            kw, "response_handler", BaseResponseHandler
        )
        self._fault_handler: BaseFaultHandler = _handler(kw, "fault_handler", BaseFaultHandler)

    @staticmethod
    def _interface_name() -> str | list[str] | None:
        return None

    @staticmethod
    def _accept_basetype(typ: object) -> bool:
        return False

    @staticmethod
    def _accept_list() -> bool:
        return False

    @staticmethod
    def _accept_dict() -> bool:
        return False

    def service_info(self) -> Any:
        return self._sinfo

    def parse_request(self, soap_body: bytes, encoding: str = "UTF-8") -> dict[str, Any]:
        return self._request_handler.parse_request(soap_body, self._sinfo, encoding)

    def build_response(self, res_dict: dict[str, Any], encoding: str = "UTF-8") -> str | bytes:
        return self._response_handler.build_response(res_dict, self._sinfo, encoding)

    def build_fault_response(
        self,
        exc: ServiceFault,
        methodname: str | None = None,
        encoding: str = "UTF-8",
        reflection: object = None,
    ) -> str | bytes:
        return self._fault_handler.build_fault_response(
            exc, self._sinfo, methodname, encoding, reflection
        )

    def stringify_res_dict(self) -> bool:
        return bool(self._response_handler._stringify_res_dict)

    def response_content_type(self) -> str:
        return self._response_handler._content_type

    def description(self, service_url: str, encoding: str = "UTF-8", **kw: Any) -> str | bytes:
        return self._service_descriptor.generate(
            self._sinfo.servicename,
            self._sinfo.servicenumber,
            self._sinfo.typemanager,
            self._sinfo.method_list(),
            service_url,
            encoding,
            **kw,
        )

    def description_content_type(self) -> str:
        return self._service_descriptor._content_type


def _handler(kw: Mapping[str, Any], key: str, base: type) -> Any:
    cls = kw.get(key, base)
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise DefinitionError(f"{key} must be a subclass of {base.__name__}, not {cls!r}")
    return cls()
