"""What the storage port raises, whichever backend is behind it (SQLite or PostgreSQL)."""

from __future__ import annotations


class StorageError(Exception):
    """The database cannot be opened or migrated; the message is fit for a one-line CLI error."""


class StorageBusy(Exception):
    """The lock was not had (the database stayed locked past the backend's bound, or the transaction
    lost a race: deadlock, serialization failure); rolled back. Worth another try after a pause."""


class Rerun(Exception):
    """The call must run again, at once: nothing it did was written, but what it saw is out of date
    (not a busy database). The runner (storage/runner.py) reruns it a bounded number of times."""


class ReferenceGone(Rerun):
    """A row the call found and then pointed at was deleted by another call in between (PostgreSQL's
    foreign-key check at the insert); rolled back. Run again, the call finds the row missing and
    answers as for any missing row."""


class BusyPastDeadline(Exception):
    """The database stayed busy past the caller's bound on one call (nothing of it was written): the
    caller answers 503 in its own format."""


#: Reruns after a :class:`Rerun` before it counts as a method that never checked the row (a bug, left
#: to surface): a rerun sees the deletion, and deleted ids are never reused.
REFERENCE_RERUNS = 3


#: The default bound on retrying one call (seconds), for a backend that names none of its own.
LOCK_WAIT = 10.0
