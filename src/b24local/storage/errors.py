"""What the storage port raises, whichever backend is behind it (SQLite or PostgreSQL)."""

from __future__ import annotations


class StorageError(Exception):
    """The database cannot be opened or migrated; the message is fit for a one-line CLI error."""


class StorageBusy(Exception):
    """The database stayed locked past the retry bound; the transaction was rolled back."""


class ReferenceGone(StorageBusy):
    """A row the call found and then pointed at was deleted by another call in between (PostgreSQL's
    foreign-key check at the insert); rolled back. Run again, the call finds the row missing and
    answers as for any missing row."""


#: Reruns after a :class:`ReferenceGone` before it counts as a method that never checked the row (a
#: bug, left to surface): a rerun sees the deletion, and deleted ids are never reused.
REFERENCE_RERUNS = 3


#: The default bound on retrying one call (seconds), for a backend that names none of its own.
LOCK_WAIT = 10.0
