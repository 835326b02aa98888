"""WSDL 1.1 documents for both SOAP interfaces, rendered from the service model.

Document/literal (``soap``): two schemas. The ``Arrays`` schema holds one
complexType per LadonType and per list type (``ArrayOfint``, ``ArrayOfPoint``);
the ``tempuri`` schema imports it and holds the wrapper elements ``M`` and
``MResponse``. Both are ``elementFormDefault="qualified"``, matching the
namespaces the responses use. Attachments are ``xsd:base64Binary``: inline
base64, or an ``xop:Include`` of a MIME part; the binding of a method with
attachments wraps ``soap:body`` in ``mime:multipartRelated``.

Declared constraints are XSD restrictions of the base type with
``minInclusive``, ``maxExclusive``, ``minLength``, ``pattern``,
``enumeration``... facets (a constrained float also a ``pattern`` leaving
out ``INF`` and ``NaN``, which Ladon refuses). In the document/literal
WSDLs they are anonymous ``simpleType`` children of the elements (see
:func:`~ladon.wire.schema.restricted_inline`: suds converts values only by
a built-in type or an anonymous restriction of one), but an enumeration of
text, which is named after its class; in the rpc WSDL (whose parts need a
type name) every one is a named ``simpleType``: an enum by its class name,
others as ``<type>_<tag>``, the tag a hash of the rules. A list's length
rule is its items' ``minOccurs``/``maxOccurs`` (a list type of its own,
``ArrayOfint_<tag>``). ``multiple_of`` has no XSD facet: it is written in
the type's documentation (and enforced all the same).

RPC (``soap11``): one unqualified schema in ``urn:<Service>``, messages with
one part per parameter, ``use="encoded"`` bodies, as Ladon 1.0 described it.

With the Python naming (``soap12`` always; ``soap`` and ``soap11`` with
``soap_naming="python"``) the names are the Python names and one schema in
the service's namespace holds everything. ``soap12`` is document/literal
with the SOAP 1.2 binding (``wsdl/soap12/``) and its response elements
always hold ``result``; its methods with attachments get the WSDL 1.1 MIME
binding as on ``soap`` (with ``soap12:body`` parts, as WCF and JAX-WS write
it).

Every WSDL declares WS-Addressing: ``wsam:Action`` on each operation's
input and output, ``wsaw:UsingAddressing`` (optional) in the binding.

A service with task methods also declares the optional header block of a
task start, ``lt:IdempotencyKey`` (``xmlns:lt="urn:ladon:tasks"``, a string
of 1 to 255 characters): a schema of its own, a message
``LadonIdempotencyKey`` and a literal ``soap:header`` in the input of every
task start's binding operation, so that SOAP clients (zeep, suds) can send
an ``Idempotency-Key`` in the envelope.

When the application takes WS-Security UsernameTokens, both WSDLs carry a
WS-SecurityPolicy 1.2 ``sp:SupportingTokens`` policy with an
``sp:UsernameToken`` assertion (``wsu:Id="UsernameTokenPolicy"``), and the
binding operation of every method that needs an authenticated caller
refers to it with a ``wsp:PolicyReference`` (WS-PolicyAttachment).
"""

from __future__ import annotations

import decimal
import enum
import inspect
from typing import Any

from lxml import etree

from ..ladonizer.model import MethodInfo
from ..ladonizer.model import MethodKind
from ..ladonizer.model import ServiceInfo
from ..types.ladontype import LadonType
from ..types.spec import Constrained
from ..types.spec import ListOf
from ..types.spec import TypeSpec
from ..types.spec import is_attachment
from ..types.spec import is_ladontype
from ..wire.schema import HTTP_TRANSPORT
from ..wire.schema import LADON_TASKS
from ..wire.schema import MIME
from ..wire.schema import SOAP_ENC
from ..wire.schema import WSAM
from ..wire.schema import WSAW
from ..wire.schema import WSDL
from ..wire.schema import WSDL_SOAP
from ..wire.schema import WSDL_SOAP12
from ..wire.schema import WSP
from ..wire.schema import WSSP
from ..wire.schema import WSSP_ALWAYS_TO_RECIPIENT
from ..wire.schema import WSU
from ..wire.schema import XSD
from ..wire.schema import XSD_TYPES
from ..wire.schema import array_name
from ..wire.schema import item_name
from ..wire.schema import restricted_inline
from ._soapnames import SOAPNaming
from ._soapnames import port_type_name


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


