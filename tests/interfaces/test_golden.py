"""Wire conformance: responses, faults and descriptions against golden files.

Each case posts a request (or fetches a description) through the WSGI app and
compares the body with ``data/<interface>/<name>.json|.xml``:

* JSON is compared structurally (``json.loads`` equality); for responses and
  faults the key order is compared too, at every level, since Ladon 1.0
  clients may rely on it.
* XML is compared canonically (C14N 2.0 of both sides after dropping
  whitespace-only text between elements), so the pretty-printed golden files
  match the single-line wire form.

The golden files are the wire contract of COMPAT.md sections 3.1, 3.3 and
3.4; a diff here is a wire change and must be deliberate.

Regenerating: run with ``LADON_REGEN_GOLDEN=1`` to (re)write every golden
file from the current output instead of comparing, e.g.::

    LADON_REGEN_GOLDEN=1 python -m pytest tests/interfaces/test_golden.py

then review the diff (``git diff tests/interfaces/data``) before committing.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from webtest import TestApp
from webtest import TestResponse

DATA = Path(__file__).resolve().parent / "data"
REGEN = os.environ.get("LADON_REGEN_GOLDEN") == "1"

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


@dataclass(frozen=True)
class Case:
    """One golden comparison.

    :param iface: interface name (and data sub-directory).
    :param name: golden file stem.
    :param body: request body to POST, or None to GET the description.
    :param status: expected HTTP status.
    :param query: query string of a description request.
    """

    iface: str
    name: str
    body: bytes | None
    status: int = 200
    query: str = ""

    @property
    def is_json(self) -> bool:
        return self.iface == "jsonwsp"

    @property
    def path(self) -> Path:
        return DATA / self.iface / f"{self.name}.{'json' if self.is_json else 'xml'}"


def jsonwsp(method: str, args: dict[str, Any], **extra: Any) -> bytes:
    return json.dumps({"methodname": method, "args": args, **extra}).encode()


def soap(inner: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV}">'
        f"<SOAP-ENV:Body>{inner}</SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode()


JSONWSP_CASES = [
    Case("jsonwsp", "add", jsonwsp("add", {"a": 2, "b": 3})),
    Case("jsonwsp", "make_point", jsonwsp("make_point", {"x": 1, "y": 2})),
    Case("jsonwsp", "empty_polygon", jsonwsp("empty_polygon", {"name": "nothing"})),
    Case(
        "jsonwsp",
        "mirror_reflection_id",
        jsonwsp("mirror", {"p": {"x": 1, "y": 2}}, mirror={"k": 7, "s": "x"}, id="req-1"),
    ),
    Case("jsonwsp", "fault_client", jsonwsp("fail", {"how": "client"}, mirror="m1")),
    Case("jsonwsp", "fault_unknown_method", jsonwsp("nope", {})),
    Case("jsonwsp", "description", None),
    Case("jsonwsp", "description_doc", None, query="include_doc=1"),
]


def soap_cases(iface: str) -> list[Case]:
    return [
        Case(iface, "add", soap("<add><a>2</a><b>3</b></add>")),
        Case(
            iface,
            "squares",
            soap("<squares><numbers><item>2</item><item>5</item></numbers></squares>"),
        ),
        Case(iface, "make_point", soap("<make_point><x>1</x><y>2</y></make_point>")),
        Case(iface, "empty_polygon", soap("<empty_polygon><name>nothing</name></empty_polygon>")),
        Case(iface, "fault_client", soap("<fail><how>client</how></fail>"), status=500),
        Case(iface, "description", None),
    ]


CASES = JSONWSP_CASES + soap_cases("soap") + soap_cases("soap11")


def fetch(client: TestApp, case: Case) -> TestResponse:
    url = f"/Shapes/{case.iface}"
    if case.body is None:
        return client.get(f"{url}/description" + (f"?{case.query}" if case.query else ""))
    ctype = "application/json" if case.is_json else "text/xml; charset=utf-8"
    return client.post(url, case.body, headers={"Content-Type": ctype}, expect_errors=True)


# -- normal forms -------------------------------------------------------------------


def ordered(data: bytes) -> Any:
    """JSON with every object as a list of (key, value) pairs: order matters."""
    return json.loads(data, object_pairs_hook=list)


def canonical(data: bytes) -> str:
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False)
    tree = etree.parse(io.BytesIO(data), parser)
    text: str = etree.canonicalize(etree.tostring(tree).decode())
    return text


def pretty(case: Case, data: bytes) -> bytes:
    if case.is_json:
        return (json.dumps(json.loads(data), indent=2, ensure_ascii=False) + "\n").encode()
    parser = etree.XMLParser(remove_blank_text=True)
    root = etree.fromstring(data, parser)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.iface}-{c.name}")
def test_wire_output_matches_golden_file(client: TestApp, case: Case) -> None:
    resp = fetch(client, case)
    assert resp.status_int == case.status, resp.body[:500]
    expected_type = "application/json" if case.is_json else "text/xml"
    assert resp.content_type == expected_type
    if REGEN:
        case.path.parent.mkdir(parents=True, exist_ok=True)
        case.path.write_bytes(pretty(case, resp.body))
        return
    assert case.path.exists(), f"missing golden file {case.path}; run with LADON_REGEN_GOLDEN=1"
    golden = case.path.read_bytes()
    if case.is_json:
        assert json.loads(resp.body) == json.loads(golden)
        if case.body is not None:  # responses and faults: key order is part of the wire
            assert ordered(resp.body) == ordered(golden)
    else:
        assert canonical(resp.body) == canonical(golden)


# -- contract checks that do not depend on the golden files -------------------------------


@pytest.mark.parametrize(
    "case",
    [c for c in JSONWSP_CASES if c.body is not None and not c.name.startswith("fault")],
    ids=lambda c: c.name,
)
def test_jsonwsp_response_members_are_in_ladon1_order(client: TestApp, case: Case) -> None:
    keys = list(json.loads(fetch(client, case).body))
    expected = [
        "servicename",
        "servicenumber",
        "result",
        "reflection",
        "type",
        "version",
        "methodname",
        "id",
    ]
    assert keys == [k for k in expected if k in keys]
    assert keys[:3] == ["servicename", "servicenumber", "result"]


def test_jsonwsp_object_fields_are_alphabetical(client: TestApp) -> None:
    result = json.loads(fetch(client, JSONWSP_CASES[2]).body)["result"]
    assert list(result) == sorted(result)
    assert result["points"] == [] and result["tags"] == [] and result["style"] is None


def test_golden_files_exist_for_every_case() -> None:
    if REGEN:
        pytest.skip("regenerating")
    missing = [str(c.path.relative_to(DATA)) for c in CASES if not c.path.exists()]
    assert missing == []
