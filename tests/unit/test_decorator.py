"""``@ladonize``: declaration forms, checks made at decoration time, options."""

from __future__ import annotations

import datetime
import decimal
from typing import Any
from typing import Optional

import pytest

from ladon.exceptions.base import DefinitionError
from ladon.exceptions.ladonizer import AnnotationMismatch
from ladon.exceptions.ladonizer import ArgDefCountMismatch
from ladon.exceptions.ladonizer import DefaultArgTypeMismatch
from ladon.exceptions.ladonizer import NeedToDefineParseTimeException
from ladon.exceptions.ladonizer import ReturnTypeMismatch
from ladon.exceptions.ladonizer import ReturnTypeUndefined
from ladon.ladonizer import ladonize
from ladon.ladonizer.decorator import MethodSpec
from ladon.ladonizer.decorator import get_spec
from ladon.ladonizer.model import NO_DEFAULT
from ladon.ladonizer.model import ParamInfo
from ladon.ladonizer.registry import build_service
from ladon.types.attachment import attachment
from ladon.types.ladontype import LadonType
from ladon.types.spec import ListOf
from ladon.types.spec import TypeSpec


class Point(LadonType):
    x = int
    y = int


def _resolved(func: object) -> tuple[tuple[ParamInfo, ...], TypeSpec, bool, bool]:
    spec = get_spec(func)
    assert isinstance(spec, MethodSpec)
    return spec.resolve()


def _param_types(func: object) -> list[tuple[str, TypeSpec]]:
    params, _, _, _ = _resolved(func)
    return [(p.name, p.type) for p in params]


# -- declaration forms ---------------------------------------------------------


def test_positional_types_map_to_parameters_in_order() -> None:
    class Calc:
        @ladonize(int, str, [float], Point, rtype=[Point])
        def m(self, a, b, c, d):  # type: ignore[no-untyped-def]
            return []

    params, rtype, rtype_nullable, accepts_kw = _resolved(Calc.m)
    assert [(p.name, p.type) for p in params] == [
        ("a", int),
        ("b", str),
        ("c", ListOf(float)),
        ("d", Point),
    ]
    assert rtype == ListOf(Point)
    assert rtype_nullable is False
    assert accepts_kw is False
    assert all(p.default is NO_DEFAULT and not p.nullable for p in params)


@pytest.mark.parametrize(
    "declared",
    [int, float, bool, str, bytes, datetime.datetime, datetime.date, decimal.Decimal, attachment],
    ids=lambda t: t.__name__,
)
def test_every_supported_primitive_is_accepted_positionally(declared: type) -> None:
    class Svc:
        @ladonize(declared, rtype=declared)
        def m(self, a):  # type: ignore[no-untyped-def]
            return a

    assert _param_types(Svc.m) == [("a", declared)]


def test_annotation_form_gives_the_same_types() -> None:
    class Calc:
        @ladonize()
        def m(self, a: int, b: str, c: list[float], d: Point) -> list[Point]:
            return []

    params, rtype, _, _ = _resolved(Calc.m)
    assert [(p.name, p.type) for p in params] == [
        ("a", int),
        ("b", str),
        ("c", ListOf(float)),
        ("d", Point),
    ]
    assert rtype == ListOf(Point)


def test_annotation_form_works_without_parentheses_arguments_and_rtype_from_return() -> None:
    class Calc:
        @ladonize()
        def add(self, a: int, b: int) -> int:
            return a + b

    params, rtype, _, _ = _resolved(Calc.add)
    assert [p.type for p in params] == [int, int]
    assert rtype is int


def test_both_forms_agreeing_are_accepted() -> None:
    class Calc:
        @ladonize(int, [str], rtype=float)
        def m(self, a: int, b: list[str]) -> float:
            return 1.0

    params, rtype, _, _ = _resolved(Calc.m)
    assert [p.type for p in params] == [int, ListOf(str)]
    assert rtype is float


def test_rtype_keyword_with_unannotated_parameters_and_annotated_return() -> None:
    class Calc:
        @ladonize(int)
        def m(self, a) -> int:  # type: ignore[no-untyped-def]
            return 1

    _, rtype, _, _ = _resolved(Calc.m)
    assert rtype is int


