"""The binding service: the checks around the binding engine, written once for every binding kind.

The binding methods (methods/crm_bindings.py) and an owner's CONTACT_ID/CONTACT_IDS on add/update
(crm/records.py) both go through it: the owner is checked permission before existence (E8 before E7),
the bound ids are checked (E6, E12), every bound entity must exist and be readable (E10/E11), and only
then does the engine write. The methods decode their parameters into the commands of crm/commands.py
first; E9 comes before that (:meth:`BindingService.check_crm_access`).
"""

from __future__ import annotations

from collections.abc import Sequence

from b24local.crm import why
from b24local.crm.bindings import BindingEngine
from b24local.crm.commands import AddBinding, RemoveBinding, SetBindings
from b24local.crm.entities import BindingKind
from b24local.crm.errors import (
    AccessDenied,
    BoundAccessDenied,
    BoundNotFound,
    InvalidBindingItem,
    InvalidBoundId,
    OwnerAccessDenied,
    OwnerNotFound,
)
from b24local.crm.permissions import Action, Permissions
from b24local.storage.base import Binding, CrmStore, Row


class BindingService:
    def __init__(self, kind: BindingKind) -> None:
        self.kind = kind
        self.engine = BindingEngine(kind)

    # Checks --------------------------------------------------------------------------------------

    @staticmethod
    def check_crm_access(perms: Permissions) -> None:
        """E9: a caller who may read no CRM entity at all is refused before anything else."""
        if not perms.can_read_any_crm():
            raise AccessDenied(None, why=why.no_crm(perms))

    def check_owner(
        self, tx: CrmStore, perms: Permissions, owner_id: int, actions: tuple[Action, ...]
    ) -> None:
        row = tx.access_rows(self.kind.owner, [owner_id]).get(owner_id)
        self.check_owner_row(perms, owner_id, row, actions)

    def check_owner_row(
        self, perms: Permissions, owner_id: int, row: Row | None, actions: tuple[Action, ...]
    ) -> None:
        """E8 before E7: a caller below level "all" learns nothing about owners it may not see."""
        refused = perms.refusal(self.kind.owner, actions, row)
        if refused == "denied":
            owner = self.kind.owner
            raise OwnerAccessDenied(owner, owner_id, why=why.denied(perms, owner, actions, row, owner_id))
        if refused == "missing":
            raise OwnerNotFound(self.kind.owner, owner_id)

    def check_bound(
        self, tx: CrmStore, perms: Permissions, bound_ids: Sequence[int], must_exist: bool = True
    ) -> None:
        """E10/E11 for each bound entity in request order (E10 first, docs/deviations.md)."""
        bound = self.kind.bound
        rows = tx.access_rows(bound, list(bound_ids))
        for bound_id in dict.fromkeys(bound_ids):
            row = rows.get(bound_id)
            if row is None and must_exist:
                raise BoundNotFound(bound, bound_id)
            if not perms.can(bound, "read", row):
                raise BoundAccessDenied(
                    bound, bound_id, why=why.denied(perms, bound, ("read",), row, bound_id)
                )

    # Operations: the owner, then the bound ids, then the bound entities, then the write -----------

    def items(self, tx: CrmStore, perms: Permissions, owner_id: int) -> list[Binding]:
        """The owner's bindings, read with the owner in one statement (the hottest call there is)."""
        row, bindings = self.engine.get_with_owner(tx, owner_id)
        self.check_owner_row(perms, owner_id, row, ("read",))
        return bindings

    def replace(self, tx: CrmStore, perms: Permissions, command: SetBindings) -> None:
        self.check_owner(tx, perms, command.owner_id, ("update",))
        for index, item in enumerate(command.items):
            if item.bound_id <= 0:
                raise InvalidBindingItem(self.kind, index)
        self.check_bound(tx, perms, [item.bound_id for item in command.items])
        self.engine.replace(tx, command.owner_id, command.items)

    def clear(self, tx: CrmStore, perms: Permissions, owner_id: int) -> None:
        self.check_owner(tx, perms, owner_id, ("read", "update"))
        self.engine.clear(tx, owner_id)

    def add(self, tx: CrmStore, perms: Permissions, command: AddBinding) -> bool:
        wanted = command.binding
        self._check_one(tx, perms, command.owner_id, wanted.bound_id)
        return self.engine.add(tx, command.owner_id, wanted.bound_id, wanted.sort, wanted.primary)

    def remove(self, tx: CrmStore, perms: Permissions, command: RemoveBinding) -> bool:
        """Unbind one; a bound id that no longer exists may still be unbound (no E10)."""
        self._check_one(tx, perms, command.owner_id, command.bound_id, must_exist=False)
        return self.engine.remove(tx, command.owner_id, command.bound_id)

    def _check_one(
        self, tx: CrmStore, perms: Permissions, owner_id: int, bound_id: int, must_exist: bool = True
    ) -> None:
        self.check_owner(tx, perms, owner_id, ("update",))
        if bound_id <= 0:
            raise InvalidBoundId(self.kind)
        self.check_bound(tx, perms, [bound_id], must_exist)