def _el(
    parent: etree._Element, tag: str, qualified: dict[str, str] | None = None, /, **attrs: str
) -> etree._Element:
    """A new child; ``qualified`` holds attributes named ``{namespace}local``."""
    el = etree.SubElement(parent, tag, {k.rstrip("_"): v for k, v in attrs.items()})
    if qualified:
        for k, v in qualified.items():
            el.set(k, v)
    return el


def _field_element(
    seq: etree._Element,
    name: str,
    spec: TypeSpec,
    optional: bool,
    nullable: bool,
    prefix: str,
    naming: SOAPNaming,
    inline: bool = False,
) -> None:
    """An element of ``spec`` in ``seq``; with ``inline``, a constrained
    value's restriction is written in it (see :func:`restricted_inline`)."""
    _typed_element(
        seq,
        naming.element(name),
        spec,
        prefix,
        inline,
        min_occurs="0" if optional else None,
        # a nil plain list is read as []; a list with a length rule is not
        nillable=nullable or isinstance(spec, ListOf),
    )


def _typed_element(
    parent: etree._Element,
    name: str,
    spec: TypeSpec,
    prefix: str,
    inline: bool,
    *,
    min_occurs: str | None = None,
    max_occurs: str | None = None,
    nillable: bool = False,
) -> None:
    """An ``xsd:element`` of type ``spec``: named by ``type``, or holding
    the anonymous restriction of a constrained value when ``inline``."""
    anonymous = inline and restricted_inline(spec)
    attrs = {"name": name}
    if not anonymous:
        attrs["type"] = _xsd_type(spec, prefix)
    if min_occurs is not None:
        attrs["minOccurs"] = min_occurs
    if max_occurs is not None:
        attrs["maxOccurs"] = max_occurs
    if nillable:
        attrs["nillable"] = "true"
    el = _el(parent, f"{{{XSD}}}element", **attrs)
    if anonymous:
        assert isinstance(spec, Constrained)
        _simple_type(el, spec, None)


def _complex_types(
    schema: etree._Element,
    service: ServiceInfo,
    prefix: str,
    naming: SOAPNaming,
    inline: bool = False,
    nil_items: bool = True,
) -> None:
    """The complexTypes of the LadonTypes and lists, and the simpleTypes
    of the constrained values (with ``inline``: of those declared by name
    only, see :func:`restricted_inline`). ``nil_items``: list items are
    declared ``nillable``, as Ladon 1.0's WSDLs did (the server refuses a
    nil item all the same: no list type holds ``None``)."""
    xs = f"{{{XSD}}}"
    for t in service.types:
        info = t.ladon_type_info()
        ct = _el(schema, xs + "complexType", name=t.__name__)
        if info.doc:
            _el(_el(ct, xs + "annotation"), xs + "documentation").text = info.doc
        seq = _el(ct, xs + "sequence")
        for f in info.fields:
            _field_element(seq, f.name, f.type, f.optional, f.nullable, prefix, naming, inline)
    for spec in _specs_of(service):
        if _is_list(spec):
            _array_type(schema, spec, prefix, inline, nil_items)
        elif isinstance(spec, Constrained) and not (inline and restricted_inline(spec)):
            _simple_type(schema, spec, item_name(spec))


def _array_type(
    schema: etree._Element, spec: TypeSpec, prefix: str, inline: bool, nil_items: bool = True
) -> None:
    xs = f"{{{XSD}}}"
    assert isinstance(spec, ListOf | Constrained)
    lst, rules = (spec.base, spec.constraints) if isinstance(spec, Constrained) else (spec, None)
    assert isinstance(lst, ListOf)
    low = rules.min_length if rules is not None and rules.min_length is not None else 0
    high = rules.max_length if rules is not None else None
    ct = _el(schema, xs + "complexType", name=array_name(spec))
    seq = _el(ct, xs + "sequence")
    _typed_element(
        seq,
        "item",
        lst.item,
        prefix,
        inline,
        min_occurs=str(low),
        max_occurs="unbounded" if high is None else str(high),
        nillable=nil_items,
    )


def _facet_value(x: object) -> str:
    if isinstance(x, decimal.Decimal):
        return format(x, "f")
    if isinstance(x, float):
        return repr(x)
    return str(x)


