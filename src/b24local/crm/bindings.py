"""The binding engine: owner ↔ bound entity links with SORT and one primary (contract I1–I5).

Generic over :class:`~b24local.crm.entities.BindingKind`, so lead–contact, deal–contact and
contact–company bindings share every rule here. Nothing here knows HTTP; methods decode parameters
into :class:`Wanted` entries and call the engine inside their transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from b24local.crm.entities import BindingKind
from b24local.storage.base import Binding, Row, Transaction

SORT_MAX = 2**63 - 1  # the largest SORT the storage holds (a PHP int cast saturates there too)


@dataclass(frozen=True, slots=True)
class Wanted:
    """One element of an ``items.set`` list, already decoded."""

    bound_id: int
    sort: int | None  # None: not given, or not > 0 (S4 replaces it by its position)
    primary: bool  # IS_PRIMARY was exactly "Y"


def plan_set(items: Sequence[Wanted]) -> list[Binding]:
    """The bindings an ``items.set`` with ``items`` leaves (S3–S5), in request order of first sight.

    Duplicates collapse into one binding that takes the SORT of the last occurrence; the primary is
    the first element flagged "Y", else the first element.
    """
    if not items:
        return []
    sorts: dict[int, int] = {}
    for position, item in enumerate(items):
        sorts[item.bound_id] = item.sort if item.sort is not None and item.sort > 0 else (position + 1) * 10
    primary = next((item.bound_id for item in items if item.primary), items[0].bound_id)
    return [Binding(bound_id, sort, bound_id == primary) for bound_id, sort in sorts.items()]


def next_primary(bindings: Sequence[Binding]) -> int | None:
    """Who becomes primary when the primary goes: lowest SORT, ties lowest id (D2, I4)."""
    if not bindings:
        return None
    return min(bindings, key=lambda b: (b.sort, b.bound_id)).bound_id


class BindingEngine:
    def __init__(self, kind: BindingKind) -> None:
        self.kind = kind

    def get(self, tx: Transaction, owner_id: int) -> list[Binding]:
        return tx.bindings_get(self.kind, owner_id)

    def get_with_owner(self, tx: Transaction, owner_id: int) -> tuple[Row | None, list[Binding]]:
        """The owner's access row (None: no such owner) and its bindings, in one read (items.get)."""
        return tx.owner_with_bindings(self.kind, owner_id)

    def replace(self, tx: Transaction, owner_id: int, items: Sequence[Wanted]) -> None:
        """Make the owner's bindings exactly ``items`` (items.set; CONTACT_IDS on add/update)."""
        tx.bindings_replace(self.kind, owner_id, plan_set(items))

    def add(self, tx: Transaction, owner_id: int, bound_id: int, sort: int | None, primary: bool) -> bool:
        """Bind one (A1–A4); False when it is bound already (nothing changes)."""
        current = tx.bindings_get(self.kind, owner_id)
        if any(b.bound_id == bound_id for b in current):
            return False
        if sort is None:
            # Saturate like the stored column (SQLite INTEGER): max + 10 must not overflow into a 500.
            sort = min(max((b.sort for b in current), default=0) + 10, SORT_MAX)
        has_primary = any(b.is_primary for b in current)
        becomes_primary = primary or not has_primary
        if becomes_primary and has_primary:
            tx.binding_set_primary(self.kind, owner_id, None)
        tx.binding_insert(self.kind, owner_id, Binding(bound_id, sort, becomes_primary))
        return True

    def remove(self, tx: Transaction, owner_id: int, bound_id: int) -> bool:
        """Unbind one (D1–D2); False when it was not bound."""
        current = tx.bindings_get(self.kind, owner_id)
        gone = next((b for b in current if b.bound_id == bound_id), None)
        if gone is None:
            return False
        tx.binding_delete(self.kind, owner_id, bound_id)
        if gone.is_primary:
            rest = [b for b in current if b.bound_id != bound_id]
            tx.binding_set_primary(self.kind, owner_id, next_primary(rest))
        return True

    def clear(self, tx: Transaction, owner_id: int) -> None:
        tx.bindings_replace(self.kind, owner_id, [])

    def bound_deleted(self, tx: Transaction, bound_id: int) -> None:
        """A bound entity is being deleted: unbind it everywhere, re-electing primaries (I4)."""
        for owner_id in tx.owners_of(self.kind, bound_id):
            self.remove(tx, owner_id, bound_id)

    def primary_of(self, tx: Transaction, owner_ids: Sequence[int]) -> dict[int, int]:
        return tx.primaries(self.kind, owner_ids)
