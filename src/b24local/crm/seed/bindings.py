"""The binding lists of a seed: ``{owner, bound, SORT, IS_PRIMARY}`` per item, and for a relation seen
from both sides (contact–company, binding-family.md B3) also the bound side's ``BOUND_SORT`` and
``BOUND_IS_PRIMARY``.

I1 holds on each side as after ``items.set``: an owner with bindings has exactly one primary (the item
flagged "Y", else its first binding in the file, else the one it had); a SORT not given is the
largest + 10, as ``items.add`` gives it. An owner that exists already keeps its bindings, and the
file's are added to them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from b24local.crm.bindings import SORT_MAX
from b24local.crm.entities import BINDINGS
from b24local.crm.seed.document import SeedError, plural
from b24local.crm.seed.items import Item, Known
from b24local.model.entities import BindingKind
from b24local.storage.base import BindingRow, Transaction

#: The keys of an item, and the bound side's (a relation seen from both sides).
KEYS = ("owner", "bound", "SORT", "IS_PRIMARY")
MIRROR_KEYS = ("BOUND_SORT", "BOUND_IS_PRIMARY")


@dataclass
class _Side:
    """One owner's bindings as the seed leaves them: (bound id, SORT, primary) and who holds the primary."""

    sorts: dict[int, int] = field(default_factory=dict)
    primary: int | None = None
    #: The primary the database already had (then no item of the file may claim it).
    had_primary: bool = False


def _sort(item: Item, key: str) -> int | None:
    value = item.value.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= SORT_MAX:
        raise SeedError(item.at(key), f"{value!r} is not a SORT (a whole number from 1)")
    return value


def _primary(item: Item, key: str) -> bool | None:
    value = item.value.get(key)
    if value is None:
        return None
    if value not in ("Y", "N"):
        raise SeedError(item.at(key), f"{value!r} is neither 'Y' nor 'N'")
    return bool(value == "Y")


class BindingReader:
    """Reads one binding list into rows, keeping each side's bindings to check I1."""

    def __init__(self, tx: Transaction, known: Known, name: str, kind: BindingKind) -> None:
        self.tx, self.known, self.name, self.kind = tx, known, name, kind
        self.mirror = None if kind.mirror is None else BINDINGS[kind.mirror]
        self.owner_list, self.bound_list = plural(kind.owner.name), plural(kind.bound.name)
        self.owners: dict[int, _Side] = {}
        self.bounds: dict[int, _Side] = {}

    def _side(self, sides: dict[int, _Side], kind: BindingKind, list_name: str, number: int) -> _Side:
        side = sides.get(number)
        if side is None:
            side = sides[number] = _Side()
            if self.known.in_database(list_name, number):
                for binding in self.tx.bindings_get(kind, number):
                    side.sorts[binding.bound_id] = binding.sort
                    if binding.is_primary:
                        side.primary, side.had_primary = binding.bound_id, True
        return side

    def read(self, items: list[Any], tick: Callable[[int], None]) -> list[BindingRow]:
        keys = KEYS if self.mirror is None else (*KEYS, *MIRROR_KEYS)
        planned: list[tuple[int, int]] = []
        for index, value in enumerate(items):
            item = Item(f"{self.name}[{index}]", value)
            item.only(keys)
            owner = self.known.reference(item.at("owner"), self.owner_list, item.value.get("owner"))
            bound = self.known.reference(item.at("bound"), self.bound_list, item.value.get("bound"))
            side = self._side(self.owners, self.kind, self.owner_list, owner)
            if bound in side.sorts:
                raise SeedError(
                    item.path,
                    f"{self.kind.owner.name} {owner} and {self.kind.bound.name} {bound} are bound already",
                )
            self._place(item, side, bound, KEYS[2:], f"{self.kind.owner.name} {owner}")
            if self.mirror is not None:
                other = self._side(self.bounds, self.mirror, self.bound_list, bound)
                self._place(item, other, owner, MIRROR_KEYS, f"{self.kind.bound.name} {bound}")
            planned.append((owner, bound))
            if index % 1000 == 999:
                tick(1000)
        tick(len(items) % 1000)
        self._settle(self.owners)
        self._settle(self.bounds)
        return [self._row(owner, bound) for owner, bound in planned]

    @staticmethod
    def _place(item: Item, side: _Side, other: int, keys: tuple[str, ...], who: str) -> None:
        """Bind ``other`` on ``side`` with the SORT and primary flag of ``keys`` (the item's keys)."""
        sort_key, primary_key = keys
        sort = _sort(item, sort_key)
        side.sorts[other] = (
            sort if sort is not None else min(max(side.sorts.values(), default=0) + 10, SORT_MAX)
        )
        primary = _primary(item, primary_key)
        if primary:
            if side.had_primary:
                raise SeedError(item.at(primary_key), f"{who} has a primary binding already")
            side.primary, side.had_primary = other, True
        elif side.primary is None and primary is None:
            side.primary = other  # the first binding, unless a later item of the file claims it

    @staticmethod
    def _settle(sides: dict[int, _Side]) -> None:
        """Every item of an owner said "N": its first binding is the primary all the same (I1)."""
        for side in sides.values():
            if side.primary is None and side.sorts:
                side.primary = next(iter(side.sorts))

    def _row(self, owner: int, bound: int) -> BindingRow:
        side = self.owners[owner]
        row_sort, row_primary = side.sorts[bound], side.primary == bound
        if self.mirror is None:
            return (owner, bound, row_sort, row_primary, None, None)
        other = self.bounds[bound]
        return (owner, bound, row_sort, row_primary, other.sorts[owner], other.primary == owner)

    def bound_owners(self) -> set[int]:
        return set(self.owners)
