"""Names kept from Ladon 1.0 for service modules written for it.

Python 2 is gone, so these are plain aliases. The type tables live in
:mod:`ladon.wire.schema`; they are offered here under their Ladon 1.0 names.
"""

from __future__ import annotations

import datetime
import decimal

from .wire.schema import JSON_TYPES
from .wire.schema import XSD_TYPES

PORTABLE_STRING = str
PORTABLE_BYTES = bytes
PORTABLE_STRING_TYPES = (str, bytes)

#: The primitive Python types a method may take or return.
pytype_support = (int, float, bool, str, bytes, datetime.datetime, datetime.date, decimal.Decimal)

#: Python type -> XML Schema type (used in WSDL); a copy of
#: :data:`ladon.wire.schema.XSD_TYPES`.
type_to_xsd = dict(XSD_TYPES)

#: Python type -> JSON-WSP type name; a copy of :data:`ladon.wire.schema.JSON_TYPES`.
type_to_jsontype = dict(JSON_TYPES)

#: Ladon 1.0's table of conversions allowed when serialising attributes.
safe_conversions = {
    int: (int,),
    float: (float, int),
    bool: (bool,),
    str: (str,),
    bytes: (bytes, str),
}
