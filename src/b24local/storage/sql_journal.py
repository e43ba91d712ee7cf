"""The request journal in SQL (storage.base JournalStore, contract test-portal.md T7)."""

from __future__ import annotations

from typing import Any, cast

from b24local.storage.base import JournalFilter, JournalRow
from b24local.storage.sql_base import SqlBase


class JournalSql(SqlBase):
    """Appending a process's buffered entries in one statement, trimming, reading, clearing."""

    _Q_JOURNAL_INSERT = (
        "INSERT INTO journal (id, at, method, status, user_id, batch_id, entry) VALUES (?, ?, ?, ?, ?, ?, ?)"
    )
    #: By id, not by counting: ids go up by one per entry (PostgreSQL's may skip some: then it keeps
    #: fewer), so the bound costs a range delete on the primary key.
    _Q_JOURNAL_TRIM = "DELETE FROM journal WHERE id <= ?"
    _Q_JOURNAL_CLEAR = "DELETE FROM journal"

    def journal_ids(self, count: int) -> list[int]:
        """``count`` new ids, increasing, never given before (hook: each backend's own counter)."""
        raise NotImplementedError

    def journal_append(self, rows: list[JournalRow], keep: int) -> None:
        self._executemany(self._Q_JOURNAL_INSERT, cast("list[tuple[Any, ...]]", rows))
        self.conn.execute(self._Q_JOURNAL_TRIM, (max(row.id for row in rows) - keep,))

    def journal_select(self, where: JournalFilter, limit: int) -> list[tuple[int, int | None, float, str]]:
        ph = self.ph
        parts: list[str] = []
        params: list[object] = []
        for column, value in (
            ("method", where.method),
            ("status", where.status),
            ("user_id", where.user_id),
        ):
            if value is not None:
                parts.append(f"{column} = {ph}")
                params.append(value)
        if where.after_id is not None:
            parts.append(f"id > {ph}")
            params.append(where.after_id)
        if where.since is not None:
            parts.append(f"at >= {ph}")
            params.append(where.since)
        condition = f"WHERE {' AND '.join(parts)} " if parts else ""
        sql = f"SELECT id, batch_id, at, entry FROM journal {condition}ORDER BY id DESC LIMIT {ph}"
        return [(r[0], r[1], r[2], r[3]) for r in self.conn.execute(sql, [*params, limit])]

    def journal_clear(self) -> None:
        self.conn.execute(self._Q_JOURNAL_CLEAR)
