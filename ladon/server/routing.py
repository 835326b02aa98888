"""URL scheme (Ladon 1.0 compatible).

=================================  ============================================
``/``                              catalog page
``/<Service>``                     service page
``/<Service>/<iface>``             method calls (POST); deeper paths too
``/<Service>/<iface>/description`` description document (WSDL, JSON...)
``/skins/<path>``                  skin files (``path_list`` dirs' ``skins/``)
``/_ladon/static/<name>``          the docs pages' own css and js
=================================  ============================================
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass


class RouteKind(enum.Enum):
    CATALOG = "catalog"
    SERVICE = "service"
    CALL = "call"
    DESCRIPTION = "description"
    STATIC = "static"
    ASSET = "asset"


@dataclass(frozen=True, slots=True)
class Route:
    kind: RouteKind
    service: str = ""
    interface: str = ""
    path: str = ""


@functools.lru_cache(maxsize=1024)
def match(path_info: str) -> Route:
    """Route a PATH_INFO; empty segments are ignored, as in Ladon 1.0."""
    parts = [p for p in path_info.split("/") if p]
    if not parts:
        return Route(RouteKind.CATALOG)
    if parts[0] == "skins" and len(parts) > 1:
        return Route(RouteKind.STATIC, path="/".join(parts[1:]))
    if len(parts) == 3 and parts[0] == "_ladon" and parts[1] == "static":
        return Route(RouteKind.ASSET, path=parts[2])
    if len(parts) == 1:
        return Route(RouteKind.SERVICE, parts[0])
    if len(parts) == 3 and parts[2] == "description":
        return Route(RouteKind.DESCRIPTION, parts[0], parts[1])
    return Route(RouteKind.CALL, parts[0], parts[1])
