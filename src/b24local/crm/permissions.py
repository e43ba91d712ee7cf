"""The one place that decides what a caller may do with CRM items.

The model (docs/deviations.md, "Permissions"): administrators may do everything. Every other user
holds the built-in role "Employee" (level OWN on every entity and action) unless created with
``--no-crm-access``, plus the CRM roles given to the user or to one of its departments (or a parent
department of one). Roles combine by the most permissive level per (entity type, action).

Deals are permitted per pipeline, as on a portal: a role's levels for entity "deal" are the default
pipeline's, "deal_c<n>" those of pipeline n; a pipeline a role gives no level for has the default
pipeline's (a new pipeline starts with them).

Levels nest, each covering what the ones below it cover: OWN (``ASSIGNED_BY_ID`` is the caller),
DEPARTMENT (assigned to someone in one of the caller's departments), SUBDEPARTMENTS (also their
sub-departments), OPEN (also any item with ``OPENED`` = ``Y``), ALL.

One :class:`Permissions` serves one call. What it needs is loaded on first use, from the call's own
transaction: the levels (one query), and the users of the caller's departments only when a level
DEPARTMENT or above asks for them (one more). An administrator costs no query at all.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, Any, Literal

from b24local.auth.context import AuthContext
from b24local.crm.entities import ENTITIES, EntityType
from b24local.model.query import AllOf, AnyOf, Column, Cond, Condition

if TYPE_CHECKING:
    from b24local.storage.base import AccessStore

Action = Literal["read", "add", "update", "delete"]
ACTIONS: tuple[Action, ...] = ("read", "add", "update", "delete")
#: Why a caller may not act on an item: no permission, or (asked only once permitted) no such item.
Refusal = Literal["denied", "missing"]


class Level(IntEnum):
    """Permission levels of a CRM role, least to most permissive (stored as these numbers)."""

    NONE = 0
    OWN = 1
    DEPARTMENT = 2
    SUBDEPARTMENTS = 3
    OPEN = 4
    ALL = 5


#: The level of the built-in role "Employee" that every user with CRM access holds.
EMPLOYEE_LEVEL = Level.OWN


class Permissions:
    __slots__ = ("_levels", "_members", "ctx", "tx")

    def __init__(self, ctx: AuthContext, tx: AccessStore | None = None) -> None:
        self.ctx = ctx
        self.tx = tx  # None: only the built-in role counts (no roles or departments are read)
        self._levels: dict[tuple[str, str], int] | None = None
        self._members: tuple[frozenset[int], frozenset[int]] | None = None

    def level(self, entity: EntityType, action: Action, partition: int | None = None) -> Level:
        """The caller's level for ``action`` on items of ``entity`` in ``partition`` (a deal's pipeline);
        with no partition, the highest over all partitions (may the caller do it anywhere?)."""
        if self.ctx.is_admin:
            return Level.ALL
        base = EMPLOYEE_LEVEL if self.ctx.crm_access else Level.NONE
        levels = self._role_levels()
        if entity.rules.permission_partition is None:
            return Level(max(base, levels.get((entity.name, action), Level.NONE)))
        default = levels.get((entity.name, action), Level.NONE)
        if partition is None:
            return Level(max(base, default, *self._partitions(entity, action).values()))
        if partition == 0:
            return Level(max(base, default))
        return Level(max(base, levels.get((partition_key(entity, partition), action), default)))

    def _role_levels(self) -> dict[tuple[str, str], int]:
        """The levels of the caller's roles, read on first use (one query)."""
        if self._levels is None:
            self._levels = {} if self.tx is None else self.tx.role_levels(self.ctx.user_id)
        return self._levels

    def _partitions(self, entity: EntityType, action: Action) -> dict[int, int]:
        """The partitions the caller's roles give their own level for ``action`` (pipeline → level)."""
        prefix = f"{entity.name}_c"
        out: dict[int, int] = {}
        for (key, act), lv in self._role_levels().items():
            if act == action and key.startswith(prefix) and key[len(prefix) :].isdigit():
                out[int(key[len(prefix) :])] = lv
        return out

    def _colleagues(self, level: Level) -> frozenset[int]:
        """Whose items a DEPARTMENT (or SUBDEPARTMENTS and above) level covers, besides the caller's."""
        if self._members is None:
            if self.tx is None:
                self._members = (frozenset(), frozenset())
            else:
                self._members = self.tx.department_members(self.ctx.user_id)
        department, subtree = self._members
        return department if level == Level.DEPARTMENT else subtree

    def can_read_any_crm(self) -> bool:
        """False when the caller may read no CRM entity at all (bindings E9)."""
        if self.ctx.is_admin:
            return True
        return any(self.level(e, "read") > Level.NONE for e in ENTITIES.values())

    def can(self, entity: EntityType, action: Action, item: dict[str, Any] | None) -> bool:
        """May the caller do ``action`` on ``item`` (a stored row; None: the item does not exist)?

        For a missing item only level ALL passes, so that callers learn nothing of items they could
        not see (bindings contract: E8 before E7).
        """
        column = entity.rules.permission_partition
        partition = None if column is None or item is None else int(item.get(column) or 0)
        level = self.level(entity, action, partition)
        if level == Level.ALL:
            return True
        if level == Level.NONE or item is None:
            return False
        owner = item.get("assigned_by_id")
        if owner == self.ctx.user_id:
            return True
        if level >= Level.OPEN and item.get("opened") == "Y":
            return True
        return level >= Level.DEPARTMENT and owner in self._colleagues(level)

    def refusal(
        self, entity: EntityType, actions: tuple[Action, ...], item: dict[str, Any] | None
    ) -> Refusal | None:
        """Why the caller may not do every one of ``actions`` on ``item`` (None: it may).

        Permission comes before existence, so that only a caller at level "all" learns that an item
        does not exist (bindings E8 before E7; get/update/delete of an entity likewise). Each caller
        words the two refusals as its methods do on a portal.
        """
        for action in actions:
            if not self.can(entity, action, item):
                return "denied"
        return "missing" if item is None else None

    def read_scope(self, entity: EntityType) -> Condition:
        """A condition that keeps only the rows the caller may read (lists, Q3)."""
        column = entity.rules.permission_partition
        if column is None or self.ctx.is_admin:
            return self._scope(self.level(entity, "read"))
        levels = {p: self.level(entity, "read", p) for p in self._partitions(entity, "read")}
        default = self.level(entity, "read", 0)
        if all(lv == default for lv in levels.values()):
            return self._scope(default)
        part = Column(column)
        parts: list[Condition] = [AllOf((Cond(part, "eq", p), self._scope(lv))) for p, lv in levels.items()]
        parts.append(AllOf((Cond(part, "not_in", tuple(sorted(levels))), self._scope(default))))
        return AnyOf(tuple(parts))

    def _scope(self, level: Level) -> Condition:
        if level == Level.ALL:
            return AllOf(())
        if level == Level.NONE:
            return AnyOf(())
        owner = Column("assigned_by_id")
        parts: list[Condition] = [Cond(owner, "eq", self.ctx.user_id)]
        if level >= Level.DEPARTMENT:
            others = sorted(self._colleagues(level) - {self.ctx.user_id})
            if others:
                parts.append(Cond(owner, "in", tuple(others)))
        if level >= Level.OPEN:
            parts.append(Cond(Column("opened"), "eq", "Y"))
        return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))


def partition_key(entity: EntityType, partition: int) -> str:
    """The role entity name of a partition: "deal" for pipeline 0, "deal_c<n>" for pipeline n."""
    return entity.name if partition == 0 else f"{entity.name}_c{partition}"
