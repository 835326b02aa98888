"""Skins and static files of the docs pages.

* ``/skins/<path>`` serves ``<dir>/skins/<path>`` for the first directory of
  the application's ``path_list`` that has it (Ladon 1.0). Only the
  extensions of :data:`SKIN_TYPES` are served; a missing file, a path that
  leaves the skins folder (``..``, an absolute path, a symlink pointing
  out) and any other extension are all ``404 Not Found``, so nothing tells
  which files exist outside the whitelist.
* ``?skin=NAME`` on a docs page renders ``skins/NAME/catalog.html`` or
  ``skins/NAME/service.html`` (or Ladon 1.0's ``catalog.template`` /
  ``service.template``) from the first ``path_list`` directory that has it,
  else from the skins Ladon bundles (``rounded`` and ``bluebox``, as Ladon
  1.0 did); an unknown skin shows the default page.
* ``/_ladon/static/<name>`` serves the default pages' own css and js from the
  package (kept in memory, with an ETag).

.. versionadded:: 2.0
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from werkzeug.exceptions import NotFound
from werkzeug.utils import send_file
from werkzeug.wrappers import Response

#: Extensions served under ``/skins/`` and their Content-Type (COMPAT §2).
SKIN_TYPES: Mapping[str, str] = {
    "css": "text/css; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "svg": "image/svg+xml",
    "png": "image/png",
    "gif": "image/gif",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "bmp": "image/bmp",
    "ico": "image/vnd.microsoft.icon",
    "dmg": "application/octet-stream",
}

#: The skins Ladon bundles (Ladon 1.0's ``rounded`` and ``bluebox``): page
#: templates only (``/skins/`` serves the path_list's files, not these).
BUNDLED_SKINS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bundled_skins")

#: Where the default pages find their css and js, under the script name.
ASSET_PREFIX = "/_ladon/static"

_SKIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")
_PAGE_FILES = {
    "catalog": ("catalog.html", "catalog.template"),
    "service": ("service.html", "service.template"),
}


def skin_dirs(path_list: str | Sequence[str] | None) -> tuple[str, ...]:
    """The ``skins`` folders of the ``path_list`` directories that have one."""
    if path_list is None:
        return ()
    if isinstance(path_list, str):
        path_list = [path_list]
    out: list[str] = []
    for directory in path_list:
        candidate = os.path.join(os.path.abspath(directory), "skins")
        if os.path.isdir(candidate) and candidate not in out:
            out.append(candidate)
    return tuple(out)


def valid_skin_name(name: str) -> bool:
    """A skin name is one plain path segment (letters, digits, ``_.-``)."""
    return bool(_SKIN_NAME.match(name)) and ".." not in name


def find_skin_page(dirs: Sequence[str], skin: str, page: str) -> tuple[str, str] | None:
    """``(folder, file name)`` of a skin's template for ``page``, or None."""
    if not valid_skin_name(skin):
        return None
    for base in dirs:
        folder = os.path.join(base, skin)
        for name in _PAGE_FILES[page]:
            path = os.path.join(folder, name)
            if os.path.isfile(path) and _inside(base, path):
                return folder, name
    return None


def _inside(base: str, path: str) -> bool:
    real_base = os.path.realpath(base)
    real = os.path.realpath(path)
    return real.startswith(real_base + os.sep)


def resolve_skin_file(dirs: Sequence[str], path: str) -> tuple[str, str] | None:
    """``(absolute path, content type)`` of a ``/skins/<path>`` file, or None.

    :param path: the part of PATH_INFO after ``/skins/`` (already decoded by
        the server: ``%2e%2e`` arrives as ``..``).
    """
    if not path or "\x00" in path or "\\" in path or path.startswith("/"):
        return None
    parts = path.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return None
    ext = parts[-1].rpartition(".")[2].lower() if "." in parts[-1] else ""
    ctype = SKIN_TYPES.get(ext)
    if ctype is None:
        return None
    for base in dirs:
        candidate = os.path.join(base, *parts)
        if os.path.isfile(candidate) and _inside(base, candidate):
            return os.path.realpath(candidate), ctype
    return None


def skin_file_response(dirs: Sequence[str], path: str, environ: Mapping[str, Any]) -> Response:
    """The response for ``/skins/<path>``: the file, or 404."""
    found = resolve_skin_file(dirs, path)
    if found is None:
        raise NotFound("No such file")
    real, ctype = found
    try:
        response = send_file(real, dict(environ), mimetype=ctype, max_age=3600)
    except OSError:
        raise NotFound("No such file") from None
    response.direct_passthrough = False
    response.headers["Content-Type"] = ctype  # send_file would add a second charset
    return response


@dataclass(frozen=True, slots=True)
class Asset:
    """One packaged static file, kept in memory."""

    body: bytes
    content_type: str
    etag: str


_ASSET_TYPES = {"css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8"}
_ASSET_TYPES["svg"] = "image/svg+xml"


def load_assets() -> dict[str, Asset]:
    """Every css, js and svg file of ``ladon/server/static``."""
    assets: dict[str, Asset] = {}
    for entry in resources.files("ladon.server").joinpath("static").iterdir():
        ext = entry.name.rpartition(".")[2]
        if entry.is_file() and ext in _ASSET_TYPES:
            body = entry.read_bytes()
            etag = hashlib.sha256(body).hexdigest()[:16]
            assets[entry.name] = Asset(body, _ASSET_TYPES[ext], etag)
    return assets


def asset_response(assets: Mapping[str, Asset], name: str, environ: Mapping[str, Any]) -> Response:
    """The response for ``/_ladon/static/<name>`` (304 when unchanged)."""
    asset = assets.get(name)
    if asset is None:
        raise NotFound("No such file")
    response = Response(asset.body, content_type=asset.content_type)
    response.set_etag(asset.etag)
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response.make_conditional(dict(environ))
