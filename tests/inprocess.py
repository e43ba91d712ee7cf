"""b24local's ASGI app in the test process, reached through httpx as if over a socket.

The app is built as ``b24local serve`` builds it (its own helpers in cli/serve.py, from the same command
line): the storage a server opens, user 1 and its webhook on an empty database, the limits and the
OAuth settings. It runs with its lifespan on an event loop in a background thread, as uvicorn runs it
on its own loop: calls from any number of test threads are answered one at a time on that loop, as by
a one-process server. :class:`AppTransport` is the sync httpx transport that hands each request to that
loop and delivers it as uvicorn's httptools protocol does (the same scope, the body in 64 KiB messages,
uvicorn's ``date`` header, no body for HEAD, ``connection: close`` to a client's close, a 500 when the
app fails before answering).

What the server layer does before a request reaches the app (src/b24local/server.py: head deadlines,
connection caps, 414 and malformed HTTP) and what needs a process (TLS, workers, the printed output) is
not here: those tests run against live servers (tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import email.utils
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine, MutableMapping
from typing import Any, TypeVar
from urllib.parse import unquote

import httptools
import httpx

from b24local import clock
from b24local.admin import token as admin_token
from b24local.app import App
from b24local.cli.parser import build_parser
from b24local.cli.serve import _limits, _oauth_settings, serving_config, serving_storage, webhook_code
from b24local.cli.webhooks import bootstrap

Message = MutableMapping[str, Any]
AsgiApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]
T = TypeVar("T")

#: The host of an in-process server's URLs: reserved (RFC 2606), so a request that misses the
#: transport (a client of its own) fails at once instead of reaching some real server.
HOST = "b24local.invalid"
#: uvicorn hands a body over as the socket delivers it; 64 KiB is a typical read.
CHUNK = 65_536
#: How long starting or stopping the app may take (seconds).
START_STOP = 30.0
#: ``serve`` options of the layers this module leaves out, with their defaults.
SOCKET_OPTIONS = {
    "tls": False,
    "tls_cert": None,
    "tls_key": None,
    "workers": 1,
    "header_timeout": None,
    "max_connections": None,
}
#: What uvicorn answers when the app raises before its answer began.
INTERNAL_ERROR_HEADERS = [
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"content-length", b"21"),
    (b"connection", b"close"),
]
log = logging.getLogger("tests.inprocess")


class AppThread:
    """An ASGI app and its lifespan on an event loop of its own, in a daemon thread."""

    def __init__(self, build: Callable[[], AsgiApp]) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="b24local-app", daemon=True)
        self._thread.start()
        self._inbox: asyncio.Queue[Message] | None = None
        self._outbox: asyncio.Queue[Message] | None = None
        self._lifespan: asyncio.Task[None] | None = None
        try:
            # Built on the loop's thread, as a server builds its app on the thread that serves it.
            self.app = self.run(_call(build), START_STOP)
            self.run(self._startup(), START_STOP)
        except BaseException:
            self._end_loop()
            raise

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None) -> T:
        """Runs ``coroutine`` on the app's loop and waits for its result (``TimeoutError`` after
        ``timeout`` seconds, the coroutine then cancelled)."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            if future.done():  # the coroutine's own TimeoutError
                raise
            future.cancel()
            raise TimeoutError(f"no answer from the in-process app within {timeout} s") from None

    async def _startup(self) -> None:
        self._inbox, self._outbox = asyncio.Queue(), asyncio.Queue()
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
        self._lifespan = asyncio.create_task(self.app(scope, self._inbox.get, self._outbox.put))
        await self._inbox.put({"type": "lifespan.startup"})
        answer = await self._outbox.get()
        assert answer["type"] == "lifespan.startup.complete", answer

    async def _shutdown(self) -> None:
        assert self._inbox is not None and self._outbox is not None and self._lifespan is not None
        await self._inbox.put({"type": "lifespan.shutdown"})
        answer = await self._outbox.get()
        assert answer["type"] == "lifespan.shutdown.complete", answer
        await self._lifespan

    def stop(self) -> None:
        """The lifespan's shutdown (the app closes its storage), then the loop and its thread end."""
        try:
            if self._lifespan is not None:
                self.run(self._shutdown(), START_STOP)
        finally:
            self._end_loop()

    def _end_loop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(START_STOP)
        if not self._thread.is_alive():
            self.loop.close()


async def _call(function: Callable[[], T]) -> T:
    return function()


class AppTransport(httpx.BaseTransport):
    """httpx's transport to an :class:`AppThread`: one request at a time per thread, any threads."""

    def __init__(self, app: AppThread) -> None:
        self.app = app

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()  # a streamed body (an iterator) is read whole first
        scope = _scope(request)
        timeout = request.extensions.get("timeout", {}).get("read")
        try:
            status, headers, payload = self.app.run(_exchange(self.app.app, scope, body), timeout)
        except TimeoutError as error:
            raise httpx.ReadTimeout(str(error), request=request) from None
        if scope["method"] == "HEAD":
            payload = b""  # uvicorn writes the head only, whatever the app sends
        if _closes(request.headers) and not _closes(httpx.Headers(headers)):
            headers.append((b"connection", b"close"))  # uvicorn's answer to a client's close
        return httpx.Response(
            status,
            headers=headers,
            stream=httpx.ByteStream(payload),
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )


