"""The whole state at once (contract test-portal.md T3, T4): snapshots saved, listed, deleted and
restored, and ``reset --all``. One transaction each, through the runner; the HTTP surface
(admin/snapshots.py, admin/reset.py) and the command line (cli/admin.py) both call these.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

from b24local.auth.webhooks import make_first_user
from b24local.storage.base import SnapshotInfo, Storage, Transaction
from b24local.storage.runner import run

#: What a snapshot may be called: it names it in URLs and on the command line as it is.
NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
NAME_RULE = "A snapshot name is 1 to 64 letters, digits, '_', '.' or '-'"


def valid_name(name: object) -> bool:
    return isinstance(name, str) and NAME.fullmatch(name) is not None


def save(storage: Storage, name: str) -> tuple[SnapshotInfo, bool]:
    """Save the state as ``name``; (the snapshot, True when it replaced one of that name)."""
    taken_at = time.time()
    return run(storage, True, lambda tx: tx.snapshot_save(name, taken_at))


def listing(storage: Storage) -> list[SnapshotInfo]:
    return run(storage, False, lambda tx: tx.snapshots())


def delete(storage: Storage, name: str) -> bool:
    return run(storage, True, lambda tx: tx.snapshot_delete(name))


def restore(storage: Storage, name: str) -> bool:
    """The state of the snapshot ``name`` back, next ids included, and the request journal emptied
    as by any reset (T3); False when there is none."""

    def restore_and_forget(tx: Transaction) -> bool:
        found = tx.snapshot_restore(name)
        if found:
            tx.journal_clear()
        return found

    return run(storage, True, restore_and_forget)


def reset_all(storage: Storage, code: str | None) -> str:
    """Every state table emptied, then user 1 and its crm webhook made as on a new database, with
    ``code`` (``serve --webhook-code``) or a random one: the code, to be shown once."""

    def clear_and_bootstrap(tx: Transaction) -> str:
        tx.state_clear()
        tx.journal_clear()
        return make_first_user(tx, code)

    return run(storage, True, clear_and_bootstrap)


def described(info: SnapshotInfo) -> dict[str, Any]:
    """A snapshot as the surface shows it: name, time (ISO 8601, UTC) and rows per table."""
    moment = datetime.fromtimestamp(info.taken_at, UTC).isoformat(timespec="milliseconds")
    return {"name": info.name, "time": moment, "counts": info.counts}
