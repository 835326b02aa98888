"""Sphinx configuration of the Ladon documentation site.

Built with ``sphinx-build -W -b html docs <out>`` (``.ci/run``): built-in
Sphinx features and the bundled alabaster theme only, so the site builds
offline with nothing but the ``test`` extra installed.
"""

from __future__ import annotations

project = "Ladon"
author = "The Ladon developers"
copyright = "The Ladon developers, BSD-3-Clause"
release = "2.0"
version = "2.0"

extensions: list[str] = []
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
templates_path: list[str] = []
highlight_language = "none"
pygments_style = "sphinx"

html_theme = "alabaster"
html_title = "Ladon 2"
html_static_path: list[str] = []
html_theme_options = {
    "description": "One Python class, every web-service protocol.",
    "fixed_sidebar": True,
    "show_relbars": True,
}
html_sidebars = {"**": ["about.html", "navigation.html", "relations.html", "searchbox.html"]}
html_show_sourcelink = False
