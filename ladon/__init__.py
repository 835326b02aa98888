"""Ladon: write a plain Python class once, serve it through SOAP 1.1 (with
WSDL), JSON-WSP, JSON-RPC and XML-RPC, with background tasks and docs pages.
"""

from __future__ import annotations

from .exceptions.service import ClientFault as ClientFault
from .exceptions.service import ServerFault as ServerFault
from .exceptions.service import ServiceFault as ServiceFault
from .ladonizer.decorator import callback_method as callback_method
from .ladonizer.decorator import ladonize as ladonize
from .server.admin import metrics_app as metrics_app
from .server.wsgi import LadonWSGIApplication as LadonWSGIApplication
from .types.attachment import attachment as attachment
from .types.constraints import Pattern as Pattern
from .types.ladontype import LadonType as LadonType

__version__ = "2.0.0.dev0"
