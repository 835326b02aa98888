"""Declared constraints are enforced before the method runs, identically on
every interface (issue 16): for every interface and every kind of
constraint, the boundary values pass and the first value beyond fails with
the protocol's fault naming the path and the broken rule. A result that
breaks its declared rules is a server fault, logged."""

from __future__ import annotations

import decimal
import enum
import json
import logging
import xmlrpc.client
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from lxml import etree
from webtest import TestApp

from ladon import ladonize
from ladon.interfaces import DEFAULT_INTERFACES
from ladon.server.wsgi import LadonWSGIApplication

SERVICES = Path(__file__).resolve().parents[1] / "services"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
#: Every interface that calls methods (soap's alias is the same class).
INTERFACES = sorted(n for n in DEFAULT_INTERFACES if n != "soapdocumentliteral")


@pytest.fixture(scope="module")
def client() -> Iterator[TestApp]:
    app = LadonWSGIApplication(["constrained"], [str(SERVICES)])
    yield TestApp(app)
    app.close()


@dataclass
class Answer:
    ok: bool
    value: Any = None
    message: str = ""
    status: int = 200


def _soap_value(value: Any) -> str:
    if isinstance(value, list):
        return "".join(f"<item>{_soap_value(v)}</item>" for v in value)
    if isinstance(value, dict):
        return "".join(f"<{k}>{_soap_value(v)}</{k}>" for k, v in value.items())
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


def _soap(client: TestApp, iface: str, method: str, args: dict[str, Any]) -> Answer:
    inner = "".join(f"<{k}>{_soap_value(v)}</{k}>" for k, v in args.items())
    body = (
        f'<e:Envelope xmlns:e="{SOAP_ENV}"><e:Body><m:{method} xmlns:m="urn:Limits">{inner}'
        f"</m:{method}></e:Body></e:Envelope>"
    )
    r = client.post(f"/Limits/{iface}", body, content_type="text/xml", expect_errors=True)
    root = etree.fromstring(r.body)
    fault = root.find(f".//{{{SOAP_ENV}}}Fault")
    if fault is not None:
        return Answer(False, message=fault.findtext("faultstring") or "", status=r.status_int)
    response = root.find(f"{{{SOAP_ENV}}}Body")[0]  # type: ignore[index]
    return Answer(True, etree.tostring(response, encoding="unicode"), status=r.status_int)


def _soap12(client: TestApp, method: str, args: dict[str, Any]) -> Answer:
    inner = "".join(f"<m:{k}>{_soap_value(v)}</m:{k}>" for k, v in args.items())
    body = (
        f'<e:Envelope xmlns:e="{SOAP12_ENV}"><e:Body><m:{method} xmlns:m="urn:Limits">{inner}'
        f"</m:{method}></e:Body></e:Envelope>"
    )
    r = client.post("/Limits/soap12", body, content_type="application/soap+xml", expect_errors=True)
    root = etree.fromstring(r.body)
    fault = root.find(f".//{{{SOAP12_ENV}}}Fault")
    if fault is not None:
        text = fault.findtext(f"{{{SOAP12_ENV}}}Reason/{{{SOAP12_ENV}}}Text") or ""
        return Answer(False, message=text, status=r.status_int)
    response = root.find(f"{{{SOAP12_ENV}}}Body")[0]  # type: ignore[index]
    return Answer(True, etree.tostring(response, encoding="unicode"), status=r.status_int)


