"""The whole state in bulk, for seed and export (contract test-portal.md T5; storage.base SeedStore).

A seed is validated in Python first and then written here in bulk: one multi-row statement per table
(SQLite's ``executemany``, PostgreSQL's ``COPY``) instead of one call per record, which is what makes
100,000 leads a matter of seconds (docs/performance.md, "Issue 16: seeding"). Rows are keyed by the
column names below; the CRM layer maps them to the document's fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from b24local.model.entities import BindingKind, EntityType
from b24local.storage.base import BindingRow, Row
from b24local.storage.sql_base import SqlBase
from b24local.storage.state_tables import NUMBERED

#: The parts of the state besides CRM records: part → (table, columns). Each table is one of the
#: state's (state_tables.py STATE_TABLES), and ids go on after seeded ones where NUMBERED names it.
#: Rows are read in the order of their first columns (their key).
STATE_PARTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "user": ("b_user", ("id", "name", "last_name", "is_admin", "active", "crm_access")),
    "department": ("b_department", ("id", "name", "parent_id")),
    "user_department": ("b_user_department", ("user_id", "department_id")),
    "role": ("crm_role", ("id", "name")),
    "role_permission": ("crm_role_permission", ("role_id", "entity", "action", "level")),
    "role_holder": ("crm_role_holder", ("role_id", "user_id", "department_id")),
    "webhook": ("webhook", ("id", "user_id", "code_hash", "scope", "active")),
    "app": (
        "oauth_app",
        ("id", "name", "client_id", "secret_hash", "scope", "redirect_uri", "version", "active"),
    ),
    "pipeline": ("crm_category", ("id", "entity_type_id", "name", "sort")),
}


class SeedSql(SqlBase):
    """Reading every row of a part, writing many rows at once, and the ids a table has used."""

    def _bulk(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        """Insert ``rows`` (tuples in the order of ``columns``) in as few round trips as the driver allows."""
        if rows:
            marks = ", ".join(self.ph for _ in columns)
            self._executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def _ids_continue(self, table: str) -> None:
        """After rows with explicit ids: the next insert without one gets an id above them."""

    def _entity_rows(self, entity: EntityType, where: str, params: Sequence[Any]) -> list[Row]:
        raise NotImplementedError  # CrmSql's (and SQLite's own): the one row reader of the backends

    def _sequence_floor(self, table: str) -> int:
        """The largest id the table's id generator has handed out (0: none)."""
        raise NotImplementedError

    # The state besides CRM records ------------------------------------------------------------------

    def state_rows(self, part: str) -> list[Row]:
        table, columns = STATE_PARTS[part]
        order = "id" if "id" in columns else ", ".join(columns[:2])
        rows = self.conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}").fetchall()
        return [dict(zip(columns, r, strict=True)) for r in rows]

    def state_insert(self, part: str, rows: Sequence[Row]) -> None:
        table, columns = STATE_PARTS[part]
        self._bulk(table, columns, [tuple(r.get(c) for c in columns) for r in rows])
        if table in NUMBERED and rows:
            self._ids_continue(table)

    def state_id_floor(self, part: str) -> int:
        return self._id_floor(STATE_PARTS[part][0])

    # CRM records, multifields, bindings ---------------------------------------------------------------

    def entity_rows_all(self, entity: EntityType) -> list[Row]:
        return self._entity_rows(entity, "ORDER BY id", ())

    def entity_insert_many(
        self, entity: EntityType, columns: Sequence[str], rows: list[tuple[Any, ...]]
    ) -> None:
        """Rows with their ``id`` among ``columns``."""
        self._bulk(entity.table, columns, rows)
        if rows:
            self._ids_continue(entity.table)

    def entity_id_floor(self, entity: EntityType) -> int:
        return self._id_floor(entity.table)

    def _id_floor(self, table: str) -> int:
        """The largest id ``table`` holds or has held: the next new record gets a larger one."""
        biggest = self._one(f"SELECT coalesce(max(id), 0) FROM {table}")
        return max(int(biggest), self._sequence_floor(table))

    def multifields_all(self, entity: EntityType) -> list[tuple[int, str, str, str]]:
        """(element id, type, value type, value) of every multifield of ``entity``, in the order added."""
        rows = self.conn.execute(
            "SELECT element_id, type_id, value_type, value FROM crm_multifield "
            f"WHERE entity_type = {self.ph} ORDER BY id",
            (entity.name,),
        ).fetchall()
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def multifield_insert_many(self, entity: EntityType, rows: list[tuple[int, str, str, str]]) -> None:
        columns = ("entity_type", "element_id", "type_id", "value_type", "value")
        self._bulk("crm_multifield", columns, [(entity.name, *r) for r in rows])

    def _binding_columns_all(self, kind: BindingKind) -> list[str]:
        columns = [kind.owner_column, kind.bound_column, kind.sort_column, kind.primary_column]
        if kind.mirror is not None:  # the other side's columns of the same row
            prefix = kind.bound.name
            columns += [f"{prefix}_sort", f"{prefix}_primary"]
        return columns

    def binding_rows_all(self, kind: BindingKind) -> list[BindingRow]:
        columns = self._binding_columns_all(kind)
        rows = self.conn.execute(
            f"SELECT {', '.join(columns)} FROM {kind.table} ORDER BY {kind.owner_column}, "
            f"{kind.sort_column}, {kind.bound_column}"
        ).fetchall()
        if kind.mirror is None:
            return [(r[0], r[1], r[2], r[3] == "Y", None, None) for r in rows]
        return [(r[0], r[1], r[2], r[3] == "Y", r[4], r[5] == "Y") for r in rows]

    def binding_insert_many(self, kind: BindingKind, rows: Sequence[BindingRow]) -> None:
        columns = [*self._binding_columns_all(kind), kind.role_column]
        flag = {True: "Y", False: "N"}
        values: list[tuple[Any, ...]]
        if kind.mirror is None:
            values = [(r[0], r[1], r[2], flag[r[3]], 0) for r in rows]
        else:
            values = [(r[0], r[1], r[2], flag[r[3]], r[4] or 0, flag[bool(r[5])], 0) for r in rows]
        self._bulk(kind.table, columns, values)
