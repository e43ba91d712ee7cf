"""One process's side of the journal: a buffer of finished calls, appended to the database's
``journal`` table in batches by a thread of its own (test-portal.md T7).

A request only appends a :class:`~b24local.journal.entry.Call` to the buffer; the thread makes the
entries (redaction, JSON) and writes them every :data:`FLUSH_INTERVAL` seconds, or sooner once
:data:`FLUSH_AT` calls wait, in one write transaction on its own connection, then trims the table to
``size`` entries. A read or a clear through this process flushes its buffer first, so it sees its own
calls at once; another process's calls show up within its flush interval (docs/deviations.md).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

import orjson

from b24local.clock import iso_utc
from b24local.journal import logline
from b24local.journal.entry import Call, Row, as_object, dumps
from b24local.storage.base import JournalPage, Storage, Transaction
from b24local.storage.errors import BusyPastDeadline, StorageError
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


class Journal:
    """``storage``: the serving connection (reads and clears, on the request's thread); ``side``: opens
    the flushing thread's own connection (a connection never serves two threads). ``size`` 0: off."""

    def __init__(
        self,
        storage: Storage,
        size: int,
        side: Callable[[], Storage],
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
        self._buffer_lock = threading.Lock()
        #: Held while a batch is written: a read's flush waits for the thread's, so it sees both.
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def on(self) -> bool:
        return self.size > 0

    @property
    def wanted(self) -> bool:
        """Does anything want the calls (the journal, or the log lines)?"""
        return self.size > 0 or self.log_format is not None

    def record(self, call: Call) -> None:
        """Keep a finished call (the request's thread: no database here) and print its lines."""
        if self.log_format is not None:
            out = self._out or sys.stdout
            out.write(logline.lines(call.rows(), self.log_format))
            out.flush()
        if not self.on:
            return
        with self._buffer_lock:
            self._buffer.append(call)
            waiting = len(self._buffer)
            if waiting > self.size:  # the database stayed busy: the oldest go, as the table's bound says
                del self._buffer[: waiting - self.size]
        if self._thread is None:
            self._start()
        elif waiting >= FLUSH_AT:
            self._wake.set()

    def _start(self) -> None:
        # Started with the first call, in the process that serves it (after a fork of --workers).
        self._thread = threading.Thread(target=self._run, name="b24local-journal", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            storage = self._side()
        except StorageError:
            log.exception("journal: cannot open the database; calls are not journaled")
            return
        try:
            while not self._stopping.is_set():
                self._wake.wait(FLUSH_INTERVAL)
                self._wake.clear()
                self._flush_logged(storage)
            self._flush_logged(storage)
        finally:
            storage.close()

    def _flush_logged(self, storage: Storage) -> None:
        try:
            self.flush(storage)
        except Exception:  # the next round tries again with what is buffered then
            log.exception("journal: flush failed")

    def flush(self, storage: Storage | None = None) -> None:
        """Write what the buffer holds (through ``storage``, default the serving connection)."""
        with self._flush_lock:
            with self._buffer_lock:
                calls, self._buffer = self._buffer, []
            if not calls:
                return
            entries = [(call, call.rows()) for call in calls]
            try:
                run(storage or self.storage, True, lambda tx: self._append(tx, entries))
            except BusyPastDeadline:
                with self._buffer_lock:  # kept for the next round, ahead of newer calls
                    self._buffer[:0] = calls
                raise

    def _append(self, tx: Transaction, calls: list[tuple[Call, list[Row]]]) -> None:
        """The flush's entries as one page: ids in order, each batch command linked to its batch."""
        ids = iter(tx.journal_ids(sum(len(rows) for _, rows in calls)))
        page: list[tuple[int, int | None, float, int | None, tuple[Any, ...]]] = []
        for call, rows in calls:
            user = call.user_id()
            batch_id: int | None = None
            for at, fields in rows:
                entry_id = next(ids)
                page.append((entry_id, batch_id, at, user, fields))
                batch_id = batch_id or entry_id  # the call's own entry comes first; its commands link to it
        latest = max(row[2] for row in page)
        tx.journal_append(JournalPage(page[-1][0], latest, dumps(page)), self.size)

    def read(self, where: JournalFilter, limit: int) -> list[dict[str, Any]]:
        """The newest ``limit`` entries ``where`` keeps, newest first, this process's buffer included."""
        if self.on:
            self.flush()
        newest, pages = run(self.storage, False, lambda tx: tx.journal_pages(where.after_id, where.since))
        oldest = newest - self.size  # a page may straddle the bound: its older entries are past it
        found = [
            row
            for page in pages
            for row in orjson.loads(page)
            if row[0] > oldest and where.keeps(row[0], row[2], row[3], as_object(row[4]))
        ]
        found.sort(key=lambda row: -row[0])
        return [
            {"id": entry_id, "batch": batch_id, "time": iso_utc(at, millis=True), **as_object(fields)}
            for entry_id, batch_id, at, _, fields in found[:limit]
        ]

    def clear(self) -> None:
        """Every entry goes, this process's buffered ones too."""
        with self._flush_lock:
            with self._buffer_lock:
                self._buffer = []
            run(self.storage, True, lambda tx: tx.journal_clear())

    def close(self) -> None:
        """Stop the thread after a last flush."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            self._wake.set()
            thread.join()
