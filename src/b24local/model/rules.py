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


class RuleViolation(ValueError):
    """Input an entity's rule refuses; the message is the portal's (or our) error text."""


#: The default pipeline's deal stages and their semantics (P in progress, S success, F failure).
DEAL_STAGES: tuple[tuple[str, str], ...] = (
    ("NEW", "P"),
    ("PREPARATION", "P"),
    ("PREPAYMENT_INVOICE", "P"),
    ("EXECUTING", "P"),
    ("FINAL_INVOICE", "P"),
    ("WON", "S"),
    ("LOSE", "F"),
    ("APOLOGY", "F"),
)


@dataclass(frozen=True)
class Pipelines:
    """Stages per pipeline: the default pipeline (0) has ``stages``; pipeline n has "C<n>:" + each.

    Until b24local has a status directory, every pipeline has the default pipeline's stages.
    """

    column: str = "category_id"
    stages: tuple[tuple[str, str], ...] = DEAL_STAGES

    @staticmethod
    def prefix(pipeline: int) -> str:
        return "" if pipeline == 0 else f"C{pipeline}:"

    def first(self, pipeline: int) -> str:
        return self.prefix(pipeline) + self.stages[0][0]

    def semantic(self, pipeline: int, stage: str) -> str | None:
        """The stage's semantic; None when it is not a stage of this pipeline."""
        prefix = self.prefix(pipeline)
        if not stage.startswith(prefix):
            return None
        return dict(self.stages).get(stage[len(prefix) :])


@dataclass(frozen=True)
class StageRule:
    """The semantic column follows the stage; moving the stage stamps MOVED_* (C1) and what closing
    means for the entity: the lead's DATE_CLOSED, the deal's CLOSED and IS_NEW."""

    stage: str = "status_id"
    semantic_column: str = "status_semantic_id"
    #: Stages with a final semantic; everything else is "P" (in progress). Unused with ``pipelines``.
    semantics: dict[str, str] = field(default_factory=lambda: {"CONVERTED": "S", "JUNK": "F"})
    #: The deal's: stages depend on the pipeline, a stage of another pipeline is refused.
    pipelines: Pipelines | None = None
    closed_time: str | None = "date_closed"
    closed_flag: str | None = None
    new_flag: str | None = None

    def apply(self, row: Row, changes: Row, now: int, user_id: int) -> None:
        """Add to ``changes`` what a stage change in them implies for the stored ``row`` ({} on add)."""
        pipeline = self._pipeline(row, changes)
        if pipeline is not None and not row and not changes.get(self.stage):
            changes[self.stage] = self.pipelines.first(pipeline)  # type: ignore[union-attr]
        if self.stage not in changes:
            if self.closed_flag is not None:
                changes.pop(self.closed_flag, None)  # follows the stage only, never set on its own
            return
        stage = str(changes[self.stage] or "")
        if stage == row.get(self.stage) and row.get(self.semantic_column):
            return
        semantic = self._semantic(pipeline, stage)
        changes[self.semantic_column] = semantic
        changes["moved_by_id"] = user_id
        changes["moved_time"] = now
        if self.closed_flag is not None:
            changes[self.closed_flag] = "N" if semantic == "P" else "Y"
        if self.new_flag is not None:
            assert self.pipelines is not None and pipeline is not None
            changes[self.new_flag] = "Y" if stage == self.pipelines.first(pipeline) else "N"
        if self.closed_time is None:
            return
        if semantic == "P":
            changes[self.closed_time] = None
        elif row.get(self.semantic_column) in (None, "", "P"):
            changes[self.closed_time] = now

    def _pipeline(self, row: Row, changes: Row) -> int | None:
        if self.pipelines is None:
            return None
        column = self.pipelines.column
        return int(changes.get(column, row.get(column)) or 0)

    def _semantic(self, pipeline: int | None, stage: str) -> str:
        if self.pipelines is None or pipeline is None:
            return self.semantics.get(stage, "P")
        semantic = self.pipelines.semantic(pipeline, stage)
        if semantic is None:
            name = self.stage.upper()
            raise RuleViolation(
                f"Field '{name}' is not valid: '{stage[:60]}' is not a stage of pipeline {pipeline}."
            )
        return semantic


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
class AddDefaults:
    """What add fills in when the caller gives nothing: the deal's "Deal #<ID>" title and its dates."""

    #: ``{id}`` is replaced by the new element's ID (written right after the insert).
    title: str | None = None
    #: (column, days from today): BEGINDATE today, CLOSEDATE in 7 days.
    dates: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class EntityRules:
    one_of_required: OneOfRequired | None = None
    stages: StageRule | None = None
    return_customer: ReturnCustomer | None = None
    add_defaults: AddDefaults | None = None
    #: Permissions are given per value of this column (the deal's pipeline: "deal", "deal_c1", ...).
    permission_partition: str | None = None
