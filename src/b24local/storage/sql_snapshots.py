"""Snapshots of the whole state (contract test-portal.md T4), restore and ``reset --all`` (T3), for
both SQL backends: what they share here, what differs in :class:`SqliteSnapshots` and
:class:`PostgresSnapshots` (where the copies live, how ids are counted, how writers are kept out).

A snapshot is a copy of every state table (state_tables.py) made with ``CREATE TABLE … AS SELECT``,
and a row in the catalogue (migration 11) with its row counts and each numbered table's next id. A
restore puts the copies' rows back with ``DELETE``, ``INSERT … SELECT`` (and on PostgreSQL ``UPDATE
… FROM``) in one transaction: a concurrent call sees the state before or after it. Columns are named,
so that a snapshot saved before a migration added a column restores with that column's default.
Saves, restores and deletes of snapshots take turns (:meth:`SnapshotSql._lock_catalogue`), so that
none finds a snapshot half made or half gone.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from b24local.storage.base import SnapshotInfo
from b24local.storage.sql_base import SqlBase
from b24local.storage.state_tables import NUMBERED, STATE_TABLES

TABLES = tuple(table for table, _ in STATE_TABLES)
LABELS = dict(STATE_TABLES)

#: How a restore puts a table back (:class:`_Plan`): every row deleted and inserted; only the rows that
#: differ deleted and inserted; or, by id, rows missing inserted, rows that differ updated in place
#: (no foreign-key trigger fires, and a department stays while another names it), then rows in
#: excess deleted.
WHOLE, ROWS, IN_PLACE = "whole", "rows", "in place"


@dataclass(frozen=True, slots=True)
class _Plan:
    copy: str  # the snapshot's copy of the table
    columns: list[str]  # those both have, in the copy's order (the first: the key a match joins on)
    how: str  # WHOLE, ROWS or IN_PLACE


class SnapshotSql(SqlBase):
    #: Restore by deleting and inserting only the rows that differ (True), or every row (False):
    #: whichever is cheaper on the backend (docs/performance.md, "Issue 16: reset and restore").
    RESTORE_BY_DIFFERENCE = False
    _Q_SNAPSHOT_ID = "SELECT id FROM snapshot WHERE name = ?"
    _Q_SNAPSHOT_ADD = "INSERT INTO snapshot (name, taken_at, counts) VALUES (?, ?, ?)"
    _Q_SNAPSHOT_DELETE = "DELETE FROM snapshot WHERE id = ?"
    _Q_SNAPSHOTS = "SELECT name, taken_at, counts FROM snapshot ORDER BY name"
    _Q_SEQUENCE_ADD = "INSERT INTO snapshot_sequence (snapshot_id, table_name, next_id) VALUES (?, ?, ?)"
    _Q_SEQUENCES = "SELECT table_name, next_id FROM snapshot_sequence WHERE snapshot_id = ?"

    # Hooks ------------------------------------------------------------------------------------------
    def _copy_of(self, snapshot_id: int, table: str) -> str:
        """The (qualified) name of ``table``'s copy in a snapshot."""
        raise NotImplementedError

    def _copies_make(self, snapshot_id: int) -> None:
        """Make room for a snapshot's copies (PostgreSQL: its schema)."""

    def _copies_drop(self, snapshot_id: int) -> None:
        raise NotImplementedError

    def _columns(self, table: str) -> list[str]:
        """The columns of a (qualified) table, in order; none when it does not exist."""
        raise NotImplementedError

    def _next_ids(self) -> dict[str, int]:
        """The id the next insert into each numbered table gets."""
        raise NotImplementedError

    def _set_next_ids(self, next_ids: dict[str, int]) -> None:
        raise NotImplementedError

    def _updatable(self) -> set[str]:
        """The numbered tables whose rows a restore may set back in place (by id): those with no
        unique index but their key, so that no row's new values can collide with another row's old
        ones half way through."""
        return set()

    def _lock_catalogue(self) -> None:
        """Keep other saves, restores and deletes of snapshots out until the transaction ends (first,
        before the state tables; SQLite's write lock does)."""

    def _lock_state(self, exclusive: bool) -> None:
        """Keep writers of the state tables out until the transaction ends (SQLite's write lock does)."""

    def _auth_changed(self) -> None:
        """Move the auth epoch on (servers forget the webhook logins they kept)."""
        self.conn.execute("UPDATE auth_epoch SET n = n + 1")

    # The port ---------------------------------------------------------------------------------------
    def snapshot_save(self, name: str, taken_at: float) -> tuple[SnapshotInfo, bool]:
        self._lock_catalogue()
        self._lock_state(exclusive=False)
        old = self._one(self._Q_SNAPSHOT_ID, (name,))
        if old is not None:
            self._drop(int(old))
        counts: dict[str, int] = {}
        snapshot_id = self._insert(self._Q_SNAPSHOT_ADD, (name, taken_at, "{}"))
        self._copies_make(snapshot_id)
        for table in TABLES:
            copy = self._copy_of(snapshot_id, table)
            self.conn.execute(f"CREATE TABLE {copy} AS SELECT * FROM {table}")
            counts[LABELS[table]] = int(self._one(f"SELECT count(*) FROM {copy}"))
        self._executemany(self._Q_SEQUENCE_ADD, [(snapshot_id, t, n) for t, n in self._next_ids().items()])
        self.conn.execute(
            f"UPDATE snapshot SET counts = {self.ph} WHERE id = {self.ph}",
            (orjson.dumps(counts).decode(), snapshot_id),
        )
        return SnapshotInfo(name, taken_at, counts), old is not None

    def snapshots(self) -> list[SnapshotInfo]:
        rows = self.conn.execute(self._Q_SNAPSHOTS).fetchall()
        return [SnapshotInfo(n, float(t), orjson.loads(c)) for n, t, c in rows]

    def snapshot_delete(self, name: str) -> bool:
        self._lock_catalogue()
        found = self._one(self._Q_SNAPSHOT_ID, (name,))
        if found is not None:
            self._drop(int(found))
        return found is not None

    def snapshot_restore(self, name: str) -> bool:
        self._lock_catalogue()
        found = self._one(self._Q_SNAPSHOT_ID, (name,))
        if found is None:
            return False
        snapshot_id = int(found)
        self._lock_state(exclusive=True)
        in_place = self._updatable()
        plans = {table: self._restore_plan(snapshot_id, table, in_place) for table in TABLES}
        # What names a row goes before the row; a row comes after what it names. Rows set back in
        # place are removed last: until then a department may still name one as its parent.
        for table in reversed(TABLES):
            self._remove_rows(table, plans[table], in_place=False)
        # A table that was empty only gets the snapshot's rows: nothing to compare or remove after.
        plans = {table: self._put_rows(table, plans[table]) for table in TABLES}
        for table in reversed(TABLES):
            self._remove_rows(table, plans[table], in_place=True)
        self._auth_changed()
        saved = dict(self.conn.execute(self._Q_SEQUENCES, (snapshot_id,)).fetchall())
        self._set_next_ids({t: int(saved.get(t, 1)) for t in NUMBERED})
        return True

    def _restore_plan(self, snapshot_id: int, table: str, in_place: set[str]) -> _Plan:
        copy = self._copy_of(snapshot_id, table)
        copied, live = self._columns(copy), self._columns(table)
        columns = [c for c in copied if c in live]
        if not self.RESTORE_BY_DIFFERENCE or not copied or copied != live:
            return _Plan(copy, columns, WHOLE)
        return _Plan(copy, columns, IN_PLACE if table in in_place and columns[0] == "id" else ROWS)

    def _remove_rows(self, table: str, plan: _Plan, in_place: bool) -> None:
        """The rows of ``table`` the snapshot does not have (all of them when it is replaced whole);
        those of a table set back in place when ``in_place``, those of the others when not."""
        if (plan.how == IN_PLACE) != in_place:
            return
        if plan.how == WHOLE:
            self.conn.execute(f"DELETE FROM {table}")
        else:
            match = self._match(plan.copy, table, plan.columns, compare=not in_place)
            self.conn.execute(f"DELETE FROM {table} WHERE NOT EXISTS ({match})")

    def _put_rows(self, table: str, plan: _Plan) -> _Plan:
        """The snapshot's rows that ``table`` lacks, then (in place) those that differ set back; the
        plan for what is left to do (replaced whole when the table was empty)."""
        if not plan.columns:
            return plan
        names = ", ".join(plan.columns)
        if plan.how != WHOLE and self._one(f"SELECT 1 FROM {table} LIMIT 1") is None:
            plan = _Plan(plan.copy, plan.columns, WHOLE)  # empty (after a reset, say): every row goes
        where = ""
        if plan.how != WHOLE:
            match = self._match(table, "c", plan.columns, compare=plan.how == ROWS)
            where = f" WHERE NOT EXISTS ({match})"
        self.conn.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {plan.copy} c{where}")
        if plan.how == IN_PLACE:
            values = ", ".join(f"{c} = s.{c}" for c in plan.columns[1:])
            same = self._same_rows("s", table, plan.columns)
            self.conn.execute(
                f"UPDATE {table} SET {values} FROM {plan.copy} s WHERE s.id = {table}.id AND NOT ({same})"
            )
        return plan

    def _match(self, source: str, target: str, columns: list[str], *, compare: bool) -> str:
        """A row of ``source`` with the key (the first column: an id, or a binding's owner) of the
        current row of ``target``, and with ``compare`` equal to it in every column. The key is
        joined by ``=``, so that PostgreSQL hashes it."""
        key = columns[0]
        same = f" AND {self._same_rows('s', target, columns)}" if compare else ""
        return f"SELECT 1 FROM {source} s WHERE s.{key} = {target}.{key}{same}"

    def state_clear(self) -> None:
        self._empty_state()
        self._set_next_ids(dict.fromkeys(NUMBERED, 1))

    # Helpers ----------------------------------------------------------------------------------------
    def _same_rows(self, left: str, right: str, columns: list[str]) -> str:
        """The rows ``left`` and ``right`` (of tables with the same columns) are equal, NULL to NULL."""
        return " AND ".join(f"{left}.{c} IS {right}.{c}" for c in columns)

    def _empty_state(self) -> None:
        self._lock_state(exclusive=True)
        for table in reversed(TABLES):  # what names a row goes before the row
            self.conn.execute(f"DELETE FROM {table}")
        self._auth_changed()

    def _drop(self, snapshot_id: int) -> None:
        self._copies_drop(snapshot_id)
        self.conn.execute(self._Q_SNAPSHOT_DELETE, (snapshot_id,))


