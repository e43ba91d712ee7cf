"""The request journal in SQL (storage.base JournalStore, contract test-portal.md T7): pages of entries,
one row per batch a server process appends."""

from __future__ import annotations

from b24local.storage.sql_base import SqlBase


class JournalSql(SqlBase):
    _Q_JOURNAL_INSERT = "INSERT INTO journal (id, entry_count, at, entries) VALUES (?, ?, ?, ?)"
    #: By id, not by counting: ids go up by one per entry, so the bound costs a range delete on the
    #: primary key (a page whose newest entry is past the bound holds only entries past it).
    _Q_JOURNAL_TRIM = "DELETE FROM journal WHERE id <= ?"
    _Q_JOURNAL_NEWEST = "SELECT max(id) FROM journal"
    _Q_JOURNAL_CLEAR = "DELETE FROM journal"

    def _journal_last_id(self, count: int) -> int:
        """Take ``count`` new ids in a row, never given before; the last of them (hook)."""
        raise NotImplementedError

    def journal_append(self, count: int, at: float, entries: bytes, keep: int) -> int:
        last = self._journal_last_id(count)
        self.conn.execute(self._Q_JOURNAL_INSERT, (last, count, at, entries))
        self.conn.execute(self._Q_JOURNAL_TRIM, (last - keep,))
        return last

    def journal_pages(
        self, after_id: int | None, since: float | None
    ) -> tuple[int, list[tuple[int, int, bytes]]]:
        ph = self.ph
        parts: list[str] = []
        params: list[float] = []
        if after_id is not None:
            parts.append(f"id > {ph}")
            params.append(after_id)
        if since is not None:
            parts.append(f"at >= {ph}")
            params.append(since)
        condition = f" WHERE {' AND '.join(parts)}" if parts else ""
        newest = self._one(self._Q_JOURNAL_NEWEST) or 0
        sql = f"SELECT id, entry_count, entries FROM journal{condition}"
        return int(newest), [(int(r[0]), int(r[1]), bytes(r[2])) for r in self.conn.execute(sql, params)]

    def journal_clear(self) -> None:
        self.conn.execute(self._Q_JOURNAL_CLEAR)
