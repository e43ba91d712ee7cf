"""The PostgreSQL backend: the same schema and semantics as SQLite, for several server processes.

The server calls PostgreSQL synchronously on its event loop, as it does SQLite: a statement is one
round trip on a local socket (about 50–100 µs), and one process runs one call at a time. A call that
waits for a row lock held by another process therefore holds up its own process until that call
commits (issue 6 may move PostgreSQL calls off the loop).

Isolation mirrors SQLite's: a read call runs in one REPEATABLE READ READ ONLY transaction (one
snapshot, never a serialization failure); a write call runs in READ COMMITTED and every binding
write first locks its owner row (``SELECT … FOR NO KEY UPDATE``), so that concurrent calls on the
same lead serialise. A deadlock or serialization failure rolls back and raises
:class:`~b24local.storage.busy.StorageBusy`; the dispatcher reruns the call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

import psycopg
import psycopg.errors
from psycopg.adapt import Dumper

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
from b24local.storage.busy import LOCK_WAIT, StorageBusy
from b24local.storage.sql import SqlCompiler
from b24local.storage.sqlite import StorageError, _statements

#: Serialises concurrent migrations of one database (pg_advisory_xact_lock key).
_MIGRATION_LOCK = 0x62_32_34_6C  # "b24l"

#: Errors after which the whole call is rerun from the start.
_CONFLICTS = (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected)


class PgCompiler(SqlCompiler):
    like = "ILIKE"  # SQLite's LIKE ignores ASCII case; the text columns collate "C", so ILIKE does too
    nulls_asc = " NULLS FIRST"  # SQLite sorts NULL as the smallest value
    nulls_desc = " NULLS LAST"

    def text(self, expr: str) -> str:
        return f"CAST({expr} AS TEXT)"


class _UntypedNumberDumper(Dumper):
    """Numbers go to the server untyped, as SQLite takes them: compared with a text column they are
    text, with a number column numbers (PostgreSQL has no ``text = bigint`` operator)."""

    oid = 0  # unknown: the server infers the type from the context

    def dump(self, obj: Any) -> bytes:
        return repr(obj).encode() if isinstance(obj, float) else str(int(obj)).encode()


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("b24local.storage.migrations") / "postgres"
    found = []
    for item in folder.iterdir():
        if item.name.endswith(".sql") and item.name[:4].isdigit():
            found.append((int(item.name[:4]), item.read_text(encoding="utf-8")))
    return sorted(found)


def _connect(url: str) -> psycopg.Connection[Any]:
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise StorageError(f"cannot connect to database {_redacted(url)}: {message}") from None
    conn.adapters.register_dumper(int, _UntypedNumberDumper)
    conn.adapters.register_dumper(float, _UntypedNumberDumper)
    return conn


def _redacted(url: str) -> str:
    """The URL without its password (for messages)."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}{':***' if ':' in credentials else ''}@{host}"


