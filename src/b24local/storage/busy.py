"""A database that stays busy: the bounded retry every backend shares, and the error past the bound.

SQLite answers ``database is locked`` (SQLITE_BUSY) when another process holds the write lock longer
than the busy timeout, or at once in a few cases where SQLite does not wait itself; PostgreSQL answers
serialization failures and deadlocks. Neither may reach a client as a 500: the storage retries the
step that failed (BEGIN, COMMIT) and the runner (storage/runner.py) reruns a whole call that failed part
way, both with a short jittered backoff and within one time bound per call. A call that still cannot
run answers 503 ``QUERY_LIMIT_EXCEEDED`` (docs/deviations.md): nothing of it was written, and clients
of Bitrix24 already back off and retry on that answer. The errors themselves are the port's
(storage/errors.py).
"""

from __future__ import annotations

import random
import time

#: Backoff between attempts: the first waits about 2 ms, doubling up to about 100 ms.
FIRST_PAUSE = 0.002
MAX_PAUSE = 0.1


def pause(attempt: int) -> float:
    """Seconds to sleep before attempt ``attempt + 1`` (``attempt`` counts from 0), with jitter."""
    base = min(MAX_PAUSE, FIRST_PAUSE * (2**attempt))
    return float(base * (0.5 + random.random()))  # noqa: S311  (jitter, not a secret)


def sleep_before_retry(attempt: int, deadline: float) -> bool:
    """Sleep before another attempt; False (and no sleep) when the deadline leaves no room for one."""
    wait = pause(attempt)
    if time.monotonic() + wait >= deadline:
        return False
    time.sleep(wait)
    return True
