"""Compiling :mod:`b24local.model.query` conditions to SQL shared by the SQL backends.

Identifiers come only from entity and binding definitions; every value is a bound parameter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

from b24local.model.entities import BindingKind, EntityType
from b24local.model.query import (
    OPERATORS,
    AllOf,
    AnyOf,
    Column,
    Cond,
    Condition,
    MultifieldValue,
    Op,
    Operator,
    PrimaryBound,
    Query,
    Term,
)
from b24local.storage.base import Binding, MultifieldRow, OAuthApp, OAuthLogin, Row, User, Webhook, chunks
from b24local.storage.errors import ReferenceGone

#: Makes a named tuple without its generated ``__new__`` (a Python call per binding).
_new_tuple = tuple.__new__
#: The order of bindings, by SORT then bound id, on rows ``(bound id, sort, is_primary, role_id, ...)``.
_SORT_THEN_ID = itemgetter(1, 0)


def bindings_from_rows(rows: list[Any]) -> list[Binding]:
    """Binding rows ``(bound id, sort, is_primary, role_id, ...)`` in order. Sorted here: an ORDER BY
    costs SQLite a temporary B-tree per call."""
    rows.sort(key=_SORT_THEN_ID)
    return [_new_tuple(Binding, (r[0], r[1], r[2] == "Y", r[3])) for r in rows]


def access_row(entity_id: Any, assigned_by_id: Any, opened: Any, *partition: tuple[str, Any]) -> Row:
    """What a permission check reads of an item (crm.permissions.Permissions.can): the partition is
    the deal's pipeline, for entities permitted per partition."""
    return {"id": entity_id, "assigned_by_id": assigned_by_id, "opened": opened, **dict(partition)}


def access_columns(entity: EntityType, alias: str = "") -> str:
    """The columns of :func:`access_row`, in its order."""
    names = ["id", "assigned_by_id", "opened"]
    if entity.rules.permission_partition is not None:
        names.append(entity.rules.permission_partition)
    return ", ".join(alias + n for n in names)


def access_from(entity: EntityType, values: Sequence[Any]) -> Row:
    column = entity.rules.permission_partition
    if column is None:
        return access_row(values[0], values[1], values[2])
    return access_row(values[0], values[1], values[2], (column, values[3]))


