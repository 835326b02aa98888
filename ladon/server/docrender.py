"""Docstrings to HTML for the docs pages.

A docstring is written by the service author; how it is shown follows the
Ladon 1.0 ``@publisher:`` line (see :mod:`ladon.ladonizer.docstrings`):

``raw``
    the text is HTML and is inserted as it is (the author's choice);
``pre``
    the text is escaped and its lines are joined with ``<br>``;
``docutils``
    the text is reStructuredText, rendered by docutils when it is installed
    (raw directives and file inclusion off), else by the small renderer below;
no publisher
    the small renderer: escaped text with the common reST constructs
    (paragraphs, bullet and numbered lists, ``::`` literal blocks, doctest
    blocks, ``literal``, ``*emphasis*``, ``**strong**``, roles and
    ```text <https://...>`_`` links).

Everything but ``raw`` escapes the text: no markup the author did not ask
for can reach the page.

.. versionadded:: 2.0
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup
from markupsafe import escape

_INLINE = re.compile(
    r"``(?P<literal>.+?)``"
    r"|\*\*(?P<strong>[^*\s](?:[^*]*?[^*\s])?)\*\*"
    r"|\*(?P<em>[^*\s](?:[^*]*?[^*\s])?)\*"
    r"|`(?P<ltext>[^`<]+?)\s*<(?P<url>[^`>]+)>`__?"
    r"|(?::[\w.:+-]+:)?`(?P<ref>[^`]+)`_{0,2}"
)
_BULLET = re.compile(r"([-*+•])\s+(.*)\Z")
_NUMBERED = re.compile(r"(\d+|#)[.)]\s+(.*)\Z")
_UNDERLINE = re.compile(r"([=\-~^\"'`#*+])\1{2,}\s*\Z")
_DIRECTIVE = re.compile(r"\.\.\s+(code-block|code|sourcecode|highlight)::.*\Z")
_ADMONITION = re.compile(
    r"\.\.\s+(note|warning|tip|important|hint|caution|attention|seealso|deprecated"
    r"|versionadded|versionchanged)::\s*(.*)\Z"
)
_SAFE_URL = re.compile(r"(https?://|mailto:|/|#)", re.IGNORECASE)


def inline(text: str) -> Markup:
    """Escape ``text`` and render its reST inline markup."""
    out: list[str] = []
    pos = 0
    for m in _INLINE.finditer(text):
        out.append(str(escape(text[pos : m.start()])))
        pos = m.end()
        kind = m.lastgroup
        if kind == "literal" or kind == "ref":
            out.append(str(Markup("<code>{}</code>").format(m.group(kind))))
        elif kind == "strong":
            out.append(str(Markup("<strong>{}</strong>").format(m.group("strong"))))
        elif kind == "em":
            out.append(str(Markup("<em>{}</em>").format(m.group("em"))))
        elif kind in ("ltext", "url"):
            url = m.group("url").strip()
            label = m.group("ltext").strip()
            if _SAFE_URL.match(url):
                out.append(str(Markup('<a href="{}">{}</a>').format(url, label)))
            else:
                out.append(str(escape(m.group(0))))
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _paragraphs(lines: Sequence[str]) -> list[list[str]]:
    """Split into blocks at blank lines."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line.rstrip())
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _list_html(block: list[str], pattern: re.Pattern[str], tag: str) -> Markup | None:
    items: list[list[str]] = []
    for line in block:
        m = pattern.match(line.strip())
        if m and _indent(line) == _indent(block[0]):
            items.append([m.group(2)])
        elif items and _indent(line) > _indent(block[0]):
            items[-1].append(line.strip())
        else:
            return None
    body = Markup("").join(Markup("<li>{}</li>").format(inline(" ".join(i))) for i in items)
    return Markup("<{0}>{1}</{0}>").format(Markup(tag), body)


def _block_html(block: list[str]) -> Markup:
    first = block[0].strip()
    if first.startswith(">>>"):
        return Markup('<pre class="literal">{}</pre>').format("\n".join(block))
    if len(block) == 2 and _UNDERLINE.match(block[1].strip()) and len(block[1].strip()) >= 3:
        return Markup('<p class="doc-heading"><strong>{}</strong></p>').format(inline(first))
    for pattern, tag in ((_BULLET, "ul"), (_NUMBERED, "ol")):
        if pattern.match(first):
            html = _list_html(block, pattern, tag)
            if html is not None:
                return html
    return Markup("<p>{}</p>").format(inline(" ".join(ln.strip() for ln in block)))


def _skip_indented(lines: Sequence[str], i: int, base: int) -> int:
    """The index after the blank or more-indented lines from ``i`` on."""
    while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > base):
        i += 1
    return i


