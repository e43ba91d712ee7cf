"""The benchmark data: N leads, N deals, 5 N contacts, 5 bindings per lead, user 1 and a webhook with a
known code.

The same rows go into SQLite (a file made through the project's own migration, filled with
``executemany`` in one transaction without a journal, cached under bench/results/cache/) and into
PostgreSQL (a database made through ``open_storage``, which migrates it, filled with COPY in one
transaction with the foreign-key triggers off, then VACUUM ANALYZE; then saved with ``pg_dump`` in the
same cache, which ``pg_restore`` loads faster than generating again).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from bench.common import CACHE, CONTACTS_PER_LEAD, WEBHOOK_CODE, WEBHOOK_USER

GENERATOR_VERSION = 2  # bump when the generated data changes, to invalidate the cache

FIRST_NAMES = ("Anna", "Boris", "Clara", "Dmitri", "Elena", "Fyodor", "Galina", "Igor", "Julia", "Kirill")
LAST_NAMES = ("Ivanova", "Petrov", "Smirnova", "Kuznetsov", "Popova", "Volkov", "Sokolova", "Lebedev")

LEAD_COLUMNS = (
    "id, title, name, last_name, status_id, status_semantic_id, source_id, currency_id, opportunity, "
    "is_manual_opportunity, opened, has_phone, has_email, has_imol, assigned_by_id, created_by_id, "
    "modify_by_id, date_create, date_modify, is_return_customer"
)
CONTACT_COLUMNS = (
    "id, name, last_name, type_id, source_id, opened, export, has_phone, has_email, has_imol, "
    "assigned_by_id, created_by_id, modify_by_id, date_create, date_modify"
)
BINDING_COLUMNS = "lead_id, contact_id, sort, role_id, is_primary"
DEAL_COLUMNS = (
    "id, title, type_id, category_id, stage_id, stage_semantic_id, is_new, currency_id, opportunity, "
    "opened, closed, assigned_by_id, created_by_id, modify_by_id, date_create, date_modify"
)
#: The default pipeline's stages the deals are spread over, with their semantics.
DEAL_STAGES = (("NEW", "P"), ("PREPARATION", "P"), ("EXECUTING", "P"), ("WON", "S"), ("LOSE", "F"))


def original_contacts(lead: int) -> list[int]:
    """The contacts the generator binds to ``lead``, in SORT order (the first is primary)."""
    first = (lead - 1) * CONTACTS_PER_LEAD + 1
    return list(range(first, first + CONTACTS_PER_LEAD))


def _leads(n: int, now: int) -> Iterator[tuple[Any, ...]]:
    for i in range(1, n + 1):
        yield (
            i,
            f"Lead #{i}",
            FIRST_NAMES[i % len(FIRST_NAMES)],
            LAST_NAMES[i % len(LAST_NAMES)],
            "NEW",
            "P",
            "WEB",
            "USD",
            float(i % 1000) * 10.0,
            "N",
            "Y",
            "N",
            "N",
            "N",
            1,
            1,
            1,
            now - (n - i),
            now - (n - i),
            "N",
        )


def _contacts(n: int, now: int) -> Iterator[tuple[Any, ...]]:
    for i in range(1, n + 1):
        yield (
            i,
            FIRST_NAMES[i % len(FIRST_NAMES)],
            LAST_NAMES[(i // 3) % len(LAST_NAMES)],
            "CLIENT",
            "WEB",
            "Y",
            "Y",
            "N",
            "N",
            "N",
            1,
            1,
            1,
            now - (n - i),
            now - (n - i),
        )


def _deals(n: int, now: int) -> Iterator[tuple[Any, ...]]:
    for i in range(1, n + 1):
        stage, semantic = DEAL_STAGES[i % len(DEAL_STAGES)]
        closed = "N" if semantic == "P" else "Y"
        new = "Y" if stage == "NEW" else "N"
        amount = float(i % 1000) * 10.0
        yield (i, f"Deal #{i}", "SALE", 0, stage, semantic, new, "USD", amount, "Y", closed, 1, 1, 1,
               now - (n - i), now - (n - i))  # fmt: skip


def _bindings(n_leads: int) -> Iterator[tuple[int, int, int, int, str]]:
    for lead in range(1, n_leads + 1):
        for k, contact in enumerate(original_contacts(lead)):
            yield (lead, contact, (k + 1) * 10, 0, "Y" if k == 0 else "N")


def _placeholders(columns: str) -> str:
    return ", ".join("?" for _ in columns.split(","))


# ---------------------------------------------------------------------------------------------------
# SQLite


def _schema_hash(backend: str = "sqlite") -> str:
    folder = resources.files("b24local.storage.migrations") / backend
    digest = hashlib.sha256(str(GENERATOR_VERSION).encode())
    for item in sorted(folder.iterdir(), key=lambda i: i.name):
        if item.name.endswith(".sql"):
            digest.update(item.name.encode())
            digest.update(item.read_bytes())
    return digest.hexdigest()[:10]


def remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def generate_sqlite(path: Path, n_leads: int) -> None:
    """A database at ``path`` with the schema of the project's migrations and the benchmark data."""
    from b24local.auth.webhooks import hash_secret
    from b24local.storage.sqlite import SqliteStorage

    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    remove_sqlite(tmp)
    SqliteStorage(f"sqlite:///{tmp}").close()  # the schema, through the project's own migration
    conn = sqlite3.connect(tmp, isolation_level=None)
    try:
        # Bulk load without a journal, then back to the WAL mode the server expects.
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -200000")
        now = int(time.time())
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO b_user (id, name, last_name, is_admin, active, crm_access) "
            "VALUES (1, 'Admin', '', 1, 1, 1)"
        )
        conn.execute(
            "INSERT INTO webhook (user_id, code_hash, scope, active) VALUES (?, ?, 'crm', 1)",
            (WEBHOOK_USER, hash_secret(WEBHOOK_CODE)),
        )
        for table, columns, rows in (
            ("crm_lead", LEAD_COLUMNS, _leads(n_leads, now)),
            ("crm_contact", CONTACT_COLUMNS, _contacts(n_leads * CONTACTS_PER_LEAD, now)),
            ("crm_lead_contact", BINDING_COLUMNS, _bindings(n_leads)),
            ("crm_deal", DEAL_COLUMNS, _deals(n_leads, now)),
        ):
            conn.executemany(f"INSERT INTO {table} ({columns}) VALUES ({_placeholders(columns)})", rows)
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()
    remove_sqlite(path)
    tmp.rename(path)


