"""Incoming webhooks (contract protocol.md W1, W6): ``/rest/{user_id}/{code}/{method}``."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

from b24local.auth.context import AuthContext
from b24local.auth.login_cache import UNKNOWN, LoginCache
from b24local.protocol.errors import invalid_credentials
from b24local.storage.base import User, UserStore, Webhook

CODE_ALPHABET = string.ascii_lowercase + string.digits


def new_code(length: int = 16) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def hash_secret(secret: str) -> str:
    """Webhook codes are random and long: one SHA-256 is enough to keep them unreadable at rest."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


#: The scopes of the webhook a new database gets for user 1.
FIRST_SCOPES = ("crm",)


def make_first_user(tx: UserStore, code: str | None = None) -> str:
    """What a new database gets: user 1 (an administrator) and a crm webhook for it, with ``code`` or
    a random one (returned, to be shown once). The caller made sure there are no users yet."""
    user_id = tx.user_add("Admin", "", True)
    code = code or new_code()
    tx.webhook_add(user_id, hash_secret(code), FIRST_SCOPES)
    return code


def authenticate(tx: UserStore, user_id: int, code: str, cache: LoginCache | None = None) -> AuthContext:
    """The context of a webhook call, or 401 INVALID_CREDENTIALS for any wrong, disabled or missing pair.

    ``cache``: the server's logins (keyed by the code as presented, which the request path holds in
    memory anyway; nothing is written anywhere). The epoch is read before the logins, so that a
    context is never kept under an epoch newer than the rows it was worked out from.
    """
    if cache is None:
        ctx = _context(tx.webhook_logins(user_id), hash_secret(code))
    else:
        cache.invalidate(tx.auth_epoch())
        kept = cache.get(user_id, code)
        if kept is UNKNOWN:
            ctx = _context(tx.webhook_logins(user_id), hash_secret(code))
            cache.put(user_id, code, ctx)
        else:
            ctx = kept
    if ctx is None:
        raise invalid_credentials(_refusal(tx.webhook_logins(user_id), hash_secret(code), user_id))
    return ctx


def _refusal(logins: list[tuple[Webhook, User]], presented: str, user_id: int) -> str:
    """Why the pair was refused, for the journal (never the code); read again only after a refusal."""
    if not logins:
        return f"user {user_id} has no webhook" if user_id < 2**63 - 1 else "no such user"
    for hook, owner in logins:
        if hmac.compare_digest(hook.code_hash, presented):
            if not hook.active:
                return f"webhook {hook.id} of user {user_id} is disabled"
            if not owner.active:
                return f"user {user_id} is inactive"
    return f"no webhook of user {user_id} has this code"


def _context(logins: list[tuple[Webhook, User]], presented: str) -> AuthContext | None:
    found = None
    for hook, owner in logins:
        # Every candidate is compared, in constant time, whatever matched before.
        if hmac.compare_digest(hook.code_hash, presented) and hook.active:
            found = (hook, owner)
    if found is None:
        return None
    match, user = found
    if not user.active:
        return None
    return AuthContext(
        user_id=user.id,
        is_admin=user.is_admin,
        scopes=match.scopes,
        credential_kind="webhook",
        credential_id=match.id,
        crm_access=user.crm_access,
    )
