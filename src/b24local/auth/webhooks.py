"""Incoming webhooks (contract protocol.md W1, W6): ``/rest/{user_id}/{code}/{method}``."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

from b24local.auth.context import AuthContext
from b24local.protocol.errors import invalid_credentials
from b24local.storage.base import Transaction, User, Webhook

CODE_ALPHABET = string.ascii_lowercase + string.digits


def new_code(length: int = 16) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def hash_secret(secret: str) -> str:
    """Webhook codes are random and long: one SHA-256 is enough to keep them unreadable at rest."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


#: Contexts already worked out, by (user id, code presented): valid while the storage hands back the
#: very same logins list (it keeps one per user until a user or webhook changes). Keyed by the code as
#: presented, which the parsed request path holds in memory anyway, so that a known caller costs no
#: hashing; nothing here is written anywhere.
_CONTEXTS: dict[tuple[int, str], tuple[list[tuple[Webhook, User]], AuthContext | None]] = {}
_CONTEXTS_KEPT = 1024


def authenticate(tx: Transaction, user_id: int, code: str) -> AuthContext:
    """The context of a webhook call, or 401 INVALID_CREDENTIALS for any wrong, disabled or missing pair."""
    logins = tx.webhook_logins(user_id)
    key = (user_id, code)
    kept = _CONTEXTS.get(key)
    if kept is not None and kept[0] is logins:
        ctx = kept[1]
    else:
        ctx = _context(logins, hash_secret(code))
        if len(_CONTEXTS) >= _CONTEXTS_KEPT:
            _CONTEXTS.clear()
        _CONTEXTS[key] = (logins, ctx)
    if ctx is None:
        raise invalid_credentials()
    return ctx


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
