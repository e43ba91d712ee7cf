"""Make one fuzz request again: ``python -m tests.fuzz SEED INDEX [--send] [BODY_FILE]``.

Prints the request (long parts cut); with BODY_FILE, writes its whole body there; with ``--send``,
also sends it to a new in-process server on a seeded SQLite database (as the run does, without the
requests before it) and prints the answer and any traceback the server logged. The caller
placeholder in the path (``<admin>`` ...) stands for a webhook of the server.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
from pathlib import Path

from tests.fuzz.generators import generate
from tests.fuzz.runner import Run


async def _again(seed: str, index: int, send: bool, body_file: str | None) -> str:
    with tempfile.TemporaryDirectory() as folder:
        run = Run(f"sqlite:///{folder}/fuzz.db", "sqlite", seed, 0)
        logging.getLogger("b24local").addHandler(run.faults)
        try:
            request = generate(seed, index, await run.catalogue())
            if body_file:
                Path(body_file).write_bytes(request.body)
            text = request.describe(limit=4_000)
            if send:
                await run.seed_data()
                run.faults.take()
                answer = await run.send(request)
                text += f"\n{answer.status} in {answer.elapsed:.3f} s: {answer.body[:2_000]!r}"
                text += "\n" + (answer.trace or run.faults.take())
        finally:
            logging.getLogger("b24local").removeHandler(run.faults)
            run.close()
    return text


def main() -> int:
    args = [a for a in sys.argv[1:] if a != "--send"]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    body_file = args[2] if len(args) > 2 else None
    print(asyncio.run(_again(args[0], int(args[1]), "--send" in sys.argv, body_file)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
