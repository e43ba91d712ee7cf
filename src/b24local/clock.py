"""The wall clock the portal limits read (contract protocol.md T1–T2), replaceable for tests.

Everything that decides with time whether a call is allowed asks :func:`now`. A server started with
``serve --fake-clock FILE`` reads its time from that file instead (a testing aid: a test moves the
server's time forward by writing a new Unix time into the file, without sleeping).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path

_source: Callable[[], float] = time.time


def now() -> float:
    """The current Unix time in seconds, from the clock in use."""
    return _source()


def use(source: Callable[[], float] | None) -> None:
    """Make :func:`now` ask ``source``; ``None`` goes back to the system clock."""
    global _source  # noqa: PLW0603
    _source = time.time if source is None else source


class FileClock:
    """A clock whose time is the number written in a file, read again on every call.

    The file holds a Unix time in seconds (``1767225600`` or ``1767225600.25``). While it cannot be
    read or parsed (a writer replacing it), the last time read is kept, so time never jumps to the
    system clock in the middle of a test.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.last = self._read()

    def _read(self) -> float:
        return float(self.path.read_text(encoding="ascii").strip())

    def __call__(self) -> float:
        with contextlib.suppress(OSError, ValueError):
            self.last = self._read()
        return self.last