class SqlCompiler:
    #: The case-insensitive (for ASCII) pattern match: SQLite's LIKE is one; PostgreSQL's is ILIKE.
    like = "LIKE"
    #: After a caller's own pattern (`=%`): its backslash is a plain character, as in SQLite's LIKE.
    raw_pattern = ""
    #: Where NULLs sort; "" keeps SQLite's own order (first ascending, last descending).
    nulls_asc = ""
    nulls_desc = ""

    def __init__(self, entity: EntityType, placeholder: str = "?") -> None:
        self.entity = entity
        self.ph = placeholder
        self.params: list[Any] = []
        self._columns = {f.column for f in entity.columns} | {"id"}

    def _param(self, value: Any) -> str:
        self.params.append(value)
        return self.ph

    def text(self, expr: str) -> str:
        """``expr`` as text for a pattern match (SQLite compares any type; PostgreSQL casts)."""
        return expr

    def one_of(self, expr: str, values: Sequence[Any]) -> str:
        """``expr`` equals one of ``values``: the whole list is one parameter, so the statement is the
        same whatever its length (SQLite takes at most 32,766 parameters, PostgreSQL 65,535)."""
        return (
            f"{expr} IN (SELECT value FROM json_each({self._param(json.dumps(values, ensure_ascii=False))}))"
        )

    def term(self, term: Term) -> str:
        table = self.entity.table
        if isinstance(term, Column):
            if term.name not in self._columns:
                raise ValueError(f"unknown column {term.name!r}")
            return f"{table}.{term.name}"
        if isinstance(term, PrimaryBound):
            kind = term.kind
            return (
                f"(SELECT b.{kind.bound_column} FROM {kind.table} b WHERE b.{kind.owner_column} = "
                f"{table}.id AND b.{kind.primary_column} = 'Y')"
            )
        raise ValueError(f"term {term!r} has no scalar form")

    def _multifield(self, conds: Sequence[Cond], type_id: str, negate: bool) -> str:
        """Whether the row has a value of multifield ``type_id`` that one of ``conds`` holds for (or,
        negated, none that any holds for): one subquery for a whole `%PHONE` or `!%PHONE` list."""
        # Bind the subquery's own parameters first: they come before the tests in the SQL text.
        of = f"m.entity_type = {self._param(self.entity.name)} AND m.type_id = {self._param(type_id)}"
        tests = " OR ".join(self._multifield_test(c) for c in conds)
        return self.has_multifield(f"{of} AND ({tests})" if len(conds) > 1 else f"{of} AND {tests}", negate)

    def _multifield_test(self, cond: Cond) -> str:
        """The positive test on one value ``m.value``: a negated operator's NOT is the NOT IN."""
        operator = OPERATORS[cond.op]
        if operator.family == "set":
            return self.one_of("m.value", list(cond.value))
        if operator.is_pattern:
            return f"m.value {self.like} {self._pattern(cond.op, cond.value)}"
        if operator.family == "empty":
            return "1=1"
        return f"m.value = {self._param(cond.value)}"

    def _pattern(self, op: Op, value: Any) -> str:
        """The bound pattern of a LIKE: a substring escaped, or the caller's own pattern."""
        if OPERATORS[op].family == "contains":
            return f"{self._param(_like_contains(value))} ESCAPE '\\'"
        return f"{self._param(value)}{self.raw_pattern}"

    def has_multifield(self, where: str, negate: bool) -> str:
        """Whether the row has (or, negated, has no) multifield value ``where`` (on ``m``) holds for.

        SQLite: the matching elements are read once, as a set; a correlated EXISTS ran once per row
        (an indexed PHONE equality walked every lead)."""
        sub = f"SELECT m.element_id FROM crm_multifield m WHERE {where}"
        return f"{self.entity.table}.id {'NOT IN' if negate else 'IN'} ({sub})"

    def _one_multifield(self, cond: AllOf | AnyOf) -> tuple[list[Cond], str, bool] | None:
        """The parts of a list on one multifield that one subquery can test: values OR-ed, or negated
        values AND-ed (has none matching a and none matching b: has none matching a or b)."""
        negate = isinstance(cond, AllOf)
        parts = [p for p in cond.parts if isinstance(p, Cond) and isinstance(p.term, MultifieldValue)]
        if len(parts) < 2 or len(parts) != len(cond.parts):
            return None
        type_ids = {p.term.type_id for p in parts if isinstance(p.term, MultifieldValue)}
        if len(type_ids) != 1 or any(OPERATORS[p.op].family == "set" or _negated(p) != negate for p in parts):
            return None
        return parts, type_ids.pop(), negate

    def condition(self, cond: Condition) -> str:
        if isinstance(cond, (AllOf, AnyOf)):
            one = self._one_multifield(cond)
            if one is not None:
                return self._multifield(*one)
        if isinstance(cond, AllOf):
            if not cond.parts:
                return "1=1"
            return "(" + " AND ".join(self.condition(p) for p in cond.parts) + ")"
        if isinstance(cond, AnyOf):
            if not cond.parts:
                return "1=0"
            return "(" + " OR ".join(self.condition(p) for p in cond.parts) + ")"
        if isinstance(cond.term, MultifieldValue):
            if OPERATORS[cond.op].family == "set" and not cond.value:
                return "1=1" if _negated(cond) else "1=0"
            return self._multifield([cond], cond.term.type_id, _negated(cond))
        return self._scalar(self.term(cond.term), OPERATORS[cond.op], cond.value)

    def _scalar(self, expr: str, operator: Operator, value: Any) -> str:
        """One condition on a column or a primary binding. A negated operator holds for NULL too."""
        family = operator.family
        if family == "empty":
            return self._empty(expr, operator.op, value)
        if family == "set":
            values = list(value)
            if not values:
                return "1=1" if operator.negated else "1=0"
            test = self.one_of(expr, values)
            return f"({expr} IS NULL OR NOT ({test}))" if operator.negated else test
        if family == "compare":
            test = f"{expr} {operator.sql} {self._param(value)}"
        else:
            negation = "NOT " if operator.negated else ""
            test = f"{self.text(expr)} {negation}{self.like} {self._pattern(operator.op, value)}"
        return f"({expr} IS NULL OR {test})" if operator.negated else test

    @staticmethod
    def _empty(expr: str, op: Op, value: Any) -> str:
        """is_null / not_null; on a text field '' counts as empty too."""
        if op == "is_null":
            return f"({expr} IS NULL OR {expr} = '')" if _textual(value) else f"{expr} IS NULL"
        return f"({expr} IS NOT NULL AND {expr} <> '')" if _textual(value) else f"{expr} IS NOT NULL"

    def order(self, query: Query) -> str:
        parts = []
        for t, desc in query.order:
            if isinstance(t, Column) and t.name == "id":
                # Never NULL: without a NULLS clause PostgreSQL walks the primary key in order instead
                # of sorting every matching row (a deep page took seconds).
                parts.append(f"{self.term(t)} {'DESC' if desc else 'ASC'}")
            else:
                parts.append(f"{self.term(t)} {'DESC' + self.nulls_desc if desc else 'ASC' + self.nulls_asc}")
        if not any(isinstance(t, Column) and t.name == "id" for t, _ in query.order):
            parts.append(f"{self.entity.table}.id ASC")
        return ", ".join(parts)


