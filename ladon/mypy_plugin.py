"""A mypy plugin that types :class:`~ladon.types.ladontype.LadonType` fields
declared the Ladon 1.0 way.

Without it mypy reads ``name = str`` in a class body as what it is to
Python, a class attribute holding the class ``str``, so ``item.name =
"pen"`` is an error (``type[str]`` expected). Enable it in the mypy
configuration of a project that uses Ladon::

    # pyproject.toml
    [tool.mypy]
    plugins = ["ladon.mypy_plugin"]

    # or mypy.ini / setup.cfg
    [mypy]
    plugins = ladon.mypy_plugin

For a ``LadonType`` subclass it then gives each field declared as a class
attribute its value type on instances:

=============================================  ===================
declaration                                    ``instance.field``
=============================================  ===================
``x = int`` (any type, ``PORTABLE_STRING``)    ``int``
``tags = [str]``, ``tags = list[str]``         ``list[str]``
``price = {"type": float}``                    ``float``
``price = {"type": float, "nullable": True}``  ``float | None``
=============================================  ===================

The class attribute itself keeps its Python type (``Item.name`` is
``type[str]``, as at run time). Annotated fields (``name: str``) need no
plugin. The keyword constructor is typed too: ``Item(name="pen",
price=1.5)`` checks every keyword against its field, for fields of both
forms and those inherited from LadonType bases; an unknown keyword is an
error, as it is at run time.

.. versionadded:: 2.0
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

from mypy.fixup import TypeFixer
from mypy.nodes import ARG_NAMED_OPT
from mypy.nodes import ARG_STAR
from mypy.nodes import ARG_STAR2
from mypy.nodes import Argument
from mypy.nodes import AssignmentStmt
from mypy.nodes import DictExpr
from mypy.nodes import Expression
from mypy.nodes import FuncDef
from mypy.nodes import IndexExpr
from mypy.nodes import ListExpr
from mypy.nodes import NameExpr
from mypy.nodes import PlaceholderNode
from mypy.nodes import RefExpr
from mypy.nodes import StrExpr
from mypy.nodes import TypeAlias
from mypy.nodes import TypeInfo
from mypy.nodes import Var
from mypy.plugin import AttributeContext
from mypy.plugin import ClassDefContext
from mypy.plugin import Plugin
from mypy.plugin import SemanticAnalyzerPluginInterface
from mypy.plugins.common import add_method_to_class
from mypy.semanal_shared import has_placeholder
from mypy.types import CallableType
from mypy.types import Instance
from mypy.types import NoneType
from mypy.types import PlaceholderType
from mypy.types import ProperType
from mypy.types import Type
from mypy.types import UnionType
from mypy.types import deserialize_type
from mypy.types import get_proper_type
from mypy.typevars import fill_typevars_with_any

LADONTYPE = "ladon.types.ladontype.LadonType"
#: ``TypeInfo.metadata`` key: ``{"fields": {name: serialized value type}}``
#: for the fields a class declares as class attributes.
METADATA_KEY = "ladon"
_LIST_NAMES = ("builtins.list", "typing.List")
_TRUE = "builtins.True"
_FALSE = "builtins.False"


class _NotReady(Exception):
    """A name in a declaration is not analysed yet (a forward reference)."""


def _is_ladontype(info: TypeInfo) -> bool:
    return any(base.fullname == LADONTYPE for base in info.mro)


def _class_type(node: object) -> ProperType | None:
    """The instance type a class reference (``int``, ``Point``, an alias
    such as ``PORTABLE_STRING``) declares, or None for anything else."""
    if isinstance(node, PlaceholderNode):
        raise _NotReady
    if isinstance(node, TypeInfo):
        return fill_typevars_with_any(node)
    if isinstance(node, TypeAlias):
        target = get_proper_type(node.target)
        if isinstance(target, PlaceholderType):
            raise _NotReady
        return target if isinstance(target, Instance) else None
    return None


def _value_type(api: SemanticAnalyzerPluginInterface, expr: Expression) -> Type | None:
    """The type of a field's values for a type declaration (``int``,
    ``[int]``, ``list[int]``, ``Point``), or None if it is not one."""
    if isinstance(expr, ListExpr):
        if len(expr.items) != 1:
            return None
        item = _value_type(api, expr.items[0])
        return None if item is None else api.named_type("builtins.list", [item])
    if isinstance(expr, IndexExpr) and isinstance(expr.base, RefExpr):
        if expr.base.fullname not in _LIST_NAMES:
            return None
        item = _value_type(api, expr.index)
        return None if item is None else api.named_type("builtins.list", [item])
    if isinstance(expr, RefExpr):
        return _class_type(expr.node)
    return None


def _is_true(expr: Expression) -> bool:
    """Whether a ``nullable`` option is true; a value that is not a literal
    ``True``/``False`` counts as true (reading then asks for a None check,
    which is never wrong)."""
    if isinstance(expr, NameExpr) and expr.fullname in (_TRUE, _FALSE):
        return expr.fullname == _TRUE
    return True


def _field_type(api: SemanticAnalyzerPluginInterface, expr: Expression) -> Type | None:
    """The instance type of a legacy field declaration, or None."""
    if not isinstance(expr, DictExpr):
        return _value_type(api, expr)
    options = {k.value: v for k, v in expr.items if isinstance(k, StrExpr)}
    if "type" not in options:
        return None
    value = _value_type(api, options["type"])
    if value is None:
        return None
    if "nullable" in options and _is_true(options["nullable"]):
        return UnionType.make_union([value, NoneType()])
    return value


def _legacy_declarations(info: TypeInfo) -> Iterator[tuple[str, Expression]]:
    """``name = <declaration>`` statements in the class body (no annotation)."""
    for stmt in info.defn.defs.body:
        if not isinstance(stmt, AssignmentStmt) or stmt.unanalyzed_type is not None:
            continue
        if len(stmt.lvalues) != 1 or not isinstance(stmt.lvalues[0], NameExpr):
            continue
        name = stmt.lvalues[0].name
        if not name.startswith("_"):
            yield name, stmt.rvalue


class LadonPlugin(Plugin):
    """Types the fields of ``LadonType`` subclasses declared as class
    attributes (``x = int``), and their keyword constructor.

    .. versionadded:: 2.0
    """

    def _ladon_class(self, fullname: str) -> TypeInfo | None:
        sym = self.lookup_fully_qualified(fullname)
        if sym is not None and isinstance(sym.node, TypeInfo) and _is_ladontype(sym.node):
            return sym.node
        return None

    def get_base_class_hook(self, fullname: str) -> Callable[[ClassDefContext], None] | None:
        if self._ladon_class(fullname) is not None:
            return self._analyse_class
        return None

    def get_attribute_hook(self, fullname: str) -> Callable[[AttributeContext], Type] | None:
        owner, _, name = fullname.rpartition(".")
        info = self._ladon_class(owner)
        # mypy names the class that defines the attribute, except for one
        # that is a type alias (``tags = list[str]``): then the instance's.
        declaring = None if info is None else info.get_containing_type_info(name)
        if declaring is None or name not in _declared(declaring):
            return None
        field = self._field(declaring, name)
        return lambda ctx: field

    # -- semantic analysis ------------------------------------------------

    def _analyse_class(self, ctx: ClassDefContext) -> None:
        """Record the class's legacy fields and give it a typed constructor.

        It may run several times for one class (mypy defers a class whose
        declarations name something not analysed yet); it redoes its work.
        """
        info = ctx.cls.info
        try:
            legacy = {
                name: typ
                for name, expr in _legacy_declarations(info)
                if (typ := _field_type(ctx.api, expr)) is not None
            }
            info.metadata[METADATA_KEY] = {
                "fields": {name: typ.serialize() for name, typ in legacy.items()}
            }
            fields = self._constructor_fields(info, legacy)
        except _NotReady:
            if not ctx.api.final_iteration:
                ctx.api.defer()
            return
        if fields is not None:
            self._add_init(ctx, fields)

    def _constructor_fields(
        self, info: TypeInfo, own_legacy: dict[str, Type]
    ) -> dict[str, Type] | None:
        """Every field of ``info`` (own and inherited, both forms) with its
        value type; None when a class of the MRO writes its own ``__init__``."""
        fields: dict[str, Type] = {}
        for klass in reversed(info.mro):
            if klass.fullname == LADONTYPE or not _is_ladontype(klass):
                continue
            init = klass.names.get("__init__")
            if init is not None and not init.plugin_generated:
                return None
            if klass is not info and METADATA_KEY not in klass.metadata:
                raise _NotReady  # a base in an import cycle, not analysed yet
            for name, sym in klass.names.items():
                node = sym.node
                if name.startswith("_") or not isinstance(node, Var) or node.is_classvar:
                    continue
                if not node.is_inferred and node.type is not None:
                    if has_placeholder(node.type):
                        raise _NotReady
                    fields[name] = node.type
            if klass is info:
                fields.update(own_legacy)
            else:
                fields.update({name: self._field(klass, name) for name in _declared(klass)})
        return fields

    def _add_init(self, ctx: ClassDefContext, fields: dict[str, Type]) -> None:
        """``__init__(self, prime_dict=None, tc=None, export_dict=None, *,
        <field>=...)``: LadonType's own positional parameters, then every
        field as an optional keyword."""
        base = ctx.api.lookup_fully_qualified_or_none(LADONTYPE)
        assert base is not None and isinstance(base.node, TypeInfo)
        init = base.node.get_method("__init__")
        assert isinstance(init, FuncDef) and isinstance(init.type, CallableType)
        signature = init.type
        args = [
            Argument(Var(name, typ), typ, None, kind)
            for name, typ, kind in zip(
                signature.arg_names[1:],
                signature.arg_types[1:],
                signature.arg_kinds[1:],
                strict=True,
            )
            if name is not None and kind not in (ARG_STAR, ARG_STAR2)
        ]
        args += [
            Argument(Var(name, typ), typ, None, ARG_NAMED_OPT)
            for name, typ in sorted(fields.items())
        ]
        add_method_to_class(ctx.api, ctx.cls, "__init__", args, NoneType())

    # -- both ---------------------------------------------------------------

    def _field(self, info: TypeInfo, name: str) -> Type:
        """The value type of the legacy field ``name`` that ``info`` declares."""
        assert self._modules is not None  # mypy sets them before any hook
        typ = deserialize_type(_declared(info)[name])
        typ.accept(TypeFixer(self._modules, allow_missing=False))
        return typ


def _declared(info: TypeInfo) -> dict[str, Any]:
    """The legacy fields ``info`` declares: name -> serialized value type."""
    fields: dict[str, Any] = info.metadata.get(METADATA_KEY, {}).get("fields", {})
    return fields


def plugin(version: str) -> type[Plugin]:
    """The entry point mypy calls (``plugins = ["ladon.mypy_plugin"]``).

    .. versionadded:: 2.0
    """
    return LadonPlugin
