"""Webhook logins a server process has worked out, valid for one auth epoch.

Every change of a user or a webhook moves the database's auth epoch on (triggers, in the same
transaction), so a context worked out at one epoch holds as long as the epoch stays: a known caller
then costs one dict lookup, no hashing. The backend tells the epoch (``Transaction.auth_epoch``); the
cache forgets everything when it moves. One cache per server (per storage): epochs of different
databases say nothing about each other.
"""

from __future__ import annotations

from enum import Enum
from typing import Final, Literal

from b24local.auth.context import AuthContext


class _Unknown(Enum):
    UNKNOWN = "unknown"


#: What :meth:`LoginCache.get` answers for a login it has not worked out at this epoch.
UNKNOWN: Final = _Unknown.UNKNOWN


class LoginCache:
    """Contexts by (user id, code as presented); ``None``: the pair does not log in."""

    def __init__(self, kept: int = 1024) -> None:
        self.kept = kept  # all are dropped when it is full: a server has few webhooks
        self.epoch: int | None = None
        self._contexts: dict[tuple[int, str], AuthContext | None] = {}

    def invalidate(self, epoch: int) -> None:
        """The epoch the calling transaction sees: forget what was worked out at another one."""
        if epoch != self.epoch:
            self._contexts.clear()
            self.epoch = epoch

    def get(self, user_id: int, code: str) -> AuthContext | Literal[_Unknown.UNKNOWN] | None:
        """The context kept for the pair, ``None`` (kept as failing), or :data:`UNKNOWN`."""
        return self._contexts.get((user_id, code), UNKNOWN)

    def put(self, user_id: int, code: str, ctx: AuthContext | None) -> None:
        if len(self._contexts) >= self.kept:
            self._contexts.clear()
        self._contexts[(user_id, code)] = ctx