def cached_sqlite(n_leads: int, regenerate: bool) -> tuple[Path, float | None]:
    """The pristine SQLite database for ``n_leads`` and how long generating it took (None: cached)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"leads-{n_leads}-{_schema_hash()}.db"
    if path.exists() and not regenerate:
        return path, None
    for old in CACHE.glob(f"leads-{n_leads}-*.db"):
        remove_sqlite(old)
    contacts = n_leads * CONTACTS_PER_LEAD
    print(f"generating SQLite: {n_leads:,} leads and deals, {contacts:,} contacts → {path.name} ...")
    started = time.perf_counter()
    generate_sqlite(path, n_leads)
    return path, time.perf_counter() - started


# ---------------------------------------------------------------------------------------------------
# PostgreSQL


def generate_postgres(url: str, n_leads: int) -> float:
    """Fills the empty database at ``url`` (schema through ``open_storage``); the seconds it took."""
    import psycopg

    from b24local.auth.webhooks import hash_secret
    from b24local.storage.open import open_storage

    started = time.perf_counter()
    open_storage(url).close()  # the schema, through the project's own migrations
    now = int(time.time())
    with psycopg.connect(url) as conn:  # one transaction, committed on leaving the block
        # The rows are consistent by construction: no per-row foreign-key trigger (superuser only).
        conn.execute("SET session_replication_role = replica")
        conn.execute(
            "INSERT INTO b_user (id, name, last_name, is_admin, active, crm_access) "
            "VALUES (1, 'Admin', '', 1, 1, 1)"
        )
        conn.execute(
            "INSERT INTO webhook (user_id, code_hash, scope, active) VALUES (%s, %s, 'crm', 1)",
            (WEBHOOK_USER, hash_secret(WEBHOOK_CODE)),
        )
        with conn.cursor() as cur:
            for table, columns, rows in (
                ("crm_lead", LEAD_COLUMNS, _leads(n_leads, now)),
                ("crm_contact", CONTACT_COLUMNS, _contacts(n_leads * CONTACTS_PER_LEAD, now)),
                ("crm_lead_contact", BINDING_COLUMNS, _bindings(n_leads)),
                ("crm_deal", DEAL_COLUMNS, _deals(n_leads, now)),
            ):
                with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        # Explicit ids do not move the identity sequences: a later add must not collide.
        for table in ("b_user", "crm_lead", "crm_contact", "crm_deal"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")
    _vacuum(url)
    return time.perf_counter() - started


def _vacuum(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
        conn.execute("CHECKPOINT")


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{Path(argv[0]).name} failed ({done.returncode}): {done.stdout}{done.stderr}")


def cached_postgres(url: str, n_leads: int, bindir: Path, regenerate: bool) -> tuple[float, str]:
    """Fills the empty database at ``url``: from the cached ``pg_dump`` archive for ``n_leads`` if there
    is one, else by generating (and then archiving) it. The seconds it took and how ("restored",
    "generated"); archiving is not counted."""
    CACHE.mkdir(parents=True, exist_ok=True)
    archive = CACHE / f"pg-leads-{n_leads}-{_schema_hash('postgres')}.dump"
    if archive.exists() and not regenerate:
        started = time.perf_counter()
        # The client tools run as this user: only the cluster's server processes need another one.
        _run([str(bindir / "pg_restore"), "--no-owner", "--jobs", "2", "--dbname", url, str(archive)])
        _vacuum(url)
        return time.perf_counter() - started, "restored"
    for old in CACHE.glob(f"pg-leads-{n_leads}-*.dump"):
        old.unlink()
    took = generate_postgres(url, n_leads)
    tmp = archive.with_name(f"{archive.name}.{os.getpid()}.tmp")
    _run([str(bindir / "pg_dump"), "--format", "custom", "--compress", "1", "--file", str(tmp), url])
    tmp.rename(archive)
    return took, "generated"
