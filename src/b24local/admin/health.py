"""T1: ``GET /_b24local/health``, open to anyone (a container's HEALTHCHECK, a CI script waiting for
the server): the version, the kind of database, its schema version; 503 when the database cannot be
reached. It tells nothing secret: no URL, no path, no error text."""

from __future__ import annotations

import logging
import os
from typing import Any

from b24local import __version__
from b24local.config import Config
from b24local.storage.base import Storage
from b24local.storage.sqlite import path_from_url

log = logging.getLogger("b24local")


def database_kind(url: str) -> str:
    return "sqlite" if url.startswith("sqlite:") else "postgresql"


def health(config: Config, storage: Storage) -> tuple[int, dict[str, Any]]:
    """(status, body). A read of the schema version proves the database answers."""
    kind = database_kind(config.database_url)
    try:
        schema = storage.schema_version()
        # An open SQLite connection keeps reading a file that was deleted or moved away: the data
        # is then lost to every later start, which is no more reachable than a stopped server.
        if kind == "sqlite" and not os.path.exists(path_from_url(config.database_url)):
            raise FileNotFoundError("the SQLite database file is gone")
    except Exception as exc:  # whatever stops the read: the answer is the same, the cause is logged
        log.warning("health: the database cannot be reached: %s", type(exc).__name__)
        return 503, {"status": "unavailable", "version": __version__, "database": kind}
    return 200, {"status": "ok", "version": __version__, "database": kind, "schema": schema}