def test_optional_annotation_agrees_with_positional_type_and_is_nullable() -> None:
    class Svc:
        @ladonize(int, rtype=int)
        def m(self, a: Optional[int]) -> Optional[int]:  # noqa: UP045 - the Optional form
            return a

    params, rtype, rtype_nullable, _ = _resolved(Svc.m)
    assert params[0].type is int
    assert params[0].nullable is True
    assert rtype is int
    assert rtype_nullable is True


def test_pipe_none_annotation_is_nullable() -> None:
    class Svc:
        @ladonize()
        def m(self, a: str | None) -> str | None:
            return a

    params, rtype, rtype_nullable, _ = _resolved(Svc.m)
    assert (params[0].type, params[0].nullable) == (str, True)
    assert (rtype, rtype_nullable) == (str, True)


def test_method_without_parameters_needs_only_rtype() -> None:
    class Svc:
        @ladonize(rtype=str)
        def ping(self) -> str:
            return "pong"

    params, rtype, _, _ = _resolved(Svc.ping)
    assert params == ()
    assert rtype is str


# -- mismatches ----------------------------------------------------------------


def test_positional_type_disagreeing_with_annotation_raises_annotation_mismatch() -> None:
    with pytest.raises(AnnotationMismatch, match=r"Svc\.m, parameter 'a'"):

        class Svc:
            @ladonize(int, rtype=int)
            def m(self, a: str) -> int:
                return 1


def test_annotation_mismatch_is_a_definition_error() -> None:
    assert issubclass(AnnotationMismatch, DefinitionError)
    assert issubclass(DefinitionError, TypeError)


def test_rtype_disagreeing_with_return_annotation_raises_return_type_mismatch() -> None:
    with pytest.raises(ReturnTypeMismatch, match=r"Svc\.m, return type"):

        class Svc:
            @ladonize(int, rtype=int)
            def m(self, a: int) -> str:
                return ""


@pytest.mark.parametrize(
    "argtypes",
    [(int,), (int, int, int)],
    ids=["too-few", "too-many"],
)
def test_type_count_mismatch_names_method_and_parameters(argtypes: tuple[type, ...]) -> None:
    with pytest.raises(ArgDefCountMismatch) as excinfo:

        class Calc:
            @ladonize(*argtypes, rtype=int)
            def add(self, first, second):  # type: ignore[no-untyped-def]
                return 0

    message = str(excinfo.value)
    assert "Calc.add" in message
    assert __name__ in message
    assert "first" in message and "second" in message
    assert f"{len(argtypes)} type(s)" in message


def test_unannotated_parameter_without_positional_types_is_a_count_mismatch() -> None:
    with pytest.raises(ArgDefCountMismatch, match=r"Svc\.m: parameter 'b' has no type"):

        class Svc:
            @ladonize()
            def m(self, a: int, b) -> int:  # type: ignore[no-untyped-def]
                return 0


def test_missing_rtype_raises_return_type_undefined() -> None:
    with pytest.raises(ReturnTypeUndefined, match=r"Svc\.m: no return type"):

        class Svc:
            @ladonize(int)
            def m(self, a):  # type: ignore[no-untyped-def]
                return 0


@pytest.mark.parametrize(
    "bad",
    [dict, object, list, tuple, complex, [int, str], [], "int", None],
    ids=[
        "dict",
        "object",
        "bare-list",
        "tuple",
        "complex",
        "two-item-list",
        "empty-list",
        "string",
        "None",
    ],
)
def test_unsupported_parameter_type_names_the_parameter(bad: object) -> None:
    with pytest.raises(NeedToDefineParseTimeException) as excinfo:

        class Svc:
            @ladonize(int, bad, rtype=int)
            def m(self, good, wrong):  # type: ignore[no-untyped-def]
                return 0

    message = str(excinfo.value)
    assert "Svc.m" in message
    assert "parameter 'wrong'" in message
    assert "'good'" not in message


def test_unsupported_return_type_names_the_return() -> None:
    with pytest.raises(NeedToDefineParseTimeException, match=r"Svc\.m, return type"):

        class Svc:
            @ladonize(rtype=dict)
            def m(self):  # type: ignore[no-untyped-def]
                return {}


