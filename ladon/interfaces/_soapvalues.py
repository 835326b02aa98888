"""SOAP values: reading request elements into plain values guided by the
declared types, and writing plain result values as SOAP markup. The XML
itself is parsed by :mod:`ladon.wire.xml`."""

from __future__ import annotations

import base64
import binascii
import functools
import re
from typing import Any
from typing import cast

from lxml import etree

from ..exceptions.service import ArgumentError
from ..exceptions.service import ResultError
from ..types._describe import describe_value
from ..types.attachment import attachment
from ..types.constraints import LONG_MAX as LONG_MAX
from ..types.constraints import LONG_MIN as LONG_MIN
from ..types.ladontype import LadonType
from ..types.spec import PRIMITIVES
from ..types.spec import Constrained
from ..types.spec import ListOf
from ..types.spec import TypeSpec
from ..types.spec import base_of
from ..types.spec import is_attachment
from ..wire.schema import XOP
from ..wire.schema import XOP_INCLUDE
from ..wire.schema import XSD_TYPES
from ..wire.schema import XSI_NIL
from ..wire.schema import array_name
from ..wire.schema import item_name
from ..wire.schema import restricted_inline
from ..wire.xml import escape
from ..wire.xml import local


@functools.lru_cache(maxsize=4096)
def param_name(tag: str) -> str:
    """The Python name of an element tag: local name, ``-`` read as ``_``."""
    return tag.rpartition("}")[2].replace("-", "_")


def wire_name(name: str) -> str:
    """Python name -> XML element name (``_`` written as ``-``, as Ladon 1.0)."""
    return name.replace("_", "-")


def py_name(name: str) -> str:
    return name.replace("-", "_")


#: Most attributes read on one element of an argument: an element carrying
#: more is refused (a client fault naming the argument) before any of them
#: is looked at. Clients write one to three (``xsi:type``, ``xsi:nil``,
#: ``id`` or ``href``).
MAX_ATTRIBUTES = 1000


def check_attributes(el: etree._Element, path: str) -> None:
    """Refuse an element of an argument carrying more than
    :data:`MAX_ATTRIBUTES` attributes (counting them takes one pass).

    .. versionadded:: 2.0

    :raises ArgumentError: too many.
    """
    count = len(el.attrib)
    if count > MAX_ATTRIBUTES:
        raise ArgumentError(
            path,
            f"its element carries {count} attributes; at most {MAX_ATTRIBUTES} are read "
            "on one element",
        )


def is_nil(el: etree._Element) -> bool:
    """Whether ``xsi:nil`` is true on an element. It is looked up by its
    name; only when the element has no ``xsi:nil`` are the names of its
    attributes scanned (once, names only) for a ``nil`` of another
    namespace, which Ladon 1.0 read too.

    NOTE: never ``attrib.items()``: lxml finds each value by searching the
    attributes again, which is quadratic in their number.
    """
    value = el.get(XSI_NIL)
    if value is None:
        for key in el.keys():
            if local(key) == "nil":
                value = el.get(key)
                break
        else:
            return False
    return value is not None and value.strip() in ("true", "1")


#: Types whose XML form is plain text.
_TEXT_TYPES = frozenset(PRIMITIVES)
#: Whether an item has an attribute or a child element. NOTE: not the union
#: ``*/@* | */*``, whose merge libxml2 makes in quadratic time.
_ITEMS_COMPLEX = etree.XPath("boolean(*/@*) or boolean(*/*)")
#: The texts of a list's items, as plain strings: when none has an
#: attribute or a child element (:data:`_ITEMS_COMPLEX`), one text node
#: each or none (the parser joins an element's adjacent texts). NOTE: not
#: ``*[not(@*)][not(*)]/text()``: libxml2's predicates cost 4x the whole.
_ITEM_TEXTS = etree.XPath("*/text()", smart_strings=False)


