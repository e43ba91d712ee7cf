"""The fault rules in storage (migration 13, storage/sql_faults.py), on both backends: replacing the
list, counting hits and faults, and how a second connection (another process's) learns of a new
generation without reading it in every call: SQLite's hint file, PostgreSQL's announcement."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from b24local.storage.base import FaultRow, Storage
from b24local.storage.fault_hint import TRUST
from b24local.storage.open import open_storage
from tests.conftest import new_database


@pytest.fixture
def url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    database = new_database(request, backend, tmp_path)
    return database if isinstance(database, str) else f"sqlite:///{database}"


@pytest.fixture
def stores(url: str) -> Iterator[tuple[Storage, Storage]]:
    """Two serving connections to one database, as two server processes have."""
    first, second = open_storage(url, serving=True), open_storage(url, serving=True)
    yield first, second
    first.close()
    second.close()


def replace(store: Storage, rules: list[tuple[str, int | None]], *, announce: bool = True) -> int:
    with store.write() as tx:
        generation = tx.fault_rules_set(rules)
    if announce:
        with store.read(snapshot=False) as tx:
            tx.fault_announce(generation)
    return generation


def generation_of(store: Storage) -> int:
    with store.read(snapshot=False) as tx:
        return tx.fault_generation()


def test_rules_are_replaced_whole_and_counted(stores: tuple[Storage, Storage]) -> None:
    store, _ = stores
    with store.read() as tx:
        assert tx.fault_rules() == (0, [])
    first = replace(store, [('{"method":"a","error":"reset"}', None), ('{"method":"b","times":2}', 2)])
    assert first == 1
    with store.write() as tx:
        assert tx.fault_hit(1, 1) == (1, 2)
        tx.fault_fired(1, 1)
        assert tx.fault_hit(1, 1) == (2, 1)
        assert tx.fault_hit(1, 0) == (1, None)
        assert tx.fault_hit(0, 0) is None  # a rule of an earlier generation counts nothing
    with store.read() as tx:
        assert tx.fault_rules() == (
            1,
            [
                FaultRow(0, '{"method":"a","error":"reset"}', 1, 0, None),
                FaultRow(1, '{"method":"b","times":2}', 2, 1, 1),
            ],
        )
    assert replace(store, []) == 2
    with store.read() as tx:
        assert tx.fault_rules() == (2, [])


def test_another_connection_sees_an_announced_generation(
    backend: str, stores: tuple[Storage, Storage]
) -> None:
    writer, reader = stores
    assert generation_of(reader) == 0
    replace(writer, [('{"method":"a","error":"reset"}', None)])
    # PostgreSQL delivers the announcement a moment after the commit: wait for it, boundedly.
    deadline = time.monotonic() + 10
    while generation_of(reader) != 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert generation_of(reader) == 1


@pytest.mark.sqlite_only  # the hint file; PostgreSQL announces from a trigger at the commit
def test_sqlite_trusts_an_unmoved_hint_for_a_second_at_most(stores: tuple[Storage, Storage]) -> None:
    writer, reader = stores
    assert generation_of(reader) == 0
    replace(writer, [('{"method":"a","error":"reset"}', None)], announce=False)
    assert generation_of(reader) == 0  # the hint did not move: the kept generation is trusted
    time.sleep(TRUST + 0.05)
    assert generation_of(reader) == 1  # but never longer than TRUST seconds
    replace(writer, [], announce=True)
    assert generation_of(reader) == 2
