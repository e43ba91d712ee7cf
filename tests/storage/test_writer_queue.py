"""Turns at SQLite's write lock among the serving connections of one database file (writer_queue.py)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from b24local.storage.sqlite import SqliteStorage
from b24local.storage.writer_queue import WriterQueue


def test_a_turn_that_comes_after_the_deadline_is_handed_back(tmp_path: Path) -> None:
    db = str(tmp_path / "x.db")
    first, second = WriterQueue(db), WriterQueue(db)
    try:
        assert (tmp_path / "x.db-writers").is_file() and (tmp_path / "x.db-writers-gate").is_file()
        assert first.take(time.monotonic() + 5)
        assert not second.take(time.monotonic() + 0.2)  # waits in its helper thread, gives up at 0.2 s
        first.give()  # the helper now gets the turn nobody wants any more, and hands it back
        assert first.take(time.monotonic() + 5)
        first.give()
        assert second.take(time.monotonic() + 5)
        assert not first.take(time.monotonic() + 0.1)
        second.give()
    finally:
        first.close()
        second.close()


def test_closing_while_a_turn_nobody_wants_is_still_awaited(tmp_path: Path) -> None:
    db = str(tmp_path / "x.db")
    first, second = WriterQueue(db), WriterQueue(db)
    try:
        assert first.take(time.monotonic() + 5)
        assert not second.take(time.monotonic() + 0.1)
        second.close()  # its helper still waits for the turn: it is left to hand it back later
        first.give()
        assert first.take(time.monotonic() + 5)  # the abandoned turn came back
        first.give()
    finally:
        first.close()


WRITER = """
import sys, time
from b24local.storage.sqlite import SqliteStorage
storage = SqliteStorage(sys.argv[1], serving=True)
stop = time.monotonic() + 30
while time.monotonic() < stop:
    with storage.write() as tx:
        tx.conn.execute("INSERT INTO crm_contact (name) VALUES ('busy')")
"""


def test_a_writer_gets_its_turns_while_another_process_writes_back_to_back(tmp_path: Path) -> None:
    """Two server processes on one file: one commits back to back while the other makes 20 writes.
    Without turns, SQLite's busy handler lets the second try again only after sleeps of up to 100 ms
    and the first takes the lock again in between, so the 20 writes wait for thousands of the first
    one's commits."""
    url = f"sqlite:///{tmp_path / 'x.db'}"
    other = SqliteStorage(url, serving=True)

    def busy_rows() -> int:
        with other.read() as tx:
            return int(tx._one("SELECT count(*) FROM crm_contact WHERE name = 'busy'"))

    writer = subprocess.Popen([sys.executable, "-c", WRITER, url])
    try:
        deadline = time.monotonic() + 20
        while busy_rows() < 200:  # the other process is writing back to back
            assert writer.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        started = busy_rows()
        for _ in range(20):
            with other.write() as tx:
                tx.conn.execute("INSERT INTO crm_contact (name) VALUES ('other')")
        meanwhile = busy_rows() - started
        with other.read() as tx:
            assert tx._one("SELECT count(*) FROM crm_contact WHERE name = 'other'") == 20
    finally:
        writer.kill()
        writer.wait()
        other.close()
    # About 20 on a quiet machine (they alternate); 201 once under the whole suite, when a waiter's
    # helper thread was slow to reach the gate. Without turns: 13,737 to 115,716.
    assert meanwhile < 1000, meanwhile
