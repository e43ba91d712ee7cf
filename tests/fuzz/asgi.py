"""One HTTP request to an ASGI app, in-process, as uvicorn delivers it.

Not httpx's ASGITransport: it refuses the URLs the fuzzer needs (control characters, queries past
64 KiB). Large bodies arrive in 64 KiB messages, as from a socket.
"""

from __future__ import annotations

from urllib.parse import quote

from tests.inprocess import AsgiApp, Exchange

JSON_HEADERS = (("content-type", "application/json"),)


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
    exchange = Exchange(body)
    await app(scope, exchange.receive, exchange.send)
    return exchange.status, exchange.body