def item_texts(el: etree._Element, ints: bool) -> list[str] | None:
    """The texts of a list's items, read in one XPath, when each of its
    (one or more) items is a plain element with text and, for ints, at most
    :data:`_SAFE_DIGITS` characters (within ``xsd:long``); ``None`` for any
    other list, which the caller reads item by item (and judges).

    .. versionadded:: 2.0
    """
    count = len(el)
    if not count or _ITEMS_COMPLEX(el):
        return None
    texts: list[str] = _ITEM_TEXTS(el)  # type: ignore[assignment]
    if len(texts) != count:  # an item with an attribute, a child or no text
        return None
    if ints and max(map(len, texts)) > _SAFE_DIGITS:
        return None
    return texts


def to_plain(
    el: etree._Element, spec: TypeSpec, path: str = "", refs: References | None = None
) -> Any:
    """Read an element as a plain value, guided by the expected type.

    Lists take every child element in order (normally ``item``); objects
    take children by local name (``-`` read as ``_``); other values take the
    element's text exactly as sent (whitespace and entities preserved).
    What does not fit the type is returned in a shape ``load()`` refuses
    with a message naming the argument: text where a list or an object was
    expected is returned as text, child elements where a value was expected
    as an (empty) object.

    :param path: where the element sits (``items[3].name``), for errors.
    :param refs: the multi-reference values of the request (SOAP
        encoding): an element referring to another is read as that one
        (see :class:`References`); without it, as it is.
    :raises ArgumentError: a field of an object is given twice, an ``int``
        is beyond ``xsd:long`` (see :func:`check_long`), an element carries
        more than :data:`MAX_ATTRIBUTES` attributes, or a reference cannot
        be followed (see :meth:`References.follow`).
    """
    if el.attrib:
        check_attributes(el, path)
        if refs is not None:
            ref = refs.reference(el)
            if ref is not None:
                return refs.read(ref, spec, path)
        if is_nil(el):
            return None
    spec = base_of(spec)
    if spec in _TEXT_TYPES:
        if len(el):
            return {}
        text = el.text or ""
        if spec is int and len(text) > _SAFE_DIGITS:
            check_long(text, path)
        return text
    if isinstance(spec, ListOf):
        return _list_plain(el, spec, path, refs)
    # PERF: before is_attachment(), whose look-up of a LadonType is slow
    if isinstance(spec, type) and issubclass(spec, LadonType):
        return _object_plain(el, spec, path, refs)
    if is_attachment(spec):
        return _attachment_value(el, path)
    if len(el):
        return {}  # elements where a value was expected: load() refuses an object
    return el.text or ""


def _object_plain(
    el: etree._Element, spec: type[LadonType], path: str, refs: References | None
) -> Any:
    """:func:`to_plain` of a LadonType."""
    fields = {f.name: f.type for f in spec.ladon_type_info().fields}
    out: dict[str, Any] = {}
    for c in el:
        name = py_name(local(c.tag))
        ftype = fields.get(name)
        if ftype is not None:
            if name in out:
                raise ArgumentError(f"{path}.{name}", "is given more than once")
            out[name] = to_plain(c, ftype, f"{path}.{name}", refs)
    if not out and el.text and el.text.strip():
        return el.text  # text where an object was expected: let load() say so
    return out


def _list_plain(el: etree._Element, spec: ListOf, path: str, refs: References | None) -> Any:
    """:func:`to_plain` of a list."""
    item = spec.item
    if item in _TEXT_TYPES:
        # PERF: the common list of numbers or strings, plain items with text
        # (the parser drops comments and PIs: every child is an element);
        # anything else, a long int included, takes the loop
        texts = item_texts(el, item is int)
        if texts is not None:
            return texts
    items = [c for c in el if isinstance(c.tag, str)]
    if not items and el.text and el.text.strip():
        # Text where a list was expected, e.g. suds given a plain Python
        # list for a wrapper array sends <numbers>1</numbers><numbers>2</numbers>:
        # let load() say so instead of reading an empty list.
        return el.text
    if item in _TEXT_TYPES:
        values = [
            (_text_item(c, f"{path}[{i}]", refs) if c.attrib else {} if len(c) else (c.text or ""))
            for i, c in enumerate(items)
        ]
        if item is int:
            _check_long_items(values, path)
        return values
    return [to_plain(c, item, f"{path}[{i}]", refs) for i, c in enumerate(items)]


