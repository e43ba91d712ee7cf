"""``GET /_b24local/journal`` and ``DELETE /_b24local/journal`` (contract test-portal.md T7).

Filters, all optional, as query parameters: ``method`` (a REST method, any case, or ``oauth/token``,
``oauth/authorize``), ``status`` (the HTTP status), ``user`` (the credential's user id), ``since`` (an
entry id: the entries after it; or an ISO 8601 time with its offset, ``2026-12-05T07:00:00Z``: the
entries from then on) and ``limit`` (1 to 10000, default 100). The answer is ``{"entries": [...]}``,
newest first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from urllib.parse import parse_qsl

from b24local.admin.http import ReadBody, Scope, ScopedHandler, Send, error_body, send_json
from b24local.journal.journal import Journal, JournalFilter
from b24local.storage.errors import BusyPastDeadline

PATH = "/_b24local/journal"
DEFAULT_LIMIT = 100
MOST = 10_000
Handler = Callable[[str, str, ReadBody, Send], Awaitable[None]]


class BadFilter(ValueError):
    pass


def journal_handler(journal: Journal) -> ScopedHandler:
    """The resource (its filters read from the request's query string)."""

    async def handle(scope: Scope, read_body: ReadBody, send: Send) -> None:
        http_method = scope["method"]
        if http_method not in ("GET", "HEAD", "DELETE"):
            refusal = error_body("METHOD_NOT_ALLOWED", "Use GET or DELETE")
            await send_json(send, 405, refusal, http_method, [(b"allow", b"GET, HEAD, DELETE")])
            return
        if not journal.on:
            off = error_body("NOT_FOUND", "The journal is off (serve --journal-size 0)")
            await send_json(send, 404, off, http_method)
            return
        try:
            if http_method == "DELETE":
                journal.clear()
                await send_json(send, 200, {"cleared": True}, http_method)
                return
            where, limit = read_filter(bytes(scope.get("query_string", b"")).decode("latin-1"))
            entries = journal.read(where, limit)
        except BadFilter as bad:
            await send_json(send, 400, error_body("INVALID_REQUEST", str(bad)), http_method)
            return
        except BusyPastDeadline:
            busy = error_body("QUERY_LIMIT_EXCEEDED", "The database stayed busy; try again")
            await send_json(send, 503, busy, http_method)
            return
        await send_json(send, 200, {"entries": entries}, http_method)

    return handle


def flushing_first(journal: Journal, handler: Handler) -> Handler:
    """``handler`` after this process's buffered entries reached the database (a reset then removes
    them too, instead of their arriving after it)."""

    async def handle(http_method: str, path: str, read_body: ReadBody, send: Send) -> None:
        if journal.on:
            journal.flush()
        await handler(http_method, path, read_body, send)

    return handle


def read_filter(query: str) -> tuple[JournalFilter, int]:
    given = dict(parse_qsl(query, keep_blank_values=True))
    unknown = sorted(set(given) - {"method", "status", "user", "since", "limit"})
    if unknown:
        raise BadFilter(f"Unknown filter: {unknown[0]} (method, status, user, since, limit)")
    after, since = _since(given.get("since"))
    method = given.get("method")
    where = JournalFilter(
        method=None if method is None else method.strip().lower(),
        status=_number(given, "status", 100, 599),
        user_id=_number(given, "user", 0, 2**63 - 1),
        after_id=after,
        since=since,
    )
    limit = _number(given, "limit", 1, MOST)
    return where, DEFAULT_LIMIT if limit is None else limit


def _number(given: dict[str, str], name: str, low: int, high: int) -> int | None:
    text = given.get(name)
    if text is None:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 19 or not low <= int(text) <= high:
        raise BadFilter(f"{name} must be a whole number from {low} to {high}, not {text!r}")
    return int(text)


def _since(text: str | None) -> tuple[int | None, float | None]:
    """An entry id (digits) or an ISO 8601 time with an offset."""
    if text is None:
        return None, None
    if text.isascii() and text.isdigit():
        return _number({"since": text}, "since", 0, 2**63 - 1), None
    try:
        moment: datetime | None = datetime.fromisoformat(text.strip())
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise BadFilter(f"since must be an entry id or an ISO 8601 time with its offset, not {text!r}")
    return None, float(moment.timestamp())
