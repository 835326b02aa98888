"""WSDL 1.1 documents for both SOAP interfaces, rendered from the service model.

Document/literal (``soap``): two schemas. The ``Arrays`` schema holds one
complexType per LadonType and per list type (``ArrayOfint``, ``ArrayOfPoint``);
the ``tempuri`` schema imports it and holds the wrapper elements ``M`` and
``MResponse``. Both are ``elementFormDefault="qualified"``, matching the
namespaces the responses use. Attachments are ``xsd:base64Binary``: inline
base64, or an ``xop:Include`` of a MIME part; the binding of a method with
attachments wraps ``soap:body`` in ``mime:multipartRelated``.

Declared constraints are XSD restrictions: a named ``simpleType`` per
constrained primitive (an enum by its class name, others as
``<type>_<tag>``, the tag a hash of the rules) with ``minInclusive``,
``maxExclusive``, ``minLength``, ``pattern``, ``enumeration``... facets; a
list's length rule is its items' ``minOccurs``/``maxOccurs`` (a list type of
its own, ``ArrayOfint_<tag>``). ``multiple_of`` has no XSD facet: it is
written in the type's documentation (and enforced all the same).

RPC (``soap11``): one unqualified schema in ``urn:<Service>``, messages with
one part per parameter, ``use="encoded"`` bodies, as Ladon 1.0 described it.
"""

from __future__ import annotations

import decimal
import enum
import inspect

from lxml import etree

from ..ladonizer.model import MethodInfo
from ..ladonizer.model import ServiceInfo
from ..types.ladontype import LadonType
from ..types.spec import Constrained
from ..types.spec import ListOf
from ..types.spec import TypeSpec
from ..types.spec import is_attachment
from ..wire.schema import ARRAYS_NS
from ..wire.schema import HTTP_TRANSPORT
from ..wire.schema import MIME
from ..wire.schema import SOAP_ENC
from ..wire.schema import TEMPURI
from ..wire.schema import WSDL
from ..wire.schema import WSDL_SOAP
from ..wire.schema import XSD
from ..wire.schema import XSD_TYPES
from ..wire.schema import array_name
from ..wire.schema import item_name
from ..wire.schema import service_ns
from ._soapvalues import wire_name


def _specs_of(service: ServiceInfo) -> list[TypeSpec]:
    """Every list and constrained spec the service's descriptions name
    (nested ones first), once."""
    found: list[TypeSpec] = []

    def visit(spec: TypeSpec) -> None:
        if isinstance(spec, ListOf):
            visit(spec.item)
        elif isinstance(spec, Constrained):
            visit(spec.base)
        else:
            return
        if spec not in found:
            found.append(spec)

    for m in service.methods.values():
        for p in m.params:
            visit(p.type)
        visit(m.rtype)
    for t in service.types:
        for f in t.ladon_type_info().fields:
            visit(f.type)
    return found


def _is_list(spec: TypeSpec) -> bool:
    return isinstance(spec, ListOf) or (
        isinstance(spec, Constrained) and isinstance(spec.base, ListOf)
    )


def _xsd_type(spec: TypeSpec, types_prefix: str) -> str:
    if isinstance(spec, ListOf) or (isinstance(spec, Constrained) and _is_list(spec)):
        return f"{types_prefix}:{array_name(spec)}"
    if isinstance(spec, Constrained):
        return f"{types_prefix}:{item_name(spec)}"
    if isinstance(spec, type) and issubclass(spec, LadonType):
        return f"{types_prefix}:{spec.__name__}"
    if is_attachment(spec):
        return "xsd:base64Binary"
    return "xsd:" + XSD_TYPES[spec]


def _el(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, tag, {k.rstrip("_"): v for k, v in attrs.items()})


def _field_element(
    seq: etree._Element, name: str, spec: TypeSpec, optional: bool, nullable: bool, prefix: str
) -> None:
    attrs = {"name": wire_name(name), "type": _xsd_type(spec, prefix)}
    if optional:
        attrs["minOccurs"] = "0"
    if nullable or _is_list(spec):
        attrs["nillable"] = "true"
    _el(seq, f"{{{XSD}}}element", **attrs)


def _complex_types(schema: etree._Element, service: ServiceInfo, prefix: str) -> None:
    xs = f"{{{XSD}}}"
    for t in service.types:
        info = t.ladon_type_info()
        ct = _el(schema, xs + "complexType", name=t.__name__)
        if info.doc:
            _el(_el(ct, xs + "annotation"), xs + "documentation").text = info.doc
        seq = _el(ct, xs + "sequence")
        for f in info.fields:
            _field_element(seq, f.name, f.type, f.optional, f.nullable, prefix)
    for spec in _specs_of(service):
        if _is_list(spec):
            _array_type(schema, spec, prefix)
        elif isinstance(spec, Constrained):
            _simple_type(schema, spec)


