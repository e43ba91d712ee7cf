"""Portal limits (contract protocol.md T1–T2, ../b24-docs/limits.md), chosen with ``serve --limits``.

- T1, request intensity: one leaky bucket per portal. Every request to
  ``/rest/`` fills it by one, a ``batch`` included (B5); it drains continuously at ``drain`` requests a
  second. A request that would take it above ``capacity`` is refused with 503 ``QUERY_LIMIT_EXCEEDED``
  and adds nothing, so a client that backs off gets through again at the drain rate.
- T2, operating time: per (webhook or app, method), the seconds the method ran, summed in one-minute
  baskets kept ten minutes from each basket's first call. A call is refused with 429
  ``OPERATION_TIME_LIMIT`` while the sum already exceeds the limit; it runs (and may end above the limit)
  otherwise. ``batch`` itself is not accounted; each of its commands counts for its own method.

Operating time is measured in every profile, ``off`` included (one dict lookup per call), so
``time.operating`` and ``time.operating_reset_at`` are always real; ``off`` only never refuses.

Where the bucket and the baskets live (auth/limit_state.py): with a profile on, in the database that
every server process shares, or in Redis with ``serve --redis URL``, so that N processes are one
portal; with limits off, in each process's memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from b24local import clock
from b24local.auth.context import AuthContext
from b24local.auth.limit_state import ROUNDING, Key, LimitState, MemoryState, Usage
from b24local.protocol.envelope import CURRENT_TIMING
from b24local.protocol.errors import ApiError

if TYPE_CHECKING:
    from b24local.storage.base import LimitStore, Storage


@dataclass(frozen=True, slots=True)
class Profile:
    capacity: int  # X: requests the bucket holds before refusing
    drain: float  # Y: requests a second the bucket empties by
    operating_limit: float  # seconds of one method's operating time per credential in the window


#: ``enterprise`` takes the same operating limit as ``standard``: the documentation gives one cloud
#: value (480 s) and does not vary it by plan.
PROFILES = {
    "standard": Profile(capacity=50, drain=2.0, operating_limit=480.0),
    "enterprise": Profile(capacity=250, drain=5.0, operating_limit=480.0),
}
CHOICES = ("off", *PROFILES)


def query_limit_exceeded(why: str | None = None) -> ApiError:
    return ApiError(503, "QUERY_LIMIT_EXCEEDED", "Too many requests", why=why)


def operation_time_limit(why: str | None = None) -> ApiError:
    return ApiError(429, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.", why=why)


class Limits:
    """The limits of one server: the dispatcher runs :meth:`check` and :meth:`record` around every
    method call (its ``CallLimits`` step, wired by app.py).

    ``shared``: with a profile on, keep the state where every server process sees it (Redis when
    ``redis_url`` is given, else the server's database), chosen by :meth:`connect`; otherwise (and
    with limits off) in this process's memory.
    """

    def __init__(
        self,
        profile: str = "off",
        *,
        operating_limit: float | None = None,
        now: Callable[[], float] = clock.now,
        shared: bool = False,
        redis_url: str | None = None,
    ) -> None:
        if profile not in CHOICES:
            raise ValueError(f"unknown limits profile {profile!r}")
        chosen = PROFILES.get(profile)
        self.profile = profile
        self.now = now
        #: (capacity, drain) of the request bucket, None with limits off.
        self.bucket = (chosen.capacity, chosen.drain) if chosen else None
        self.shared = shared and chosen is not None
        self.redis_url = redis_url
        self.state: LimitState = MemoryState()
        #: None: operating time is measured but never refuses a call.
        self.operating_limit: float | None = None
        if chosen is not None:
            self.operating_limit = chosen.operating_limit if operating_limit is None else operating_limit

    def admit(self) -> None:
        """T1, once per HTTP request to ``/rest/``."""
        bucket = self.bucket
        if bucket is not None and not self.state.take(bucket[0] + ROUNDING, bucket[1], self.now()):
            capacity, drain = bucket
            raise query_limit_exceeded(
                f"the request bucket of --limits {self.profile} is full: it holds {capacity} requests "
                f"and drains {drain:g} a second"
            )

    @staticmethod
    def key(ctx: AuthContext, method_name: str) -> Key:
        return (ctx.credential_kind, ctx.credential_id, method_name)

    def usage(self, key: Key, tx: LimitStore | None = None) -> Usage:
        """(operating seconds now, when the oldest basket stops counting) for ``key``."""
        return self.state.usage(key, self.now(), tx)

    def check(self, ctx: AuthContext, method_name: str, tx: LimitStore | None = None) -> None:
        """T2, before a method runs (inside the call's transaction)."""
        limit = self.operating_limit
        if limit is None:
            return
        used = self.usage(self.key(ctx, method_name), tx)[0]
        if used > limit:
            raise operation_time_limit(
                f"{method_name} ran {used:.1f} s for {ctx.credential()} in the last 10 minutes, "
                f"above the limit of {limit:g} s"
            )

    def record(self, ctx: AuthContext, method_name: str, seconds: float) -> None:
        """After a method ran: account it and show it in the call's ``time``."""
        operating, reset_at = self.state.record(self.key(ctx, method_name), seconds, self.now())
        timing = CURRENT_TIMING.get()
        if timing is not None:
            timing.operating = operating
            timing.operating_reset_at = reset_at

    def connect(self, storage: Storage, lock_wait: float) -> None:
        """Use the server's storage for shared state (``lock_wait``: its bound on a busy database)."""
        if self.shared:
            self.state = self._shared_state(storage, lock_wait)

    def _shared_state(self, storage: Storage, lock_wait: float) -> LimitState:
        from b24local.auth.limit_state import DatabaseState, RedisState

        if self.redis_url is None:
            return DatabaseState(storage, lock_wait)
        with storage.read() as tx:
            portal = tx.oauth_member_id()
        return RedisState(self.redis_url, portal)
