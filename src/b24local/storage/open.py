"""Opening the storage named by a database URL."""

from __future__ import annotations

from b24local.storage.base import Storage
from b24local.storage.errors import StorageError
from b24local.storage.sqlite import DEFAULT_SYNCHRONOUS, SqliteStorage


def open_storage(
    url: str, *, serving: bool = False, sqlite_synchronous: str = DEFAULT_SYNCHRONOUS
) -> Storage:
    """``serving``: the storage of a running server (background maintenance such as WAL checkpoints).
    ``sqlite_synchronous``: ``PRAGMA synchronous`` of an SQLite database (PostgreSQL ignores it)."""
    if url.startswith("sqlite:"):
        return SqliteStorage(url, serving=serving, synchronous=sqlite_synchronous)
    if url.startswith(("postgresql://", "postgres://")):
        from b24local.storage.postgres import PostgresStorage  # psycopg loads only when it is used

        return PostgresStorage(url, serving=serving)
    scheme = url.split(":", 1)[0] if ":" in url else url
    raise StorageError(
        f"unsupported database URL scheme '{scheme}' "
        "(supported: sqlite:///path, postgresql://user:password@host:port/database)"
    )
