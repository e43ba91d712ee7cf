"""The reference model of the binding property tests, written independently of b24local.crm.bindings.

Plain dicts, the contract's rules (S1–S5, A1–A4, D1–D2, X1, I4, B3, B4, errors E1–E7, E10, E12 and the
check order, for an administrator). A model holds one side per view of a relation: one for lead–contact
or deal–contact, two for contact ↔ company, whose sides see the same pairs, each with its own SORT and
primary. How a write on one side shows on the other is b24local's reading of B3 (docs/deviations.md):
a pair new to a side comes last there (its largest SORT + 10, or 10; saturated at the largest integer
stored) and is that side's primary only when it had none; a side that loses its primary promotes its
lowest SORT, ties the lowest id (as D2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.bindings.relations import RELATIONS, Relation
from tests.bindings.steps import ABSENT, Pool, Step

SORT_MAX = 9223372036854775807  # the largest stored integer (SQLite INTEGER, PostgreSQL BIGINT)


def error(description: str, code: str = "") -> tuple[int, dict[str, str]]:
    return 400, {"error": code, "error_description": description}


@dataclass
class Side:
    """One view of a relation: owner id → {bound id: [SORT, primary]}, for the owners that exist."""

    rel: Relation
    bindings: dict[int, dict[int, list[Any]]] = field(default_factory=dict)

    def expected_items(self, owner: int) -> list[dict[str, Any]]:
        rows = sorted(self.bindings[owner].items(), key=lambda kv: (kv[1][0], kv[0]))
        return [
            {self.rel.key: bid, "SORT": sort, "ROLE_ID": 0, "IS_PRIMARY": "Y" if primary else "N"}
            for bid, (sort, primary) in rows
        ]

    def primary(self, owner: int) -> int | None:
        return next((bid for bid, (_, primary) in self.bindings[owner].items() if primary), None)

    def unbind(self, owner: int, bound_id: int) -> None:
        """D2 / I4: the primary's successor is the lowest SORT, ties the lowest bound id."""
        was_primary = self.bindings[owner].pop(bound_id)[1]
        rest = self.bindings[owner]
        if was_primary and rest:
            successor = min(rest, key=lambda b: (rest[b][0], b))
            rest[successor][1] = True


