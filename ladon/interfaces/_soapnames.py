"""How the SOAP interfaces name elements, namespaces and actions.

Two namings:

* ``ladon10`` (the default of ``soap`` and ``soap11``): Ladon 1.0's, which
  its clients rely on: ``_`` in Python names written ``-``
  (``customer-name``, ``task-id``); on ``soap`` the wrapper elements in
  ``http://tempuri.org/`` and the types in Microsoft's ``Arrays``
  namespace; on ``soap11`` everything in ``urn:<Service>``; actions are the
  endpoint URL and the method name.
* ``python`` (always on ``soap12``; on ``soap`` and ``soap11`` with the
  application's ``soap_naming="python"``): the Python names as they are, in
  the service's own namespace (``ladon_namespace``), with WS-Addressing's
  default action pattern.

.. versionadded:: 2.0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ..ladonizer.model import MethodInfo
from ..ladonizer.model import ServiceInfo
from ..wire.schema import ARRAYS_NS
from ..wire.schema import TEMPURI
from ..wire.schema import service_ns

LADON10: Final = "ladon10"
PYTHON: Final = "python"
NAMINGS = (LADON10, PYTHON)


@dataclass(frozen=True, slots=True)
class SOAPNaming:
    """One of the two namings (see the module docs).

    :param python: Python names in the service's namespace; else Ladon 1.0's.

    .. versionadded:: 2.0
    """

    python: bool = False

    @property
    def label(self) -> str:
        return PYTHON if self.python else LADON10

    def element(self, name: str) -> str:
        """The element (or message part) name of a Python name."""
        return name if self.python else name.replace("_", "-")

    def wrapper_ns(self, service: ServiceInfo) -> str:
        """The namespace of a document/literal interface's wrapper elements
        and of its WSDL."""
        return service.namespace if self.python else TEMPURI

    def types_ns(self, service: ServiceInfo) -> str:
        """The namespace of a document/literal interface's types and list items."""
        return service.namespace if self.python else ARRAYS_NS

    def rpc_ns(self, service: ServiceInfo) -> str:
        """The namespace of the rpc interface (its WSDL, types and response
        elements)."""
        return service.namespace if self.python else service_ns(service.name)

    def input_action(self, service: ServiceInfo, method: MethodInfo, url: str) -> str:
        """The action (``soapAction``, ``wsam:Action``) of a call.

        Ladon 1.0: ``<endpoint URL>/<method>``. Python naming: WS-Addressing
        Metadata's default pattern, ``<namespace>/<PortType>/<method>Request``
        (``:`` for ``/`` in a URN).
        """
        if not self.python:
            return f"{url}/{method.name}"
        return _pattern(service, f"{method.name}Request")

    def output_action(self, service: ServiceInfo, method: MethodInfo, input_action: str) -> str:
        """The action of an answer: ``<input action>Response`` (Ladon 1.0,
        where the input action holds the endpoint URL), else the default
        pattern's ``<method>Response``."""
        if not self.python:
            return input_action + "Response"
        return _pattern(service, f"{method.name}Response")

    def accepts_action(self, service: ServiceInfo, method: MethodInfo, action: str) -> bool:
        """Whether a request's ``wsa:Action`` names ``method``: the declared
        action (Ladon 1.0 naming: any URL followed by ``/<method>``, as a
        proxy may show the endpoint under another URL)."""
        if not self.python:
            return action.endswith("/" + method.name)
        return action == _pattern(service, f"{method.name}Request")


def port_type_name(service: ServiceInfo) -> str:
    """``<Service>PortType``, the WSDL port type of a service.

    .. versionadded:: 2.0
    """
    return service.name + "PortType"


def _pattern(service: ServiceInfo, message: str) -> str:
    ns = service.namespace
    delimiter = ":" if ns[:4].lower() == "urn:" else "/"
    return f"{ns.rstrip(delimiter)}{delimiter}{port_type_name(service)}{delimiter}{message}"
