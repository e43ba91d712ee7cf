"""Where the portal limits keep their state: one process's memory, the database, or Redis.

The limits (auth/limits.py) decide; a state only stores and counts. A portal is one bucket and one set
of operating-time baskets however many server processes answer for it, so with limits on, every
process of ``serve --workers N`` (on one machine or several, on one database) shares them through the
database, or through Redis when ``serve --redis URL`` is given. With limits off nothing is refused and
``time.operating`` stays a per-process figure in memory (no write per call; docs/deviations.md).

Every state answers the same three questions, with times in Unix seconds from the limits' clock:

- ``take(fits, drain, now)``: drain the bucket to ``now`` and admit one request if the level stays
  within ``fits`` (the capacity plus :data:`ROUNDING`);
- ``usage(key, now, tx)``: the operating seconds of ``key`` still counting, and when the oldest basket
  stops counting (``tx`` is the call's own transaction: a read inside it costs no other one);
- ``record(key, seconds, now)``: add a call's seconds; the usage after it.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from typing import TYPE_CHECKING, Any, Protocol

from b24local.protocol.errors import server_busy
from b24local.storage import runner
from b24local.storage.base import LimitStore, Storage
from b24local.storage.errors import LOCK_WAIT, BusyPastDeadline

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger("b24local")

#: How long operating time counts (seconds), and how long one basket collects.
WINDOW = 600
BASKET = 60

#: Added to the bucket's capacity: Unix times as floats carry ~1e-7 s of rounding, so a level that
#: drained to exactly the capacity may come out a hair above it.
ROUNDING = 1e-6

Key = tuple[str, int, str]  # (credential kind, credential id, method)
#: (operating seconds now, Unix second at which the oldest basket stops counting)
Usage = tuple[float, int]


def _usage(total: float, first: float | None, now: float) -> Usage:
    if first is None:
        return 0.0, math.ceil(now) + WINDOW
    return total, math.ceil(first + WINDOW)


class LimitState(Protocol):
    def take(self, fits: float, drain: float, now: float) -> bool: ...
    def usage(self, key: Key, now: float, tx: LimitStore | None) -> Usage: ...
    def record(self, key: Key, seconds: float, now: float) -> Usage: ...


# One process ------------------------------------------------------------------------------------------
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

    def usage(self, now: float) -> Usage:
        return _usage(self.total, self.items[0][1] if self.items else None, now)


class MemoryState:
    """The state of one server process."""

    def __init__(self) -> None:
        self.level = 0.0
        self.at: float | None = None
        self.baskets: dict[Key, _Baskets] = {}

    def take(self, fits: float, drain: float, now: float) -> bool:
        level = self.level
        if self.at is not None and now > self.at:
            level = max(0.0, level - (now - self.at) * drain)
        self.level = level
        self.at = now if self.at is None else max(now, self.at)
        if level + 1 > fits:
            return False
        self.level = level + 1
        return True

    def usage(self, key: Key, now: float, tx: LimitStore | None = None) -> Usage:
        baskets = self.baskets.get(key)
        if baskets is None:
            return _usage(0.0, None, now)
        baskets.expire(now)
        return baskets.usage(now)

    def record(self, key: Key, seconds: float, now: float) -> Usage:
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
        return baskets.usage(now)


# The database -----------------------------------------------------------------------------------------
class DatabaseState:
    """The state in the server's database (tables ``limit_bucket`` and ``limit_operating``).

    The bucket is one row changed by one conditional UPDATE, so concurrent requests of all processes
    serialise on it; each take and each record is its own short write transaction, retried like any
    call while the database is busy (a 503 past the bound). Baskets of keys no longer used are swept
    once a minute per process.
    """

    def __init__(self, storage: Storage, lock_wait: float = LOCK_WAIT) -> None:
        self.storage = storage
        self.lock_wait = lock_wait
        self.swept_at = 0.0

    def _run(self, write: bool, fn: Callable[[LimitStore], Any]) -> Any:
        try:
            return runner.run(self.storage, write, fn, lock_wait=self.lock_wait)
        except BusyPastDeadline:
            log.warning("database busy past %.1f s: limits state not updated", self.lock_wait)
            raise server_busy() from None

    def take(self, fits: float, drain: float, now: float) -> bool:
        return bool(self._run(True, lambda tx: tx.limit_take(fits, drain, now)))

    def usage(self, key: Key, now: float, tx: LimitStore | None = None) -> Usage:
        if tx is None:
            total, first = self._run(False, lambda own: own.operating_usage(key, WINDOW, now))
            return _usage(total, first, now)
        return _usage(*tx.operating_usage(key, WINDOW, now), now)

    def record(self, key: Key, seconds: float, now: float) -> Usage:
        sweep = now >= self.swept_at + BASKET

        def run(tx: LimitStore) -> tuple[float, float | None]:
            if sweep:
                tx.operating_sweep(WINDOW, now)
            return tx.operating_add(key, int(now // BASKET), seconds, WINDOW, now)

        total, first = self._run(True, run)
        if sweep:
            self.swept_at = now
        return _usage(total, first, now)


# Redis ------------------------------------------------------------------------------------------------
#: KEYS[1]: the bucket hash; ARGV: now, fits, drain. 1 admitted, 0 refused.
_TAKE = """
local level = tonumber(redis.call('HGET', KEYS[1], 'level') or '0')
local at = redis.call('HGET', KEYS[1], 'at')
local now = tonumber(ARGV[1])
if at then
  at = tonumber(at)
  if now > at then
    level = math.max(0, level - (now - at) * tonumber(ARGV[3]))
    at = now
  end
