"""One process's side of the journal: a buffer of finished calls, appended to the database's
``journal`` table in pages (test-portal.md T7).

A request only appends its :class:`~b24local.journal.entry.Call` to the buffer. Once :data:`CHUNK`
calls wait, the event loop makes them a chunk of text (page.py) as soon as the request that filled it
has answered: a call kept for long costs every later request more (the memory it holds stays out of
the allocator's reach, so each request works on colder memory). Every :data:`FLUSH_INTERVAL` seconds,
or once :data:`FLUSH_AT` entries are in chunks, the chunks become a page, written in one write
transaction on the serving connection, and the table is trimmed to ``size`` entries. Everything happens
on the event loop's thread, between requests: a thread of the journal's own cost more than the work it
took off the loop (it competed for the GIL and the caches, and on SQLite a write from another
connection empties the serving connection's page cache).

A read or a clear through this process first writes what this process holds, so it sees its own calls
at once. Another process's calls show up within its flush interval (docs/deviations.md, "The journal").
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from b24local.clock import iso_utc
from b24local.journal import logline
from b24local.journal.entry import Call, as_object
from b24local.journal.page import Chunk, join_chunks, make_chunk, unpack
from b24local.storage.base import Storage, Transaction
from b24local.storage.runner import run

log = logging.getLogger("b24local")

#: Calls in the buffer that become a chunk of text at once.
CHUNK = 50
#: Seconds a call waits at most before it is written: each write costs the calls around it more than
#: its own time (bench/journal_cost.py), so writes are few.
FLUSH_INTERVAL = 0.25
#: Entries in chunks that are written at once.
FLUSH_AT = 2000


@dataclass(frozen=True, slots=True)
class JournalFilter:
    """What a journal read keeps: every given condition holds (None: any)."""

    method: str | None = None  # lower case
    status: int | None = None
    user_id: int | None = None
    after_id: int | None = None  # ids above this one
    since: float | None = None  # entries at or after this Unix time

    def keeps(self, entry_id: int, at: float, user_id: int | None, entry: dict[str, Any]) -> bool:
        return (
            (self.method is None or entry["method"] == self.method)
            and (self.status is None or entry["status"] == self.status)
            and (self.user_id is None or user_id == self.user_id)
            and (self.after_id is None or entry_id > self.after_id)
            and (self.since is None or at >= self.since)
        )


class Journal:
    """``storage``: the serving connection (used on the event loop's thread only). ``size`` 0: off."""

    def __init__(
        self, storage: Storage, size: int, log_format: str | None = None, out: TextIO | None = None
    ) -> None:
        self.storage = storage
        self.size = size
        #: ``serve --log-format`` (T8): "text" or "json" lines on ``out`` (stdout), None: no lines.
        self.log_format = log_format
        self.on = size > 0
        #: Does anything want the calls (the journal, or the log lines)?
        self.wanted = self.on or log_format is not None
        self._out = out
        self._calls: list[Call] = []  # finished, not yet in a chunk
        self._chunks: list[Chunk] = []  # not yet in a page
        self._chunked = 0  # their entries
        #: Pages made, not yet written (the database was busy), in order.
        self._pages: list[Chunk] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None

    def record(self, call: Call) -> None:
        """Keep a finished call (on the event loop, before its answer is sent: no database here) and
        print its lines."""
        if self.log_format is not None:
            out = self._out or sys.stdout
            out.write(logline.lines(call.rows(), self.log_format))
            out.flush()
        if not self.on:
            return
        calls = self._calls
        calls.append(call)
        if self._timer is None:
            self._timer = self._loop_now().call_later(FLUSH_INTERVAL, self._on_timer)
        if len(calls) == CHUNK:
            self._loop_now().call_soon(self._chunk_logged)  # runs once this call has answered

    def _loop_now(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:  # the first call, in the process that serves it (after a fork of --workers)
            self._loop = asyncio.get_running_loop()
        return self._loop

    def _on_timer(self) -> None:
        self._timer = None
        self._flush_logged()

    def _chunk_logged(self) -> None:
        self._chunk()
        if self._chunked >= FLUSH_AT:
            self._flush_logged()

    def _chunk(self) -> None:
        if self._calls:
            calls, self._calls = self._calls, []
            chunk = make_chunk(calls)
            self._chunks.append(chunk)
            self._chunked += chunk[0]

    def _flush_logged(self) -> None:
        try:
            self.flush()
        except Exception:  # kept: the next flush writes them
            log.exception("journal: writing entries failed")

    def flush(self) -> None:
        """Write everything this process holds (on the event loop's thread)."""
        if not self.on:
            return
        self._chunk()
        if self._chunks:
            self._pages.append(join_chunks(self._chunks))
            self._chunks, self._chunked = [], 0
            self._bound()
        while self._pages:
            run(self.storage, True, self._appender(*self._pages[0]))
            self._pages.pop(0)

    def _appender(self, count: int, newest: float, text: bytes) -> Callable[[Transaction], int]:
        return lambda tx: tx.journal_append(count, newest, text, self.size)

    def _bound(self) -> None:
        """Pages the database could not take yet: the oldest go once they hold more than the table's
        bound, as the table would lose them anyway."""
        held = sum(count for count, _, _ in self._pages)
        while len(self._pages) > 1 and held - self._pages[0][0] >= self.size:
            held -= self._pages.pop(0)[0]

    def read(self, where: JournalFilter, limit: int) -> list[dict[str, Any]]:
        """The newest ``limit`` entries ``where`` keeps, newest first, this process's calls included."""
        self.flush()
        newest, pages = run(self.storage, False, lambda tx: tx.journal_pages(where.after_id, where.since))
        oldest = newest - self.size  # a page may straddle the bound: its older entries are past it
        found = []
        for last, count, text in pages:
            first = last - count + 1
            for place, (batch, at, head, fields) in enumerate(unpack(text)):
                entry_id = first + place
                entry = as_object(head, fields)
                user = None if entry["credential"] is None else entry["credential"].get("user_id")
                if entry_id > oldest and where.keeps(entry_id, at, user, entry):
                    found.append((entry_id, None if batch is None else first + batch, at, entry))
        found.sort(key=lambda row: -row[0])
        return [
            {"id": entry_id, "batch": batch_id, "time": iso_utc(at, millis=True), **entry}
            for entry_id, batch_id, at, entry in found[:limit]
        ]

    def clear(self) -> None:
        """Every entry goes, this process's own waiting ones too."""
        self._calls, self._chunks, self._chunked, self._pages = [], [], 0, []
        run(self.storage, True, lambda tx: tx.journal_clear())

    def close(self) -> None:
        """Write what is left (on the event loop's thread)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        try:
            self.flush()
        except Exception:
            log.exception("journal: writing entries failed")