@dataclass
class Model:
    """The sides of one relation (``sides[1]``: its other side, when it has one) and the pool records
    that exist, by entity name."""

    sides: list[Side]
    alive: dict[str, set[int]]

    @classmethod
    def of(cls, rel: Relation, pool: Pool) -> Model:
        """A model of ``rel`` over a pool of fresh records, nothing bound yet."""
        sides = [Side(rel, {owner: {} for owner in pool.owners})]
        if rel.kind.mirror is not None:
            sides.append(Side(RELATIONS[rel.kind.mirror], {bound: {} for bound in pool.bounds}))
        return cls(sides, {rel.owner: set(pool.owners), rel.bound: set(pool.bounds)})

    def snapshot(self) -> list[dict[int, list[dict[str, Any]]]]:
        return [{owner: side.expected_items(owner) for owner in side.bindings} for side in self.sides]

    def apply(self, pool: Pool, step: Step) -> tuple[int, Any]:
        """The predicted (status, result) or (status, error body); updates the model on success."""
        side = self.sides[step.side]
        pool = pool.side(step.side)
        if step.op == "bound_delete":
            return self._delete_record(side.rel.bound, pool, step)
        _, owner = pool.owner_id(step.owner)
        quoted = step.op in ("add", "delete")
        if owner <= 0:  # E1 / E2
            name = "'ownerEntityID'" if quoted else "ownerEntityID"
            return error(f"The parameter {name} is invalid or not defined.")
        if step.op != "clear" and step.shape != "ok":  # E3 / E4 / E5
            return error(
                {
                    "add": "The parameter 'fields' must be array.",
                    "delete": "The parameter 'item' must be array.",
                    "set": "The parameter items must be array.",
                }[step.op]
            )
        if owner not in side.bindings:  # E7 (an administrator passes E8)
            return error("Not found.", "NOT_FOUND")
        before = set(side.bindings[owner])
        if step.op == "set":
            answer = self._set(side, pool, owner, step)
        elif step.op == "clear":  # X1
            side.bindings[owner].clear()
            answer = (200, True)
        else:
            answer = self._one(side, pool, owner, step)
        self._other_side(step.side, owner, before, set(side.bindings[owner]))
        return answer

    def _one(self, side: Side, pool: Pool, owner: int, step: Step) -> tuple[int, Any]:
        assert step.bound is not None
        current = side.bindings[owner]
        _, bid, _ = pool.bound_id(step.bound)
        if bid <= 0:  # E6
            return error("The parameter 'fields' is not valid.")
        if step.op == "delete":
            if bid not in current:  # D1
                return 200, False
            side.unbind(owner, bid)
            return 200, True
        if bid not in self.alive[side.rel.bound]:  # E10
            return error(f"{side.rel.bound_title} #{bid} not found.", "NOT_FOUND")
        if bid in current:  # A2
            return 200, False
        if step.sort is ABSENT or step.sort[1] is None:  # A4
            sort = min(max((s for s, _ in current.values()), default=0) + 10, SORT_MAX)
        else:
            sort = step.sort[1]
        becomes_primary = step.primary == "Y" or not current  # A3
        if becomes_primary:
            for binding in current.values():
                binding[1] = False
        current[bid] = [sort, becomes_primary]
        return 200, True

    def _set(self, side: Side, pool: Pool, owner: int, step: Step) -> tuple[int, Any]:
        assert step.items is not None
        wanted: list[tuple[int, int | None, bool]] = []
        for index, item in enumerate(step.items):
            _, bid, numeric = pool.bound_id(item.bound)
            if item.bare or not numeric or bid <= 0:  # E12
                return error(f"The parameter items is not valid: item #{index} has no valid {side.rel.key}.")
            sort = None if item.sort is ABSENT else item.sort[1]
            wanted.append((bid, sort, item.primary == "Y"))
        for bid, _, _ in wanted:  # E10, in request order
            if bid not in self.alive[side.rel.bound]:
                return error(f"{side.rel.bound_title} #{bid} not found.", "NOT_FOUND")
        sorts: dict[int, int] = {}
        for position, (bid, sort, _) in enumerate(wanted):  # S4, S5: the last occurrence's SORT
            sorts[bid] = sort if sort is not None and sort > 0 else (position + 1) * 10
        chosen = next((bid for bid, _, flag in wanted if flag), wanted[0][0] if wanted else None)  # S3
        side.bindings[owner] = {bid: [sort, bid == chosen] for bid, sort in sorts.items()}  # S1, S2
        return 200, True

    def _other_side(self, index: int, owner: int, before: set[int], after: set[int]) -> None:
        """B3: pairs new to the owner come last on each bound entity's own side (its primary if it had
        none); pairs gone leave it, promoting a new primary there if it lost its own."""
        if len(self.sides) == 1:
            return
        other = self.sides[1 - index]
        for bid in sorted(after - before):
            rows = other.bindings[bid]
            sort = min(max((s for s, _ in rows.values()), default=0) + 10, SORT_MAX)
            rows[owner] = [sort, not any(primary for _, primary in rows.values())]
        for bid in sorted(before - after):
            rows = other.bindings[bid]
            was_primary = rows.pop(owner)[1]
            if was_primary and rows:
                successor = min(rows, key=lambda b: (rows[b][0], b))
                rows[successor][1] = True

    def _delete_record(self, entity: str, pool: Pool, step: Step) -> tuple[int, Any]:
        """crm.<entity>.delete: its own bindings go, and it is unbound from every owner (I4, B4)."""
        assert step.bound is not None
        _, record, _ = pool.bound_id(step.bound)
        if record <= 0:
            return error("ID is not defined or invalid.")
        if record not in self.alive[entity]:
            return error("Not found.")
        self.alive[entity].discard(record)
        for index, side in enumerate(self.sides):
            if side.rel.owner == entity:
                self._other_side(index, record, set(side.bindings.pop(record)), set())
        for side in self.sides:
            if side.rel.bound == entity:
                for owner, rows in side.bindings.items():
                    if record in rows:
                        side.unbind(owner, record)
        return 200, True
