"""``b24local snapshot save|list|restore|delete`` (contract test-portal.md T4) and the options of ``db
reset`` beyond the CRM data (``--all``, ``--to NAME``: T3); ``snapshot restore`` is ``db reset --to``.
Each opens the database and runs one transaction (admin/state.py)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from b24local.admin import state
from b24local.cli.flags import CliError, add_database, webhook_code
from b24local.config import database_url
from b24local.storage.base import SnapshotInfo, Storage
from b24local.storage.open import open_storage


def snapshot_name(text: str) -> str:
    if not state.valid_name(text):
        raise argparse.ArgumentTypeError(state.NAME_RULE)
    return text


def add_parsers(snapshot_commands: Any) -> None:
    """``snapshot save|restore|delete NAME`` and ``snapshot list``."""
    for action, text in (
        ("save", "save the whole state as NAME (replacing a snapshot of that name)"),
        ("restore", "restore the snapshot NAME (as db reset --to NAME)"),
        ("delete", "delete the snapshot NAME"),
    ):
        each = snapshot_commands.add_parser(action, help=text)
        add_database(each)
        each.add_argument("name", type=snapshot_name, metavar="NAME", help="the snapshot's name")
    add_database(snapshot_commands.add_parser("list", help="print every snapshot: name, time, counts"))


def add_reset_options(db_reset: argparse.ArgumentParser) -> None:
    """``db reset --all [--webhook-code CODE]`` and ``db reset --to NAME``."""
    what = db_reset.add_mutually_exclusive_group()
    what.add_argument(
        "--all",
        action="store_true",
        help="remove users, departments, roles, webhooks and apps too, then make user 1 and its crm "
        "webhook as on a new database and print its URL (default: the CRM data only)",
    )
    what.add_argument(
        "--to", type=snapshot_name, metavar="NAME", help="restore the snapshot NAME instead (default: none)"
    )
    db_reset.add_argument(
        "--webhook-code",
        type=webhook_code,
        metavar="CODE",
        help="with --all: the code of user 1's new webhook (default: $B24LOCAL_WEBHOOK_CODE, else random)",
    )


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
