"""The CRM lists of a seed (``leads``, ``contacts``, ``deals``, ``companies``): each item read as
``crm.<entity>.add`` reads its ``fields`` (crm/input.py) and made into the row add would write
(Records.new_row: defaults, the stage rule, multifield flags; the entity's required fields), so that
an item add refuses is refused here, with its path.

What add sets itself is kept when the item gives it (an export gives it: ``DATE_CREATE``,
``CREATED_BY_ID``, ``STATUS_SEMANTIC_ID`` ...); the ``ID`` too. Bindings are not fields of an item
here: they have their own lists (``CONTACT_IDS`` is refused with a pointer to ``lead_contact``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from b24local.crm.codec import InvalidValue, is_empty, to_column
from b24local.crm.errors import InvalidField, RuleBroken
from b24local.crm.records import REFERENCED, Records
from b24local.crm.seed.document import BINDING_LISTS, ENTITY_LISTS, SeedError, plural
from b24local.crm.seed.items import Item, Known
from b24local.model.entities import EntityType
from b24local.storage.base import Row, Transaction


@dataclass
class EntityRows:
    """What a seed writes for one entity type."""

    entity: EntityType
    rows: list[Row] = field(default_factory=list)
    multifields: list[tuple[int, str, str, str]] = field(default_factory=list)
    #: Rows whose return-customer flag the item gave (else it follows the bindings, as on add).
    flag_given: set[int] = field(default_factory=set)

    def write(self, tx: Transaction, bound_owners: set[int]) -> None:
        rule = self.entity.rules.return_customer
        if rule is not None:
            for row in self.rows:
                if row["id"] not in self.flag_given:
                    row["is_return_customer"] = rule.flag(row, row["id"] in bound_owners)
        # Only the columns some row fills: every value bound costs the insert, empty ones too.
        filled = set().union(*self.rows)
        columns = ["id", *(f.column for f in self.entity.columns if f.column in filled)]
        tx.entity_insert_many(self.entity, columns, [tuple(map(row.get, columns)) for row in self.rows])
        tx.multifield_insert_many(self.entity, self.multifields)


class _Pipelines:
    """The stage rule's question (does this pipeline exist?) asked of the file and the database."""

    def __init__(self, known: Known) -> None:
        self.known = known

    def pipeline_exists(self, entity: EntityType, pipeline_id: int) -> bool:
        return pipeline_id == 0 or self.known.exists("pipelines", pipeline_id)


def _binding_lists_of(entity: EntityType) -> str:
    names = [n for n, k in BINDING_LISTS.items() if entity in (k.owner, k.bound)]
    return ", ".join(names)


class EntityReader:
    """Reads the items of one CRM list into rows."""

    def __init__(self, tx: Transaction, known: Known, name: str, user_id: int, now: int) -> None:
        self.tx, self.known, self.name = tx, known, name
        self.entity = ENTITY_LISTS[name]
        self.records = Records(self.entity)
        self.user_id, self.now = user_id, now
        self.pipelines = _Pipelines(known)
        #: Fields an item may not give: bindings (CONTACT_IDS, the computed CONTACT_ID).
        self.bindings_fields = {f.name for f in self.entity.fields if f.storage in ("computed", "write_only")}
        self.read_only = {f.name: f for f in self.entity.columns if f.is_read_only}
        self.allowed = set(self.entity.by_name) - self.bindings_fields
        self.references = [
            (f, plural(REFERENCED[f.type].name))
            for f in self.entity.columns
            if f.type in REFERENCED and not f.is_read_only
        ]
        rule = self.entity.rules.stages
        self.stage_field = rule.stage.upper() if rule is not None else ""
        self.default_title = self.entity.rules.add_defaults.title if self.entity.rules.add_defaults else None

    def read(self, items: list[Any], tick: Callable[[int], None]) -> EntityRows:
        out = EntityRows(self.entity)
        fresh = self.known.new_ids(self.name, self.tx.entity_id_floor(self.entity))
        for index, value in enumerate(items):
            item = Item(f"{self.name}[{index}]", value)
            given = item.value.get("ID")
            number = int(str(given).strip()) if given is not None else next(fresh)
            self._read_one(item, number, out)
            if index % 1000 == 999:
                tick(1000)
        tick(len(items) % 1000)
        return out

    def _read_one(self, item: Item, number: int, out: EntityRows) -> None:
        fields = item.value
        if fields.keys() - self.allowed:  # one set operation per item; the loop only to say which
            self._refuse_field(item)
        row, plan = self._new_row(item)
        for fld, target in self.references:
            value = row.get(fld.column)
            if value is not None:
                self.known.reference(item.at(fld.name), target, value)
        # In the item's order (the first error is the one reported), and only for an item with some.
        kept = () if fields.keys().isdisjoint(self.read_only) else fields.items()
        for key, value in kept:
            given = self.read_only.get(key)
            if given is not None and not is_empty(value):
                try:
                    row[given.column] = to_column(given, value)
                except InvalidValue as error:
                    raise SeedError(item.at(key), str(error)) from None
                if given.column == "is_return_customer":
                    out.flag_given.add(number)
        row["id"] = number
        if self.default_title is not None and not str(row.get("title") or "").strip():
            row["title"] = self.default_title.format(id=number)
        out.rows.append(row)
        out.multifields.extend((number, t, vt, v) for t, vt, v in plan.inserts)

    def _refuse_field(self, item: Item) -> None:
        for key in item.value:
            if key not in self.entity.by_name:
                raise SeedError(item.at(str(key)), "unknown field")
            if key in self.bindings_fields:
                raise SeedError(
                    item.at(key), f"bindings have lists of their own: {_binding_lists_of(self.entity)}"
                )

    def _new_row(self, item: Item) -> tuple[Row, Any]:
        try:
            data = self.records.input.read(item.value, adding=True)
            try:
                row, plan = self.records.new_row(self.pipelines, data, self.user_id, self.now)
            except RuleBroken as error:  # the stage rule: the stage is not one of the pipeline's
                raise SeedError(item.at(self.stage_field), error.message) from None
            self.records.check_required(row)
        except InvalidField as error:
            raise SeedError(item.at(error.name), error.reason) from None
        except RuleBroken as error:
            raise SeedError(item.path, error.message) from None
        return row, plan