else
  at = now
end
if level + 1 > tonumber(ARGV[2]) then
  return 0
end
redis.call('HSET', KEYS[1], 'level', string.format('%.17g', level + 1), 'at', string.format('%.17g', at))
return 1
"""


class RedisState:
    """The state in Redis: the bucket is a hash changed by one Lua script (atomic in Redis); a key's
    operating time is a hash of baskets (``s:MINUTE`` seconds, ``f:MINUTE`` first call) that expires
    with its last basket. Keys start with ``b24local:{member_id}:``, so portals (databases) may share
    one Redis. Redis unreachable: the request answers 503 and the server logs why."""

    def __init__(self, url: str, portal: str) -> None:
        import redis

        self._errors: tuple[type[Exception], ...] = (redis.RedisError,)
        self.client: Any = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.prefix = f"b24local:{portal}:"
        self._take = self.client.register_script(_TAKE)

    def _key(self, key: Key) -> str:
        return f"{self.prefix}op:{key[0]}:{key[1]}:{key[2]}"

    def _run(self, run: Callable[[], Any]) -> Any:
        try:
            return run()
        except self._errors as exc:
            log.warning("redis unavailable (%s): limits state not updated", type(exc).__name__)
            raise server_busy() from None

    def take(self, fits: float, drain: float, now: float) -> bool:
        args = (repr(now), repr(fits), repr(drain))
        return bool(self._run(lambda: self._take(keys=[self.prefix + "bucket"], args=args)))

    def _sum(self, key: str, fields: dict[bytes, bytes], now: float) -> tuple[float, float | None]:
        total, first, expired = 0.0, None, []
        for name, value in fields.items():
            if not name.startswith(b"f:"):
                continue
            minute = name[2:]
            started = float(value)
            if started + WINDOW <= now:
                expired += [name, b"s:" + minute]
                continue
            total += float(fields.get(b"s:" + minute, b"0"))
            first = started if first is None else min(first, started)
        if expired:  # a basket that stopped counting never collects again: safe to drop
            self._run(lambda: self.client.hdel(key, *expired))
        return total, first

    def usage(self, key: Key, now: float, tx: LimitStore | None = None) -> Usage:
        name = self._key(key)
        fields = self._run(lambda: self.client.hgetall(name))
        return _usage(*self._sum(name, fields, now), now)

    def record(self, key: Key, seconds: float, now: float) -> Usage:
        name = self._key(key)
        minute = int(now // BASKET)

        def run() -> Any:
            pipe = self.client.pipeline(transaction=True)
            pipe.hincrbyfloat(name, f"s:{minute}", seconds)
            pipe.hsetnx(name, f"f:{minute}", repr(now))
            pipe.expire(name, WINDOW + BASKET)
            pipe.hgetall(name)
            return pipe.execute()[-1]

        fields = self._run(run)
        return _usage(*self._sum(name, fields, now), now)

    def check(self) -> None:
        """Raise the client's error when Redis cannot be reached (``serve`` checks before serving)."""
        self.client.ping()

    def close(self) -> None:
        self.client.close()
