"""The type system: primitives, lists, :class:`LadonType`, attachments, and
conversion between wire values and Python values."""

from __future__ import annotations

from .attachment import attachment as attachment
from .ladontype import FieldInfo as FieldInfo
from .ladontype import LadonType as LadonType
from .ladontype import TypeInfo as TypeInfo
from .spec import ListOf as ListOf
from .spec import TypeSpec as TypeSpec
