"""Docs pages: docstring rendering, the console model, skins, static files.

The pages in the browser are in tests/browser/; here: what the server sends.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated
from typing import Any
from typing import cast

import lxml.html
import pytest
from annotated_types import Ge
from annotated_types import Le
from annotated_types import Len
from annotated_types import MaxLen
from annotated_types import MinLen
from lxml.html import HtmlElement
from webtest import TestApp

from ladon import LadonType
from ladon import ladonize
from ladon.server.docrender import doc_html
from ladon.server.docrender import inline
from ladon.server.docrender import rest_html
from ladon.server.skins import resolve_skin_file
from ladon.server.wsgi import LadonWSGIApplication


class Tag(LadonType):
    """A label <b>with markup</b>."""

    text: str = "</script><script>alert(1)</script>"
    weight: float | None = None


class Docs:
    """Docstrings of every kind, and *reST* in the class docstring.

    - first point
    - second point with ``code``
    """

    @ladonize()
    def rest(self, a: int, tags: list[Tag], flag: bool = False) -> str:
        """Uses the reST form.

        Example::

            rest(a=1)

        :param a: the <number>
        :param tags: some ``Tag`` values
        :rtype: a **string**
        """
        return ""

    @ladonize(int, rtype=int)
    def epydoc(self, a: int) -> int:
        """Uses the Ladon 1.0 form.

        @param a: the first
            continued here
        @rtype: the same
        """
        return a

    @ladonize(str, rtype=str)
    def raw(self, text: str) -> str:
        """@publisher: raw
        An <em class="authored">authored</em> description.
        """
        return text

    @ladonize(str, rtype=str)
    def pre(self, text: str) -> str:
        """@publisher: pre
        line one <x>
        line two
        """
        return text

    @ladonize(str, rtype=str)
    def docutils(self, text: str) -> str:
        """@publisher: docutils
        Rendered by *docutils* when installed.

        .. raw:: html

           <script>alert("raw directive")</script>

        `a link <javascript:alert('link')>`_, `another <JavaScript:alert('case')>`_,
        `a safe one <https://example.com/docs>`_ and `a relative one <./here>`_.

        .. image:: data:image/svg+xml,<svg onload=alert('image')>
        """
        return text

    @ladonize(str, rtype=str)
    def hostile(self, text: str) -> str:
        """<script>alert("no publisher")</script> is shown as text."""
        return text

    @ladonize(tasktype=True)
    def work(self, n: int, **kw: Any) -> Tag:
        """A task.

        :param n: how much
        """
        return Tag()


@pytest.fixture(scope="module")
def skins_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("pathdir")
    skins = base / "skins"
    (skins / "plain").mkdir(parents=True)
    (skins / "plain" / "catalog.html").write_text(
        "PLAIN CATALOG {{ catalog_name }} {% for s in services %}[{{ s.name }}]{% endfor %}"
    )
    (skins / "plain" / "service.html").write_text(
        '{% extends "ladon/service.html" %}{% block title %}PLAIN {{ service.name }}{% endblock %}'
    )
    (skins / "old").mkdir()
    (skins / "old" / "service.template").write_text("OLD {{ service.name }}")
    (skins / "plain" / "style.css").write_text("body { color: red }")
    (skins / "plain" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    (skins / "plain" / "app.js").write_text("var x = 1;")
    (skins / "plain" / "secret.py").write_text("PASSWORD = 1")
    (skins / "plain" / "UPPER.CSS").write_text("p {}")
    outside = base / "outside.css"
    outside.write_text("outside the skins folder")
    (skins / "plain" / "link.css").symlink_to(outside)
    return base


@pytest.fixture(scope="module")
def app(skins_dir: Path) -> Iterator[LadonWSGIApplication]:
    application = LadonWSGIApplication([Docs], [str(skins_dir)], "Docs catalog", "About <docs>")
    yield application
    application.close()


@pytest.fixture()
def client(app: LadonWSGIApplication) -> TestApp:
    return TestApp(app)


# lxml-stubs give lxml.html's functions the etree types: these say what
# lxml.html really returns.
def _html(text: str) -> HtmlElement:
    return cast(HtmlElement, lxml.html.fromstring(text))


def _by_id(page: HtmlElement, id_: str) -> HtmlElement:
    return cast(HtmlElement, page.get_element_by_id(id_))


def _first_of_class(element: HtmlElement, class_name: str) -> HtmlElement:
    return cast(HtmlElement, element.find_class(class_name)[0])


def _elements(element: HtmlElement, path: str) -> list[HtmlElement]:
    return cast("list[HtmlElement]", element.xpath(path))


def _model(html: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="ladon-model">(.*?)</script>', html, re.S)
    assert m is not None
    data: dict[str, Any] = json.loads(m.group(1))
    return data


# -- docstrings ---------------------------------------------------------------------


def test_class_docstring_is_rendered_as_rest(client: TestApp) -> None:
    html = client.get("/Docs").text
    assert "Docstrings of every kind, and <em>reST</em> in the class docstring." in html
    assert "<li>second point with <code>code</code></li>" in html


def test_rest_and_epydoc_param_docs_are_shown_escaped(client: TestApp) -> None:
    html = client.get("/Docs").text
    assert "the &lt;number&gt;" in html
    assert "some <code>Tag</code> values" in html
    assert "a <strong>string</strong>" in html
    assert "the first continued here" in html
    assert ":param" not in html and "@param" not in html and "@rtype" not in html
    assert '<pre class="literal">rest(a=1)</pre>' in html


def test_publisher_raw_pre_and_docutils(client: TestApp) -> None:
    html = client.get("/Docs").text
    assert '<em class="authored">authored</em>' in html  # raw: the author's HTML
    assert "line one &lt;x&gt;<br>line two" in html  # pre
    assert "@publisher" not in html
    assert "<em>docutils</em>" in html
    assert 'alert("raw directive")' not in html  # docutils runs with raw off
    # links and sources other than http(s), mailto, relative or #: their text only
    assert 'href="javascript' not in html.lower() and 'src="data:' not in html
    assert ">a link</a>" in html and ">another</a>" in html
    assert 'class="reference external"' in html  # docutils ran (not the fallback renderer)
    assert 'href="https://example.com/docs"' in html and 'href="./here"' in html


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "java\tscript:alert(1)",
        " javascript:x",
        "\x01javascript:x",
        "data:text/html,x",
        "vbscript:x",
        "jav&#x09;ascript:x",
    ],
)
def test_docutils_output_keeps_no_unsafe_url(url: str) -> None:
    from ladon.server.docrender import _safe_links

    fragment = f'<p><a href="{url}">t</a><img src="{url}" alt="a"></p>'
    out = _safe_links(fragment)
    assert "href=" not in out and "src=" not in out and ">t</a>" in out
    kept = '<p><a href="https://x.example/">t</a> <a href="#top">u</a></p>'
    assert _safe_links(kept) == kept


def test_docstring_html_is_escaped_without_a_raw_publisher(client: TestApp) -> None:
    html = client.get("/Docs").text
    assert '<script>alert("no publisher")' not in html
    assert "&lt;script&gt;alert(" in html
    assert "A label &lt;b&gt;with markup&lt;/b&gt;." in html  # type docstrings too


def test_catalog_description_is_escaped(client: TestApp) -> None:
    html = client.get("/").text
    assert "About &lt;docs&gt;" in html


@pytest.mark.parametrize(
    ("text", "publisher", "expected"),
    [
        ("a ``b<c>`` d", None, "<p>a <code>b&lt;c&gt;</code> d</p>"),
        ("see `the site <https://example.org/>`_", None, '<a href="https://example.org/">'),
        ("bad `x <javascript:alert(1)>`_", None, "javascript:alert(1)&gt;`_"),
        (":class:`Point` here", None, "<code>Point</code> here"),
        ("1. one\n2. two", None, "<ol><li>one</li><li>two</li></ol>"),
        (">>> add(1, 2)\n3", None, '<pre class="literal">&gt;&gt;&gt; add(1, 2)\n3</pre>'),
        ("Title\n=====\n\ntext", None, '<p class="doc-heading"><strong>Title</strong></p>'),
        ("a\nb", "pre", "<p>a<br>b</p>"),
        ("<i>x</i>", "raw", "<i>x</i>"),
        ("", None, ""),
        (".. note:: mind\n   this", None, '<p class="admonition"><strong>note:</strong> mind this'),
    ],
    ids=[
        "literal",
        "link",
        "unsafe-link",
        "role",
        "numbered",
        "doctest",
        "heading",
        "pre",
        "raw",
        "empty",
        "admonition",
    ],
)
def test_doc_html(text: str, publisher: str | None, expected: str) -> None:
    assert expected in str(doc_html(text, publisher))


def test_other_directives_and_comments_are_dropped() -> None:
    html = str(rest_html("A.\n\n.. raw:: html\n\n   <b>x</b>\n\n.. a comment\n\nB."))
    assert html == "<p>A.</p><p>B.</p>"


def test_code_block_directive_is_literal() -> None:
    html = str(rest_html("Use it:\n\n.. code-block:: python\n\n    x = 1 < 2\n\nAfter."))
    assert '<pre class="literal">x = 1 &lt; 2</pre>' in html
    assert "<p>After.</p>" in html
    assert str(inline("*a* and **b**")) == "<em>a</em> and <strong>b</strong>"


# -- methods, tasks, types, console model ------------------------------------------------


def test_task_method_is_marked_with_its_five_calls(client: TestApp) -> None:
    html = client.get("/Docs").text
    start = html.index('id="method-work"')
    block = html[start : html.index("</article>", start)]
    assert "task" in block
    for call in ("work_progress", "work_result", "work_cancel", "work_wait"):
        assert f'id="method-{call}"' in block
    # the title counts what the list holds: work(…) and its four companions
    calls = _first_of_class(_by_id(_html(html), "method-work"), "task-calls")
    assert len(calls.findall(".//li")) == 5
    assert _first_of_class(calls, "task-calls-title").text == "The five calls of this task"
    assert 'data-task="1"' in block
    assert 'href="#type-Tag"' in block  # the task's result type is linked


def test_task_types_name_the_methods_that_answer_with_them(client: TestApp) -> None:
    page = _html(client.get("/Docs").text)
    progress = _first_of_class(_by_id(page, "type-TaskProgressResponse"), "doc")
    assert progress.text_content().startswith(
        "The state of a task, as work_progress, work_cancel and work_wait answer it."
    )
    assert "progress runs from 0.0 to 1.0" in progress.text_content()  # the rest is kept
    started = _first_of_class(_by_id(page, "type-TaskInfoResponse"), "doc")
    assert "Returned at once by work" in started.text_content()
    text = client.get("/Docs").text
    assert "m_progress" not in text and "m_cancel" not in text and "m_wait" not in text


def test_interfaces_table_shows_an_alias_in_the_row_of_its_interface(
    client: TestApp, app: LadonWSGIApplication
) -> None:
    page = _html(client.get("/Docs").text)
    rows = _elements(page, '//*[@id="interfaces"]//tbody/tr')
    names = [" ".join(_elements(row, "./td[1]")[0].text_content().split()) for row in rows]
    assert "soap (alias soapdocumentliteral)" in names
    assert "soapdocumentliteral" not in names  # not a row of its own
    assert len(names) == len(set(app.interfaces.values()))  # one row per interface
    for row in rows:  # every description link answers
        (href,) = cast("list[str]", row.xpath(".//a/@href"))
        assert client.get(href).status_int == 200


def test_console_model_describes_params_types_and_defaults(client: TestApp) -> None:
    model = _model(client.get("/Docs").text)
    assert model["service"] == "Docs"
    rest = model["methods"]["rest"]
    assert [p["name"] for p in rest["params"]] == ["a", "tags", "flag"]
    assert rest["params"][1]["type"] == {"list": {"ref": "Tag"}}
    assert rest["params"][2] == {
        "name": "flag",
        "type": "bool",
        "optional": True,
        "nullable": False,
        "default": False,
    }
    assert model["methods"]["work"]["kind"] == "task_start"
    assert model["methods"]["work_progress"]["task_of"] == "work"
    fields = {f["name"]: f for f in model["types"]["Tag"]["fields"]}
    assert fields["weight"]["nullable"] is True
    assert fields["text"]["default"] == "</script><script>alert(1)</script>"


class Counted(LadonType):
    """List fields with rules."""

    counts: list[Annotated[int, Le(30)]]
    tags: Annotated[list[str], MaxLen(2)]


class RuledLists:
    @ladonize()
    def counts(self, counts: list[Annotated[int, Le(30)]]) -> int:
        return sum(counts)

    @ladonize()
    def pick(
        self, values: Annotated[list[Annotated[list[Annotated[int, Ge(0)]], MinLen(1)]], Len(1, 2)]
    ) -> int:
        return len(values)

    @ladonize()
    def counted(self, counted: Counted) -> int:
        return len(counted.counts)


def test_console_model_holds_the_rules_of_list_items_and_of_lists() -> None:
    """``list[Annotated[int, Le(30)]]`` is ``{"list": "int", "itemRules":
    ...}``; the rules of the list itself (``minItems``, ``maxItems``) are the
    parameter's or field's ``rules``, at every depth."""
    app = LadonWSGIApplication([RuledLists])
    model = _model(TestApp(app).get("/RuledLists").text)
    (counts,) = model["methods"]["counts"]["params"]
    assert counts["type"] == {"list": "int", "itemRules": {"maximum": 30, "text": ["≤ 30"]}}
    assert "rules" not in counts
    (values,) = model["methods"]["pick"]["params"]
    assert values["rules"] == {
        "minItems": 1,
        "maxItems": 2,
        "text": ["at least 1 item", "at most 2 items"],
    }
    assert values["type"] == {
        "list": {"list": "int", "itemRules": {"minimum": 0, "text": ["≥ 0"]}},
        "itemRules": {"minItems": 1, "text": ["at least 1 item"]},
    }
    fields = {f["name"]: f for f in model["types"]["Counted"]["fields"]}
    assert fields["counts"]["type"] == counts["type"]
    assert fields["tags"]["type"] == {"list": "str"}
    assert fields["tags"]["rules"] == {"maxItems": 2, "text": ["at most 2 items"]}
    app.close()


def test_console_model_cannot_close_its_script_element(client: TestApp) -> None:
    html = client.get("/Docs").text
    assert "</script><script>alert(1)" not in html
    assert html.count("<script") == 2  # the model and ladon.js


def test_console_endpoint_and_assets_follow_script_name(client: TestApp) -> None:
    html = client.get("/Docs", extra_environ={"SCRIPT_NAME": "/deep/api"}).text
    assert 'data-endpoint="/deep/api/Docs/jsonwsp"' in html
    assert 'href="/deep/api/_ladon/static/ladon.css?v=' in html
    assert 'src="/deep/api/_ladon/static/ladon.js?v=' in html


# -- packaged assets ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "ctype"),
    [("ladon.css", "text/css"), ("ladon.js", "text/javascript"), ("favicon.svg", "image/svg+xml")],
)
def test_packaged_assets_are_served_with_etags(client: TestApp, name: str, ctype: str) -> None:
    resp = client.get(f"/_ladon/static/{name}")
    assert resp.status_int == 200
    assert resp.content_type == ctype
    assert resp.headers["ETag"]
    again = client.get(
        f"/_ladon/static/{name}", headers={"If-None-Match": resp.headers["ETag"]}, status=304
    )
    assert again.body == b""


@pytest.mark.parametrize("name", ["nope.css", "..", "ladon.css.map", "%2e%2e"])
def test_unknown_assets_are_404(client: TestApp, name: str) -> None:
    resp = client.get(f"/_ladon/static/{name}", expect_errors=True)
    assert resp.status_int == 404


# -- skins -------------------------------------------------------------------------------


def test_skin_renders_its_catalog_template(client: TestApp) -> None:
    resp = client.get("/?skin=plain")
    assert resp.text.strip() == "PLAIN CATALOG Docs catalog [Docs]"


def test_skin_can_extend_the_default_service_page(client: TestApp) -> None:
    html = client.get("/Docs?skin=plain").text
    assert "<title>PLAIN Docs</title>" in html
    assert 'id="method-rest"' in html


def test_ladon1_template_names_are_found(client: TestApp) -> None:
    assert client.get("/Docs?skin=old").text.strip() == "OLD Docs"
    # no catalog.template in that skin: the default catalog
    assert "<h1>Docs catalog</h1>" in client.get("/?skin=old").text


@pytest.mark.parametrize(
    "skin",
    ["nope", "../skins/plain", "<script>alert(1)</script>", "plain/../old", ".", ""],
    ids=["unknown", "traversal", "markup", "nested", "dot", "empty"],
)
def test_unknown_or_bad_skins_fall_back_and_are_never_reflected(client: TestApp, skin: str) -> None:
    resp = client.get("/Docs", params={"skin": skin})
    assert resp.status_int == 200
    assert 'id="method-rest"' in resp.text
    if "<" in skin or "/" in skin:
        assert skin not in resp.text


@pytest.mark.parametrize(
    ("path", "ctype", "body"),
    [
        ("/skins/plain/style.css", "text/css", b"body { color: red }"),
        ("/skins/plain/logo.png", "image/png", b"\x89PNG\r\n\x1a\nfake"),
        ("/skins/plain/app.js", "text/javascript", b"var x = 1;"),
        ("/skins/plain/UPPER.CSS", "text/css", b"p {}"),
        ("/skins/plain/catalog.html", "text/html", None),
    ],
    ids=["css", "png", "js", "upper-case-extension", "html"],
)
def test_skin_files_are_served_with_their_type(
    client: TestApp, path: str, ctype: str, body: bytes | None
) -> None:
    resp = client.get(path)
    assert resp.status_int == 200
    assert resp.content_type == ctype
    # one charset, for text (send_file used to add a second one)
    assert resp.headers["Content-Type"].count("charset") == (1 if ctype.startswith("text/") else 0)
    if body is not None:
        assert resp.body == body
    assert client.head(path).status_int == 200


@pytest.mark.parametrize("skin", ["rounded", "bluebox"])
@pytest.mark.parametrize("page", ["/", "/Docs"])
def test_ladon1_bundled_skins_are_there(client: TestApp, skin: str, page: str) -> None:
    """COMPAT: ?skin=rounded and ?skin=bluebox come with Ladon: the default
    page in another style, the service page whole."""
    default = client.get(page).text
    html = client.get(page, params={"skin": skin}).text
    assert html != default and f"skin-{skin}" in html and "<style>" in html
    if page == "/Docs":
        assert 'id="method-rest"' in html
    # not files of /skins/ (which serves the path_list's skins folders)
    assert client.get(f"/skins/{skin}/service.html", expect_errors=True).status_int == 404


def test_a_path_list_skin_wins_over_a_bundled_one_of_its_name(tmp_path: Path) -> None:
    (tmp_path / "skins" / "rounded").mkdir(parents=True)
    (tmp_path / "skins" / "rounded" / "service.html").write_text("MINE {{ service.name }}")
    app = LadonWSGIApplication([Docs], [str(tmp_path)])
    assert TestApp(app).get("/Docs?skin=rounded").text.strip() == "MINE Docs"


@pytest.mark.parametrize(
    "path",
    [
        "/skins/plain/missing.css",
        "/skins/plain/secret.py",
        "/skins/plain/service.template",
        "/skins/plain",
        "/skins/plain/link.css",
        "/skins/../outside.css",
        "/skins/plain/../../outside.css",
        "/skins/%2e%2e/outside.css",
        "/skins/plain/%2e%2e/%2e%2e/outside.css",
        "/skins/plain%2f..%2f..%2foutside.css",
        "/skins//etc/passwd",
        "/skins/plain/..%5c..%5coutside.css",
        "/skins/plain/style.css%00.png",
    ],
    ids=[
        "missing",
        "other-extension",
        "template",
        "directory",
        "symlink-out",
        "dotdot",
        "dotdot-deep",
        "encoded-dotdot",
        "encoded-dotdot-deep",
        "encoded-slash",
        "absolute",
        "backslash",
        "nul",
    ],
)
def test_skin_files_outside_the_whitelist_or_folder_are_404(client: TestApp, path: str) -> None:
    resp = client.get(path, expect_errors=True)
    assert resp.status_int == 404
    assert b"outside the skins folder" not in resp.body
    assert b"PASSWORD" not in resp.body
    assert resp.content_type == "text/plain"


def test_no_path_list_means_no_skin_files() -> None:
    application = LadonWSGIApplication([Docs])
    try:
        resp = TestApp(application).get("/skins/plain/style.css", expect_errors=True)
        assert resp.status_int == 404
    finally:
        application.close()


def test_resolve_refuses_absolute_and_parent_paths(skins_dir: Path) -> None:
    dirs = [str(skins_dir / "skins")]
    assert resolve_skin_file(dirs, "plain/style.css") is not None
    for bad in (
        "/etc/passwd.css",
        "plain/../../outside.css",
        "plain//style.css",
        "./plain/style.css",
    ):
        assert resolve_skin_file(dirs, bad) is None
    assert os.path.islink(skins_dir / "skins" / "plain" / "link.css")
    assert resolve_skin_file(dirs, "plain/link.css") is None
