"""Interfaces (wire protocols) and the default mapping the application uses.

A third-party interface subclasses :class:`Interface` and is given to the
application: ``LadonWSGIApplication(..., interfaces={**DEFAULT_INTERFACES,
"myproto": MyInterface})``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from .base import Call as Call
from .base import Interface as Interface
from .base import Payload as Payload
from .jsonrpc import JSONRPCInterface as JSONRPCInterface
from .jsonrpc10 import JSONRPC10Interface as JSONRPC10Interface
from .jsonwsp import JSONWSPInterface as JSONWSPInterface
from .soap import SOAPInterface as SOAPInterface
from .soap11 import SOAP11Interface as SOAP11Interface
from .xmlrpc import XMLRPCInterface as XMLRPCInterface

#: name -> interface class. ``soapdocumentliteral`` is Ladon 1.0's alias of ``soap``.
DEFAULT_INTERFACES: Mapping[str, type[Interface]] = MappingProxyType(
    {
        "soap": SOAPInterface,
        "soapdocumentliteral": SOAPInterface,
        "soap11": SOAP11Interface,
        "jsonwsp": JSONWSPInterface,
        "jsonrpc10": JSONRPC10Interface,
        "jsonrpc": JSONRPCInterface,
        "xmlrpc": XMLRPCInterface,
    }
)
