"""The scripts of tools/ (not a package), loaded as modules for the tests that check their output."""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

TOOLS = Path(__file__).resolve().parents[1] / "tools"


@functools.cache
def load_tool(script: str) -> ModuleType:
    """``tools/{script}.py`` as the module ``b24local_tools_{script}``."""
    name = f"b24local_tools_{script}"
    spec = importlib.util.spec_from_file_location(name, TOOLS / f"{script}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module
