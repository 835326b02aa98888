"""Service discovery and the service model built from classes and instances."""

from __future__ import annotations

import enum
import re
import sys
import textwrap
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import pytest

from ladon.exceptions.base import DefinitionError
from ladon.ladonizer import ladonize
from ladon.ladonizer.model import MethodKind
from ladon.ladonizer.registry import build_service
from ladon.ladonizer.registry import build_services
from ladon.ladonizer.registry import classes_of
from ladon.ladonizer.registry import discover
from ladon.ladonizer.registry import publishes
from ladon.types.ladontype import LadonType
from ladon.types.spec import Constrained
from ladon.types.spec import ListOf
from ladon.types.tasktype import TaskInfoResponse
from ladon.types.tasktype import TaskProgressResponse

SERVICE_SOURCE = """
from ladon.ladonizer import ladonize


class {first}:
    '''First service.'''

    @ladonize(int, int, rtype=int)
    def add(self, a, b):
        return a + b


class NotAService:
    def helper(self):
        return 1


class {second}:
    @ladonize(rtype=str)
    def ping(self):
        return "pong"
"""


@pytest.fixture(autouse=True)
def _restore_import_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Discovery appends to ``sys.path`` and imports modules: undo both (only
    for the modules written by these tests)."""
    path = list(sys.path)
    modules = set(sys.modules)
    base = str(tmp_path_factory.getbasetemp())
    yield
    sys.path[:] = path
    for name in set(sys.modules) - modules:
        if str(getattr(sys.modules[name], "__file__", None) or "").startswith(base):
            del sys.modules[name]


@pytest.fixture()
def write_module(tmp_path: Path) -> Callable[..., tuple[str, Path]]:
    """Write a service module with a unique name; returns (module name, file)."""

    def write(
        source: str = SERVICE_SOURCE,
        directory: Path = tmp_path,
        stem: str | None = None,
        **names: str,
    ) -> tuple[str, Path]:
        name = stem or f"ladon_test_svc_{uuid.uuid4().hex[:12]}"
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{name}.py"
        path.write_text(textwrap.dedent(source).format(**names), encoding="utf-8")
        return name, path

    return write


def _names(found: list[object]) -> list[str]:
    return [obj.__name__ if isinstance(obj, type) else type(obj).__name__ for obj in found]


# -- discovery ----------------------------------------------------------------------------


def test_discover_module_name_with_path_list_string(
    write_module: Callable[..., tuple[str, Path]], tmp_path: Path
) -> None:
    name, _ = write_module(first="Alpha", second="Beta")
    found = discover(name, path_list=str(tmp_path))
    assert _names(found) == ["Alpha", "Beta"]
    assert str(tmp_path) in sys.path
    assert sys.path.index(str(tmp_path)) > 0, "path_list directories are appended"


def test_discover_list_of_module_names_with_path_list_list(
    write_module: Callable[..., tuple[str, Path]], tmp_path: Path
) -> None:
    one, _ = write_module(directory=tmp_path / "one", first="A1", second="B1")
    two, _ = write_module(directory=tmp_path / "two", first="A2", second="B2")
    found = discover([one, two], path_list=[str(tmp_path / "one"), str(tmp_path / "two")])
    assert _names(found) == ["A1", "B1", "A2", "B2"]


def test_a_module_serves_the_classes_it_imports_as_ladon_1_did(
    write_module: Callable[..., tuple[str, Path]], tmp_path: Path
) -> None:
    # COMPAT 1: every class with a ladonized method in any imported module
    calc, _ = write_module(stem=f"calc_{uuid.uuid4().hex[:8]}", first="Calc", second="Calc2")
    template = (
        "from ladon.ladonizer import ladonize\n"
        "class Base:\n"
        "    @ladonize(rtype=int)\n"
        "    def one(self):\n"
        "        return 1\n"
        "class Template(Base):\n"
        "    def __init__(self, config):\n"
        "        self.config = config\n"
    )
    base, _ = write_module(template, stem=f"base_{uuid.uuid4().hex[:8]}")
    gather, _ = write_module(
        f"import {calc}\nfrom {calc} import Calc\nfrom {base} import *\n",
        stem=f"gather_{uuid.uuid4().hex[:8]}",
    )
    # Calc by name, Base through "import *" (not Calc2: "import calc" binds
    # a module, whose classes a module does not serve); Template needs
    # arguments: a template, served as an instance
    found = discover([gather], path_list=str(tmp_path))
    assert _names(found) == ["Calc", "Base"]  # in the module's order
    found = discover([gather, calc], path_list=str(tmp_path))
    assert sorted(_names(found)) == ["Base", "Calc", "Calc2"]  # each once
    assert len(build_services(found)) == 3
    # the same again, whatever was imported meanwhile
    assert discover([gather, calc], path_list=str(tmp_path)) == found


def test_a_module_name_is_a_module_even_beside_a_folder_of_that_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the layout of docs/servers.rst: shop/ a package, run from its parent
    pkg = f"shop_{uuid.uuid4().hex[:8]}"
    (tmp_path / pkg).mkdir()
    (tmp_path / pkg / "__init__.py").write_text("from .orders import Orders\n")
    (tmp_path / pkg / "orders.py").write_text(
        textwrap.dedent(SERVICE_SOURCE).format(first="Orders", second="OrdersTwo")
    )
    monkeypatch.chdir(tmp_path)
    assert _names(discover(pkg, path_list=str(tmp_path))) == ["Orders"]


def test_discover_unknown_module_name_raises_import_error() -> None:
    with pytest.raises(ImportError):
        discover(f"no_such_module_{uuid.uuid4().hex}")


def test_discover_file_path_as_string_and_as_path(
    write_module: Callable[..., tuple[str, Path]],
) -> None:
    _, path = write_module(first="FileA", second="FileB")
    assert _names(discover(str(path))) == ["FileA", "FileB"]
    assert _names(discover(path)) == ["FileA", "FileB"]


def test_discover_same_file_twice_imports_it_once(
    write_module: Callable[..., tuple[str, Path]],
) -> None:
    _, path = write_module(first="Once", second="Twice")
    first = discover(str(path))
    second = discover(str(path))
    assert first == second


def test_discover_missing_py_file_is_a_definition_error(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="does not exist"):
        discover(str(tmp_path / "missing.py"))


def test_discover_directory_imports_every_public_py_file_in_name_order(
    write_module: Callable[..., tuple[str, Path]], tmp_path: Path
) -> None:
    directory = tmp_path / "services"
    tag = uuid.uuid4().hex[:8]
    write_module(directory=directory, stem=f"b_{tag}", first="BFirst", second="BSecond")
    write_module(directory=directory, stem=f"a_{tag}", first="AFirst", second="ASecond")
    write_module(directory=directory, stem=f"_private_{tag}", first="Hidden", second="Hidden2")
    (directory / "notes.txt").write_text("not python", encoding="utf-8")
    assert _names(discover(str(directory))) == ["AFirst", "ASecond", "BFirst", "BSecond"]


def test_discover_files_with_the_same_name_in_two_directories(
    write_module: Callable[..., tuple[str, Path]], tmp_path: Path
) -> None:
    stem = f"same_{uuid.uuid4().hex[:8]}"
    _, one = write_module(directory=tmp_path / "one", stem=stem, first="One", second="OneB")
    _, two = write_module(directory=tmp_path / "two", stem=stem, first="Two", second="TwoB")
    assert _names(discover([str(one), str(two)])) == ["One", "OneB", "Two", "TwoB"]


def test_discover_module_object_lists_only_its_own_publishing_classes(
    write_module: Callable[..., tuple[str, Path]], tmp_path: Path
) -> None:
    base_name, _ = write_module(first="Imported", second="AlsoImported")
    source = f"""
        from {base_name} import Imported
        from ladon.ladonizer import ladonize


        class Local(Imported):
            @ladonize(rtype=int)
            def extra(self):
                return 1
    """
    name, _ = write_module(source=source)
    sys.path.append(str(tmp_path))
    module = __import__(name)
    assert _names(discover(module)) == ["Local"]
    assert classes_of(module) == [module.Local]


def test_discover_classes_and_instances_are_kept_in_order() -> None:
    class Calc:
        @ladonize(int, rtype=int)
        def double(self, a):  # type: ignore[no-untyped-def]
            return 2 * a

    instance = Calc()
    assert discover(Calc) == [Calc]
    assert discover([instance, Calc]) == [instance, Calc]
    assert discover((Calc,)) == [Calc]


def test_instance_with_service_name_publishes_under_that_name() -> None:
    class Store:
        def __init__(self, db: dict[str, int]) -> None:
            self.db = db

        @ladonize(str, rtype=int)
        def get(self, key):  # type: ignore[no-untyped-def]
            return self.db[key]

    instance = Store({"a": 1})
    instance.service_name = "Inventory"  # type: ignore[attr-defined]
    info = build_service(instance)
    assert info.name == "Inventory"
    assert info.factory() is instance
    assert info.source is instance
    assert getattr(info.factory(), info.methods["get"].attr)("a") == 1


def test_class_attribute_service_name_renames_the_service() -> None:
    class Calc:
        service_name = "calculator"

        @ladonize(rtype=int)
        def one(self):  # type: ignore[no-untyped-def]
            return 1

    assert build_service(Calc).name == "calculator"


def test_class_service_factory_makes_a_fresh_instance_per_call() -> None:
    class Calc:
        @ladonize(rtype=int)
        def one(self):  # type: ignore[no-untyped-def]
            return 1

    info = build_service(Calc)
    a, b = info.factory(), info.factory()
    assert isinstance(a, Calc) and isinstance(b, Calc)
    assert a is not b


def test_services_are_numbered_in_order_from_one() -> None:
    class A:
        @ladonize(rtype=int)
        def m(self):  # type: ignore[no-untyped-def]
            return 1

    class B(A):
        pass

    infos = build_services([A, B])
    assert [(i.name, i.number) for i in infos] == [("A", 1), ("B", 2)]


def test_publishes_is_true_only_with_a_ladonized_method_along_the_mro() -> None:
    class Base:
        @ladonize(rtype=int)
        def m(self):  # type: ignore[no-untyped-def]
            return 1

    class Child(Base):
        pass

    class Plain:
        def m(self) -> int:
            return 1

    assert publishes(Base) and publishes(Child)
    assert not publishes(Plain)


def test_class_without_published_methods_is_a_definition_error() -> None:
    class Plain:
        def m(self) -> int:
            return 1

    with pytest.raises(DefinitionError, match="Plain publishes no method"):
        build_service(Plain)


@pytest.mark.parametrize(
    "name",
    ["has space", "slash/name", "", "9starts_with_digit", "caf\u00e9"],
    ids=["space", "slash", "empty", "digit-first", "non-ascii"],
)
def test_service_name_must_be_a_url_segment(name: str) -> None:
    class Svc:
        service_name = name

        @ladonize(rtype=int)
        def m(self):  # type: ignore[no-untyped-def]
            return 1

    with pytest.raises(DefinitionError, match="not a valid URL segment"):
        build_service(Svc)


# -- MRO walk --------------------------------------------------------------------------------


class Base:
    @ladonize(int, rtype=int)
    def first(self, a):  # type: ignore[no-untyped-def]
        return a

    @ladonize(int, rtype=int)
    def second(self, a):  # type: ignore[no-untyped-def]
        return a

    @ladonize(int, rtype=int)
    def third(self, a):  # type: ignore[no-untyped-def]
        return a


class Greeting:
    """A mixin contributing a method."""

    @ladonize(rtype=str)
    def hello(self):  # type: ignore[no-untyped-def]
        return "hi"


def test_inherited_methods_are_published() -> None:
    class Child(Base):
        pass

    info = build_service(Child)
    assert list(info.methods) == ["first", "second", "third"]


def test_mixin_methods_are_published_base_classes_first() -> None:
    class Service(Greeting, Base):
        @ladonize(rtype=int)
        def own(self):  # type: ignore[no-untyped-def]
            return 0

    info = build_service(Service)
    assert list(info.methods) == ["first", "second", "third", "hello", "own"]
    assert getattr(info.factory(), info.methods["hello"].attr)() == "hi"


def test_decorated_override_wins_and_keeps_the_base_position() -> None:
    class Child(Base):
        @ladonize(rtype=str)
        def extra(self):  # type: ignore[no-untyped-def]
            return ""

        @ladonize(str, str, rtype=str)
        def second(self, x, y):  # type: ignore[no-untyped-def, override]
            return x + y

    info = build_service(Child)
    assert list(info.methods) == ["first", "second", "third", "extra"]
    second = info.methods["second"]
    assert [(p.name, p.type) for p in second.params] == [("x", str), ("y", str)]
    assert second.rtype is str
    assert getattr(info.factory(), second.attr)("a", "b") == "ab"


def test_undecorated_override_keeps_the_base_signature_but_runs_the_override() -> None:
    class Child(Base):
        def first(self, a):  # type: ignore[no-untyped-def]
            return a * 100

    info = build_service(Child)
    assert list(info.methods) == ["first", "second", "third"]
    first = info.methods["first"]
    assert [(p.name, p.type) for p in first.params] == [("a", int)]
    assert first.rtype is int
    assert getattr(info.factory(), first.attr)(2) == 200


def test_override_in_a_deeper_subclass() -> None:
    class Middle(Base):
        @ladonize(float, rtype=float)
        def third(self, a):  # type: ignore[no-untyped-def]
            return a

    class Leaf(Middle):
        @ladonize(str, rtype=str)
        def first(self, a):  # type: ignore[no-untyped-def]
            return a

    info = build_service(Leaf)
    assert list(info.methods) == ["first", "second", "third"]
    assert [info.methods[n].rtype for n in info.methods] == [str, int, float]


# -- duplicate names and constructors ---------------------------------------------------------


def _service(name: str) -> type:
    @ladonize(rtype=int)
    def m(self):  # type: ignore[no-untyped-def]
        return 1

    return type(name, (), {"m": m})


def test_duplicate_service_names_are_a_definition_error() -> None:
    first, second = _service("Calc"), _service("Calc")
    with pytest.raises(DefinitionError, match="two services are named 'Calc'"):
        build_services([first, second])


@pytest.mark.parametrize(
    ("a", "b"),
    [("Calc", "calc"), ("CALC", "Calc"), ("calc", "cAlC")],
    ids=["lower", "upper", "mixed"],
)
def test_duplicate_service_names_are_detected_case_insensitively(a: str, b: str) -> None:
    with pytest.raises(DefinitionError, match="two services are named"):
        build_services([_service(a), _service(b)])


def test_service_name_of_an_instance_can_clash_with_a_class_name() -> None:
    cls = _service("Calc")
    other = _service("Other")()
    other.service_name = "calc"
    with pytest.raises(DefinitionError, match="two services are named 'calc'"):
        build_services([cls, other])


def test_same_class_twice_under_different_names_is_fine() -> None:
    cls = _service("Calc")
    renamed = cls()
    renamed.service_name = "Calc2"
    assert [i.name for i in build_services([cls, renamed])] == ["Calc", "Calc2"]


def test_class_needing_constructor_arguments_is_a_definition_error() -> None:
    class Store:
        def __init__(self, db: object, *, timeout: float) -> None:
            self.db = db

        @ladonize(rtype=int)
        def m(self):  # type: ignore[no-untyped-def]
            return 1

    with pytest.raises(DefinitionError, match=r"Store needs constructor arguments \(db, timeout\)"):
        build_service(Store)
    assert build_service(Store({}, timeout=1.0)).name == "Store"


def test_class_with_optional_constructor_arguments_is_accepted() -> None:
    class Store:
        def __init__(self, db: object = None, *args: object, **kw: object) -> None:
            self.db = db

        @ladonize(rtype=int)
        def m(self):  # type: ignore[no-untyped-def]
            return 1

    assert build_service(Store).factory().db is None  # type: ignore[attr-defined]


# -- task methods ----------------------------------------------------------------------------


def test_task_method_expands_into_five_methods() -> None:
    class Jobs:
        @ladonize(int, rtype=[int], tasktype=True)
        def crunch(self, n):  # type: ignore[no-untyped-def]
            """Crunch numbers.

            @param n: how many
            @rtype: the numbers
            """
            return list(range(n))

    info = build_service(Jobs)
    assert list(info.methods) == [
        "crunch",
        "crunch_progress",
        "crunch_result",
        "crunch_cancel",
        "crunch_wait",
    ]
    start = info.methods["crunch"]
    progress = info.methods["crunch_progress"]
    result = info.methods["crunch_result"]
    cancel = info.methods["crunch_cancel"]
    wait = info.methods["crunch_wait"]

    assert start.kind is MethodKind.TASK_START and start.is_task
    assert start.rtype is TaskInfoResponse
    assert [(p.name, p.type) for p in start.params] == [("n", int)]
    assert start.doc == ("Crunch numbers.", "")

    assert progress.kind is MethodKind.TASK_PROGRESS
    assert progress.rtype is TaskProgressResponse
    assert result.kind is MethodKind.TASK_RESULT
    assert result.rtype == ListOf(int)
    assert result.rtype_doc == ("the numbers",)
    assert cancel.kind is MethodKind.TASK_CANCEL
    assert cancel.rtype is TaskProgressResponse
    assert wait.kind is MethodKind.TASK_WAIT
    assert wait.rtype is TaskProgressResponse
    # the timeout is seconds >= 0, a rule every description publishes
    assert [p.name for p in wait.params] == ["task_id", "timeout"]
    timeout = wait.params[1].type
    assert isinstance(timeout, Constrained) and timeout.base is float
    assert timeout.constraints.ge == 0.0 and not wait.params[1].optional

    for m in (progress, result, cancel, wait):
        assert [(p.name, p.type) for p in m.params][:1] == [("task_id", str)]
        assert m.task_of == "crunch"
        assert m.attr == "crunch"
        assert not m.is_task
    assert TaskInfoResponse in info.types
    assert TaskProgressResponse in info.types


def test_task_result_keeps_a_nullable_rtype() -> None:
    class Jobs:
        @ladonize()
        def maybe(self) -> str | None:
            return None

    plain = build_service(Jobs).methods["maybe"]
    assert plain.rtype_nullable is True
    assert plain.kind is MethodKind.PLAIN

    class TaskJobs:
        @ladonize(tasktype=True)
        def maybe(self) -> str | None:
            return None

    info = build_service(TaskJobs)
    assert info.methods["maybe"].rtype_nullable is False
    assert info.methods["maybe_result"].rtype is str
    assert info.methods["maybe_result"].rtype_nullable is True


def test_task_method_clashing_with_a_user_method_defined_after_it() -> None:
    class Jobs:
        @ladonize(rtype=int, tasktype=True)
        def m(self):  # type: ignore[no-untyped-def]
            return 1

        @ladonize(rtype=int)
        def m_progress(self):  # type: ignore[no-untyped-def]
            return 1

    with pytest.raises(DefinitionError, match="'m_progress' is published twice"):
        build_service(Jobs)


def test_task_method_clashing_with_a_user_method_defined_before_it() -> None:
    class Jobs:
        @ladonize(str, rtype=int)
        def m_result(self, task_id):  # type: ignore[no-untyped-def]
            return 1

        @ladonize(rtype=int, tasktype=True)
        def m(self):  # type: ignore[no-untyped-def]
            return 1

    with pytest.raises(DefinitionError, match="'m_result' is published twice"):
        build_service(Jobs)


# -- docs and types ------------------------------------------------------------------------


def test_class_docstring_is_kept() -> None:
    class Documented:
        """A documented service.

        Second paragraph.
        """

        @ladonize(rtype=int)
        def m(self):  # type: ignore[no-untyped-def]
            return 1

    assert build_service(Documented).doc == "A documented service.\n\nSecond paragraph."


def test_class_without_docstring_has_empty_doc() -> None:
    assert build_service(_service("Bare")).doc == ""


def test_service_doc_attribute_overrides_the_docstring() -> None:
    class Documented:
        """Class docstring."""

        @ladonize(rtype=int)
        def m(self):  # type: ignore[no-untyped-def]
            return 1

    instance = Documented()
    instance.service_doc = "Configured instance."  # type: ignore[attr-defined]
    assert build_service(instance).doc == "Configured instance."


def test_discovered_module_class_docstring_is_kept(
    write_module: Callable[..., tuple[str, Path]],
) -> None:
    _, path = write_module(first="Doc1", second="Doc2")
    infos = build_services(discover(str(path)))
    assert [i.doc for i in infos] == ["First service.", ""]


class Money(LadonType):
    amount = float
    currency = str


class Line(LadonType):
    price = Money
    label = str


class Order(LadonType):
    total = Money
    lines = [Line]


class Unused(LadonType):
    x = int


class TreeNode(LadonType):
    label: str
    children: list[TreeNode]


def test_ladontypes_are_collected_dependencies_first() -> None:
    class Shop:
        @ladonize([Order], rtype=[Order])
        def process(self, orders):  # type: ignore[no-untyped-def]
            return orders

        @ladonize(Line, rtype=Money)
        def price(self, line):  # type: ignore[no-untyped-def]
            return line.price

    info = build_service(Shop)
    assert Unused not in info.types
    assert info.types == (Money, Line, Order)


def test_ladontype_collection_follows_nested_lists_and_return_types() -> None:
    class Shop:
        @ladonize(int, rtype=[[Line]])
        def grid(self, n):  # type: ignore[no-untyped-def]
            return []

    assert build_service(Shop).types == (Money, Line)


def test_recursive_ladontype_is_collected_once() -> None:
    class Trees:
        @ladonize()
        def tree(self, root: TreeNode) -> list[TreeNode]:
            return [root]

    info = build_service(Trees)
    assert info.types == (TreeNode,)
    fields = {f.name: f.type for f in TreeNode.ladon_type_info().fields}
    assert fields == {"children": ListOf(TreeNode), "label": str}


def test_service_without_ladontypes_has_no_types() -> None:
    assert build_service(_service("Simple")).types == ()


# -- type names ----------------------------------------------------------------------------


def _named(name: str, module: str, **fields: object) -> type[LadonType]:
    """A LadonType ``name`` as if defined in ``module`` (Ladon 1.0 fields)."""
    return type(name, (LadonType,), {"__module__": module, **fields})


class Shade(enum.Enum):
    LIGHT = "light"
    DARK = "dark"


def test_two_ladontypes_of_one_name_are_a_definition_error() -> None:
    billing = _named("Address", "billing_types", iban=str)
    home = _named("Address", "patient_types", street=str, city=str)

    class Registry:
        @ladonize(billing, rtype=str)
        def set_billing(self, a):  # type: ignore[no-untyped-def]
            return a.iban

        @ladonize(home, rtype=str)
        def set_home(self, a):  # type: ignore[no-untyped-def]
            return a.city

    message = (
        "service 'Registry': two types are named 'Address' in its descriptions: "
        "billing_types.Address and patient_types.Address; rename one of the classes"
    )
    with pytest.raises(DefinitionError, match=re.escape(message)):
        build_service(Registry)


def test_two_ladontypes_of_one_name_in_fields_are_a_definition_error() -> None:
    inner = _named("Address", "patient_types", city=str)
    outer = _named("Patient", "patient_types", home=inner, billing=[_named("Address", "b", x=int)])

    class Registry:
        @ladonize(outer, rtype=str)
        def admit(self, p):  # type: ignore[no-untyped-def]
            return ""

    with pytest.raises(DefinitionError, match="two types are named 'Address'"):
        build_service(Registry)


@pytest.mark.parametrize(
    "ladons", [TaskInfoResponse, TaskProgressResponse], ids=lambda t: t.__name__
)
def test_a_ladontype_named_like_a_task_type_is_refused_in_a_task_service(
    ladons: type[LadonType],
) -> None:
    mine = _named(ladons.__name__, "clinical", info=str)

    class Clinic:
        @ladonize(int, rtype=mine)
        def info(self, x):  # type: ignore[no-untyped-def]
            return mine()

        @ladonize(int, rtype=int, tasktype=True)
        def slow(self, x, **kw):  # type: ignore[no-untyped-def]
            return x

    message = (
        f"two types are named '{ladons.__name__}' in its descriptions: "
        f"clinical.{ladons.__name__} and ladon.types.tasktype.{ladons.__name__}; "
        f"rename clinical.{ladons.__name__}"
    )
    with pytest.raises(DefinitionError, match=re.escape(message)):
        build_service(Clinic)


def test_a_ladontype_named_like_a_task_type_is_fine_without_task_methods() -> None:
    mine = _named("TaskInfoResponse", "clinical", info=str)

    class Clinic:
        @ladonize(int, rtype=mine)
        def info(self, x):  # type: ignore[no-untyped-def]
            return mine()

    assert build_service(Clinic).types == (mine,)


def test_a_ladontype_named_like_a_generated_list_type_is_refused() -> None:
    mine = _named("ArrayOfint", "lists", n=int)

    class Lists:
        @ladonize([int], rtype=mine)
        def wrap(self, xs):  # type: ignore[no-untyped-def]
            return mine()

    message = "lists.ArrayOfint and the type Ladon generates for [int]; rename lists.ArrayOfint"
    with pytest.raises(DefinitionError, match=re.escape(message)):
        build_service(Lists)


def test_an_enum_and_a_ladontype_of_one_name_are_refused() -> None:
    mine = _named("Shade", "paints", rgb=str)

    class Paints:
        @ladonize(Shade, rtype=mine)
        def paint(self, shade):  # type: ignore[no-untyped-def]
            return mine()

    with pytest.raises(DefinitionError, match="two types are named 'Shade'"):
        build_service(Paints)


def test_one_type_used_in_many_places_is_fine() -> None:
    class Shop:
        @ladonize([Order], Shade, [Shade], rtype=[Order])
        def process(self, orders, shade, shades):  # type: ignore[no-untyped-def]
            return orders

        @ladonize(Line, rtype=Money)
        def price(self, line):  # type: ignore[no-untyped-def]
            return line.price

    assert build_service(Shop).types == (Money, Line, Order)
