"""Users, webhooks and OAuth 2.0 applications in SQL (storage.base UserStore, OAuthStore)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from b24local.storage.base import OAuthApp, OAuthLogin, User, Webhook
from b24local.storage.sql_base import SqlBase


def _webhooks(rows: list[Any]) -> list[Webhook]:
    return [Webhook(r[0], r[1], r[2], frozenset(filter(None, r[3].split(","))), bool(r[4])) for r in rows]


class UserSql(SqlBase):
    """Users and webhooks."""

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
    _Q_WEBHOOKS_ALL = "SELECT id, user_id, code_hash, scope, active FROM webhook ORDER BY id"
    _Q_SETTING_GET = "SELECT value FROM setting WHERE name = ?"
    _Q_SETTING_SET = (
        "INSERT INTO setting (name, value) VALUES (?, ?) "
        "ON CONFLICT (name) DO UPDATE SET value = excluded.value"
    )

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
        return _webhooks(self.conn.execute(self._Q_WEBHOOKS_OF_USER, (user_id,)).fetchall())

    def webhooks_all(self) -> list[Webhook]:
        return _webhooks(self.conn.execute(self._Q_WEBHOOKS_ALL).fetchall())

    def setting_get(self, name: str) -> str | None:
        value = self._one(self._Q_SETTING_GET, (name,))
        return None if value is None else str(value)

    def setting_set(self, name: str, value: str) -> None:
        self.conn.execute(self._Q_SETTING_SET, (name, value))

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


class OAuthSql(SqlBase):
    """OAuth 2.0 applications, codes and tokens."""

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
        # Whole seconds, as stored: PostgreSQL compares a bigint column with an integer only.
        row = self.conn.execute(self._Q_CODE_TAKE, (code_hash, app_id, math.floor(now))).fetchone()
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
        row = self.conn.execute(self._Q_REFRESH_TAKE, (refresh_hash, app_id, math.floor(now))).fetchone()
        return None if row is None else int(row[0])

    def oauth_login(self, access_hash: str) -> OAuthLogin | None:
        r = self.conn.execute(self._Q_LOGIN, (access_hash,)).fetchone()
        if r is None:
            return None
        user = User(r[11], r[12], r[13] or "", bool(r[14]), bool(r[15]), bool(r[16]))
        return OAuthLogin(r[0], r[1], r[2], self._app(r[3:11]), user)
