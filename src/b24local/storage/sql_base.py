"""The base of the SQL transaction classes: the hooks each backend fills in and the helpers every
concern's part (sql_auth.py, sql_roles.py, sql_limits.py, sql_crm.py) uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from b24local.model.entities import BindingKind
from b24local.storage.base import Row
from b24local.storage.sql_compiler import SqlCompiler


class SqlBase:
    """What every part of a SQL transaction shares: the connection, the statement helpers and hooks.

    A backend sets ``ph`` (its placeholder), ``compiler`` and ``_ROLE_ASSIGN``, and implements the
    hooks for what differs: ``_insert`` (how an insert returns its id), ``_executemany``, ``_names``
    (column names of a cursor) and ``_lock_owner`` (row locking before a binding read or write).
    The fixed statements (``_Q_*``) are written with ``?`` and rewritten once per backend class.
    """

    #: The DB-API placeholder of the driver.
    ph = "?"
    #: The condition compiler of the dialect.
    compiler: type[SqlCompiler] = SqlCompiler
    #: Give a role to a user or a department unless it holds it already (role, user, department).
    _ROLE_ASSIGN = ""

    conn: Any

    #: From this OFFSET on, a list page selects its ids first and its rows after (PostgreSQL fetches
    #: every skipped row from the table otherwise); None: never (SQLite's ids are its rowids, so
    #: skipping costs the same either way).
    DEFERRED_OFFSET: int | None = None

    #: How many statements' column names a process keeps.
    NAMES_KEPT = 256

    def __init__(self) -> None:
        self._column_names: dict[str, tuple[str, ...]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.ph != "?":
            for name in dir(cls):
                if name.startswith("_Q_") or name == "_ROLE_ASSIGN":
                    setattr(cls, name, getattr(cls, name).replace("?", cls.ph))

    # Hooks ------------------------------------------------------------------------------------------
    def _insert(self, sql: str, params: Sequence[Any]) -> int:
        """Run an INSERT of one row; the new row's id."""
        raise NotImplementedError

    def _executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def _names(self, cur: Any) -> tuple[str, ...]:
        """The column names of a cursor's result."""
        raise NotImplementedError

    def _rows(self, sql: str, cur: Any, rows: Sequence[Sequence[Any]]) -> list[Row]:
        """Result rows as dicts. The names are worked out once per statement text (a driver builds
        them anew for every ``description``: for PostgreSQL that cost more than the rows themselves)."""
        if not rows:
            return []
        names = self._column_names.get(sql)
        if names is None or len(names) != len(rows[0]):  # a migration may have added columns
            if len(self._column_names) >= self.NAMES_KEPT:
                self._column_names.clear()
            names = self._column_names[sql] = self._names(cur)
        return [dict(zip(names, values, strict=True)) for values in rows]

    def _lock_owner(self, kind: BindingKind, owner_id: int) -> None:
        """Lock the owner row before the first read or write of its bindings in a write call."""

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]
