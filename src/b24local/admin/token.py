"""The admin token (contract test-portal.md T2): given on the command line or in the environment, or
made at random when the database is created, kept only as its SHA-256 (setting ``admin_token_sha256``)
and printed once beside the first webhook URL.
"""

from __future__ import annotations

import hashlib
import secrets

from b24local.storage.base import Storage

SETTING = "admin_token_sha256"


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def make_stored(storage: Storage) -> str:
    """A new random token for a new database: its hash stored, the token returned to print once."""
    token = secrets.token_urlsafe(24)
    with storage.write() as tx:
        tx.setting_set(SETTING, digest(token).hex())
    return token


def stored_digest(storage: Storage) -> bytes | None:
    """The digest kept in the database, or None (a database made before tokens were, or never)."""
    with storage.read() as tx:
        kept = tx.setting_get(SETTING)
    return None if kept is None else bytes.fromhex(kept)