class SqliteSnapshots(SnapshotSql):
    """Copies are tables of the same file, ``snapshot_<id>_<table>``; ids count in sqlite_sequence
    (the last id given, so the next is one more). A restore replaces every row: SQLite deletes and
    inserts rows faster than it compares 50 columns of each (row lookups, no hash join)."""

    def _copy_of(self, snapshot_id: int, table: str) -> str:
        return f"snapshot_{snapshot_id}_{table}"

    def _copies_drop(self, snapshot_id: int) -> None:
        # Every copy of the snapshot, also of a table that is no longer in the state.
        found = self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ? ESCAPE '\\'",
            (f"snapshot\\_{snapshot_id}\\_%",),
        ).fetchall()
        for (copy,) in found:
            self.conn.execute(f"DROP TABLE {copy}")

    def _columns(self, table: str) -> list[str]:
        return [r[1] for r in self.conn.execute(f"PRAGMA table_info({table})")]

    def _next_ids(self) -> dict[str, int]:
        marks = ", ".join("?" for _ in NUMBERED)
        last = dict(
            self.conn.execute(f"SELECT name, seq FROM sqlite_sequence WHERE name IN ({marks})", NUMBERED)
        )
        return {t: int(last.get(t, 0)) + 1 for t in NUMBERED}

    def _set_next_ids(self, next_ids: dict[str, int]) -> None:
        marks = ", ".join("?" for _ in next_ids)
        self.conn.execute(f"DELETE FROM sqlite_sequence WHERE name IN ({marks})", list(next_ids))
        self._executemany(
            "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)",
            [(t, n - 1) for t, n in next_ids.items() if n > 1],
        )


