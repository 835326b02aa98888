"""Interfaces (wire protocols) and the default mapping the application uses.

A third-party interface subclasses :class:`Interface` and is given to the
application: ``LadonWSGIApplication(..., interfaces={**DEFAULT_INTERFACES,
"myproto": MyInterface})``.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable
from collections.abc import Mapping
from types import MappingProxyType
from typing import TypeVar

from .base import ABSENT as ABSENT
from .base import BaseInterface as BaseInterface
from .base import Batch as Batch
from .base import Call as Call
from .base import Interface as Interface
from .base import Outcome as Outcome
from .base import Payload as Payload
from .base import RequestFault as RequestFault
from .base import WireRequest as WireRequest
from .http import HTTPInterface as HTTPInterface
from .jsonrpc import JSONRPCInterface as JSONRPCInterface
from .jsonrpc10 import JSONRPC10Interface as JSONRPC10Interface
from .jsonwsp import JSONWSPInterface as JSONWSPInterface
from .legacy import adapt
from .legacy import interface_names
from .soap import SOAPBase as SOAPBase
from .soap import SOAPInterface as SOAPInterface
from .soap11 import SOAP11Interface as SOAP11Interface
from .soap12 import SOAP12Interface as SOAP12Interface
from .xmlrpc import XMLRPCInterface as XMLRPCInterface

#: name -> interface class. ``soapdocumentliteral`` is Ladon 1.0's alias of ``soap``.
DEFAULT_INTERFACES: Mapping[str, type[Interface]] = MappingProxyType(
    {
        "soap": SOAPInterface,
        "soapdocumentliteral": SOAPInterface,
        "soap11": SOAP11Interface,
        "soap12": SOAP12Interface,
        "jsonwsp": JSONWSPInterface,
        "jsonrpc10": JSONRPC10Interface,
        "jsonrpc": JSONRPCInterface,
        "xmlrpc": XMLRPCInterface,
        "http": HTTPInterface,
    }
)

#: Entry-point group third-party packages use to offer interfaces.
ENTRY_POINT_GROUP = "ladon.interfaces"

T = TypeVar("T", bound=type)

#: The class attribute :func:`expose` sets.
_EXPOSED = "_ladon_exposed"


def configure_soap(
    interfaces: Mapping[str, type[Interface]],
    naming: str | None = None,
    understood_headers: Iterable[str] = (),
) -> dict[str, type[Interface]]:
    """An application's interface mapping with its SOAP settings applied:
    each SOAP interface class replaced by
    :meth:`~ladon.interfaces.soap.SOAPBase.configured` (one subclass per
    class, so that aliases stay one interface).

    :raises ValueError: an unknown naming or a malformed header name.

    .. versionadded:: 2.0
    """
    headers = tuple(understood_headers)
    done: dict[type[Interface], type[Interface]] = {}
    out: dict[str, type[Interface]] = {}
    for name, cls in interfaces.items():
        if cls not in done:
            done[cls] = (
                cls.configured(naming=naming, understood_headers=headers)
                if isinstance(cls, type) and issubclass(cls, SOAPBase)
                else cls
            )
        out[name] = done[cls]
    return out


def expose(cls: T) -> T:
    """Ladon 1.0's class decorator: offer an interface to every application
    built afterwards with the default interfaces (``interfaces=None``).

    Takes an :class:`Interface` subclass, or a Ladon 1.0
    :class:`~ladon.interfaces.base.BaseInterface` subclass (served through
    :func:`ladon.interfaces.legacy.adapt` under each name its
    ``_interface_name()`` gives). The mark is on the class itself (no
    registry): :func:`exposed_interfaces` finds the marked subclasses.
    Prefer passing ``interfaces={**DEFAULT_INTERFACES, "name": cls}``.

    :raises TypeError: anything else, or a name already exposed by another class.

    .. versionadded:: 2.0
    """
    if isinstance(cls, type) and issubclass(cls, Interface):
        names = [cls.name]
    elif isinstance(cls, type) and issubclass(cls, BaseInterface):
        names = interface_names(cls)
    else:
        raise TypeError(
            f"expose() takes an Interface (or Ladon 1.0 BaseInterface) subclass, not {cls!r}"
        )
    taken = _exposed_classes()
    for name in names:
        other = taken.get(name)
        if other is not None and other is not cls:
            raise TypeError(f"interface name {name!r} is already exposed by {other.__qualname__}")
    setattr(cls, _EXPOSED, True)
    return cls


def _subclasses(root: type) -> list[type]:
    found: list[type] = []
    todo = [root]
    while todo:
        sub: type
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.append(sub)
                todo.append(sub)
    return found


def _exposed_classes() -> dict[str, type]:
    """Interface name -> the class :func:`expose` marked for it."""
    found: dict[str, type] = {}
    for root in (Interface, BaseInterface):
        for cls in _subclasses(root):
            if not vars(cls).get(_EXPOSED):
                continue
            if issubclass(cls, Interface):
                found[cls.name] = cls
            elif issubclass(cls, BaseInterface):
                for name in interface_names(cls):
                    found[name] = cls
    return found


def exposed_interfaces() -> dict[str, type[Interface]]:
    """The interfaces marked with :func:`expose` (Ladon 1.0 ones adapted)."""
    out: dict[str, type[Interface]] = {}
    for name, cls in _exposed_classes().items():
        if issubclass(cls, Interface):
            out[name] = cls
        elif issubclass(cls, BaseInterface):
            out[name] = adapt(cls, name)
    return out


def entry_point_interfaces(group: str = ENTRY_POINT_GROUP) -> dict[str, type[Interface]]:
    """Interfaces offered by installed packages in the ``ladon.interfaces``
    entry-point group (the entry point's name is the interface name).

    :raises TypeError: an entry point does not name an Interface subclass.
    """
    found: dict[str, type[Interface]] = {}
    for ep in importlib.metadata.entry_points(group=group):
        cls = ep.load()
        if not (isinstance(cls, type) and issubclass(cls, Interface)):
            raise TypeError(f"entry point {ep.name!r} ({ep.value}) is not an Interface subclass")
        found[ep.name] = cls
    return found
