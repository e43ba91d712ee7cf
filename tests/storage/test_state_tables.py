"""storage/state_tables.py names every table of the schema once: in the state (what a snapshot copies
and a restore or ``reset --all`` replaces) or out of it. A migration that adds a table fails here until
the table is put on one side."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg

from b24local.storage.open import open_storage
from b24local.storage.sql_seed import STATE_PARTS
from b24local.storage.state_tables import NOT_STATE, NUMBERED, STATE_TABLES
from tests.pgcluster import Cluster

STATE = [table for table, _ in STATE_TABLES]


def test_the_lists_do_not_overlap() -> None:
    assert len(set(STATE)) == len(STATE) == 19
    assert set(STATE) & set(NOT_STATE) == set()
    assert set(NUMBERED) <= set(STATE)
    assert len({label for _, label in STATE_TABLES}) == 19


def test_the_seeds_parts_are_state_tables() -> None:
    """A seed writes only the state; the parts with an ``id`` are the numbered ones."""
    tables = {table: columns for table, columns in STATE_PARTS.values()}
    assert set(tables) <= set(STATE)
    assert sorted(t for t, columns in tables.items() if columns[0] == "id") == sorted(
        set(tables) & set(NUMBERED)
    )


def test_every_sqlite_table_is_in_or_out_and_the_numbered_ones_count_ids(tmp_path: Path) -> None:
    open_storage(f"sqlite:///{tmp_path / 'b.db'}").close()
    conn = sqlite3.connect(tmp_path / "b.db")
    try:
        rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
    finally:
        conn.close()
    tables = {name: sql for name, sql in rows if not name.startswith("sqlite_")}
    assert sorted(tables) == sorted([*STATE, *NOT_STATE])
    assert sorted(t for t in STATE if "AUTOINCREMENT" in tables[t]) == sorted(NUMBERED)


def test_every_postgres_table_is_in_or_out_and_the_numbered_ones_count_ids(pg_cluster: Cluster) -> None:
    url = pg_cluster.new_database()
    open_storage(url).close()
    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        identities = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND column_name = 'id' AND is_identity = 'YES'"
            )
        ]
    assert sorted(tables) == sorted([*STATE, *NOT_STATE])
    assert sorted(t for t in identities if t in STATE) == sorted(NUMBERED)