def _text_item(el: etree._Element, path: str, refs: References | None) -> Any:
    """An item of a list of text values that carries attributes: nil, a
    reference (to a text value: no nesting to follow) or its text."""
    check_attributes(el, path)
    if refs is not None:
        ref = refs.reference(el)
        if ref is not None:
            el = refs.follow(ref, path)
    if is_nil(el):
        return None
    return {} if len(el) else (el.text or "")


# -- multi-reference values (SOAP encoding) ------------------------------------------

#: SOAP 1.2 encoding (SOAP 1.2 part 2, section 3), whose ``enc:id`` and
#: ``enc:ref`` make multi-reference values.
SOAP12_ENC = "http://www.w3.org/2003/05/soap-encoding"
_ENC12_ID = f"{{{SOAP12_ENC}}}id"
_ENC12_REF = f"{{{SOAP12_ENC}}}ref"
_WITH_ID = etree.XPath("descendant::*[@id]")
_WITH_ENC12_ID = etree.XPath("descendant::*[@enc:id]", namespaces={"enc": SOAP12_ENC})
_ELEMENTS = etree.XPath("count(descendant-or-self::*)")
_ATTRIBUTES = etree.XPath("count(descendant-or-self::*/@*)")

#: Deepest nesting of a value read through references, counted from its
#: argument as the argument's path counts (``a.b[2]`` is 3 levels deep,
#: ``a`` 1): about as deep as the parser lets a document nest (256).
MAX_REFERENCE_DEPTH = 256
#: Elements and attributes that reading values through references may add
#: to a request's: this many, or :data:`REFERENCE_FACTOR` times those of
#: its Body when that is more.
REFERENCE_BUDGET = 100_000
REFERENCE_FACTOR = 4


