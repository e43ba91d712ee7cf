"""``b24local snapshot save|list|restore|delete`` (contract test-portal.md T4); ``restore`` is also
``db reset --to NAME``. Each opens the database and runs one transaction (admin/state.py)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from b24local.admin import state
from b24local.cli.parser import CliError
from b24local.config import database_url
from b24local.storage.base import SnapshotInfo, Storage
from b24local.storage.open import open_storage


def snapshot_save(args: argparse.Namespace) -> int:
    storage = open_storage(database_url(args.database))
    try:
        info, replaced = state.save(storage, args.name)
    finally:
        storage.close()
    print(f"{'Replaced' if replaced else 'Saved'} snapshot {info.name}: {_counts(info)}.")
    return 0


def snapshot_restore(args: argparse.Namespace) -> int:
    name = args.to if getattr(args, "to", None) is not None else args.name
    return _on_named(args.database, name, state.restore, "Restored")


def snapshot_delete(args: argparse.Namespace) -> int:
    return _on_named(args.database, args.name, state.delete, "Deleted")


def _on_named(database: str | None, name: str, act: Callable[[Storage, str], bool], done: str) -> int:
    """Restore or delete the snapshot ``name``: an error when there is none."""
    storage = open_storage(database_url(database))
    try:
        found = act(storage, name)
    finally:
        storage.close()
    if not found:
        raise CliError(f"no snapshot named {name}")
    print(f"{done} snapshot {name}.")
    return 0


def snapshot_list(args: argparse.Namespace) -> int:
    """One line per snapshot, ``NAME TIME COUNTS`` (tab-separated); counts of empty tables left out."""
    storage = open_storage(database_url(args.database))
    try:
        found = state.listing(storage)
    finally:
        storage.close()
    print("NAME\tTIME\tCOUNTS")
    for info in found:
        print(f"{info.name}\t{state.described(info)['time']}\t{_counts(info)}")
    return 0


def _counts(info: SnapshotInfo) -> str:
    shown = [f"{label} {n}" for label, n in info.counts.items() if n]
    return ", ".join(shown) or "empty"


SNAPSHOT_COMMANDS = {
    "save": snapshot_save,
    "list": snapshot_list,
    "restore": snapshot_restore,
    "delete": snapshot_delete,
}