def test_unsupported_annotation_names_the_parameter() -> None:
    with pytest.raises(NeedToDefineParseTimeException, match=r"parameter 'opts'"):

        class Svc:
            @ladonize()
            def m(self, opts: dict[str, int]) -> int:
                return 0


@pytest.mark.parametrize(
    ("declared", "default"),
    [(int, "3"), (int, True), (int, 2.5), (str, 3), (bool, 1), ([int], [1, "2"]), (float, "1.0")],
    ids=[
        "str-for-int",
        "bool-for-int",
        "float-for-int",
        "int-for-str",
        "int-for-bool",
        "bad-list-item",
        "str-for-float",
    ],
)
def test_default_of_the_wrong_type_raises_default_arg_type_mismatch(
    declared: object, default: object
) -> None:
    with pytest.raises(DefaultArgTypeMismatch, match=r"Svc\.m, parameter 'a'"):

        class Svc:
            @ladonize(declared, rtype=int)
            def m(self, a=default):  # type: ignore[no-untyped-def]
                return 0


def test_default_of_the_right_type_makes_the_parameter_optional() -> None:
    class Svc:
        @ladonize(int, float, [str], rtype=int)
        def m(self, a=3, b=1, c=("x",)):  # type: ignore[no-untyped-def]
            return 0

    params, _, _, _ = _resolved(Svc.m)
    assert [(p.default, p.optional, p.nullable) for p in params] == [
        (3, True, False),
        (1, True, False),
        (("x",), True, False),
    ]


def test_default_none_makes_the_parameter_nullable_and_optional() -> None:
    class Svc:
        @ladonize(int, str, rtype=int)
        def m(self, a, b=None):  # type: ignore[no-untyped-def]
            return 0

    params, _, _, _ = _resolved(Svc.m)
    assert (params[0].nullable, params[0].optional) == (False, False)
    assert (params[1].nullable, params[1].optional, params[1].default) == (True, True, None)


def test_annotated_default_none_is_nullable() -> None:
    class Svc:
        @ladonize()
        def m(self, a: int = None) -> int:  # type: ignore[assignment]
            return 0

    params, _, _, _ = _resolved(Svc.m)
    assert (params[0].type, params[0].nullable, params[0].default) == (int, True, None)


# -- **kw and other signature shapes ---------------------------------------------


def test_var_keyword_parameter_is_detected_and_not_published() -> None:
    class Svc:
        @ladonize(int, rtype=int)
        def m(self, a, **kw):  # type: ignore[no-untyped-def]
            return a

    params, _, _, accepts_kw = _resolved(Svc.m)
    assert [p.name for p in params] == ["a"]
    assert accepts_kw is True


def test_var_keyword_parameter_with_annotations_is_detected() -> None:
    class Svc:
        @ladonize()
        def m(self, a: int, **kw: Any) -> int:
            return a

    params, _, _, accepts_kw = _resolved(Svc.m)
    assert [p.name for p in params] == ["a"]
    assert accepts_kw is True


def test_var_positional_parameter_is_not_published() -> None:
    class Svc:
        @ladonize(int, rtype=int)
        def m(self, a, *rest):  # type: ignore[no-untyped-def]
            return a

    assert _param_types(Svc.m) == [("a", int)]


def test_keyword_only_parameters_are_published() -> None:
    class Svc:
        @ladonize(int, str, rtype=int)
        def m(self, a, *, b):  # type: ignore[no-untyped-def]
            return a

    assert _param_types(Svc.m) == [("a", int), ("b", str)]


def test_function_without_self_is_rejected() -> None:
    with pytest.raises(DefinitionError, match="self"):

        @ladonize(rtype=int)
        def standalone() -> int:
            return 0


