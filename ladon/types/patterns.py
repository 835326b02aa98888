"""``ladon.Pattern``: the regular expressions XML Schema and JSON Schema
read alike, and their check.

.. versionadded:: 2.0
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..exceptions.base import DefinitionError


class ConstraintError(DefinitionError):
    """A declared constraint cannot hold, or does not apply to its type.

    .. versionadded:: 2.0
    """


@dataclass(frozen=True, slots=True)
class Pattern:
    """The text must match ``regex`` as a whole.

    Write the regular expression in the dialect XML Schema and JSON Schema
    both read: literal characters, ``.``, classes such as ``[a-z0-9_]``
    (``^`` first negates), groups ``( )``, ``|`` and the quantifiers ``*``
    ``+`` ``?`` ``{n}`` ``{n,}`` ``{n,m}``. Escapes are limited to the
    metacharacters (``\\.``, ``\\*``, ``\\(``...) and ``\\n``, ``\\r``,
    ``\\t``; ``^`` and ``$`` anchors are not written (the whole value must
    match, as in XML Schema). ``\\d``, ``\\w``, ``\\s``, look-arounds,
    back-references and lazy quantifiers are refused at registration: the
    two dialects do not read them the same way.

    .. versionadded:: 2.0
    """

    regex: str


#: Escapes the XSD and ECMA 262 dialects read alike.
_ESCAPES = frozenset("\\.-^$*+?()[]{}|/nrt")
_QUANT = re.compile(r"\{[0-9]+(,[0-9]*)?\}")


def check_pattern(regex: object) -> re.Pattern[str]:
    """Check that ``regex`` is in the common dialect (see :class:`Pattern`)
    and compile it for Python (``.`` as XSD reads it: any character but
    CR and LF).

    :raises ConstraintError: it is not.

    .. versionadded:: 2.0
    """
    if not isinstance(regex, str) or not regex:
        raise ConstraintError(f"Pattern needs a non-empty regular expression, got {regex!r}")
    out: list[str] = []
    i, n, in_class = 0, len(regex), False
    while i < n:
        c = regex[i]
        nxt = regex[i + 1] if i + 1 < n else ""
        if c == "\\":
            if nxt not in _ESCAPES or not nxt:
                what = "ends with a backslash" if not nxt else f"uses \\{nxt}"
                raise ConstraintError(
                    f"pattern {regex!r} {what}, which XML Schema and JSON Schema do not read "
                    "alike; write a class such as [0-9] or [a-zA-Z_]"
                )
            out.append(c + nxt)
            i += 2
            continue
        if in_class or c == "[":
            in_class, step = _class_char(regex, i, in_class)
            out.append(regex[i : i + step])
            i += step
            continue
        if c in "^$":
            raise ConstraintError(
                f"pattern {regex!r}: leave out the anchor {c!r}; the whole value must match"
            )
        if c == "(" and nxt == "?":
            raise ConstraintError(
                f"pattern {regex!r}: (?...) groups (look-arounds, flags, named groups) "
                "are not in XML Schema"
            )
        if c in "*+?}" and nxt in ("?", "+"):
            raise ConstraintError(
                f"pattern {regex!r}: lazy or possessive quantifiers ({c}{nxt}) are not in "
                "XML Schema"
            )
        if c == "{" and not _QUANT.match(regex, i):
            raise ConstraintError(
                f"pattern {regex!r}: '{{' starts a quantifier {{n}}, {{n,}} or {{n,m}}; "
                "escape a literal brace as \\{"
            )
        out.append("[^\\n\\r]" if c == "." else c)
        i += 1
    if in_class:
        raise ConstraintError(f"pattern {regex!r} has an unclosed class [")
    try:
        return re.compile("".join(out))
    except re.error as exc:
        raise ConstraintError(f"pattern {regex!r} does not compile: {exc}") from None


def _class_char(regex: str, i: int, in_class: bool) -> tuple[bool, int]:
    """Read a character of (or opening) a class: ``(still in the class,
    characters read)``."""
    c = regex[i]
    if not in_class:  # c == "["
        start = i + 2 if regex[i + 1 : i + 2] == "^" else i + 1
        if start < len(regex) and regex[start] == "]":
            raise ConstraintError(f"pattern {regex!r} has an empty class []")
        return True, start - i
    if c == "[":
        raise ConstraintError(
            f"pattern {regex!r}: '[' inside a class (XSD class subtraction) is not "
            "read by JSON Schema; escape it as \\["
        )
    return c != "]", 1
