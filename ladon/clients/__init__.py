"""Clients of Ladon services (JSON-WSP)."""

from __future__ import annotations

from .jsonwsp import JSONWSPClient as JSONWSPClient
from .jsonwsp import JSONWSPError as JSONWSPError
from .jsonwsp import JSONWSPFault as JSONWSPFault
from .jsonwsp import JSONWSPResponse as JSONWSPResponse
