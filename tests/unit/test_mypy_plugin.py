"""The mypy plugin (``ladon.mypy_plugin``), met the way a user meets it:
mypy run on small service modules of a project whose mypy configuration
enables it (``plugins = ladon.mypy_plugin``, ``strict = True``)."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import mypy.api
import pytest

import ladon

#: The directory holding the ``ladon`` package. mypy finds an installed
#: package in site-packages, but not through the import hook of an
#: editable install: then it is given as ``mypy_path``.
PACKAGE_ROOT = Path(ladon.__file__).resolve().parents[1]

PREAMBLE = """\
from __future__ import annotations

import datetime
from decimal import Decimal

from typing_extensions import assert_type

from ladon import LadonType
from ladon import attachment
from ladon.compat import PORTABLE_STRING
"""

SHAPES = """\
class Point(LadonType):
    x = int
    y = float


class Style(LadonType):
    color = {"type": PORTABLE_STRING, "default": "black", "doc": "CSS colour name"}
    width = {"type": float, "nullable": True}
    dashed = {"type": bool, "nullable": False}


class Polygon(LadonType):
    name = PORTABLE_STRING
    points = [Point]
    style = {"type": Style, "nullable": True}
    tags = list[str]
    created = datetime.datetime
    price = Decimal
    grid = [[int]]
    scan = attachment
    sizes = {"type": [int], "nullable": True}
    note: str | None = None
"""

#: The documented uses of Ladon 1.0 fields, each with the type it must have.
DOCUMENTED_USE = """\
p = Point()
p.x = 2
p.y = 2.5
assert_type(p.x + 1, int)
assert_type(p.y, float)
assert_type(Point.x, type[int])  # the class attribute is what Python has
q = Point(x=1, y=2)
assert_type(q.x, int)

poly = Polygon(name="a", points=[p, q], tags=["t"], note=None)
assert_type(poly.name, str)
assert_type(poly.points, list[Point])
assert_type(poly.tags, list[str])
assert_type(poly.created, datetime.datetime)
assert_type(poly.price, Decimal)
assert_type(poly.grid, list[list[int]])
assert_type(poly.scan, attachment)
assert_type(poly.sizes, list[int] | None)
assert_type(poly.note, str | None)
poly.tags.append("u")
assert_type(poly.style, Style | None)
if poly.style is not None:
    assert_type(poly.style.color, str)
    assert_type(poly.style.width, float | None)
    assert_type(poly.style.dashed, bool)
poly.style = Style(color="red", width=None, dashed=True)
poly.style.width = 1.5
"""


class RunMypy(Protocol):
    def __call__(self, files: dict[str, str], *, plugin: bool = True) -> list[str]: ...


@pytest.fixture(scope="module", autouse=True)
def _recursion_limit_restored() -> Iterator[None]:
    """mypy raises the interpreter's recursion limit for good; the tests
    after these run with the one they had."""
    before = sys.getrecursionlimit()
    yield
    sys.setrecursionlimit(before)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for the module: the standard library and Ladon are
    analysed once (for each of the two configurations, with and without
    the plugin: mypy throws away a cache made with other plugins)."""
    return tmp_path_factory.mktemp("mypy-cache")


