"""The built-in SQLite backend: WAL mode, foreign keys on, one transaction per call.

The server calls SQLite directly on its event loop: a call is a handful of indexed statements that
take microseconds, far less than a hop to a worker thread would cost. Within one process, calls
therefore run one at a time; across processes (``serve --workers N``), ``BEGIN IMMEDIATE`` and the
busy timeout serialise writers, and a database still busy after that is retried with backoff and
finally reported as :class:`~b24local.storage.errors.StorageBusy` (``_TxScope``), never as a raw error.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import orjson

from b24local.model.entities import BindingKind, EntityType
from b24local.storage.base import Binding, Row, chunks
from b24local.storage.busy import sleep_before_retry
from b24local.storage.errors import StorageBusy, StorageError
from b24local.storage.fault_hint import TRUST as HINT_TRUST
from b24local.storage.fault_hint import FaultHint
from b24local.storage.migrations import Progress as MigrationProgress
from b24local.storage.migrations import apply_pending
from b24local.storage.sql import SqlTransaction, access_columns, access_from, bindings_from_rows
from b24local.storage.sql_snapshots import SqliteSnapshots
from b24local.storage.writer_queue import SUPPORTED as WRITER_TURNS
from b24local.storage.writer_queue import WriterQueue

#: ``PRAGMA synchronous`` choices (docs/reliability.md, "Power loss"). In WAL mode both survive a
#: crash of the process; only ``full`` (an fsync of the WAL per commit) keeps every answered write
#: through a crash of the machine. ``normal`` is the default: a test portal's data is rebuilt by its
#: suite, and the fsync per write costs several times the write throughput.
SYNCHRONOUS = ("normal", "full")
DEFAULT_SYNCHRONOUS = "normal"


def path_from_url(url: str) -> str:
    """``sqlite:///b24local.db`` → ``b24local.db``; ``sqlite:////abs/x.db`` → ``/abs/x.db``."""
    if not url.startswith("sqlite://"):
        raise StorageError(f"not an SQLite database URL: {url}")
    rest = url[len("sqlite://") :]
    if rest.startswith("/"):
        rest = rest[1:]
    if not rest:
        raise StorageError("the SQLite database URL names no file")
    return rest


