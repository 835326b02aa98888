"""Declared constraints on values: bounds, lengths, a pattern, a set of
choices.

Service code writes them as it would for pydantic, with ``typing.Annotated``
and the ``annotated-types`` objects (``Ge``, ``Gt``, ``Le``, ``Lt``,
``MultipleOf``, ``MinLen``, ``MaxLen``, ``Len``, ``Interval``), Ladon's
:class:`Pattern`, ``typing.Literal`` and ``enum.Enum`` subclasses; a Ladon
1.0 dict field takes the same as keys (``{'type': int, 'ge': 1}``). The
``annotated-types`` package is not needed at run time: its objects are
recognised by their attributes.

A :class:`Constraints` is checked once, when the service is registered (a
constraint that cannot hold is a
:class:`~ladon.exceptions.base.DefinitionError`), and then on every value
by :func:`ladon.types.convert.load` and :func:`~ladon.types.convert.dump`:
the same code for every interface.

.. versionadded:: 2.0
"""

from __future__ import annotations

import decimal
import functools
import math
import operator
import re
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields
from dataclasses import replace
from typing import Any

from .patterns import ConstraintError as ConstraintError
from .patterns import Pattern as Pattern
from .patterns import check_pattern as check_pattern


@dataclass(frozen=True, slots=True)
class Constraints:
    """What a value must satisfy besides its type.

    ``ge``/``gt``/``le``/``lt``/``multiple_of`` apply to numbers,
    ``min_length``/``max_length`` to text (characters) and lists (items),
    ``pattern`` to text, ``choices`` to text and integers.

    .. versionadded:: 2.0
    """

    ge: Any = None
    gt: Any = None
    le: Any = None
    lt: Any = None
    multiple_of: Any = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    choices: tuple[Any, ...] | None = None

    def merged(self, other: Constraints, where: str) -> Constraints:
        """Both sets together.

        :raises ConstraintError: both set the same rule differently.
        """
        changes: dict[str, Any] = {}
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if theirs is None:
                continue
            if mine is not None and mine != theirs:
                raise ConstraintError(f"{where}: {f.name} is given twice ({mine!r}, {theirs!r})")
            changes[f.name] = theirs
        return replace(self, **changes)

    def items(self) -> Iterable[tuple[str, Any]]:
        """The rules that are set, as ``(name, value)``."""
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                yield f.name, value

    def __bool__(self) -> bool:
        return any(True for _ in self.items())


#: annotated-types class name -> the rule its attribute of the same name sets.
_SINGLE = {
    "Ge": "ge",
    "Gt": "gt",
    "Le": "le",
    "Lt": "lt",
    "MultipleOf": "multiple_of",
    "MinLen": "min_length",
    "MaxLen": "max_length",
}
#: Dict-field keys (Ladon 1.0 declarations) that set a rule.
DICT_KEYS = ("ge", "gt", "le", "lt", "multiple_of", "min_length", "max_length", "pattern")


def from_metadata(metadata: Iterable[object], where: str) -> Constraints:
    """The constraints of ``Annotated[T, *metadata]``.

    ``annotated-types`` objects are read by their class name and attribute
    (no import of the package); grouped ones (``Len``, ``Interval``) are
    expanded. Metadata of other libraries is ignored.

    :raises ConstraintError: an ``annotated-types`` constraint Ladon does not
        enforce (``Predicate``, ``Timezone``...).
    """
    found = Constraints()
    for meta in metadata:
        if isinstance(meta, Pattern):
            found = found.merged(Constraints(pattern=meta.regex), where)
            continue
        module = type(meta).__module__ or ""
        if not module.startswith("annotated_types"):
            continue
        name = type(meta).__name__
        if getattr(meta, "__is_annotated_types_grouped_metadata__", False):
            found = found.merged(from_metadata(iter(meta), where), where)  # type: ignore[call-overload]
        elif name in _SINGLE:
            rule = _SINGLE[name]
            found = found.merged(Constraints(**{rule: getattr(meta, rule)}), where)
        else:
            raise ConstraintError(
                f"{where}: {meta!r} is not a constraint Ladon enforces; use Ge, Gt, Le, Lt, "
                "MultipleOf, MinLen, MaxLen, Len, Interval or ladon.Pattern"
            )
    return found