class PostgresSnapshots(SnapshotSql):
    """Copies are tables of a schema per snapshot, ``b24local_snapshot_<id>``; ids come from each
    table's identity sequence. A restore touches only the rows that differ: deleting a row costs a
    foreign-key trigger per referencing table and inserting one an entry per index, while comparing
    is one hash join per table."""

    RESTORE_BY_DIFFERENCE = True

    def _copy_of(self, snapshot_id: int, table: str) -> str:
        return f"b24local_snapshot_{snapshot_id}.{table}"

    def _copies_make(self, snapshot_id: int) -> None:
        self.conn.execute(f"CREATE SCHEMA b24local_snapshot_{snapshot_id}")

    def _copies_drop(self, snapshot_id: int) -> None:
        self.conn.execute(f"DROP SCHEMA IF EXISTS b24local_snapshot_{snapshot_id} CASCADE")

    def _columns(self, table: str) -> list[str]:
        schema, _, name = table.rpartition(".")
        rows = self.conn.execute(
            "SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY a.attnum",
            (schema or "public", name),
        ).fetchall()
        return [r[0] for r in rows]

    def _next_ids(self) -> dict[str, int]:
        found = {}
        for table in NUMBERED:
            sequence = self._one("SELECT pg_get_serial_sequence(%s, 'id')", (table,))
            last, called = self.conn.execute(f"SELECT last_value, is_called FROM {sequence}").fetchone()
            found[table] = int(last) + 1 if called else int(last)
        return found

    def _set_next_ids(self, next_ids: dict[str, int]) -> None:
        # ALTER … RESTART is transactional (a rollback keeps the old value), unlike setval.
        for table, next_id in next_ids.items():
            self.conn.execute(f"ALTER TABLE {table} ALTER COLUMN id RESTART WITH {int(next_id)}")

    def _updatable(self) -> set[str]:
        rows = self.conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relname = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_index i "
            "WHERE i.indrelid = c.oid AND i.indisunique AND NOT i.indisprimary)",
            (list(NUMBERED),),
        ).fetchall()
        return {r[0] for r in rows}

    def _lock_catalogue(self) -> None:
        self.conn.execute("LOCK TABLE snapshot IN EXCLUSIVE MODE")  # listing it goes on

    def _lock_state(self, exclusive: bool) -> None:
        """SHARE for a save (readers and other saves go on, writers wait: every copy sees one state);
        EXCLUSIVE for a restore (readers go on seeing the state before it until it commits)."""
        mode = "EXCLUSIVE" if exclusive else "SHARE"
        self.conn.execute(f"LOCK TABLE {', '.join(TABLES)} IN {mode} MODE")

    def _same_rows(self, left: str, right: str, columns: list[str]) -> str:
        return " AND ".join(f"{left}.{c} IS NOT DISTINCT FROM {right}.{c}" for c in columns)

    def _auth_changed(self) -> None:
        super()._auth_changed()
        self.conn.execute("SELECT pg_notify('b24local_auth', '')")
