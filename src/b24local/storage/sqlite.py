"""The built-in SQLite backend: WAL mode, foreign keys on, one transaction per call.

The server calls SQLite directly on its event loop: a call is a handful of indexed statements that
take microseconds, far less than a hop to a worker thread would cost. Within one process, calls
therefore run one at a time; across processes (``serve --workers N``), ``BEGIN IMMEDIATE`` and the
busy timeout serialise writers, and a database still busy after that is retried with backoff and
finally reported as :class:`~b24local.storage.busy.StorageBusy` (``_Scope``), never as a raw error.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from b24local.crm.entities import BindingKind, EntityType
from b24local.crm.query import Condition, Query
from b24local.storage.base import (
    Binding,
    MultifieldRow,
    OAuthApp,
    OAuthLogin,
    Row,
    User,
    Webhook,
    chunks,
)
from b24local.storage.busy import StorageBusy, sleep_before_retry
from b24local.storage.sql import SqlCompiler


class StorageError(Exception):
    """The database cannot be opened or migrated; the message is fit for a one-line CLI error."""


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("b24local.storage.migrations") / "sqlite"
    found = []
    for item in folder.iterdir():
        if item.name.endswith(".sql") and item.name[:4].isdigit():
            found.append((int(item.name[:4]), item.read_text(encoding="utf-8")))
    return sorted(found)


def path_from_url(url: str) -> str:
    """``sqlite:///b24local.db`` → ``b24local.db``; ``sqlite:////abs/x.db`` → ``/abs/x.db``."""
    if not url.startswith("sqlite://"):
        raise StorageError(f"not an SQLite database URL: {url}")
    rest = url[len("sqlite://") :]
    if rest.startswith("/"):
        rest = rest[1:]
    if not rest:
        raise StorageError("the SQLite database URL names no file")
    return rest


class SqliteTransaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    # Users and webhooks -------------------------------------------------------------------------
    def user_get(self, user_id: int) -> User | None:
        row = self.conn.execute(
            "SELECT id, name, last_name, is_admin, active, crm_access FROM b_user WHERE id = ?", (user_id,)
        ).fetchone()
        if row is None:
            return None
        return User(row[0], row[1], row[2] or "", bool(row[3]), bool(row[4]), bool(row[5]))

    def user_add(self, name: str, last_name: str, is_admin: bool, crm_access: bool = True) -> int:
        cur = self.conn.execute(
            "INSERT INTO b_user (name, last_name, is_admin, active, crm_access) VALUES (?, ?, ?, 1, ?)",
            (name, last_name, int(is_admin), int(crm_access)),
        )
        return int(cur.lastrowid or 0)

    def user_count(self) -> int:
        return int(self._one("SELECT count(*) FROM b_user"))

    def webhook_add(self, user_id: int, code_hash: str, scopes: Sequence[str]) -> int:
        cur = self.conn.execute(
            "INSERT INTO webhook (user_id, code_hash, scope, active) VALUES (?, ?, ?, 1)",
            (user_id, code_hash, ",".join(scopes)),
        )
        return int(cur.lastrowid or 0)

    def webhooks_of_user(self, user_id: int) -> list[Webhook]:
        rows = self.conn.execute(
            "SELECT id, user_id, code_hash, scope, active FROM webhook WHERE user_id = ?", (user_id,)
        ).fetchall()
        return [Webhook(r[0], r[1], r[2], frozenset(filter(None, r[3].split(","))), bool(r[4])) for r in rows]

    def webhook_logins(self, user_id: int) -> list[tuple[Webhook, User]]:
        rows = self.conn.execute(
            "SELECT w.id, w.code_hash, w.scope, w.active, "
            "u.name, u.last_name, u.is_admin, u.active, u.crm_access "
            "FROM webhook w JOIN b_user u ON u.id = w.user_id WHERE w.user_id = ?",
            (user_id,),
        ).fetchall()
        return [
            (
                Webhook(r[0], user_id, r[1], frozenset(filter(None, r[2].split(","))), bool(r[3])),
                User(user_id, r[4], r[5] or "", bool(r[6]), bool(r[7]), bool(r[8])),
            )
            for r in rows
        ]

    def webhook_set_active(self, webhook_id: int, active: bool) -> None:
        self.conn.execute("UPDATE webhook SET active = ? WHERE id = ?", (int(active), webhook_id))

    def webhook_delete(self, webhook_id: int) -> None:
        self.conn.execute("DELETE FROM webhook WHERE id = ?", (webhook_id,))

    # OAuth 2.0 applications -------------------------------------------------------------------------
    _APP_COLUMNS = "a.id, a.name, a.client_id, a.secret_hash, a.scope, a.redirect_uri, a.version, a.active"

    @staticmethod
    def _app(r: Sequence[Any]) -> OAuthApp:
        scopes = frozenset(filter(None, r[4].split(",")))
        return OAuthApp(r[0], r[1], r[2], r[3], scopes, r[5], r[6], bool(r[7]))

    def oauth_member_id(self) -> str:
        return str(self._one("SELECT member_id FROM oauth_portal LIMIT 1"))

    def oauth_app_add(
        self, name: str, client_id: str, secret_hash: str, scopes: Sequence[str], redirect_uri: str
    ) -> int:
        cur = self.conn.execute(
            "INSERT INTO oauth_app (name, client_id, secret_hash, scope, redirect_uri) "
            "VALUES (?, ?, ?, ?, ?)",
            (name, client_id, secret_hash, ",".join(scopes), redirect_uri),
        )
        return int(cur.lastrowid or 0)

    def oauth_app_by_client_id(self, client_id: str) -> OAuthApp | None:
        row = self.conn.execute(
            f"SELECT {self._APP_COLUMNS} FROM oauth_app a WHERE a.client_id = ?", (client_id,)
        ).fetchone()
        return None if row is None else self._app(row)

    def oauth_app_get(self, app_id: int) -> OAuthApp | None:
        row = self.conn.execute(
            f"SELECT {self._APP_COLUMNS} FROM oauth_app a WHERE a.id = ?", (app_id,)
        ).fetchone()
        return None if row is None else self._app(row)

    def oauth_code_add(self, app_id: int, user_id: int, code_hash: str, expires_at: int) -> None:
        self.conn.execute(
            "INSERT INTO oauth_code (app_id, user_id, code_hash, expires_at) VALUES (?, ?, ?, ?)",
            (app_id, user_id, code_hash, expires_at),
        )

    def oauth_code_take(self, app_id: int, code_hash: str, now: float) -> int | None:
        row = self.conn.execute(
            "UPDATE oauth_code SET used = 1 "
            "WHERE code_hash = ? AND app_id = ? AND used = 0 AND expires_at > ? RETURNING user_id",
            (code_hash, app_id, now),
        ).fetchone()
        return None if row is None else int(row[0])

    def oauth_token_add(
        self,
        app_id: int,
        user_id: int,
        *,
        access_hash: str,
        access_expires_at: int,
        refresh_hash: str,
        refresh_expires_at: int,
    ) -> int:
        cur = self.conn.execute(
            "INSERT INTO oauth_token (app_id, user_id, access_hash, access_expires_at, refresh_hash, "
            "refresh_expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            (app_id, user_id, access_hash, access_expires_at, refresh_hash, refresh_expires_at),
        )
        return int(cur.lastrowid or 0)

    def oauth_refresh_take(self, app_id: int, refresh_hash: str, now: float) -> int | None:
        row = self.conn.execute(
            "UPDATE oauth_token SET refreshed = 1 "
            "WHERE refresh_hash = ? AND app_id = ? AND refreshed = 0 AND refresh_expires_at > ? "
            "RETURNING user_id",
            (refresh_hash, app_id, now),
        ).fetchone()
        return None if row is None else int(row[0])

    def oauth_login(self, access_hash: str) -> OAuthLogin | None:
        r = self.conn.execute(
            f"SELECT t.id, t.access_hash, t.access_expires_at, {self._APP_COLUMNS}, "
            "u.id, u.name, u.last_name, u.is_admin, u.active, u.crm_access "
            "FROM oauth_token t JOIN oauth_app a ON a.id = t.app_id JOIN b_user u ON u.id = t.user_id "
            "WHERE t.access_hash = ?",
            (access_hash,),
        ).fetchone()
        if r is None:
            return None
        user = User(r[11], r[12], r[13] or "", bool(r[14]), bool(r[15]), bool(r[16]))
        return OAuthLogin(r[0], r[1], r[2], self._app(r[3:11]), user)

    # Departments and CRM roles --------------------------------------------------------------------
    _USER_COLUMNS = ("name", "last_name", "is_admin", "active", "crm_access")

    def user_update(self, user_id: int, changes: Mapping[str, Any]) -> None:
        columns = [c for c in self._USER_COLUMNS if c in changes]
        if not columns:
            return
        values = [int(changes[c]) if isinstance(changes[c], bool) else changes[c] for c in columns]
        assignments = ", ".join(f"{c} = ?" for c in columns)
        self.conn.execute(f"UPDATE b_user SET {assignments} WHERE id = ?", [*values, user_id])

    def department_add(self, name: str, parent_id: int | None) -> int:
        cur = self.conn.execute("INSERT INTO b_department (name, parent_id) VALUES (?, ?)", (name, parent_id))
        return int(cur.lastrowid or 0)

    def department_exists(self, department_id: int) -> bool:
        return self._one("SELECT 1 FROM b_department WHERE id = ?", (department_id,)) is not None

    def user_departments(self, user_id: int) -> list[int]:
        rows = self.conn.execute(
            "SELECT department_id FROM b_user_department WHERE user_id = ? ORDER BY 1", (user_id,)
        )
        return [r[0] for r in rows]

    def user_departments_set(self, user_id: int, department_ids: Sequence[int]) -> None:
        self.conn.execute("DELETE FROM b_user_department WHERE user_id = ?", (user_id,))
        self.conn.executemany(
            "INSERT INTO b_user_department (user_id, department_id) VALUES (?, ?)",
            [(user_id, d) for d in dict.fromkeys(department_ids)],
        )

    def role_add(self, name: str, levels: Mapping[tuple[str, str], int]) -> int:
        cur = self.conn.execute("INSERT INTO crm_role (name) VALUES (?)", (name,))
        role_id = int(cur.lastrowid or 0)
        self.conn.executemany(
            "INSERT INTO crm_role_permission (role_id, entity, action, level) VALUES (?, ?, ?, ?)",
            [(role_id, entity, action, int(level)) for (entity, action), level in levels.items()],
        )
        return role_id

    def role_exists(self, role_id: int) -> bool:
        return self._one("SELECT 1 FROM crm_role WHERE id = ?", (role_id,)) is not None

    def role_assign(
        self, role_id: int, *, user_id: int | None = None, department_id: int | None = None
    ) -> bool:
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO crm_role_holder (role_id, user_id, department_id) VALUES (?, ?, ?)",
            (role_id, user_id, department_id),
        )
        return cur.rowcount > 0

    # Both walk the department tree with UNION ALL and aggregate in Python: no temporary B-trees, which
    # cost ten times the rest of the query. A parent always exists before its child, so the tree has no
    # cycles; the depth bound only guards against a database edited by hand.
    def role_levels(self, user_id: int) -> dict[tuple[str, str], int]:
        rows = self.conn.execute(
            "WITH RECURSIVE up(id, depth) AS ("
            " SELECT department_id, 0 FROM b_user_department WHERE user_id = ?"
            " UNION ALL SELECT d.parent_id, up.depth + 1 FROM up JOIN b_department d ON d.id = up.id"
            " WHERE d.parent_id IS NOT NULL AND up.depth < 100) "
            "SELECT p.entity, p.action, p.level FROM crm_role_holder h "
            "JOIN crm_role_permission p ON p.role_id = h.role_id WHERE h.user_id = ? "
            "UNION ALL SELECT p.entity, p.action, p.level FROM up "
            "JOIN crm_role_holder h ON h.department_id = up.id "
            "JOIN crm_role_permission p ON p.role_id = h.role_id",
            (user_id, user_id),
        )
        levels: dict[tuple[str, str], int] = {}
        for entity, action, level in rows:
            if level > levels.get((entity, action), -1):
                levels[(entity, action)] = level
        return levels

    def department_members(self, user_id: int) -> tuple[frozenset[int], frozenset[int]]:
        rows = self.conn.execute(
            "WITH RECURSIVE down(id, depth) AS ("
            " SELECT department_id, 0 FROM b_user_department WHERE user_id = ?"
            " UNION ALL SELECT d.id, down.depth + 1 FROM down JOIN b_department d ON d.parent_id = down.id"
            " WHERE down.depth < 100) "
            "SELECT ud.user_id, down.depth FROM down JOIN b_user_department ud ON ud.department_id = down.id",
            (user_id,),
        ).fetchall()
        return frozenset(r[0] for r in rows if r[1] == 0), frozenset(r[0] for r in rows)

    # Entities -------------------------------------------------------------------------------------
    def _row(self, cur: sqlite3.Cursor, values: Sequence[Any]) -> Row:
        return {d[0]: v for d, v in zip(cur.description, values, strict=True)}

    def entity_get(self, entity: EntityType, entity_id: int) -> Row | None:
        cur = self.conn.execute(f"SELECT * FROM {entity.table} WHERE id = ?", (entity_id,))
        values = cur.fetchone()
        return None if values is None else self._row(cur, values)

    def entity_insert(self, entity: EntityType, values: Row) -> int:
        columns = list(values)
        marks = ", ".join("?" for _ in columns)
        cur = self.conn.execute(
            f"INSERT INTO {entity.table} ({', '.join(columns)}) VALUES ({marks})",
            [values[c] for c in columns],
        )
        return int(cur.lastrowid or 0)

    def entity_update(self, entity: EntityType, entity_id: int, values: Row) -> None:
        if not values:
            return
        assignments = ", ".join(f"{c} = ?" for c in values)
        self.conn.execute(
            f"UPDATE {entity.table} SET {assignments} WHERE id = ?", [*values.values(), entity_id]
        )

    def entity_delete(self, entity: EntityType, entity_id: int) -> None:
        self.conn.execute(
            "DELETE FROM crm_multifield WHERE entity_type = ? AND element_id = ?", (entity.name, entity_id)
        )
        self.conn.execute(f"DELETE FROM {entity.table} WHERE id = ?", (entity_id,))

    def entity_select(self, entity: EntityType, query: Query) -> list[Row]:
        compiler = SqlCompiler(entity)
        where = compiler.condition(query.where)
        order = compiler.order(query)
        sql = f"SELECT * FROM {entity.table} WHERE {where} ORDER BY {order}"
        if query.limit is not None:
            sql += f" LIMIT {int(query.limit)} OFFSET {int(query.offset)}"
        cur = self.conn.execute(sql, compiler.params)
        return [self._row(cur, values) for values in cur.fetchall()]

    def entity_count(self, entity: EntityType, where: Condition) -> int:
        compiler = SqlCompiler(entity)
        sql = f"SELECT count(*) FROM {entity.table} WHERE {compiler.condition(where)}"
        return int(self._one(sql, compiler.params))

    def access_rows(self, entity: EntityType, ids: Sequence[int]) -> dict[int, Row]:
        found: dict[int, Row] = {}
        for part in chunks(list(ids)):
            marks = ", ".join("?" for _ in part)
            rows = self.conn.execute(
                f"SELECT id, assigned_by_id, opened FROM {entity.table} WHERE id IN ({marks})", list(part)
            )
            found.update((r[0], {"id": r[0], "assigned_by_id": r[1], "opened": r[2]}) for r in rows)
        return found

    # Multifields ----------------------------------------------------------------------------------
    def multifields_of(self, entity: EntityType, ids: Sequence[int]) -> dict[int, list[MultifieldRow]]:
        out: dict[int, list[MultifieldRow]] = {}
        for part in chunks(list(ids)):
            marks = ", ".join("?" for _ in part)
            rows = self.conn.execute(
                "SELECT id, element_id, type_id, value_type, value FROM crm_multifield "
                f"WHERE entity_type = ? AND element_id IN ({marks}) ORDER BY id",
                [entity.name, *part],
            )
            for r in rows:
                out.setdefault(r[1], []).append(MultifieldRow(r[0], r[1], r[2], r[3], r[4]))
        return out

    def multifield_insert(
        self, entity: EntityType, element_id: int, type_id: str, value_type: str, value: str
    ) -> int:
        cur = self.conn.execute(
            "INSERT INTO crm_multifield (entity_type, element_id, type_id, value_type, value) "
            "VALUES (?, ?, ?, ?, ?)",
            (entity.name, element_id, type_id, value_type, value),
        )
        return int(cur.lastrowid or 0)

    def multifield_update(self, row_id: int, value_type: str, value: str) -> None:
        self.conn.execute(
            "UPDATE crm_multifield SET value_type = ?, value = ? WHERE id = ?", (value_type, value, row_id)
        )

    def multifield_delete(self, row_id: int) -> None:
        self.conn.execute("DELETE FROM crm_multifield WHERE id = ?", (row_id,))

    # Bindings -------------------------------------------------------------------------------------
    def bindings_get(self, kind: BindingKind, owner_id: int) -> list[Binding]:
        rows = self.conn.execute(
            f"SELECT {kind.bound_column}, sort, is_primary, role_id FROM {kind.table} "
            f"WHERE {kind.owner_column} = ? ORDER BY sort, {kind.bound_column}",
            (owner_id,),
        ).fetchall()
        return [Binding(r[0], r[1], r[2] == "Y", r[3]) for r in rows]

    def bindings_replace(self, kind: BindingKind, owner_id: int, bindings: Sequence[Binding]) -> None:
        self.conn.execute(f"DELETE FROM {kind.table} WHERE {kind.owner_column} = ?", (owner_id,))
        self.conn.executemany(
            f"INSERT INTO {kind.table} ({kind.owner_column}, {kind.bound_column}, sort, role_id, is_primary) "
            "VALUES (?, ?, ?, ?, ?)",
            [(owner_id, b.bound_id, b.sort, b.role_id, "Y" if b.is_primary else "N") for b in bindings],
        )

    def binding_insert(self, kind: BindingKind, owner_id: int, binding: Binding) -> None:
        self.conn.execute(
            f"INSERT INTO {kind.table} ({kind.owner_column}, {kind.bound_column}, sort, role_id, is_primary) "
            "VALUES (?, ?, ?, ?, ?)",
            (owner_id, binding.bound_id, binding.sort, binding.role_id, "Y" if binding.is_primary else "N"),
        )

    def binding_delete(self, kind: BindingKind, owner_id: int, bound_id: int) -> None:
        self.conn.execute(
            f"DELETE FROM {kind.table} WHERE {kind.owner_column} = ? AND {kind.bound_column} = ?",
            (owner_id, bound_id),
        )

    def binding_set_primary(self, kind: BindingKind, owner_id: int, bound_id: int | None) -> None:
        # Demote first so that the partial unique index on the primary never sees two.
        self.conn.execute(
            f"UPDATE {kind.table} SET is_primary = 'N' WHERE {kind.owner_column} = ? AND is_primary = 'Y'",
            (owner_id,),
        )
        if bound_id is not None:
            self.conn.execute(
                f"UPDATE {kind.table} SET is_primary = 'Y' "
                f"WHERE {kind.owner_column} = ? AND {kind.bound_column} = ?",
                (owner_id, bound_id),
            )

    def owners_of(self, kind: BindingKind, bound_id: int) -> list[int]:
        rows = self.conn.execute(
            f"SELECT {kind.owner_column} FROM {kind.table} WHERE {kind.bound_column} = ? ORDER BY 1",
            (bound_id,),
        )
        return [r[0] for r in rows]

    def primaries(self, kind: BindingKind, owner_ids: Sequence[int]) -> dict[int, int]:
        out: dict[int, int] = {}
        for part in chunks(list(owner_ids)):
            marks = ", ".join("?" for _ in part)
            rows = self.conn.execute(
                f"SELECT {kind.owner_column}, {kind.bound_column} FROM {kind.table} "
                f"WHERE {kind.owner_column} IN ({marks}) AND is_primary = 'Y'",
                list(part),
            )
            out.update((r[0], r[1]) for r in rows)
        return out