#: The lexical space of ``xsd:double`` without ``INF``, ``-INF`` and
#: ``NaN``, which Ladon refuses: the pattern of a constrained float.
FINITE_DOUBLE = r"[+\-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+\-]?[0-9]+)?"


def _simple_type(parent: etree._Element, spec: Constrained, name: str | None) -> None:
    """A simpleType restricting the base type by the rules: named, or
    anonymous (``name`` None) in the element ``parent``."""
    xs = f"{{{XSD}}}"
    st = _el(parent, xs + "simpleType", **({"name": name} if name else {}))
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
    elif base is float:
        _el(restriction, xs + "pattern", value=FINITE_DOUBLE)
    for choice in rules.choices or ():
        _el(restriction, xs + "enumeration", value=str(choice))


def flattened(method: MethodInfo) -> bool:
    """Whether the ``soap`` answer holds the fields of a LadonType result
    directly (Ladon 1.0's shape), rather than in ``<result>``: for every
    LadonType result but a nullable one (a Ladon 2 declaration), which is
    in ``<result>`` so that ``None`` can be told from an object."""
    return is_ladontype(method.rtype) and not method.rtype_nullable


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


def _body(
    parent: etree._Element, body: dict[str, str], mime: bool, soap_ns: str = WSDL_SOAP
) -> None:
    """``soap:body``, and beside it a ``mime:multipartRelated`` when the
    message may also come as MIME parts (SOAP with Attachments).

    NOTE: the plain ``soap:body`` stays a direct child: zeep and suds look
    for it only there, and the message is valid without parts too (the
    attachments then travel inline, as base64).
    """
    s = f"{{{soap_ns}}}"
    _el(parent, s + "body", **body)
    if not mime:
        return
    m = f"{{{MIME}}}"
    related = _el(parent, m + "multipartRelated")
    _el(_el(related, m + "part"), s + "body", **body)
    _el(_el(related, m + "part"), m + "content", type="application/octet-stream")


#: The message of the ``lt:IdempotencyKey`` header block of task starts.
IDEMPOTENCY_MESSAGE = "LadonIdempotencyKey"
#: Its one part.
IDEMPOTENCY_PART = "IdempotencyKey"


def _starts_tasks(service: ServiceInfo) -> bool:
    return any(m.kind is MethodKind.TASK_START for m in service.methods.values())


def _task_namespaces(service: ServiceInfo) -> dict[str, str]:
    return {"lt": LADON_TASKS} if _starts_tasks(service) else {}


def _idempotency_declarations(types: etree._Element, root: etree._Element) -> None:
    """The schema of the ``lt:IdempotencyKey`` element and its message (for
    a service with task methods)."""
    xs = f"{{{XSD}}}"
    w = f"{{{WSDL}}}"
    schema = _el(types, xs + "schema", targetNamespace=LADON_TASKS, elementFormDefault="qualified")
    element = _el(schema, xs + "element", name="IdempotencyKey")
    _el(_el(element, xs + "annotation"), xs + "documentation").text = (
        "The Idempotency-Key of a task start: the same key with the same arguments "
        "(from the same caller) gives the same task."
    )
    restriction = _el(_el(element, xs + "simpleType"), xs + "restriction", base="xsd:string")
    _el(restriction, xs + "minLength", value="1")
    _el(restriction, xs + "maxLength", value="255")
    message = _el(root, w + "message", name=IDEMPOTENCY_MESSAGE)
    _el(message, w + "part", name=IDEMPOTENCY_PART, element="lt:IdempotencyKey")


#: The ``wsu:Id`` of the UsernameToken policy.
USERNAME_TOKEN_POLICY = "UsernameTokenPolicy"


def _wants_token(service: ServiceInfo) -> bool:
    return "UsernameToken" in service.auth_schemes


def _policy_namespaces(service: ServiceInfo) -> dict[str, str]:
    if not _wants_token(service):
        return {}
    return {"wsp": WSP, "sp": WSSP, "wsu": WSU}


