"""Method docstrings: description, ``:param``/``@param`` blocks, return docs, publisher."""

from __future__ import annotations

import inspect

import pytest

from ladon.ladonizer import ladonize
from ladon.ladonizer.docstrings import DocInfo
from ladon.ladonizer.docstrings import parse_docstring
from ladon.ladonizer.registry import build_service


def test_empty_or_missing_docstring_gives_empty_info() -> None:
    assert parse_docstring(None) == DocInfo()
    assert parse_docstring("") == DocInfo()


def test_plain_docstring_is_all_description() -> None:
    info = parse_docstring("Add two numbers.\n\nReturns their sum.", ["a", "b"])
    assert info.description == ["Add two numbers.", "", "Returns their sum."]
    assert info.params == {}
    assert info.rtype == []
    assert info.publisher is None


@pytest.mark.parametrize(
    "doc",
    [
        "Add.\n:param a: the first\n:param b: the second\n:rtype: the sum",
        "Add.\n@param a: the first\n@param b: the second\n@rtype: the sum",
        "Add.\n:param int a: the first\n:param int b: the second\n:returns: the sum",
        "Add.\n:param a: the first\n@param b: the second\n:return: the sum",
        "Add.\n:param list[int] a: the first\n:param int | None b: the second\n@return: the sum",
    ],
    ids=["rest", "epydoc", "rest-typed-returns", "mixed-return", "rest-complex-types"],
)
def test_param_and_return_forms(doc: str) -> None:
    info = parse_docstring(doc, ["a", "b"])
    assert info.description == ["Add."]
    assert info.params == {"a": ["the first"], "b": ["the second"]}
    assert info.rtype == ["the sum"]


def test_epydoc_rtype_line() -> None:
    info = parse_docstring("@rtype: a number", ["a"])
    assert info.rtype == ["a number"]
    assert info.description == []


def test_continuation_lines_extend_the_block() -> None:
    doc = (
        "Search.\n"
        ":param query: the words to look for,\n"
        "    separated by spaces\n"
        "    (case does not matter)\n"
        ":rtype: matching ids,\n"
        "    best first"
    )
    info = parse_docstring(doc, ["query"])
    assert info.params["query"] == [
        "the words to look for,",
        "separated by spaces",
        "(case does not matter)",
    ]
    assert info.rtype == ["matching ids,", "best first"]
    assert info.description == ["Search."]


def test_param_with_text_only_on_continuation_lines() -> None:
    info = parse_docstring("@param a:\n    all on the next line", ["a"])
    assert info.params["a"] == ["all on the next line"]


def test_blank_line_inside_a_block_is_kept() -> None:
    doc = "@param a: first paragraph\n\n    second paragraph\n@rtype: x"
    info = parse_docstring(doc, ["a"])
    assert info.params["a"] == ["first paragraph", "", "second paragraph"]


def test_trailing_blank_lines_of_a_block_are_dropped() -> None:
    info = parse_docstring("@param a: text\n\n\nMore description.", ["a"])
    assert info.params["a"] == ["text"]
    assert info.description == ["More description."]


def test_unindented_line_ends_the_block_and_goes_to_the_description() -> None:
    doc = "Intro.\n:param a: about a\nBack in the description.\n    indented description"
    info = parse_docstring(doc, ["a"])
    assert info.params["a"] == ["about a"]
    assert info.description == ["Intro.", "Back in the description.", "    indented description"]


@pytest.mark.parametrize(
    "line",
    ["@param other: not a parameter", ":param other: not a parameter"],
    ids=["epydoc", "rest"],
)
def test_param_line_for_a_non_parameter_stays_in_the_description(line: str) -> None:
    info = parse_docstring(f"Intro.\n{line}\n@param a: real", ["a"])
    assert info.description == ["Intro.", line]
    assert info.params == {"a": ["real"]}


def test_param_line_for_a_non_parameter_ends_the_previous_block() -> None:
    info = parse_docstring("@param a: real\n@param ghost: nope", ["a"])
    assert info.params == {"a": ["real"]}
    assert info.description == ["@param ghost: nope"]


def test_type_lines_and_their_continuations_are_dropped() -> None:
    doc = (
        "Scale.\n"
        ":param factor: how much\n"
        ":type factor: float\n"
        "    or an int\n"
        ":rtype: the result\n"
        "Done."
    )
    info = parse_docstring(doc, ["factor"])
    assert info.params == {"factor": ["how much"]}
    assert info.rtype == ["the result"]
    assert info.description == ["Scale.", "Done."]
    assert not any("float" in line for line in info.description)


@pytest.mark.parametrize(
    ("first", "publisher"),
    [
        ("@publisher: pre", "pre"),
        ("@publisher: docutils", "docutils"),
        ("@publisher: raw", "raw"),
        ("@publisher:Docutils", "docutils"),
    ],
    ids=["pre", "docutils", "raw", "no-space-capitalised"],
)
def test_publisher_on_the_first_line(first: str, publisher: str) -> None:
    info = parse_docstring(f"{first}\nLine one.\nLine two.", [])
    assert info.publisher == publisher
    assert info.description == ["Line one.", "Line two."]


def test_publisher_not_on_the_first_line_is_description() -> None:
    info = parse_docstring("Text.\n@publisher: pre", [])
    assert info.publisher is None
    assert info.description == ["Text.", "@publisher: pre"]


def test_description_keeps_relative_indentation_and_inner_blank_lines() -> None:
    doc = "\nIntro:\n\n    code line\n        deeper\n\nEnd.\n\n"
    info = parse_docstring(doc, [])
    assert info.description == ["Intro:", "", "    code line", "        deeper", "", "End."]


def test_tabs_are_expanded() -> None:
    info = parse_docstring("@param a: text\n\tcontinued", ["a"])
    assert info.params["a"] == ["text", "continued"]


def test_docstrings_reach_the_method_model() -> None:
    class Calc:
        @ladonize(int, int, rtype=int)
        def add(self, a, b):  # type: ignore[no-untyped-def]
            """@publisher: pre
            Add two numbers.

            :param a: the first number
            @param b: the second number,
                never negative
            :type b: int
            :returns: the sum
            """
            return a + b

    assert inspect.getdoc(Calc.add) is not None
    method = build_service(Calc).methods["add"]
    assert method.publisher == "pre"
    assert method.doc == (
        "Add two numbers.",
        "",
    )  # the blank line before its fields, as Ladon 1.0 listed it
    assert [p.doc for p in method.params] == [
        ("the first number",),
        ("the second number,", "never negative"),
    ]
    assert method.rtype_doc == ("the sum",)


def test_the_description_keeps_the_blank_line_before_its_fields_as_ladon_1_did() -> None:
    # COMPAT 3.1: method doc_lines ["Sum two integers.", ""]
    doc = "Sum two integers.\n\n@param a: the first term\n@rtype: the sum"
    assert parse_docstring(doc, ["a"]).description == ["Sum two integers.", ""]
    assert parse_docstring("Sum two integers.\n@param a: x", ["a"]).description == [
        "Sum two integers."
    ]
    assert parse_docstring("Sum two integers.\n\n", ["a"]).description == ["Sum two integers."]