class References:
    """The multi-reference values of one request (SOAP encoding: SOAP 1.1
    section 5.4.1, SOAP 1.2 part 2 section 3.1.5): an element with
    ``href="#x"`` (SOAP 1.1; ``href`` of any other form, such as an
    attachment's ``cid:``, is no such reference) or ``enc:ref="x"`` /
    ``"#x"`` (SOAP 1.2) is read as the element of the Body whose ``id``
    (``enc:id``) is ``x``: its attributes (``xsi:type``, ``xsi:nil``), its
    children and its text. PHP's SoapClient writes them for a value it
    sends twice, Axis for every complex value (``multiRef`` elements
    beside the call).

    The Body's ids are collected at the first reference, once. A reference
    costs its target's elements and attributes out of a budget
    (:data:`REFERENCE_BUDGET`, :data:`REFERENCE_FACTOR`), so references
    cannot multiply the work of reading a request (a "billion laughs" of
    references); values read through them nest no deeper than
    :data:`MAX_REFERENCE_DEPTH`.

    .. versionadded:: 2.0

    :param body: the Body of the request.
    :param soap12: SOAP 1.2 encoding (``enc:ref``, ``enc:id``), else SOAP
        1.1's (``href``, ``id``).
    """

    __slots__ = ("_active", "_body", "_ids", "_left", "_limit", "_shapes", "_soap12")

    def __init__(self, body: etree._Element, soap12: bool = False) -> None:
        self._body = body
        self._soap12 = soap12
        #: id -> its element, ``None`` when more than one has it (collected
        #: at the first reference)
        self._ids: dict[str, etree._Element | None] | None = None
        #: id -> its element's elements, elements and attributes, height
        #: (``-1``: not measured yet)
        self._shapes: dict[str, list[int]] = {}
        #: ids of the values being read (one inside the other)
        self._active: set[str] = set()
        #: what references may cost in all (set with the ids), and still
        self._limit = self._left = 0

    def reference(self, el: etree._Element) -> str | None:
        """The id an element refers to, ``None`` when it is no reference."""
        if self._soap12:
            ref = el.get(_ENC12_REF)
            if ref is None:
                return None
            ref = ref.strip()
            return ref[1:] if ref[:1] == "#" else ref
        href = el.get("href")
        if href is None:
            return None
        href = href.strip()
        return href[1:] if href[:1] == "#" else None

    def read(self, ref: str, spec: TypeSpec, path: str) -> Any:
        """:func:`to_plain` of the element ``ref`` names (see :meth:`follow`)."""
        target, chain = self._follow(ref, path)
        active = self._active
        active.update(chain)  # what it holds may not refer to them: a cycle
        try:
            return to_plain(target, spec, path, self)  # no reference: the chain ends there
        finally:
            active.difference_update(chain)

    def follow(self, ref: str, path: str) -> etree._Element:
        """The element a reference reaches, following references from
        element to element.

        :param path: where the referring element sits, for errors.
        :raises ArgumentError: no element (or more than one) has the id;
            the references make a cycle (a value that would hold itself);
            the element carries too many attributes; the references cost
            more than is left; the value would nest deeper than
            :data:`MAX_REFERENCE_DEPTH`.
        """
        return self._follow(ref, path)[0]

    def _follow(self, ref: str, path: str) -> tuple[etree._Element, dict[str, None]]:
        """:meth:`follow`, and the ids it went through (in order)."""
        active = self._active
        chain: dict[str, None] = {}
        while True:
            if ref in active or ref in chain:
                raise ArgumentError(
                    path,
                    f"the reference to id {describe_value(ref)} makes a cycle: "
                    "the value would contain itself",
                )
            target = self._element(ref, path)
            check_attributes(target, path)
            chain[ref] = None
            shape = self._charge(ref, target, path)
            next_ref = self.reference(target)
            if next_ref is None:
                break
            ref = next_ref
        depth = path.count(".") + path.count("[") + 1
        # PERF: a value of n elements is at most n - 1 levels deep: most
        # are not measured
        if depth + shape[0] - 1 > MAX_REFERENCE_DEPTH:
            if shape[2] < 0:
                shape[2] = _height(target)
            if depth + shape[2] > MAX_REFERENCE_DEPTH:
                raise ArgumentError(
                    path,
                    f"the value of id {describe_value(ref)} would nest deeper than "
                    f"{MAX_REFERENCE_DEPTH} levels",
                )
        return target, chain

    def _element(self, ref: str, path: str) -> etree._Element:
        ids = self._ids
        if ids is None:
            ids = self._ids = self._collect()
        try:
            target = ids[ref]
        except KeyError:
            raise ArgumentError(
                path, f"refers to id {describe_value(ref)}, which no element of the Body has"
            ) from None
        if target is None:
            raise ArgumentError(
                path, f"refers to id {describe_value(ref)}, which more than one element has"
            )
        return target

    def _collect(self) -> dict[str, etree._Element | None]:
        """The Body's ids, and the budget of references (once)."""
        body = self._body
        if self._soap12:
            found, attr = _WITH_ENC12_ID(body), _ENC12_ID
        else:
            found, attr = _WITH_ID(body), "id"
        ids: dict[str, etree._Element | None] = {}
        for el in cast("list[etree._Element]", found):
            key = (el.get(attr) or "").strip()
            ids[key] = None if key in ids else el
        nodes = int(cast(float, _ELEMENTS(body))) + int(cast(float, _ATTRIBUTES(body)))
        self._left = self._limit = max(REFERENCE_BUDGET, REFERENCE_FACTOR * nodes)
        return ids

    def _charge(self, ref: str, target: etree._Element, path: str) -> list[int]:
        """Take what reading ``target`` costs (its elements and attributes)
        from what is left; its shape."""
        shape = self._shapes.get(ref)
        if shape is None:
            elements = int(cast(float, _ELEMENTS(target)))
            nodes = elements + int(cast(float, _ATTRIBUTES(target)))
            shape = self._shapes[ref] = [elements, nodes, -1]
        self._left -= shape[1]
        if self._left < 0:
            raise ArgumentError(
                path,
                "the values read through references (href/id) amount to more than "
                f"{self._limit} elements and attributes, the most this request may "
                f"expand to ({REFERENCE_FACTOR} times its Body's, at least {REFERENCE_BUDGET})",
            )
        return shape


def _height(el: etree._Element) -> int:
    """How many levels of elements lie below ``el``."""
    depth = height = 0
    for event, _ in etree.iterwalk(el, events=("start", "end")):
        if event == "start":
            depth += 1
            height = max(height, depth)
        else:
            depth -= 1
    return height - 1