def _negated(cond: Cond) -> bool:
    """Whether a multifield condition asks for no matching value (a NOT IN)."""
    return OPERATORS[cond.op].negated


def _textual(value: Any) -> bool:
    return bool(value == "text")


def _like_contains(value: Any) -> str:
    text = str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{text}%"


class SqlTransaction:
    """The :class:`~b24local.storage.base.Transaction` methods both SQL backends share.

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

    # Users and webhooks -------------------------------------------------------------------------
    _Q_USER_GET = "SELECT id, name, last_name, is_admin, active, crm_access FROM b_user WHERE id = ?"
    _Q_USER_ADD = "INSERT INTO b_user (name, last_name, is_admin, active, crm_access) VALUES (?, ?, ?, 1, ?)"
    _Q_WEBHOOK_ADD = "INSERT INTO webhook (user_id, code_hash, scope, active) VALUES (?, ?, ?, 1)"
    _Q_WEBHOOKS_OF_USER = "SELECT id, user_id, code_hash, scope, active FROM webhook WHERE user_id = ?"
    _Q_WEBHOOK_LOGINS = (
        "SELECT w.id, w.code_hash, w.scope, w.active, "
        "u.name, u.last_name, u.is_admin, u.active, u.crm_access "
        "FROM webhook w JOIN b_user u ON u.id = w.user_id WHERE w.user_id = ?"
    )
    _Q_AUTH_EPOCH = "SELECT n FROM auth_epoch WHERE id = 1"
    _Q_WEBHOOK_SET_ACTIVE = "UPDATE webhook SET active = ? WHERE id = ?"
    _Q_WEBHOOK_DELETE = "DELETE FROM webhook WHERE id = ?"

    def user_get(self, user_id: int) -> User | None:
        row = self.conn.execute(self._Q_USER_GET, (user_id,)).fetchone()
        if row is None:
            return None
        return User(row[0], row[1], row[2] or "", bool(row[3]), bool(row[4]), bool(row[5]))

    def user_add(self, name: str, last_name: str, is_admin: bool, crm_access: bool = True) -> int:
        return self._insert(self._Q_USER_ADD, (name, last_name, int(is_admin), int(crm_access)))

    def user_count(self) -> int:
        return int(self._one("SELECT count(*) FROM b_user"))

    def webhook_add(self, user_id: int, code_hash: str, scopes: Sequence[str]) -> int:
        return self._insert(self._Q_WEBHOOK_ADD, (user_id, code_hash, ",".join(scopes)))

    def webhooks_of_user(self, user_id: int) -> list[Webhook]:
        rows = self.conn.execute(self._Q_WEBHOOKS_OF_USER, (user_id,)).fetchall()
        return [Webhook(r[0], r[1], r[2], frozenset(filter(None, r[3].split(","))), bool(r[4])) for r in rows]

    def webhook_logins(self, user_id: int) -> list[tuple[Webhook, User]]:
        rows = self.conn.execute(self._Q_WEBHOOK_LOGINS, (user_id,)).fetchall()
        return [
            (
                Webhook(r[0], user_id, r[1], frozenset(filter(None, r[2].split(","))), bool(r[3])),
                User(user_id, r[4], r[5] or "", bool(r[6]), bool(r[7]), bool(r[8])),
            )
            for r in rows
        ]

    def auth_epoch(self) -> int:
        # Moved on by triggers in the transaction that changes a user or a webhook (migration 5).
        return int(self._one(self._Q_AUTH_EPOCH))

    def webhook_set_active(self, webhook_id: int, active: bool) -> None:
        self.conn.execute(self._Q_WEBHOOK_SET_ACTIVE, (int(active), webhook_id))

    def webhook_delete(self, webhook_id: int) -> None:
        self.conn.execute(self._Q_WEBHOOK_DELETE, (webhook_id,))

    # OAuth 2.0 applications -------------------------------------------------------------------------
    _APP_COLUMNS = "a.id, a.name, a.client_id, a.secret_hash, a.scope, a.redirect_uri, a.version, a.active"
    _Q_APP_ADD = (
        "INSERT INTO oauth_app (name, client_id, secret_hash, scope, redirect_uri) VALUES (?, ?, ?, ?, ?)"
    )
    _Q_APP_BY_CLIENT_ID = f"SELECT {_APP_COLUMNS} FROM oauth_app a WHERE a.client_id = ?"
    _Q_APP_GET = f"SELECT {_APP_COLUMNS} FROM oauth_app a WHERE a.id = ?"
    _Q_CODE_ADD = "INSERT INTO oauth_code (app_id, user_id, code_hash, expires_at) VALUES (?, ?, ?, ?)"
    _Q_CODE_TAKE = (
        "UPDATE oauth_code SET used = 1 "
        "WHERE code_hash = ? AND app_id = ? AND used = 0 AND expires_at > ? RETURNING user_id"
    )
    _Q_ISSUE_ACCESS = (
        "INSERT INTO oauth_token (app_id, user_id, access_hash, access_expires_at, refresh_hash, "
        "refresh_expires_at) VALUES (?, ?, ?, ?, ?, ?)"
    )
    _Q_REFRESH_TAKE = (
        "UPDATE oauth_token SET refreshed = 1 "
        "WHERE refresh_hash = ? AND app_id = ? AND refreshed = 0 AND refresh_expires_at > ? "
        "RETURNING user_id"
    )
    _Q_LOGIN = (
        f"SELECT t.id, t.access_hash, t.access_expires_at, {_APP_COLUMNS}, "
        "u.id, u.name, u.last_name, u.is_admin, u.active, u.crm_access "
        "FROM oauth_token t JOIN oauth_app a ON a.id = t.app_id JOIN b_user u ON u.id = t.user_id "
        "WHERE t.access_hash = ?"
    )

    @staticmethod
    def _app(r: Sequence[Any]) -> OAuthApp:
        scopes = frozenset(filter(None, r[4].split(",")))
        return OAuthApp(r[0], r[1], r[2], r[3], scopes, r[5], r[6], bool(r[7]))

    def oauth_member_id(self) -> str:
        return str(self._one("SELECT member_id FROM oauth_portal LIMIT 1"))

    def oauth_app_add(
        self, name: str, client_id: str, secret_hash: str, scopes: Sequence[str], redirect_uri: str
    ) -> int:
        return self._insert(self._Q_APP_ADD, (name, client_id, secret_hash, ",".join(scopes), redirect_uri))

    def oauth_app_by_client_id(self, client_id: str) -> OAuthApp | None:
        row = self.conn.execute(self._Q_APP_BY_CLIENT_ID, (client_id,)).fetchone()
        return None if row is None else self._app(row)

    def oauth_app_get(self, app_id: int) -> OAuthApp | None:
        row = self.conn.execute(self._Q_APP_GET, (app_id,)).fetchone()
        return None if row is None else self._app(row)

    def oauth_code_add(self, app_id: int, user_id: int, code_hash: str, expires_at: int) -> None:
        self.conn.execute(self._Q_CODE_ADD, (app_id, user_id, code_hash, expires_at))

    def oauth_code_take(self, app_id: int, code_hash: str, now: float) -> int | None:
        row = self.conn.execute(self._Q_CODE_TAKE, (code_hash, app_id, now)).fetchone()
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
        return self._insert(
            self._Q_ISSUE_ACCESS,
            (app_id, user_id, access_hash, access_expires_at, refresh_hash, refresh_expires_at),
        )

    def oauth_refresh_take(self, app_id: int, refresh_hash: str, now: float) -> int | None:
        row = self.conn.execute(self._Q_REFRESH_TAKE, (refresh_hash, app_id, now)).fetchone()
        return None if row is None else int(row[0])

    def oauth_login(self, access_hash: str) -> OAuthLogin | None:
        r = self.conn.execute(self._Q_LOGIN, (access_hash,)).fetchone()
        if r is None:
            return None
        user = User(r[11], r[12], r[13] or "", bool(r[14]), bool(r[15]), bool(r[16]))
        return OAuthLogin(r[0], r[1], r[2], self._app(r[3:11]), user)

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

    # Departments and CRM roles --------------------------------------------------------------------
    _USER_COLUMNS = ("name", "last_name", "is_admin", "active", "crm_access")
    _Q_DEPARTMENT_ADD = "INSERT INTO b_department (name, parent_id) VALUES (?, ?)"
    _Q_DEPARTMENT_EXISTS = "SELECT 1 FROM b_department WHERE id = ?"
    _Q_USER_DEPARTMENTS = "SELECT department_id FROM b_user_department WHERE user_id = ? ORDER BY 1"
    _Q_USER_DEPARTMENTS_CLEAR = "DELETE FROM b_user_department WHERE user_id = ?"
    _Q_USER_DEPARTMENT_ADD = "INSERT INTO b_user_department (user_id, department_id) VALUES (?, ?)"
    _Q_ROLE_ADD = "INSERT INTO crm_role (name) VALUES (?)"
    _Q_ROLE_PERMISSION_ADD = (
        "INSERT INTO crm_role_permission (role_id, entity, action, level) VALUES (?, ?, ?, ?)"
    )
    _Q_ROLE_EXISTS = "SELECT 1 FROM crm_role WHERE id = ?"
    # Both walk the department tree with UNION ALL and aggregate in Python: no temporary B-trees, which
    # cost ten times the rest of the query. A parent always exists before its child, so the tree has no
    # cycles; the depth bound only guards against a database edited by hand.
    _Q_ROLE_LEVELS = (
        "WITH RECURSIVE up(id, depth) AS ("
        " SELECT department_id, 0 FROM b_user_department WHERE user_id = ?"
        " UNION ALL SELECT d.parent_id, up.depth + 1 FROM up JOIN b_department d ON d.id = up.id"
        " WHERE d.parent_id IS NOT NULL AND up.depth < 100) "
        "SELECT p.entity, p.action, p.level FROM crm_role_holder h "
        "JOIN crm_role_permission p ON p.role_id = h.role_id WHERE h.user_id = ? "
        "UNION ALL SELECT p.entity, p.action, p.level FROM up "
        "JOIN crm_role_holder h ON h.department_id = up.id "
        "JOIN crm_role_permission p ON p.role_id = h.role_id"
    )
    _Q_DEPARTMENT_MEMBERS = (
        "WITH RECURSIVE down(id, depth) AS ("
        " SELECT department_id, 0 FROM b_user_department WHERE user_id = ?"
        " UNION ALL SELECT d.id, down.depth + 1 FROM down JOIN b_department d ON d.parent_id = down.id"
        " WHERE down.depth < 100) "
        "SELECT ud.user_id, down.depth FROM down JOIN b_user_department ud ON ud.department_id = down.id"
    )

    def user_update(self, user_id: int, changes: Mapping[str, Any]) -> None:
        columns = [c for c in self._USER_COLUMNS if c in changes]
        if not columns:
            return
        values = [int(changes[c]) if isinstance(changes[c], bool) else changes[c] for c in columns]
        ph = self.ph
        assignments = ", ".join(f"{c} = {ph}" for c in columns)
        self.conn.execute(f"UPDATE b_user SET {assignments} WHERE id = {ph}", [*values, user_id])

    def department_add(self, name: str, parent_id: int | None) -> int:
        return self._insert(self._Q_DEPARTMENT_ADD, (name, parent_id))

    def department_exists(self, department_id: int) -> bool:
        return self._one(self._Q_DEPARTMENT_EXISTS, (department_id,)) is not None

    def user_departments(self, user_id: int) -> list[int]:
        rows = self.conn.execute(self._Q_USER_DEPARTMENTS, (user_id,))
        return [r[0] for r in rows]

    def user_departments_set(self, user_id: int, department_ids: Sequence[int]) -> None:
        self.conn.execute(self._Q_USER_DEPARTMENTS_CLEAR, (user_id,))
        self._executemany(self._Q_USER_DEPARTMENT_ADD, [(user_id, d) for d in dict.fromkeys(department_ids)])

    def role_add(self, name: str, levels: Mapping[tuple[str, str], int]) -> int:
        role_id = self._insert(self._Q_ROLE_ADD, (name,))
        self._executemany(
            self._Q_ROLE_PERMISSION_ADD,
            [(role_id, entity, action, int(level)) for (entity, action), level in levels.items()],
        )
        return role_id

    def role_exists(self, role_id: int) -> bool:
        return self._one(self._Q_ROLE_EXISTS, (role_id,)) is not None

    def role_assign(
        self, role_id: int, *, user_id: int | None = None, department_id: int | None = None
    ) -> bool:
        cur = self.conn.execute(self._ROLE_ASSIGN, (role_id, user_id, department_id))
        return bool(cur.rowcount > 0)

    def role_levels(self, user_id: int) -> dict[tuple[str, str], int]:
        rows = self.conn.execute(self._Q_ROLE_LEVELS, (user_id, user_id))
        levels: dict[tuple[str, str], int] = {}
        for entity, action, level in rows:
            if level > levels.get((entity, action), -1):
                levels[(entity, action)] = level
        return levels

    def department_members(self, user_id: int) -> tuple[frozenset[int], frozenset[int]]:
        rows = self.conn.execute(self._Q_DEPARTMENT_MEMBERS, (user_id,)).fetchall()
        return frozenset(r[0] for r in rows if r[1] == 0), frozenset(r[0] for r in rows)

    # Entities -------------------------------------------------------------------------------------
    _Q_MULTIFIELDS_DELETE = "DELETE FROM crm_multifield WHERE entity_type = ? AND element_id = ?"

    def _entity_rows(self, entity: EntityType, where: str, params: Sequence[Any]) -> list[Row]:
        """Whole rows of ``entity`` as dicts: ``SELECT * FROM table`` followed by ``where`` (the rest of
        the statement)."""
        sql = f"SELECT * FROM {entity.table} {where}"
        cur = self.conn.execute(sql, params)
        return self._rows(sql, cur, cur.fetchall())

    def entity_get(self, entity: EntityType, entity_id: int) -> Row | None:
        rows = self._entity_rows(entity, f"WHERE id = {self.ph}", (entity_id,))
        return rows[0] if rows else None

    def entity_insert(self, entity: EntityType, values: Row) -> int:
        columns = list(values)
        ph = self.ph
        marks = ", ".join(ph for _ in columns)
        return self._insert(
            f"INSERT INTO {entity.table} ({', '.join(columns)}) VALUES ({marks})",
            [values[c] for c in columns],
        )

    def entity_update(self, entity: EntityType, entity_id: int, values: Row) -> None:
        if not values:
            return
        ph = self.ph
        assignments = ", ".join(f"{c} = {ph}" for c in values)
        cur = self.conn.execute(
            f"UPDATE {entity.table} SET {assignments} WHERE id = {ph}", [*values.values(), entity_id]
        )
        if cur.rowcount == 0:
            # The call found the row a moment ago; another call's delete committed since (PostgreSQL,
            # READ COMMITTED). Its phones or bindings must not be written for a row that is gone:
            # rerun, and the call finds it missing.
            raise ReferenceGone(f"{entity.name} {entity_id} was deleted during the call")

    def entity_delete(self, entity: EntityType, entity_id: int) -> None:
        self.conn.execute(self._Q_MULTIFIELDS_DELETE, (entity.name, entity_id))
        self.conn.execute(f"DELETE FROM {entity.table} WHERE id = {self.ph}", (entity_id,))

    def entity_select(self, entity: EntityType, query: Query) -> list[Row]:
        compiler = self.compiler(entity, self.ph)
        where = compiler.condition(query.where)
        order = compiler.order(query)
        rest = f"WHERE {where} ORDER BY {order}"
        if query.limit is not None:
            page = f" LIMIT {int(query.limit)} OFFSET {int(query.offset)}"
            deep = self.DEFERRED_OFFSET
            if deep is not None and query.offset >= deep:
                # The rows skipped are walked by id alone (an index-only scan), whole rows read only
                # for the page: a page 2,160,000 rows deep in 2.4 million leads, 0.7 s → 0.2 s.
                rest = f"WHERE id IN (SELECT id FROM {entity.table} {rest}{page}) ORDER BY {order}"
            else:
                rest += page
        return self._entity_rows(entity, rest, compiler.params)

    def entity_count(self, entity: EntityType, where: Condition) -> int:
        compiler = self.compiler(entity, self.ph)
        sql = f"SELECT count(*) FROM {entity.table} WHERE {compiler.condition(where)}"
        return int(self._one(sql, compiler.params))

    def references_clear(self, entity: EntityType, column: str, target_id: int) -> None:
        """A referenced record is being deleted: ``column`` of every ``entity`` row naming it → NULL."""
        ph = self.ph
        self.conn.execute(f"UPDATE {entity.table} SET {column} = NULL WHERE {column} = {ph}", (target_id,))

    _Q_PIPELINE_EXISTS = "SELECT 1 FROM crm_category WHERE entity_type_id = ? AND id = ?"
    _Q_PIPELINE_ADD = "INSERT INTO crm_category (entity_type_id, name) VALUES (?, ?)"

    def pipeline_exists(self, entity: EntityType, pipeline_id: int) -> bool:
        return (
            pipeline_id == 0 or self._one(self._Q_PIPELINE_EXISTS, (entity.type_id, pipeline_id)) is not None
        )

    def pipeline_add(self, entity: EntityType, name: str) -> int:
        return self._insert(self._Q_PIPELINE_ADD, (entity.type_id, name))

    def access_rows(self, entity: EntityType, ids: Sequence[int]) -> dict[int, Row]:
        found: dict[int, Row] = {}
        ph = self.ph
        for part in chunks(list(ids)):
            marks = ", ".join(ph for _ in part)
            rows = self.conn.execute(
                f"SELECT {access_columns(entity)} FROM {entity.table} WHERE id IN ({marks})", list(part)
            )
            found.update((r[0], access_from(entity, r)) for r in rows)
        return found

    # Multifields ----------------------------------------------------------------------------------
    _Q_MULTIFIELD_INSERT = (
        "INSERT INTO crm_multifield (entity_type, element_id, type_id, value_type, value) "
        "VALUES (?, ?, ?, ?, ?)"
    )
    _Q_MULTIFIELD_UPDATE = "UPDATE crm_multifield SET value_type = ?, value = ? WHERE id = ?"
    _Q_MULTIFIELD_DELETE = "DELETE FROM crm_multifield WHERE id = ?"

    def multifields_of(self, entity: EntityType, ids: Sequence[int]) -> dict[int, list[MultifieldRow]]:
        out: dict[int, list[MultifieldRow]] = {}
        ph = self.ph
        for part in chunks(list(ids)):
            marks = ", ".join(ph for _ in part)
            rows = self.conn.execute(
                "SELECT id, element_id, type_id, value_type, value FROM crm_multifield "
                f"WHERE entity_type = {ph} AND element_id IN ({marks}) ORDER BY id",
                [entity.name, *part],
            )
            for r in rows:
                out.setdefault(r[1], []).append(MultifieldRow(r[0], r[1], r[2], r[3], r[4]))
        return out

    def multifield_insert(
        self, entity: EntityType, element_id: int, type_id: str, value_type: str, value: str
    ) -> int:
        return self._insert(self._Q_MULTIFIELD_INSERT, (entity.name, element_id, type_id, value_type, value))

    def multifield_update(self, row_id: int, value_type: str, value: str) -> None:
        self.conn.execute(self._Q_MULTIFIELD_UPDATE, (value_type, value, row_id))

    def multifield_delete(self, row_id: int) -> None:
        self.conn.execute(self._Q_MULTIFIELD_DELETE, (row_id,))

    # Bindings -------------------------------------------------------------------------------------
    @staticmethod
    def _binding_columns(kind: BindingKind) -> str:
        """The bound id and the owner's SORT, IS_PRIMARY and ROLE_ID (bindings_from_rows' order)."""
        return f"{kind.bound_column}, {kind.sort_column}, {kind.primary_column}, {kind.role_column}"

    def bindings_get(self, kind: BindingKind, owner_id: int) -> list[Binding]:
        self._lock_owner(kind, owner_id)
        rows = self.conn.execute(
            f"SELECT {self._binding_columns(kind)} FROM {kind.table} WHERE {kind.owner_column} = {self.ph}",
            (owner_id,),
        ).fetchall()
        return bindings_from_rows(rows)

    def owner_with_bindings(self, kind: BindingKind, owner_id: int) -> tuple[Row | None, list[Binding]]:
        self._lock_owner(kind, owner_id)
        rows = self.conn.execute(
            f"SELECT b.{kind.bound_column}, b.{kind.sort_column}, b.{kind.primary_column}, "
            f"b.{kind.role_column}, {access_columns(kind.owner, 'o.')} FROM {kind.owner.table} o "
            f"LEFT JOIN {kind.table} b ON b.{kind.owner_column} = o.id WHERE o.id = {self.ph}",
            (owner_id,),
        ).fetchall()
        if not rows:
            return None, []
        first = rows[0]
        access = access_from(kind.owner, first[4:])
        return access, [] if first[0] is None else bindings_from_rows(rows)  # None: the LEFT JOIN found none

    def _binding_insert_sql(self, kind: BindingKind, upsert: bool) -> str:
        ph = self.ph
        sql = (
            f"INSERT INTO {kind.table} ({kind.owner_column}, {kind.bound_column}, {kind.sort_column}, "
            f"{kind.role_column}, {kind.primary_column}) VALUES ({ph}, {ph}, {ph}, {ph}, {ph})"
        )
        if upsert:  # keep the other side's columns of a row both sides see
            sql += (
                f" ON CONFLICT ({kind.owner_column}, {kind.bound_column}) DO UPDATE SET "
                f"{kind.sort_column} = excluded.{kind.sort_column}, "
                f"{kind.role_column} = excluded.{kind.role_column}, "
                f"{kind.primary_column} = excluded.{kind.primary_column}"
            )
        return sql

    def bindings_replace(self, kind: BindingKind, owner_id: int, bindings: Sequence[Binding]) -> None:
        self._lock_owner(kind, owner_id)
        ph = self.ph
        rows = [(owner_id, b.bound_id, b.sort, b.role_id, "Y" if b.is_primary else "N") for b in bindings]
        if kind.mirror is None:
            self.conn.execute(f"DELETE FROM {kind.table} WHERE {kind.owner_column} = {ph}", (owner_id,))
            self._executemany(self._binding_insert_sql(kind, upsert=False), rows)
            return
        kept = {b.bound_id for b in bindings}
        gone = [(owner_id, b.bound_id) for b in self.bindings_get(kind, owner_id) if b.bound_id not in kept]
        self._executemany(
            f"DELETE FROM {kind.table} WHERE {kind.owner_column} = {ph} AND {kind.bound_column} = {ph}", gone
        )
        self.binding_set_primary(kind, owner_id, None)  # the partial unique index never sees two
        self._executemany(self._binding_insert_sql(kind, upsert=True), rows)

    def binding_insert(self, kind: BindingKind, owner_id: int, binding: Binding) -> None:
        self._lock_owner(kind, owner_id)
        self.conn.execute(
            self._binding_insert_sql(kind, upsert=False),
            (owner_id, binding.bound_id, binding.sort, binding.role_id, "Y" if binding.is_primary else "N"),
        )

    def binding_delete(self, kind: BindingKind, owner_id: int, bound_id: int) -> None:
        self._lock_owner(kind, owner_id)
        ph = self.ph
        self.conn.execute(
            f"DELETE FROM {kind.table} WHERE {kind.owner_column} = {ph} AND {kind.bound_column} = {ph}",
            (owner_id, bound_id),
        )

    def binding_set_sort(self, kind: BindingKind, owner_id: int, bound_id: int, sort: int) -> None:
        self._lock_owner(kind, owner_id)
        ph = self.ph
        self.conn.execute(
            f"UPDATE {kind.table} SET {kind.sort_column} = {ph} "
            f"WHERE {kind.owner_column} = {ph} AND {kind.bound_column} = {ph}",
            (sort, owner_id, bound_id),
        )

    def binding_set_primary(self, kind: BindingKind, owner_id: int, bound_id: int | None) -> None:
        self._lock_owner(kind, owner_id)
        ph, primary = self.ph, kind.primary_column
        # Demote first so that the partial unique index on the primary never sees two.
        self.conn.execute(
            f"UPDATE {kind.table} SET {primary} = 'N' WHERE {kind.owner_column} = {ph} AND {primary} = 'Y'",
            (owner_id,),
        )
        if bound_id is not None:
            self.conn.execute(
                f"UPDATE {kind.table} SET {primary} = 'Y' "
                f"WHERE {kind.owner_column} = {ph} AND {kind.bound_column} = {ph}",
                (owner_id, bound_id),
            )

    def owners_of(self, kind: BindingKind, bound_id: int) -> list[int]:
        rows = self.conn.execute(
            f"SELECT {kind.owner_column} FROM {kind.table} WHERE {kind.bound_column} = {self.ph} ORDER BY 1",
            (bound_id,),
        )
        return [r[0] for r in rows]

    def primaries(self, kind: BindingKind, owner_ids: Sequence[int]) -> dict[int, int]:
        out: dict[int, int] = {}
        ph = self.ph
        for part in chunks(list(owner_ids)):
            marks = ", ".join(ph for _ in part)
            rows = self.conn.execute(
                f"SELECT {kind.owner_column}, {kind.bound_column} FROM {kind.table} "
                f"WHERE {kind.owner_column} IN ({marks}) AND {kind.primary_column} = 'Y'",
                list(part),
            )
            out.update((r[0], r[1]) for r in rows)
        return out
