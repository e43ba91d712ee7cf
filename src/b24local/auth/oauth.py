"""OAuth 2.0 applications (../shared/b24-docs/settings/oauth/*.md; contract protocol.md W2, W5, W6).

b24local is both the portal and the authorization server: ``/oauth/authorize/`` is the page where a
user approves an application, ``/oauth/token/`` exchanges a code or a refresh token for a token pair,
and ``/rest/{method}?auth=…`` calls run under the application's scopes and the user's permissions.

Signing in on the approval page: there are no browser sessions. The user proves who they are by pasting
one of their own incoming webhook URLs (``…/rest/{user_id}/{code}/``, any scope): the same secret that
already lets them call the REST API as themselves. ``serve --auto-approve-user ID`` skips the page and
approves at once as that user (unattended tests).

Client secrets, codes and tokens are random; only their SHA-256 is stored, a presented value is looked
up by its hash and compared with ``hmac.compare_digest``, and none is ever logged or put in an error.
A code is exchanged and a refresh token used at most once: each is a single compare-and-set ``UPDATE``
inside the request's write transaction, so of concurrent requests with one refresh token exactly one
wins and the others answer ``invalid_grant``.
"""

from __future__ import annotations

import hmac
import html
import json
import logging
import secrets
import string
import uuid
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

from b24local import clock
from b24local.auth import webhooks
from b24local.auth.context import AuthContext
from b24local.auth.webhooks import hash_secret
from b24local.protocol.address import parse_rest_path
from b24local.protocol.call_note import CURRENT_NOTE
from b24local.protocol.errors import ApiError, expired_token, invalid_token, no_auth_found, server_busy
from b24local.protocol.params import decode_params
from b24local.storage import runner
from b24local.storage.base import OAuthApp, Storage, Transaction
from b24local.storage.errors import BusyPastDeadline

log = logging.getLogger("b24local")
T = TypeVar("T")

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]
ReadBody = Callable[[], Awaitable[bytes]]

#: The ``status`` of every b24local application: a local application (app.info STATUS).
APP_STATUS = "L"
TOKEN_ALPHABET = string.ascii_lowercase + string.digits
SECRET_ALPHABET = string.ascii_letters + string.digits
JSON_TYPE = b"application/json; charset=utf-8"
NOT_FOUND = b'{"error":"NOT_FOUND","error_description":"Not found: use /oauth/authorize/ or /oauth/token/"}'


@dataclass(frozen=True, slots=True)
class OAuthSettings:
    """Lifetimes in seconds (docs: code 30 s, access token 1 h, refresh token 180 days)."""

    code_ttl: int = 30
    access_ttl: int = 3600
    refresh_ttl: int = 180 * 86400
    auto_approve_user: int | None = None