def _json(client: TestApp, iface: str, method: str, args: dict[str, Any]) -> Answer:
    if iface == "jsonwsp":
        body: Any = {"methodname": method, "args": args}
    elif iface == "jsonrpc10":
        body = {"method": method, "params": list(args.values()), "id": 1}
    elif iface == "jsonrpc":
        body = {"jsonrpc": "2.0", "method": method, "params": args, "id": 1}
    else:
        r = client.post(
            f"/Limits/http/{method}",
            json.dumps(args, default=str),
            content_type="application/json",
            expect_errors=True,
        )
        if r.status_int >= 400:
            assert r.content_type == "application/problem+json"
            assert r.json["status"] == r.status_int
            return Answer(False, message=r.json["detail"], status=r.status_int)
        return Answer(True, r.json, status=r.status_int)
    r = client.post(
        f"/Limits/{iface}", json.dumps(body, default=str), content_type="application/json"
    )
    data = r.json
    if iface == "jsonwsp":
        if data["type"] == "jsonwsp/fault":
            return Answer(False, message=data["fault"]["string"], status=r.status_int)
        return Answer(True, data["result"])
    if iface == "jsonrpc":
        if "error" in data:
            return Answer(False, message=data["error"]["message"], status=data["error"]["code"])
        return Answer(True, data["result"])
    if data["error"] is not None:
        return Answer(False, message=data["error"]["string"], status=r.status_int)
    return Answer(True, data["result"])


def _xmlrpc(client: TestApp, method: str, args: dict[str, Any]) -> Answer:
    values = [str(v) if isinstance(v, decimal.Decimal) else v for v in args.values()]
    body = xmlrpc.client.dumps(tuple(values), method, allow_none=True)
    r = client.post("/Limits/xmlrpc", body, content_type="text/xml")
    try:
        (result,), _ = xmlrpc.client.loads(r.body)
    except xmlrpc.client.Fault as fault:
        return Answer(False, message=fault.faultString, status=fault.faultCode)
    return Answer(True, result)


def call(client: TestApp, iface: str, method: str, **args: Any) -> Answer:
    if iface in ("soap", "soap11"):
        return _soap(client, iface, method, args)
    if iface == "soap12":
        return _soap12(client, method, args)
    if iface == "xmlrpc":
        return _xmlrpc(client, method, args)
    return _json(client, iface, method, args)


@dataclass(frozen=True)
class Case:
    """A method, its boundary values (accepted), the first values beyond
    (refused) and what the refusal says."""

    method: str
    good: tuple[Any, ...]
    bad: tuple[Any, ...]
    rule: str
    path: str = "value"
    arg: str = "value"


def _item(**kw: Any) -> dict[str, Any]:
    return {"name": "tea", "price": "1.50", "quantity": 1, "color": "red", **kw}


CASES = [
    Case("ge", (1,), (0,), "must be ≥ 1"),
    Case("gt", (0.001,), (0.0,), "must be > 0"),
    Case("le", (64,), (65,), "must be ≤ 64"),
    Case("lt", (1.4999,), (1.5,), "must be < 1.5"),
    Case("multiple", (0, 5, -10), (6,), "must be a multiple of 5"),
    Case("minlen", ("ab",), ("a",), "must have at least 2 characters"),
    Case("maxlen", ("abc",), ("abcd",), "must have at most 3 characters"),
    Case("length", ([1], [1, 2]), ([1, 2, 3],), "must have at most 2 items"),
    Case("interval", (1, 9), (0, 10), "must be"),
    Case("pattern", ("abc",), ("abc1",), "must match [a-z]+"),
    Case("color", ("red", "green"), ("blue",), "must be one of red, green"),
    Case("size", ("S", "L"), ("XL",), "must be one of S, M, L"),
    Case("items", ([0, 3],), ([0, -1],), "must be ≥ 0", path="value[1]"),
    Case(
        "order",
        ([_item(), _item(price="0", quantity=99), _item(color="green")],),
        ([_item(), _item(), _item(price="-0.01")],),
        "must be ≥ 0",
        path="items[2].price",
        arg="items",
    ),
    Case(
        "legacy",
        ({"code": "ABC", "weight": 0.5, "tags": ["a", "b"]},),
        ({"code": "ABCD", "weight": 0.5, "tags": []},),
        "must match [A-Z]{3}",
        path="item.code",
        arg="item",
    ),
]


def _ids(case: Case) -> str:
    return case.method


