"""The binding engine: owner ↔ bound entity links with SORT and one primary (contract I1–I5).

Generic over :class:`~b24local.crm.entities.BindingKind`, so lead–contact, deal–contact and
contact–company bindings share every rule here. Nothing here knows HTTP; methods decode parameters
into :class:`Wanted` entries and call the engine inside their transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from b24local.crm.entities import BINDINGS, BindingKind
from b24local.storage.base import Binding, CrmStore, Row

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
    """Reads and writes one binding kind, keeping I1 and I4 on the owner's side and, for a relation
    seen from both sides (a kind with a ``mirror``), on the other side too (binding-family.md B3)."""

    def __init__(self, kind: BindingKind) -> None:
        self.kind = kind
        self.mirror = None if kind.mirror is None else BINDINGS[kind.mirror]

    def get(self, tx: CrmStore, owner_id: int) -> list[Binding]:
        return tx.bindings_get(self.kind, owner_id)

    def get_with_owner(self, tx: CrmStore, owner_id: int) -> tuple[Row | None, list[Binding]]:
        """The owner's access row (None: no such owner) and its bindings, in one read (items.get)."""
        return tx.owner_with_bindings(self.kind, owner_id)

    def replace(self, tx: CrmStore, owner_id: int, items: Sequence[Wanted]) -> None:
        """Make the owner's bindings exactly ``items`` (items.set; CONTACT_IDS on add/update)."""
        planned = plan_set(items)
        if self.mirror is None:
            tx.bindings_replace(self.kind, owner_id, planned)
            return
        before = {b.bound_id for b in tx.bindings_get(self.kind, owner_id)}
        after = {b.bound_id for b in planned}
        tx.bindings_replace(self.kind, owner_id, planned)
        self._mirror_added(tx, owner_id, after - before)
        self._mirror_removed(tx, owner_id, before - after)

    def add(self, tx: CrmStore, owner_id: int, bound_id: int, sort: int | None, primary: bool) -> bool:
        """Bind one (A1–A4); False when it is bound already (nothing changes)."""
        current = tx.bindings_get(self.kind, owner_id)
        if any(b.bound_id == bound_id for b in current):
            return False
        if sort is None:
            sort = next_sort(current)
        has_primary = any(b.is_primary for b in current)
        becomes_primary = primary or not has_primary
        if becomes_primary and has_primary:
            tx.binding_set_primary(self.kind, owner_id, None)
        tx.binding_insert(self.kind, owner_id, Binding(bound_id, sort, becomes_primary))
        self._mirror_added(tx, owner_id, {bound_id})
        return True

    def remove(self, tx: CrmStore, owner_id: int, bound_id: int) -> bool:
        """Unbind one (D1–D2); False when it was not bound."""
        current = tx.bindings_get(self.kind, owner_id)
        gone = next((b for b in current if b.bound_id == bound_id), None)
        if gone is None:
            return False
        tx.binding_delete(self.kind, owner_id, bound_id)
        if gone.is_primary:
            rest = [b for b in current if b.bound_id != bound_id]
            tx.binding_set_primary(self.kind, owner_id, next_primary(rest))
        self._mirror_removed(tx, owner_id, {bound_id})
        return True

    def clear(self, tx: CrmStore, owner_id: int) -> None:
        self.replace(tx, owner_id, [])

    def bound_deleted(self, tx: CrmStore, bound_id: int) -> None:
        """A bound entity is being deleted: unbind it everywhere, re-electing primaries (I4)."""
        for owner_id in tx.owners_of(self.kind, bound_id):
            self.remove(tx, owner_id, bound_id)

    def primary_of(self, tx: CrmStore, owner_ids: Sequence[int]) -> dict[int, int]:
        return tx.primaries(self.kind, owner_ids)

    # The other side of a two-sided relation -------------------------------------------------------

    def _mirror_added(self, tx: CrmStore, owner_id: int, bound_ids: set[int]) -> None:
        """New rows seen from each bound entity: last in its order, its primary if it had none."""
        if self.mirror is None:
            return
        for other in sorted(bound_ids):
            rows = [b for b in tx.bindings_get(self.mirror, other) if b.bound_id != owner_id]
            tx.binding_set_sort(self.mirror, other, owner_id, next_sort(rows))
            if not any(b.is_primary for b in rows):
                tx.binding_set_primary(self.mirror, other, owner_id)

    def _mirror_removed(self, tx: CrmStore, owner_id: int, bound_ids: set[int]) -> None:
        """Rows gone from each bound entity's side: a new primary there if it lost its own (I4)."""
        if self.mirror is None:
            return
        for other in sorted(bound_ids):
            rows = tx.bindings_get(self.mirror, other)
            if rows and not any(b.is_primary for b in rows):
                tx.binding_set_primary(self.mirror, other, next_primary(rows))


def next_sort(current: Sequence[Binding]) -> int:
    """SORT of a binding added without one: the largest + 10, saturated like the stored column (SQLite
    INTEGER), so that it never overflows into a 500."""
    return min(max((b.sort for b in current), default=0) + 10, SORT_MAX)
