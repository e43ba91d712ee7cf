"""Turns at SQLite's write lock for the server processes that share one database file.

SQLite keeps no queue for its write lock. A connection that finds it taken sleeps in its busy
handler (1, 2, 5, 10 … 100 ms) and tries again, while the process holding the lock takes it again
microseconds after each commit; under steady writes from ``serve --workers 2`` one process could wait
over a second for its turn (items.set p99 1.6 s, docs/performance.md). Before ``BEGIN IMMEDIATE``, a
serving connection therefore takes an exclusive ``flock(2)`` on a file beside the database (the
turn), and the kernel wakes a waiter as soon as the turn is given back. A second lock, the gate, keeps
the process that just gave the turn back from taking it again before the woken waiter runs: a
writer passes the gate, waits for the turn while holding the gate, and opens the gate once it has the
turn. Two processes that write back to back therefore take turns: strictly once the waiter holds
the gate, and a few writes apart when its helper thread is slow to get there on a loaded machine.

The lock only orders the server's own writers: SQLite's lock still guards the data, and any other
writer (the CLI, another program) waits in SQLite's busy handler as before. The wait is bounded: a
helper thread blocks in ``flock`` while the caller waits at most until its deadline; a turn that
comes later is handed straight back.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time

if sys.platform != "win32":
    import fcntl

#: flock(2) is POSIX: elsewhere serving connections keep SQLite's busy handler alone.
SUPPORTED = sys.platform != "win32"

#: The files beside the database (``b24local.db`` → ``b24local.db-writers``, ``b24local.db-writers-gate``).
TURN_SUFFIX = "-writers"
GATE_SUFFIX = "-writers-gate"


def _open(path: str) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)


class _Ticket:
    __slots__ = ("abandoned", "at_gate", "granted", "guard", "ready")

    def __init__(self, at_gate: bool) -> None:
        self.ready = threading.Event()
        self.guard = threading.Lock()
        self.granted = False
        self.abandoned = False
        #: The caller already holds the gate: the helper only waits for the turn.
        self.at_gate = at_gate


class WriterQueue:
    """One process's place in the queue: :meth:`take` before a write transaction, :meth:`give` after."""

    def __init__(self, database_path: str) -> None:
        self.fd = _open(database_path + TURN_SUFFIX)
        self.gate = _open(database_path + GATE_SUFFIX)
        self._tickets: queue.SimpleQueue[_Ticket | None] = queue.SimpleQueue()
        self._helper: threading.Thread | None = None
        #: Tickets handed to the helper and not yet settled by it. While one is out (a wait that timed
        #: out), every take goes through the helper too: a lock taken here directly would be released
        #: by the helper when the abandoned ticket's turn came, the lock belonging to the open file.
        self._out = 0
        self._out_guard = threading.Lock()

    def take(self, deadline: float) -> bool:
        """Hold the lock; False when it did not come before ``deadline`` (``time.monotonic()``)."""
        if self._out:
            return self._wait(deadline, at_gate=False)
        try:
            fcntl.flock(self.gate, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return self._wait(deadline, at_gate=False)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return self._wait(deadline, at_gate=True)
        fcntl.flock(self.gate, fcntl.LOCK_UN)
        return True

    def give(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)

    def _wait(self, deadline: float, at_gate: bool) -> bool:
        if self._helper is None:
            self._helper = threading.Thread(target=self._serve, name="b24local-writer-queue", daemon=True)
            self._helper.start()
        ticket = _Ticket(at_gate)
        with self._out_guard:
            self._out += 1
        self._tickets.put(ticket)
        if ticket.ready.wait(max(0.0, deadline - time.monotonic())):
            return True
        with ticket.guard:
            if ticket.granted:  # came between the timeout and here
                return True
            ticket.abandoned = True
            return False

    def _serve(self) -> None:
        while True:
            ticket = self._tickets.get()
            if ticket is None:
                return
            if not ticket.at_gate:
                fcntl.flock(self.gate, fcntl.LOCK_EX)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            fcntl.flock(self.gate, fcntl.LOCK_UN)
            with ticket.guard:
                if ticket.abandoned:
                    fcntl.flock(self.fd, fcntl.LOCK_UN)
                with self._out_guard:
                    self._out -= 1
                if not ticket.abandoned:
                    ticket.granted = True
                    ticket.ready.set()

    def close(self) -> None:
        helper, self._helper = self._helper, None
        if helper is not None:
            self._tickets.put(None)
            helper.join(timeout=1.0)
            if helper.is_alive():
                # Still blocked in flock for a ticket nobody wants (a daemon thread): its descriptors
                # stay open until the process ends, so that it never locks a file that reused them.
                return
        os.close(self.fd)
        os.close(self.gate)