# -- options ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "is_task"),
    [
        ({}, False),
        ({"tasktype": True}, True),
        ({"tasktype": False}, False),
        ({"tasktype": {"enable": True}}, True),
        ({"tasktype": {"enable": False}}, False),
        ({"tasktype": {"redis_server": "localhost"}}, True),
        ({"tasktype": {"memcache_server": "localhost"}}, True),
        ({"redis_server": "localhost"}, True),
        ({"memcache_server": "localhost"}, True),
    ],
    ids=[
        "none",
        "true",
        "false",
        "dict-enable",
        "dict-disable",
        "dict-redis",
        "dict-memcache",
        "kw-redis",
        "kw-memcache",
    ],
)
def test_tasktype_option_forms(options: dict[str, Any], is_task: bool) -> None:
    class Svc:
        @ladonize(int, rtype=int, **options)
        def m(self, a):  # type: ignore[no-untyped-def]
            return a

    spec = get_spec(Svc.m)
    assert spec is not None
    assert spec.tasktype is is_task


def test_encoding_and_unsafe_conversion_options_are_recorded() -> None:
    class Svc:
        @ladonize(bytes, rtype=bytes, encoding="latin-1", allow_unsafe_conversion=True)
        def m(self, a):  # type: ignore[no-untyped-def]
            return a

    spec = get_spec(Svc.m)
    assert spec is not None
    assert spec.encoding == "latin-1"
    assert spec.allow_unsafe_conversion is True


def test_defaults_of_encoding_and_unsafe_conversion() -> None:
    class Svc:
        @ladonize(bytes, rtype=bytes)
        def m(self, a):  # type: ignore[no-untyped-def]
            return a

    spec = get_spec(Svc.m)
    assert spec is not None
    assert (spec.encoding, spec.allow_unsafe_conversion, spec.tasktype) == ("UTF-8", False, False)


def test_unknown_option_is_rejected_when_the_decorator_is_built() -> None:
    with pytest.raises(DefinitionError, match="unknown option.*'colour'"):
        ladonize(int, rtype=int, colour="red")


def test_override_method_name_changes_the_published_name() -> None:
    class Svc:
        @ladonize(int, rtype=int, override_method_name="renamed")
        def m(self, a):  # type: ignore[no-untyped-def]
            return a

    info = build_service(Svc)
    assert list(info.methods) == ["renamed"]
    assert info.methods["renamed"].attr == "m"


# -- the decorated function --------------------------------------------------------


def test_decorator_returns_the_same_function_object() -> None:
    def add(self: object, a: int, b: int) -> int:
        return a + b

    decorated = ladonize(int, int, rtype=int)(add)
    assert decorated is add
    assert get_spec(add) is not None
    assert get_spec(add).func is add  # type: ignore[union-attr]


def test_decorated_method_is_still_callable_directly() -> None:
    class Calc:
        @ladonize(int, int, rtype=int)
        def add(self, a: int, b: int) -> int:
            return a + b

    assert Calc().add(2, 3) == 5
    assert Calc.add.__name__ == "add"


def test_get_spec_of_an_undecorated_function_is_none() -> None:
    def plain(self: object) -> None:
        return None

    assert get_spec(plain) is None
    assert get_spec(42) is None


# -- forward references ----------------------------------------------------------------


class ForwardService:
    """Annotations name a LadonType defined further down this module."""

    @ladonize()
    def make(self, seed: LaterType, more: list[LaterType] | None = None) -> list[LaterType]:
        return []


class LaterType(LadonType):
    name = str


class UnresolvableService:
    @ladonize()
    def m(self, a: NoSuchType) -> int:  # type: ignore[name-defined]  # noqa: F821
        return 0


def test_forward_referenced_annotations_do_not_fail_at_decoration() -> None:
    assert get_spec(ForwardService.make) is not None


def test_forward_referenced_annotations_are_resolved_at_registration() -> None:
    info = build_service(ForwardService)
    method = info.methods["make"]
    assert [(p.name, p.type, p.nullable) for p in method.params] == [
        ("seed", LaterType, False),
        ("more", ListOf(LaterType), True),
    ]
    assert method.rtype == ListOf(LaterType)
    assert LaterType in info.types


def test_unresolvable_annotation_fails_at_registration_naming_the_method() -> None:
    assert get_spec(UnresolvableService.m) is not None
    with pytest.raises(DefinitionError, match=r"UnresolvableService\.m.*NoSuchType"):
        build_service(UnresolvableService)
