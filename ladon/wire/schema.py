"""Schema knowledge in one place: the namespaces of SOAP, WSDL and XML
Schema, and how each declared Python type is named in XML Schema (WSDL) and
in the JSON descriptions.

.. versionadded:: 2.0
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ..types.constraints import json_schema_keywords
from ..types.naming import array_name as array_name
from ..types.naming import item_name as item_name
from ..types.naming import rules_tag as rules_tag
from ..types.spec import Constrained
from ..types.spec import ListOf
from ..types.spec import TypeSpec
from ..types.spec import is_attachment

#: XML Schema.
XSD = "http://www.w3.org/2001/XMLSchema"
#: XML Schema instance (``xsi:nil``, ``xsi:type``).
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSI_NIL = f"{{{XSI}}}nil"
#: SOAP 1.1 envelope.
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
#: SOAP 1.1 encoding (rpc/encoded).
SOAP_ENC = "http://schemas.xmlsoap.org/soap/encoding/"
#: SOAP 1.2 envelope.
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
#: SOAP 1.1 ``actor`` and SOAP 1.2 ``role`` of the next node (every node).
SOAP_ACTOR_NEXT = "http://schemas.xmlsoap.org/soap/actor/next"
SOAP12_ROLE_NEXT = f"{SOAP12_ENV}/role/next"
SOAP12_ROLE_ULTIMATE = f"{SOAP12_ENV}/role/ultimateReceiver"
#: WS-Addressing 1.0 (headers), its WSDL binding (``wsaw:UsingAddressing``)
#: and its metadata (``wsam:Action``).
WSA = "http://www.w3.org/2005/08/addressing"
WSAW = "http://www.w3.org/2006/05/addressing/wsdl"
WSAM = "http://www.w3.org/2007/05/addressing/metadata"
#: The reply address meaning "in the HTTP response", and "no reply".
WSA_ANONYMOUS = f"{WSA}/anonymous"
WSA_NONE = f"{WSA}/none"
#: The action of a fault (WS-Addressing 1.0 SOAP binding, 6.4): SOAP's own
#: and the service's faults.
WSA_FAULT_ACTION = f"{WSA}/soap/fault"
#: The action of WS-Addressing's own faults (SOAP binding, section 6).
WSA_ADDRESSING_FAULT_ACTION = f"{WSA}/fault"
#: Ladon's own fault subcodes (SOAP 1.2 ``env:Subcode``).
LADON_FAULTS = "urn:ladon:faults"
#: Ladon's SOAP header blocks of task starts (``IdempotencyKey``).
LADON_TASKS = "urn:ladon:tasks"
#: The header block of a task start carrying its ``Idempotency-Key``.
IDEMPOTENCY_KEY_ELEMENT = f"{{{LADON_TASKS}}}IdempotencyKey"
#: XOP (``xop:Include`` of a MIME part).
XOP = "http://www.w3.org/2004/08/xop/include"
XOP_INCLUDE = f"{{{XOP}}}Include"
#: WSDL 1.1 and its SOAP 1.1 and MIME bindings.
WSDL = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
WSDL_SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
MIME = "http://schemas.xmlsoap.org/wsdl/mime/"
#: The SOAP over HTTP transport of a WSDL binding.
HTTP_TRANSPORT = "http://schemas.xmlsoap.org/soap/http"
#: WS-Security 1.0/1.1 (OASIS): the ``Security`` header, ``UsernameToken``
#: and the fault codes (``wsse:FailedAuthentication``...).
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
#: WS-Security utility (``wsu:Created``, ``wsu:Timestamp``, ``wsu:Id``).
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
#: The UsernameToken profile 1.0: password types and nonce encoding.
WSS_USERNAME_PROFILE = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
)
WSS_PASSWORD_TEXT = WSS_USERNAME_PROFILE + "#PasswordText"
WSS_PASSWORD_DIGEST = WSS_USERNAME_PROFILE + "#PasswordDigest"
WSS_BASE64 = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)
#: WS-Policy 1.5 and WS-SecurityPolicy 1.2 (the WSDL's UsernameToken policy).
WSP = "http://www.w3.org/ns/ws-policy"
WSSP = "http://docs.oasis-open.org/ws-sx/ws-securitypolicy/200702"
WSSP_ALWAYS_TO_RECIPIENT = WSSP + "/IncludeToken/AlwaysToRecipient"
#: Namespace -> the prefix a SOAP fault code of that namespace is written
#: with (the namespace is declared on the ``faultcode`` element).
FAULT_PREFIXES: Mapping[str, str] = MappingProxyType({WSSE: "wsse"})
#: Ladon 1.0's target namespace of the ``soap`` interface.
TEMPURI = "http://tempuri.org/"
#: Ladon 1.0's namespace of types and list items on the ``soap`` interface.
ARRAYS_NS = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"


def service_ns(service_name: str) -> str:
    """Ladon 1.0's namespace of a service on the ``soap11`` interface."""
    return f"urn:{service_name}"


