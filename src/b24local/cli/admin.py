"""The admin commands of ``b24local``: db upgrade, app create, user create/update, department create,
role create/assign (the webhook commands are in webhooks.py). Each opens the database, changes it in one
transaction and prints what the user needs (an id, a URL, a secret).
"""

from __future__ import annotations

import argparse

from b24local.admin import state
from b24local.auth import oauth
from b24local.cli.flags import CliError
from b24local.cli.progress import MigrationBar
from b24local.cli.serve import webhook_code
from b24local.cli.snapshots import snapshot_restore
from b24local.cli.webhooks import BASE_URL, printed_base_url
from b24local.config import database_url
from b24local.crm.entities import DEAL
from b24local.crm.reset import reset_crm
from b24local.storage.open import open_storage
from b24local.storage.runner import run


def db_upgrade(args: argparse.Namespace) -> int:
    """``db upgrade``: opening a storage applies its pending migrations (a progress bar on a terminal);
    print what it did."""
    storage = open_storage(database_url(args.database), migration_progress=MigrationBar())
    try:
        applied = list(getattr(storage, "applied_migrations", []))
        version = getattr(storage, "schema_version", None)
        current = version() if callable(version) else None
    finally:
        storage.close()
    if applied:
        print(f"Applied migrations: {', '.join(str(v) for v in applied)}")
    else:
        print("No pending migrations.")
    if current is not None:
        print(f"Schema version: {current}")
    return 0


def db_reset(args: argparse.Namespace) -> int:
    """``db reset``: every CRM record goes, ids start at 1 again; users and credentials stay (T3).
    ``--all``: everything goes, user 1 and its webhook are made again; ``--to NAME``: a snapshot."""
    if args.to is not None:
        return snapshot_restore(args)
    if args.webhook_code is not None and not args.all:
        raise CliError("--webhook-code goes with --all")
    storage = open_storage(database_url(args.database))
    try:
        # Through the runner: a writer holding a table it locks is a deadlock on PostgreSQL, run again.
        if args.all:
            code = state.reset_all(storage, webhook_code(args))
            with storage.read() as tx:
                base_url = printed_base_url(tx.setting_get(BASE_URL), None, None)
        else:
            run(storage, True, reset_crm)
    finally:
        storage.close()
    if args.all:
        print("Removed everything; created user 1 (administrator) and a webhook with scope crm:")
        print(f"{base_url}/rest/1/{code}/")
    else:
        print("Removed every CRM record, binding and multifield; ids start at 1 again.")
    return 0


def app_create(args: argparse.Namespace) -> int:
    """``app create``: prints ``client_id: …`` and ``client_secret: …`` (the secret is stored hashed)."""
    if not args.name.strip():
        raise CliError("--name must not be empty")
    storage = open_storage(database_url(args.database))
    try:
        with storage.write() as tx:
            client_id, secret = oauth.create_app(tx, args.name.strip(), args.scope, args.redirect_uri)
    finally:
        storage.close()
    print(f"client_id: {client_id}")
    print(f"client_secret: {secret}")
    return 0


def user_create(args: argparse.Namespace) -> int:
    if not args.name.strip():
        raise CliError("--name must not be empty")
    storage = open_storage(database_url(args.database))
    try:
        with storage.write() as tx:
            user_id = tx.user_add(args.name, args.last_name, args.admin, not args.no_crm_access)
    finally:
        storage.close()
    print(user_id)
    return 0


def user_update(args: argparse.Namespace) -> int:
    changes: dict[str, object] = {}
    for name, value in (
        ("name", args.name),
        ("last_name", args.last_name),
        ("is_admin", args.admin),
        ("active", args.active),
        ("crm_access", args.crm_access),
    ):
        if value is not None:
            changes[name] = value
    if args.name is not None and not args.name.strip():
        raise CliError("--name must not be empty")
    departments = [] if args.no_department else args.department
    if not changes and departments is None:
        raise CliError("nothing to change")
    storage = open_storage(database_url(args.database))
    try:
        with storage.write() as tx:
            if tx.user_get(args.id) is None:
                raise CliError(f"no user with id {args.id}")
            for department_id in departments or ():
                if not tx.department_exists(department_id):
                    raise CliError(f"no department with id {department_id}")
            tx.user_update(args.id, changes)
            if departments is not None:
                tx.user_departments_set(args.id, departments)
    finally:
        storage.close()
    return 0


def department_create(args: argparse.Namespace) -> int:
    if not args.name.strip():
        raise CliError("--name must not be empty")
    storage = open_storage(database_url(args.database))
    try:
        with storage.write() as tx:
            if args.parent is not None and not tx.department_exists(args.parent):
                raise CliError(f"no department with id {args.parent}")
            department_id = tx.department_add(args.name, args.parent)
    finally:
        storage.close()
    print(department_id)
    return 0


def role_create(args: argparse.Namespace) -> int:
    if not args.name.strip():
        raise CliError("--name must not be empty")
    levels: dict[tuple[str, str], int] = {}
    for triples in args.perm:  # a later --perm overrides an earlier one for the same pair
        for entity, action, level in triples:
            levels[(entity, action)] = int(level)
    storage = open_storage(database_url(args.database))
    try:
        with storage.write() as tx:
            role_id = tx.role_add(args.name, levels)
    finally:
        storage.close()
    print(role_id)
    return 0


def role_assign(args: argparse.Namespace) -> int:
    storage = open_storage(database_url(args.database))
    try:
        with storage.write() as tx:
            if not tx.role_exists(args.role):
                raise CliError(f"no role with id {args.role}")
            if args.user is not None:
                if tx.user_get(args.user) is None:
                    raise CliError(f"no user with id {args.user}")
                tx.role_assign(args.role, user_id=args.user)
            else:
                if not tx.department_exists(args.department):
                    raise CliError(f"no department with id {args.department}")
                tx.role_assign(args.role, department_id=args.department)
    finally:
        storage.close()
    return 0


def pipeline_create(args: argparse.Namespace) -> int:
    """A deal pipeline (its stages: the default pipeline's with the prefix "C<id>:")."""
    if not args.name.strip():
        raise CliError("--name must not be empty")
    storage = open_storage(database_url(args.database))
    try:
        with storage.write() as tx:
            pipeline_id = tx.pipeline_add(DEAL, args.name)
    finally:
        storage.close()
    print(pipeline_id)
    return 0


USER_COMMANDS = {
    ("user", "create"): user_create,
    ("user", "update"): user_update,
    ("department", "create"): department_create,
    ("role", "create"): role_create,
    ("role", "assign"): role_assign,
    ("pipeline", "create"): pipeline_create,
}
