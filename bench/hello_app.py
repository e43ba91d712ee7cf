"""The reference point for bench/run.py: a raw ASGI app that answers every request with a fixed JSON body.

It runs under the same uvicorn settings as ``b24local serve`` (its event loop, httptools, lifespan on,
no access log, no server header, one process), so the ratio b24local / hello is what b24local's own
work costs on top of the HTTP stack.

    .venv/bin/python bench/hello_app.py --port 8001
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, MutableMapping
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
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


def main() -> None:
    import uvicorn

    from b24local.cli import SERVER_LOOP

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    # The same settings as b24local.cli.serve.
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        loop=SERVER_LOOP,
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level="warning",
        server_header=False,
        backlog=2048,
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
