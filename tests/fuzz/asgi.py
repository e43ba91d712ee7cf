"""One HTTP request to an ASGI app, in-process, as uvicorn delivers it.

Not httpx's ASGITransport: it refuses the URLs the fuzzer needs (control characters, queries past
64 KiB). Large bodies arrive in 64 KiB messages, as from a socket.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import quote

Message = MutableMapping[str, Any]
AsgiApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]

JSON_HEADERS = (("content-type", "application/json"),)
CHUNK = 65_536


async def asgi_request(
    app: AsgiApp,
    verb: str,
    path: str,
    *,
    query: bytes = b"",
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
) -> tuple[int, bytes]:
    """``(status, body)`` of the answer; an exception the app lets out propagates."""
    raw_headers = [(b"host", b"127.0.0.1:8000")]
    raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1", "replace")) for k, v in headers]
    if body or verb not in ("GET", "HEAD"):
        raw_headers.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": verb,
        "scheme": "http",
        "path": path,
        "raw_path": quote(path, safe="/:@!$&'()*+,;=-._~").encode(),
        "root_path": "",
        "query_string": query,
        "headers": raw_headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    chunks = [body[i : i + CHUNK] for i in range(0, len(body), CHUNK)] or [b""]
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)
    ]
    status = 0
    answer: list[bytes] = []

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        elif message["type"] == "http.response.body":
            answer.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(answer)