def _array_type(schema: etree._Element, spec: TypeSpec, prefix: str) -> None:
    xs = f"{{{XSD}}}"
    assert isinstance(spec, ListOf | Constrained)
    lst, rules = (spec.base, spec.constraints) if isinstance(spec, Constrained) else (spec, None)
    assert isinstance(lst, ListOf)
    low = rules.min_length if rules is not None and rules.min_length is not None else 0
    high = rules.max_length if rules is not None else None
    ct = _el(schema, xs + "complexType", name=array_name(spec))
    seq = _el(ct, xs + "sequence")
    _el(
        seq,
        xs + "element",
        name="item",
        type=_xsd_type(lst.item, prefix),
        minOccurs=str(low),
        maxOccurs="unbounded" if high is None else str(high),
        nillable="true",
    )


def _facet_value(x: object) -> str:
    if isinstance(x, decimal.Decimal):
        return format(x, "f")
    if isinstance(x, float):
        return repr(x)
    return str(x)


def _simple_type(schema: etree._Element, spec: Constrained) -> None:
    """A named simpleType restricting the base type by the rules."""
    xs = f"{{{XSD}}}"
    st = _el(schema, xs + "simpleType", name=item_name(spec))
    rules = spec.constraints
    notes = [f"multiple of {_facet_value(rules.multiple_of)}"] if rules.multiple_of else []
    if spec.enum is not None and spec.enum.__doc__ and spec.enum.__doc__ != enum.Enum.__doc__:
        notes.insert(0, inspect.cleandoc(spec.enum.__doc__))
    if notes:
        _el(_el(st, xs + "annotation"), xs + "documentation").text = "; ".join(notes)
    base = spec.base
    assert isinstance(base, type)
    restriction = _el(st, xs + "restriction", base="xsd:" + XSD_TYPES[base])
    facets = (
        ("minInclusive", rules.ge),
        ("minExclusive", rules.gt),
        ("maxInclusive", rules.le),
        ("maxExclusive", rules.lt),
    )
    for facet, value in facets:
        if value is not None:
            _el(restriction, xs + facet, value=_facet_value(value))
    if rules.min_length is not None and rules.min_length == rules.max_length:
        _el(restriction, xs + "length", value=str(rules.min_length))
    else:
        if rules.min_length is not None:
            _el(restriction, xs + "minLength", value=str(rules.min_length))
        if rules.max_length is not None:
            _el(restriction, xs + "maxLength", value=str(rules.max_length))
    if rules.pattern is not None:
        _el(restriction, xs + "pattern", value=rules.pattern)
    for choice in rules.choices or ():
        _el(restriction, xs + "enumeration", value=str(choice))


def _doc(method: MethodInfo) -> str:
    return "\n".join(method.doc).strip()