class SqliteTransaction(SqliteSnapshots, SqlTransaction):
    _OWNER_WITH_BINDINGS: ClassVar[dict[str, str]] = {}
    #: SQLite's default bound on a function's arguments is 127.
    JSON_ARGS_MAX = 120
    _ROLE_ASSIGN = "INSERT OR IGNORE INTO crm_role_holder (role_id, user_id, department_id) VALUES (?, ?, ?)"

    def __init__(self, conn: sqlite3.Connection, path: str | None = None) -> None:
        super().__init__()
        self.conn = conn
        #: The database file (None in memory): where the fault rules' hint lives.
        self.path = path
        self._hint: FaultHint | None = None
        #: The hint at the last read of the fault rules' generation, that generation, and until when
        #: it is trusted without a read.
        self._hint_seen = -1
        self._fault_generation = 0
        self._fault_trusted_until = 0.0
        #: Per table: its column names and the statement start that selects a row as one JSON array.
        self._row_selects: dict[str, tuple[tuple[str, ...], str]] = {}

    def _insert(self, sql: str, params: Sequence[Any]) -> int:
        return int(self.conn.execute(sql, params).lastrowid or 0)

    def fault_generation(self) -> int:
        """Read only when the hint moved (or a second passed): storage/fault_hint.py."""
        hint = self._fault_hint()
        if hint is None:
            return super().fault_generation()
        seen, now = hint.read(), time.monotonic()
        if seen == self._hint_seen and now < self._fault_trusted_until:
            return self._fault_generation
        generation = super().fault_generation()
        self._hint_seen, self._fault_generation = seen, generation
        self._fault_trusted_until = now + HINT_TRUST
        return generation

    def fault_announce(self, generation: int) -> None:
        hint = self._fault_hint()
        if hint is not None:
            hint.write(generation)

    def close_hint(self) -> None:
        if self._hint is not None:
            self._hint.close()
            self._hint = None

    def _fault_hint(self) -> FaultHint | None:
        if self._hint is None and self.path is not None and self.path != ":memory:":
            self._hint = FaultHint(self.path)
        return self._hint

    def _executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        self.conn.executemany(sql, rows)

    def _names(self, cur: sqlite3.Cursor) -> tuple[str, ...]:
        return tuple(d[0] for d in cur.description)

    def _lock_owner(self, kind: BindingKind, owner_id: int) -> None:
        """``BEGIN IMMEDIATE`` already holds the database's write lock: nothing to lock."""

    def _restart_ids(self, tables: Sequence[str]) -> None:
        marks = ", ".join("?" for _ in tables)
        self.conn.execute(f"DELETE FROM sqlite_sequence WHERE name IN ({marks})", list(tables))

    def _sequence_floor(self, table: str) -> int:
        """AUTOINCREMENT keeps the largest id ever used (explicit ones too) in sqlite_sequence."""
        seq = self._one("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,))
        return int(seq or 0)

    def _journal_last_id(self, count: int) -> int:
        """After the highest id AUTOINCREMENT ever gave (the write lock is held: no one else takes them);
        inserting the last moves ``sqlite_sequence`` on."""
        last = self._one("SELECT seq FROM sqlite_sequence WHERE name = 'journal'") or 0
        return int(last) + count

    def owner_with_bindings(self, kind: BindingKind, owner_id: int) -> tuple[Row | None, list[Binding]]:
        """One row: the owner's access columns and its bindings as one JSON array. Python's ``sqlite3``
        releases and retakes the GIL for every value it fetches (about a microsecond each here), so
        four values instead of seven per binding make the hottest read about a fifth cheaper."""
        sql = self._OWNER_WITH_BINDINGS.get(kind.name)
        if sql is None:
            sql = self._OWNER_WITH_BINDINGS[kind.name] = (
                f"SELECT (SELECT json_group_array(json_array("
                f"b.{kind.bound_column}, b.{kind.sort_column}, b.{kind.primary_column}, "
                f"b.{kind.role_column})) FROM {kind.table} b WHERE b.{kind.owner_column} = o.id), "
                f"{access_columns(kind.owner, 'o.')} FROM {kind.owner.table} o WHERE o.id = ?"
            )
        row = self.conn.execute(sql, (owner_id,)).fetchone()
        if row is None:
            return None, []
        return access_from(kind.owner, row[1:]), bindings_from_rows(orjson.loads(row[0]))

    def _entity_rows(self, entity: EntityType, where: str, params: Sequence[Any]) -> list[Row]:
        """Each row as one JSON array (see :meth:`owner_with_bindings`): a 50-row page of leads is
        50 values to fetch instead of 2,750. JSON keeps SQLite's types (TEXT stays a string, REAL a
        float with 15 significant digits; no column holds a BLOB)."""
        table = entity.table
        kept = self._row_selects.get(table)
        if kept is None:
            names = tuple(r[1] for r in self.conn.execute(f"PRAGMA table_info({table})"))
            if len(names) > self.JSON_ARGS_MAX:  # more than json_array() takes: fetch them as they are
                return super()._entity_rows(entity, where, params)
            kept = self._row_selects[table] = (names, f"SELECT json_array({', '.join(names)}) FROM {table} ")
        names, select = kept
        loads = orjson.loads
        return [dict(zip(names, loads(r[0]), strict=True)) for r in self.conn.execute(select + where, params)]

    def access_rows(self, entity: EntityType, ids: Sequence[int]) -> dict[int, Row]:
        """As one JSON value per chunk of ids (see :meth:`owner_with_bindings`)."""
        found: dict[int, Row] = {}
        for part in chunks(list(ids)):
            marks = ", ".join("?" for _ in part)
            (value,) = self.conn.execute(
                f"SELECT json_group_array(json_array({access_columns(entity)})) "
                f"FROM {entity.table} WHERE id IN ({marks})",
                list(part),
            ).fetchone()
            for r in orjson.loads(value):
                found[r[0]] = access_from(entity, r)
        return found


def is_busy(exc: BaseException) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED (any extended code): another connection holds a lock."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


class _TxScope:
    """One transaction: commits when the block ends normally, rolls back on any exception.

    ``BEGIN`` and ``COMMIT`` that find the database busy are retried with backoff until ``lock_wait``
    seconds have passed since the block was entered (SQLite itself already waits up to the busy
    timeout inside each attempt); past that, or when a statement inside the block finds it busy, the
    transaction is rolled back and :class:`StorageBusy` raised, which the runner may try again.
    """

    __slots__ = ("begin", "deadline", "lock_wait", "queue", "tx")

    def __init__(
        self, tx: SqliteTransaction, begin: str | None, lock_wait: float, queue: WriterQueue | None = None
    ) -> None:
        self.tx = tx
        self.begin = begin
        self.lock_wait = lock_wait
        self.deadline = 0.0
        #: A write of a serving connection waits for its turn here before ``BEGIN IMMEDIATE``.
        self.queue = queue

    def __enter__(self) -> SqliteTransaction:
        if self.begin is not None:  # None: each statement its own transaction (Storage.read)
            self.deadline = time.monotonic() + self.lock_wait
            queue = self.queue
            if queue is not None and not queue.take(self.deadline):
                raise StorageBusy("no turn at the write lock within the bound")
            try:
                self._retrying(self.begin)
            except BaseException:
                if queue is not None:
                    queue.give()
                raise
        return self.tx

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if exc is None and self.begin is None:
            return
        try:
            self._end(exc)
        finally:
            if self.queue is not None:
                self.queue.give()

    def _end(self, exc: BaseException | None) -> None:
        if exc is None:
            try:
                self._retrying("COMMIT")
            except BaseException:
                self._rollback()
                raise
            return
        self._rollback()
        if is_busy(exc):
            raise StorageBusy(str(exc)) from exc

    def _retrying(self, statement: str) -> None:
        attempt = 0
        while True:
            try:
                self.tx.conn.execute(statement)
                return
            except sqlite3.OperationalError as exc:
                if not is_busy(exc):
                    raise
                if not sleep_before_retry(attempt, self.deadline):
                    raise StorageBusy(str(exc)) from exc
                attempt += 1

    def _rollback(self) -> None:
        if self.tx.conn.in_transaction:
            self.tx.conn.execute("ROLLBACK")


#: Seconds between background WAL checkpoints, and the WAL length (frames) past which the serving
#: connection catches up itself (see _Checkpointer).
CHECKPOINT_INTERVAL = 0.5
WAL_RESTART_FRAMES = 8192


class _Checkpointer(threading.Thread):
    """Moves WAL pages into the database from a thread of its own (PASSIVE: never blocks a writer),
    so that the fsync of a checkpoint is not paid inside a request on the event loop.

    A writer starts the WAL file over only when its transaction began with every frame already
    checkpointed. Under a steady stream of writes that never happens by itself (each checkpoint ends
    after the next commit), and the file would grow without bound: half a gigabyte in ten seconds of
    ``items.set``. Past ``restart_frames`` this thread therefore asks the serving connection
    (``restart_wanted``) to checkpoint the last few frames itself, just before its next write."""

    def __init__(self, path: str, interval: float, restart_frames: int) -> None:
        super().__init__(name="b24local-wal-checkpoint", daemon=True)
        self.path = path
        self.interval = interval
        self.restart_frames = restart_frames
        self.restart_wanted = False
        self.stopping = threading.Event()

    def run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            while not self.stopping.wait(self.interval):
                self.checkpoint(conn)
        finally:
            conn.close()

    def checkpoint(self, conn: sqlite3.Connection) -> None:
        """One round, on this thread's own connection."""
        try:
            _busy, frames, _done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:  # busy or locked: the next round tries again
            return
        if frames > self.restart_frames:
            self.restart_wanted = True


class SqliteStorage:
    def __init__(
        self,
        url: str,
        *,
        busy_timeout_ms: int = 10_000,
        serving: bool = False,
        checkpoint_interval: float = CHECKPOINT_INTERVAL,
        wal_restart_frames: int = WAL_RESTART_FRAMES,
        synchronous: str = DEFAULT_SYNCHRONOUS,
        migration_progress: MigrationProgress | None = None,
    ) -> None:
        self.path = path_from_url(url)
        self._migration_progress = migration_progress
        if synchronous not in SYNCHRONOUS:
            raise StorageError(f"unknown SQLite synchronous setting {synchronous!r} (full or normal)")
        #: The bound on waiting for the database lock in one transaction (seconds).
        self.lock_wait = busy_timeout_ms / 1000
        #: The migrations this open applied (``db upgrade`` reports them).
        self.applied_migrations: list[int] = []
        parent = Path(self.path).parent
        if not parent.is_dir():
            raise StorageError(f"cannot open database {self.path}: directory {parent} does not exist")
        try:
            self.conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_ms / 1000
            )
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            self.conn.execute("PRAGMA cache_size = -65536")  # 64 MiB of pages (the default is 2 MiB)
            self._migrate()
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open database {self.path}: {exc}") from None
        self._tx = SqliteTransaction(self.conn, self.path)
        self._checkpointer: _Checkpointer | None = None
        #: Turns at the write lock among the server processes on this file (see writer_queue.py).
        self._writers: WriterQueue | None = None
        if serving:
            if WRITER_TURNS:
                self._writers = WriterQueue(self.path)
            self.conn.execute("PRAGMA wal_autocheckpoint = 0")
            self._checkpointer = _Checkpointer(self.path, checkpoint_interval, wal_restart_frames)
            self._checkpointer.start()

    def _migrate(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.applied_migrations += apply_pending(
                self.conn.execute, "sqlite", "?", "INTEGER", self._migration_progress
            )
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def schema_version(self) -> int:
        """The highest migration applied to the database."""
        with self.read() as tx:
            return int(tx._one("SELECT coalesce(max(version), 0) FROM schema_migrations"))

    def read(self, snapshot: bool = True) -> _TxScope:
        return _TxScope(self._tx, "BEGIN" if snapshot else None, self.lock_wait)

    def write(self) -> _TxScope:
        checkpointer = self._checkpointer
        if checkpointer is not None and checkpointer.restart_wanted:
            # Only the frames since the background checkpoint are left: a few milliseconds here, and
            # this write then starts the WAL file over (see _Checkpointer).
            checkpointer.restart_wanted = False
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        return _TxScope(self._tx, "BEGIN IMMEDIATE", self.lock_wait, self._writers)

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stopping.set()
            self._checkpointer.join()
            self._checkpointer = None
            with contextlib.suppress(sqlite3.Error):
                # Other server processes may be using the file: do not wait long for them.
                self.conn.execute("PRAGMA busy_timeout = 200")
                self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        if self._writers is not None:
            self._writers.close()
            self._writers = None
        self._tx.close_hint()
        self.conn.close()
