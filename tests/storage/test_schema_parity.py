"""The schema is written twice (the SQLite and the PostgreSQL migrations) and described once more by the
field definitions: these tests fail when the three disagree (issue 15, "the schema is checked once").

Each backend's schema is read from a database its own migrations made, as (column kind, NOT NULL) per
column of every table; the kinds are what the SQL types mean to b24local: an integer, a real number,
text.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from b24local.crm.entities import ENTITIES
from b24local.storage.open import open_storage
from tests.pgcluster import Cluster

Schema = dict[str, dict[str, tuple[str, bool]]]

SQLITE_KINDS = {"INTEGER": "integer", "REAL": "real", "TEXT": "text", "BLOB": "bytes"}
POSTGRES_KINDS = {
    "bigint": "integer",
    "integer": "integer",
    "smallint": "integer",
    "double precision": "real",
    "real": "real",
    "text": "text",
    "bytea": "bytes",
}
#: How each field type is kept in its column (a date is ISO text; a moment is seconds since the epoch).
FIELD_KINDS = {
    "string": "text",
    "char": "text",
    "crm_status": "text",
    "crm_currency": "text",
    "date": "text",
    "integer": "integer",
    "user": "integer",
    "datetime": "integer",
    "crm_company": "integer",
    "crm_lead": "integer",
    "crm_category": "integer",
    "double": "real",
}


def sqlite_schema(path: Path) -> Schema:
    storage = open_storage(f"sqlite:///{path}")
    storage.close()
    conn = sqlite3.connect(path)
    try:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        schema: Schema = {}
        for table in tables:
            if table.startswith("sqlite_"):
                continue
            columns = conn.execute(f"PRAGMA table_info({table})").fetchall()
            # A primary key column cannot hold NULL in either backend (SQLite's rowid alias says 0).
            schema[table] = {
                name: (SQLITE_KINDS[kind], bool(notnull or pk)) for _, name, kind, notnull, _, pk in columns
            }
        return schema
    finally:
        conn.close()


def postgres_schema(url: str) -> Schema:
    storage = open_storage(url)
    storage.close()
    schema: Schema = {}
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = 'public'"
        ).fetchall()
    for table, column, kind, nullable in rows:
        schema.setdefault(table, {})[column] = (POSTGRES_KINDS[kind], nullable == "NO")
    return schema


@pytest.fixture(scope="module")
def sqlite_tables(tmp_path_factory: pytest.TempPathFactory) -> Schema:
    return sqlite_schema(tmp_path_factory.mktemp("schema") / "b.db")


def test_postgres_migrations_make_the_sqlite_schema(sqlite_tables: Schema, pg_cluster: Cluster) -> None:
    postgres_tables = postgres_schema(pg_cluster.new_database())
    assert sorted(postgres_tables) == sorted(sqlite_tables)
    for table, columns in sqlite_tables.items():
        assert postgres_tables[table] == columns, table


@pytest.mark.parametrize("entity", sorted(ENTITIES))
def test_entity_tables_hold_exactly_their_column_fields(sqlite_tables: Schema, entity: str) -> None:
    kind = ENTITIES[entity]
    # The pipeline that partitions permissions never holds NULL (a permission scope compares it).
    not_null = {kind.rules.permission_partition}
    expected = {"id": ("integer", True)} | {
        f.column: (FIELD_KINDS[f.type], f.column in not_null) for f in kind.columns
    }
    assert sqlite_tables[kind.table] == expected