def _tostring(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _mime_directions(method: MethodInfo) -> set[str]:
    """Where a document/literal method may carry MIME parts: ``input`` when
    a parameter holds attachments, ``output`` when the result does."""
    found = set()
    if method.takes_attachments:
        found.add("input")
    if method.returns_attachments:
        found.add("output")
    return found


def _body(parent: etree._Element, body: dict[str, str], mime: bool) -> None:
    """``soap:body``, and beside it a ``mime:multipartRelated`` when the
    message may also come as MIME parts (SOAP with Attachments).

    NOTE: the plain ``soap:body`` stays a direct child: zeep and suds look
    for it only there, and the message is valid without parts too (the
    attachments then travel inline, as base64).
    """
    s = f"{{{WSDL_SOAP}}}"
    _el(parent, s + "body", **body)
    if not mime:
        return
    m = f"{{{MIME}}}"
    related = _el(parent, m + "multipartRelated")
    _el(_el(related, m + "part"), s + "body", **body)
    _el(_el(related, m + "part"), m + "content", type="application/octet-stream")


def _operations(
    root: etree._Element,
    service: ServiceInfo,
    url: str,
    style: str,
    body: dict[str, str],
    mime: bool = False,
) -> None:
    """Append portType, binding and service: the same for both styles but for
    the binding style, the attributes of ``soap:body`` and (``mime``) the
    MIME bindings of methods with attachments."""
    w = f"{{{WSDL}}}"
    s = f"{{{WSDL_SOAP}}}"
    port_type = _el(root, w + "portType", name=service.name + "PortType")
    for m in service.methods.values():
        op = _el(port_type, w + "operation", name=m.name)
        if _doc(m):
            _el(op, w + "documentation").text = _doc(m)
        _el(op, w + "input", message=f"tns:{m.name}")
        _el(op, w + "output", message=f"tns:{m.name}Response")
    binding = _el(root, w + "binding", name=service.name, type=f"tns:{service.name}PortType")
    _el(binding, s + "binding", style=style, transport=HTTP_TRANSPORT)
    for m in service.methods.values():
        op = _el(binding, w + "operation", name=m.name)
        _el(op, s + "operation", soapAction=f"{url}/{m.name}", style=style)
        with_parts = _mime_directions(m) if mime else set()
        for direction in ("input", "output"):
            _body(_el(op, w + direction), body, direction in with_parts)
    svc = _el(root, w + "service", name=service.name)
    if service.doc:
        _el(svc, w + "documentation").text = service.doc
    port = _el(svc, w + "port", name=service.name, binding=f"tns:{service.name}")
    _el(port, s + "address", location=url)


def document_literal_wsdl(service: ServiceInfo, url: str) -> bytes:
    """The WSDL of the ``soap`` interface."""
    xs = f"{{{XSD}}}"
    w = f"{{{WSDL}}}"
    nsmap = {
        None: WSDL,
        "soap": WSDL_SOAP,
        "xsd": XSD,
        "mime": MIME,
        "tns": TEMPURI,
        "ns1": ARRAYS_NS,
    }
    root = etree.Element(w + "definitions", nsmap=nsmap, name=service.name, targetNamespace=TEMPURI)  # type: ignore[arg-type]
    types = _el(root, w + "types")
    arrays = _el(types, xs + "schema", targetNamespace=ARRAYS_NS, elementFormDefault="qualified")
    _complex_types(arrays, service, "ns1")
    wrappers = _el(types, xs + "schema", targetNamespace=TEMPURI, elementFormDefault="qualified")
    _el(wrappers, xs + "import", namespace=ARRAYS_NS)
    for m in service.methods.values():
        seq = _el(
            _el(_el(wrappers, xs + "element", name=m.name), xs + "complexType"), xs + "sequence"
        )
        for p in m.params:
            _field_element(seq, p.name, p.type, p.optional, p.nullable, "ns1")
        rseq = _el(
            _el(_el(wrappers, xs + "element", name=m.name + "Response"), xs + "complexType"),
            xs + "sequence",
        )
        rtype = m.rtype
        if isinstance(rtype, type) and issubclass(rtype, LadonType):
            for f in rtype.ladon_type_info().fields:
                _field_element(rseq, f.name, f.type, f.optional, f.nullable, "ns1")
        else:
            _field_element(rseq, "result", rtype, False, m.rtype_nullable, "ns1")
    for m in service.methods.values():
        for suffix in ("", "Response"):
            msg = _el(root, w + "message", name=m.name + suffix)
            _el(msg, w + "part", name="parameters", element=f"tns:{m.name}{suffix}")
    _operations(root, service, url, "document", {"use": "literal"}, mime=True)
    return _tostring(root)


def rpc_wsdl(service: ServiceInfo, url: str) -> bytes:
    """The WSDL of the ``soap11`` (rpc) interface."""
    ns = service_ns(service.name)
    xs = f"{{{XSD}}}"
    w = f"{{{WSDL}}}"
    nsmap = {"wsdl": WSDL, "soap": WSDL_SOAP, "xsd": XSD, "soapenc": SOAP_ENC, "tns": ns}
    root = etree.Element(w + "definitions", nsmap=nsmap, name=service.name, targetNamespace=ns)
    schema = _el(_el(root, w + "types"), xs + "schema", targetNamespace=ns)
    _complex_types(schema, service, "tns")
    for m in service.methods.values():
        msg = _el(root, w + "message", name=m.name)
        for p in m.params:
            _el(msg, w + "part", name=wire_name(p.name), type=_xsd_type(p.type, "tns"))
        rmsg = _el(root, w + "message", name=m.name + "Response")
        _el(rmsg, w + "part", name="result", type=_xsd_type(m.rtype, "tns"))
    body = {"use": "encoded", "namespace": ns, "encodingStyle": SOAP_ENC}
    _operations(root, service, url, "rpc", body)
    return _tostring(root)
