"""The layers' dependencies point one way (README, "Layout"): only methods/ speaks the REST protocol,
and the CRM model, the CRM services and storage import nothing above them.

Read from the source (every import statement, those under ``if TYPE_CHECKING`` and inside functions
too), so that a forbidden import fails here even where nothing would run it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "b24local"

#: Package → the packages of b24local it must not import.
FORBIDDEN = {
    "crm": ("protocol", "methods"),
    "model": ("protocol", "methods", "crm", "auth", "storage"),
    "storage": ("protocol", "methods", "crm", "auth"),
}


def imports_in(source: str, package: list[str]) -> set[str]:
    """Every module ``source`` imports, absolute: relative imports resolved against ``package``, and
    ``from b24local import crm`` counted as ``b24local.crm``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def offences(layer: str) -> list[str]:
    found = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        package = ["b24local", *path.relative_to(PACKAGE).parent.parts]
        for name in sorted(imports_in(path.read_text(encoding="utf-8"), package)):
            parts = name.split(".")
            if parts[0] == "b24local" and len(parts) > 1 and parts[1] in FORBIDDEN[layer]:
                found.append(f"{path.relative_to(PACKAGE)} imports {name}")
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_nothing_above_it(layer: str) -> None:
    assert offences(layer) == []


def test_every_import_form_is_seen() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "from ..protocol import errors\n"
        "from . import values\n"
        "from b24local import methods\n"
        "if TYPE_CHECKING:\n"
        "    import b24local.protocol.envelope\n"
        "def late():\n"
        "    from b24local.methods.errors import api_error\n"
    )
    assert imports_in(source, ["b24local", "crm"]) == {
        "typing",
        "typing.TYPE_CHECKING",
        "b24local.protocol",
        "b24local.protocol.errors",
        "b24local.crm",
        "b24local.crm.values",
        "b24local",
        "b24local.methods",
        "b24local.protocol.envelope",
        "b24local.methods.errors",
        "b24local.methods.errors.api_error",
    }
