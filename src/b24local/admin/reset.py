"""``POST /_b24local/reset`` (contract test-portal.md T3), in one transaction each:

- no body or ``{}``: the CRM data goes, ids start at 1 again; users, departments, roles, webhooks,
  apps and pipelines stay;
- ``{"all": true}``: everything goes (admin/state.py), then user 1 and its crm webhook are made as on a
  new database (with ``serve --webhook-code``'s code when given), whose URL the answer shows once;
- ``{"to": NAME}``: the snapshot NAME is restored (404 when there is none).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from b24local.admin import state
from b24local.admin.http import ReadBody, Send, error_body, send_json
from b24local.config import Config
from b24local.crm.reset import reset_crm
from b24local.storage.base import Storage
from b24local.storage.errors import BusyPastDeadline
from b24local.storage.runner import run

PATH = "/_b24local/reset"


def reset_handler(config: Config, storage: Storage) -> Callable[[str, str, ReadBody, Send], Awaitable[None]]:
    async def handle(http_method: str, path: str, read_body: ReadBody, send: Send) -> None:
        if http_method != "POST":
            refusal = error_body("METHOD_NOT_ALLOWED", "Use POST")
            await send_json(send, 405, refusal, http_method, [(b"allow", b"POST")])
            return
        options = _options(await read_body())
        if isinstance(options, str):
            await send_json(send, 400, error_body("INVALID_REQUEST", options), http_method)
            return
        try:
            status, answer = _reset(config, storage, options)
        except BusyPastDeadline:
            busy = error_body(
                "QUERY_LIMIT_EXCEEDED", "The database stayed busy: nothing was reset; try again"
            )
            await send_json(send, 503, busy, http_method)
            return
        await send_json(send, status, answer, http_method)

    return handle


def _reset(config: Config, storage: Storage, options: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    name = options.get("to")
    if name is not None:
        if not state.restore(storage, name):
            return 404, error_body("NOT_FOUND", f"No snapshot named {name}")
        return 200, {"reset": "snapshot", "to": name}
    if options.get("all"):
        code = state.reset_all(storage, config.webhook_code)
        return 200, {"reset": "all", "webhook_url": config.webhook_url(1, code)}
    run(storage, True, reset_crm)
    return 200, {"reset": "crm"}


def _options(body: bytes) -> dict[str, Any] | str:
    """The options of the request body, or why it cannot be served: an empty body or ``{}`` resets
    the CRM data."""
    if not body.strip():
        return {}
    try:
        options = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "The body must be a JSON object"
    if not isinstance(options, dict):
        return "The body must be a JSON object"
    unknown = sorted(set(options) - {"all", "to"})
    if unknown:
        return f"Unknown option: {unknown[0]}"
    if options.get("all") is not None and not isinstance(options["all"], bool):  # 1 == True: check types
        return '"all" must be true or false'
    if options.get("to") is not None:
        if options.get("all"):
            return 'Give either "all" or "to", not both'
        if not state.valid_name(options["to"]):
            return f'"to": {state.NAME_RULE}'
    return options
