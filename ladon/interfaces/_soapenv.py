"""SOAP envelopes of both versions: what a request's envelope says beside
its Body (its version, the header blocks a node must understand,
WS-Addressing 1.0) and the header blocks of an answer.

.. versionadded:: 2.0
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import ClassVar

from lxml import etree

from ..exceptions.service import ClientFault
from ..exceptions.service import MalformedRequest
from ..wire.schema import SOAP12_ENV
from ..wire.schema import SOAP12_ROLE_NEXT
from ..wire.schema import SOAP12_ROLE_ULTIMATE
from ..wire.schema import SOAP_ACTOR_NEXT
from ..wire.schema import SOAP_ENV
from ..wire.schema import WSA
from ..wire.schema import WSA_ANONYMOUS
from ..wire.schema import WSA_NONE
from ..wire.schema import WSSE
from ..wire.xml import escape
from ..wire.xml import safe_parser
from ..wire.xml import xml_safe


@dataclass(frozen=True, slots=True)
class SOAPVersion:
    """What differs between SOAP 1.1 and SOAP 1.2 envelopes.

    :param name: ``"1.1"`` or ``"1.2"``.
    :param env: the envelope namespace.
    :param prefix: the prefix the answers give it.
    :param media_type: the media type of its messages.
    :param role_attr: the header attribute naming who a block is for
        (``actor`` in 1.1, ``role`` in 1.2).
    :param roles: the values of it that mean this node.
    :param true_values: the values of ``mustUnderstand`` that mean true.
    :param strict: refuse what SOAP 1.2 forbids and SOAP 1.1 interfaces let
        pass for Ladon 1.0's clients: a Content-Type ``charset`` Python does
        not know, elements after the Body (or other than one Header and the
        Body), a ``mustUnderstand`` that is not an ``xs:boolean``.
    :param action_param: the media type carries the request's action in an
        ``action`` parameter (SOAP 1.2, RFC 3902).

    .. versionadded:: 2.0
    """

    name: str
    env: str
    prefix: str
    media_type: str
    role_attr: str
    roles: frozenset[str]
    true_values: frozenset[str]
    strict: bool = False
    action_param: bool = False
    #: the start of an answer without header blocks (see :meth:`envelope_open`)
    opening: str = field(init=False, repr=False)
    #: the end of an answer
    envelope_close: str = field(init=False, repr=False)
    #: ``{env}Envelope``, ``{env}Header`` and ``{env}Body``
    envelope_tag: str = field(init=False, repr=False)
    header_tag: str = field(init=False, repr=False)
    body_tag: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        p = self.prefix
        for name in ("Envelope", "Header", "Body"):
            object.__setattr__(self, f"{name.lower()}_tag", f"{{{self.env}}}{name}")
        object.__setattr__(self, "opening", self._open(""))
        object.__setattr__(self, "envelope_close", f"</{p}:Body></{p}:Envelope>")

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8"

    def envelope_open(self, header: str = "") -> str:
        """The start of an answer, up to and including ``<Body>``."""
        return self._open(header) if header else self.opening

    def _open(self, header: str) -> str:
        p = self.prefix
        head = f"<{p}:Header>{header}</{p}:Header>" if header else ""
        return (
            "<?xml version='1.0' encoding='UTF-8'?>\n"
            f'<{p}:Envelope xmlns:{p}="{self.env}" xmlns:xsi="http://www.w3.org/2001/'
            f'XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
            f"{head}<{p}:Body>"
        )


SOAP11 = SOAPVersion(
    "1.1",
    SOAP_ENV,
    "SOAP-ENV",
    "text/xml",
    "actor",
    frozenset({"", SOAP_ACTOR_NEXT}),
    frozenset({"1", "true"}),
)
SOAP12 = SOAPVersion(
    "1.2",
    SOAP12_ENV,
    "env",
    "application/soap+xml",
    "role",
    frozenset({"", SOAP12_ROLE_NEXT, SOAP12_ROLE_ULTIMATE}),
    frozenset({"1", "true"}),
    strict=True,
    action_param=True,
)
VERSIONS = {v.env: v for v in (SOAP11, SOAP12)}

#: The WS-Addressing 1.0 header blocks Ladon reads.
WSA_HEADERS = frozenset(
    f"{{{WSA}}}{name}"
    for name in ("Action", "MessageID", "To", "From", "ReplyTo", "FaultTo", "RelatesTo")
)
#: The header blocks every SOAP interface understands: WS-Addressing, and
#: ``wsse:Security`` (read by the WS-Security step).
UNDERSTOOD_HEADERS = WSA_HEADERS | {f"{{{WSSE}}}Security"}


class VersionMismatch(ClientFault):
    """The envelope is not of the interface's SOAP version (SOAP 1.1
    section 4.4.1, SOAP 1.2 part 1 section 5.4.7).

    :param received: the envelope namespace the request used.

    .. versionadded:: 2.0
    """

    soap_code: str | None = "VersionMismatch"
    http_status: int | None = 500

    def __init__(self, faultstring: str, received: str | None) -> None:
        super().__init__(faultstring)
        self.received = received


class WrongMediaType(ClientFault):
    """A SOAP 1.2 envelope sent with another media type than
    ``application/soap+xml`` (SOAP 1.2 part 2, 7.1.4): HTTP 415, as the
    SOAP 1.2 HTTP binding answers a Content-Type it does not support.

    .. versionadded:: 2.0
    """

    http_status: int | None = 415


def media_type(ctype: str) -> str:
    """The media type of a Content-Type, without its parameters, in lower case."""
    return ctype.partition(";")[0].strip().lower()


class MustUnderstand(ClientFault):
    """Header blocks marked ``mustUnderstand`` that no part of Ladon reads.

    :param headers: their qualified names (``{namespace}local``).

    .. versionadded:: 2.0
    """

    soap_code: str | None = "MustUnderstand"
    http_status: int | None = 500

    #: Most header names the message lists (and SOAP 1.2 ``NotUnderstood``
    #: blocks the answer carries): a request may hold thousands.
    shown: ClassVar[int] = 20

    def __init__(self, headers: Sequence[str]) -> None:
        names = ", ".join(h if len(h) <= 200 else h[:197] + "..." for h in headers[: self.shown])
        more = len(headers) - self.shown
        if more > 0:
            names += f" and {more} more"
        super().__init__(
            f"Header block(s) marked mustUnderstand that this service does not process: {names}"
        )
        self.headers = tuple(headers[: self.shown])


class AddressingFault(ClientFault):
    """A WS-Addressing 1.0 fault (SOAP binding section 6.4).

    SOAP 1.2 writes it as ``env:Sender`` / :attr:`subcode` / (if any)
    :attr:`subsubcode`, and its [Details] in ``env:Detail``; SOAP 1.1, whose
    faults have no subcodes, writes the most specific of the two as its
    ``faultcode`` and the [Details] in a ``wsa:FaultDetail`` header block
    (SOAP binding section 6).

    :param faultstring: the message.
    :param addressing: what the request's WS-Addressing headers said.
    :param problem_header: the local name of the ``wsa:`` header at fault
        (``"ReplyTo"``), sent as the [Details] ``wsa:ProblemHeaderQName``;
        ``None`` for the class's :attr:`problem_header`.

    .. versionadded:: 2.0
    """

    subcode: ClassVar[str] = "InvalidAddressingHeader"
    #: The SOAP 1.2 subsubcode (under :attr:`subcode`), if any: the
    #: ``faultcode`` on SOAP 1.1.
    subsubcode: ClassVar[str | None] = None
    #: The ``wsa:`` header the fault is about, when the class knows it.
    problem_header: str | None = None

    def __init__(
        self,
        faultstring: str,
        addressing: Addressing | None = None,
        problem_header: str | None = None,
    ) -> None:
        super().__init__(faultstring)
        self.soap_subcode = f"{{{WSA}}}{self.subcode}"
        #: What the request's WS-Addressing headers said, as far as they
        #: could be read (its ``wsa:MessageID``, which the fault relates to).
        self.addressing = addressing
        if problem_header is not None:
            self.problem_header = problem_header

    @property
    def specific_code(self) -> str:
        """The most specific code, ``{namespace}local``: the subsubcode if
        there is one, else the subcode (SOAP 1.1's ``faultcode``)."""
        return f"{{{WSA}}}{self.subsubcode or self.subcode}"

    def details(self) -> str:
        """The [Details] as markup (``wsa:ProblemHeaderQName``), or ``""``."""
        if self.problem_header is None:
            return ""
        return (
            f'<wsa:ProblemHeaderQName xmlns:wsa="{WSA}">'
            f"wsa:{self.problem_header}</wsa:ProblemHeaderQName>"
        )


class ActionMismatch(AddressingFault):
    """The ``action`` parameter of a SOAP 1.2 request's media type is not its
    ``wsa:Action`` (WS-Addressing 1.0 SOAP binding, 6.4.1: subcode
    ``wsa:InvalidAddressingHeader``, subsubcode ``wsa:ActionMismatch``).

    .. versionadded:: 2.0
    """

    subsubcode: ClassVar[str | None] = "ActionMismatch"
    problem_header: str | None = "Action"


class ActionNotSupported(AddressingFault):
    """The ``wsa:Action`` is not the one the WSDL declares for the operation
    (WS-Addressing 1.0 SOAP binding, 6.4.5: subcode
    ``wsa:ActionNotSupported``, [Details] ``wsa:ProblemAction`` holding the
    action in ``wsa:Action``).

    :param action: the request's ``wsa:Action``; ``None``: no [Details].
        An action longer than :attr:`max_problem_action` characters is not
        echoed either (the fault message quotes its start): a fault's size
        never grows with what a client sends.

    .. versionadded:: 2.0
    """

    subcode: ClassVar[str] = "ActionNotSupported"
    #: The longest action the [Details] repeat.
    max_problem_action: ClassVar[int] = 2048

    def __init__(
        self,
        faultstring: str,
        addressing: Addressing | None = None,
        action: str | None = None,
    ) -> None:
        super().__init__(faultstring, addressing)
        #: The action that is not supported.
        self.action = action

    def details(self) -> str:
        """The [Details]: ``wsa:ProblemAction`` (with the action as sent)."""
        if self.action is None or len(self.action) > self.max_problem_action:
            return ""
        return (
            f'<wsa:ProblemAction xmlns:wsa="{WSA}">'
            f"<wsa:Action>{escape(xml_safe(self.action))}</wsa:Action></wsa:ProblemAction>"
        )


class OnlyAnonymousAddressSupported(AddressingFault):
    """A ``wsa:ReplyTo``/``wsa:FaultTo`` asks for the answer elsewhere than in
    the HTTP response (WS-Addressing 1.0 SOAP binding, 6.4.1: subcode
    ``wsa:InvalidAddressingHeader``, subsubcode
    ``wsa:OnlyAnonymousAddressSupported``, the header as
    ``wsa:ProblemHeaderQName``).

    .. versionadded:: 2.0
    """

    subsubcode: ClassVar[str | None] = "OnlyAnonymousAddressSupported"


class MissingAddressInEPR(AddressingFault):
    """A ``wsa:ReplyTo``/``wsa:FaultTo`` without the ``wsa:Address`` every
    endpoint reference has (WS-Addressing 1.0 SOAP binding, 6.4.1: subcode
    ``wsa:InvalidAddressingHeader``, subsubcode ``wsa:MissingAddressInEPR``,
    the header as ``wsa:ProblemHeaderQName``).

    .. versionadded:: 2.0
    """

    subsubcode: ClassVar[str | None] = "MissingAddressInEPR"


class MessageAddressingHeaderRequired(AddressingFault):
    """WS-Addressing headers without the ``wsa:Action`` they must have."""

    subcode: ClassVar[str] = "MessageAddressingHeaderRequired"
    problem_header: str | None = "Action"


class OperationMismatch(ClientFault):
    """The ``action`` parameter of a SOAP 1.2 request's media type names
    another operation of the service than the element in its Body.

    .. versionadded:: 2.0
    """


@dataclass(frozen=True, slots=True)
class Addressing:
    """The WS-Addressing 1.0 headers of a request (each the first of its
    name: zeep's ``WsAddressingPlugin`` on a WSDL declaring ``wsam:Action``
    adds them twice).

    .. versionadded:: 2.0
    """

    action: str | None = None
    message_id: str | None = None
    to: str | None = None
    reply_to: str | None = None
    fault_to: str | None = None
    #: The reference parameters of the ``wsa:ReplyTo`` as the header blocks
    #: of an answer (see :func:`reference_parameters`), ``""`` when none.
    reply_params: str = ""
    #: The same of the ``wsa:FaultTo``.
    fault_params: str = ""

    @property
    def fault_endpoint_params(self) -> str:
        """The reference parameters a fault answer echoes: the
        ``wsa:FaultTo``'s when there is one, else the ``wsa:ReplyTo``'s
        (WS-Addressing 1.0 Core, section 3.4)."""
        return self.fault_params if self.fault_to is not None else self.reply_params


_ACTION = f"{{{WSA}}}Action"
_MESSAGE_ID = f"{{{WSA}}}MessageID"
_TO = f"{{{WSA}}}To"
_REPLY_TO = f"{{{WSA}}}ReplyTo"
_FAULT_TO = f"{{{WSA}}}FaultTo"
_ADDRESS = f"{{{WSA}}}Address"
_REFERENCE_PARAMETERS = f"{{{WSA}}}ReferenceParameters"
_IS_REFERENCE_PARAMETER = f"{{{WSA}}}IsReferenceParameter"
_REPLIES_HERE = frozenset({WSA_ANONYMOUS, WSA_NONE})

#: Most bytes of reference parameters the ``wsa:ReplyTo`` and ``wsa:FaultTo``
#: of a request may hold together (as the answer writes them): each one is
#: echoed in the answer.
MAX_REFERENCE_PARAMETERS = 64 * 1024


def read_addressing(blocks: Iterable[etree._Element]) -> Addressing | None:
    """The WS-Addressing headers among a request's header blocks (``None``
    when it has none), with the reference parameters of its ``wsa:ReplyTo``
    and ``wsa:FaultTo`` ready to be echoed (see :func:`reference_parameters`).

    :raises AddressingFault: a reply or fault endpoint without
        ``wsa:Address`` or elsewhere than the HTTP response, reference
        parameters over :data:`MAX_REFERENCE_PARAMETERS`, or headers without
        ``wsa:Action``; its :attr:`~AddressingFault.addressing` holds what
        the headers said (the fault answer relates to the request's
        ``wsa:MessageID``).
    """
    found: dict[str, str] = {}
    params: dict[str, str] = {}
    budget = MAX_REFERENCE_PARAMETERS
    problem: tuple[type[AddressingFault], str, str] | None = None
    for block in blocks:
        tag = block.tag
        if not isinstance(tag, str) or not tag.startswith("{" + WSA) or tag in found:
            continue
        if tag not in (_REPLY_TO, _FAULT_TO):
            found[tag] = (block.text or "").strip()
            continue
        name = "ReplyTo" if tag == _REPLY_TO else "FaultTo"
        address = block.find(_ADDRESS)
        text = "" if address is None else (address.text or "").strip()
        found[tag] = text
        fault: tuple[type[AddressingFault], str, str] | None = None
        if address is None:
            fault = (
                MissingAddressInEPR,
                f"wsa:{name} has no wsa:Address; an endpoint reference needs one "
                f"(here the anonymous address, {WSA_ANONYMOUS})",
                name,
            )
        elif text not in _REPLIES_HERE:
            fault = (
                OnlyAnonymousAddressSupported,
                f"wsa:{name} must be the anonymous address "
                f"({WSA_ANONYMOUS}): answers go in the HTTP response",
                name,
            )
        else:
            markup = reference_parameters(block, budget)
            if markup is None:
                fault = (
                    AddressingFault,
                    "The reference parameters of wsa:ReplyTo and wsa:FaultTo hold more than "
                    f"{MAX_REFERENCE_PARAMETERS // 1024} KiB; they are echoed in the answer",
                    name,
                )
            else:
                params[tag] = markup
                budget -= len(markup.encode("utf-8"))
        if problem is None:
            problem = fault
    if not found:
        return None
    action = found.get(_ACTION)
    addressing = Addressing(
        action or None,
        found.get(_MESSAGE_ID) or None,
        found.get(_TO),
        found.get(_REPLY_TO),
        found.get(_FAULT_TO),
        params.get(_REPLY_TO, ""),
        params.get(_FAULT_TO, ""),
    )
    # NOTE: checked once every block is read, so that the fault can relate
    # to a wsa:MessageID that comes after the wrong block
    if problem is not None:
        cls, message, header = problem
        raise cls(message, addressing, header)
    if not action:
        raise MessageAddressingHeaderRequired(
            "WS-Addressing headers need a wsa:Action naming the operation", addressing
        )
    return addressing


def reference_parameters(epr: etree._Element, limit: int) -> str | None:
    """The reference parameters of an endpoint reference (``wsa:ReplyTo``)
    as header blocks of the answer (WS-Addressing 1.0 Core 3.4, SOAP binding
    2.3): a copy of each element, with its namespaces in scope, attributes
    and content, marked ``wsa:IsReferenceParameter="true"``, serialised by
    lxml; ``""`` when it has none, ``None`` when they take more than
    ``limit`` bytes.

    .. versionadded:: 2.0
    """
    holder = epr.find(_REFERENCE_PARAMETERS)
    if holder is None:
        return ""
    out: list[str] = []
    size = 0
    parser: etree.XMLParser | None = None
    for el in holder:
        tag: object = el.tag
        if not isinstance(tag, str):
            continue
        # as it stands in the request, with the namespaces in scope declared
        # on it (so that QName values in its content keep their meaning)
        original = etree.tostring(el, with_tail=False)
        if size + len(original) > limit:  # PERF: before copying it
            return None
        # NOTE: read back and marked, in time linear in its size (a copy
        # built attribute by attribute takes quadratic time)
        parser = parser or safe_parser()
        copied = etree.fromstring(original, parser)
        copied.set(_IS_REFERENCE_PARAMETER, "true")
        markup = etree.tostring(copied, encoding="unicode")
        size += len(markup.encode("utf-8"))
        if size > limit:
            return None
        out.append(markup)
    return "".join(out)


def not_understood(
    blocks: Iterable[etree._Element], version: SOAPVersion, understood: frozenset[str]
) -> list[str]:
    """The qualified names of the header blocks for this node marked
    ``mustUnderstand`` that are not in ``understood``.

    :raises MalformedRequest: (a :attr:`~SOAPVersion.strict` version) a
        ``mustUnderstand`` that is not an ``xs:boolean``.
    """
    env = version.env
    must = f"{{{env}}}mustUnderstand"
    role = f"{{{env}}}{version.role_attr}"
    missed = []
    for block in blocks:
        flag = block.get(must)
        if flag is None:
            continue
        flag = flag.strip()
        if flag not in version.true_values:
            if version.strict and flag not in _FALSE:
                shown = flag if len(flag) <= 40 else flag[:37] + "..."
                raise MalformedRequest(
                    f"The mustUnderstand attribute of header block {clip(str(block.tag))} "
                    f"is {shown!r}; SOAP {version.name} takes an xs:boolean "
                    "(true, false, 1 or 0)"
                )
            continue
        if block.get(role, "").strip() not in version.roles:
            continue  # for another node
        tag = str(block.tag)
        if tag not in understood:
            missed.append(tag)
    return missed


#: The values of an ``xs:boolean`` that mean false.
_FALSE = frozenset({"0", "false"})


def clip(text: str, size: int = 200) -> str:
    """``text`` cut to ``size`` characters (``...`` ending a cut one), for
    fault messages quoting the request."""
    return text if len(text) <= size else text[: size - 3] + "..."


_PARAM = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"?|[^;]*)')
_QUOTED_PAIR = re.compile(r"\\(.)")


def _params(ctype: str) -> dict[str, str]:
    """The parameters of a media type, names lowercased, quoted values
    unquoted (RFC 9110 5.6.6); the first of a name counts."""
    found: dict[str, str] = {}
    for match in _PARAM.finditer(ctype):
        name, value = match.group(1).lower(), match.group(2).strip()
        if value[:1] == '"':
            value = _QUOTED_PAIR.sub(r"\1", value[1:-1] if value[-1:] == '"' else value[1:])
        found.setdefault(name, value)
    return found


@functools.lru_cache(maxsize=256)
def action_param(ctype: str) -> str | None:
    """The ``action`` parameter of a SOAP 1.2 request's media type
    (``application/soap+xml; action="..."``, RFC 3902), or of the SOAP
    media type an MTOM root part names in its ``type`` parameter
    (``application/xop+xml; type="application/soap+xml; action=..."``, as
    WCF sends it); ``None`` when there is none.

    .. versionadded:: 2.0
    """
    if "action" not in ctype.lower():  # PERF: most requests
        return None
    params = _params(ctype)
    action = params.get("action")
    if action is None and ctype[:19].lower() == "application/xop+xml" and "type" in params:
        action = _params(params["type"]).get("action")
    return None if action is None else action.strip()


def addressing_header(addressing: Addressing, action: str, params: str = "") -> str:
    """The WS-Addressing header blocks of an answer: its action, a new
    message id, what it relates to, and ``params``, the reference
    parameters of the endpoint it answers to (see
    :func:`reference_parameters`)."""
    parts = [
        f'<wsa:Action xmlns:wsa="{WSA}">{escape(xml_safe(action))}</wsa:Action>',
        f'<wsa:MessageID xmlns:wsa="{WSA}">urn:uuid:{uuid.uuid4()}</wsa:MessageID>',
    ]
    if addressing.message_id:
        parts.append(
            f'<wsa:RelatesTo xmlns:wsa="{WSA}">'
            f"{escape(xml_safe(addressing.message_id))}</wsa:RelatesTo>"
        )
    if params:
        parts.append(params)
    return "".join(parts)


def qname_markup(clark: str, prefix: str) -> tuple[str, str]:
    """``{ns}local`` as (``prefix:local``, the ``xmlns:prefix`` declaration)."""
    ns, _, name = clark[1:].partition("}") if clark.startswith("{") else ("", "", clark)
    if not ns:
        return name, ""
    return f"{prefix}:{name}", f' xmlns:{prefix}="{escape(ns).replace(chr(34), "&quot;")}"'
