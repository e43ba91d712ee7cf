"""The portal limits' state in SQL (storage.base LimitStore)."""

from __future__ import annotations

from b24local.storage.sql_base import SqlBase


class LimitSql(SqlBase):
    """The request bucket and the operating-time baskets."""

    # Portal limits (T1–T2) shared through the database ---------------------------------------------
    #: Drain the bucket to ``now``, then admit one request if it fits: one statement, so concurrent
    #: takes serialise on the row (SQLite's write lock, PostgreSQL's row lock). A refused take changes
    #: nothing: draining later from the old (level, at) gives the same level.
    _Q_BUCKET_TAKE = (
        "UPDATE limit_bucket SET level = max(0.0, level - max(0.0, ? - at) * ?) + 1, at = max(at, ?) "
        "WHERE id = 1 AND max(0.0, level - max(0.0, ? - at) * ?) + 1 <= ? RETURNING level"
    )
    _Q_OPERATING_USAGE = (
        "SELECT sum(seconds), min(first_at) FROM limit_operating "
        "WHERE credential_kind = ? AND credential_id = ? AND method = ? AND first_at + ? > ?"
    )
    _Q_OPERATING_EXPIRE = (
        "DELETE FROM limit_operating WHERE credential_kind = ? AND credential_id = ? AND method = ? "
        "AND first_at + ? <= ?"
    )
    _Q_OPERATING_ADD = (
        "INSERT INTO limit_operating (credential_kind, credential_id, method, minute, first_at, seconds) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (credential_kind, credential_id, method, minute) "
        "DO UPDATE SET seconds = limit_operating.seconds + excluded.seconds"
    )
    _Q_OPERATING_SWEEP = "DELETE FROM limit_operating WHERE first_at + ? <= ?"

    def limit_take(self, fits: float, drain: float, now: float) -> bool:
        row = self.conn.execute(self._Q_BUCKET_TAKE, (now, drain, now, now, drain, fits)).fetchone()
        return row is not None

    def operating_usage(
        self, key: tuple[str, int, str], window: float, now: float
    ) -> tuple[float, float | None]:
        total, first = self.conn.execute(self._Q_OPERATING_USAGE, (*key, window, now)).fetchone()
        return float(total or 0.0), None if first is None else float(first)

    def operating_add(
        self, key: tuple[str, int, str], minute: int, seconds: float, window: float, now: float
    ) -> tuple[float, float | None]:
        self.conn.execute(self._Q_OPERATING_EXPIRE, (*key, window, now))
        self.conn.execute(self._Q_OPERATING_ADD, (*key, minute, now, seconds))
        return self.operating_usage(key, window, now)

    def operating_sweep(self, window: float, now: float) -> None:
        self.conn.execute(self._Q_OPERATING_SWEEP, (window, now))