#: Python type -> XML Schema type (used in WSDL).
XSD_TYPES: Mapping[type, str] = MappingProxyType(
    {
        int: "long",
        float: "double",  # Ladon 1.0 said decimal, which cannot carry 1e-05
        bool: "boolean",
        str: "string",
        bytes: "string",
        datetime.datetime: "dateTime",
        datetime.date: "date",
        decimal.Decimal: "decimal",
    }
)

#: Python type -> JSON-WSP type name.
JSON_TYPES: Mapping[type, str] = MappingProxyType(
    {
        int: "number",
        float: "float",
        bool: "boolean",
        str: "string",
        bytes: "string",
        datetime.datetime: "datetime",
        datetime.date: "date",
        decimal.Decimal: "decimal",
    }
)


def json_type(spec: TypeSpec) -> Any:
    """The JSON-WSP type name of a spec (a one-element list for lists; the
    base type's name for a constrained one, whose rules are described
    beside it)."""
    if isinstance(spec, Constrained):
        spec = spec.base
    if isinstance(spec, ListOf):
        return [json_type(spec.item)]
    name = JSON_TYPES.get(spec)
    if name is not None:
        return name
    if is_attachment(spec):
        return "attachment"
    return spec.__name__


def rule_keys(spec: TypeSpec) -> dict[str, Any]:
    """The constraints of a spec as keys of a JSON description (JSON-WSP):
    the JSON Schema keywords (``minimum``, ``maxLength``, ``pattern``,
    ``enum``...); a list's item rules under ``items``. Empty without rules.
    """
    out: dict[str, Any] = {}
    if isinstance(spec, Constrained):
        out.update(json_schema_keywords(spec.constraints, isinstance(spec.base, ListOf)))
        spec = spec.base
    if isinstance(spec, ListOf):
        item = rule_keys(spec.item)
        if item:
            out["items"] = item
    return out


def restricted_inline(spec: TypeSpec) -> bool:
    """Whether the document/literal WSDLs declare ``spec`` on its element,
    as an anonymous restriction of its base type, rather than as a named
    ``simpleType``: every constrained value but a list (an ``ArrayOf``
    type) and an enumeration of text (named after its class, which code
    generators make an enum). On ``soap11`` such a value's ``xsi:type`` is
    its base type.

    NOTE: suds (and Node's ``soap``) convert a value by its built-in type
    only when its element's type is that built-in type or an anonymous
    restriction of it: they do not follow a named ``simpleType`` to its
    base, so a ``Annotated[int, Le(30)]`` declared by name reaches them as
    text.

    .. versionadded:: 2.0
    """
    return (
        isinstance(spec, Constrained)
        and not isinstance(spec.base, ListOf)
        and not (spec.enum is not None and spec.base is str)
    )