def _security_policy(root: etree._Element) -> None:
    """The WS-SecurityPolicy 1.2 policy asking for a UsernameToken
    (WS-Security 1.1 UsernameToken profile) in every request: an extension
    element, which WSDL 1.1's schema takes only at the start of
    ``definitions`` (after its ``documentation``)."""
    p = f"{{{WSP}}}"
    sp = f"{{{WSSP}}}"
    policy = etree.Element(
        p + "Policy",
        {f"{{{WSU}}}Id": USERNAME_TOKEN_POLICY},
        nsmap={"wsp": WSP, "sp": WSSP, "wsu": WSU},
    )
    first = root[0] if len(root) else None
    root.insert(1 if first is not None and first.tag == f"{{{WSDL}}}documentation" else 0, policy)
    tokens = _el(_el(_el(policy, p + "ExactlyOne"), p + "All"), sp + "SupportingTokens")
    token = etree.SubElement(
        _el(tokens, p + "Policy"),
        sp + "UsernameToken",
        {sp + "IncludeToken": WSSP_ALWAYS_TO_RECIPIENT},
    )
    _el(_el(token, p + "Policy"), sp + "WssUsernameToken11")


def _operations(
    root: etree._Element,
    service: ServiceInfo,
    url: str,
    style: str,
    body: dict[str, str],
    naming: SOAPNaming,
    mime: bool = False,
    soap_ns: str = WSDL_SOAP,
    port_suffix: str = "",
) -> None:
    """Append portType, binding and service: the same for both styles but for
    the binding style, the attributes of ``soap:body``, (``mime``) the MIME
    bindings of methods with attachments, and the SOAP binding namespace
    (``soap_ns``: SOAP 1.1's or 1.2's)."""
    w = f"{{{WSDL}}}"
    s = f"{{{soap_ns}}}"
    action = f"{{{WSAM}}}Action"
    actions = {}
    for m in service.methods.values():
        request = naming.input_action(service, m, url)
        actions[m.name] = (request, naming.output_action(service, m, request))
    if _wants_token(service):
        _security_policy(root)
    port_type = _el(root, w + "portType", name=port_type_name(service))
    for m in service.methods.values():
        op = _el(port_type, w + "operation", name=m.name)
        if _doc(m):
            _el(op, w + "documentation").text = _doc(m)
        request, response = actions[m.name]
        _el(op, w + "input", {action: request}, message=f"tns:{m.name}")
        _el(op, w + "output", {action: response}, message=f"tns:{m.name}Response")
    binding_name = service.name + port_suffix
    binding = _el(root, w + "binding", name=binding_name, type=f"tns:{port_type_name(service)}")
    _el(binding, s + "binding", style=style, transport=HTTP_TRANSPORT)
    _el(binding, f"{{{WSAW}}}UsingAddressing")
    token = _wants_token(service)
    for m in service.methods.values():
        op = _el(binding, w + "operation", name=m.name)
        if token and m.access.needs_principal:
            _el(op, f"{{{WSP}}}PolicyReference", URI=f"#{USERNAME_TOKEN_POLICY}")
        _el(op, s + "operation", soapAction=actions[m.name][0], style=style)
        with_parts = _mime_directions(m) if mime else set()
        for direction in ("input", "output"):
            message = _el(op, w + direction)
            _body(message, body, direction in with_parts, soap_ns)
            if direction == "input" and m.kind is MethodKind.TASK_START:
                _el(
                    message,
                    s + "header",
                    message=f"tns:{IDEMPOTENCY_MESSAGE}",
                    part=IDEMPOTENCY_PART,
                    use="literal",
                )
    svc = _el(root, w + "service", name=service.name)
    if service.doc:
        _el(svc, w + "documentation").text = service.doc
    port = _el(svc, w + "port", name=binding_name, binding=f"tns:{binding_name}")
    _el(port, s + "address", location=url)


