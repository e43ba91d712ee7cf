"""One process's side of the journal: a buffer of finished calls, appended to the database's
``journal`` table in pages (test-portal.md T7).

A request only appends its :class:`~b24local.journal.entry.Call` to the buffer. Every
:data:`FLUSH_INTERVAL` seconds, or sooner once :data:`FLUSH_AT` calls wait, a thread of the journal's
own takes the buffer and makes it a page (the entries as tuples, secrets masked, one JSON text), off
the request's path; the page is then written in one write transaction, and the table trimmed to
``size`` entries. On SQLite the write runs on the serving connection, handed to the event loop: a
write from another connection would empty that connection's page cache, which costs every later read
(and was most of the journal's cost). On PostgreSQL the thread writes on a connection of its own.

Pages are written in the order their calls were taken, whoever writes them; a read or a clear through
this process first writes what this process holds, so it sees its own calls at once. Another
process's calls show up within its flush interval (docs/deviations.md, "The journal").
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

import orjson

from b24local.clock import iso_utc
from b24local.journal import logline
from b24local.journal.entry import Call, as_object, shows_secrets
from b24local.storage.base import Storage, Transaction
from b24local.storage.errors import StorageError
from b24local.storage.runner import run

log = logging.getLogger("b24local")

#: Seconds between the flushing thread's rounds.
FLUSH_INTERVAL = 0.075
#: Calls waiting in the buffer that wake the thread before its round.
FLUSH_AT = 500


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


class _Page:
    """Calls taken from the buffer together, in the order taken; made ready (``text``: compressed JSON)."""

    __slots__ = ("at", "calls", "count", "ready", "text")

    def __init__(self, calls: list[Call]) -> None:
        self.calls = calls
        self.ready = threading.Event()
        self.count = 0
        self.at = 0.0
        self.text = b""

    def make(self) -> None:
        """``[heads, rows]``: the shared fields once each, and per entry [batch's place in the page or
        None, Unix time, user id, its head's place, fields]. A batch's commands follow it and name its
        place, which becomes its id when the page gets its ids. Made unmasked first: only a page whose
        text may show a secret is made again with every call's secrets masked."""
        text, rows = self._encoded(masked=False)
        if shows_secrets(text, self.calls):
            text, rows = self._encoded(masked=True)
        # Compressed: a page of JSON shrinks about 15 times, and the database's cost is in its bytes.
        self.text = zlib.compress(text, 1)
        self.count, self.at = len(rows), max((row[1] for row in rows), default=0.0)
        self.ready.set()

    def _encoded(self, masked: bool) -> tuple[bytes, list[tuple[Any, ...]]]:
        heads: dict[tuple[Any, ...], int] = {}
        shared: list[tuple[Any, ...]] = []
        rows: list[tuple[Any, ...]] = []
        for call in self.calls:
            user, batch, key = call.user_id(), None, call.head_key()
            place = heads.get(key)
            if place is None:
                place = heads[key] = len(shared)
                shared.append(call.head())
            if not masked and not call.commands:  # most calls: no tuples made twice
                rows.append((None, call.at, user, place, call.unmasked_fields()))
                continue
            for at, _, fields in call.rows(masked):
                rows.append((batch, at, user, place, fields))
                batch = len(rows) - 1 if batch is None else batch
        return orjson.dumps((shared, rows), option=orjson.OPT_NON_STR_KEYS), rows

    def writer(self, keep: int) -> Callable[[Transaction], int]:
        return lambda tx: tx.journal_append(self.count, self.at, self.text, keep)


class Journal:
    """``storage``: the serving connection (used on the event loop's thread only); ``side``: opens the
    thread's own connection (PostgreSQL), or None to hand writes to the loop (SQLite). ``size`` 0: off."""

    def __init__(
        self,
        storage: Storage,
        size: int,
        side: Callable[[], Storage] | None,
        log_format: str | None = None,
        out: TextIO | None = None,
    ) -> None:
        self.storage = storage
        self.size = size
        #: ``serve --log-format`` (T8): "text" or "json" lines on ``out`` (stdout), None: no lines.
        self.log_format = log_format
        self._out = out
        self._side = side
        self._buffer: list[Call] = []
        self._pages: list[_Page] = []  # taken, not yet written, in order
        self._lock = threading.Lock()  # guards both lists
        self._writing = threading.Lock()  # one writer of pages at a time
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def on(self) -> bool:
        return self.size > 0

    @property
    def wanted(self) -> bool:
        """Does anything want the calls (the journal, or the log lines)?"""
        return self.size > 0 or self.log_format is not None

    def record(self, call: Call) -> None:
        """Keep a finished call (on the event loop's thread: no database here) and print its lines."""
        if self.log_format is not None:
            out = self._out or sys.stdout
            out.write(logline.lines(call.rows(), self.log_format))
            out.flush()
        if not self.on:
            return
        with self._lock:
            self._buffer.append(call)
            waiting = len(self._buffer)
            if waiting > self.size:  # the database stayed busy: the oldest go, as the table's bound says
                del self._buffer[: waiting - self.size]
        if self._thread is None:
            self._start()
        elif waiting == FLUSH_AT:  # once: every set() takes the event's lock
            self._wake.set()

    def _start(self) -> None:
        # Started with the first call, in the process that serves it (after a fork of --workers).
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name="b24local-journal", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        side: Storage | None = None
        try:
            if self._side is not None:
                side = self._side()
            while not self._stopping.is_set():
                self._wake.wait(FLUSH_INTERVAL)
                self._wake.clear()
                self._round(side)
            self._round(side)
        except StorageError:
            log.exception("journal: cannot open the database; calls are not journaled")
        finally:
            if side is not None:
                side.close()

    def _round(self, side: Storage | None) -> None:
        if not self._take():
            return
        try:
            if side is not None:
                self._write_pages(side)
            elif self._loop is not None and not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._write_logged)
        except Exception:  # kept: the next round writes them
            log.exception("journal: writing entries failed")

    def _write_logged(self) -> None:
        try:
            self._write_pages(self.storage)
        except Exception:
            log.exception("journal: writing entries failed")

    def _take(self) -> bool:
        """Make the buffer a page, queued behind the pages taken before (False: nothing to take)."""
        with self._lock:
            if not self._buffer:
                return False
            page = _Page(self._buffer)
            self._buffer = []
            self._pages.append(page)
        page.make()
        return True

    def _write_pages(self, storage: Storage) -> None:
        """Write the queued pages in order (a page another thread is still making is waited for)."""
        with self._writing:
            while True:
                with self._lock:
                    if not self._pages:
                        return
                    page = self._pages[0]
                page.ready.wait()
                if page.count:
                    run(storage, True, page.writer(self.size))
                with self._lock:
                    self._pages.pop(0)

    def flush(self) -> None:
        """Write everything this process holds (on the event loop's thread)."""
        if self.on:
            self._take()
            self._write_pages(self.storage)

    def read(self, where: JournalFilter, limit: int) -> list[dict[str, Any]]:
        """The newest ``limit`` entries ``where`` keeps, newest first, this process's calls included."""
        self.flush()
        newest, pages = run(self.storage, False, lambda tx: tx.journal_pages(where.after_id, where.since))
        oldest = newest - self.size  # a page may straddle the bound: its older entries are past it
        found = []
        for last, count, text in pages:
            first = last - count + 1
            shared, rows = orjson.loads(zlib.decompress(text))
            for place, (batch, at, user, head, fields) in enumerate(rows):
                entry_id = first + place
                entry = as_object(shared[head], fields)
                if entry_id > oldest and where.keeps(entry_id, at, user, entry):
                    found.append((entry_id, None if batch is None else first + batch, at, entry))
        found.sort(key=lambda row: -row[0])
        return [
            {"id": entry_id, "batch": batch_id, "time": iso_utc(at, millis=True), **entry}
            for entry_id, batch_id, at, entry in found[:limit]
        ]

    def clear(self) -> None:
        """Every entry goes, this process's own waiting ones too."""
        with self._writing:
            with self._lock:
                self._buffer, self._pages = [], []
            run(self.storage, True, lambda tx: tx.journal_clear())

    def close(self) -> None:
        """Stop the thread after a last round, and write what is left (on the event loop's thread)."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            self._wake.set()
            thread.join()
        try:
            self.flush()
        except Exception:
            log.exception("journal: writing entries failed")
