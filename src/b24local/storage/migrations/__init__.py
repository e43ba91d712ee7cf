"""Versioned schema migrations: ``NNNN_name.sql`` scripts, one folder per SQL dialect.

Both backends apply them the same way (:func:`apply_pending`), each inside its own transaction and
lock; a migration's statements and its row in ``schema_migrations`` commit together.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from typing import Any


def scripts(dialect: str) -> list[tuple[int, str]]:
    """(version, script) of every migration of ``dialect`` ("sqlite" or "postgres"), oldest first."""
    folder = resources.files(__name__) / dialect
    found = []
    for item in folder.iterdir():
        if item.name.endswith(".sql") and item.name[:4].isdigit():
            found.append((int(item.name[:4]), item.read_text(encoding="utf-8")))
    return sorted(found)


def statements(script: str) -> list[str]:
    """Split a migration script on ``;`` at line ends (our scripts have no semicolons in literals)."""
    out = []
    for chunk in script.split(";\n"):
        lines = [ln for ln in chunk.splitlines() if not ln.strip().startswith("--")]
        text = "\n".join(lines).strip().rstrip(";")
        if text:
            out.append(text)
    return out


#: Told (migrations applied so far, migrations pending) before the first and after each one (a
#: command line's progress bar).
Progress = Callable[[int, int], None]


def apply_pending(
    execute: Callable[..., Any],
    dialect: str,
    placeholder: str,
    version_type: str,
    progress: Progress | None = None,
) -> list[int]:
    """Run the migrations of ``dialect`` that ``schema_migrations`` does not list, through ``execute``
    (the connection's, inside a transaction the caller holds); the versions applied."""
    execute(f"CREATE TABLE IF NOT EXISTS schema_migrations (version {version_type} PRIMARY KEY)")
    done = {r[0] for r in execute("SELECT version FROM schema_migrations")}
    pending = [(version, script) for version, script in scripts(dialect) if version not in done]
    applied: list[int] = []
    for version, script in pending:
        if progress is not None:
            progress(len(applied), len(pending))
        for statement in statements(script):
            execute(statement)
        execute(f"INSERT INTO schema_migrations (version) VALUES ({placeholder})", (version,))
        applied.append(version)
    if progress is not None and pending:
        progress(len(applied), len(pending))
    return applied
