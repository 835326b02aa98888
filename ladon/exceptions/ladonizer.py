"""Ladon 1.0 names of the definition errors, kept so that code catching them
keeps working. All are :class:`~ladon.exceptions.base.DefinitionError`."""

from __future__ import annotations

from .base import DefinitionError


class ArgDefCountMismatch(DefinitionError):
    """The number of types given to ``@ladonize`` differs from the number of
    parameters of the method."""


class ReturnTypeUndefined(DefinitionError):
    """``@ladonize`` has no ``rtype`` and the method has no return annotation."""


class NeedToDefineParseTimeException(DefinitionError):
    """A type that Ladon cannot serve was used."""


class DefaultArgTypeMismatch(DefinitionError):
    """A parameter's default value does not have the parameter's type."""


class ReturnTypeMismatch(DefinitionError):
    """``rtype`` and the return annotation disagree."""


class AnnotationMismatch(DefinitionError):
    """A type given to ``@ladonize`` disagrees with the parameter annotation."""
