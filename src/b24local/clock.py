"""The wall clock the portal limits read (contract protocol.md T1–T2), replaceable for tests, and
how the server prints a moment in its local time zone (the ``time`` envelope and datetime fields).

Everything that decides with time whether a call is allowed asks :func:`now`. A server started with
``serve --fake-clock FILE`` reads its time from that file instead (a testing aid: a test moves the
server's time forward by writing a new Unix time into the file, without sleeping).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
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


@lru_cache(maxsize=8)
def _iso_second(second: int) -> str:
    # time.localtime and a format string: a quarter of the cost of datetime's astimezone().isoformat()
    # (a list page prints four dates a row, each a different second).
    local = time.localtime(second)
    offset = local.tm_gmtoff
    if offset % 60 or not 2 <= local.tm_year <= 9998:  # offsets with seconds (local mean time before
        # 1900) and the first and last years datetime holds: as datetime prints them, or its error
        return datetime.fromtimestamp(second).astimezone().isoformat(timespec="seconds")
    sign = "+" if offset >= 0 else "-"
    hours, minutes = divmod(abs(offset) // 60, 60)
    return (
        f"{local.tm_year:04d}-{local.tm_mon:02d}-{local.tm_mday:02d}T"
        f"{local.tm_hour:02d}:{local.tm_min:02d}:{local.tm_sec:02d}{sign}{hours:02d}:{minutes:02d}"
    )


def iso_local(ts: float) -> str:
    """``2024-05-03T17:19:01+03:00`` in the server's local time zone (cached per second: every response
    formats two of these)."""
    return _iso_second(int(ts))


def iso_utc(ts: float, *, millis: bool = False) -> str:
    """``2026-12-05T07:00:00Z`` (with ``millis``: ``2026-12-05T07:00:00.123Z``), in UTC: how the journal
    prints a moment, the same on every server whatever its time zone."""
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.isoformat(timespec="milliseconds" if millis else "seconds").replace("+00:00", "Z")