@pytest.fixture()
def run_mypy(tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> RunMypy:
    """Write a project (``mypy.ini`` and the given modules) and run mypy on
    it from its directory; give mypy's report lines (errors and notes)."""
    monkeypatch.chdir(tmp_path)

    def run(files: dict[str, str], *, plugin: bool = True) -> list[str]:
        config = ["[mypy]", "strict = True"]
        if plugin:
            config.append("plugins = ladon.mypy_plugin")
        if PACKAGE_ROOT.name != "site-packages":
            config.append(f"mypy_path = {PACKAGE_ROOT}")
        (tmp_path / "mypy.ini").write_text("\n".join(config) + "\n")
        for name, text in files.items():
            (tmp_path / name).write_text(text)
        stdout, stderr, status = mypy.api.run(
            [
                "--cache-dir",
                str(cache_dir / ("plugin" if plugin else "plain")),
                "--no-error-summary",
                *sorted(files),
            ]
        )
        assert not stderr, stderr
        lines = stdout.splitlines()
        assert status == (1 if any(": error: " in line for line in lines) else 0), stdout
        return lines

    return run


def test_documented_use_of_ladon_1_fields_type_checks(run_mypy: RunMypy) -> None:
    assert run_mypy({"shop.py": PREAMBLE + SHAPES + DOCUMENTED_USE}) == []


def test_without_the_plugin_the_same_module_has_errors(run_mypy: RunMypy) -> None:
    text = PREAMBLE + SHAPES + DOCUMENTED_USE
    report = run_mypy({"shop.py": text}, plugin=False)
    line = text.splitlines().index("p.x = 2") + 1
    assert (
        f'shop.py:{line}: error: Incompatible types in assignment (expression has type "int", '
        'variable has type "type[int]")  [assignment]'
    ) in report


@pytest.mark.parametrize(
    ("statement", "error"),
    [
        (
            'p.x = "a"',
            'Incompatible types in assignment (expression has type "str", variable has '
            'type "int")  [assignment]',
        ),
        (
            "p.y = None",
            'Incompatible types in assignment (expression has type "None", variable has '
            'type "float")  [assignment]',
        ),
        (
            'Point(x="a")',
            'Argument "x" to "Point" has incompatible type "str"; expected "int"  [arg-type]',
        ),
        ("Point(z=1)", 'Unexpected keyword argument "z" for "Point"  [call-arg]'),
        (
            "poly.style.color",
            'Item "None" of "Style | None" has no attribute "color"  [union-attr]',
        ),
        (
            "poly.points.append(Style())",
            'Argument 1 to "append" of "list" has incompatible type "Style"; expected '
            '"Point"  [arg-type]',
        ),
        (
            'Polygon(tags="a")',
            'Argument "tags" to "Polygon" has incompatible type "str"; expected '
            '"list[str]"  [arg-type]',
        ),
        (
            "Polygon(note=3)",
            'Argument "note" to "Polygon" has incompatible type "int"; expected '
            '"str | None"  [arg-type]',
        ),
        (
            "p.x.upper()",
            '"int" has no attribute "upper"  [attr-defined]',
        ),
    ],
    ids=[
        "str-in-int-field",
        "none-in-mandatory-field",
        "constructor-wrong-type",
        "constructor-unknown-field",
        "nullable-read-unchecked",
        "list-item-of-another-type",
        "constructor-list-field",
        "constructor-annotated-field",
        "int-field-used-as-str",
    ],
)
def test_wrong_use_is_the_error_mypy_gives_for_annotated_fields(
    run_mypy: RunMypy, statement: str, error: str
) -> None:
    text = PREAMBLE + SHAPES + "p = Point()\npoly = Polygon()\n" + statement + "\n"
    line = text.count("\n")
    assert run_mypy({"shop.py": text}) == [f"shop.py:{line}: error: {error}"]


def test_fields_and_constructor_are_inherited_across_modules_and_kept_in_the_cache(
    run_mypy: RunMypy,
) -> None:
    shapes = textwrap.dedent(
        """\
        from ladon.compat import PORTABLE_STRING
        from ladon.types.ladontype import LadonType


        class Base(LadonType):
            name = PORTABLE_STRING
            size: int = 0
            labels = list[str]  # a type alias to mypy


        class Child(Base):
            extra = [int]
            note = {"type": str, "nullable": True}
        """
    )
    use = textwrap.dedent(
        """\
        from typing_extensions import assert_type

        from shapes import Child

        c = Child(name="a", size=2, extra=[1], note=None)
        assert_type(c.name, str)
        assert_type(c.size, int)
        assert_type(c.extra, list[int])
        assert_type(c.note, str | None)
        assert_type(c.labels, list[str])
        """
    )
    assert run_mypy({"shapes.py": shapes, "use.py": use}) == []
    # shapes.py now comes from the cache: what the plugin learnt is kept
    wrong = use + 'Child(name=1)\nc.extra = ["x"]\n'
    line = use.count("\n") + 1
    assert run_mypy({"use.py": wrong}) == [
        f'use.py:{line}: error: Argument "name" to "Child" has incompatible type "int"; '
        'expected "str"  [arg-type]',
        f'use.py:{line + 1}: error: List item 0 has incompatible type "str"; expected "int"  '
        "[list-item]",
    ]


def test_a_hand_written_constructor_is_kept(run_mypy: RunMypy) -> None:
    text = PREAMBLE + textwrap.dedent(
        """\
        class Item(LadonType):
            name = str

            def __init__(self, name: str) -> None:
                super().__init__(name=name)


        item = Item("pen")
        assert_type(item.name, str)
        Item(name=1)
        """
    )
    line = text.count("\n")
    assert run_mypy({"shop.py": text}) == [
        f'shop.py:{line}: error: Argument "name" to "Item" has incompatible type "int"; '
        'expected "str"  [arg-type]'
    ]


def test_a_ladon_1_service_module_type_checks(run_mypy: RunMypy) -> None:
    """A LadonType in a class defined inside a function, the Ladon 1.0
    import paths, a field naming a type defined further up."""
    text = textwrap.dedent(
        """\
        from ladon.compat import PORTABLE_STRING
        from ladon.ladonizer import ladonize
        from ladon.types.ladontype import LadonType


        class Disk(LadonType):
            size = int


        class Instance(LadonType):
            name = PORTABLE_STRING
            disks = [Disk]


        class InstanceService:
            @ladonize(PORTABLE_STRING, rtype=Instance)
            def create(self, name: str) -> Instance:
                info = Instance()
                info.name = name
                info.disks = [Disk(size=10)]
                info.disks[0].size += 1
                return info


        def local() -> int:
            class Local(LadonType):
                count = int

            return Local(count=3).count + 1
        """
    )
    assert run_mypy({"service.py": text}) == []