@pytest.mark.parametrize("iface", INTERFACES)
@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_boundary_values_pass_and_the_first_beyond_fails_naming_path_and_rule(
    client: TestApp, iface: str, case: Case
) -> None:
    for good in case.good:
        answer = call(client, iface, case.method, **{case.arg: good})
        assert answer.ok, f"{iface} {case.method}({good!r}) refused: {answer.message}"
    for bad in case.bad:
        answer = call(client, iface, case.method, **{case.arg: bad})
        assert not answer.ok, f"{iface} {case.method}({bad!r}) was accepted"
        assert f'Argument "{case.path}": {case.rule}' in answer.message, answer.message
        if iface == "http":
            assert answer.status == 422
        elif iface == "jsonrpc":
            assert answer.status == -32602  # Invalid params
        elif iface in ("soap", "soap11"):
            assert answer.status == 500  # SOAP faults: HTTP 500, Client code


def test_the_problem_names_the_path_of_the_broken_value(client: TestApp) -> None:
    r = client.post_json(
        "/Limits/http/order",
        {"items": [_item(), _item(), _item(price="-1")]},
        expect_errors=True,
    )
    assert r.status_int == 422
    assert r.json["path"] == "items[2].price"
    assert r.json["detail"] == 'Argument "items[2].price": must be ≥ 0, got -1'


def test_an_enum_arrives_as_its_member_and_leaves_as_its_value(client: TestApp) -> None:
    r = client.post_json("/Limits/http/color", {"value": "green"})
    assert r.json == "green"


