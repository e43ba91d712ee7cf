"""The request journal in SQL (storage.base JournalStore, contract test-portal.md T7): pages of entries,
one row per batch a server process appends."""

from __future__ import annotations

from b24local.storage.base import JournalPage
from b24local.storage.sql_base import SqlBase


class JournalSql(SqlBase):
    _Q_JOURNAL_INSERT = "INSERT INTO journal (id, at, entries) VALUES (?, ?, ?)"
    #: By id, not by counting: ids go up by one per entry (PostgreSQL's may skip some: then it keeps
    #: fewer), so the bound costs a range delete on the primary key.
    _Q_JOURNAL_TRIM = "DELETE FROM journal WHERE id <= ?"
    _Q_JOURNAL_NEWEST = "SELECT max(id) FROM journal"
    _Q_JOURNAL_CLEAR = "DELETE FROM journal"

    def journal_ids(self, count: int) -> list[int]:
        """``count`` new ids, increasing, never given before (hook: each backend's own counter)."""
        raise NotImplementedError

    def journal_append(self, page: JournalPage, keep: int) -> None:
        self.conn.execute(self._Q_JOURNAL_INSERT, (page.id, page.at, page.entries))
        self.conn.execute(self._Q_JOURNAL_TRIM, (page.id - keep,))

    def journal_pages(self, after_id: int | None, since: float | None) -> tuple[int, list[str]]:
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
        pages = [r[0] for r in self.conn.execute(f"SELECT entries FROM journal{condition}", params)]
        return int(newest), pages

    def journal_clear(self) -> None:
        self.conn.execute(self._Q_JOURNAL_CLEAR)
