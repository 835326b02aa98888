"""The SOAP settings of an application: service namespaces, the naming of
``soap``/``soap11`` and the header blocks understood; mistakes are
definition errors when the application is built, never at request time."""

from __future__ import annotations

import pytest

from ladon import LadonWSGIApplication
from ladon import ladonize
from ladon.exceptions.base import DefinitionError
from ladon.interfaces import SOAP12Interface
from ladon.interfaces import SOAPInterface


class Plain:
    @ladonize()
    def ping(self, some_text: str) -> str:
        return some_text


class Named:
    ladon_namespace = "https://example.com/named"

    @ladonize()
    def ping(self) -> str:
        return "pong"


def test_a_service_namespace_comes_from_its_attribute_else_the_application() -> None:
    app = LadonWSGIApplication([Plain, Named])
    assert [s.namespace for s in app.services] == ["urn:Plain", "https://example.com/named"]
    app = LadonWSGIApplication([Plain, Named], namespace="urn:example:{service}:v2")
    assert [s.namespace for s in app.services] == [
        "urn:example:Plain:v2",
        "https://example.com/named",
    ]


@pytest.mark.parametrize("bad", ["", "geometry", "urn:has space", 'urn:"q"', 42])
def test_a_namespace_that_is_not_an_absolute_uri_is_refused(bad: object) -> None:
    cls = type("Bad", (Named,), {"ladon_namespace": bad})
    with pytest.raises(DefinitionError, match="absolute URI"):
        LadonWSGIApplication([cls])
    if isinstance(bad, str):
        with pytest.raises(DefinitionError, match="absolute URI"):
            LadonWSGIApplication([Plain], namespace=bad)


def test_soap_naming_and_headers_are_checked_when_the_application_is_built() -> None:
    with pytest.raises(DefinitionError, match="soap_naming"):
        LadonWSGIApplication([Plain], soap_naming="camel")
    with pytest.raises(DefinitionError, match="namespace"):
        LadonWSGIApplication([Plain], soap_headers=["Ticket"])


def test_settings_are_the_applications_own() -> None:
    plain = LadonWSGIApplication([Plain])
    python = LadonWSGIApplication([Plain], soap_naming="python", soap_headers=["{urn:h}T"])
    assert plain.interfaces["soap"] is SOAPInterface  # nothing to configure: the class itself
    configured = python.interfaces["soap"]
    assert configured is not SOAPInterface and issubclass(configured, SOAPInterface)
    # an alias stays the same interface
    assert python.interfaces["soapdocumentliteral"] is configured
    assert configured.naming.python and "{urn:h}T" in configured.understood_headers
    assert not SOAPInterface.naming.python and "{urn:h}T" not in SOAPInterface.understood_headers
    # soap12 keeps the Python naming whatever the application says
    assert plain.interfaces["soap12"].naming.python  # type: ignore[attr-defined]
    assert python.interfaces["soap12"] is not SOAP12Interface
