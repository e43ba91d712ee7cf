"""Portal limits (contract protocol.md T1–T2, ../b24-docs/limits.md), chosen with ``serve --limits``.

- T1, request intensity: one leaky bucket per portal (for now: per server process). Every request to
  ``/rest/`` fills it by one, a ``batch`` included (B5); it drains continuously at ``drain`` requests a
  second. A request that would take it above ``capacity`` is refused with 503 ``QUERY_LIMIT_EXCEEDED``
  and adds nothing, so a client that backs off gets through again at the drain rate.
- T2, operating time: per (webhook or app, method), the seconds the method ran, summed in one-minute
  baskets kept ten minutes from each basket's first call. A call is refused with 429
  ``OPERATION_TIME_LIMIT`` while the sum already exceeds the limit; it runs (and may end above the limit)
  otherwise. ``batch`` itself is not accounted; each of its commands counts for its own method.

Operating time is measured in every profile, ``off`` included (one dict lookup per call), so
``time.operating`` and ``time.operating_reset_at`` are always real; ``off`` only never refuses.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from b24local import clock
from b24local.auth.context import AuthContext
from b24local.methods.registry import Method
from b24local.protocol.envelope import CURRENT_TIMING
from b24local.protocol.errors import ApiError

if TYPE_CHECKING:
    from b24local.methods.dispatch import Dispatcher

#: How long a basket of operating time counts (seconds), and how long one basket collects.
WINDOW = 600
BASKET = 60


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


def query_limit_exceeded() -> ApiError:
    return ApiError(503, "QUERY_LIMIT_EXCEEDED", "Too many requests")


def operation_time_limit() -> ApiError:
    return ApiError(429, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.")


class LeakyBucket:
    def __init__(self, capacity: int, drain: float, now: Callable[[], float] = clock.now) -> None:
        self.capacity = capacity
        self.drain = drain
        self.now = now
        self.level = 0.0
        self.at: float | None = None

    def take(self) -> bool:
        """Admit one request (True) or refuse it (False, the bucket unchanged)."""
        now = self.now()
        level = self.level
        if self.at is not None and now > self.at:
            level = max(0.0, level - (now - self.at) * self.drain)
        self.level = level
        self.at = now if self.at is None else max(now, self.at)
        if level + 1 > self.capacity + 1e-6:  # Unix times as floats carry ~1e-7 s of rounding
            return False
        self.level = level + 1
        return True


Key = tuple[str, int, str]  # (credential kind, credential id, method)


class _Baskets:
    """One key's baskets ``[minute, first call, seconds]``, oldest first, and their sum."""

    __slots__ = ("items", "total")

    def __init__(self) -> None:
        self.items: deque[list[float]] = deque()
        self.total = 0.0

    def expire(self, now: float) -> None:
        items = self.items
        if items and items[0][1] + WINDOW <= now:
            while items and items[0][1] + WINDOW <= now:
                items.popleft()
            self.total = sum(b[2] for b in items)  # exact again, no drift from subtracting

    def usage(self, now: float) -> tuple[float, int]:
        if not self.items:
            return 0.0, math.ceil(now) + WINDOW
        return self.total, math.ceil(self.items[0][1] + WINDOW)


class OperatingMeter:
    """Operating time per key in one-minute baskets kept ten minutes from each basket's first call."""

    def __init__(self, now: Callable[[], float] = clock.now) -> None:
        self.now = now
        self.baskets: dict[Key, _Baskets] = {}

    def usage(self, key: Key) -> tuple[float, int]:
        """(operating seconds now, when the oldest basket stops counting) for ``key``."""
        now = self.now()
        baskets = self.baskets.get(key)
        if baskets is None:
            return 0.0, math.ceil(now) + WINDOW
        baskets.expire(now)
        return baskets.usage(now)

    def record(self, key: Key, seconds: float) -> tuple[float, int]:
        """Add a call's seconds; returns the usage after it."""
        now = self.now()
        baskets = self.baskets.get(key)
        if baskets is None:
            baskets = self.baskets[key] = _Baskets()
        else:
            baskets.expire(now)
        items = baskets.items
        minute = now // BASKET
        if items and items[-1][0] == minute:
            items[-1][2] += seconds
        else:
            items.append([minute, now, seconds])
        baskets.total += seconds
        return baskets.total, math.ceil(items[0][1] + WINDOW)


class Limits:
    """The limits of one server; :meth:`attach` hooks them into the dispatcher."""

    def __init__(
        self,
        profile: str = "off",
        *,
        operating_limit: float | None = None,
        now: Callable[[], float] = clock.now,
    ) -> None:
        if profile not in CHOICES:
            raise ValueError(f"unknown limits profile {profile!r}")
        chosen = PROFILES.get(profile)
        self.profile = profile
        self.bucket = LeakyBucket(chosen.capacity, chosen.drain, now) if chosen else None
        self.meter = OperatingMeter(now)
        #: None: operating time is measured but never refuses a call.
        self.operating_limit: float | None = None
        if chosen is not None:
            self.operating_limit = chosen.operating_limit if operating_limit is None else operating_limit

    def admit(self) -> None:
        """T1, once per HTTP request to ``/rest/``."""
        if self.bucket is not None and not self.bucket.take():
            raise query_limit_exceeded()

    @staticmethod
    def key(ctx: AuthContext, method: Method) -> Key:
        return (ctx.credential_kind, ctx.credential_id, method.name)

    def check(self, ctx: AuthContext, method: Method) -> None:
        """T2, before a method runs (a dispatcher call check)."""
        limit = self.operating_limit
        if limit is not None and self.meter.usage(self.key(ctx, method))[0] > limit:
            raise operation_time_limit()

    def record(self, ctx: AuthContext, method: Method, seconds: float) -> None:
        """After a method ran (a dispatcher timing hook): account it and show it in the call's ``time``."""
        operating, reset_at = self.meter.record(self.key(ctx, method), seconds)
        timing = CURRENT_TIMING.get()
        if timing is not None:
            timing.operating = operating
            timing.operating_reset_at = reset_at

    def attach(self, dispatcher: Dispatcher) -> None:
        dispatcher.timing_hooks.append(self.record)
        if self.operating_limit is not None:
            dispatcher.call_checks.append(self.check)
