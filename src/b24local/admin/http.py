"""The ASGI pieces the admin surface shares: its types, reading a request head, JSON answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from b24local.protocol.envelope import JSON_TYPE

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]
ReadBody = Callable[[], Awaitable[bytes]]
Headers = list[tuple[bytes, bytes]]

#: A resource that reads the request's head too (its content type, its query string).
ScopedHandler = Callable[[Scope, ReadBody, Send], Awaitable[None]]


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of the request header ``name`` (lower case), or None."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


async def send_json(
    send: Send, status: int, body: Any, http_method: str, headers: Headers | None = None
) -> None:
    """A JSON answer; a HEAD request gets the head alone, with the length the body would have."""
    payload = body if isinstance(body, bytes) else orjson.dumps(body)
    head = [(b"content-type", JSON_TYPE), (b"content-length", str(len(payload)).encode())]
    head.extend(headers or ())
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": b"" if http_method == "HEAD" else payload})


def error_body(code: str, description: str) -> dict[str, str]:
    return {"error": code, "error_description": description}