def is_busy(exc: BaseException) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED (any extended code): another connection holds a lock."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


class _Scope:
    """One transaction: commits when the block ends normally, rolls back on any exception.

    ``BEGIN`` and ``COMMIT`` that find the database busy are retried with backoff until ``lock_wait``
    seconds have passed since the block was entered (SQLite itself already waits up to the busy
    timeout inside each attempt); past that, or when a statement inside the block finds it busy, the
    transaction is rolled back and :class:`StorageBusy` raised, which the dispatcher may rerun.
    """

    __slots__ = ("begin", "deadline", "lock_wait", "tx")

    def __init__(self, tx: SqliteTransaction, begin: str, lock_wait: float) -> None:
        self.tx = tx
        self.begin = begin
        self.lock_wait = lock_wait
        self.deadline = 0.0

    def __enter__(self) -> SqliteTransaction:
        self.deadline = time.monotonic() + self.lock_wait
        self._retrying(self.begin)
        return self.tx

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if exc is None:
            try:
                self._retrying("COMMIT")
            except BaseException:
                self._rollback()
                raise
            return
        self._rollback()
        if is_busy(exc):
            raise StorageBusy(str(exc)) from exc

    def _retrying(self, statement: str) -> None:
        attempt = 0
        while True:
            try:
                self.tx.conn.execute(statement)
                return
            except sqlite3.OperationalError as exc:
                if not is_busy(exc):
                    raise
                if not sleep_before_retry(attempt, self.deadline):
                    raise StorageBusy(str(exc)) from exc
                attempt += 1

    def _rollback(self) -> None:
        if self.tx.conn.in_transaction:
            self.tx.conn.execute("ROLLBACK")


