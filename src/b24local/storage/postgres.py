"""The PostgreSQL backend: the same schema and semantics as SQLite, for several server processes.

The server calls PostgreSQL synchronously on its event loop, as it does SQLite: a statement is one
round trip on a local socket (about 50–100 µs), and one process runs one call at a time. A call that
waits for a row lock held by another process therefore holds up its own process until that call
commits (issue 6 may move PostgreSQL calls off the loop).

Isolation mirrors SQLite's: a read call runs in one REPEATABLE READ READ ONLY transaction (one
snapshot, never a serialization failure); a write call runs in READ COMMITTED and every binding
write first locks its owner row (``SELECT … FOR NO KEY UPDATE``), so that concurrent calls on the
same lead serialise. A deadlock or serialization failure rolls back and raises
:class:`~b24local.storage.errors.StorageBusy`; the runner (storage/runner.py) tries the call again.
A foreign-key violation (:class:`~b24local.storage.errors.ReferenceGone`, a Rerun) runs it again at
once: a contact deleted between a call's existence check and its insert, which the rerun then reports
as not found.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
import psycopg.errors
from psycopg.adapt import Dumper

from b24local.config import redacted_url
from b24local.model.entities import BindingKind, EntityType
from b24local.storage.base import Row
from b24local.storage.errors import LOCK_WAIT, ReferenceGone, Rerun, StorageBusy, StorageError
from b24local.storage.migrations import Progress as MigrationProgress
from b24local.storage.migrations import apply_pending
from b24local.storage.sql import SqlCompiler, SqlTransaction
from b24local.storage.sql_snapshots import PostgresSnapshots

#: Serialises concurrent migrations of one database (pg_advisory_xact_lock key).
_MIGRATION_LOCK = 0x62_32_34_6C  # "b24l"

#: Errors after which the whole call is rerun from the start.
_CONFLICTS = (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected)

#: The channel on which every change of a user or a webhook is announced (migration 0006).
AUTH_CHANNEL = "b24local_auth"


class PgCompiler(SqlCompiler):
    like = "ILIKE"  # SQLite's LIKE ignores ASCII case; the text columns collate "C", so ILIKE does too
    raw_pattern = " ESCAPE ''"  # PostgreSQL's LIKE escapes with "\\" by default
    nulls_asc = " NULLS FIRST"  # SQLite sorts NULL as the smallest value
    nulls_desc = " NULLS LAST"

    def text(self, expr: str) -> str:
        return f"CAST({expr} AS TEXT)"

    def one_of(self, expr: str, values: Sequence[Any]) -> str:
        # An array of untyped elements: the server types it from ``expr``, as it does a scalar.
        return f"{expr} = ANY({self._param(list(values))})"

    def has_multifield(self, where: str, negate: bool) -> str:
        # PostgreSQL plans EXISTS as a semi- or anti-join, or hashes it under OR; NOT IN over a set
        # larger than work_mem would be a rescan per row.
        sub = (
            f"EXISTS (SELECT 1 FROM crm_multifield m WHERE m.element_id = {self.entity.table}.id AND {where})"
        )
        return f"NOT {sub}" if negate else sub


#: Rows per write of a COPY.
_COPY_CHUNK = 5000
#: COPY's text format escapes a backslash, a tab and the line ends (a NUL never gets here: refused).
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_chunk(rows: Sequence[tuple[Any, ...]]) -> str:
    """Rows in COPY's text format (NULL is a backslash and N; numbers as Python prints them).

    Made without escaping first, then proved to need none by counting, in C, the characters that
    would need it: a tab and a line end only between values and rows, a backslash only in the NULLs
    (``rows`` holding no other one). Rows with such text are made again, escaped: that is rare, and
    the first way takes half the time."""
    text = "\n".join(
        "\t".join(["\\N" if v is None else v if v.__class__ is str else repr(v) for v in row]) for row in rows
    )
    tabs = len(rows) * (len(rows[0]) - 1)
    nulls = sum(row.count(None) for row in rows)
    clean = text.count("\t") == tabs and text.count("\n") == len(rows) - 1 and "\r" not in text
    if clean and text.count("\\") == nulls:
        return text + "\n"
    esc = _COPY_ESCAPES
    return "".join(
        "\t".join(["\\N" if v is None else v.translate(esc) if v.__class__ is str else repr(v) for v in row])
        + "\n"
        for row in rows
    )


class _UntypedNumberDumper(Dumper):
    """Numbers go to the server untyped, as SQLite takes them: compared with a text column they are
    text, with a number column numbers (PostgreSQL has no ``text = bigint`` operator)."""

    oid = 0  # unknown: the server infers the type from the context

    def dump(self, obj: Any) -> bytes:
        return repr(obj).encode() if isinstance(obj, float) else str(int(obj)).encode()


def _connect(url: str) -> psycopg.Connection[Any]:
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise StorageError(f"cannot connect to database {redacted_url(url)}: {message}") from None
    conn.adapters.register_dumper(int, _UntypedNumberDumper)
    conn.adapters.register_dumper(float, _UntypedNumberDumper)
    return conn


class _OneCursor:
    """The connection as a transaction uses it: every ``execute`` runs on one cursor made once, which
    saves a cursor (and its adapters) per statement, about 11 µs of a 55 µs loopback query. Sound
    because every statement's result is consumed before the next statement runs."""

    __slots__ = ("cur", "raw")

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw
        self.cur = raw.cursor()

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> psycopg.Cursor[Any]:
        return self.cur.execute(sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


class PostgresTransaction(PostgresSnapshots, SqlTransaction):
    ph = "%s"
    compiler = PgCompiler
    DEFERRED_OFFSET = 1000
    _ROLE_ASSIGN = (
        "INSERT INTO crm_role_holder (role_id, user_id, department_id) VALUES (?, ?, ?) "
        "ON CONFLICT DO NOTHING"
    )

    _Q_BUCKET_TAKE = (
        "UPDATE limit_bucket SET level = greatest(0.0, level - greatest(0.0, ? - at) * ?) + 1, "
        "at = greatest(at, ?) "
        "WHERE id = 1 AND greatest(0.0, level - greatest(0.0, ? - at) * ?) + 1 <= ? RETURNING level"
    )

    def __init__(self, conn: psycopg.Connection[Any], listen: bool = False) -> None:
        super().__init__()
        self.conn = _OneCursor(conn)
        self.writing = False
        self._locked: set[tuple[str, int]] = set()
        #: Announcements of auth changes this connection has received (see :meth:`auth_epoch`).
        self.auth_notices = 0
        #: The auth epoch this connection last read, and ``auth_notices`` when it read it.
        self._epoch: int | None = None
        self._epoch_read_at = 0
        #: ``auth_notices`` when this call took the kept epoch without reading it, else None.
        self.trusted_at: int | None = None
        #: The fault rules' generation this connection last read, and ``auth_notices`` before it did.
        self._fault_generation: int | None = None
        self._fault_read_at = 0
        self.listening = listen
        if listen:
            conn.add_notify_handler(self._auth_notice)
            conn.execute(f"LISTEN {AUTH_CHANNEL}")

    def _auth_notice(self, notice: psycopg.Notify) -> None:
        self.auth_notices += 1

    def auth_epoch(self) -> int:
        """The epoch kept from an earlier call, without reading it: in a read call of a serving
        connection that has heard of no change since it was read.

        PostgreSQL sends an announcement to an idle listener at once, and to a busy one at the end
        of its transaction, before it reports ready for the next statement. So: whatever was
        committed before this call came in is on the socket now (read here without waiting), and
        whatever is committed before the call's last statement ends has been heard when it ends;
        the call's scope then runs it again (:meth:`auth_changed_since_trusted`)."""
        kept = self._epoch
        if self.listening and not self.writing and kept is not None and self._epoch_read_at == self._heard():
            self.trusted_at = self._epoch_read_at
            return kept
        epoch = super().auth_epoch()
        self._epoch, self._epoch_read_at = epoch, self.auth_notices
        return epoch

    def fault_generation(self) -> int:
        """The generation kept from an earlier read while this serving connection has heard nothing
        on the auth channel since (migration 13 announces every move there): no round trip for a
        call when the rules stay, which is nearly always."""
        heard = self._heard() if self.listening else -1
        kept = self._fault_generation
        if kept is not None and heard >= 0 and heard == self._fault_read_at:
            return kept
        generation = super().fault_generation()
        # What was heard before the read: an announcement arriving during it makes the next call read.
        self._fault_generation, self._fault_read_at = generation, heard
        return generation

    def _heard(self) -> int:
        """``auth_notices`` after taking in what the socket holds, without waiting for more."""
        pgconn = self.conn.raw.pgconn
        try:
            pgconn.consume_input()
        except psycopg.Error:
            return -1  # the connection is gone: the epoch read reports it
        while pgconn.notifies() is not None:
            self.auth_notices += 1
        return self.auth_notices

    def auth_changed_since_trusted(self) -> bool:
        return self.trusted_at is not None and self.trusted_at != self.auth_notices

    def _insert(self, sql: str, params: Sequence[Any]) -> int:
        row = self.conn.execute(f"{sql} RETURNING id", params).fetchone()
        assert row is not None
        return int(row[0])

    def _executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        self.conn.cursor().executemany(sql, rows)

    def _names(self, cur: psycopg.Cursor[Any]) -> tuple[str, ...]:
        return tuple(d.name for d in cur.description or ())

    def _lock_tables(self, tables: Sequence[str]) -> None:
        """EXCLUSIVE: readers go on seeing the state before; writers wait for the state after (a writer
        already holding one of the tables makes a deadlock, which reruns that call)."""
        self.conn.execute(f"LOCK TABLE {', '.join(tables)} IN EXCLUSIVE MODE")

    def _restart_ids(self, tables: Sequence[str]) -> None:
        """Last in the transaction, since a RESTART is never rolled back; writers are still locked out."""
        for table in tables:
            self.conn.execute(f"ALTER TABLE {table} ALTER COLUMN id RESTART WITH 1")

    def _bulk(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        """COPY: a seed's 100,000 rows in one stream, several times faster than executemany. The text
        is made here, a chunk at a time: psycopg's write_row calls a dumper per value, which took
        longer than everything else of a seed."""
        if not rows:
            return
        with (
            self.conn.raw.cursor() as cur,
            cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for start in range(0, len(rows), _COPY_CHUNK):
                copy.write(_copy_chunk(rows[start : start + _COPY_CHUNK]).encode())

    def _sequence_floor(self, table: str) -> int:
        value = self._one(f"SELECT pg_sequence_last_value(pg_get_serial_sequence('{table}', 'id'))")
        return int(value or 0)

    def _ids_continue(self, table: str) -> None:
        """Never back: an id handed out before (a deleted row's) is not handed out again, as in SQLite."""
        self.conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), greatest((SELECT max(id) FROM {table}), "
            f"coalesce(pg_sequence_last_value(pg_get_serial_sequence('{table}', 'id')), 1)))"
        )

    def _journal_last_id(self, count: int) -> int:
        """From the identity's sequence, ``count`` in a row: other servers' appends wait for the table
        lock (readers do not), so that no one takes an id between the two statements."""
        self.conn.execute("LOCK TABLE journal IN EXCLUSIVE MODE")
        first = self._one("SELECT nextval(pg_get_serial_sequence('journal', 'id'))")
        last = int(first) + count - 1
        if count > 1:
            self.conn.execute("SELECT setval(pg_get_serial_sequence('journal', 'id'), %s)", (last,))
        return last

    def _lock_owner(self, kind: BindingKind, owner_id: int) -> None:
        """Lock the owner row before the first read or write of its bindings in a write call."""
        if not self.writing or (kind.owner.table, owner_id) in self._locked:
            return
        self.conn.execute(f"SELECT 1 FROM {kind.owner.table} WHERE id = %s FOR NO KEY UPDATE", (owner_id,))
        self._locked.add((kind.owner.table, owner_id))

    def owners_of(self, kind: BindingKind, bound_id: int) -> list[int]:
        """In a write call (the bound entity is being deleted) the bound row is locked first: FOR
        UPDATE waits for every call whose binding insert already points at it (its foreign-key check
        holds FOR KEY SHARE) and makes later inserts fail theirs (rerun, then not found), so no
        binding escapes the primary re-election and goes with the row by cascade alone."""
        if self.writing:
            self.conn.execute(f"SELECT 1 FROM {kind.bound.table} WHERE id = %s FOR UPDATE", (bound_id,))
        return super().owners_of(kind, bound_id)

    def entity_insert(self, entity: EntityType, values: Row) -> int:
        new_id = super().entity_insert(entity, values)
        if "id" in values:  # an explicit id (fixtures, imports): later ids continue after it, as in SQLite
            self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{entity.table}', 'id'), "
                f"(SELECT max(id) FROM {entity.table}))"
            )
        return new_id


class _TxScope:
    """One transaction: commits when the block ends normally, rolls back on any exception; a lost
    race (deadlock, serialization failure) leaves as StorageBusy."""

    __slots__ = ("begin", "storage", "used", "writing")

    def __init__(self, storage: PostgresStorage, begin: str | None, writing: bool) -> None:
        self.storage = storage
        self.begin = begin
        self.writing = writing
        self.used: psycopg.Connection[Any] | None = None

    def __enter__(self) -> PostgresTransaction:
        tx = self.storage.transaction()
        tx.trusted_at = None
        if self.begin is None:  # each statement its own transaction (Storage.read): no BEGIN, no COMMIT
            tx.writing = False
            tx._locked.clear()
            self.used = tx.conn.raw
            return tx
        try:
            tx.conn.execute(self.begin)
        except psycopg.OperationalError:
            if not tx.conn.broken:
                raise
            tx = self.storage.transaction()  # the server went away between calls: reconnect once
            tx.conn.execute(self.begin)
        tx.writing = self.writing
        tx._locked.clear()
        return tx

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        tx = self.storage.transaction()
        conn = tx.conn
        if self.begin is None:
            lost = isinstance(exc, psycopg.OperationalError) and self.used is not None and self.used.broken
            if isinstance(exc, _CONFLICTS) or lost:
                # Nothing was written: the runner runs the call again (on a new connection).
                raise StorageBusy(str(exc).splitlines()[0]) from exc
            self._check_credentials(tx, exc)
            return
        if exc_type is not None:
            if not conn.closed:
                try:
                    conn.execute("ROLLBACK")
                except psycopg.Error:
                    conn.close()  # reconnected by the next call
            if isinstance(exc, _CONFLICTS):
                raise StorageBusy(str(exc).splitlines()[0]) from exc
            if isinstance(exc, psycopg.errors.ForeignKeyViolation):
                # READ COMMITTED: the referenced row passed the call's check, then another call's
                # delete committed before this insert's foreign-key check.
                raise ReferenceGone(str(exc).splitlines()[0]) from exc
            self._check_credentials(tx, exc)
            return
        try:
            conn.execute("COMMIT")
        except _CONFLICTS as failure:
            raise StorageBusy(str(failure).splitlines()[0]) from failure
        self._check_credentials(tx, None)

    @staticmethod
    def _check_credentials(tx: PostgresTransaction, exc: BaseException | None) -> None:
        """A read call that trusted the kept auth epoch and heard of a change meanwhile runs again (nothing
        was written), whatever it answered: it might have answered with the old credentials."""
        if tx.auth_changed_since_trusted():
            raise Rerun("users or webhooks changed during the call") from exc


class PostgresStorage:
    #: How long the runner keeps retrying a call that lost a race (seconds).
    lock_wait = LOCK_WAIT

    def __init__(
        self, url: str, *, serving: bool = False, migration_progress: MigrationProgress | None = None
    ) -> None:
        if not url.startswith(("postgresql://", "postgres://")):
            raise StorageError(f"not a PostgreSQL database URL: {redacted_url(url)}")
        self.url = url
        self._migration_progress = migration_progress
        #: The migrations this open applied (``db upgrade`` reports them).
        self.applied_migrations: list[int] = []
        self.conn = _connect(url)
        try:
            self._migrate()
        except psycopg.Error as exc:
            self.conn.close()
            message = " ".join(str(exc).split())
            raise StorageError(f"cannot migrate database {redacted_url(url)}: {message}") from None
        #: A server's storage listens for announcements of auth changes (PostgresTransaction).
        self.serving = serving
        self._tx = PostgresTransaction(self.conn, serving)

    def _migrate(self) -> None:
        with self.conn.transaction():
            self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            self.applied_migrations += apply_pending(
                self.conn.execute, "postgres", "%s", "BIGINT", self._migration_progress
            )

    def schema_version(self) -> int:
        """The highest migration applied to the database."""
        with self.read() as tx:
            return int(tx._one("SELECT coalesce(max(version), 0) FROM schema_migrations"))

    def transaction(self) -> PostgresTransaction:
        """The transaction object, on a new connection when the old one was lost (server restart)."""
        if self.conn.closed or self.conn.broken:
            self.conn.close()
            self.conn = _connect(self.url)
            self._tx = PostgresTransaction(self.conn, self.serving)
        return self._tx

    def read(self, snapshot: bool = True) -> _TxScope:
        return _TxScope(self, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" if snapshot else None, False)

    def write(self) -> _TxScope:
        return _TxScope(self, "BEGIN ISOLATION LEVEL READ COMMITTED", writing=True)

    def close(self) -> None:
        self.conn.close()
