"""Every WSDL is valid, and every answer is what its WSDL says.

* Each WSDL (``soap``, ``soap11``, ``soap12``; Ladon 1.0 naming and
  ``soap_naming="python"``) validates against the WSDL 1.1 schema, the
  SOAP 1.1 and SOAP 1.2 binding schemas and the two WS-Addressing
  vocabularies it uses (``tests/schemas``, see its README), with
  ``xmlschema``.
* The schemas embedded in each WSDL load in ``xmlschema``.
* For every example service (``examples/``) and every method, tasks
  included, a call is made through the WSGI app and the answer's body is
  validated against the WSDL's own schema: the response element on the
  document/literal interfaces, the typed ``result`` part on rpc/encoded.
  SOAP 1.2 faults are validated against the SOAP 1.2 envelope schema.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import importlib.util
import sys
import time
import types
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import xmlschema
from lxml import etree
from werkzeug.test import Client

from ladon.interfaces.soap import SOAPBase
from ladon.ladonizer.model import MethodInfo
from ladon.ladonizer.model import MethodKind
from ladon.ladonizer.model import ServiceInfo
from ladon.server.wsgi import LadonWSGIApplication
from ladon.types.ladontype import LadonType
from ladon.types.spec import Constrained
from ladon.types.spec import ListOf
from ladon.types.spec import TypeSpec
from ladon.types.spec import is_attachment

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "tests" / "schemas"
EXAMPLES = ROOT / "examples"
TEST_SERVICES = ROOT / "tests" / "services"

WSDL = "http://schemas.xmlsoap.org/wsdl/"
XSD = "http://www.w3.org/2001/XMLSchema"
SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
IFACES = ["soap", "soap11", "soap12"]
NAMINGS = ["ladon10", "python"]
EXAMPLE_MODULES = ["calculator", "tasks", "attachments", "templates"]
TEST_MODULES = ["legacy_shapes", "modern_types"]


@pytest.fixture(scope="module")
def wsdl_schema() -> xmlschema.XMLSchema:
    names = ["wsdl11", "wsdl11-soap11", "wsdl11-soap12", "wsa-metadata", "wsa-wsdl"]
    return xmlschema.XMLSchema([str(SCHEMAS / f"{n}.xsd") for n in names])


@pytest.fixture(scope="module")
def envelope12_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMAS / "soap12-envelope.xsd"))


def load_example(name: str) -> types.ModuleType:
    """An example module, imported under a name of its own (``tasks`` is
    also the name of a test package)."""
    qualified = f"_ladon_wsdl_example_{name}"
    if qualified in sys.modules:
        return sys.modules[qualified]
    spec = importlib.util.spec_from_file_location(qualified, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module
    spec.loader.exec_module(module)
    return module


def build(naming: str = "ladon10") -> LadonWSGIApplication:
    modules = [load_example(m) for m in EXAMPLE_MODULES]
    return LadonWSGIApplication([*modules, *TEST_MODULES], [str(TEST_SERVICES)], soap_naming=naming)


@pytest.fixture(scope="module")
def apps() -> Iterator[dict[str, LadonWSGIApplication]]:
    # NOTE: the task examples sleep between steps; here time may not pass
    tasks_example: Any = load_example("tasks")
    templates_example: Any = load_example("templates")
    saved = (
        tasks_example.time,
        tasks_example.STEP_SECONDS,
        templates_example.STEP_SECONDS,
    )
    tasks_example.time = SimpleNamespace(sleep=lambda s: None)
    tasks_example.STEP_SECONDS = 0.0
    templates_example.STEP_SECONDS = 0.0
    built = {n: build(n) for n in NAMINGS}
    yield built
    for app in built.values():
        app.close()
    (
        tasks_example.time,
        tasks_example.STEP_SECONDS,
        templates_example.STEP_SECONDS,
    ) = saved


def all_services() -> list[str]:
    app = build()
    names = [s.name for s in app.services]
    app.close()
    return names


SERVICES = all_services()
EXAMPLE_SERVICES = [s for s in SERVICES if s not in ("Shapes", "Ledger")]


def wsdl_of(app: LadonWSGIApplication, service: str, iface: str) -> etree._Element:
    resp = Client(app).get(f"/{service}/{iface}/description")
    assert resp.status_code == 200
    return etree.fromstring(resp.data)


def embedded_schema(wsdl: etree._Element) -> xmlschema.XMLSchema:
    sources: list[Any] = [
        etree.tostring(s).decode() for s in wsdl.iterfind(f"{{{WSDL}}}types/{{{XSD}}}schema")
    ]
    return xmlschema.XMLSchema(sources)


# -- the WSDLs ------------------------------------------------------------------------------


@pytest.mark.parametrize("naming", NAMINGS)
@pytest.mark.parametrize("iface", IFACES)
@pytest.mark.parametrize("service", SERVICES)
def test_wsdl_validates_against_the_wsdl_and_soap_binding_schemas(
    apps: dict[str, LadonWSGIApplication],
    wsdl_schema: xmlschema.XMLSchema,
    service: str,
    iface: str,
    naming: str,
) -> None:
    wsdl = wsdl_of(apps[naming], service, iface)
    errors = [str(e)[:500] for e in wsdl_schema.iter_errors(wsdl)]
    assert errors == []
    embedded_schema(wsdl)  # loads, or raises


@pytest.mark.parametrize("iface", IFACES)
def test_a_wsdl_asking_for_a_username_token_validates(
    wsdl_schema: xmlschema.XMLSchema, iface: str
) -> None:
    import auth_app

    from ladon.auth import UsernameToken

    app = LadonWSGIApplication([auth_app.Vault], auth=[UsernameToken(auth_app.PASSWORDS.get)])
    try:
        wsdl = wsdl_of(app, "Vault", iface)
    finally:
        app.close()
    assert wsdl[0].tag == "{http://www.w3.org/ns/ws-policy}Policy"  # where WSDL 1.1 takes it
    errors = [str(e)[:500] for e in wsdl_schema.iter_errors(wsdl)]
    assert errors == []


def test_the_wsdl_check_catches_a_broken_wsdl(
    apps: dict[str, LadonWSGIApplication], wsdl_schema: xmlschema.XMLSchema
) -> None:
    wsdl = wsdl_of(apps["python"], "Calculator", "soap12")
    body = wsdl.find(f".//{{{WSDL}}}binding/{{{WSDL}}}operation/{{{WSDL}}}input/*")
    assert body is not None
    body.set("use", "literally")
    assert not wsdl_schema.is_valid(wsdl)
    port = wsdl.find(f".//{{{WSDL}}}port")
    assert port is not None
    del port.attrib["binding"]
    assert len(list(wsdl_schema.iter_errors(wsdl))) >= 2


def test_the_embedded_schema_check_catches_a_broken_schema(
    apps: dict[str, LadonWSGIApplication],
) -> None:
    wsdl = wsdl_of(apps["python"], "Calculator", "soap12")
    el = wsdl.find(f".//{{{XSD}}}element")
    assert el is not None
    el.set("type", "tns:NoSuchType")
    with pytest.raises(xmlschema.XMLSchemaException):
        embedded_schema(wsdl)


# -- the answers ----------------------------------------------------------------------------


def sample(spec: TypeSpec, depth: int = 0) -> Any:
    """A value of ``spec`` as nested dicts, lists and text (within the
    rules of a constrained spec the examples declare: an enum's first
    value, else the base type's sample)."""
    if isinstance(spec, Constrained):
        if spec.enum is not None:
            return str(next(iter(spec.enum)).value)
        return sample(spec.base, depth)
    if isinstance(spec, ListOf):
        return [sample(spec.item, depth + 1) for _ in range(2)] if depth < 4 else []
    if isinstance(spec, type) and issubclass(spec, LadonType):
        return {
            f.name: sample(f.type, depth + 1)
            for f in spec.ladon_type_info().fields
            if depth < 4 or not f.optional
        }
    if is_attachment(spec):
        return base64.b64encode(b"some bytes").decode()
    samples: dict[object, str] = {
        int: "3",
        float: "2.5",
        bool: "true",
        str: "text",
        bytes: "bytes",
        datetime.datetime: "2024-01-02T03:04:05Z",
        datetime.date: "2024-01-02",
        decimal.Decimal: "1.25",
    }
    return samples[spec]


def markup(name: str, value: Any, python: bool) -> str:
    tag = name if python else name.replace("_", "-")
    if isinstance(value, dict):
        inner = "".join(markup(k, v, python) for k, v in value.items())
    elif isinstance(value, list):
        inner = "".join(markup("item", v, python) for v in value)
    else:
        inner = str(value)
    return f"<{tag}>{inner}</{tag}>"


def call(
    app: LadonWSGIApplication, service: str, iface: str, m: MethodInfo, args: dict[str, Any]
) -> etree._Element:
    soap = app.interfaces["soap"]
    assert issubclass(soap, SOAPBase)
    python = iface == "soap12" or soap.naming.python
    env = SOAP12_ENV if iface == "soap12" else SOAP11_ENV
    params = "".join(markup(k, v, python) for k, v in args.items())
    # Python naming: the operation element in the service's namespace (Ladon
    # 1.0's naming takes it unqualified too)
    info = app.service(service)
    assert info is not None
    op = f'o:{m.name} xmlns:o="{info.namespace}"' if python else m.name
    body = (
        f'<e:Envelope xmlns:e="{env}"><e:Body><{op}>{params}</{op.split()[0]}></e:Body>'
        "</e:Envelope>"
    )
    ctype = "application/soap+xml" if iface == "soap12" else "text/xml"
    resp = Client(app).post(f"/{service}/{iface}", data=body.encode(), content_type=ctype)
    return etree.fromstring(resp.data)


def body_child(envelope: etree._Element) -> etree._Element:
    env = etree.QName(envelope).namespace
    found = envelope.find(f"{{{env}}}Body")
    assert found is not None
    return found[0]


def is_fault(el: etree._Element) -> bool:
    return etree.QName(el).localname == "Fault"


def check_answer(
    schema: xmlschema.XMLSchema,
    envelope12: xmlschema.XMLSchema,
    iface: str,
    m: MethodInfo,
    envelope: etree._Element,
    wsdl: etree._Element,
) -> None:
    el = body_child(envelope)
    if is_fault(el):
        if iface == "soap12":
            envelope12.validate(envelope)
        return
    if iface != "soap11":
        errors = [str(e)[:600] for e in schema.iter_errors(el)]
        assert errors == [], etree.tostring(el)[:1000]
        return
    # rpc/encoded: the result part has the type its message declares
    found = wsdl.xpath(f"w:message[@name='{m.name}Response']/w:part", namespaces={"w": WSDL})
    assert isinstance(found, list)
    (part,) = [e for e in found if isinstance(e, etree._Element)]
    part_type_name = part.get("type")
    assert part_type_name is not None
    ns = wsdl.get("targetNamespace")
    part_type = part_type_name.split(":")[1]
    type_ns = XSD if part_type_name.startswith("xsd:") else ns
    result = el.find("result")
    assert result is not None
    source = (
        f'<xs:schema xmlns:xs="{XSD}" xmlns:t="{type_ns}">'
        + (f'<xs:import namespace="{ns}"/>' if type_ns == ns else "")
        + f'<xs:element name="result" type="t:{part_type}" nillable="true"/></xs:schema>'
    )
    sources: list[Any] = [
        source,
        *(etree.tostring(s).decode() for s in wsdl.iterfind(f"{{{WSDL}}}types/{{{XSD}}}schema")),
    ]
    # a document of its own: xsi:type values are read with its namespace declarations
    alone = etree.fromstring(etree.tostring(result))
    errors = [str(e)[:600] for e in xmlschema.XMLSchema(sources).iter_errors(alone)]
    assert errors == [], etree.tostring(result)[:1000]


def run_method(
    app: LadonWSGIApplication,
    service: ServiceInfo,
    iface: str,
    m: MethodInfo,
    task_ids: dict[str, str],
) -> etree._Element:
    args: dict[str, Any] = {p.name: sample(p.type) for p in m.params}
    if m.kind in (MethodKind.TASK_PROGRESS, MethodKind.TASK_RESULT, MethodKind.TASK_CANCEL):
        args = {"task_id": task_ids[m.task_of or ""]}
    elif m.kind is MethodKind.TASK_WAIT:
        args = {"task_id": task_ids[m.task_of or ""], "timeout": 1.0}
    return call(app, service.name, iface, m, args)


@pytest.mark.parametrize("naming", NAMINGS)
@pytest.mark.parametrize("iface", IFACES)
@pytest.mark.parametrize("service_name", EXAMPLE_SERVICES)
def test_every_answer_of_every_example_method_validates_against_the_wsdl(
    apps: dict[str, LadonWSGIApplication],
    envelope12_schema: xmlschema.XMLSchema,
    service_name: str,
    iface: str,
    naming: str,
) -> None:
    app = apps[naming]
    service = app.service(service_name)
    assert service is not None
    wsdl = wsdl_of(app, service_name, iface)
    schema = embedded_schema(wsdl)
    task_ids: dict[str, str] = {}
    faults = []
    methods = sorted(
        service.methods.values(), key=lambda m: (m.kind != MethodKind.TASK_START, m.kind.value)
    )
    for m in methods:
        envelope = run_method(app, service, iface, m, task_ids)
        if m.kind is MethodKind.TASK_START:
            (tid,) = [
                e.text
                for e in envelope.iter()
                if etree.QName(e).localname in ("task_id", "task-id")
            ]
            assert tid
            task_ids[m.name] = tid
            wait_for(app, service, iface, m, tid)
        el = body_child(envelope)
        if is_fault(el):
            faults.append(m.name)
        check_answer(schema, envelope12_schema, iface, m, envelope, wsdl)
    assert faults == []


def wait_for(
    app: LadonWSGIApplication, service: ServiceInfo, iface: str, start: MethodInfo, tid: str
) -> None:
    progress = service.methods[f"{start.name}_progress"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        envelope = call(app, service.name, iface, progress, {"task_id": tid})
        states = [e.text for e in envelope.iter() if etree.QName(e).localname == "state"]
        if states and states[0] not in ("pending", "running"):
            return
        time.sleep(0.01)
    raise AssertionError(f"task {start.name} did not end")