class _Checkpointer(threading.Thread):
    """Moves WAL pages into the database from a thread of its own (PASSIVE: never blocks a writer),
    so that the fsync of a checkpoint is not paid inside a request on the event loop."""

    def __init__(self, path: str, interval: float) -> None:
        super().__init__(name="b24local-wal-checkpoint", daemon=True)
        self.path = path
        self.interval = interval
        self.stopping = threading.Event()

    def run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            while not self.stopping.wait(self.interval):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:  # busy or locked: the next round tries again
                    continue
        finally:
            conn.close()


class SqliteStorage:
    def __init__(self, url: str, *, busy_timeout_ms: int = 10_000, serving: bool = False) -> None:
        self.path = path_from_url(url)
        #: The bound on waiting for the database lock in one transaction (seconds).
        self.lock_wait = busy_timeout_ms / 1000
        #: The migrations this open applied (``db upgrade`` reports them).
        self.applied_migrations: list[int] = []
        parent = Path(self.path).parent
        if not parent.is_dir():
            raise StorageError(f"cannot open database {self.path}: directory {parent} does not exist")
        try:
            self.conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_ms / 1000
            )
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            self.conn.execute("PRAGMA cache_size = -65536")  # 64 MiB of pages (the default is 2 MiB)
            self._migrate()
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open database {self.path}: {exc}") from None
        self._tx = SqliteTransaction(self.conn)
        self._checkpointer: _Checkpointer | None = None
        if serving:
            self.conn.execute("PRAGMA wal_autocheckpoint = 0")
            self._checkpointer = _Checkpointer(self.path, interval=0.5)
            self._checkpointer.start()

    def _migrate(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)")
            done = {r[0] for r in self.conn.execute("SELECT version FROM schema_migrations")}
            for version, script in _migrations():
                if version in done:
                    continue
                for statement in _statements(script):
                    self.conn.execute(statement)
                self.conn.execute("INSERT INTO schema_migrations (version) VALUES (?)", (version,))
                self.applied_migrations.append(version)
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def schema_version(self) -> int:
        """The highest migration applied to the database."""
        with self.read() as tx:
            return int(tx._one("SELECT coalesce(max(version), 0) FROM schema_migrations"))

    def read(self) -> _Scope:
        return _Scope(self._tx, "BEGIN", self.lock_wait)

    def write(self) -> _Scope:
        return _Scope(self._tx, "BEGIN IMMEDIATE", self.lock_wait)

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stopping.set()
            self._checkpointer.join()
            self._checkpointer = None
            with contextlib.suppress(sqlite3.Error):
                # Other server processes may be using the file: do not wait long for them.
                self.conn.execute("PRAGMA busy_timeout = 200")
                self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.conn.close()


def _statements(script: str) -> list[str]:
    """Split a migration script on ``;`` at line ends (our scripts have no semicolons in literals)."""
    out = []
    for chunk in script.split(";\n"):
        lines = [ln for ln in chunk.splitlines() if not ln.strip().startswith("--")]
        text = "\n".join(lines).strip().rstrip(";")
        if text:
            out.append(text)
    return out
