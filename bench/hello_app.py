"""The reference points for bench/run.py: a raw ASGI app that answers every request with a fixed JSON body.

It runs under the same uvicorn settings as ``b24local serve`` (its event loop, httptools, lifespan on,
no access log, no server header), so the ratio b24local / hello is what b24local's own work costs on top
of the HTTP stack. With ``--workers N`` it does what ``b24local serve --workers N`` does: one listening
socket (``IPPROTO_TCP``, backlog 2048) bound by the parent, N forked processes serving it, stop signals
forwarded to them.

With ``--read FILE`` (an SQLite database of the benchmark) it is the second reference instead, the
"raw read": the least an ``items.get`` can do in Python on this stack. It decodes the JSON body, reads
the lead's bindings with one indexed SELECT through ``sqlite3`` on the event loop, and answers them
with orjson; no authentication, permission check, transaction or envelope.

    .venv/bin/python bench/hello_app.py --port 8001 [--workers 2] [--read bench.db]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from operator import itemgetter
from typing import Any

Message = MutableMapping[str, Any]

BODY = b'{"result":"hello"}'
START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(BODY)).encode()),
    ],
}
RESPONSE = {"type": "http.response.body", "body": BODY}
READ_SQL = "SELECT contact_id, sort, role_id, is_primary FROM crm_lead_contact WHERE lead_id = ?"


def read_app(path: str) -> Callable[..., Awaitable[None]]:
    """The raw read reference: ``{"id": N}`` → ``{"result": [N's bindings]}``."""
    import sqlite3

    import orjson

    opened: list[sqlite3.Connection] = []  # opened in the serving process, after any fork
    by_sort = itemgetter(1, 0)

    async def app(
        scope: MutableMapping[str, Any], receive: Callable[[], Awaitable[Message]], send: Any
    ) -> None:
        if scope["type"] != "http":
            await lifespan(receive, send)
            return
        message = await receive()
        body = message.get("body", b"")
        while message.get("more_body", False):
            message = await receive()
            body += message.get("body", b"")
        if not opened:
            opened.append(sqlite3.connect(path, isolation_level=None, check_same_thread=False))
            opened[0].execute("PRAGMA cache_size = -65536")  # as b24local's serving connection
        rows = opened[0].execute(READ_SQL, (orjson.loads(body)["id"],)).fetchall()
        rows.sort(key=by_sort)
        result = [{"CONTACT_ID": r[0], "SORT": r[1], "ROLE_ID": r[2], "IS_PRIMARY": r[3]} for r in rows]
        payload = orjson.dumps({"result": result})
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json; charset=utf-8"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    return app


async def lifespan(receive: Callable[[], Awaitable[Message]], send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(
    scope: MutableMapping[str, Any],
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    if scope["type"] == "http":
        # Read the (small) request body once, as any real handler must.
        message = await receive()
        while message.get("more_body", False):
            message = await receive()
        await send(START)
        await send(RESPONSE)
    elif scope["type"] == "lifespan":
        await lifespan(receive, send)


def _config(host: str, port: int, served: Any = None) -> Any:
    import uvicorn

    from b24local.server import ConnectionLimits, uvicorn_settings

    # The same settings as b24local.cli.serve.
    return uvicorn.Config(
        app if served is None else served,
        host=host,
        port=port,
        **uvicorn_settings(ConnectionLimits()),
        backlog=2048,
    )


def _serve_forked(config: Any, host: str, port: int, workers: int) -> None:
    """``workers`` processes on one socket bound here, like ``b24local serve --workers``."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    children: list[int] = []

    def forward(signum: int, frame: object) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                uvicorn.Server(config).run(sockets=[sock])
            except BaseException:
                code = 1
            os._exit(code)
        children.append(pid)
    for child in children:
        while True:
            try:
                os.waitpid(child, 0)
                break
            except InterruptedError:
                continue
            except ChildProcessError:
                break


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--read", metavar="FILE", help="the raw read reference on this SQLite database")
    args = parser.parse_args()
    config = _config(args.host, args.port, read_app(args.read) if args.read else None)
    if args.workers > 1:
        _serve_forked(config, args.host, args.port, args.workers)
    else:
        uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
