"""Issue 15: the one transaction runner (storage/runner.py) on a real SQLite database: a busy
database is tried again until the bound, then BusyPastDeadline; a Rerun runs the call again at once, a
bounded number of times, then the error behind it surfaces."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from b24local.storage.base import Transaction
from b24local.storage.errors import REFERENCE_RERUNS, BusyPastDeadline, ReferenceGone, Rerun
from b24local.storage.runner import run
from b24local.storage.sqlite import SqliteStorage


@pytest.fixture
def storage(tmp_path: Path) -> SqliteStorage:
    return SqliteStorage(f"sqlite:///{tmp_path / 'r.db'}", busy_timeout_ms=200)


def test_a_rerun_runs_the_call_again_and_only_the_last_attempt_is_written(storage: SqliteStorage) -> None:
    attempts: list[int] = []

    def add(tx: Transaction) -> int:
        user = tx.user_add(f"Try {len(attempts)}", "", False)
        attempts.append(user)
        if len(attempts) < 3:
            raise Rerun("what the call saw changed")
        return user

    assert run(storage, True, add) == 1  # the two rolled-back attempts left no row and no id
    assert attempts == [1, 1, 1]
    with storage.read() as tx:
        assert (tx.user_count(), tx.user_get(1).name) == (1, "Try 2")  # type: ignore[union-attr]
    storage.close()


def test_past_the_bounded_reruns_the_error_behind_the_rerun_surfaces(storage: SqliteStorage) -> None:
    attempts: list[None] = []

    def never_checks(tx: Transaction) -> None:
        attempts.append(None)
        try:
            raise ValueError("the method never checked the row")
        except ValueError as cause:
            raise ReferenceGone("contact 7 was deleted during the call") from cause

    with pytest.raises(ValueError, match="never checked the row"):
        run(storage, True, never_checks)
    assert (len(attempts), REFERENCE_RERUNS) == (4, 3)
    storage.close()


def test_a_write_that_cannot_get_the_lock_leaves_as_busy_past_deadline(
    storage: SqliteStorage, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "r.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(BusyPastDeadline):
            run(storage, True, lambda tx: tx.user_add("Never", "", False))
        assert run(storage, False, lambda tx: tx.user_count()) == 0  # WAL: a read still runs
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert run(storage, True, lambda tx: tx.user_add("After", "", False)) == 1
    storage.close()