# LONG_MIN, LONG_MAX: the range of ``xsd:long``, the type the WSDLs publish for ``int``.
_LONG_RANGE = f"{LONG_MIN} to {LONG_MAX}"
#: Longest text that is always within it when it is an integer at all (18
#: digits, or 17 and a sign): longer ones are parsed and checked.
_SAFE_DIGITS = 18
_INTEGER = re.compile(r"[ \t\n\r]*[+-]?[0-9]+[ \t\n\r]*\Z")


def check_long(text: str, path: str) -> None:
    """Refuse the text of an ``int`` argument whose integer is beyond
    ``xsd:long``, the type the WSDL declares: a demanding client (or a
    schema-validating intermediary) would refuse it, so the server does
    too. Text that is not an integer is left to the conversion, which says
    so.

    .. versionadded:: 2.0

    :raises ArgumentError: the integer is out of range.
    """
    if not _INTEGER.match(text):
        return
    try:
        if LONG_MIN <= int(text) <= LONG_MAX:
            return
    except ValueError:  # more digits than int() reads: out of range all the same
        pass
    digits = text.strip()
    shown = digits if len(digits) <= 40 else digits[:37] + "..."
    raise ArgumentError(
        path,
        f"the integer is out of the range of xsd:long (64 bits) the WSDL publishes "
        f"({_LONG_RANGE}), got {shown}",
    )


def _check_long_items(values: list[Any], path: str) -> None:
    """:func:`check_long` on the texts of a list of ints (items ``path[i]``)."""
    for i, v in enumerate(values):
        if type(v) is str and len(v) > _SAFE_DIGITS:
            check_long(v, f"{path}[{i}]")


_REFERENCE = re.compile(r"\s*cidx?\s*:", re.IGNORECASE)


def _attachment_value(el: etree._Element, path: str) -> str | bytes:
    """An attachment argument: a ``cid:`` reference to a MIME part (an
    ``xop:Include`` child, an ``href`` attribute as in SOAP with
    Attachments, or ``cid:...``/``cidx:...`` text as a ``swaRef``), else
    base64 text decoded to bytes.

    :raises ArgumentError: text that is neither base64 nor a reference.
    """
    for child in el:
        if child.tag == XOP_INCLUDE:
            return str(child.get("href", ""))
    href = el.get("href")
    if href is not None:
        return href
    text = el.text or ""
    if _REFERENCE.match(text):
        return text.strip()
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ArgumentError(
            path,
            "is neither valid base64 (xsd:base64Binary) nor an attachment reference "
            f"(cid:<Content-ID> or cidx:<index>): got {describe_value(text.strip())}",
        ) from None


def simple_text(spec: TypeSpec, value: object) -> str | None:
    """The XML text of a value :func:`write` writes as plain text without
    more ado: an ``int`` within ``xsd:long`` or a ``str`` XML can carry, of
    that very type and declared so; ``None`` for any other value (which
    :func:`write` then writes, or refuses with its reason).

    .. versionadded:: 2.0
    """
    cls = value.__class__
    if cls is int:
        if spec is int and LONG_MIN <= value <= LONG_MAX:  # type: ignore[operator]
            return str(value)
    elif cls is str and spec is str:
        try:
            return escape(value)  # type: ignore[arg-type]
        except ValueError:
            return None
    return None


