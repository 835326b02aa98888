"""Hypothesis strategies for request bodies and wire values, shared by the
property tests (tests/fuzz/test_properties.py) and the long fuzzing run
(bench/fuzz_long.py)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
#: header blocks a SOAP request may carry: WS-Addressing (right or wrong),
#: blocks marked mustUnderstand for Ladon, another node or nobody
HEADER_BLOCKS = [
    f'<a:Action xmlns:a="{WSA}">http://localhost/Shapes/soap/add</a:Action>',
    f'<a:Action xmlns:a="{WSA}">urn:Shapes:ShapesPortType:addRequest</a:Action>',
    f'<a:Action xmlns:a="{WSA}">urn:wrong</a:Action>',
    f'<a:Action xmlns:a="{WSA}"/>',
    f'<a:MessageID xmlns:a="{WSA}">urn:uuid:1</a:MessageID>',
    f'<a:ReplyTo xmlns:a="{WSA}"><a:Address>{WSA}/anonymous</a:Address></a:ReplyTo>',
    f'<a:ReplyTo xmlns:a="{WSA}"><a:Address>http://x/</a:Address></a:ReplyTo>',
    f'<a:FaultTo xmlns:a="{WSA}"/>',
    '<t:T xmlns:t="urn:t" e:mustUnderstand="1"/>',
    '<t:T xmlns:t="urn:t" e:mustUnderstand="true" e:role="urn:other"/>',
    '<t:T xmlns:t="urn:t" e:mustUnderstand="yes"/>',
    "<untyped/>",
]
METHODS = [
    "add",
    "echo",
    "squares",
    "mirror",
    "echo_polygon",
    "divide",
    "half",
    "negate",
    "nope",
    "",
]

#: plain wire values: what a JSON or XML-RPC decoder can hand over
plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.binary(max_size=20),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(["x", "y", "name", "points", "style", "tags", "a"]),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)

json_value = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=15,
)


@st.composite
def json_request(draw: Any, iface: str) -> bytes:
    """A request that is JSON and often nearly right for ``iface``."""
    method = draw(st.sampled_from(METHODS) | st.text(max_size=10))
    args = draw(
        st.dictionaries(
            st.sampled_from(["a", "b", "text", "numbers", "p", "polygon", "x"]),
            json_value,
            max_size=4,
        )
    )
    if iface == "jsonwsp":
        req: Any = {"methodname": method, "args": args}
    elif iface == "jsonrpc10":
        req = {"method": method, "params": list(args.values()), "id": draw(json_value)}
    else:
        req = {
            "jsonrpc": "2.0",
            "method": method,
            "params": draw(st.sampled_from([list(args.values()), args])),
            "id": draw(st.integers() | st.text(max_size=5) | st.none()),
        }
    mutated = draw(st.sampled_from(["as-is", "drop-key", "extra-key", "wrong-type", "batch"]))
    if mutated == "drop-key" and req:
        req.pop(draw(st.sampled_from(sorted(req))))
    elif mutated == "extra-key":
        req[draw(st.text(max_size=6))] = draw(json_value)
    elif mutated == "wrong-type":
        req = draw(json_value)
    elif mutated == "batch":
        req = [req, draw(json_value)]
    return json.dumps(req).encode()


def _xml_text(value: Any) -> str:
    if isinstance(value, dict):
        return "".join(f"<{k}>{_xml_text(v)}</{k}>" for k, v in value.items() if k.isidentifier())
    if isinstance(value, list):
        return "".join(f"<item>{_xml_text(v)}</item>" for v in value)
    text = "" if value is None else str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;")


@st.composite
def xml_request(draw: Any, iface: str) -> bytes:
    """A request that is XML and often nearly right for ``iface``."""
    method = draw(st.sampled_from(METHODS))
    args = draw(
        st.dictionaries(
            st.sampled_from(["a", "b", "text", "numbers", "p", "x"]), json_value, max_size=4
        )
    )
    inner = "".join(f"<{k}>{_xml_text(v)}</{k}>" for k, v in args.items())
    if iface == "xmlrpc":
        params = "".join(
            f"<param><value><{t}>{_xml_text(v)}</{t}></value></param>"
            for t, v in zip(
                draw(
                    st.lists(
                        st.sampled_from(
                            [
                                "int",
                                "string",
                                "double",
                                "boolean",
                                "base64",
                                "nil",
                                "struct",
                                "array",
                                "i8",
                                "dateTime.iso8601",
                            ]
                        ),
                        min_size=len(args),
                        max_size=len(args),
                    )
                ),
                args.values(),
                strict=True,
            )
        )
        body = (
            f"<methodCall><methodName>{method}</methodName><params>{params}</params></methodCall>"
        )
    else:
        env = SOAP12_ENV if iface == "soap12" else SOAP_ENV
        blocks = draw(st.lists(st.sampled_from(HEADER_BLOCKS), max_size=3))
        header = f"<e:Header>{''.join(blocks)}</e:Header>" if blocks else ""
        # soap12 reads the operation element in the service's namespace only
        op = f"o:{method or 'x'}" if iface == "soap12" else method or "x"
        decl = ' xmlns:o="urn:Shapes"' if iface == "soap12" else ""
        body = (
            f'<e:Envelope xmlns:e="{env}">{header}<e:Body><{op}{decl}>{inner}'
            f"</{op}></e:Body></e:Envelope>"
        )
    data = body.encode()
    cut = draw(st.sampled_from(["as-is", "truncate", "flip"]))
    if cut == "truncate" and data:
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif cut == "flip" and data:
        i = draw(st.integers(0, len(data) - 1))
        data = data[:i] + bytes([data[i] ^ draw(st.integers(1, 255))]) + data[i + 1 :]
    return data
