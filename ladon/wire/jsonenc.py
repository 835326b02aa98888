"""The C JSON encoder of CPython, made once per use.

``json.JSONEncoder.encode()`` builds a new C encoder on every call; code
that writes many small documents with fixed settings keeps one instead.

.. versionadded:: 2.0
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def c_encoder(
    default: Callable[[Any], Any], item_separator: str, key_separator: str, sort_keys: bool
) -> Callable[[Any, int], Any] | None:
    """CPython's C encoder writing non-ASCII raw, refusing NaN and the
    infinities, without a circular-reference check (for trees such as
    :func:`ladon.types.convert.dump` writes); ``None`` where the C encoder
    is missing (the caller then uses :class:`json.JSONEncoder`).

    ``"".join(encoder(value, 0))`` is the text of ``value``.
    """
    make: Any = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has it
        return None
    encoder: Callable[[Any, int], Any] = make(
        None,
        default,
        json.encoder.encode_basestring,
        None,
        key_separator,
        item_separator,
        sort_keys,
        False,
        False,
    )
    return encoder
