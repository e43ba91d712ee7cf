"""The webhook-login cache (auth/login_cache.py): a login worked out once holds while the auth epoch
stays, and a change of a user or a webhook, through any connection, makes it work it out again."""

from __future__ import annotations

from pathlib import Path

import pytest

from b24local.auth.context import AuthContext
from b24local.auth.login_cache import UNKNOWN, LoginCache
from b24local.auth.webhooks import authenticate, hash_secret
from b24local.protocol.errors import ApiError
from b24local.storage.sqlite import SqliteStorage

CODE = "a1b2c3d4e5f6g7h8"


def login(storage: SqliteStorage, cache: LoginCache, user: int, code: str = CODE) -> AuthContext:
    with storage.read() as tx:
        return authenticate(tx, user, code, cache)


def test_a_change_of_a_webhook_is_seen_by_the_next_login(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    serving, cli = SqliteStorage(url), SqliteStorage(url)  # the CLI changes it from another process
    with cli.write() as tx:
        user = tx.user_add("Ann", "", False)
        hook = tx.webhook_add(user, hash_secret(CODE), ["crm", "user"])
    cache = LoginCache()
    expected = AuthContext(user, False, frozenset({"crm", "user"}), "webhook", hook)
    assert login(serving, cache, user) == expected
    epoch = cache.epoch
    assert cache.get(user, CODE) == expected  # kept: the next call costs a lookup
    assert cache.get(user, "wrong") is UNKNOWN
    assert login(serving, cache, user) == expected
    assert cache.epoch == epoch

    with cli.write() as tx:
        tx.webhook_set_active(hook, False)
    with pytest.raises(ApiError) as refused:
        login(serving, cache, user)
    assert (refused.value.status, refused.value.code) == (401, "INVALID_CREDENTIALS")
    assert cache.epoch == epoch + 1  # moved on by one (the update's trigger)
    assert cache.get(user, CODE) is None  # kept as failing, at the new epoch

    with cli.write() as tx:
        tx.webhook_set_active(hook, True)
    assert login(serving, cache, user) == expected
    assert cache.epoch == epoch + 2


def test_a_full_cache_starts_again() -> None:
    cache = LoginCache(kept=2)
    cache.invalidate(7)
    cache.put(1, "a", None)
    cache.put(2, "b", None)
    cache.put(3, "c", None)  # full: the others are dropped
    assert (cache.get(1, "a"), cache.get(2, "b"), cache.get(3, "c")) == (UNKNOWN, UNKNOWN, None)
    cache.invalidate(7)  # the same epoch: kept
    assert cache.get(3, "c") is None
    cache.invalidate(8)
    assert cache.get(3, "c") is UNKNOWN