def _closes(headers: httpx.Headers) -> bool:
    return "close" in [token.strip().lower() for token in headers.get("connection", "").split(",")]


def _scope(request: httpx.Request) -> dict[str, Any]:
    """The ASGI scope uvicorn's httptools protocol makes of this request."""
    url = httptools.parse_url(request.url.raw_path)
    raw_path: bytes = url.path
    path = raw_path.decode("ascii")
    if "%" in path:
        path = unquote(path)
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 50000),
        "scheme": request.url.scheme,
        "root_path": "",
        "headers": [(name.lower(), value) for name, value in request.headers.raw],
        "state": {},
        "method": request.method,
        "path": path,
        "raw_path": raw_path,
        "query_string": url.query or b"",
    }


class Exchange:
    """One request's two channels, as uvicorn gives them to the app: its body in ``CHUNK`` messages
    (the last one marked), then a disconnect; the answer it sends, checked for order."""

    def __init__(self, body: bytes) -> None:
        chunks = [body[i : i + CHUNK] for i in range(0, len(body), CHUNK)] or [b""]
        self.messages: list[Message] = [
            {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
            for i, c in enumerate(chunks)
        ]
        self.start: Message | None = None
        self.parts: list[bytes] = []

    async def receive(self) -> Message:
        return self.messages.pop(0) if self.messages else {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            assert self.start is None, "a second http.response.start"
            self.start = message
        else:
            assert self.start is not None and message["type"] == "http.response.body", message["type"]
            self.parts.append(message.get("body", b""))

    @property
    def status(self) -> int:
        return 0 if self.start is None else int(self.start["status"])

    @property
    def body(self) -> bytes:
        return b"".join(self.parts)


async def _exchange(
    app: AsgiApp, scope: dict[str, Any], body: bytes
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """One request through the app: ``(status, headers, body)`` of its answer."""
    exchange = Exchange(body)
    try:
        await app(scope, exchange.receive, exchange.send)
    except Exception:
        log.exception("Exception in ASGI application")  # uvicorn's words; pytest shows the log
        if exchange.start is not None:
            raise httpx.RemoteProtocolError("the app failed after its answer began") from None
        return 500, [*_default_headers(), *INTERNAL_ERROR_HEADERS], b"Internal Server Error"
    assert exchange.start is not None, "the app returned without answering"
    return exchange.status, [*_default_headers(), *exchange.start.get("headers", [])], exchange.body


def _default_headers() -> list[tuple[bytes, bytes]]:
    """uvicorn's own headers before the app's: ``date`` (``serve`` turns its ``server`` header off)."""
    return [(b"date", email.utils.formatdate(usegmt=True).encode())]


class InProcessApp:
    """The app ``b24local serve --database URL [options]`` would serve, in-process, and its webhook.

    ``options`` are ``serve``'s own; those of the layers left out (TLS, workers, connection limits)
    are refused. ``--fake-clock`` sets the process's clock (b24local.clock is one per process), so
    every in-process app reads it until this one stops; only one at a time may have it.
    """

    fake_clock_owner: InProcessApp | None = None

    def __init__(self, url: str, *options: str) -> None:
        args = build_parser().parse_args(["serve", "--database", url, *options])
        refused = [name for name, default in SOCKET_OPTIONS.items() if getattr(args, name) != default]
        if refused:
            raise ValueError(f"in-process servers have no socket layer: {refused} need a live server")
        if args.fake_clock and InProcessApp.fake_clock_owner is not None:
            raise RuntimeError("another in-process app runs with --fake-clock (one clock per process)")
        self.url = url
        self.code: str | None = None
        self.admin_token: str | None = None  # made with a new database when none was given (T2)
        self._args = args
        if args.fake_clock:
            InProcessApp.fake_clock_owner = self
        try:
            self.thread = AppThread(self._build)
        except BaseException:
            self._release_clock()
            raise

    def _build(self) -> App:
        args = self._args
        config = serving_config(args, self.url)
        limits = _limits(args)
        storage = serving_storage(args, self.url)
        try:
            self.code, created = bootstrap(storage, config.base_url, webhook_code(args))
            if created and config.admin_token is None:  # as `serve` does (T2)
                self.admin_token = admin_token.make_stored(storage)
            return App(config, storage, limits, _oauth_settings(args))
        except BaseException:
            storage.close()
            raise

    def client(self) -> httpx.Client:
        """A new client whose requests go to this app."""
        return httpx.Client(transport=AppTransport(self.thread), timeout=30)

    def stop(self) -> None:
        try:
            self.thread.stop()
        finally:
            self._release_clock()

    def _release_clock(self) -> None:
        if InProcessApp.fake_clock_owner is self:
            InProcessApp.fake_clock_owner = None
            clock.use(None)
