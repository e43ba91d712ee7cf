"""Fault and latency injection on /rest/ calls (test-portal.md T9): the rules of the database applied
to every call, in every server process.

The rules and their counts live in the database (migration 13). A process keeps the parsed rules of
one generation, which every replacement of the list moves on; a call reads the generation (SQLite: one
one-row SELECT; PostgreSQL: nothing while the connection has heard no announcement) and, when no rule
matches its method, writes nothing. A call that a rule matches pays one write transaction, which counts
it and decides whether the rule fires — atomic across processes, so ``times: 1`` faults exactly one
call whichever process takes it.

The rules are consulted in list order; each one that matches counts the call; one that fires adds its
delay, and the first that fires with an error answers the call, after the delays (later rules are not
consulted). The check runs before the request-intensity limit and before the method: a faulted call
changes nothing and is not counted by the limits. Inside ``batch``, a command is checked the same way
before it runs; a command's error goes to ``result_error`` as any command's failure, and its delay is
served before the batch answers (the process never blocks on it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field

import orjson

from b24local.admin.fault_rules import REQUEST_ONLY, Rule, parse_rules
from b24local.auth.context import AuthContext
from b24local.auth.limits import operation_time_limit, query_limit_exceeded
from b24local.protocol.errors import ApiError, expired_token, internal_error, invalid_token, server_busy
from b24local.storage.base import Storage, Transaction
from b24local.storage.errors import BusyPastDeadline
from b24local.storage.runner import lock_wait_of, run

#: The key of the ASGI scope under which b24local's server (server.py) passes a function that closes
#: the request's connection at once, without an answer.
DROP_CONNECTION = "b24local.drop_connection"

#: The page nginx answers when its upstream fails (src/http/ngx_http_special_response.c: the 502 page
#: and the tail of ``server_tokens off``), as a portal's proxy does; Content-Type ``text/html``.
NGINX_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)

#: The portal's answers, made by the constructors the real refusals use, so both are the same bytes.
API_ERRORS: dict[str, Callable[[], ApiError]] = {
    "QUERY_LIMIT_EXCEEDED": query_limit_exceeded,
    "OPERATION_TIME_LIMIT": operation_time_limit,
    "INTERNAL_SERVER_ERROR": internal_error,
    "expired_token": expired_token,
    "invalid_token": invalid_token,
}


class ProxyAnswer(Exception):
    """A whole answer that is not the REST envelope (the proxy's HTML 502)."""

    def __init__(self, status: int, content_type: bytes, body: bytes, why: str) -> None:
        super().__init__(status)
        self.status = status
        self.content_type = content_type
        self.body = body
        self.why = why


class DropConnection(Exception):
    """Close the connection without answering (``reset``)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


@dataclass(slots=True)
class _Loaded:
    """The rules of one generation, as this process keeps them."""

    generation: int
    rules: tuple[Rule, ...]
    #: client_id → the application's id (None: no such application) for the rules naming an app.
    apps: dict[str, int | None] = field(default_factory=dict)


@dataclass(slots=True)
class _Request:
    """What the commands of a request's ``batch`` need: the rules seen at its start, delays owed."""

    loaded: _Loaded
    delay: float = 0.0


#: Set per /rest/ request by :meth:`Faults.before_request`; None when no rule is set.
_CURRENT: ContextVar[_Request | None] = ContextVar("b24local_faults", default=None)


class Faults:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.lock_wait = lock_wait_of(storage)
        self._loaded = _Loaded(-1, ())

    def _current(self) -> _Loaded:
        with self.storage.read(snapshot=False) as tx:
            if tx.fault_generation() != self._loaded.generation:
                self._loaded = _load(tx)
        return self._loaded

    async def before_request(self, method: str, caller: Callable[[], AuthContext]) -> bool:
        """Before a /rest/ request runs: waits a rule's delay, raises its answer (ApiError,
        ProxyAnswer, DropConnection). ``caller`` authenticates the request (only rules naming a user or
        an app need it). True when rules are set: the caller then awaits :meth:`settle` before answering."""
        loaded = self._current()
        if not loaded.rules:
            _CURRENT.set(None)
            return False
        _CURRENT.set(_Request(loaded))
        matching = [(i, rule) for i, rule in enumerate(loaded.rules) if rule.matches(method)]
        if not matching:
            return True
        ctx = caller() if any(rule.needs_caller for _, rule in matching) else None
        delay, fired = self._consume(loaded, _of_caller(matching, ctx, loaded))
        if delay:
            await asyncio.sleep(delay)
        if fired is not None:
            raise _answer(*fired)
        return True

    def command(self, ctx: AuthContext, method: str) -> None:
        """Before a command inside ``batch`` runs (methods/dispatch.py's CallFaults step): raises a
        rule's ApiError; its delay is owed to the request (:meth:`settle`)."""
        request = _CURRENT.get()
        if request is None:
            return
        name = method.lower()
        matching = [
            (i, rule)
            for i, rule in enumerate(request.loaded.rules)
            if rule.error not in REQUEST_ONLY and rule.matches(name)
        ]
        if not matching:
            return
        delay, fired = self._consume(request.loaded, _of_caller(matching, ctx, request.loaded))
        request.delay += delay
        if fired is not None:
            raise _answer(*fired)

    async def settle(self) -> None:
        """Serve the delays the request's ``batch`` commands owe, before it answers."""
        request = _CURRENT.get()
        if request is not None and request.delay:
            owed, request.delay = request.delay, 0.0
            await asyncio.sleep(owed)

    def _consume(
        self, loaded: _Loaded, candidates: list[tuple[int, Rule]]
    ) -> tuple[float, tuple[int, Rule] | None]:
        """Count the call for each candidate rule in one write transaction; (delay, the rule that
        fired with an error and its position, or None)."""
        if not candidates:
            return 0.0, None
        generation = loaded.generation

        def walk(tx: Transaction) -> tuple[float, tuple[int, Rule] | None]:
            delay = 0.0
            for position, rule in candidates:
                counted = tx.fault_hit(generation, position)
                if counted is None:  # the rules were replaced meanwhile: this call goes through
                    return 0.0, None
                hits, remaining = counted
                if rule.fires(hits, remaining):
                    tx.fault_fired(generation, position)
                    delay += rule.delay_seconds(hits)
                    if rule.error is not None:
                        return delay, (position, rule)
            return delay, None

        try:
            return run(self.storage, True, walk, lock_wait=self.lock_wait)
        except BusyPastDeadline:
            raise server_busy() from None


def _load(tx: Transaction) -> _Loaded:
    generation, rows = tx.fault_rules()
    rules = tuple(parse_rules([orjson.loads(row.rule) for row in rows]))
    apps: dict[str, int | None] = {}
    for rule in rules:
        if rule.app is not None and rule.app not in apps:
            app = tx.oauth_app_by_client_id(rule.app)
            apps[rule.app] = None if app is None else app.id
    return _Loaded(generation, rules, apps)


def _of_caller(
    matching: list[tuple[int, Rule]], ctx: AuthContext | None, loaded: _Loaded
) -> list[tuple[int, Rule]]:
    """The rules among ``matching`` whose user and app (if they name them) are the caller's."""
    found = []
    for position, rule in matching:
        if rule.needs_caller:
            if ctx is None or (rule.user is not None and rule.user != ctx.user_id):
                continue
            if rule.app is not None and (ctx.app_id is None or ctx.app_id != loaded.apps.get(rule.app)):
                continue
        found.append((position, rule))
    return found


def _answer(position: int, rule: Rule) -> Exception:
    """The answer of ``rule``; its ``why`` (the journal's) names the rule."""
    error = rule.error
    assert error is not None
    why = f"fault rule [{position}] (method {rule.method!r}) answered {error}"
    if error == "html_502":
        return ProxyAnswer(502, b"text/html", NGINX_502, why)
    if error == "reset":
        return DropConnection(why)
    answer = API_ERRORS[error]()
    answer.why = why
    return answer