def text_of(value: object) -> str:
    """The XML text of a plain scalar."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write(
    out: list[str],
    tag: str,
    spec: TypeSpec,
    value: Any,
    prefix: str,
    files: list[attachment] | None = None,
    python_names: bool = False,
    typed: str | None = None,
) -> None:
    """Append the markup of ``<tag>`` holding a plain value of type ``spec``.

    NOTE: responses are written as text, not built as an lxml tree: it is
    several times faster, and the markup is simple enough to escape by hand.

    :param tag: the element name, with its prefix if any.
    :param prefix: prefix of nested elements (items, fields), e.g. ``"arr:"``.
    :param files: where attachments go when the answer is multipart: each
        is appended and written as an ``xop:Include`` of its part; without
        it attachments are written inline, as base64.
    :param python_names: field elements take the Python names as they are
        (else ``_`` is written ``-``, as in Ladon 1.0).
    :param typed: write ``xsi:type`` on every value (rpc/encoded), naming
        the types of the service with this prefix (e.g. ``"ns"``).
    """
    declared = spec  # its xsi:type names a constrained type as the WSDL does
    if isinstance(spec, Constrained):
        spec = spec.base
    if value is None:
        out.append(f'<{tag} xsi:nil="true"/>')
    elif isinstance(spec, ListOf):
        out.append(f"<{tag}{xsi_type(declared, typed)}>" if typed else f"<{tag}>")
        item_tag, item = prefix + "item", spec.item
        for i, v in enumerate(value):
            try:
                write(out, item_tag, item, v, prefix, files, python_names, typed)
            except ResultError as exc:
                raise exc.within(f"[{i}]") from None
        out.append(f"</{tag}>")
    elif isinstance(spec, type) and issubclass(spec, LadonType):
        out.append(f"<{tag}{xsi_type(declared, typed)}>" if typed else f"<{tag}>")
        write_fields(out, spec, value, prefix, prefix, files, python_names, typed)
        out.append(f"</{tag}>")
    elif spec is int and type(value) is int:
        if not LONG_MIN <= value <= LONG_MAX:
            # The WSDL publishes int as xsd:long: never send more than it says.
            # (the path is the value's own: the callers above prefix theirs)
            raise ResultError(
                "",
                "the integer is out of the range of xsd:long (64 bits) the WSDL publishes "
                f"({_LONG_RANGE})",
            )
        attr = xsi_type(declared, typed) if typed else ""
        out.append(f"<{tag}{attr}>{value}</{tag}>")
    elif isinstance(value, attachment):
        attr = xsi_type(declared, typed) if typed else ""
        if files is None:
            data = base64.b64encode(value.read()).decode("ascii")
            out.append(f"<{tag}{attr}>{data}</{tag}>")
        else:
            files.append(value)
            out.append(
                f'<{tag}{attr}><xop:Include xmlns:xop="{XOP}" '
                f'href="cid:{part_id(len(files))}"/></{tag}>'
            )
    elif typed:
        out.append(f"<{tag}{xsi_type(declared, typed)}>{escape(text_of(value))}</{tag}>")
    else:
        out.append(f"<{tag}>{escape(text_of(value))}</{tag}>")


def xsi_type(spec: TypeSpec, prefix: str | None) -> str:
    """The `` xsi:type="..."`` attribute of a value of ``spec`` (types of the
    service named with ``prefix``, XML Schema's with ``xsd``)."""
    return _xsi_type(spec, prefix)


@functools.lru_cache(maxsize=4096)  # bounded: specs are the services' own
def _xsi_type(given: object, prefix: str | None) -> str:
    spec: TypeSpec = given  # type: ignore[assignment]
    if isinstance(spec, ListOf):
        attr = f' xsi:type="{prefix}:{array_name(spec)}"'
    elif isinstance(spec, Constrained):
        if restricted_inline(spec):
            # its base type: suds converts a value only by a built-in type
            # (and the restriction is an XSD type of that value all the same)
            return _xsi_type(spec.base, prefix)
        attr = f' xsi:type="{prefix}:{item_name(spec)}"'  # as the WSDL names it
    elif isinstance(spec, type) and issubclass(spec, LadonType):
        attr = f' xsi:type="{prefix}:{spec.__name__}"'
    elif is_attachment(spec):
        attr = ' xsi:type="xsd:base64Binary"'
    else:
        attr = f' xsi:type="xsd:{XSD_TYPES[spec]}"'
    return attr


def part_id(n: int) -> str:
    """The Content-ID (without angle brackets) of the n-th attachment of an answer."""
    return f"ladon-attachment-{n}"


def write_fields(
    out: list[str],
    cls: type[LadonType],
    value: dict[str, Any],
    tag_prefix: str,
    prefix: str,
    files: list[attachment] | None = None,
    python_names: bool = False,
    typed: str | None = None,
) -> None:
    """Append one element per field of a plain object value (the arguments
    are those of :func:`write`)."""
    for f in cls.ladon_type_info().fields:
        name = f.name if python_names else wire_name(f.name)
        try:
            write(out, tag_prefix + name, f.type, value[f.name], prefix, files, python_names, typed)
        except ResultError as exc:
            raise exc.within(f.name) from None
