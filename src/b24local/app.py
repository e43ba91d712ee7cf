"""The ASGI application: HTTP request → call → HTTP response.

A plain ASGI callable rather than a framework: per-request framework overhead dominated every
measurement on the target machines (see docs/performance.md), and the protocol needs only one route.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import Token
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
from b24local.journal.entry import Call
from b24local.journal.journal import Journal
from b24local.journal.record import oauth_call, rest_call
from b24local.methods.dispatch import Dispatcher
from b24local.protocol.address import Address, parse_rest_path
from b24local.protocol.budget import ParamBudget
from b24local.protocol.call_note import CURRENT_NOTE, CallNote
from b24local.protocol.cors import Cors
from b24local.protocol.envelope import CURRENT_TIMING, JSON_TYPE, CallTiming, render, success_body
from b24local.protocol.errors import (
    ApiError,
    BodyTooLarge,
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
        #: The request journal (T7) and the log line per call (T8).
        self.journal = Journal(storage, config.journal_size, config.log_format)
        #: /_b24local/: the test portal's own surface (admin/).
        self.admin = AdminSurface(config, storage, self.journal)
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
                self.journal.close()
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
            await self._oauth(scope, receive, send, timing.start)
        elif scope["path"].startswith(ADMIN_PREFIX):
            await self.admin.handle(scope, lambda: self._read_body(scope, receive), send)
        else:
            await self._rest(scope, receive, send, timing)

    async def _oauth(self, scope: Scope, receive: Receive, send: Send, start: float) -> None:
        read_body = lambda: self._read_body(scope, receive)  # noqa: E731
        if not self.journal.wanted:
            await self.oauth.handle(scope, read_body, send)
            return
        call = await oauth_call(self.oauth.handle, scope, read_body, send, start)
        call.duration = int((time.time() - start) * 1_000_000)
        self.journal.record(call)

    async def _rest(self, scope: Scope, receive: Receive, send: Send, timing: CallTiming) -> None:
        address = parse_rest_path(scope["path"])
        call = rest_call(scope, address, timing.start) if self.journal.wanted else None
        # Only batch notes anything (its commands): other calls do without the context variable.
        note_token = CURRENT_NOTE.set(CallNote()) if call is not None and call.method == "batch" else None
        try:
            status, content_type, payload, extra_headers = await self._answer(
                scope, receive, address, timing, call
            )
        except DropConnection as dropped:
            if call is not None:
                call.refused(0, {}, dropped.why)
            drop = scope.get(DROP_CONNECTION)
            if drop is None:  # not b24local's server (server.py): nothing here can close the connection
                raise
            drop()
            return
        finally:
            if call is not None:
                self._journal(call, note_token)
        headers = [(b"content-type", content_type), (b"content-length", str(len(payload)).encode())]
        headers.extend(extra_headers)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    async def _answer(
        self, scope: Scope, receive: Receive, address: Address | None, timing: CallTiming, call: Call | None
    ) -> tuple[int, bytes, bytes, tuple[Header, ...]]:
        """(status, content type, payload, an error's own headers such as X-B24local-Not-Implemented)."""
        fmt = address.fmt if address else "json"
        try:
            if address is None:
                body = {"error": "NOT_FOUND", "error_description": "Not found: use /rest/..."}
                if call is not None:
                    call.refused(404, body, None)
                return (404, *render(body, fmt), ())
            try:
                raw = await self._read_body(scope, receive)
            except BodyTooLarge:
                raise entity_too_large() from None
            return (200, *render(await self._call(scope, address, raw, timing, call), fmt), ())
        except ApiError as error:
            if call is not None:
                call.refused(error.status, error.body(), error.why)
            return (error.status, *render(error.body(), fmt), error.headers)
        except ProxyAnswer as answer:
            if call is not None:
                call.refused(answer.status, {}, answer.why)
            return (answer.status, answer.content_type, answer.body, ())
        except DropConnection:
            raise  # _rest closes the connection
        except Exception:
            request_id = uuid.uuid4().hex[:12]
            log.exception("request %s: internal error in %s", request_id, address.method if address else "-")
            fault = internal_error()
            if call is not None:
                why = f"an internal error: see the server log, request {request_id}"
                call.refused(fault.status, fault.body(), why)
            return (fault.status, *render(fault.body(), fmt), ())

    async def _call(
        self, scope: Scope, address: Address, raw: bytes, timing: CallTiming, call: Call | None
    ) -> dict[str, Any]:
        """A /rest/ request: the fault rules first (T9), then the call."""
        faults = self.faults
        if not await faults.before_request(address.method, lambda: self._caller(scope, address, raw)):
            return self._handle(scope, address, raw, timing, call)
        try:
            return self._handle(scope, address, raw, timing, call)
        finally:
            await faults.settle()

    def _caller(self, scope: Scope, address: Address, raw: bytes) -> AuthContext:
        """Who sends the request, for fault rules naming a user or an app (before the call runs)."""
        params = decode_params(scope["query_string"], _content_type(scope), raw, ParamBudget())
        return self.dispatcher.authenticate(self._authenticator(address, params, None))

    def _journal(self, call: Call, note_token: Token[CallNote | None] | None) -> None:
        if note_token is not None:
            note = CURRENT_NOTE.get()
            CURRENT_NOTE.reset(note_token)
            if note is not None:
                call.commands = note.commands
        call.duration = int((time.time() - call.at) * 1_000_000)
        self.journal.record(call)

    def _handle(
        self, scope: Scope, address: Address, raw: bytes, timing: CallTiming, call: Call | None
    ) -> dict[str, Any]:
        content_type = _content_type(scope)
        self.limits.admit()  # T1: every request counts once, a batch too (B5), before anything else
        budget = ParamBudget()  # the whole request's, batch commands included
        params = decode_params(scope["query_string"], content_type, raw, budget)
        if call is not None:
            call.params = params
        auth = self._authenticator(address, params, call)
        token = CURRENT_TIMING.set(timing)
        try:
            result, elapsed = self.dispatcher.call(auth, address.method, params, budget)
        finally:
            CURRENT_TIMING.reset(token)
        timing.processing = elapsed
        return success_body(result, timing)

    def _authenticator(
        self, address: Address, params: dict[str, Any], call: Call | None
    ) -> Callable[[Transaction], AuthContext]:
        """Authenticates the call inside its transaction, keeping the context for the journal."""
        if address.webhook_user is not None and address.webhook_code is not None:
            user_id, code, cache = address.webhook_user, address.webhook_code, self.login_cache
            if call is None:
                return lambda tx: webhooks.authenticate(tx, user_id, code, cache)
            return lambda tx: call.noted(webhooks.authenticate(tx, user_id, code, cache))
        token = params.get("auth")
        if call is None:
            return lambda tx: oauth.authenticate(tx, token)
        return lambda tx: call.noted(oauth.authenticate(tx, token))


def _content_type(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return str(value.decode("latin-1"))
    return ""


__all__ = ["JSON_TYPE", "App"]
