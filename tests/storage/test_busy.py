"""Issue 5: a busy SQLite database is retried inside the server and never answers 500.

A write that cannot get the lock within the bound answers 503 QUERY_LIMIT_EXCEEDED (nothing written);
a transaction that failed part way on a busy database is rolled back and the whole call runs again.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from b24local.auth.context import AuthContext
from b24local.methods.dispatch import Dispatcher
from b24local.protocol.errors import ApiError
from b24local.storage.errors import StorageBusy
from b24local.storage.sqlite import SqliteStorage


def _admin(tx: Any = None) -> AuthContext:
    return AuthContext(
        user_id=1, is_admin=True, scopes=frozenset({"crm"}), credential_kind="webhook", credential_id=1
    )


@contextmanager
def held_write_lock(path: Path) -> Iterator[None]:
    """Another connection holds the write lock."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_begin_past_the_bound_raises_storage_busy_and_leaves_no_transaction(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    storage = SqliteStorage(f"sqlite:///{path}", busy_timeout_ms=200)
    try:
        with held_write_lock(path):
            started = time.monotonic()
            with pytest.raises(StorageBusy), storage.write():
                pass
            assert 0.15 < time.monotonic() - started < 3
            assert not storage.conn.in_transaction
            with storage.read() as tx:  # WAL: readers are not blocked by the writer
                assert tx.user_count() == 0
        with storage.write() as tx:
            tx.user_add("After", "", True)
        assert storage.schema_version() >= 3
    finally:
        storage.close()


def test_a_write_call_that_cannot_get_the_lock_answers_503(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    storage = SqliteStorage(f"sqlite:///{path}", busy_timeout_ms=200)
    try:
        dispatcher = Dispatcher(storage)
        with held_write_lock(path):
            with pytest.raises(ApiError) as refused:
                dispatcher.call(_admin, "crm.lead.add", {"fields": {"TITLE": "x"}})
            assert (refused.value.status, refused.value.code) == (503, "QUERY_LIMIT_EXCEEDED")
            # A read still answers while another process writes.
            assert dispatcher.call(_admin, "crm.lead.list", {})[0].items == []
        assert dispatcher.call(_admin, "crm.lead.add", {"fields": {"TITLE": "x"}})[0] == 1
    finally:
        storage.close()


class _BusyOnce:
    """A storage whose first write transaction fails on a busy database after its statements ran."""

    def __init__(self, inner: SqliteStorage) -> None:
        self.inner = inner
        self.lock_wait = 1.0
        self.failed = False

    def read(self, snapshot: bool = True) -> Any:
        return self.inner.read(snapshot)

    @contextmanager
    def write(self) -> Iterator[Any]:
        with self.inner.write() as tx:
            yield tx
            if not self.failed:
                self.failed = True
                raise sqlite3.OperationalError("database is locked")

    def close(self) -> None:
        self.inner.close()


def test_a_call_whose_transaction_failed_busy_runs_again_once(tmp_path: Path) -> None:
    inner = SqliteStorage(f"sqlite:///{tmp_path / 'b.db'}")
    storage = _BusyOnce(inner)
    try:
        dispatcher = Dispatcher(storage)  # type: ignore[arg-type]
        assert dispatcher.call(_admin, "crm.lead.add", {"fields": {"TITLE": "x"}})[0] >= 1
        assert storage.failed
        with inner.read() as tx:
            assert tx._one("SELECT count(*) FROM crm_lead") == 1  # the first attempt was rolled back
    finally:
        storage.close()


class _ReadsBusy:
    """A storage whose read transactions all find the database busy (as BEGIN past the bound would)."""

    def __init__(self, inner: SqliteStorage) -> None:
        self.inner = inner
        self.lock_wait = 0.2
        self.reads = 0

    @contextmanager
    def read(self, snapshot: bool = True) -> Iterator[Any]:
        self.reads += 1
        raise StorageBusy("database is locked")
        yield  # a generator all the same (contextmanager)

    def write(self) -> Any:
        return self.inner.write()

    def close(self) -> None:
        self.inner.close()


def test_a_batch_whose_login_finds_the_database_busy_answers_503_not_500(tmp_path: Path) -> None:
    """Issue 15: the batch authenticates in a read of its own, retried like any call's."""
    storage = _ReadsBusy(SqliteStorage(f"sqlite:///{tmp_path / 'b.db'}"))
    try:
        dispatcher = Dispatcher(storage)  # type: ignore[arg-type]
        with pytest.raises(ApiError) as refused:
            dispatcher.call(_admin, "batch", {"cmd": {"n": "crm.lead.list"}})
        assert (refused.value.status, refused.value.code) == (503, "QUERY_LIMIT_EXCEEDED")
        assert storage.reads > 1  # tried again before giving up
    finally:
        storage.close()
