"""The one transaction runner: every caller of the storage port that must not answer 500 on a busy
database (the dispatcher, the batch login, the shared limits state, OAuth) runs its transaction here.

The runner owns the deadline (``lock_wait`` seconds from the first attempt), the backoff between
attempts (storage/busy.py) and the bounded reruns: a :class:`StorageBusy` is tried again after a
pause until the deadline, then leaves as :class:`BusyPastDeadline`, which each caller answers as 503
in its own format; a :class:`Rerun` runs the call again at once, at most :data:`REFERENCE_RERUNS` times. Every
attempt is its own transaction, rolled back when it failed, so ``fn`` may run more than once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from b24local.storage.base import Storage, Transaction
from b24local.storage.busy import sleep_before_retry
from b24local.storage.errors import LOCK_WAIT, REFERENCE_RERUNS, BusyPastDeadline, Rerun, StorageBusy

T = TypeVar("T")


def lock_wait_of(storage: Storage) -> float:
    """The backend's own bound on one call (seconds), or the port's default."""
    return float(getattr(storage, "lock_wait", LOCK_WAIT))


def run(
    storage: Storage,
    write: bool,
    fn: Callable[[Transaction], T],
    *,
    snapshot: bool = True,
    lock_wait: float | None = None,
) -> T:
    """``fn`` in a write (or read, with ``snapshot`` as :meth:`Storage.read`) transaction; its result.

    Raises :class:`BusyPastDeadline` when the database stayed busy past ``lock_wait`` (default: the
    backend's), and past the bounded reruns the error behind the last :class:`Rerun`."""
    bound = lock_wait_of(storage) if lock_wait is None else lock_wait
    deadline = time.monotonic() + bound
    attempt = 0
    reruns = 0
    while True:
        try:
            with storage.write() if write else storage.read(snapshot) as tx:
                return fn(tx)
        except Rerun as again:
            reruns += 1
            if reruns > REFERENCE_RERUNS:
                raise again.__cause__ or again from None
            continue  # nothing to wait out: what the call saw changed, run it again at once
        except StorageBusy:
            pass
        # Rolled back: nothing of this attempt was written, so the whole call may run again.
        if not sleep_before_retry(attempt, deadline):
            raise BusyPastDeadline(f"database busy past {bound:.1f} s") from None
        attempt += 1
