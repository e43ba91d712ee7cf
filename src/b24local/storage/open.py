"""Opening the storage named by a database URL."""

from __future__ import annotations

from b24local.storage.base import Storage
from b24local.storage.errors import StorageError
from b24local.storage.migrations import Progress
from b24local.storage.sqlite import DEFAULT_SYNCHRONOUS, SqliteStorage


def open_storage(
    url: str,
    *,
    serving: bool = False,
    sqlite_synchronous: str = DEFAULT_SYNCHRONOUS,
    migration_progress: Progress | None = None,
) -> Storage:
    """``serving``: the storage of a running server (background maintenance such as WAL checkpoints).
    ``sqlite_synchronous``: ``PRAGMA synchronous`` of an SQLite database (PostgreSQL ignores it).
    ``migration_progress``: told how the migrations applied on opening advance."""
    if url.startswith("sqlite:"):
        return SqliteStorage(
            url, serving=serving, synchronous=sqlite_synchronous, migration_progress=migration_progress
        )
    if url.startswith(("postgresql://", "postgres://")):
        from b24local.storage.postgres import PostgresStorage  # psycopg loads only when it is used

        return PostgresStorage(url, serving=serving, migration_progress=migration_progress)
    scheme = url.split(":", 1)[0] if ":" in url else url
    raise StorageError(
        f"unsupported database URL scheme '{scheme}' "
        "(supported: sqlite:///path, postgresql://user:password@host:port/database)"
    )
