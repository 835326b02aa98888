"""HTML docs pages (catalog and service), rendered from the service model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jinja2
from markupsafe import Markup
from markupsafe import escape

from ..ladonizer.model import MethodInfo
from ..ladonizer.model import MethodKind
from ..ladonizer.model import ServiceInfo
from ..types.ladontype import LadonType
from ..types.spec import ListOf
from ..types.spec import TypeSpec
from ..types.spec import type_name


def type_html(spec: TypeSpec) -> Markup:
    """A type name, linked to its definition for LadonTypes."""
    if isinstance(spec, ListOf):
        return Markup("[") + type_html(spec.item) + Markup("]")
    if isinstance(spec, type) and issubclass(spec, LadonType):
        name = spec.__name__
        return Markup('<a class="type" href="#type-{0}">{0}</a>').format(name)
    return Markup('<span class="type">{}</span>').format(type_name(spec))


def _kind_label(m: MethodInfo) -> str:
    return {
        MethodKind.TASK_START: "task",
        MethodKind.TASK_PROGRESS: "task progress",
        MethodKind.TASK_RESULT: "task result",
        MethodKind.TASK_CANCEL: "task cancel",
    }.get(m.kind, "")


def _lines(lines: Sequence[str]) -> Markup:
    return Markup("<br>").join(escape(ln) for ln in lines)


class Pages:
    """Renders the catalog and service pages.

    :param catalog_name: title of the catalog page.
    :param catalog_desc: text under the title.
    """

    def __init__(self, catalog_name: str, catalog_desc: str) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.PackageLoader("ladon.server", "templates"),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(type_html=type_html, kind_label=_kind_label, lines=_lines)
        self.catalog_name = catalog_name
        self.catalog_desc = catalog_desc

    def catalog(self, services: Sequence[ServiceInfo], script_name: str) -> str:
        return self.env.get_template("catalog.html").render(
            title=self.catalog_name,
            description=self.catalog_desc,
            services=services,
            root=script_name,
        )

    def service(self, service: ServiceInfo, interfaces: Sequence[str], script_name: str) -> str:
        ctx: dict[str, Any] = {
            "title": service.name,
            "service": service,
            "interfaces": interfaces,
            "root": script_name,
            "catalog_name": self.catalog_name,
        }
        return self.env.get_template("service.html").render(**ctx)
