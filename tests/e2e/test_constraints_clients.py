"""Declared constraints seen by real SOAP clients (issue 16): zeep and suds
load the WSDL with its XSD restrictions, call within the rules, and get the
SOAP fault naming the path and the rule beyond them (zeep does not check
facets itself: the server does, before the method runs)."""

from __future__ import annotations

import decimal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import zeep
import zeep.exceptions
from suds.client import Client as SudsClient
from werkzeug.serving import make_server
from zeep.transports import Transport

from ladon.server.wsgi import LadonWSGIApplication

pytestmark = pytest.mark.e2e
SERVICES = Path(__file__).resolve().parents[1] / "services"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    app = LadonWSGIApplication(["constrained"], [str(SERVICES)])
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)
    app.close()


@pytest.fixture(scope="module", params=["soap", "soap11"])
def limits(server: str, request: pytest.FixtureRequest) -> Any:
    session = requests.Session()
    client = zeep.Client(
        f"{server}/Limits/{request.param}/description",
        transport=Transport(session=session, timeout=5, operation_timeout=5),
    )
    yield client.service
    session.close()


def test_zeep_reads_the_restrictions(server: str) -> None:
    client = zeep.Client(f"{server}/Limits/soap/description")
    ge = client.get_element("{http://tempuri.org/}ge").type.elements[0][1].type
    assert int in ge.accepted_types  # an anonymous restriction of xsd:long
    color = client.get_type("{http://schemas.microsoft.com/2003/10/Serialization/Arrays}Color")
    assert color.name == "Color"


@pytest.mark.parametrize(
    ("method", "good", "bad", "says"),
    [
        ("ge", 1, 0, 'Argument "value": must be ≥ 1, got 0'),
        ("le", 64, 65, 'Argument "value": must be ≤ 64, got 65'),
        ("pattern", "abc", "ab1", 'Argument "value": must match [a-z]+'),
        ("maxlen", "abc", "abcd", "must have at most 3 characters"),
        ("color", "green", "blue", "must be one of red, green"),
    ],
)
def test_zeep_calls_within_and_beyond_the_rules(
    limits: Any, method: str, good: Any, bad: Any, says: str
) -> None:
    assert getattr(limits, method)(value=good) == good
    with pytest.raises(zeep.exceptions.Fault) as info:
        getattr(limits, method)(value=bad)
    assert says in info.value.message


def test_zeep_gets_the_path_of_a_field_inside_a_list(limits: Any) -> None:
    item = {"name": "tea", "price": decimal.Decimal("1.5"), "quantity": 2, "color": "red"}
    assert limits.order(items={"item": [item, item]}) == decimal.Decimal("6.0")
    bad = {**item, "price": decimal.Decimal("-1")}
    with pytest.raises(zeep.exceptions.Fault) as info:
        limits.order(items={"item": [item, item, bad]})
    assert 'Argument "items[2].price": must be ≥ 0' in info.value.message


def test_suds_calls_within_and_beyond_the_rules(server: str) -> None:
    client = SudsClient(f"{server}/Limits/soap/description", cache=None, timeout=5)
    assert client.service.interval(5) == 5
    with pytest.raises(Exception) as info:
        client.service.interval(10)
    assert "must be < 10" in str(info.value)


@pytest.mark.parametrize("iface", ["soap", "soap11"])
def test_suds_reads_constrained_results_by_their_base_type(server: str, iface: str) -> None:
    """As for plain results: ints, floats and Decimals, not suds's Text
    (suds converts by a built-in type only: on soap the restriction is
    anonymous in the element, on soap11 the answer's xsi:type is the base
    type)."""
    client = SudsClient(f"{server}/Limits/{iface}/description", cache=None, timeout=5)
    doubled = client.service.double(3)  # -> Annotated[int, Le(10)]
    assert (type(doubled), doubled) == (int, 6)
    ranks = client.service.ranks(3)  # -> list[Annotated[int, Ge(0)]]
    assert [(type(r), r) for r in ranks.item] == [(int, 0), (int, 1), (int, 2)]
    item = {"name": "tea", "price": decimal.Decimal("1.50"), "quantity": 2, "color": "green"}
    got = client.service.echo_item(item)  # constrained fields, an enum
    assert (type(got.quantity), got.quantity) == (int, 2)
    assert (type(got.price), got.price) == (decimal.Decimal, decimal.Decimal("1.50"))
    assert (str(got.name), str(got.color)) == ("tea", "green")
    legacy = client.service.legacy({"code": "ABC", "weight": 0.5, "tags": {"item": ["a"]}})
    assert (type(legacy.weight), legacy.weight) == (float, 0.5)
    # and zeep, which reads every form, agrees
    z = zeep.Client(f"{server}/Limits/{iface}/description").service
    assert z.double(value=3) == 6 and z.ranks(value=3) == [0, 1, 2]