def from_dict(decl: dict[str, Any], where: str) -> Constraints:
    """The constraints of a Ladon 1.0 dict field (its :data:`DICT_KEYS`)."""
    return Constraints(**{k: decl[k] for k in DICT_KEYS if k in decl})


# -- checking what the declaration says ------------------------------------------------

NUMERIC_RULES = ("ge", "gt", "le", "lt", "multiple_of")
LENGTH_RULES = ("min_length", "max_length")
#: The range of ``xsd:long``, the type every WSDL publishes for ``int``.
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
#: Largest decimal exponent of a ``Decimal`` accepted or sent (1e999999999
#: would print a billion digits), and of a bound on one.
MAX_DECIMAL_EXPONENT = 1000


def _is_number(x: object) -> bool:
    return isinstance(x, int | float | decimal.Decimal) and not isinstance(x, bool)


def _is_finite(x: int | float | decimal.Decimal) -> bool:
    if isinstance(x, int):
        return True
    return x.is_finite() if isinstance(x, decimal.Decimal) else math.isfinite(x)


def _check_number(rule: str, value: object, where: str, base: object) -> None:
    """:raises ConstraintError: ``value`` is not a number the descriptions
    can publish as a bound of ``base`` (``int``, ``float``, ``Decimal``)."""
    if not _is_number(value):
        raise ConstraintError(f"{where}: {rule} must be a number, got {value!r}")
    assert isinstance(value, int | float | decimal.Decimal)
    if not _is_finite(value):
        raise ConstraintError(
            f"{where}: {rule} must be a finite number, got {value!r} (XML Schema and "
            "JSON Schema cannot publish it)"
        )
    if base is int:
        if rule != "multiple_of" and value != int(value):
            raise ConstraintError(f"{where}: {rule}={value!r} on an integer; give an integer bound")
        if not LONG_MIN <= value <= LONG_MAX:
            raise ConstraintError(
                f"{where}: {rule}={_short(value)} is beyond the 64-bit range: int is published "
                f"as 64-bit xsd:long ({LONG_MIN} to {LONG_MAX})"
            )
    elif base is float:
        try:
            fits = math.isfinite(float(value))
        except OverflowError:
            fits = False
        if not fits:
            raise ConstraintError(
                f"{where}: {rule}={_short(value)} is beyond the range of a float (xsd:double)"
            )
    elif base is decimal.Decimal and abs(decimal.Decimal(value).adjusted()) > MAX_DECIMAL_EXPONENT:
        raise ConstraintError(
            f"{where}: {rule}={_short(value)} has a decimal exponent beyond "
            f"+/-{MAX_DECIMAL_EXPONENT}, which Decimal values may not have"
        )


def _short(x: int | float | decimal.Decimal) -> str:
    """A bound as an error message shows it (not thousands of digits)."""
    if isinstance(x, int) and x.bit_length() > 200:
        return f"<{'a negative' if x < 0 else 'an'} integer of {x.bit_length()} bits>"
    text = _num(x) if not isinstance(x, decimal.Decimal) else str(x)
    return text if len(text) <= 60 else f"{text[:40]}... ({len(text)} characters)"