class PostgresTransaction:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self.writing = False
        self._locked: set[tuple[str, int]] = set()

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def _insert(self, sql: str, params: Sequence[Any]) -> int:
        row = self.conn.execute(f"{sql} RETURNING id", params).fetchone()
        assert row is not None
        return int(row[0])

    def _lock_owner(self, kind: BindingKind, owner_id: int) -> None:
        """Lock the owner row before the first read or write of its bindings in a write call."""
        if not self.writing or (kind.owner.table, owner_id) in self._locked:
            return
        self.conn.execute(f"SELECT 1 FROM {kind.owner.table} WHERE id = %s FOR NO KEY UPDATE", (owner_id,))
        self._locked.add((kind.owner.table, owner_id))

    # Users and webhooks -------------------------------------------------------------------------
    def user_get(self, user_id: int) -> User | None:
        row = self.conn.execute(
            "SELECT id, name, last_name, is_admin, active, crm_access FROM b_user WHERE id = %s", (user_id,)
        ).fetchone()
        if row is None:
            return None
        return User(row[0], row[1], row[2] or "", bool(row[3]), bool(row[4]), bool(row[5]))

    def user_add(self, name: str, last_name: str, is_admin: bool, crm_access: bool = True) -> int:
        new_id = self._insert(
            "INSERT INTO b_user (name, last_name, is_admin, active, crm_access) VALUES (%s, %s, %s, 1, %s)",
            (name, last_name, int(is_admin), int(crm_access)),
        )
        return new_id

    def user_count(self) -> int:
        return int(self._one("SELECT count(*) FROM b_user"))

    def webhook_add(self, user_id: int, code_hash: str, scopes: Sequence[str]) -> int:
        new_id = self._insert(
            "INSERT INTO webhook (user_id, code_hash, scope, active) VALUES (%s, %s, %s, 1)",
            (user_id, code_hash, ",".join(scopes)),
        )
        return new_id

    def webhooks_of_user(self, user_id: int) -> list[Webhook]:
        rows = self.conn.execute(
            "SELECT id, user_id, code_hash, scope, active FROM webhook WHERE user_id = %s", (user_id,)
        ).fetchall()
        return [Webhook(r[0], r[1], r[2], frozenset(filter(None, r[3].split(","))), bool(r[4])) for r in rows]

    def webhook_logins(self, user_id: int) -> list[tuple[Webhook, User]]:
        rows = self.conn.execute(
            "SELECT w.id, w.code_hash, w.scope, w.active, "
            "u.name, u.last_name, u.is_admin, u.active, u.crm_access "
            "FROM webhook w JOIN b_user u ON u.id = w.user_id WHERE w.user_id = %s",
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
        self.conn.execute("UPDATE webhook SET active = %s WHERE id = %s", (int(active), webhook_id))

    def webhook_delete(self, webhook_id: int) -> None:
        self.conn.execute("DELETE FROM webhook WHERE id = %s", (webhook_id,))

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
        new_id = self._insert(
            "INSERT INTO oauth_app (name, client_id, secret_hash, scope, redirect_uri) "
            "VALUES (%s, %s, %s, %s, %s)",
            (name, client_id, secret_hash, ",".join(scopes), redirect_uri),
        )
        return new_id

    def oauth_app_by_client_id(self, client_id: str) -> OAuthApp | None:
        row = self.conn.execute(
            f"SELECT {self._APP_COLUMNS} FROM oauth_app a WHERE a.client_id = %s", (client_id,)
        ).fetchone()
        return None if row is None else self._app(row)

    def oauth_app_get(self, app_id: int) -> OAuthApp | None:
        row = self.conn.execute(
            f"SELECT {self._APP_COLUMNS} FROM oauth_app a WHERE a.id = %s", (app_id,)
        ).fetchone()
        return None if row is None else self._app(row)

    def oauth_code_add(self, app_id: int, user_id: int, code_hash: str, expires_at: int) -> None:
        self.conn.execute(
            "INSERT INTO oauth_code (app_id, user_id, code_hash, expires_at) VALUES (%s, %s, %s, %s)",
            (app_id, user_id, code_hash, expires_at),
        )

    def oauth_code_take(self, app_id: int, code_hash: str, now: float) -> int | None:
        row = self.conn.execute(
            "UPDATE oauth_code SET used = 1 "
            "WHERE code_hash = %s AND app_id = %s AND used = 0 AND expires_at > %s RETURNING user_id",
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
        new_id = self._insert(
            "INSERT INTO oauth_token (app_id, user_id, access_hash, access_expires_at, refresh_hash, "
            "refresh_expires_at) VALUES (%s, %s, %s, %s, %s, %s)",
            (app_id, user_id, access_hash, access_expires_at, refresh_hash, refresh_expires_at),
        )
        return new_id

    def oauth_refresh_take(self, app_id: int, refresh_hash: str, now: float) -> int | None:
        row = self.conn.execute(
            "UPDATE oauth_token SET refreshed = 1 "
            "WHERE refresh_hash = %s AND app_id = %s AND refreshed = 0 AND refresh_expires_at > %s "
            "RETURNING user_id",
            (refresh_hash, app_id, now),
        ).fetchone()
        return None if row is None else int(row[0])

    def oauth_login(self, access_hash: str) -> OAuthLogin | None:
        r = self.conn.execute(
            f"SELECT t.id, t.access_hash, t.access_expires_at, {self._APP_COLUMNS}, "
            "u.id, u.name, u.last_name, u.is_admin, u.active, u.crm_access "
            "FROM oauth_token t JOIN oauth_app a ON a.id = t.app_id JOIN b_user u ON u.id = t.user_id "
            "WHERE t.access_hash = %s",
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
        assignments = ", ".join(f"{c} = %s" for c in columns)
        self.conn.execute(f"UPDATE b_user SET {assignments} WHERE id = %s", [*values, user_id])

    def department_add(self, name: str, parent_id: int | None) -> int:
        new_id = self._insert("INSERT INTO b_department (name, parent_id) VALUES (%s, %s)", (name, parent_id))
        return new_id

    def department_exists(self, department_id: int) -> bool:
        return self._one("SELECT 1 FROM b_department WHERE id = %s", (department_id,)) is not None

    def user_departments(self, user_id: int) -> list[int]:
        rows = self.conn.execute(
            "SELECT department_id FROM b_user_department WHERE user_id = %s ORDER BY 1", (user_id,)
        )
        return [r[0] for r in rows]

    def user_departments_set(self, user_id: int, department_ids: Sequence[int]) -> None:
        self.conn.execute("DELETE FROM b_user_department WHERE user_id = %s", (user_id,))
        self.conn.cursor().executemany(
            "INSERT INTO b_user_department (user_id, department_id) VALUES (%s, %s)",
            [(user_id, d) for d in dict.fromkeys(department_ids)],
        )

    def role_add(self, name: str, levels: Mapping[tuple[str, str], int]) -> int:
        new_id = self._insert("INSERT INTO crm_role (name) VALUES (%s)", (name,))
        role_id = new_id
        self.conn.cursor().executemany(
            "INSERT INTO crm_role_permission (role_id, entity, action, level) VALUES (%s, %s, %s, %s)",
            [(role_id, entity, action, int(level)) for (entity, action), level in levels.items()],
        )
        return role_id

    def role_exists(self, role_id: int) -> bool:
        return self._one("SELECT 1 FROM crm_role WHERE id = %s", (role_id,)) is not None

    def role_assign(
        self, role_id: int, *, user_id: int | None = None, department_id: int | None = None
    ) -> bool:
        cur = self.conn.execute(
            "INSERT INTO crm_role_holder (role_id, user_id, department_id) VALUES (%s, %s, %s) "
            "ON CONFLICT DO NOTHING",
            (role_id, user_id, department_id),
        )
        return cur.rowcount > 0

    # Both walk the department tree with UNION ALL and aggregate in Python: no temporary B-trees, which
    # cost ten times the rest of the query. A parent always exists before its child, so the tree has no
    # cycles; the depth bound only guards against a database edited by hand.
    def role_levels(self, user_id: int) -> dict[tuple[str, str], int]:
        rows = self.conn.execute(
            "WITH RECURSIVE up(id, depth) AS ("
            " SELECT department_id, 0 FROM b_user_department WHERE user_id = %s"
            " UNION ALL SELECT d.parent_id, up.depth + 1 FROM up JOIN b_department d ON d.id = up.id"
            " WHERE d.parent_id IS NOT NULL AND up.depth < 100) "
            "SELECT p.entity, p.action, p.level FROM crm_role_holder h "
            "JOIN crm_role_permission p ON p.role_id = h.role_id WHERE h.user_id = %s "
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
            " SELECT department_id, 0 FROM b_user_department WHERE user_id = %s"
            " UNION ALL SELECT d.id, down.depth + 1 FROM down JOIN b_department d ON d.parent_id = down.id"
            " WHERE down.depth < 100) "
            "SELECT ud.user_id, down.depth FROM down JOIN b_user_department ud ON ud.department_id = down.id",
            (user_id,),
        ).fetchall()
        return frozenset(r[0] for r in rows if r[1] == 0), frozenset(r[0] for r in rows)

    # Entities -------------------------------------------------------------------------------------
    def _row(self, cur: psycopg.Cursor[Any], values: Sequence[Any]) -> Row:
        return {d.name: v for d, v in zip(cur.description or (), values, strict=True)}

    def entity_get(self, entity: EntityType, entity_id: int) -> Row | None:
        cur = self.conn.execute(f"SELECT * FROM {entity.table} WHERE id = %s", (entity_id,))
        values = cur.fetchone()
        return None if values is None else self._row(cur, values)

    def entity_insert(self, entity: EntityType, values: Row) -> int:
        if "id" in values:  # an explicit id (fixtures, imports): later ids continue after it, as in SQLite
            new_id = self._insert_row(entity, values)
            self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{entity.table}', 'id'), "
                f"(SELECT max(id) FROM {entity.table}))"
            )
            return new_id
        return self._insert_row(entity, values)

    def _insert_row(self, entity: EntityType, values: Row) -> int:
        columns = list(values)
        marks = ", ".join("%s" for _ in columns)
        new_id = self._insert(
            f"INSERT INTO {entity.table} ({', '.join(columns)}) VALUES ({marks})",
            [values[c] for c in columns],
        )
        return new_id

    def entity_update(self, entity: EntityType, entity_id: int, values: Row) -> None:
        if not values:
            return
        assignments = ", ".join(f"{c} = %s" for c in values)
        self.conn.execute(
            f"UPDATE {entity.table} SET {assignments} WHERE id = %s", [*values.values(), entity_id]
        )

    def entity_delete(self, entity: EntityType, entity_id: int) -> None:
        self.conn.execute(
            "DELETE FROM crm_multifield WHERE entity_type = %s AND element_id = %s", (entity.name, entity_id)
        )
        self.conn.execute(f"DELETE FROM {entity.table} WHERE id = %s", (entity_id,))

    def entity_select(self, entity: EntityType, query: Query) -> list[Row]:
        compiler = PgCompiler(entity, "%s")
        where = compiler.condition(query.where)
        order = compiler.order(query)
        sql = f"SELECT * FROM {entity.table} WHERE {where} ORDER BY {order}"
        if query.limit is not None:
            sql += f" LIMIT {int(query.limit)} OFFSET {int(query.offset)}"
        cur = self.conn.execute(sql, compiler.params)
        return [self._row(cur, values) for values in cur.fetchall()]

    def entity_count(self, entity: EntityType, where: Condition) -> int:
        compiler = PgCompiler(entity, "%s")
        sql = f"SELECT count(*) FROM {entity.table} WHERE {compiler.condition(where)}"
        return int(self._one(sql, compiler.params))

    def access_rows(self, entity: EntityType, ids: Sequence[int]) -> dict[int, Row]:
        found: dict[int, Row] = {}
        for part in chunks(list(ids)):
            marks = ", ".join("%s" for _ in part)
            rows = self.conn.execute(
                f"SELECT id, assigned_by_id, opened FROM {entity.table} WHERE id IN ({marks})", list(part)
            )
            found.update((r[0], {"id": r[0], "assigned_by_id": r[1], "opened": r[2]}) for r in rows)
        return found

    # Multifields ----------------------------------------------------------------------------------
    def multifields_of(self, entity: EntityType, ids: Sequence[int]) -> dict[int, list[MultifieldRow]]:
        out: dict[int, list[MultifieldRow]] = {}
        for part in chunks(list(ids)):
            marks = ", ".join("%s" for _ in part)
            rows = self.conn.execute(
                "SELECT id, element_id, type_id, value_type, value FROM crm_multifield "
                f"WHERE entity_type = %s AND element_id IN ({marks}) ORDER BY id",
                [entity.name, *part],
            )
            for r in rows:
                out.setdefault(r[1], []).append(MultifieldRow(r[0], r[1], r[2], r[3], r[4]))
        return out

    def multifield_insert(
        self, entity: EntityType, element_id: int, type_id: str, value_type: str, value: str
    ) -> int:
        new_id = self._insert(
            "INSERT INTO crm_multifield (entity_type, element_id, type_id, value_type, value) "
            "VALUES (%s, %s, %s, %s, %s)",
            (entity.name, element_id, type_id, value_type, value),
        )
        return new_id

    def multifield_update(self, row_id: int, value_type: str, value: str) -> None:
        self.conn.execute(
            "UPDATE crm_multifield SET value_type = %s, value = %s WHERE id = %s", (value_type, value, row_id)
        )

    def multifield_delete(self, row_id: int) -> None:
        self.conn.execute("DELETE FROM crm_multifield WHERE id = %s", (row_id,))

    # Bindings -------------------------------------------------------------------------------------
    def bindings_get(self, kind: BindingKind, owner_id: int) -> list[Binding]:
        self._lock_owner(kind, owner_id)
        rows = self.conn.execute(
            f"SELECT {kind.bound_column}, sort, is_primary, role_id FROM {kind.table} "
            f"WHERE {kind.owner_column} = %s ORDER BY sort, {kind.bound_column}",
            (owner_id,),
        ).fetchall()
        return [Binding(r[0], r[1], r[2] == "Y", r[3]) for r in rows]

    def bindings_replace(self, kind: BindingKind, owner_id: int, bindings: Sequence[Binding]) -> None:
        self._lock_owner(kind, owner_id)
        self.conn.execute(f"DELETE FROM {kind.table} WHERE {kind.owner_column} = %s", (owner_id,))
        self.conn.cursor().executemany(
            f"INSERT INTO {kind.table} ({kind.owner_column}, {kind.bound_column}, sort, role_id, is_primary) "
            "VALUES (%s, %s, %s, %s, %s)",
            [(owner_id, b.bound_id, b.sort, b.role_id, "Y" if b.is_primary else "N") for b in bindings],
        )

    def binding_insert(self, kind: BindingKind, owner_id: int, binding: Binding) -> None:
        self._lock_owner(kind, owner_id)
        self.conn.execute(
            f"INSERT INTO {kind.table} ({kind.owner_column}, {kind.bound_column}, sort, role_id, is_primary) "
            "VALUES (%s, %s, %s, %s, %s)",
            (owner_id, binding.bound_id, binding.sort, binding.role_id, "Y" if binding.is_primary else "N"),
        )

    def binding_delete(self, kind: BindingKind, owner_id: int, bound_id: int) -> None:
        self._lock_owner(kind, owner_id)
        self.conn.execute(
            f"DELETE FROM {kind.table} WHERE {kind.owner_column} = %s AND {kind.bound_column} = %s",
            (owner_id, bound_id),
        )

    def binding_set_primary(self, kind: BindingKind, owner_id: int, bound_id: int | None) -> None:
        self._lock_owner(kind, owner_id)
        # Demote first so that the partial unique index on the primary never sees two.
        self.conn.execute(
            f"UPDATE {kind.table} SET is_primary = 'N' WHERE {kind.owner_column} = %s AND is_primary = 'Y'",
            (owner_id,),
        )
        if bound_id is not None:
            self.conn.execute(
                f"UPDATE {kind.table} SET is_primary = 'Y' "
                f"WHERE {kind.owner_column} = %s AND {kind.bound_column} = %s",
                (owner_id, bound_id),
            )

    def owners_of(self, kind: BindingKind, bound_id: int) -> list[int]:
        rows = self.conn.execute(
            f"SELECT {kind.owner_column} FROM {kind.table} WHERE {kind.bound_column} = %s ORDER BY 1",
            (bound_id,),
        )
        return [r[0] for r in rows]

    def primaries(self, kind: BindingKind, owner_ids: Sequence[int]) -> dict[int, int]:
        out: dict[int, int] = {}
        for part in chunks(list(owner_ids)):
            marks = ", ".join("%s" for _ in part)
            rows = self.conn.execute(
                f"SELECT {kind.owner_column}, {kind.bound_column} FROM {kind.table} "
                f"WHERE {kind.owner_column} IN ({marks}) AND is_primary = 'Y'",
                list(part),
            )
            out.update((r[0], r[1]) for r in rows)
        return out


class _Scope:
    """One transaction: commits when the block ends normally, rolls back on any exception; a lost
    race (deadlock, serialization failure) leaves as StorageBusy."""

    __slots__ = ("begin", "storage", "writing")

    def __init__(self, storage: PostgresStorage, begin: str, writing: bool) -> None:
        self.storage = storage
        self.begin = begin
        self.writing = writing

    def __enter__(self) -> PostgresTransaction:
        tx = self.storage.transaction()
        try:
            tx.conn.execute(self.begin)
        except psycopg.OperationalError:
            if not tx.conn.broken:
                raise
            tx = self.storage.transaction()  # the server went away between calls: reconnect once
            tx.conn.execute(self.begin)
        tx.writing = self.writing
        tx._locked.clear()
        return tx

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        conn = self.storage.transaction().conn
        if exc_type is not None:
            if not conn.closed:
                try:
                    conn.execute("ROLLBACK")
                except psycopg.Error:
                    conn.close()  # reconnected by the next call
            if isinstance(exc, _CONFLICTS):
                raise StorageBusy(str(exc).splitlines()[0]) from exc
            return
        try:
            conn.execute("COMMIT")
        except _CONFLICTS as failure:
            raise StorageBusy(str(failure).splitlines()[0]) from failure


class PostgresStorage:
    #: How long the dispatcher keeps rerunning a call that lost a race (seconds).
    lock_wait = LOCK_WAIT

    def __init__(self, url: str) -> None:
        if not url.startswith(("postgresql://", "postgres://")):
            raise StorageError(f"not a PostgreSQL database URL: {_redacted(url)}")
        self.url = url
        self.conn = _connect(url)
        try:
            self._migrate()
        except psycopg.Error as exc:
            self.conn.close()
            message = " ".join(str(exc).split())
            raise StorageError(f"cannot migrate database {_redacted(url)}: {message}") from None
        self._tx = PostgresTransaction(self.conn)

    def _migrate(self) -> None:
        with self.conn.transaction():
            self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            self.conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY)")
            done = {r[0] for r in self.conn.execute("SELECT version FROM schema_migrations")}
            for version, script in _migrations():
                if version in done:
                    continue
                for statement in _statements(script):
                    self.conn.execute(statement)
                self.conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))

    def transaction(self) -> PostgresTransaction:
        """The transaction object, on a new connection when the old one was lost (server restart)."""
        if self.conn.closed or self.conn.broken:
            self.conn.close()
            self.conn = _connect(self.url)
            self._tx = PostgresTransaction(self.conn)
        return self._tx

    def read(self) -> _Scope:
        return _Scope(self, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", writing=False)

    def write(self) -> _Scope:
        return _Scope(self, "BEGIN ISOLATION LEVEL READ COMMITTED", writing=True)

    def close(self) -> None:
        self.conn.close()
