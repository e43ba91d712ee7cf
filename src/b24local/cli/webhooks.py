"""Webhooks on the command line: ``webhook create|list|disable|delete``, and what ``serve`` does for
them at start: user 1 and its webhook on a new database, the webhook of ``--webhook-code`` (T6), and
the base URL it records so that ``webhook create`` prints URLs of the running server.
"""

from __future__ import annotations

import argparse
import hmac
from urllib.parse import urlsplit

from b24local.auth.webhooks import FIRST_SCOPES, hash_secret, make_first_user, new_code
from b24local.cli.flags import CliError
from b24local.config import Config, database_url
from b24local.storage.base import Storage, UserStore
from b24local.storage.open import open_storage

DEFAULT_SCOPES = FIRST_SCOPES
#: The setting (migration 10) where ``serve`` keeps the base URL it listens on.
BASE_URL = "base_url"
#: Where ``webhook create`` points before any ``serve`` ran on the database.
FALLBACK_BASE_URL = Config().base_url


def bootstrap(storage: Storage, base_url: str, code: str | None = None) -> tuple[str | None, bool]:
    """At a server's start: records ``base_url``; on an empty database makes user 1 (an administrator)
    and a crm webhook for it, with ``code`` or a random one; on another, makes sure user 1 has an
    active crm webhook with ``code`` when one is given. Returns (the code to print, database was new)."""
    with storage.write() as tx:
        tx.setting_set(BASE_URL, base_url)
        if tx.user_count() == 0:
            return make_first_user(tx, code), True
        if code is not None:
            _ensure_webhook(tx, code)
        return code, False


def _ensure_webhook(tx: UserStore, code: str) -> None:
    """User 1 ends with exactly one webhook with ``code``, active and with scope crm (a disabled one,
    or one of other scopes, is replaced: the command line says what the code must open)."""
    if tx.user_get(1) is None:
        raise CliError("--webhook-code: this database has no user 1 to give the webhook to")
    presented = hash_secret(code)
    same = [h for h in tx.webhooks_of_user(1) if hmac.compare_digest(h.code_hash, presented)]
    if len(same) == 1 and same[0].active and "crm" in same[0].scopes:
        return
    for hook in same:
        tx.webhook_delete(hook.id)
    tx.webhook_add(1, presented, DEFAULT_SCOPES)


def printed_base_url(recorded: str | None, host: str | None, port: int | None) -> str:
    """The base URL ``webhook create`` prints: the one the last ``serve`` recorded (else
    http://127.0.0.1:8000), with ``--host``/``--port`` put in when given."""
    parts = urlsplit(recorded or FALLBACK_BASE_URL)
    if host is None and port is None:
        return f"{parts.scheme}://{parts.netloc}"
    return Config(
        host=host or parts.hostname or "127.0.0.1",
        port=port or parts.port or 8000,
        tls=parts.scheme == "https",
    ).base_url


def webhook_create(args: argparse.Namespace) -> int:
    storage = open_storage(database_url(args.database))
    try:
        code = args.code or new_code()
        with storage.write() as tx:
            if tx.user_get(args.user) is None:
                if tx.user_count() == 0:
                    raise CliError(
                        f"no user with id {args.user}: the database has no users yet; 'b24local serve' "
                        "creates user 1 (an administrator) on its first start, 'b24local user create' "
                        "makes one now"
                    )
                raise CliError(f"no user with id {args.user}")
            tx.webhook_add(args.user, hash_secret(code), args.scope)
            base_url = printed_base_url(tx.setting_get(BASE_URL), args.host, args.port)
    finally:
        storage.close()
    print(f"{base_url}/rest/{args.user}/{code}/")
    return 0


def webhook_list(args: argparse.Namespace) -> int:
    """One line per webhook: id, user, scopes, state; never the code (only its hash is kept)."""
    storage = open_storage(database_url(args.database))
    try:
        with storage.read() as tx:
            hooks = tx.webhooks_all()
    finally:
        storage.close()
    print("ID\tUSER\tSCOPE\tSTATE")
    for hook in hooks:
        state = "active" if hook.active else "disabled"
        print(f"{hook.id}\t{hook.user_id}\t{','.join(sorted(hook.scopes))}\t{state}")
    return 0


def webhook_revoke(args: argparse.Namespace) -> int:
    """``webhook disable`` / ``webhook delete``: the webhook of ``--user`` whose code is ``--code``."""
    storage = open_storage(database_url(args.database))
    try:
        presented = hash_secret(args.code)
        with storage.write() as tx:
            found = [h for h in tx.webhooks_of_user(args.user) if hmac.compare_digest(h.code_hash, presented)]
            if not found:
                raise CliError(f"user {args.user} has no webhook with that code")
            for hook in found:
                if args.action == "delete":
                    tx.webhook_delete(hook.id)
                else:
                    tx.webhook_set_active(hook.id, False)
    finally:
        storage.close()
    print(f"Webhook {found[0].id} of user {args.user} {args.action}d.")
    return 0


WEBHOOK_COMMANDS = {
    "create": webhook_create,
    "list": webhook_list,
    "disable": webhook_revoke,
    "delete": webhook_revoke,
}
