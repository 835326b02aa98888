"""XML-RPC (http://xmlrpc.com/spec.md), Ladon 1.0's ``xmlrpc`` interface.

Request: a standard ``methodCall``; params are positional, in declaration
order, and trailing optional parameters may be left out. Response: a
``methodResponse`` with one param, typed from the method's declared return
type. Content type ``text/xml; charset=utf-8``; every answer, faults
included, is HTTP 200 as XML-RPC clients expect.

Types (request -> Python, Python result -> response):

==================  ==============================================  ==========================
declared type       accepted in a request                           sent in a response
==================  ==============================================  ==========================
``int``             ``<int>``, ``<i4>``, ``<i8>`` (also ``i1``,      ``<int>``; ``<i8>`` beyond
                    ``i2``; 64 bits at most), ``<biginteger>``,      32 bits, ``<biginteger>``
                    a string of digits                              beyond 64 (extensions
                                                                    ``xmlrpc.client`` reads)
``float``           ``<double>``, ``<int>``, a numeric string       ``<double>``
``bool``            ``<boolean>`` (``1``/``0``, ``true``/``false``)  ``<boolean>``
``str``             ``<string>`` or an untyped ``<value>``, exactly  ``<string>``
                    as sent; numbers; base64 in the method encoding
``bytes``           ``<base64>``; a string (in the method encoding)  ``<base64>``
``datetime``        ``<dateTime.iso8601>`` (``20240228T23:30:00``;   ``<dateTime.iso8601>``,
                    the extended ISO form, fractions and offsets     whole seconds; an aware
                    too); an ISO 8601 string                        value in UTC
``date``            ``<dateTime.iso8601>`` (its date is taken); an   ``<dateTime.iso8601>`` at
                    ISO string ``2024-02-28``                        midnight (so Python's
                                                                    ``xmlrpc.client`` gets a
                                                                    ``DateTime``/``datetime``)
``Decimal``         ``<string>``, ``<int>``, ``<double>``,           ``<string>`` (``"10.50"``)
                    ``<bigdecimal>``
attachment          ``<base64>``                                    ``<base64>``
``[T]``             ``<array>``                                     ``<array>``
LadonType           ``<struct>`` (members by field name; others     ``<struct>``, members in
                    ignored)                                        alphabetical order
``None``            ``<nil/>`` (also namespaced: ``<ex:nil/>``)     ``<nil/>``
==================  ==============================================  ==========================

``xmlrpc.client.ServerProxy(url, allow_none=True)`` is the matching Python
client (``allow_none`` lets it *send* ``None``).

Faults: ``<methodResponse><fault><value><struct>`` with an ``<int>``
``faultCode`` and a ``<string>`` ``faultString``: the fault's message, then
``"\\n"`` and its detail when it has one (a traceback only in debug mode),
then ``"\\n"`` and its hint when it has one. A fault of the service keeps
Ladon 1.0's code, 99; a request Ladon could not take gets a code of the
"specification for fault code interoperability" (xmlrpc-epi):

======  ===========================================================================
code    when
======  ===========================================================================
-32700  parse error: the body is empty, not well-formed XML, or has a DOCTYPE;
        or it could not be read (too large, bad length or Content-Encoding:
        HTTP 413, 400, 411 or 415)
-32600  invalid XML-RPC: not a ``methodCall``, no ``methodName``, bad ``<params>``
-32601  the service has no such method
-32602  invalid method parameters: too many or missing, a value that is not valid
        XML-RPC (unknown type, bad base64 or dateTime, integer out of range,
        nested too deeply) or of the wrong type; the message names the argument
-32603  internal XML-RPC error: the result does not match the declared type or
        cannot be written as XML-RPC
99      a fault of the service (Ladon 1.0's code): the method raised
        :class:`ClientFault` or :class:`ServerFault`, or an unexpected exception
        (``Internal server error``, logged)
======  ===========================================================================

Introspection: ``system.listMethods``, ``system.methodSignature`` (one
signature per accepted number of arguments, fewest first),
``system.methodHelp`` and ``system.multicall`` are answered unless the
service publishes a method of that name (service methods always win; a Python
method name cannot hold a dot, so they only meet through
``override_method_name``). The first three are calls of
:data:`~ladon.ladonizer.model.MethodKind.INTROSPECTION` methods, which the
server runs through :meth:`XMLRPCInterface.run_introspection`;
``system.multicall`` is a :class:`~.base.Batch` of its calls, each run as a
single call would be.

Description (``/<Service>/xmlrpc/description``, ``text/xml``), the XRDL
document, in namespace :data:`XRDL_NS`::

    <xrdl version="2.0" name="Shapes" url="http://host/Shapes/xmlrpc">
      <documentation>service doc</documentation>
      <types>
        <type name="Style">
          <documentation>type doc</documentation>
          <field name="color" type="string" ladon-type="str" optional="true"
                 default="black"><documentation>CSS colour name</documentation></field>
          <field name="width" type="double" ladon-type="float" optional="true"
                 nullable="true"/>
        </type>
      </types>
      <methods>
        <method name="divide">
          <documentation>method doc lines</documentation>
          <param name="a" position="1" type="int" ladon-type="int"/>
          <param name="b" position="2" type="int" ladon-type="int" optional="true"
                 default="2"/>
          <return type="int" ladon-type="int"><documentation>...</documentation></return>
        </method>
        <method name="m_progress" kind="task_progress" task-of="m">...</method>
      </methods>
    </xrdl>

``type`` is the XML-RPC type: ``int``, ``double``, ``boolean``, ``string``,
``base64``, ``dateTime.iso8601``, the name of a ``<type>`` (a struct) or
``array[T]``; ``ladon-type`` is the declared Python type (``Decimal``,
``date``, ``[Point]``...). Types come dependencies first, fields and params
in wire order; ``documentation`` elements are left out when empty;
``optional``/``nullable`` only appear when true, ``kind``/``task-of`` only
on task methods.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Mapping
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any
from typing import ClassVar

from lxml import etree

from ..exceptions.service import ArgumentError
from ..exceptions.service import ServiceFault
from ..ladonizer.model import MethodInfo
from ..ladonizer.model import MethodKind
from ..ladonizer.model import ParamInfo
from ..types.ladontype import FieldInfo
from ..types.spec import ListOf
from ..types.spec import TypeSpec
from ..types.spec import type_name
from ..wire.xml import escape
from ..wire.xml import xml_safe
from ._json import charset_of
from ._rpc import INTERNAL_ERROR as INTERNAL_ERROR
from ._rpc import INVALID_PARAMS as INVALID_PARAMS
from ._rpc import INVALID_REQUEST as INVALID_REQUEST
from ._rpc import METHOD_NOT_FOUND as METHOD_NOT_FOUND
from ._rpc import PARSE_ERROR as PARSE_ERROR
from ._rpc import InvalidRequest as InvalidRequest
from ._rpc import standard_code
from ._xmlrpc_values import array_values
from ._xmlrpc_values import name_of
from ._xmlrpc_values import parse_request
from ._xmlrpc_values import read_value
from ._xmlrpc_values import request_parts
from ._xmlrpc_values import signature_type
from ._xmlrpc_values import struct_members
from ._xmlrpc_values import wire_type
from ._xmlrpc_values import write_wire
from .base import Batch
from .base import Call
from .base import Interface
from .base import Outcome
from .base import Payload
from .base import WireRequest
from .base import about_method

#: A fault of the service's own (a :class:`ClientFault` or :class:`ServerFault`
#: the method raised, or an unexpected exception): Ladon 1.0's ``faultCode``,
#: which its XML-RPC clients know (COMPAT §3.5); ``faultString`` tells them apart.
SERVICE_FAULT = 99

#: Namespace of the XRDL description document.
XRDL_NS = "urn:ladon:xrdl"

_RESPONSE_START = "<?xml version='1.0' encoding='UTF-8'?>\n<methodResponse><params><param>"
_RESPONSE_END = "</param></params></methodResponse>"
_FAULT_START = "<?xml version='1.0' encoding='UTF-8'?>\n<methodResponse><fault>"
_FAULT_END = "</fault></methodResponse>"
_MULTICALL = "system.multicall"

_NAME = ParamInfo("method_name", str, doc=("The name of a method.",))
_INTROSPECTION = MethodKind.INTROSPECTION
#: The introspection methods, described as service methods are.
SYSTEM_METHODS: Mapping[str, MethodInfo] = MappingProxyType(
    {
        m.name: m
        for m in (
            MethodInfo(
                "system.listMethods",
                "",
                (),
                ListOf(str),
                doc=("The names of every method of the service.",),
                kind=_INTROSPECTION,
            ),
            MethodInfo(
                "system.methodSignature",
                "",
                (_NAME,),
                ListOf(ListOf(str)),
                doc=("The signatures of a method: [return type, parameter types...] each.",),
                kind=_INTROSPECTION,
            ),
            MethodInfo(
                "system.methodHelp",
                "",
                (_NAME,),
                str,
                doc=("The documentation of a method.",),
                kind=_INTROSPECTION,
            ),
            MethodInfo(
                _MULTICALL,
                "",
                (ParamInfo("calls", ListOf(str), doc=("Structs {methodName, params}.",)),),
                ListOf(str),
                doc=("Run several calls; each answer is [result] or a fault struct.",),
                kind=_INTROSPECTION,
            ),
        )
    }
)


def fault_code(fault: ServiceFault) -> int:
    """The XML-RPC ``faultCode`` of a fault (see the module docstring).

    .. versionadded:: 2.0
    """
    code = standard_code(fault)
    if code is not None:
        return code
    return SERVICE_FAULT


def fault_value(fault: ServiceFault) -> str:
    """The ``<value><struct>`` of a fault (``faultCode``, ``faultString``).

    .. versionadded:: 2.0
    """
    text = fault.faultstring
    if fault.detail:
        text = f"{text}\n{fault.detail}"
    if fault.hint:
        text = f"{text}\n{fault.hint}"
    return (
        "<value><struct>"
        f"<member><name>faultCode</name><value><int>{fault_code(fault)}</int></value></member>"
        "<member><name>faultString</name>"
        f"<value><string>{escape(xml_safe(text))}</string></value></member>"
        "</struct></value>"
    )


def _default_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


class XMLRPCInterface(Interface):
    """The ``xmlrpc`` interface.

    .. versionadded:: 2.0
    """

    name: ClassVar[str] = "xmlrpc"
    content_type: ClassVar[str] = "text/xml; charset=utf-8"
    #: Errors found reading the body (too large, bad length, unknown
    #: coding) are answered with this interface's fault.
    http_errors_as_faults: ClassVar[bool] = True
    fault_statuses: ClassVar[bool] = False
    #: Attachments travel inside the message, as ``<base64>``.
    inline_attachments: ClassVar[bool] = True
    #: ``bytes`` travel as ``<base64>``.
    binary: ClassVar[bool] = True
    #: Most calls in one ``system.multicall``.
    max_multicall: ClassVar[int] = 1000

    # -- calls ---------------------------------------------------------------------

    def decode_call(self, request: WireRequest) -> Call | Batch:
        name, values = request_parts(parse_request(request.body, charset_of(request.content_type)))
        system = self._system(name)
        if system is None:
            m = self.method(name)
        elif system.name == _MULTICALL:
            if len(values) != 1:
                raise ArgumentError(
                    "", f"Method {_MULTICALL} takes 1 argument(s), {len(values)} given"
                )
            return self._multicall(values[0])
        else:
            m = system
        return Call(m, self._bind(m, values))

    def _bind(self, m: MethodInfo, values: list[etree._Element]) -> list[Any]:
        """Read and convert the ``<value>`` of each param."""
        try:
            if len(values) > len(m.params):
                raise ArgumentError(
                    "", f"Method {m.name} takes {len(m.params)} argument(s), {len(values)} given"
                )
            plain = [read_value(v, p.type, p.name) for p, v in zip(m.params, values, strict=False)]
        except ServiceFault as fault:
            about_method(fault, m)
            raise
        return self.bind_positional(m, plain)

    def encode_result(self, call: Call, result: object) -> Payload:
        out = [_RESPONSE_START]
        self._write_result(out, call, result)
        out.append(_RESPONSE_END)
        return Payload("".join(out).encode("utf-8"), self.content_type)

    def _write_result(self, out: list[str], call: Call, result: object) -> None:
        m = call.method
        write_wire(out, m.rtype, self.dump_result(call, result), "result", m.options)

    def encode_fault(self, fault: ServiceFault, call: Call | None) -> Payload:
        body = _FAULT_START + fault_value(fault) + _FAULT_END
        return Payload(body.encode("utf-8"), self.content_type)

    # -- system.* ------------------------------------------------------------------

    def _system(self, name: str) -> MethodInfo | None:
        """The introspection method ``name``, unless the service has its own."""
        if name in self.service.methods:
            return None
        return SYSTEM_METHODS.get(name)

    def run_introspection(self, call: Call) -> object:
        """Answer ``system.listMethods``, ``system.methodSignature`` or
        ``system.methodHelp``."""
        m = call.method
        if m.name == "system.listMethods":
            return [*self.service.methods, *(n for n in SYSTEM_METHODS if self._system(n))]
        target = self._lookup(call.args[0])
        if m.name == "system.methodHelp":
            return _help(target)
        params = target.params
        least = max((i + 1 for i, p in enumerate(params) if not p.optional), default=0)
        ret = signature_type(target.rtype)
        return [
            [ret, *(signature_type(p.type) for p in params[:n])]
            for n in range(least, len(params) + 1)
        ]

    def _lookup(self, name: str) -> MethodInfo:
        m = self.service.methods.get(name) or SYSTEM_METHODS.get(name)
        if m is None:
            raise ArgumentError(
                "method_name", f"Service {self.service.name} has no method {name!r}"
            )
        return m

    def _multicall(self, value: etree._Element) -> Batch:
        kids = [c for c in value if isinstance(c.tag, str)]
        if len(kids) != 1 or name_of(kids[0]) != "array":
            raise ArgumentError("calls", "expected an <array> of {methodName, params} structs")
        items = array_values(kids[0], "calls")
        if len(items) > self.max_multicall:
            raise ArgumentError("calls", f"{_MULTICALL} takes at most {self.max_multicall} calls")
        calls: list[Call | ServiceFault] = []
        for i, item in enumerate(items):
            try:
                calls.append(self._one_of_many(item, f"calls[{i}]"))
            except ServiceFault as fault:
                calls.append(fault)
        return Batch(tuple(calls))

    def _one_of_many(self, item: etree._Element, path: str) -> Call:
        name, values = _multicall_item(item, path)
        system = self._system(name)
        if system is not None and system.name == _MULTICALL:
            raise InvalidRequest(f"{_MULTICALL} cannot be called inside {_MULTICALL}")
        m = system or self.method(name)
        return Call(m, self._bind(m, values))

    def encode_batch(self, batch: Batch, outcomes: Sequence[Outcome]) -> Payload:
        """The answer of ``system.multicall``: an array holding, per call,
        ``[result]`` or a fault struct."""
        out = [_RESPONSE_START, "<value><array><data>"]
        for outcome in outcomes:
            call, fault = outcome.call, outcome.fault
            part = ["<value><array><data>"]
            if fault is None and call is not None:
                try:
                    self._write_result(part, call, outcome.result)
                except ServiceFault as exc:  # the result does not fit its type
                    fault = exc
            if fault is not None:
                part = [fault_value(fault)]
            else:
                part.append("</data></array></value>")
            out.extend(part)
        out.append("</data></array></value>" + _RESPONSE_END)
        return Payload("".join(out).encode("utf-8"), self.content_type)

    # -- description ---------------------------------------------------------------

    def describe(self, base_url: str, query: Mapping[str, str]) -> Payload:
        return Payload(xrdl(self, base_url), self.content_type)


def _multicall_item(item: etree._Element, path: str) -> tuple[str, list[etree._Element]]:
    kids = [c for c in item if isinstance(c.tag, str)]
    if len(kids) != 1 or name_of(kids[0]) != "struct":
        raise ArgumentError(path, "expected a struct {methodName, params}")
    members = struct_members(kids[0], path)
    name_el, params_el = members.get("methodName"), members.get("params")
    if name_el is None or params_el is None:
        raise ArgumentError(path, "a multicall struct needs the members methodName and params")
    name = read_value(name_el, str, f"{path}.methodName")
    if not isinstance(name, str) or not name.strip():
        raise ArgumentError(f"{path}.methodName", "expected a method name")
    arrays = [c for c in params_el if isinstance(c.tag, str)]
    if len(arrays) != 1 or name_of(arrays[0]) != "array":
        raise ArgumentError(f"{path}.params", "expected an <array> of parameters")
    return name.strip(), array_values(arrays[0], f"{path}.params")


def _help(m: MethodInfo) -> str:
    lines = list(m.doc)
    while lines and not lines[-1].strip():
        lines.pop()
    extra = [f":param {p.name}: {' '.join(p.doc)}" for p in m.params if p.doc]
    if m.rtype_doc:
        extra.append(f":rtype: {' '.join(m.rtype_doc)}")
    if lines and extra:
        lines.append("")
    return "\n".join(lines + extra)


# -- XRDL --------------------------------------------------------------------------


def _sub(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, f"{{{XRDL_NS}}}{tag}")
    for key, value in attrs.items():
        el.set(key.replace("_", "-"), xml_safe(value))
    return el


def _doc(parent: etree._Element, lines: tuple[str, ...] | list[str]) -> None:
    text = "\n".join(lines).strip("\n")
    if text.strip():
        _sub(parent, "documentation").text = xml_safe(text)


def _typed(
    parent: etree._Element,
    tag: str,
    spec: TypeSpec,
    *,
    optional: bool = False,
    nullable: bool = False,
    default: object = None,
    **attrs: str,
) -> etree._Element:
    el = _sub(parent, tag, **attrs, type=wire_type(spec), ladon_type=type_name(spec))
    if optional:
        el.set("optional", "true")
        if default is not None:
            el.set("default", xml_safe(_default_text(default)))
    if nullable:
        el.set("nullable", "true")
    return el


def _field(parent: etree._Element, f: FieldInfo) -> None:
    default = f.default if f.has_default else None
    el = _typed(
        parent,
        "field",
        f.type,
        optional=f.optional,
        nullable=f.nullable,
        default=default,
        name=f.name,
    )
    _doc(el, f.doc)


def xrdl(iface: Interface, base_url: str) -> bytes:
    """The XRDL description of ``iface``'s service (format in the module docstring).

    .. versionadded:: 2.0
    """
    service = iface.service
    root = etree.Element(f"{{{XRDL_NS}}}xrdl", nsmap={None: XRDL_NS})  # type: ignore[dict-item]
    root.set("version", "2.0")
    root.set("name", service.name)
    root.set("url", iface.endpoint_url(base_url))
    _doc(root, service.doc.splitlines())
    types = _sub(root, "types")
    for t in service.types:
        info = t.ladon_type_info()
        type_el = _sub(types, "type", name=info.name)
        _doc(type_el, info.doc.splitlines())
        for f in info.fields:
            _field(type_el, f)
    methods = _sub(root, "methods")
    for m in service.methods.values():
        extra = {} if m.kind is MethodKind.PLAIN else {"kind": m.kind.value}
        if m.task_of and m.kind is not MethodKind.TASK_START:
            extra["task_of"] = m.task_of
        method_el = _sub(methods, "method", name=m.name, **extra)
        _doc(method_el, m.doc)
        for i, p in enumerate(m.params, 1):
            default = p.default if p.optional else None
            param_el = _typed(
                method_el,
                "param",
                p.type,
                optional=p.optional,
                nullable=p.nullable,
                default=default,
                name=p.name,
                position=str(i),
            )
            _doc(param_el, p.doc)
        _doc(_typed(method_el, "return", m.rtype, nullable=m.rtype_nullable), m.rtype_doc)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
