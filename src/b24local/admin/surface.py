"""Routing of ``/_b24local/`` and its admin token (contract T2).

Two resources are open to anyone, as they hold nothing secret: the health check (T1) and the OpenAPI
document of /rest/. Everything else needs ``Authorization: Bearer <admin token>``, checked before the
path is looked at, so that an unknown path tells a caller without the token nothing either. Webhook
codes and OAuth tokens are never looked up here: only the admin token opens this surface (and /rest/
never looks at it, so it opens nothing there).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from b24local.admin import fault_admin, reset, seed, snapshots, token
from b24local.admin import journal as journal_resource
from b24local.admin.health import health
from b24local.admin.http import (
    Headers,
    ReadBody,
    Scope,
    ScopedHandler,
    Send,
    error_body,
    header,
    send_json,
)
from b24local.config import Config
from b24local.journal.journal import Journal
from b24local.methods import openapi
from b24local.storage.base import Storage

PREFIX = "/_b24local/"
OPENAPI_PATH = "/_b24local/openapi.json"
HEALTH_PATH = "/_b24local/health"
#: What ``OPTIONS`` is told under /_b24local/ (the methods of its resources, T3–T9 included).
ALLOW = b"GET, HEAD, POST, PUT, DELETE, OPTIONS"
#: RFC 6750: a 401 names the scheme it wants.
CHALLENGE = [(b"www-authenticate", b'Bearer realm="b24local"')]

#: An authorised resource: (HTTP method, path, request body reader, send).
Handler = Callable[[str, str, ReadBody, Send], Awaitable[None]]


class AdminSurface:
    def __init__(self, config: Config, storage: Storage, journal: Journal | None = None) -> None:
        self.config = config
        self.storage = storage
        # The token of the command line or environment wins; else the one made with the database.
        given = config.admin_token
        self._token_digest = token.stored_digest(storage) if given is None else token.digest(given)
        #: The resources behind the token, by path (T3–T9 add theirs).
        self.routes: dict[str, Handler] = {reset.PATH: reset.reset_handler(config, storage)}
        self.routes[fault_admin.PATH] = fault_admin.faults_handler(storage)
        if journal is not None:
            self.routes[reset.PATH] = journal_resource.flushing_first(journal, self.routes[reset.PATH])
        #: Resources that read the request's head too (its content type, its query).
        self.scoped_routes: dict[str, ScopedHandler] = seed.routes(storage)
        if journal is not None:
            self.scoped_routes[journal_resource.PATH] = journal_resource.journal_handler(journal)
        #: The resources behind the token that serve a path and everything under it (``PREFIX/…``).
        self.prefixes: dict[str, Handler] = {snapshots.PREFIX: snapshots.SnapshotsHandler(storage)}

    async def handle(self, scope: Scope, read_body: ReadBody, send: Send) -> None:
        path, http_method = scope["path"], scope["method"]
        if path == HEALTH_PATH:
            # A health answer is about now: no cache may keep it.
            await self._public(http_method, send, self._health, [(b"cache-control", b"no-store")])
        elif path == OPENAPI_PATH:
            await self._public(http_method, send, lambda: (200, openapi.document_json()), [])
        elif not self.authorised(scope):
            await send_json(send, 401, self._refusal(), http_method, CHALLENGE)
        elif (scoped := self.scoped_routes.get(path)) is not None:
            await scoped(scope, read_body, send)
        elif (handler := self._route(path)) is not None:
            await handler(http_method, path, read_body, send)
        else:
            description = f"No such resource: {path}"
            await send_json(send, 404, error_body("NOT_FOUND", description), http_method)

    def _route(self, path: str) -> Handler | None:
        """The handler of an exact path, else of the prefix ``path`` is or lies under."""
        found = self.routes.get(path)
        if found is None:
            head, _, _ = path[len(PREFIX) :].partition("/")
            found = self.prefixes.get(PREFIX + head)
        return found

    def authorised(self, scope: Scope) -> bool:
        """``Authorization: Bearer <admin token>``, compared in constant time."""
        if self._token_digest is None:
            return False
        scheme, _, given = (header(scope, b"authorization") or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return False
        # Comparing digests of equal length keeps the comparison's time from telling the token's length.
        return hmac.compare_digest(token.digest(given.strip()), self._token_digest)

    def _refusal(self) -> dict[str, str]:
        if self._token_digest is None:
            why = (
                "No admin token is set for this database: start the server with --admin-token or "
                "$B24LOCAL_ADMIN_TOKEN"
            )
        else:
            why = "The test portal's surface needs Authorization: Bearer <admin token>"
        return error_body("INVALID_CREDENTIALS", why)

    def _health(self) -> tuple[int, object]:
        return health(self.config, self.storage)

    @staticmethod
    async def _public(
        http_method: str, send: Send, answer: Callable[[], tuple[int, object]], headers: Headers
    ) -> None:
        if http_method not in ("GET", "HEAD"):
            refusal = error_body("METHOD_NOT_ALLOWED", "Use GET")
            await send_json(send, 405, refusal, http_method, [(b"allow", b"GET, HEAD")])
            return
        status, body = answer()
        await send_json(send, status, body, http_method, headers)
