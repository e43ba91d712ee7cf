"""The SQLite backend: migrations, pragmas, and the invariants the schema itself enforces."""

from __future__ import annotations

import sqlite3
from importlib import resources
from pathlib import Path

import pytest

from b24local.cli import CliError, build_parser, serving_storage
from b24local.crm.entities import CONTACT, LEAD, LEAD_CONTACT
from b24local.model.query import AllOf
from b24local.storage.base import Binding
from b24local.storage.errors import StorageError
from b24local.storage.sqlite import SqliteStorage, path_from_url

MIGRATIONS = sorted(
    int(item.name[:4])
    for item in (resources.files("b24local.storage.migrations") / "sqlite").iterdir()
    if item.name.endswith(".sql")
)


@pytest.fixture
def store(tmp_path: Path) -> SqliteStorage:
    return SqliteStorage(f"sqlite:///{tmp_path / 'x.db'}")


def test_url_forms() -> None:
    assert path_from_url("sqlite:///b24local.db") == "b24local.db"
    assert path_from_url("sqlite:////abs/dir/x.db") == "/abs/dir/x.db"
    with pytest.raises(StorageError, match="names no file"):
        path_from_url("sqlite:///")


def test_pragmas_and_schema_version(store: SqliteStorage) -> None:
    conn = store.conn
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
    # NORMAL: durable across a crash of the process, not of the machine (docs/reliability.md)
    assert conn.execute("PRAGMA synchronous").fetchone() == (1,)
    # Every migration script in the package ran once, in order (0001 initial, 0002 roles, ...).
    assert conn.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall() == [
        (v,) for v in MIGRATIONS
    ]
    assert MIGRATIONS[:2] == [1, 2]


@pytest.mark.parametrize(("flags", "expected"), [([], 1), (["--sqlite-synchronous", "full"], 2)])
def test_a_server_process_commits_with_the_chosen_synchronous(
    tmp_path: Path, flags: list[str], expected: int
) -> None:
    """The connection a ``serve`` process answers on (one process or each worker): NORMAL (1) unless
    ``--sqlite-synchronous full`` (2)."""
    url = f"sqlite:///{tmp_path / 'x.db'}"
    args = build_parser().parse_args(["serve", "--database", url, *flags])
    storage = serving_storage(args, url)
    try:
        assert isinstance(storage, SqliteStorage)
        assert storage.conn.execute("PRAGMA synchronous").fetchone() == (expected,)
        assert storage.conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        storage.close()


def test_an_unknown_synchronous_setting_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="unknown SQLite synchronous setting 'off'"):
        SqliteStorage(f"sqlite:///{tmp_path / 'x.db'}", synchronous="off")
    with pytest.raises(CliError, match="invalid choice: 'off'"):
        build_parser().parse_args(["serve", "--sqlite-synchronous", "off"])


def test_migrating_twice_changes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    SqliteStorage(url).close()
    again = SqliteStorage(url)
    assert again.conn.execute("SELECT count(*) FROM schema_migrations").fetchone() == (len(MIGRATIONS),)
    again.close()


def test_a_failed_write_leaves_nothing(store: SqliteStorage) -> None:
    with pytest.raises(RuntimeError), store.write() as tx:
        tx.entity_insert(LEAD, {"title": "gone"})
        raise RuntimeError("boom")
    with store.read() as tx:
        assert tx.entity_count(LEAD, AllOf(())) == 0


def test_schema_refuses_two_primaries_and_dangling_contacts(store: SqliteStorage) -> None:
    with store.write() as tx:
        lead = tx.entity_insert(LEAD, {"title": "L"})
        first = tx.entity_insert(CONTACT, {"name": "A"})
        second = tx.entity_insert(CONTACT, {"name": "B"})
        tx.binding_insert(LEAD_CONTACT, lead, Binding(first, 10, True))
    with pytest.raises(sqlite3.IntegrityError), store.write() as tx:
        tx.binding_insert(LEAD_CONTACT, lead, Binding(second, 20, True))
    with pytest.raises(sqlite3.IntegrityError), store.write() as tx:
        tx.binding_insert(LEAD_CONTACT, lead, Binding(9999, 20, False))
    with pytest.raises(sqlite3.IntegrityError), store.write() as tx:
        tx.binding_insert(LEAD_CONTACT, lead, Binding(first, 30, False))  # bound once at most
    with store.read() as tx:
        assert tx.bindings_get(LEAD_CONTACT, lead) == [Binding(first, 10, True)]


def test_deleting_rows_cascades_to_bindings(store: SqliteStorage) -> None:
    with store.write() as tx:
        lead = tx.entity_insert(LEAD, {"title": "L"})
        contact = tx.entity_insert(CONTACT, {"name": "A"})
        tx.binding_insert(LEAD_CONTACT, lead, Binding(contact, 10, True))
        tx.entity_delete(LEAD, lead)
        assert tx.bindings_get(LEAD_CONTACT, lead) == []
        assert tx.owners_of(LEAD_CONTACT, contact) == []


def test_a_wal_that_checkpoints_never_caught_up_with_starts_over(tmp_path: Path) -> None:
    """A writer starts the WAL file over only when every frame was checkpointed as its transaction
    began. Writes during a checkpoint (here: frames a reader still pins while the round runs) leave
    it behind for good under a steady stream of writes; past ``wal_restart_frames`` the serving
    connection checkpoints the rest itself before its next write, which then starts the file over."""
    path = tmp_path / "x.db"
    store = SqliteStorage(f"sqlite:///{path}", serving=True, checkpoint_interval=3600, wal_restart_frames=64)
    checkpointer = store._checkpointer
    assert checkpointer is not None
    wal = tmp_path / "x.db-wal"

    def write(rows: int) -> None:
        for _ in range(rows):
            with store.write() as tx:
                tx.conn.execute("INSERT INTO crm_contact (name) VALUES (?)", ("x" * 3000,))

    reader = sqlite3.connect(path, isolation_level=None)
    own = sqlite3.connect(path, isolation_level=None)  # the checkpointer's connection, rounds run by hand
    try:
        write(100)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM crm_contact").fetchone()  # pins the WAL as it is now
        write(100)  # frames the round below cannot move into the database
        checkpointer.checkpoint(own)
        reader.execute("COMMIT")
        assert checkpointer.restart_wanted
        size = wal.stat().st_size
        write(150)  # started over at the first of these: they fit in the frames already in the file
        assert checkpointer.restart_wanted is False
        assert wal.stat().st_size == size
    finally:
        reader.close()
        own.close()
        store.close()
    check = sqlite3.connect(path)
    assert check.execute("SELECT count(*) FROM crm_contact").fetchone() == (350,)
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    check.close()
