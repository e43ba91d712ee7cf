"""CORS for pages that call the server from a browser (contract test-portal.md T10).

Off unless ``serve --cors-origin`` names origins. An answer to a request whose ``Origin`` is one of
them (or any, with ``*``) carries ``Access-Control-Allow-Origin``; a preflight ``OPTIONS`` is answered
204 with the methods and the headers the browser asked about. No credentials mode: Bitrix24 calls
carry their credentials in the URL or the parameters, never in cookies. ``OPTIONS`` never runs a
method, whatever the origin (app.py answers it before anything else).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

#: An origin as a browser sends it: scheme, host, optional port; no path.
_ORIGIN = re.compile(r"^[a-z][a-z0-9+.-]*://[^/?#\s]+$")
#: How long a browser may keep a preflight's answer (seconds).
MAX_AGE = b"600"


def normalise_origin(text: str) -> str:
    """``*`` or ``scheme://host[:port]`` in lower case, without a trailing ``/``; ValueError otherwise."""
    origin = text.strip().lower().removesuffix("/")
    if origin != "*" and not _ORIGIN.match(origin):
        raise ValueError(f"an origin is scheme://host[:port] or *, not {text!r}")
    return origin


class Cors:
    def __init__(self, origins: tuple[str, ...]) -> None:
        normalised = {normalise_origin(origin) for origin in origins}
        self.any = "*" in normalised
        self.origins = frozenset(normalised - {"*"})

    def allowed_origin(self, scope: MutableMapping[str, Any]) -> bytes | None:
        """What ``Access-Control-Allow-Origin`` says to this request, or None (no CORS headers)."""
        for name, value in scope["headers"]:
            if name == b"origin":
                if self.any:
                    return b"*"
                return bytes(value) if value.decode("latin-1").lower() in self.origins else None
        return None

    def headers(self, allowed: bytes) -> Headers:
        # A named origin makes the answer differ by origin: caches must keep them apart.
        return [(b"access-control-allow-origin", allowed)] + (
            [] if allowed == b"*" else [(b"vary", b"Origin")]
        )

    def preflight_headers(self, scope: MutableMapping[str, Any], allowed: bytes, methods: bytes) -> Headers:
        """The headers of a 204 to a preflight: the request's own headers are allowed, whatever they
        are (``Content-Type: application/json``, ``Authorization`` for /_b24local/)."""
        asked = b""
        for name, value in scope["headers"]:
            if name == b"access-control-request-headers":
                asked = bytes(value)
        headers = self.headers(allowed)
        headers.append((b"access-control-allow-methods", methods))
        if asked:
            headers.append((b"access-control-allow-headers", asked))
        headers.append((b"access-control-max-age", MAX_AGE))
        return headers

    def wrap(self, send: Send, allowed: bytes) -> Send:
        """``send`` adding the CORS headers to the answer's head."""
        extra = self.headers(allowed)

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        return send_with_cors
