"""How error messages show a wire value.

.. versionadded:: 2.0
"""

from __future__ import annotations


def describe_value(value: object) -> str:
    """A short description of a wire value for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int) and value.bit_length() > 256:
        return "an integer too long to show"
    if isinstance(value, (str, int, float)):
        text = repr(value)
        return text if len(text) <= 40 else text[:37] + "...'"
    return f"a {type(value).__name__}"
