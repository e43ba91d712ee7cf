"""The one place that decides what a caller may do with CRM items.

Today's model (issue 2): administrators may do everything; any other user may read, add, change and
delete the leads and contacts assigned to them (``ASSIGNED_BY_ID``) and nothing else. Roles,
departments and "open" items replace the body of :meth:`Permissions.level` later; the methods only ask
:meth:`Permissions.can` and :meth:`Permissions.read_scope`.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, Literal

from b24local.auth.context import AuthContext
from b24local.crm.entities import ENTITIES, EntityType
from b24local.crm.query import AllOf, AnyOf, Column, Cond, Condition

Action = Literal["read", "add", "update", "delete"]


class Level(IntEnum):
    """Permission levels of a CRM role, least to most permissive."""

    NONE = 0
    OWN = 1
    DEPARTMENT = 2
    SUBDEPARTMENTS = 3
    OPEN = 4
    ALL = 5


class Permissions:
    def __init__(self, ctx: AuthContext) -> None:
        self.ctx = ctx

    def level(self, entity: EntityType, action: Action) -> Level:
        if self.ctx.is_admin:
            return Level.ALL
        if not self.ctx.crm_access:
            return Level.NONE
        return Level.OWN

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
        level = self.level(entity, action)
        if level == Level.ALL:
            return True
        if level == Level.NONE or item is None:
            return False
        owner = item.get("assigned_by_id")
        if owner == self.ctx.user_id:
            return True
        return level >= Level.OPEN and item.get("opened") == "Y"

    def read_scope(self, entity: EntityType) -> Condition:
        """A condition that keeps only the rows the caller may read (lists, Q3)."""
        level = self.level(entity, "read")
        if level == Level.ALL:
            return AllOf(())
        if level == Level.NONE:
            return AnyOf(())
        own = Cond(Column("assigned_by_id"), "eq", self.ctx.user_id)
        if level >= Level.OPEN:
            return AnyOf((own, Cond(Column("opened"), "eq", "Y")))
        return own
