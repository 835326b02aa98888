"""The project's own promises: README commands, CI script, packaging."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.rst").read_text(encoding="utf-8")
    return re.findall(r"^    (python3 -m venv .*)$", text, flags=re.MULTILINE)


def test_readme_has_a_serve_command_and_a_test_command() -> None:
    commands = _readme_commands()
    assert any(c.endswith("ladon serve examples/") for c in commands), commands
    assert any(c.endswith("pytest") for c in commands), commands


def test_ci_runs_exactly_the_readme_test_command() -> None:
    test_command = next(c for c in _readme_commands() if c.endswith("pytest"))
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test_command in ci_lines


def test_every_template_ships_with_the_package() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"server/templates/*.html"' in pyproject
    assert list((ROOT / "ladon" / "server" / "templates").glob("*.html"))