def rest_html(text: str) -> Markup:
    """Render ``text`` (reST-like) with the small built-in renderer."""
    lines = text.expandtabs().splitlines()
    out: list[Markup] = []
    literal_next = False
    i = 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        base = _indent(lines[i])
        if literal_next and out:
            # An indented block after ``::``: copy it verbatim.
            j = i
            chunk: list[str] = []
            while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) >= base):
                chunk.append(lines[j])
                j += 1
            while chunk and not chunk[-1].strip():
                chunk.pop()
            cut = min(_indent(ln) for ln in chunk if ln.strip())
            code = "\n".join(ln[cut:] for ln in chunk)
            out.append(Markup('<pre class="literal">{}</pre>').format(code))
            literal_next = False
            i = j
            continue
        j = i
        block: list[str] = []
        while j < len(lines) and lines[j].strip():
            block.append(lines[j])
            j += 1
        i = j
        if _DIRECTIVE.match(block[0].strip()):
            literal_next = True
            if len(block) > 1:  # the code follows without a blank line
                i -= len(block) - 1
            continue
        if block[0].lstrip().startswith(".."):
            # Another directive or a comment: admonitions keep their text,
            # anything else (raw, include, image, comments) is dropped.
            i = _skip_indented(lines, i, _indent(block[0]))
            m = _ADMONITION.match(block[0].strip())
            if m:
                body = [m.group(2), *(ln.strip() for ln in block[1:])]
                text = " ".join(t for t in body if t)
                out.append(
                    Markup('<p class="admonition"><strong>{}:</strong> {}</p>').format(
                        m.group(1).replace("version", "version "), inline(text)
                    )
                )
            continue
        last = block[-1].rstrip()
        if last.endswith("::"):
            literal_next = True
            stripped = last[:-2].rstrip()
            block[-1] = stripped + (":" if stripped and not stripped.endswith(":") else "")
            if not "".join(block).strip():
                continue
        out.extend(_block_html(b) for b in _paragraphs(block))
    return Markup("").join(out)


def docutils_html(text: str) -> Markup:
    """Render reST with docutils when it is installed, else :func:`rest_html`."""
    try:
        # NOTE: imported by name: docutils is optional and ships no stubs.
        core: Any = importlib.import_module("docutils.core")
        writers: Any = importlib.import_module("docutils.writers")
    except ImportError:
        return rest_html(text)
    try:
        parts = core.publish_parts(
            source=text,
            # NOTE: a writer, not writer_name= (deprecated in docutils 0.22)
            writer=writers.get_writer_class("html5")(),
            settings_overrides={
                "raw_enabled": False,
                "file_insertion_enabled": False,
                "report_level": 5,
                "halt_level": 5,
                "doctitle_xform": False,
                "_disable_config": True,
                "warning_stream": False,
            },
        )
    except Exception:  # a docstring docutils cannot handle: show it plainly
        return rest_html(text)
    return Markup(_safe_links(parts["fragment"]))


#: Attributes whose value is a URL the browser follows or loads.
_URL_ATTRIBUTES = ("href", "src", "data", "action", "formaction", "poster", "cite", "srcset")
#: What browsers drop from a URL before reading its scheme.
_URL_IGNORED = re.compile(r"[\x00-\x20\x7f]+")


def _safe_links(fragment: str) -> str:
    """docutils' HTML with every link and source that is not ``http(s)``,
    ``mailto``, relative or a fragment taken out (the link's text stays):
    ``javascript:`` and ``data:`` URLs of a docstring never reach the page."""
    if not any(f"{name}=" in fragment for name in _URL_ATTRIBUTES):
        return fragment  # PERF: most docstrings have no link
    from lxml import html

    root = html.fragment_fromstring(fragment, create_parent="div")
    changed = False
    for el in root.iter():
        for name in _URL_ATTRIBUTES:
            value = el.get(name)
            if value is None:
                continue
            url = _URL_IGNORED.sub("", value)
            scheme = url.split(":", 1)[0] if ":" in url.split("/", 1)[0] else ""
            if scheme and not _SAFE_URL.match(url):
                del el.attrib[name]
                changed = True
    if not changed:
        return fragment
    inner = [html.tostring(child, encoding="unicode") for child in root]
    return (root.text or "") + "".join(inner)


def doc_html(text: str, publisher: str | None) -> Markup:
    """A description as HTML, following its ``@publisher``.

    :param text: the description (without the ``@publisher:`` line).
    :param publisher: ``raw``, ``pre``, ``docutils`` or ``None``.
    """
    if not text.strip():
        return Markup("")
    if publisher == "raw":
        return Markup(text)
    if publisher == "pre":
        return Markup("<p>{}</p>").format(Markup("<br>").join(text.splitlines()))
    if publisher == "docutils":
        return docutils_html(text)
    return rest_html(text)


def lines_html(lines: Sequence[str], publisher: str | None = None) -> Markup:
    """Parameter or result docs (a few lines) as inline HTML."""
    if publisher == "raw":
        return Markup("\n".join(lines))
    if publisher == "pre":
        return Markup("<br>").join(lines)
    paragraphs = _paragraphs(lines)
    return Markup("<br>").join(inline(" ".join(ln.strip() for ln in p)) for p in paragraphs)
