"""Per-entity rules of the entity service (contract crud.md C1, C2): each is declared on the entity
type that has it (:class:`EntityRules`, given in crm/entities.py) and called by the service, never
switched on by probing whether an entity happens to have some field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Row = dict[str, Any]  # column name → stored value, as storage.base names it


@dataclass(frozen=True)
class OneOfRequired:
    """Add and update need one of ``names`` non-empty (C2: the contact's NAME or LAST_NAME)."""

    names: tuple[str, ...]
    #: The portal's wording is not documented; see the report in docs/deviations.md.
    message: str

    def is_met(self, row: Row) -> bool:
        return any(str(row.get(n.lower()) or "").strip() for n in self.names)

    def touched_by(self, changes: Row) -> bool:
        """Whether an update writes one of the fields (otherwise the stored row is not rechecked)."""
        return any(n.lower() in changes for n in self.names)


@dataclass(frozen=True)
class StageRule:
    """STATUS_SEMANTIC_ID follows STATUS_ID; moving the stage stamps MOVED_* and DATE_CLOSED (C1)."""

    #: Stages with a final semantic; everything else is "P" (in progress).
    semantics: dict[str, str] = field(default_factory=lambda: {"CONVERTED": "S", "JUNK": "F"})

    def apply(self, row: Row, changes: Row, now: int, user_id: int) -> None:
        """Add to ``changes`` what a stage change in them implies for the stored ``row`` ({} on add)."""
        if "status_id" not in changes:
            return
        if changes["status_id"] == row.get("status_id") and row.get("status_semantic_id"):
            return
        semantic = self.semantics.get(str(changes["status_id"] or ""), "P")
        changes["status_semantic_id"] = semantic
        changes["moved_by_id"] = user_id
        changes["moved_time"] = now
        if semantic == "P":
            changes["date_closed"] = None
        elif row.get("status_semantic_id") in (None, "", "P"):
            changes["date_closed"] = now


@dataclass(frozen=True)
class ReturnCustomer:
    """IS_RETURN_CUSTOMER: "Y" when the element has bound elements (the lead's contacts) or a company."""

    #: Columns whose change recomputes the flag, besides the bindings.
    inputs: tuple[str, ...] = ("company_id",)

    def touched_by(self, changes: Row) -> bool:
        return any(c in changes for c in self.inputs)

    @staticmethod
    def flag(row: Row, bound: bool) -> str:
        company = row.get("company_id")
        return "Y" if bound or (isinstance(company, int) and company > 0) else "N"


@dataclass(frozen=True)
class EntityRules:
    one_of_required: OneOfRequired | None = None
    stages: StageRule | None = None
    return_customer: ReturnCustomer | None = None
