"""The CRM entity service: records of any entity (lead, contact, deal, company) in and out.

No HTTP here: methods hand in a decoded command (crm/commands.py), the transaction and the caller's
permissions, and word the domain errors raised here (crm/errors.py). This module checks permissions,
applies what :mod:`~b24local.crm.input` read of `fields` (columns, multifields C5, the owner's
bindings through the binding service, lead-contact-bindings.md L1–L4, I4), calls the entity's rules
(:mod:`~b24local.model.rules`), pages lists built by :mod:`~b24local.crm.listing` (M4, protocol.md
Q1–Q3) and formats rows as a portal prints them (C4, with :mod:`~b24local.crm.codec`).

Everything is driven by the field definitions (:mod:`b24local.crm.entity_fields`): a field's
``storage`` and ``type`` decide how it is read, written, filtered and printed.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from b24local.crm import why
from b24local.crm.binding_service import BindingService
from b24local.crm.bindings import Wanted
from b24local.crm.codec import text_out
from b24local.crm.commands import AddRecord, ListRecords, UpdateRecord
from b24local.crm.entities import (
    ENTITIES,
    EntityType,
    bindings_bound_to,
    bindings_owned_by,
    primary_fields,
)
from b24local.crm.errors import (
    AccessDenied,
    BoundAccessDenied,
    BoundNotFound,
    InvalidField,
    NotFound,
    RuleBroken,
)
from b24local.crm.input import BindingInput, Input, InputReader, MultifieldPlan, plan_multifields
from b24local.crm.listing import ListGrammar, Shape, count_patterns
from b24local.crm.permissions import Action, Level, Permissions
from b24local.model.page import ListPage
from b24local.model.query import AllOf, Column, Cond, Query
from b24local.model.rules import RuleViolation
from b24local.storage.base import CrmStore, MultifieldRow, Row

PAGE_SIZE = 50


class PipelineLookup(Protocol):
    """What the stage rule asks of the records around (a deal's pipeline must exist)."""

    def pipeline_exists(self, entity: EntityType, pipeline_id: int) -> bool: ...


#: Field types that hold the id of a record of another entity type.
REFERENCED = {f"crm_{e.name}": e for e in ENTITIES.values()}


class Records:
    """add/get/update/delete/list/fields for one entity type (crm/entities.py ENTITIES)."""

    def __init__(self, entity: EntityType) -> None:
        self.entity = entity
        self._owned = bindings_owned_by(entity)
        self._bound = bindings_bound_to(entity)
        self._bindings = {k.name: BindingService(k) for k in (*self._owned, *self._bound)}
        # The owner's computed field (the lead's CONTACT_ID): its value is the primary binding.
        self._single = primary_fields(entity)
        self.listing = ListGrammar(entity)
        self.input = InputReader(entity)
        # Worked out once: a seed builds 100,000 rows with them (crm/seed).
        self._columns = {f.name: f.column for f in entity.fields if f.storage == "column"}
        self._defaults = {
            f.column: f.default for f in entity.columns if f.default is not None and not f.is_read_only
        }

    # Helpers ---------------------------------------------------------------------------------

    def has(self, name: str) -> bool:
        return name in self._columns

    def _set(self, row: Row, name: str, value: Any) -> None:
        """Set a column by field name if this entity has it."""
        column = self._columns.get(name)
        if column is not None:
            row[column] = value

    def check_level(self, perms: Permissions, action: Action) -> None:
        """The caller may do ``action`` on some items of this type. Methods ask this before they decode
        the parameters, as a portal does; each service method asks again."""
        if perms.level(self.entity, action) == Level.NONE:
            raise AccessDenied(self.entity, why=why.no_level(perms, self.entity, action))

    def _existing(self, tx: CrmStore, perms: Permissions, action: Action, entity_id: int) -> Row:
        """The row, permission first (Permissions.refusal)."""
        row = tx.entity_get(self.entity, entity_id)
        refused = perms.refusal(self.entity, (action,), row)
        if refused == "denied":
            raise AccessDenied(
                self.entity, entity_id, why=why.denied(perms, self.entity, (action,), row, entity_id)
            )
        if refused == "missing":
            raise NotFound(self.entity, entity_id)
        assert row is not None  # "missing" was refused above
        return row

    def check_required(self, row: Row, changes: Row | None = None) -> None:
        """The entity's one-of-required rule on ``row``; on update only when ``changes`` touch it."""
        rule = self.entity.rules.one_of_required
        if rule is None or (changes is not None and not rule.touched_by(changes)):
            return
        if not rule.is_met(row):
            raise RuleBroken(rule.message)

    def _stage_changes(self, tx: PipelineLookup, row: Row, changes: Row, now: int, user_id: int) -> None:
        rule = self.entity.rules.stages
        if rule is None:
            return
        if rule.pipelines is not None and not row:  # add: the pipeline must exist
            pipeline = changes.get(rule.pipelines.column) or 0
            if not tx.pipeline_exists(self.entity, pipeline):
                column = rule.pipelines.column.upper()
                raise InvalidField(column, f"pipeline {pipeline} does not exist")
        try:
            rule.apply(row, changes, now, user_id)
        except RuleViolation as error:
            raise RuleBroken(str(error)) from None

    def _add_defaults(self, row: Row, now: int) -> None:
        """The dates add fills in (the deal's BEGINDATE and CLOSEDATE), in the server's local time."""
        rule = self.entity.rules.add_defaults
        if rule is None:
            return
        today = datetime.date.fromtimestamp(now)
        for column, days in rule.dates:
            if row.get(column) is None:
                row[column] = (today + datetime.timedelta(days=days)).isoformat()

    def _check_references(self, tx: CrmStore, perms: Permissions, changes: Row) -> None:
        """A column naming another record (the lead's and the deal's COMPANY_ID) must name one that
        exists and that the caller may read, like a bound entity (E10, E11)."""
        for fld in self.entity.columns:
            target = REFERENCED.get(fld.type)
            value = changes.get(fld.column)
            if target is None or value is None or fld.is_read_only:
                continue
            row = tx.access_rows(target, [value]).get(value)
            if row is None:
                raise BoundNotFound(target, value)
            if not perms.can(target, "read", row):
                raise BoundAccessDenied(target, value, why=why.denied(perms, target, ("read",), row, value))

    # Multifields ---------------------------------------------------------------------------------

    def _flags(self, final: Iterable[tuple[str, str, str]], row: Row) -> None:
        final = list(final)
        yes_no = {True: "Y", False: "N"}
        self._set(row, "HAS_PHONE", yes_no[any(t == "PHONE" for t, _, _ in final)])
        self._set(row, "HAS_EMAIL", yes_no[any(t == "EMAIL" for t, _, _ in final)])
        has_imol = any(t == "IM" and v.startswith("imol|") for t, _, v in final)
        self._set(row, "HAS_IMOL", yes_no[has_imol])

    def _apply_multifields(self, tx: CrmStore, element_id: int, plan: MultifieldPlan) -> None:
        for row_id in plan.deletes:
            tx.multifield_delete(row_id)
        for row_id, (value_type, value) in plan.updates.items():
            tx.multifield_update(row_id, value_type, value)
        for type_id, value_type, value in plan.inserts:
            tx.multifield_insert(self.entity, element_id, type_id, value_type, value)

    # Bindings ------------------------------------------------------------------------------------

    def _binding_targets(
        self, tx: CrmStore, perms: Permissions, wanted: dict[str, BindingInput], owner_id: int | None
    ) -> dict[str, tuple[list[int], list[int] | None]]:
        """Per binding kind: (bound ids now, bound ids wanted or None for no change) — L2, L3, E10, E11."""
        out: dict[str, tuple[list[int], list[int] | None]] = {}
        for kind in self._owned:
            request = wanted.get(kind.name)
            current = (
                []
                if owner_id is None
                else [b.bound_id for b in self._bindings[kind.name].engine.get(tx, owner_id)]
            )
            target: list[int] | None = None
            if request is not None and request.ids is not None:
                target = request.ids
            elif request is not None and request.single is not None:
                if request.single <= 0:
                    target = [] if current else None
                elif request.single not in current:
                    target = [request.single]
            if target:
                self._bindings[kind.name].check_bound(tx, perms, target)
            out[kind.name] = (current, target)
        return out

    def _return_customer(
        self, row: Row, changes: Row, bindings: dict[str, tuple[list[int], list[int] | None]]
    ) -> None:
        """The entity's return-customer flag into ``changes``, from ``row`` and the bindings after."""
        rule = self.entity.rules.return_customer
        if rule is not None:
            bound = any(target if target is not None else current for current, target in bindings.values())
            changes["is_return_customer"] = rule.flag(row, bound)

    def _apply_bindings(
        self, tx: CrmStore, owner_id: int, bindings: dict[str, tuple[list[int], list[int] | None]]
    ) -> None:
        for kind_name, (_, target) in bindings.items():
            if target is not None:
                wanted = [Wanted(bound_id, None, False) for bound_id in target]
                self._bindings[kind_name].engine.replace(tx, owner_id, wanted)

    # Methods -------------------------------------------------------------------------------------

    def fields(self, perms: Permissions) -> dict[str, Any]:
        """C3: every field as `crm.*.fields` prints it, in definition order."""
        self.check_level(perms, "read")
        return {f.name: f.describe() for f in self.entity.fields}

    def new_row(self, tx: PipelineLookup, data: Input, user_id: int, now: int) -> tuple[Row, MultifieldPlan]:
        """The row add writes for ``data`` (defaults, the stage rule, flags) and its multifields; what
        needs the caller's permissions or other records is checked after (add, and seeds: crm/seed)."""
        row: Row = {**self._defaults, **data.columns}
        if row.get("assigned_by_id") is None:
            row["assigned_by_id"] = user_id
        for name, value in (
            ("CREATED_BY_ID", user_id),
            ("MODIFY_BY_ID", user_id),
            ("DATE_CREATE", now),
            ("DATE_MODIFY", now),
            ("LAST_ACTIVITY_BY", user_id),
            ("LAST_ACTIVITY_TIME", now),
        ):
            self._set(row, name, value)
        self._stage_changes(tx, {}, row, now, user_id)
        self._add_defaults(row, now)
        plan = plan_multifields(data.multifields, (), adding=True)
        self._flags(plan.final, row)
        return row, plan

    def add(self, tx: CrmStore, perms: Permissions, command: AddRecord) -> int:
        self.check_level(perms, "add")
        data = self.input.read(command.fields, adding=True)
        user_id, now = perms.ctx.user_id, int(time.time())
        row, plan = self.new_row(tx, data, user_id, now)
        if not perms.can(self.entity, "add", row):
            raise AccessDenied(self.entity, why=why.denied(perms, self.entity, ("add",), row, None))
        self.check_required(row)
        self._check_references(tx, perms, data.columns)
        bindings = self._binding_targets(tx, perms, data.bindings, None)
        self._return_customer(row, row, bindings)
        new_id = tx.entity_insert(self.entity, row)
        self._default_title(tx, new_id, row)
        self._apply_multifields(tx, new_id, plan)
        self._apply_bindings(tx, new_id, bindings)
        return new_id

    def _default_title(self, tx: CrmStore, new_id: int, row: Row) -> None:
        """ "Deal #<ID>" for a deal added without a title (the ID is known only now)."""
        rule = self.entity.rules.add_defaults
        if rule is not None and rule.title is not None and not str(row.get("title") or "").strip():
            tx.entity_update(self.entity, new_id, {"title": rule.title.format(id=new_id)})

    def get(self, tx: CrmStore, perms: Permissions, entity_id: int) -> dict[str, Any]:
        self.check_level(perms, "read")
        row = self._existing(tx, perms, "read", entity_id)
        return self._format_page([row], self.listing.full, tx)[0]

    def update(self, tx: CrmStore, perms: Permissions, command: UpdateRecord) -> bool:
        self.check_level(perms, "update")
        entity_id = command.id
        row = self._existing(tx, perms, "update", entity_id)
        data = self.input.read(command.fields, adding=False)
        user_id, now = perms.ctx.user_id, int(time.time())
        changes = dict(data.columns)
        self._set(changes, "MODIFY_BY_ID", user_id)
        self._set(changes, "DATE_MODIFY", now)
        self._stage_changes(tx, row, changes, now, user_id)
        merged = {**row, **changes}
        self.check_required(merged, changes)
        self._check_references(tx, perms, data.columns)
        plan = MultifieldPlan()
        if data.multifields:
            existing = tx.multifields_of(self.entity, [entity_id]).get(entity_id, [])
            plan = plan_multifields(data.multifields, existing, adding=False)
            self._flags(plan.final, changes)
        bindings: dict[str, tuple[list[int], list[int] | None]] = {}
        rule = self.entity.rules.return_customer
        if self._owned and (data.bindings or (rule is not None and rule.touched_by(changes))):
            bindings = self._binding_targets(tx, perms, data.bindings, entity_id)
            self._return_customer(merged, changes, bindings)
        tx.entity_update(self.entity, entity_id, changes)
        self._apply_multifields(tx, entity_id, plan)
        self._apply_bindings(tx, entity_id, bindings)
        return True

    def delete(self, tx: CrmStore, perms: Permissions, entity_id: int) -> bool:
        """M3: a lead's bindings go with it; a deleted contact is unbound everywhere (I4)."""
        self.check_level(perms, "delete")
        self._existing(tx, perms, "delete", entity_id)
        for kind in self._owned:
            self._bindings[kind.name].engine.clear(tx, entity_id)
        for kind in self._bound:
            self._bindings[kind.name].engine.bound_deleted(tx, entity_id)
        for other in ENTITIES.values():
            for fld in other.columns:
                if REFERENCED.get(fld.type) is self.entity:
                    self._unlink(tx, other, fld.column, entity_id)
        tx.entity_delete(self.entity, entity_id)
        return True

    @staticmethod
    def _unlink(tx: CrmStore, other: EntityType, column: str, entity_id: int) -> None:
        """Clear ``column`` of the ``other`` records that name the deleted one; a lead's return-customer
        flag that depended on it (its COMPANY_ID) is worked out again from its bindings."""
        rule = other.rules.return_customer
        if rule is None or column not in rule.inputs:
            tx.references_clear(other, column, entity_id)
            return
        query = Query(where=Cond(Column(column), "eq", entity_id), limit=None)
        ids = [row["id"] for row in tx.entity_select(other, query)]
        bound: set[int] = set()
        for kind in bindings_owned_by(other):
            bound.update(tx.primaries(kind, ids))  # I1: an owner with bindings has a primary
        for row_id in ids:
            changes: Row = {column: None}
            changes["is_return_customer"] = rule.flag(changes, row_id in bound)
            tx.entity_update(other, row_id, changes)

    def page(
        self,
        tx: CrmStore,
        perms: Permissions,
        command: ListRecords,
        spend_patterns: Callable[[int], None] = lambda count: None,
    ) -> ListPage:
        """M4 with paging Q1–Q3: one SELECT for the page, one count(*) only when it is needed.

        ``spend_patterns`` is told how many substring and pattern comparisons the filter makes: each
        scans every row, so the caller bounds them across a request."""
        self.check_level(perms, "read")
        shape = self.listing.select(command.select)
        conditions = self.listing.conditions(command.filter)
        spend_patterns(count_patterns(conditions))
        where = AllOf((perms.read_scope(self.entity), *conditions))
        start = command.start
        query = Query(
            where=where, order=self.listing.order(command.order), offset=max(start, 0), limit=PAGE_SIZE
        )
        rows = tx.entity_select(self.entity, query)
        items = self._format_page(rows, shape, tx)
        if start < 0:  # Q2: no counting
            return ListPage(items, 0)
        if len(rows) < PAGE_SIZE and (rows or start == 0):
            total = start + len(rows)
        else:
            total = tx.entity_count(self.entity, where)
        return ListPage(items, total, start + PAGE_SIZE if start + len(rows) < total else None)

    # Output --------------------------------------------------------------------------------------

    def _format_page(self, rows: list[Row], shape: Shape, tx: CrmStore) -> list[dict[str, Any]]:
        """Rows as a portal prints them; multifields and primaries for the whole page in one query each."""
        ids = [row["id"] for row in rows]
        multifields = tx.multifields_of(self.entity, ids) if shape.multifields and ids else {}
        primaries: dict[str, dict[int, int]] = {}
        for fld in shape.fields:
            kind = self._single.get(fld.name)
            if kind is not None and ids:
                primaries[fld.name] = self._bindings[kind.name].engine.primary_of(tx, ids)
        return [self.format_row(row, shape, multifields.get(row["id"], []), primaries) for row in rows]

    def format_row(
        self,
        row: Row,
        shape: Shape,
        multifields: Sequence[MultifieldRow] = (),
        primaries: dict[str, dict[int, int]] | None = None,
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        get = row.get
        text = text_out
        for name, column, printer in shape.plan:
            if column is not None:
                value = get(column)
                # Every printer keeps None, and text keeps a str: no call for those (half a page's values).
                if value is None or (printer is text and value.__class__ is str):
                    out[name] = value
                else:
                    out[name] = printer(value)
            else:  # computed: the primary binding's bound id (L1, I2), or nothing yet (COMPANY_ID)
                primary = (primaries or {}).get(name, {}).get(row["id"])
                out[name] = None if primary is None else str(primary)
        grouped: dict[str, list[dict[str, str]]] = {}
        for entry in multifields:
            if entry.type_id in shape.multifields:
                grouped.setdefault(entry.type_id, []).append(
                    {
                        "ID": str(entry.id),
                        "VALUE_TYPE": entry.value_type,
                        "VALUE": entry.value,
                        "TYPE_ID": entry.type_id,
                    }
                )
        for type_id in shape.multifields:
            if grouped.get(type_id):
                out[type_id] = grouped[type_id]
        return out
