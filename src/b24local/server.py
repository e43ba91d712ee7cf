"""The HTTP server layer: uvicorn's httptools protocol with a deadline for request heads, a cap on open
connections, and JSON answers for what the server answers itself before any request reaches the app.

uvicorn closes an idle keep-alive connection, but only after a first answer, and any byte received
restarts its timer: a connection that never sends a request, or trickles one, stays open for ever. Here
uvicorn's keep-alive timer becomes the head deadline: armed at connect and at the end of every answer,
stopped only when a request's head is whole, so per request it costs what uvicorn's timer did (one
``call_later`` and one cancel).
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import socket
import struct
from dataclasses import dataclass
from typing import Any

import httptools
import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from b24local.admin.faults import DROP_CONNECTION

try:
    import resource
except ImportError:  # Windows: no descriptor limit to follow
    resource = None  # type: ignore[assignment]

#: The standard loop: as fast as uvloop on b24local's calls and a p99 6x lower under saturation
#: (docs/performance.md, "Tail latency").
SERVER_LOOP = "asyncio"
#: How long a request's head may take, from connect or from the end of the previous answer.
DEFAULT_HEAD_TIMEOUT = 10.0
#: Open connections per process, unless the descriptor limit allows fewer.
DEFAULT_MAX_CONNECTIONS = 1024
#: Descriptors kept for everything but client connections: the listening socket, the database and its
#: WAL and lock files, PostgreSQL and Redis connections, the TLS files, stdio.
RESERVED_DESCRIPTORS = 64
#: nginx's defaults (large_client_header_buffers 4 8k), which a portal behind nginx answers with.
MAX_URL_BYTES = 8 * 1024
MAX_HEAD_BYTES = 32 * 1024


def _answer(code: str, description: str) -> bytes:
    """A whole HTTP/1.1 answer after the status line and default headers; the connection then closes."""
    body = orjson.dumps({"error": code, "error_description": description})
    return (
        b"content-type: application/json; charset=utf-8\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n"
        b"connection: close\r\n\r\n" + body
    )


MALFORMED = (400, _answer("INVALID_REQUEST", "Malformed HTTP request"))
URL_TOO_LONG = (414, _answer("INVALID_REQUEST", "Request-URI Too Large"))
HEAD_TOO_LARGE = (400, _answer("INVALID_REQUEST", "Request Header Or Cookie Too Large"))
TOO_MANY_CONNECTIONS = (
    503,
    _answer("QUERY_LIMIT_EXCEEDED", "Too many requests: too many open connections, try again"),
)


class Refusal(Exception):
    """Raised in a parser callback to stop parsing; httptools keeps it as its error's ``__context__``."""

    def __init__(self, answer: tuple[int, bytes]) -> None:
        super().__init__(answer[0])
        self.answer = answer


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    head_timeout: float = DEFAULT_HEAD_TIMEOUT
    max_connections: int = DEFAULT_MAX_CONNECTIONS


def _room(limit: int) -> int | None:
    return None if limit == resource.RLIM_INFINITY else max(1, limit - RESERVED_DESCRIPTORS)


def descriptor_room() -> int | None:
    """How many client connections the soft descriptor limit leaves room for (None: no limit)."""
    return None if resource is None else _room(resource.getrlimit(resource.RLIMIT_NOFILE)[0])


def hard_room() -> int | None:
    """How many client connections the hard descriptor limit leaves room for (None: no limit)."""
    return None if resource is None else _room(resource.getrlimit(resource.RLIMIT_NOFILE)[1])


def default_max_connections() -> int:
    room = descriptor_room()
    return DEFAULT_MAX_CONNECTIONS if room is None else min(DEFAULT_MAX_CONNECTIONS, room)


def make_room_for(max_connections: int) -> bool:
    """Raise the soft descriptor limit (up to the hard one) so that ``max_connections`` fit; False when
    the hard limit is too low."""
    room = descriptor_room()
    if room is None or max_connections <= room:
        return True
    most = hard_room()
    if most is not None and max_connections > most:
        return False
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (max_connections + RESERVED_DESCRIPTORS, hard))
    return True


class ServerLoop(asyncio.SelectorEventLoop):
    """asyncio's standard loop, whose TLS servers give a handshake as long as a request head gets
    (asyncio's own default is 60 s, and the protocol's deadline only starts once the handshake is
    done)."""

    def __init__(self, handshake_timeout: float) -> None:
        super().__init__()
        self.handshake_timeout = handshake_timeout

    async def create_server(self, *args: Any, **kwargs: Any) -> asyncio.Server:
        if kwargs.get("ssl") is not None:
            kwargs.setdefault("ssl_handshake_timeout", self.handshake_timeout)
        return await super().create_server(*args, **kwargs)