def validate(
    c: Constraints,
    kind: str,
    where: str,
    integral: bool = False,
    base: object = None,
) -> re.Pattern[str] | None:
    """Check that the rules apply to the kind of value and can hold.

    :param kind: ``"number"``, ``"text"``, ``"list"``, ``"choice"`` (an
        enumeration) or ``"other"``.
    :param integral: the number is an ``int`` (bounds must be integers
        within ``xsd:long``).
    :param base: the constrained type: bounds must be finite and within
        what it holds (an ``int``: 64 bits, as the WSDLs publish it; a
        ``float``: a double; a ``Decimal``: an exponent within
        :data:`MAX_DECIMAL_EXPONENT`).
    :returns: the compiled pattern, if any.
    :raises ConstraintError: a rule is on the wrong kind of value, has a
        wrong value, or the rules cannot all hold.

    .. versionchanged:: 2.0
        Infinite, NaN and out-of-range bounds are refused.
    """
    if integral:
        base = int
    allowed = {
        "number": (*NUMERIC_RULES, "choices"),
        "text": (*LENGTH_RULES, "pattern", "choices"),
        "list": LENGTH_RULES,
        "choice": ("choices",),
    }.get(kind, ())
    for rule, value in c.items():
        if rule not in allowed:
            raise ConstraintError(
                f"{where}: {rule} does not apply to {_kind_name(kind)}"
                + (f" (it applies to {_applies(rule)})" if _applies(rule) else "")
            )
        if rule in NUMERIC_RULES:
            _check_number(rule, value, where, base)
        if rule in LENGTH_RULES and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0
        ):
            raise ConstraintError(f"{where}: {rule} must be an integer >= 0, got {value!r}")
    if c.multiple_of is not None and c.multiple_of <= 0:
        raise ConstraintError(f"{where}: multiple_of must be > 0, got {c.multiple_of!r}")
    _check_bounds(c, where, integral)
    if c.min_length is not None and c.max_length is not None and c.min_length > c.max_length:
        raise ConstraintError(
            f"{where}: min_length {c.min_length} is more than max_length {c.max_length}"
        )
    compiled = None
    if c.pattern is not None:
        try:
            compiled = check_pattern(c.pattern)
        except ConstraintError as exc:
            raise ConstraintError(f"{where}: {exc}") from None
    if c.choices is not None:
        _check_choices(c, compiled, kind, where, base)
    return compiled


def _check_choices(
    c: Constraints, compiled: re.Pattern[str] | None, kind: str, where: str, base: object
) -> None:
    """:raises ConstraintError: there is no choice, or one breaks the other
    rules or is an int beyond ``xsd:long``."""
    assert c.choices is not None
    if not c.choices:
        raise ConstraintError(f"{where}: an enumeration needs at least one value")
    for choice in c.choices if base is int else ():
        if not LONG_MIN <= choice <= LONG_MAX:
            raise ConstraintError(
                f"{where}: the choice {_short(choice)} is beyond the 64-bit range: int is "
                f"published as 64-bit xsd:long ({LONG_MIN} to {LONG_MAX})"
            )
    check = checker(replace(c, choices=None), compiled, kind == "list")
    for choice in c.choices:
        broken = check(choice)
        if broken is not None:
            raise ConstraintError(f"{where}: the choice {choice!r} {broken}")


def _check_bounds(c: Constraints, where: str, integral: bool) -> None:
    """:raises ConstraintError: no value lies between the bounds."""
    lows = [(b, c.ge is b) for b in (c.ge, c.gt) if b is not None]
    highs = [(b, c.le is b) for b in (c.le, c.lt) if b is not None]
    for lo, lo_incl in lows:
        for hi, hi_incl in highs:
            if lo > hi or (lo == hi and not (lo_incl and hi_incl)):
                raise ConstraintError(f"{where}: no value can be {_rule_text(c)}")
            if integral:
                first = lo if lo_incl else int(lo) + 1
                last = hi if hi_incl else int(hi) - 1
                if first > last:
                    raise ConstraintError(f"{where}: no integer can be {_rule_text(c)}")


def _kind_name(kind: str) -> str:
    return {
        "number": "numbers",
        "text": "text",
        "list": "lists",
        "choice": "an enumeration (its values are the rule)",
    }.get(kind, "this type")


def _applies(rule: str) -> str:
    if rule in NUMERIC_RULES:
        return "int, float and Decimal"
    if rule in LENGTH_RULES:
        return "str and lists"
    if rule == "pattern":
        return "str"
    return ""


def _rule_text(c: Constraints) -> str:
    return " and ".join(_rules(c, False))


def _num(x: object) -> str:
    if isinstance(x, decimal.Decimal):
        return format(x, "f")
    return str(x)


def _rules(c: Constraints, is_list: bool) -> list[str]:
    out = []
    if c.ge is not None:
        out.append(f"≥ {_num(c.ge)}")
    if c.gt is not None:
        out.append(f"> {_num(c.gt)}")
    if c.le is not None:
        out.append(f"≤ {_num(c.le)}")
    if c.lt is not None:
        out.append(f"< {_num(c.lt)}")
    return out


