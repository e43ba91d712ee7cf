"""A progress bar on stderr for long command-line work: seeding or exporting 10,000 records or more,
applying database migrations.

Drawn only when stderr is a terminal, so that logs and pipes get no carriage returns;
``B24LOCAL_PROGRESS=1`` draws it anyway (tests, or a CI log that wants it) and ``=0`` never. One line,
redrawn at most ten times a second, and ended with a newline when the work is done.
"""

from __future__ import annotations

import os
import sys
import time
from types import TracebackType
from typing import TextIO

#: Seed or export work smaller than this finishes before a bar would tell anything.
RECORDS_SHOWN_FROM = 10_000
ENV = "B24LOCAL_PROGRESS"
WIDTH = 30
REDRAW_EVERY = 0.1  # seconds


def wanted(stream: TextIO) -> bool:
    forced = os.environ.get(ENV, "")
    if forced in ("0", "1"):
        return forced == "1"
    return stream.isatty()


class Progress:
    """``with Progress("Seeding", total) as bar: ... bar.tick(n)``; silent when not wanted."""

    def __init__(
        self, label: str, total: int, *, unit: str = "records", shown_from: int = RECORDS_SHOWN_FROM
    ) -> None:
        self.label, self.total, self.unit = label, total, unit
        self.stream = sys.stderr
        self.shown = total > 0 and total >= shown_from and wanted(self.stream)
        self.done = 0
        self._drawn_at = 0.0
        self._drawn_done = -1

    def tick(self, count: int) -> None:
        self.done = min(self.total, self.done + count)
        if not self.shown or self.done == self._drawn_done:
            return
        if self.done == self.total or time.monotonic() - self._drawn_at >= REDRAW_EVERY:
            self._draw()

    def _draw(self) -> None:
        filled = WIDTH * self.done // self.total
        bar = "#" * filled + "." * (WIDTH - filled)
        percent = 100 * self.done // self.total
        self.stream.write(f"\r{self.label} [{bar}] {percent:3d}% {self.done:,}/{self.total:,} {self.unit}")
        self.stream.flush()
        self._drawn_at = time.monotonic()
        self._drawn_done = self.done

    def __enter__(self) -> Progress:
        if self.shown:
            self._draw()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self.shown:
            if error is None and self._drawn_done != self.total:
                self.done = self.total
                self._draw()
            self.stream.write("\n")
            self.stream.flush()


class MigrationBar:
    """A bar over the migrations a storage applies as it opens (``open_storage(migration_progress=…)``);
    drawn from the first one, since a migration of a large database may take a while."""

    def __init__(self) -> None:
        self.bar: Progress | None = None

    def __call__(self, applied: int, pending: int) -> None:
        if self.bar is None:
            self.bar = Progress("Migrating", pending, unit="migrations", shown_from=1).__enter__()
        self.bar.tick(applied - self.bar.done)
        if applied == pending:
            self.bar.__exit__(None, None, None)
