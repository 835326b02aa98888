"""Root of Ladon's exception hierarchy."""

from __future__ import annotations


class LadonError(Exception):
    """Base class of every exception Ladon raises.

    .. versionadded:: 2.0
    """


class DefinitionError(LadonError, TypeError):
    """A service, method or type is declared wrongly.

    Raised when the module that declares it is imported (or, for annotations
    that name classes defined later, when the application is built). It is a
    programming error and never becomes a fault on the wire.

    .. versionadded:: 2.0
    """