def describe(c: Constraints, is_list: bool = False) -> list[str]:
    """The rules as short texts for people (docs pages): ``≥ 1``,
    ``at most 40 characters``, ``matches [a-z]+``, ``one of red, green``."""
    out = _rules(c, is_list)
    if c.multiple_of is not None:
        out.append(f"multiple of {_num(c.multiple_of)}")
    if c.min_length is not None and c.min_length == c.max_length:
        out.append(f"exactly {_count(c.min_length, is_list)}")
    else:
        if c.min_length is not None:
            out.append(f"at least {_count(c.min_length, is_list)}")
        if c.max_length is not None:
            out.append(f"at most {_count(c.max_length, is_list)}")
    if c.pattern is not None:
        out.append(f"matches {c.pattern}")
    if c.choices is not None:
        out.append("one of " + ", ".join(str(x) for x in c.choices))
    return out


def _count(n: int, is_list: bool) -> str:
    unit = "item" if is_list else "character"
    return f"{n} {unit}" + ("" if n == 1 else "s")


# -- checking values ----------------------------------------------------------------------

Check = Callable[[Any], "str | None"]


def _multiple(value: Any, m: Any) -> bool:
    if isinstance(value, int) and isinstance(m, int):
        return value % m == 0
    try:
        # NOTE: in decimal, so that 0.3 is a multiple of 0.1 as people read it.
        return decimal.Decimal(str(value)) % decimal.Decimal(str(m)) == 0
    except decimal.InvalidOperation:
        return False


def checker(c: Constraints, compiled: re.Pattern[str] | None, is_list: bool) -> Check:
    """A function that returns ``None`` for a value keeping every rule,
    else the first rule it breaks (``"must be ≥ 0"``).

    PERF: the tests are C callables where they can be (``partial`` of an
    ``operator`` comparison, a pattern's ``fullmatch``, a set's
    ``__contains__``), and a value keeping one or two rules costs one call.

    .. versionadded:: 2.0
    """
    special = _bounds_check(c) or _length_check(c, is_list)
    if special is not None:
        return special
    tests: list[Callable[[Any], Any]] = []
    texts: list[str] = []
    if c.ge is not None:
        tests.append(functools.partial(operator.le, c.ge))
        texts.append(f"must be ≥ {_num(c.ge)}")
    if c.gt is not None:
        tests.append(functools.partial(operator.lt, c.gt))
        texts.append(f"must be > {_num(c.gt)}")
    if c.le is not None:
        tests.append(functools.partial(operator.ge, c.le))
        texts.append(f"must be ≤ {_num(c.le)}")
    if c.lt is not None:
        tests.append(functools.partial(operator.gt, c.lt))
        texts.append(f"must be < {_num(c.lt)}")
    m = c.multiple_of
    if m is not None:
        tests.append(lambda v: _multiple(v, m))
        texts.append(f"must be a multiple of {_num(m)}")
    lo, hi = c.min_length, c.max_length
    if lo is not None and lo == hi:
        tests.append(lambda v: len(v) == lo)
        texts.append(f"must have exactly {_count(lo, is_list)}")
    else:
        if lo is not None:
            tests.append(lambda v: len(v) >= lo)
            texts.append(f"must have at least {_count(lo, is_list)}")
        if hi is not None:
            tests.append(lambda v: len(v) <= hi)
            texts.append(f"must have at most {_count(hi, is_list)}")
    if compiled is not None:
        tests.append(compiled.fullmatch)
        texts.append(f"must match {c.pattern}")
    if c.choices is not None:
        tests.append(frozenset(c.choices).__contains__)
        texts.append("must be one of " + ", ".join(str(x) for x in c.choices))
    return _combined(tests, texts)


def _bounds_check(c: Constraints) -> Check | None:
    """PERF: one closure with inline comparisons for the common rules: a
    lower bound, an upper bound, or both (nothing else)."""
    if c.multiple_of is not None or any(r not in ("ge", "gt", "le", "lt") for r, _ in c.items()):
        return None
    if (c.ge is not None and c.gt is not None) or (c.le is not None and c.lt is not None):
        return None
    low_incl = c.ge is not None
    low = c.ge if low_incl else c.gt
    high_incl = c.le is not None
    high = c.le if high_incl else c.lt
    low_text = f"must be {'≥' if low_incl else '>'} {_num(low)}"
    high_text = f"must be {'≤' if high_incl else '<'} {_num(high)}"
    if low is None and high is None:
        return None
    if high is None:
        if low_incl:
            return lambda v: None if v >= low else low_text
        return lambda v: None if v > low else low_text
    if low is None:
        if high_incl:
            return lambda v: None if v <= high else high_text
        return lambda v: None if v < high else high_text
    if low_incl and high_incl:
        return lambda v: None if low <= v <= high else (low_text if v < low else high_text)
    if low_incl:
        return lambda v: None if low <= v < high else (low_text if v < low else high_text)
    if high_incl:
        return lambda v: None if low < v <= high else (low_text if v <= low else high_text)
    return lambda v: None if low < v < high else (low_text if v <= low else high_text)


