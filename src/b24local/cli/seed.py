"""``b24local seed FILE``, ``b24local export [FILE]`` and ``serve --seed FILE`` (contract T5).

A seed is checked whole and written in one transaction, or refused with the path of its first error
and nothing written; an export writes the whole state (secrets as hashes only). Both show a progress
bar on a terminal from 10,000 records on (progress.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from b24local.cli.flags import CliError
from b24local.cli.progress import MigrationBar, Progress
from b24local.config import database_url
from b24local.crm import seed as seeding
from b24local.storage.base import Storage
from b24local.storage.open import open_storage
from b24local.storage.runner import run


def read_document(path: str) -> dict[str, list[Any]]:
    """The seed document in file ``path`` (YAML for .yaml/.yml, else JSON)."""
    try:
        text = Path(path).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return seeding.parse(text, seeding.format_of(path))
    except seeding.SeedError as error:
        raise CliError(f"{path}: seed refused, nothing written: {error}") from None


def apply(storage: Storage, doc: dict[str, list[Any]], path: str) -> dict[str, int]:
    """The document in one write transaction, with a progress bar; its counts per list."""
    with Progress("Seeding", seeding.record_count(doc)) as bar:
        try:
            return run(storage, True, lambda tx: seeding.seed(tx, doc, bar.tick))
        except seeding.SeedError as error:
            raise CliError(f"{path}: seed refused, nothing written: {error}") from None


def counts_line(counts: dict[str, int]) -> str:
    return "Seeded: " + (", ".join(f"{name} {count}" for name, count in counts.items()) or "nothing")


def seed_command(args: argparse.Namespace) -> int:
    doc = read_document(args.file)
    storage = open_storage(database_url(args.database), migration_progress=MigrationBar())
    try:
        counts = apply(storage, doc, args.file)
    finally:
        storage.close()
    print(counts_line(counts))
    return 0


def export_command(args: argparse.Namespace) -> int:
    fmt: seeding.Format = args.format or seeding.format_of(args.file)
    storage = open_storage(database_url(args.database), migration_progress=MigrationBar())
    try:
        with Progress("Exporting", run(storage, False, seeding.export_count)) as bar:
            doc = run(storage, False, lambda tx: seeding.export(tx, bar.tick))
    finally:
        storage.close()
    payload = seeding.dump(doc, fmt)
    if args.file is None or args.file == "-":
        sys.stdout.buffer.write(payload)
        sys.stdout.flush()
        return 0
    try:
        Path(args.file).write_bytes(payload)
    except OSError as exc:
        raise CliError(f"cannot write {args.file}: {exc.strerror or exc}") from None
    return 0


def seed_at_start(storage: Storage, path: str) -> tuple[str, bool]:
    """``serve --seed FILE``: applied to an empty database (no user, no record), before user 1 and its
    webhook are made (a seed with users has its own); on any other it is skipped, so that a restart
    over the same data (a container with its volume) starts as before. The line ``serve`` prints
    about it, and whether the database was empty."""
    doc = read_document(path)
    if not run(storage, False, seeding.is_empty):
        return f"--seed {path}: the database is not empty; the seed was not applied", False
    return f"--seed {path}: {counts_line(apply(storage, doc, path))}", True