def run(app: Any, sock: socket.socket, limits: ConnectionLimits, **settings: Any) -> None:
    """Serves ``app`` on ``sock`` until a stop signal; ``settings`` go to ``uvicorn.Config``."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, **uvicorn_settings(limits), **settings))
    with asyncio.Runner(loop_factory=lambda: ServerLoop(limits.head_timeout)) as runner:
        runner.run(server.serve(sockets=[sock]))


def uvicorn_settings(limits: ConnectionLimits) -> dict[str, Any]:
    """uvicorn's settings for ``b24local serve`` (and the benchmark's reference app)."""
    return {
        "loop": SERVER_LOOP,
        "http": protocol_class(limits),
        "ws": "none",
        "lifespan": "on",
        "access_log": False,  # request paths carry webhook codes: never logged
        "log_level": "warning",
        "server_header": False,
    }


def protocol_class(limits: ConnectionLimits) -> type[HttpProtocol]:
    """The protocol uvicorn instantiates per connection, with these limits."""
    return type(
        "HttpProtocol",
        (HttpProtocol,),
        {"head_timeout": limits.head_timeout, "max_connections": limits.max_connections},
    )


class HttpProtocol(HttpToolsProtocol):
    head_timeout = DEFAULT_HEAD_TIMEOUT
    max_connections = DEFAULT_MAX_CONNECTIONS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # uvicorn arms its keep-alive timer with this after each answer (it takes a float too).
        self.timeout_keep_alive = self.head_timeout  # type: ignore[assignment]
        self._in_head = True  # a request's head is awaited or arriving
        self._head_bytes = 0  # received since the last request ended (an upper bound of its head)
        self._drop = self.drop_connection  # bound once: every request's scope carries it

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            # Refused at once: holding it until its request came would hold its descriptor too.
            self._refuse(TOO_MANY_CONNECTIONS)
            return
        self.timeout_keep_alive_task = self.loop.call_later(
            self.head_timeout, self.timeout_keep_alive_handler
        )

    def data_received(self, data: bytes) -> None:
        # Unlike uvicorn's, receiving bytes leaves the deadline running: only a whole head stops it.
        self._head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            pass  # an Upgrade (h2c, websocket) is ignored, as HTTP allows: the request is served as is
        except httptools.HttpParserError as exc:
            refusal = exc.__context__
            self._refuse(refusal.answer if isinstance(refusal, Refusal) else MALFORMED)
            return
        if self._in_head and self._head_bytes > MAX_HEAD_BYTES:  # an endless head: bounded memory
            self._refuse(URL_TOO_LONG if len(getattr(self, "url", b"")) > MAX_URL_BYTES else HEAD_TOO_LARGE)

    # The base class is named, not reached through super(): these run for every request.
    def on_headers_complete(self) -> None:
        deadline = self.timeout_keep_alive_task
        if deadline is not None:  # the head is whole: its deadline stops
            deadline.cancel()
            self.timeout_keep_alive_task = None
        self._in_head = False
        if self._head_bytes > MAX_HEAD_BYTES or len(self.url) > MAX_URL_BYTES:
            self._check_head_size()  # measured only when the bytes received say it may be too large
        self.scope[DROP_CONNECTION] = self._drop  # type: ignore[literal-required]
        HttpToolsProtocol.on_headers_complete(self)

    def drop_connection(self) -> None:
        """Close the connection at once, without an answer, as a TCP reset (a fault rule's ``reset``):
        SO_LINGER 0 makes the close send RST rather than FIN."""
        cycle = self.cycle
        if cycle is not None:
            cycle.disconnected = True  # uvicorn then sends nothing once the app returns
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()

    def on_message_complete(self) -> None:
        self._in_head = True
        self._head_bytes = 0
        HttpToolsProtocol.on_message_complete(self)

    def _check_head_size(self) -> None:
        if len(self.url) > MAX_URL_BYTES:
            raise Refusal(URL_TOO_LONG)
        if len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers) > MAX_HEAD_BYTES:
            raise Refusal(HEAD_TOO_LARGE)

    def _refuse(self, answer: tuple[int, bytes]) -> None:
        """Answers before (or instead of) the app, in JSON, and closes the connection."""
        status, rest = answer
        head = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\n".encode()]
        for name, value in self.server_state.default_headers:
            head.append(name + b": " + value + b"\r\n")
        self.transport.write(b"".join(head) + rest)
        self.transport.close()