def _length_check(c: Constraints, is_list: bool) -> Check | None:
    """PERF: the common length rules alone, as one closure."""
    if any(r not in ("min_length", "max_length") for r, _ in c.items()):
        return None
    lo, hi = c.min_length, c.max_length
    if lo is None or lo == hi:
        return None  # exactly n, or at most n: the general checker
    low_text = f"must have at least {_count(lo, is_list)}"
    if hi is None:
        return lambda v: None if len(v) >= lo else low_text
    high_text = f"must have at most {_count(hi, is_list)}"
    return lambda v: None if lo <= len(v) <= hi else (low_text if len(v) < lo else high_text)


def _combined(tests: list[Callable[[Any], Any]], texts: list[str]) -> Check:
    if not tests:
        return _no_rules
    if len(tests) == 1:
        (test,), (text,) = tests, texts

        def check_one(v: Any) -> str | None:
            return None if test(v) else text

        return check_one
    if len(tests) == 2:
        (first, second), (text1, text2) = tests, texts

        def check_two(v: Any) -> str | None:
            if not first(v):
                return text1
            return None if second(v) else text2

        return check_two
    pairs = tuple(zip(tests, texts, strict=True))

    def check(v: Any) -> str | None:
        for test, text in pairs:
            if not test(v):
                return text
        return None

    return check


def _no_rules(value: Any) -> str | None:
    return None


@dataclass(frozen=True, slots=True)
class Compiled:
    """What :func:`compile_constraints` gives: the compiled pattern and the
    checking function."""

    pattern: re.Pattern[str] | None
    check: Check = field(repr=False)


def _whole(x: object) -> bool:
    try:
        return _is_number(x) and x == int(x)  # type: ignore[call-overload]
    except (ValueError, OverflowError):
        return False


def compile_constraints(
    c: Constraints,
    kind: str,
    where: str,
    integral: bool = False,
    is_list: bool = False,
    base: object = None,
) -> Compiled:
    """Validate (see :func:`validate`) and build the checker.

    .. versionadded:: 2.0
    """
    if integral:
        bounds: dict[str, Any] = {
            r: int(v) for r, v in c.items() if r in ("ge", "gt", "le", "lt") and _whole(v)
        }
        c = replace(c, **bounds)
    compiled = validate(c, kind, where, integral, base)
    return Compiled(compiled, checker(c, compiled, is_list))


def json_schema_keywords(c: Constraints, is_list: bool = False) -> dict[str, Any]:
    """The JSON Schema keywords of the rules (``minimum``,
    ``exclusiveMaximum``, ``minLength``, ``minItems``, ``pattern`` anchored
    as ``^(?:...)$`` with ``.`` written ``[^\n\r]`` as XML Schema reads it,
    ``enum``).

    .. versionadded:: 2.0
    """
    out: dict[str, Any] = {}

    def num(x: Any) -> Any:
        if isinstance(x, decimal.Decimal):
            return int(x) if x == x.to_integral_value() else float(x)
        return x

    if c.ge is not None:
        out["minimum"] = num(c.ge)
    if c.gt is not None:
        out["exclusiveMinimum"] = num(c.gt)
    if c.le is not None:
        out["maximum"] = num(c.le)
    if c.lt is not None:
        out["exclusiveMaximum"] = num(c.lt)
    if c.multiple_of is not None:
        out["multipleOf"] = num(c.multiple_of)
    if c.min_length is not None:
        out["minItems" if is_list else "minLength"] = c.min_length
    if c.max_length is not None:
        out["maxItems" if is_list else "maxLength"] = c.max_length
    if c.pattern is not None:
        # the Python form (``.`` written as [^\n\r]): ECMA 262 reads it alike
        out["pattern"] = f"^(?:{check_pattern(c.pattern).pattern})$"
    if c.choices is not None:
        out["enum"] = list(c.choices)
    return out