@pytest.mark.parametrize("iface", INTERFACES)
def test_a_result_breaking_its_rule_is_a_server_fault_and_logged(
    client: TestApp, iface: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert call(client, iface, "double", value=5).ok  # 10: still ≤ 10
    with caplog.at_level(logging.ERROR, logger="ladon"):
        answer = call(client, iface, "double", value=6)
    assert not answer.ok
    assert 'Method result "result": must be ≤ 10, got 12' in answer.message
    assert any("must be ≤ 10" in r.getMessage() for r in caplog.records)
    if iface == "http":
        assert answer.status == 500
    with caplog.at_level(logging.ERROR, logger="ladon"):
        answer = call(client, iface, "paint", name="bad")
    assert not answer.ok and "must be one of red, green" in answer.message


class Shade(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.Enum):
    LOW = 1
    HIGH = 2


class Tints:
    """Enumerations with defaults."""

    @ladonize()
    def tint(self, color: Shade = Shade.GREEN, level: Level = Level.HIGH) -> str:
        return f"{color.value} {level.value}"


def test_an_enum_default_is_described_as_its_value() -> None:
    # what a client sends back to get the default: its value, not Color.GREEN
    app = LadonWSGIApplication([Tints])
    client = TestApp(app)
    for iface in ("jsonwsp", "jsonrpc10"):
        params = client.get(f"/Tints/{iface}/description").json["methods"]["tint"]["params"]
        assert (params["color"]["default"], params["level"]["default"]) == ("green", "2")
    page = client.get("/Tints").text
    assert "default <code>green</code>" in page and "default <code>2</code>" in page
    assert "Shade.GREEN" not in page and "Level.HIGH" not in page
    assert client.post_json("/Tints/jsonwsp", {"methodname": "tint", "args": {}}).json[
        "result"
    ] == ("green 2")
    app.close()


#: (method, text Python's int()/float()/Decimal() read but XML Schema's
#: lexical space does not, what the fault says)
LEXICAL = [
    ("amount", "1e1", "expected a decimal number as XML Schema writes it"),
    ("amount", "\u0663", "expected a decimal number as XML Schema writes it"),
    ("amount", "1_000", "expected a decimal number as XML Schema writes it"),
    ("amount", "\xa01", "expected a decimal number as XML Schema writes it"),
    ("amount", "Infinity", "expected a finite decimal number"),
    ("gt", "\u0661", "expected a number as XML Schema writes it"),
    ("gt", "1_0", "expected a number as XML Schema writes it"),
    ("ge", "1_000", "expected an integer as XML Schema writes it"),
    ("ge", "\u0661", "expected an integer as XML Schema writes it"),
]


@pytest.mark.parametrize("iface", INTERFACES)
@pytest.mark.parametrize(("method", "text", "says"), LEXICAL, ids=ascii)
def test_a_number_as_text_outside_the_published_lexical_space_is_a_wrong_argument(
    client: TestApp, iface: str, method: str, text: str, says: str
) -> None:
    """Text is read as the descriptions publish numbers (xsd:decimal, the
    OpenAPI pattern, xsd:double, xsd:long), not as Python reads it, with
    the fault of any argument of the wrong type on that interface."""
    wrong = call(client, iface, method, value="abc")
    answer = call(client, iface, method, value=text)
    assert not wrong.ok and not answer.ok, answer
    assert (answer.status, answer.message.split(":")[0]) == (
        wrong.status,
        wrong.message.split(":")[0],
    )
    if iface == "http" and method != "amount":
        assert "expected a" in answer.message  # JSON text for a number: the wrong type
    else:
        assert answer.message.startswith(f'Argument "value": {says}'), answer.message
        assert answer.message.endswith(f", got {text!r}"), answer.message


@pytest.mark.parametrize("iface", INTERFACES)
def test_numbers_in_xml_schema_form_pass(client: TestApp, iface: str) -> None:
    assert call(client, iface, "amount", value=" -1.50 ").ok
    assert call(client, iface, "amount", value=".5").ok
    if iface != "http":  # numbers as text: not in the http interface's JSON
        assert call(client, iface, "gt", value="1.5E+2").ok
        assert call(client, iface, "ge", value=" +7 ").ok


# -- list fields with a length rule: their default, and nil ---------------------------------

from typing import Annotated  # noqa: E402

from annotated_types import MaxLen  # noqa: E402

from ladon.types.ladontype import LadonType  # noqa: E402


class Crate(LadonType):
    """A type whose list fields have length rules and defaults."""

    size: int = 0
    labels: Annotated[list[str], MaxLen(2)] = ["fragile"]
    notes: Annotated[list[str], MaxLen(3)] = []
    plain: list[str] = []


class Crates:
    @ladonize()
    def echo(self, crate: Crate) -> Crate:
        return crate

    @ladonize()
    def fresh(self) -> Crate:
        crate = Crate()
        crate.labels.append("kept")  # a copy: the default stays as declared
        return crate


@pytest.fixture(scope="module")
def crates() -> Iterator[TestApp]:
    app = LadonWSGIApplication([Crates])
    yield TestApp(app)
    app.close()


def test_a_list_field_with_a_length_rule_takes_its_default(crates: TestApp) -> None:
    r = crates.post_json("/Crates/http/echo", {"crate": {}})
    assert r.json == {"labels": ["fragile"], "notes": [], "plain": [], "size": 0}
    first = crates.post_json("/Crates/http/fresh", {}).json
    again = crates.post_json("/Crates/http/fresh", {}).json
    assert first["labels"] == again["labels"] == ["fragile", "kept"]
    doc = crates.get("/Crates/http/description").json
    schema = doc["components"]["schemas"]["Crate"]
    assert "labels" not in schema.get("required", []) and "notes" not in schema.get("required", [])
    assert schema["properties"]["labels"]["default"] == ["fragile"]
    assert "maxItems" in json.dumps(schema["properties"]["labels"])


@pytest.mark.parametrize("iface", ["soap", "soap11", "soap12"])
def test_wsdls_declare_nil_only_where_the_server_takes_it(crates: TestApp, iface: str) -> None:
    # a nil plain list is read as []; a nil list with a length rule is refused,
    # so its element is not nillable
    wsdl = etree.fromstring(crates.get(f"/Crates/{iface}/description").body)
    xs = "{http://www.w3.org/2001/XMLSchema}"
    (crate,) = wsdl.iterfind(f".//{xs}complexType[@name='Crate']")
    nillable = {e.get("name"): e.get("nillable") for e in crate.iter(f"{xs}element")}
    assert nillable["plain"] == "true"
    assert nillable["labels"] is None and nillable["notes"] is None