class OAuthError(Exception):
    """An authorization-server error: ``{"error": code, "error_description": text}``; ``why``: the
    journal's reason (never answered)."""

    def __init__(self, code: str, description: str, status: int = 400, why: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.description = description
        self.status = status
        self.why = why


def _invalid_request(description: str) -> OAuthError:
    return OAuthError("invalid_request", description)


def _invalid_client(why: str) -> OAuthError:
    return OAuthError("invalid_client", "Invalid client credentials", why=why)


def _invalid_grant(why: str) -> OAuthError:
    return OAuthError("invalid_grant", "Invalid grant", why=why)


def _note(why: str | None = None, **credential: Any) -> None:
    """Tell the journal (test-portal.md T7) why a request was refused and whose it was."""
    note = CURRENT_NOTE.get()
    if note is not None:
        note.why = why or note.why
        if credential:
            note.credential = credential


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def new_client_id() -> str:
    """Shaped like a portal's local application code: ``local.<14 hex>.<8 digits>``."""
    return f"local.{secrets.token_hex(7)}.{_random(string.digits, 8)}"


def new_client_secret() -> str:
    return _random(SECRET_ALPHABET, 50)


def new_token() -> str:
    return _random(TOKEN_ALPHABET, 32)


def create_app(tx: Transaction, name: str, scopes: Sequence[str], redirect_uri: str) -> tuple[str, str]:
    """Registers an application; returns (client_id, client_secret). Only the secret's hash is kept."""
    client_id, secret = new_client_id(), new_client_secret()
    tx.oauth_app_add(name, client_id, hash_secret(secret), scopes, redirect_uri)
    return client_id, secret


# Calls with ``auth`` (contract W2) -----------------------------------------------------------------


def authenticate(tx: Transaction, token: Any, now: float | None = None) -> AuthContext:
    """The context of an OAuth call: 401 NO_AUTH_FOUND, invalid_token or expired_token otherwise."""
    if token is None or token == "":
        raise no_auth_found("the call has no auth parameter and its path names no webhook")
    if not isinstance(token, str):
        raise invalid_token("auth is not a string")
    presented = hash_secret(token)
    login = tx.oauth_login(presented)
    if login is None or not hmac.compare_digest(login.access_hash, presented):
        raise invalid_token("no access token matches auth")
    if not login.app.active:
        raise invalid_token(f"application {login.app.client_id} is disabled")
    if not login.user.active:
        raise invalid_token(f"user {login.user.id} is inactive")
    if (clock.now() if now is None else now) >= login.access_expires_at:
        expired = clock.iso_utc(login.access_expires_at)
        raise expired_token(
            f"the access token of application {login.app.client_id} for user {login.user.id} "
            f"expired at {expired}"
        )
    return AuthContext(
        user_id=login.user.id,
        is_admin=login.user.is_admin,
        scopes=login.app.scopes,
        credential_kind="oauth",
        credential_id=login.app.id,
        app_id=login.app.id,
        client_id=login.app.client_id,
        crm_access=login.user.crm_access,
    )


# The HTTP side: /oauth/authorize/ and /oauth/token/ ---------------------------------------------


def _headers(scope: MutableMapping[str, Any]) -> dict[bytes, bytes]:
    return {name.lower(): value for name, value in scope["headers"]}


def _origin(scope: MutableMapping[str, Any]) -> tuple[str, str]:
    """(scheme, host[:port]) the client used to reach this server."""
    scheme = str(scope.get("scheme") or "http")
    host = _headers(scope).get(b"host", b"").decode("latin-1").strip()
    if not host or any(c in host for c in "/\\?#@ "):
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return scheme, host


def _string(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise _invalid_request(f"Invalid parameter: {name}")
    return value


class OAuthServer:
    def __init__(self, storage: Storage, settings: OAuthSettings | None = None) -> None:
        self.storage = storage
        self.settings = settings or OAuthSettings()

    async def handle(self, scope: MutableMapping[str, Any], read_body: ReadBody, send: Send) -> None:
        try:
            await self._route(scope, read_body, send)
        except BusyPastDeadline:  # nothing was written; the portal's overload answer, as /rest/ gives
            log.warning("database busy: %s answered 503", scope["path"])
            busy = server_busy()
            body = json.dumps({"error": busy.code, "error_description": busy.description}).encode()
            await _respond(send, busy.status, JSON_TYPE, body)
        except Exception:  # every answer is sent last, so nothing has been sent yet (contract V5)
            request_id = uuid.uuid4().hex[:12]
            log.exception("request %s: internal error in %s", request_id, scope["path"])
            body = b'{"error": "INTERNAL_SERVER_ERROR", "error_description": "Internal server error"}'
            await _respond(send, 500, JSON_TYPE, body)

    async def _route(self, scope: MutableMapping[str, Any], read_body: ReadBody, send: Send) -> None:
        path = scope["path"].rstrip("/")
        if path == "/oauth/token":
            status, body = await self._token_http(scope, read_body)
            payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
            await _respond(send, status, JSON_TYPE, payload)
        elif path == "/oauth/authorize":
            await self._authorize_http(scope, read_body, send)
        else:
            await _respond(send, 404, JSON_TYPE, NOT_FOUND)

    # /oauth/token/ --------------------------------------------------------------------------------
    async def _token_http(
        self, scope: MutableMapping[str, Any], read_body: ReadBody
    ) -> tuple[int, dict[str, Any]]:
        try:
            if scope["method"] not in ("GET", "POST"):
                raise _invalid_request("Use GET or POST")
            params = await _params(scope, read_body)
            return 200, self.token(params, _origin(scope))
        except OAuthError as error:
            _note(error.why)
            return error.status, {"error": error.code, "error_description": error.description}

    def _run(self, write: bool, fn: Callable[[Transaction], T]) -> T:
        """One transaction through the storage's runner: retried while the database is busy."""
        return runner.run(self.storage, write, fn)

    def token(self, params: dict[str, Any], origin: tuple[str, str]) -> dict[str, Any]:
        grant_type = _string(params, "grant_type")
        client_id = _string(params, "client_id")
        client_secret = _string(params, "client_secret")
        if grant_type not in ("authorization_code", "refresh_token"):
            raise _invalid_request("grant_type must be authorization_code or refresh_token")
        grant_name = "code" if grant_type == "authorization_code" else "refresh_token"
        grant = _string(params, grant_name)
        for name, value in (("client_id", client_id), ("client_secret", client_secret), (grant_name, grant)):
            if not value:
                raise _invalid_request(f"Missing parameter: {name}")
        now = clock.now()
        _note(client_id=client_id)
        what = "authorization code" if grant_type == "authorization_code" else "refresh token"

        def exchange(tx: Transaction) -> dict[str, Any]:
            app = tx.oauth_app_by_client_id(client_id)
            presented = hash_secret(client_secret)
            stored = app.secret_hash if app is not None else hash_secret(new_client_secret())
            if not hmac.compare_digest(stored, presented) or app is None or not app.active:
                raise _invalid_client(_client_refusal(app, client_id))
            if grant_type == "authorization_code":
                user_id = tx.oauth_code_take(app.id, hash_secret(grant), now)
            else:
                user_id = tx.oauth_refresh_take(app.id, hash_secret(grant), now)
            if user_id is None:
                raise _invalid_grant(f"the {what} is not one of {client_id}'s unused, unexpired ones")
            user = tx.user_get(user_id)
            if user is None or not user.active:
                raise _invalid_grant(f"user {user_id} is unknown or inactive")
            _note(user_id=user_id, client_id=client_id)
            return self._issue(tx, app, user_id, now, origin)

        return self._run(True, exchange)

    def _issue(
        self, tx: Transaction, app: OAuthApp, user_id: int, now: float, origin: tuple[str, str]
    ) -> dict[str, Any]:
        access, refresh = new_token(), new_token()
        expires = int(now) + self.settings.access_ttl
        tx.oauth_token_add(
            app.id,
            user_id,
            access_hash=hash_secret(access),
            access_expires_at=expires,
            refresh_hash=hash_secret(refresh),
            refresh_expires_at=int(now) + self.settings.refresh_ttl,
        )
        scheme, host = origin
        endpoint = f"{scheme}://{host}/rest/"
        return {
            "access_token": access,
            "expires": expires,
            "expires_in": self.settings.access_ttl,
            "scope": ",".join(sorted(app.scopes)),
            "domain": host,
            "server_endpoint": endpoint,
            "status": APP_STATUS,
            "client_endpoint": endpoint,
            "member_id": tx.oauth_member_id(),
            "user_id": user_id,
            "refresh_token": refresh,
        }

    # /oauth/authorize/ ----------------------------------------------------------------------------
    async def _authorize_http(self, scope: MutableMapping[str, Any], read_body: ReadBody, send: Send) -> None:
        try:
            params = await _params(scope, read_body)
        except OAuthError as error:
            _note(error.description)
            await _page(send, 400, "Authorization failed", f"<p>{html.escape(error.description)}</p>")
            return
        client_id = params.get("client_id")
        state = params.get("state")
        requested_uri = params.get("redirect_uri")
        if not isinstance(state, str):
            state = ""
        app = None
        if isinstance(client_id, str) and client_id:
            app = self._run(False, lambda tx: tx.oauth_app_by_client_id(client_id))
        if app is None or not app.active:
            _note(f"no active application has client_id {client_id}" if client_id else "no client_id")
            await _page(send, 400, "Authorization failed", "<p>Unknown application (client_id).</p>")
            return
        if requested_uri not in (None, "", app.redirect_uri):
            _note("redirect_uri differs from the application's", client_id=app.client_id)
            await _page(
                send, 400, "Authorization failed", "<p>redirect_uri differs from the application's.</p>"
            )
            return
        user_id = self.settings.auto_approve_user
        if scope["method"] == "POST":
            user_id = self._signed_in_user(params.get("webhook"))
            if user_id is None:
                _note("the webhook URL that signs in names no active webhook", client_id=app.client_id)
                await _page(send, 401, "Sign in", _form(app, state, "Wrong or inactive webhook URL."))
                return
        elif user_id is None:
            await _page(send, 200, "Sign in", _form(app, state, ""))
            return
        code = new_token()
        member_id = self._run(True, lambda tx: self._add_code(tx, app, user_id, code))
        _note(client_id=app.client_id, user_id=user_id)
        if member_id is None:
            _note(f"user {user_id} is unknown or inactive")
            await _page(send, 403, "Authorization failed", "<p>The user is unknown or inactive.</p>")
            return
        _, host = _origin(scope)
        query = urlencode(
            {
                "code": code,
                "state": state,
                "domain": host,
                "member_id": member_id,
                "scope": ",".join(sorted(app.scopes)),
                "server_domain": host,
            }
        )
        location = app.redirect_uri + ("&" if "?" in app.redirect_uri else "?") + query
        await _respond(
            send, 302, b"text/plain; charset=utf-8", b"", extra=[(b"location", location.encode("utf-8"))]
        )

    def _add_code(self, tx: Transaction, app: OAuthApp, user_id: int, code: str) -> str | None:
        """Store an approval's code; the portal's member_id, or None when the user cannot approve."""
        user = tx.user_get(user_id)
        if user is None or not user.active:
            return None
        tx.oauth_code_add(app.id, user_id, hash_secret(code), int(clock.now()) + self.settings.code_ttl)
        return tx.oauth_member_id()

    def _signed_in_user(self, webhook_url: Any) -> int | None:
        """The user whose active incoming webhook this is, or None."""
        if not isinstance(webhook_url, str) or not webhook_url.strip():
            return None
        address = parse_rest_path(urlsplit(webhook_url.strip()).path + "/x")
        if address is None or address.webhook_user is None or address.webhook_code is None:
            return None
        try:
            user, code = address.webhook_user, address.webhook_code
            return self._run(False, lambda tx: webhooks.authenticate(tx, user, code).user_id)
        except ApiError:
            return None


async def _params(scope: MutableMapping[str, Any], read_body: ReadBody) -> dict[str, Any]:
    content_type = _headers(scope).get(b"content-type", b"").decode("latin-1")
    try:
        raw = await read_body()
        return decode_params(scope["query_string"], content_type, raw)
    except ApiError as error:
        raise _invalid_request(error.description) from None
    except Exception:  # the body is too large or the client went away
        raise _invalid_request("Request entity too large") from None


async def _respond(
    send: Send,
    status: int,
    content_type: bytes,
    payload: bytes,
    *,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(payload)).encode()),
        (b"cache-control", b"no-store"),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def _page(send: Send, status: int, title: str, content: str) -> None:
    text = (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>b24local: {html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1>{content}</body></html>"
    )
    await _respond(send, status, b"text/html; charset=utf-8", text.encode("utf-8"))


def _form(app: OAuthApp, state: str, problem: str) -> str:
    notice = f'<p role="alert">{html.escape(problem)}</p>' if problem else ""
    return (
        f"<p>The application <b>{html.escape(app.name)}</b> asks for access "
        f"({html.escape(', '.join(sorted(app.scopes)))}) on your behalf.</p>{notice}"
        '<form method="post" action="/oauth/authorize/">'
        f'<input type="hidden" name="client_id" value="{html.escape(app.client_id)}">'
        f'<input type="hidden" name="state" value="{html.escape(state)}">'
        "<label>Your incoming webhook URL (signs you in): "
        '<input type="password" name="webhook" autocomplete="off" required></label> '
        '<button type="submit">Allow</button></form>'
    )


def _client_refusal(app: OAuthApp | None, client_id: str) -> str:
    if app is None:
        return f"no application has client_id {client_id}"
    if not app.active:
        return f"application {client_id} is disabled"
    return f"the client_secret is not application {client_id}'s"
