"""The binding service: the checks around the binding engine, written once for every binding kind.

The binding methods (methods/crm_bindings.py) and an owner's CONTACT_ID/CONTACT_IDS on add/update
(crm/records.py) both go through it: the owner is checked permission before existence (E8 before E7),
every bound entity must exist and be readable (E10/E11), and only then does the engine write.
Parameters are decoded by the caller; checks that depend on them (E6, E12) run there, between the
owner check and the write, in the contract's order.
"""

from __future__ import annotations

from collections.abc import Sequence

from b24local.crm.bindings import BindingEngine, Wanted
from b24local.crm.entities import BindingKind
from b24local.crm.errors import BoundAccessDenied, BoundNotFound, OwnerAccessDenied, OwnerNotFound
from b24local.crm.permissions import Action, Permissions
from b24local.storage.base import Binding, Row, Transaction


class BindingService:
    def __init__(self, kind: BindingKind) -> None:
        self.kind = kind
        self.engine = BindingEngine(kind)

    # Checks --------------------------------------------------------------------------------------

    def check_owner(
        self, tx: Transaction, perms: Permissions, owner_id: int, actions: tuple[Action, ...]
    ) -> None:
        row = tx.access_rows(self.kind.owner, [owner_id]).get(owner_id)
        self.check_owner_row(perms, owner_id, row, actions)

    def check_owner_row(
        self, perms: Permissions, owner_id: int, row: Row | None, actions: tuple[Action, ...]
    ) -> None:
        """E8 before E7: a caller below level "all" learns nothing about owners it may not see."""
        refused = perms.refusal(self.kind.owner, actions, row)
        if refused == "denied":
            raise OwnerAccessDenied(self.kind.owner, owner_id)
        if refused == "missing":
            raise OwnerNotFound(self.kind.owner, owner_id)

    def check_bound(
        self, tx: Transaction, perms: Permissions, bound_ids: Sequence[int], must_exist: bool = True
    ) -> None:
        """E10/E11 for each bound entity in request order (E10 first, docs/deviations.md)."""
        bound = self.kind.bound
        rows = tx.access_rows(bound, list(bound_ids))
        for bound_id in dict.fromkeys(bound_ids):
            row = rows.get(bound_id)
            if row is None and must_exist:
                raise BoundNotFound(bound, bound_id)
            if not perms.can(bound, "read", row):
                raise BoundAccessDenied(bound, bound_id)

    # Checked operations (the owner was checked by the caller) ------------------------------------

    def items(self, tx: Transaction, perms: Permissions, owner_id: int) -> list[Binding]:
        """The owner's bindings, read with the owner in one statement (the hottest call there is)."""
        row, bindings = self.engine.get_with_owner(tx, owner_id)
        self.check_owner_row(perms, owner_id, row, ("read",))
        return bindings

    def replace(self, tx: Transaction, perms: Permissions, owner_id: int, wanted: Sequence[Wanted]) -> None:
        self.check_bound(tx, perms, [w.bound_id for w in wanted])
        self.engine.replace(tx, owner_id, wanted)

    def add(
        self,
        tx: Transaction,
        perms: Permissions,
        owner_id: int,
        bound_id: int,
        *,
        sort: int | None,
        primary: bool,
    ) -> bool:
        self.check_bound(tx, perms, [bound_id])
        return self.engine.add(tx, owner_id, bound_id, sort, primary)

    def remove(self, tx: Transaction, perms: Permissions, owner_id: int, bound_id: int) -> bool:
        """Unbind one; a bound id that no longer exists may still be unbound (no E10)."""
        self.check_bound(tx, perms, [bound_id], must_exist=False)
        return self.engine.remove(tx, owner_id, bound_id)
