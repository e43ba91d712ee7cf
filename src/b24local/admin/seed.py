"""``POST /_b24local/seed`` and ``GET /_b24local/export`` (contract test-portal.md T5).

A seed's body is JSON, or YAML when its ``Content-Type`` says so (``application/yaml``, ``text/yaml``,
``application/x-yaml``); it is applied in one transaction, or refused whole with the path of its first
error (400). The answer counts the items of each list. An export is JSON, or YAML with
``?format=yaml``; secrets in it are hashes only. Both run on the event loop, as a reset does: a test
portal's administration is not served alongside heavy traffic.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from b24local.admin.http import ReadBody, Scope, ScopedHandler, Send, error_body, header, send_json
from b24local.crm import seed as seeding
from b24local.protocol.errors import BodyTooLarge
from b24local.storage.base import Storage
from b24local.storage.errors import BusyPastDeadline
from b24local.storage.runner import run

SEED_PATH = "/_b24local/seed"
EXPORT_PATH = "/_b24local/export"
#: The content types of an export (and of the seed bodies read as such).
CONTENT_TYPES = {"json": b"application/json", "yaml": b"application/yaml; charset=utf-8"}


async def _refuse(send: Send, http_method: str, status: int, code: str, why: str) -> None:
    await send_json(send, status, error_body(code, why), http_method)


async def _wrong_method(send: Send, http_method: str, allowed: str) -> None:
    refusal = error_body("METHOD_NOT_ALLOWED", f"Use {allowed}")
    await send_json(send, 405, refusal, http_method, [(b"allow", allowed.encode())])


def seed_handler(storage: Storage) -> ScopedHandler:
    async def handle(scope: Scope, read_body: ReadBody, send: Send) -> None:
        http_method = scope["method"]
        if http_method != "POST":
            await _wrong_method(send, http_method, "POST")
            return

        try:
            body = await read_body()
        except BodyTooLarge:
            why = "The seed is larger than the body limit: apply it with `b24local seed FILE`"
            await _refuse(send, http_method, 413, "REQUEST_ENTITY_TOO_LARGE", why)
            return
        try:
            doc = seeding.parse(body, seeding.format_of(header(scope, b"content-type")))
            counts = run(storage, True, lambda tx: seeding.seed(tx, doc))
        except seeding.SeedError as error:
            await _refuse(send, http_method, 400, "INVALID_SEED", str(error))
            return
        except BusyPastDeadline:
            why = "The database stayed busy: nothing was seeded; try again"
            await _refuse(send, http_method, 503, "QUERY_LIMIT_EXCEEDED", why)
            return
        await send_json(send, 200, {"seeded": counts}, http_method)

    return handle


def export_handler(storage: Storage) -> ScopedHandler:
    async def handle(scope: Scope, read_body: ReadBody, send: Send) -> None:
        http_method = scope["method"]
        if http_method not in ("GET", "HEAD"):
            await _wrong_method(send, http_method, "GET")
            return
        query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"))
        fmt = (query.get("format") or ["json"])[-1].lower()
        if fmt not in seeding.FORMATS:
            await _refuse(send, http_method, 400, "INVALID_REQUEST", "format must be json or yaml")
            return
        try:
            doc = run(storage, False, seeding.export)
        except BusyPastDeadline:
            await _refuse(
                send, http_method, 503, "QUERY_LIMIT_EXCEEDED", "The database stayed busy; try again"
            )
            return
        payload = seeding.dump(doc, "yaml" if fmt == "yaml" else "json")
        head = [(b"content-type", CONTENT_TYPES[fmt]), (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": head})
        await send({"type": "http.response.body", "body": b"" if http_method == "HEAD" else payload})

    return handle


def routes(storage: Storage) -> dict[str, ScopedHandler]:
    return {SEED_PATH: seed_handler(storage), EXPORT_PATH: export_handler(storage)}