def document_literal_wsdl(
    service: ServiceInfo, url: str, naming: SOAPNaming, soap12: bool = False
) -> bytes:
    """The WSDL of a document/literal interface: ``soap`` (SOAP 1.1, LadonType
    results flattened into the response element, as Ladon 1.0), or
    ``soap12`` (SOAP 1.2, results always in ``result``)."""
    xs = f"{{{XSD}}}"
    w = f"{{{WSDL}}}"
    tns = naming.wrapper_ns(service)
    types_ns = naming.types_ns(service)
    soap_ns = WSDL_SOAP12 if soap12 else WSDL_SOAP
    nsmap: dict[Any, str] = {
        None: WSDL,
        "soap12" if soap12 else "soap": soap_ns,
        "xsd": XSD,
        "mime": MIME,
        "wsam": WSAM,
        "wsaw": WSAW,
        "tns": tns,
        **_policy_namespaces(service),
        **_task_namespaces(service),
    }
    if types_ns != tns:
        nsmap["ns1"] = types_ns
    types_prefix = "ns1" if types_ns != tns else "tns"
    root = etree.Element(w + "definitions", nsmap=nsmap, name=service.name, targetNamespace=tns)
    types = _el(root, w + "types")
    if types_ns != tns:
        arrays = _el(types, xs + "schema", targetNamespace=types_ns, elementFormDefault="qualified")
        _complex_types(arrays, service, types_prefix, naming, inline=True, nil_items=not soap12)
        wrappers = _el(types, xs + "schema", targetNamespace=tns, elementFormDefault="qualified")
        _el(wrappers, xs + "import", namespace=types_ns)
    else:
        wrappers = _el(types, xs + "schema", targetNamespace=tns, elementFormDefault="qualified")
        _complex_types(wrappers, service, types_prefix, naming, inline=True, nil_items=not soap12)
    for m in service.methods.values():
        seq = _el(
            _el(_el(wrappers, xs + "element", name=m.name), xs + "complexType"), xs + "sequence"
        )
        for p in m.params:
            _field_element(
                seq, p.name, p.type, p.optional, p.nullable, types_prefix, naming, inline=True
            )
        rseq = _el(
            _el(_el(wrappers, xs + "element", name=m.name + "Response"), xs + "complexType"),
            xs + "sequence",
        )
        rtype = m.rtype
        if not soap12 and flattened(m):
            for f in rtype.ladon_type_info().fields:  # type: ignore[union-attr]
                _field_element(
                    rseq, f.name, f.type, f.optional, f.nullable, types_prefix, naming, inline=True
                )
        else:
            # a nullable result is left out when it is None (minOccurs 0):
            # clients read a missing element as None, which they do not
            # for a nil one of a complex type
            optional = m.rtype_nullable and is_ladontype(rtype)
            _field_element(
                rseq, "result", rtype, optional, m.rtype_nullable, types_prefix, naming, inline=True
            )
    for m in service.methods.values():
        for suffix in ("", "Response"):
            msg = _el(root, w + "message", name=m.name + suffix)
            _el(msg, w + "part", name="parameters", element=f"tns:{m.name}{suffix}")
    if _starts_tasks(service):
        _idempotency_declarations(types, root)
    _operations(
        root,
        service,
        url,
        "document",
        {"use": "literal"},
        naming,
        mime=True,
        soap_ns=soap_ns,
        port_suffix="Soap12" if soap12 else "",
    )
    return _tostring(root)


def rpc_wsdl(service: ServiceInfo, url: str, naming: SOAPNaming) -> bytes:
    """The WSDL of the ``soap11`` (rpc/encoded) interface."""
    ns = naming.rpc_ns(service)
    xs = f"{{{XSD}}}"
    w = f"{{{WSDL}}}"
    nsmap = {
        "wsdl": WSDL,
        "soap": WSDL_SOAP,
        "xsd": XSD,
        "soapenc": SOAP_ENC,
        "wsam": WSAM,
        "wsaw": WSAW,
        "tns": ns,
        **_policy_namespaces(service),
        **_task_namespaces(service),
    }
    root = etree.Element(w + "definitions", nsmap=nsmap, name=service.name, targetNamespace=ns)
    types = _el(root, w + "types")
    schema = _el(types, xs + "schema", targetNamespace=ns)
    _complex_types(schema, service, "tns", naming)
    for m in service.methods.values():
        msg = _el(root, w + "message", name=m.name)
        for p in m.params:
            _el(msg, w + "part", name=naming.element(p.name), type=_xsd_type(p.type, "tns"))
        rmsg = _el(root, w + "message", name=m.name + "Response")
        _el(rmsg, w + "part", name="result", type=_xsd_type(m.rtype, "tns"))
    if _starts_tasks(service):
        _idempotency_declarations(types, root)
    body = {"use": "encoded", "namespace": ns, "encodingStyle": SOAP_ENC}
    _operations(root, service, url, "rpc", body, naming)
    return _tostring(root)
