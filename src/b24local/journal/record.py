"""Journaling a request at the HTTP layer: the :class:`~b24local.journal.entry.Call` of a ``/rest/``
request, filled in by app.py as it runs, and the whole of an ``/oauth/`` request, whose server answers
by itself (auth/oauth.py): its answer's status and error are read off what it sends."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from b24local.journal.entry import OAUTH_SECRETS, Call
from b24local.protocol.address import Address
from b24local.protocol.call_note import CURRENT_NOTE, CallNote
from b24local.protocol.params import decode_params

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]
ReadBody = Callable[[], Awaitable[bytes]]
Handle = Callable[[MutableMapping[str, Any], ReadBody, Send], Awaitable[None]]


def rest_call(scope: MutableMapping[str, Any], address: Address | None, at: float) -> Call:
    if address is None:
        return Call(at, scope["method"], scope["path"], "")
    return Call(at, scope["method"], address.shown_path, address.method, address.webhook_code)


async def oauth_call(
    handle: Handle, scope: MutableMapping[str, Any], read_body: ReadBody, send: Send, at: float
) -> Call:
    """Run the OAuth server on the request, keeping what the journal needs of it."""
    raw = b""
    status = 0
    answer: list[bytes] = []

    async def reading() -> bytes:
        nonlocal raw
        raw = await read_body()
        return raw

    async def sending(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        elif status >= 400:  # an error's body only: a success holds tokens
            answer.append(message.get("body", b""))
        await send(message)

    note = CallNote()
    token = CURRENT_NOTE.set(note)
    try:
        await handle(scope, reading, sending)
    finally:
        CURRENT_NOTE.reset(token)
    name = "oauth/" + scope["path"].strip("/").split("/")[-1]
    call = Call(at, scope["method"], scope["path"], name)
    call.params, call.status, call.secrets = _params(scope, raw), status, OAUTH_SECRETS
    call.credential = note.credential
    if status >= 400:
        call.refused(status, _error(b"".join(answer)), note.why)
    call.mask()  # now: its secrets are not the /rest/ ones a page looks for
    return call


def _params(scope: MutableMapping[str, Any], raw: bytes) -> Any:
    content_type = ""
    for name, value in scope["headers"]:
        if name == b"content-type":
            content_type = value.decode("latin-1")
    try:
        return decode_params(scope["query_string"], content_type, raw)
    except Exception:  # what the OAuth server refused to decode: its answer says so
        return None


def _error(body: bytes) -> dict[str, Any]:
    """The ``error`` and ``error_description`` of a JSON answer ({} for a page)."""
    try:
        found = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    return found if isinstance(found, dict) else {}
