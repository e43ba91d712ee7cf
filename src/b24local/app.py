"""The ASGI application: HTTP request → call → HTTP response.

A plain ASGI callable rather than a framework: per-request framework overhead dominated every
measurement on the target machines (see docs/performance.md), and the protocol needs only one route.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from b24local.admin.faults import DROP_CONNECTION, DropConnection, Faults, ProxyAnswer
from b24local.admin.surface import ALLOW as ADMIN_ALLOW
from b24local.admin.surface import PREFIX as ADMIN_PREFIX
from b24local.admin.surface import AdminSurface
from b24local.auth import oauth, webhooks
from b24local.auth.context import AuthContext
from b24local.auth.limits import Limits
from b24local.auth.login_cache import LoginCache
from b24local.config import Config
from b24local.methods.dispatch import Dispatcher
from b24local.protocol.address import Address, parse_rest_path
from b24local.protocol.budget import ParamBudget
from b24local.protocol.cors import Cors
from b24local.protocol.envelope import CURRENT_TIMING, JSON_TYPE, CallTiming, render, success_body
from b24local.protocol.errors import (
    ApiError,
    Header,
    entity_too_large,
    internal_error,
)
from b24local.protocol.params import decode_params
from b24local.storage.base import Storage, Transaction

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("b24local")

#: What an ``OPTIONS`` request is told (HEAD runs a method as GET does, as behind a portal's nginx).
ALLOW = b"GET, HEAD, POST, OPTIONS"


class BodyTooLarge(Exception):
    pass


class App:
    def __init__(
        self,
        config: Config,
        storage: Storage,
        limits: Limits | None = None,
        oauth_settings: oauth.OAuthSettings | None = None,
    ) -> None:
        self.config = config
        self.storage = storage
        #: Portal limits (T1–T2); without them operating time is still measured, never refused.
        self.limits = Limits() if limits is None else limits
        #: Fault and latency injection (T9): the rules of /_b24local/faults, before every /rest/ call.
        self.faults = Faults(storage)
        self.dispatcher = Dispatcher(storage, self.limits, self.faults)
        #: OAuth 2.0: /oauth/authorize/, /oauth/token/ and the tokens of /rest/ calls (auth/oauth.py).
        self.oauth = oauth.OAuthServer(storage, oauth_settings)
        #: Webhook logins worked out, valid while the database's auth epoch stays.
        self.login_cache = LoginCache()
        self.limits.connect(storage, self.dispatcher.lock_wait)
        #: /_b24local/: the test portal's own surface (admin/).
        self.admin = AdminSurface(config, storage)
        #: CORS (T10), only with ``serve --cors-origin``.
        self.cors = Cors(config.cors_origins) if config.cors_origins else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.storage.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        limit = self.config.max_body_bytes
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                raise BodyTooLarge
        message = await receive()
        if not message.get("more_body", False):  # the whole body in one message: the usual case
            body: bytes = message.get("body", b"")
            if len(body) > limit:
                raise BodyTooLarge
            return body
        chunks: list[bytes] = []
        size = 0
        while True:
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
            message = await receive()
        return b"".join(chunks)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        timing = CallTiming(start=time.time())
        cors, allowed = self.cors, None
        if cors is not None:
            allowed = cors.allowed_origin(scope)
        if scope["method"] == "OPTIONS":  # a browser's preflight: never runs a method, never counts
            allow = ADMIN_ALLOW if scope["path"].startswith(ADMIN_PREFIX) else ALLOW
            headers = [(b"allow", allow)]
            if cors is not None and allowed is not None:
                headers += cors.preflight_headers(scope, allowed, allow)
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        if cors is not None and allowed is not None:
            send = cors.wrap(send, allowed)
        if scope["path"].startswith("/oauth/"):
            await self.oauth.handle(scope, lambda: self._read_body(scope, receive), send)
            return
        if scope["path"].startswith(ADMIN_PREFIX):
            await self.admin.handle(scope, lambda: self._read_body(scope, receive), send)
            return
        await self._rest_request(scope, receive, send, timing)

    async def _rest_request(self, scope: Scope, receive: Receive, send: Send, timing: CallTiming) -> None:
        address = parse_rest_path(scope["path"])
        fmt = address.fmt if address else "json"
        extra_headers: tuple[Header, ...] = ()  # an error's own (X-B24local-Not-Implemented)
        try:
            if address is None:
                status, body = 404, {"error": "NOT_FOUND", "error_description": "Not found: use /rest/..."}
            else:
                try:
                    raw = await self._read_body(scope, receive)
                except BodyTooLarge:
                    raise entity_too_large() from None
                status, body = 200, await self._rest(scope, address, raw, timing)
            content_type, payload = render(body, fmt)
        except ApiError as error:
            status, body = error.status, error.body()
            content_type, payload = render(body, fmt)
            extra_headers = error.headers
        except ProxyAnswer as answer:
            status, content_type, payload = answer.status, answer.content_type, answer.body
        except DropConnection:
            drop = scope.get(DROP_CONNECTION)
            if drop is None:  # not b24local's server (server.py): nothing here can close the connection
                raise
            drop()
            return
        except Exception:
            request_id = uuid.uuid4().hex[:12]
            method = address.method if address else "-"
            log.exception("request %s: internal error in %s", request_id, method)
            fault = internal_error()
            status = fault.status
            content_type, payload = render(fault.body(), fmt)
        headers = [(b"content-type", content_type), (b"content-length", str(len(payload)).encode())]
        headers.extend(extra_headers)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    async def _rest(self, scope: Scope, address: Address, raw: bytes, timing: CallTiming) -> dict[str, Any]:
        """A /rest/ request: the fault rules first (T9), then the call."""
        faults = self.faults
        if not await faults.before_request(address.method, lambda: self._caller(scope, address, raw)):
            return self._handle(scope, address, raw, timing)
        try:
            return self._handle(scope, address, raw, timing)
        finally:
            await faults.settle()

    def _caller(self, scope: Scope, address: Address, raw: bytes) -> AuthContext:
        """Who sends the request, for fault rules naming a user or an app (before the call runs)."""
        params = decode_params(scope["query_string"], _content_type(scope), raw, ParamBudget())
        return self.dispatcher.authenticate(self._authenticator(address, params))

    def _handle(self, scope: Scope, address: Address, raw: bytes, timing: CallTiming) -> dict[str, Any]:
        content_type = _content_type(scope)
        self.limits.admit()  # T1: every request counts once, a batch too (B5), before anything else
        budget = ParamBudget()  # the whole request's, batch commands included
        params = decode_params(scope["query_string"], content_type, raw, budget)
        auth = self._authenticator(address, params)
        token = CURRENT_TIMING.set(timing)
        try:
            result, elapsed = self.dispatcher.call(auth, address.method, params, budget)
        finally:
            CURRENT_TIMING.reset(token)
        timing.processing = elapsed
        return success_body(result, timing)

    def _authenticator(
        self, address: Address, params: dict[str, Any]
    ) -> Callable[[Transaction], AuthContext]:
        if address.webhook_user is not None and address.webhook_code is not None:
            user_id, code = address.webhook_user, address.webhook_code
            return lambda tx: webhooks.authenticate(tx, user_id, code, self.login_cache)
        token = params.get("auth")
        return lambda tx: oauth.authenticate(tx, token)


def _content_type(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return str(value.decode("latin-1"))
    return ""


__all__ = ["JSON_TYPE", "App"]
