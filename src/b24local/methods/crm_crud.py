"""The CRUD method family of a CRM entity type: crm.<entity>.fields/add/get/update/delete/list.

One generic implementation over :class:`~b24local.crm.records.Records`; each entity's module is one
call of :func:`register_family` (contract crud.md).
"""

from __future__ import annotations

from typing import Any

from b24local.crm.entities import EntityType
from b24local.crm.records import Records
from b24local.methods import schemas
from b24local.methods.registry import Call, Param, Result, method
from b24local.model.page import ListPage


def register_family(entity: EntityType) -> Records:
    """Register the six methods of ``entity`` and return the service behind them."""
    records = Records(entity)
    prefix = f"crm.{entity.name}"
    noun = entity.title.lower()
    id_param = Param("id", "integer", True, f"{entity.title} ID", schemas.RECORD_ID)
    fields_schema = schemas.entity_input(entity)
    fields_param = Param("fields", "object", True, f"Field values, see {prefix}.fields", fields_schema)
    new_fields_param = Param(
        "fields",
        "object",
        True,
        f"Field values, see {prefix}.fields",
        schemas.entity_new_input(entity, fields_schema),
    )
    options_param = Param("params", "object", False, "Additional options (accepted, not used yet)")
    record = schemas.entity_record(entity)

    @method(
        f"{prefix}.fields", scope="crm", summary=f"Fields of a {noun}.", result=schemas.FIELD_DESCRIPTIONS
    )
    def fields(call: Call) -> dict[str, Any]:
        return records.fields(call.perms)

    @method(
        f"{prefix}.add",
        scope="crm",
        write=True,
        params=(new_fields_param, options_param),
        summary=f"Create a {noun}; returns its ID.",
        result=schemas.NEW_ID,
    )
    def add(call: Call) -> int:
        return records.add(call.tx, call.perms, call.params)

    @method(
        f"{prefix}.get", scope="crm", params=(id_param,), summary=f"One {noun} by ID.", result=Result(record)
    )
    def get(call: Call) -> dict[str, Any]:
        return records.get(call.tx, call.perms, call.params)

    @method(
        f"{prefix}.update",
        scope="crm",
        write=True,
        params=(id_param, fields_param, options_param),
        summary=f"Change the given fields of a {noun}.",
        result=schemas.BOOLEAN,
    )
    def update(call: Call) -> bool:
        return records.update(call.tx, call.perms, call.params)

    @method(
        f"{prefix}.delete",
        scope="crm",
        write=True,
        params=(id_param,),
        summary=f"Delete a {noun}.",
        result=schemas.BOOLEAN,
    )
    def delete(call: Call) -> bool:
        return records.delete(call.tx, call.perms, call.params)

    @method(
        f"{prefix}.list",
        scope="crm",
        params=(
            Param(
                "select",
                "string[]",
                False,
                "Fields to return; default * (all but multifields)",
                schemas.entity_select(entity),
            ),
            Param(
                "filter",
                "object",
                False,
                "Conditions: {FIELD: value}, prefixes = ! > >= < <= @ !@ % =% !%",
                schemas.entity_filter(entity),
            ),
            Param("order", "object", False, "{FIELD: ASC|DESC}", schemas.entity_order(entity)),
            Param("start", "integer", False, "Offset, pages of 50; -1: no total"),
        ),
        summary=f"A page of {noun}s matching a filter.",
        result=Result({"type": "array", "items": record}, page=True),
    )
    def list_(call: Call) -> ListPage:
        return records.page(call.tx, call.perms, call.params, call.budget.spend_patterns)

    return records
