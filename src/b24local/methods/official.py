"""Bitrix24's official method list, to tell a method b24local lacks from a typo.

official_methods.txt holds the names of ``../shared/b24-docs/methods.tsv`` in lower case, one a line;
``make docs`` (tools/methods_doc.py) writes it. It ships in the package: an installed server has no
``../shared`` to read.
"""

from __future__ import annotations

import functools
from importlib import resources

from b24local.protocol.errors import ApiError, method_not_found

OFFICIAL_FILE = "official_methods.txt"


@functools.cache
def official_methods() -> frozenset[str]:
    """Every official method name, lower-cased (read once, at the first unknown method)."""
    text = resources.files(__package__).joinpath(OFFICIAL_FILE).read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line)


def unknown_method(name: str) -> ApiError:
    """404 Method not found!, marked as not implemented when a portal has the method."""
    if name.lower() in official_methods():
        return method_not_found(True, f"{name} is a Bitrix24 method that b24local does not implement")
    return method_not_found(why=f"no method {name}" if name else "the path names no method")
