"""The benchmark service written for spyne 2.14 (run only in its venv).

Equivalent to ``benchsvc.py``: ``add``, ``echo`` and ``minmax`` (returning a
``MinMax`` complex type), exposed through ``JsonDocument`` at ``/json`` and
``Soap11`` (document/literal) at ``/soap``.  No schema validation is enabled,
which is spyne's fastest set-up and matches Ladon, which does not validate
against a schema either.
"""

from __future__ import annotations

from typing import Any

from spyne import Application
from spyne import Array
from spyne import ComplexModel
from spyne import Integer
from spyne import ServiceBase
from spyne import Unicode
from spyne import rpc
from spyne.protocol.json import JsonDocument
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication
from spyne.util.wsgi_wrapper import WsgiMounter

TNS = "urn:BenchService"


class MinMax(ComplexModel):
    __namespace__ = TNS
    min = Integer
    max = Integer


class BenchService(ServiceBase):
    @rpc(Integer, Integer, _returns=Integer)
    def add(ctx: Any, a: int, b: int) -> int:
        return a + b

    @rpc(Unicode, _returns=Unicode)
    def echo(ctx: Any, s: str) -> str:
        return s

    @rpc(Array(Integer), _returns=MinMax)
    def minmax(ctx: Any, values: list[int]) -> MinMax:
        return MinMax(min=min(values), max=max(values))


def make_wsgi_app() -> WsgiMounter:
    json_app = Application(
        [BenchService], tns=TNS, in_protocol=JsonDocument(), out_protocol=JsonDocument()
    )
    soap_app = Application([BenchService], tns=TNS, in_protocol=Soap11(), out_protocol=Soap11())
    return WsgiMounter({"json": WsgiApplication(json_app), "soap": WsgiApplication(soap_app)})
