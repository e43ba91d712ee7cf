"""Make one fuzz request again: ``python -m tests.fuzz SEED INDEX [BODY_FILE]``.

Prints the request (long parts cut); with BODY_FILE, writes its whole body there. The caller
placeholder in the path (``<admin>`` ...) stands for a webhook of your own server.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from tests.fuzz.generators import generate
from tests.fuzz.runner import Run


async def _catalogue_and_request(seed: str, index: int) -> str:
    with tempfile.TemporaryDirectory() as folder:
        run = Run(f"sqlite:///{folder}/catalogue.db", "sqlite", seed, 0)
        try:
            request = generate(seed, index, await run.catalogue())
        finally:
            run.close()
    if len(sys.argv) > 3:
        Path(sys.argv[3]).write_bytes(request.body)
    return request.describe(limit=4_000)


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    print(asyncio.run(_catalogue_and_request(sys.argv[1], int(sys.argv[2]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
