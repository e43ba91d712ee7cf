"""The binding invariants of the whole database in plain SQL, for every binding table and side.

Generated from the relations table (crm/entities.py BINDINGS), so a new binding pair is checked without
a line here. Per side (a two-sided relation such as contact ↔ company has two: binding-family.md B3):
an owner with bindings has exactly one primary (I1). Per table: no binding names a record that does not
exist (I4, B4). Each query returns the offending rows (none: the invariant holds). Used by the fuzz
runner (tests/fuzz/checks.py), the multi-process tests (tests/workers.py) and the binding tests.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg

from b24local.crm.entities import BINDINGS


def _invariants() -> dict[str, str]:
    out: dict[str, str] = {}
    for kind in BINDINGS.values():
        owner, table = kind.owner_column, kind.table
        out[f"{kind.name}: a {kind.owner.name} with bindings has exactly one primary (I1)"] = (
            f"SELECT {owner} FROM {table} GROUP BY {owner} "
            f"HAVING SUM(CASE WHEN {kind.primary_column} = 'Y' THEN 1 ELSE 0 END) <> 1"
        )
        for column, entity in ((owner, kind.owner), (kind.bound_column, kind.bound)):
            # A two-sided relation's second kind names the same (table, column) pairs again: one check.
            out.setdefault(
                f"{table}: no binding of a missing {entity.name} (I4)",
                f"SELECT b.{kind.owner_column}, b.{kind.bound_column} FROM {table} b "
                f"LEFT JOIN {entity.table} e ON e.id = b.{column} WHERE e.id IS NULL",
            )
    return out


INVARIANTS = _invariants()


class Invariants:
    """A database opened beside a server with the backend's own driver (``LiveServer.db_url``)."""

    def __init__(self, url: str) -> None:
        self.conn: Any
        if url.startswith("sqlite:"):
            self.conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        else:
            self.conn = psycopg.connect(url, autocommit=True)

    def violations(self) -> list[str]:
        """Each broken invariant with up to five of its rows."""
        found = []
        for rule, sql in INVARIANTS.items():
            rows = self.conn.execute(sql).fetchmany(5)
            if rows:
                found.append(f"{rule}: {rows}")
        return found

    def close(self) -> None:
        self.conn.close()
