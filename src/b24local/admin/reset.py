"""``POST /_b24local/reset`` (contract test-portal.md T3): the CRM data goes in one transaction, ids
start at 1 again; users, departments, roles, webhooks, apps and pipelines stay.

``{"all": true}`` (users and credentials too) and ``{"to": NAME}`` (a snapshot, T4) are not served yet:
they answer 400 and change nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import orjson

from b24local.admin.http import ReadBody, Send, error_body, send_json
from b24local.crm.reset import reset_crm
from b24local.storage.base import Storage
from b24local.storage.errors import BusyPastDeadline
from b24local.storage.runner import run

PATH = "/_b24local/reset"


def reset_handler(storage: Storage) -> Callable[[str, str, ReadBody, Send], Awaitable[None]]:
    async def handle(http_method: str, path: str, read_body: ReadBody, send: Send) -> None:
        if http_method != "POST":
            refusal = error_body("METHOD_NOT_ALLOWED", "Use POST")
            await send_json(send, 405, refusal, http_method, [(b"allow", b"POST")])
            return
        why = _refusal(await read_body())
        if why is not None:
            await send_json(send, 400, error_body("INVALID_REQUEST", why), http_method)
            return
        try:
            run(storage, True, reset_crm)
        except BusyPastDeadline:
            busy = error_body(
                "QUERY_LIMIT_EXCEEDED", "The database stayed busy: nothing was reset; try again"
            )
            await send_json(send, 503, busy, http_method)
            return
        await send_json(send, 200, {"reset": "crm"}, http_method)

    return handle


def _refusal(body: bytes) -> str | None:
    """Why the request body cannot be served, or None: an empty body or ``{}`` resets the CRM data."""
    if not body.strip():
        return None
    try:
        options = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "The body must be a JSON object"
    if not isinstance(options, dict):
        return "The body must be a JSON object"
    if options.get("all") not in (None, False):
        return '"all" (users and credentials too) is not supported yet'
    if options.get("to") is not None:
        return '"to" (restoring a snapshot) is not supported yet'
    unknown = sorted(set(options) - {"all", "to"})
    return f"Unknown option: {unknown[0]}" if unknown else None
