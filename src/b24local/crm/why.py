"""Why a permission check refused, in words, for the journal (test-portal.md T7): which item, whose it
is, and which role gave the caller which level, e.g. ``lead 7 is assigned to user 3; role "Sales" gives
user 5 lead:update at level OWN``.

Worked out only after a refusal (one more query, for the roles' names), never on an allowed call. The
caller is not told any of it: its answer stays the portal's (methods/errors.py).
"""

from __future__ import annotations

from typing import Any

from b24local.crm.entities import EntityType
from b24local.crm.permissions import EMPLOYEE_LEVEL, Action, Level, Permissions, partition_key

#: The role every user with CRM access holds (crm/permissions.py).
EMPLOYEE = "Employee"


def denied(
    perms: Permissions,
    entity: EntityType,
    actions: tuple[Action, ...],
    item: dict[str, Any] | None,
    item_id: int | None,
) -> str:
    """Why ``perms`` may not do one of ``actions`` on ``item`` (None: it does not exist; ``item_id``
    None: an item being added)."""
    action = next((a for a in actions if not perms.can(entity, a, item)), actions[0])
    column = entity.rules.permission_partition
    partition = None if column is None or item is None else int(item.get(column) or 0)
    level = perms.level(entity, action, partition)
    grant = _grant(perms, entity, action, partition)
    if level == Level.NONE:
        return grant
    return f"{_fact(perms, entity, item, item_id, level)}; {grant}"


def no_level(perms: Permissions, entity: EntityType, action: Action) -> str:
    """Why the caller may do ``action`` on no item of ``entity`` at all."""
    return _grant(perms, entity, action, None)


def no_crm(perms: Permissions) -> str:
    """Why the caller may read no CRM entity (bindings E9)."""
    return f"user {perms.ctx.user_id} holds no role that gives read on any CRM entity"


def _fact(
    perms: Permissions, entity: EntityType, item: dict[str, Any] | None, item_id: int | None, level: Level
) -> str:
    if item is None:
        return f"{entity.name} {item_id} does not exist, which only level ALL may learn"
    owner = item.get("assigned_by_id")
    whose = f"assigned to user {owner}" if owner else "assigned to no one"
    fact = (
        f"the new {entity.name} would be {whose}"
        if item_id is None
        else f"{entity.name} {item_id} is {whose}"
    )
    if level >= Level.DEPARTMENT:
        fact += f", outside the departments of user {perms.ctx.user_id}"
        if level >= Level.SUBDEPARTMENTS:
            fact += " and their sub-departments"
    if level >= Level.OPEN:
        fact += ", and not open to everyone"
    return fact


def _grant(perms: Permissions, entity: EntityType, action: Action, partition: int | None) -> str:
    """Which role gives the caller its level (the highest; every role giving it, by name)."""
    user = perms.ctx.user_id
    what = f"{entity.name}:{action}" + (f" in pipeline {partition}" if partition else "")
    found = _levels(perms, entity, action, partition)
    best = max((level for _, level in found), default=Level.NONE)
    if best == Level.NONE:
        return f"user {user} holds no role that gives {what}"
    names = list(dict.fromkeys(name for name, level in found if level == best))
    roles = ", ".join(f'"{name}"' for name in names)
    subject = f"role {roles} gives" if len(names) == 1 else f"roles {roles} give"
    return f"{subject} user {user} {what} at level {best.name}"


def _levels(
    perms: Permissions, entity: EntityType, action: Action, partition: int | None
) -> list[tuple[str, Level]]:
    """(role, level) for ``action`` on ``entity`` in ``partition``, as Permissions.level combines them."""
    grants = [] if perms.tx is None else perms.tx.role_grants(perms.ctx.user_id)
    mine = [(name, key, Level(level)) for name, key, act, level in grants if act == action]
    if entity.rules.permission_partition is not None and partition is None:
        prefix = f"{entity.name}_c"
        found = [(name, level) for name, key, level in mine if key == entity.name or key.startswith(prefix)]
    else:
        own = partition_key(entity, partition) if partition else entity.name
        found = [(name, level) for name, key, level in mine if key == own]
        if not found and own != entity.name:  # a pipeline no role names has the default pipeline's
            found = [(name, level) for name, key, level in mine if key == entity.name]
    if perms.ctx.crm_access:
        found.append((EMPLOYEE, EMPLOYEE_LEVEL))
    return found
