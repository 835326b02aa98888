"""Method docstrings: description, parameter and return documentation.

Both the reST field form (``:param x: text``, ``:rtype: text``) and the
Ladon 1.0 epydoc form (``@param x: text``, ``@rtype: text``) are read, in
one place. Continuation lines are indented; a blank line inside a block is
kept; any other line ends the block. A first line ``@publisher: NAME``
selects how the docs page renders the description (docutils, pre, raw).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field

_PARAM = re.compile(r"\s*[@:]param\s+(?:[\w\[\], .|]+\s+)?(\w+)\s*:\s?(.*)\Z")
_RTYPE = re.compile(r"\s*[@:](?:rtype|returns?)\s*:\s?(.*)\Z")
_TYPE = re.compile(r"\s*:type\s+\w+\s*:")
_PUBLISHER = re.compile(r"\s*@publisher\s*:\s*(\w+)\s*\Z")


@dataclass(slots=True)
class DocInfo:
    """A parsed docstring.

    .. versionadded:: 2.0
    """

    description: list[str] = field(default_factory=list)
    params: dict[str, list[str]] = field(default_factory=dict)
    rtype: list[str] = field(default_factory=list)
    publisher: str | None = None


def _trim(lines: list[str], strip: bool = True) -> list[str]:
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    return [ln.strip() if strip else ln.rstrip() for ln in lines]


def parse_docstring(doc: str | None, param_names: Iterable[str] = ()) -> DocInfo:
    """Split a docstring into description, parameter docs and return docs.

    :param doc: the docstring (already dedented, as by :func:`inspect.getdoc`).
    :param param_names: the method's parameters; ``@param`` lines naming
        anything else stay in the description.
    """
    info = DocInfo()
    if not doc:
        return info
    names = set(param_names)
    lines = doc.expandtabs().splitlines()
    if lines and (m := _PUBLISHER.match(lines[0])):
        info.publisher = m.group(1).lower()
        lines = lines[1:]
    block: list[str] | None = None
    skipping = False
    for line in lines:
        pm = _PARAM.match(line)
        if pm and pm.group(1) in names:
            block = info.params.setdefault(pm.group(1), [])
            block.append(pm.group(2))
            skipping = False
            continue
        rm = _RTYPE.match(line)
        if rm:
            block = info.rtype
            block.append(rm.group(1))
            skipping = False
            continue
        if _TYPE.match(line):
            block, skipping = None, True
            continue
        if (block is not None or skipping) and (not line.strip() or line[:1].isspace()):
            if block is not None:
                block.append(line)
            continue
        block, skipping = None, False
        info.description.append(line)
    # NOTE: Ladon 1.0 listed the description's lines as written, up to its
    # fields: the blank line before them too (COMPAT 3.1, ["Sum two integers.", ""])
    blank_before_fields = bool(
        (info.params or info.rtype) and info.description and not info.description[-1].strip()
    )
    info.description = _trim(info.description, strip=False)
    if blank_before_fields and info.description:
        info.description.append("")
    info.params = {k: _trim(v) for k, v in info.params.items()}
    info.rtype = _trim(info.rtype)
    return info
