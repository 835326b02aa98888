"""Names kept from Ladon 1.0 for service modules written for it.

Python 2 is gone, so these are plain aliases.
"""

from __future__ import annotations

import datetime
import decimal

PORTABLE_STRING = str
PORTABLE_BYTES = bytes
PORTABLE_STRING_TYPES = (str, bytes)

#: The primitive Python types a method may take or return.
pytype_support = (int, float, bool, str, bytes, datetime.datetime, datetime.date, decimal.Decimal)

#: Python type -> XML Schema type (used in WSDL).
type_to_xsd = {
    int: "long",
    float: "double",  # Ladon 1.0 said decimal, which cannot carry 1e-05
    bool: "boolean",
    str: "string",
    bytes: "string",
    datetime.datetime: "dateTime",
    datetime.date: "date",
    decimal.Decimal: "decimal",
}

#: Python type -> JSON-WSP type name.
type_to_jsontype = {
    int: "number",
    float: "float",
    bool: "boolean",
    str: "string",
    bytes: "string",
    datetime.datetime: "datetime",
    datetime.date: "date",
    decimal.Decimal: "decimal",
}

#: Ladon 1.0's table of conversions allowed when serialising attributes.
safe_conversions = {
    int: (int,),
    float: (float, int),
    bool: (bool,),
    str: (str,),
    bytes: (bytes, str),
}
