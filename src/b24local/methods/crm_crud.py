"""The CRUD method family of a CRM entity type: crm.<entity>.fields/add/get/update/delete/list.

One generic implementation over :class:`~b24local.crm.records.Records`; each entity's module is one
call of :func:`register_family` (contract crud.md). Each handler asks the service whether the caller
may do the action at all, then decodes its declared parameters into a command, then runs it: a caller
without access learns "Access denied." before any word about its parameters, as on a portal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from b24local.crm.commands import AddRecord, ListRecords, UpdateRecord
from b24local.crm.entities import EntityType
from b24local.crm.records import Records
from b24local.methods import decode, schemas
from b24local.methods.binding_schemas import plural
from b24local.methods.registry import Call, Param, Result, method
from b24local.model.page import ListPage


def register_family(entity: EntityType) -> Records:
    """Register the six methods of ``entity`` and return the service behind them."""
    records = Records(entity)
    prefix = f"crm.{entity.name}"
    noun = entity.title.lower()
    id_param = Param(
        "id",
        "integer",
        True,
        f"{entity.title} ID",
        schemas.RECORD_ID,
        decode.positive_id("ID is not defined or invalid."),
    )
    fields_schema = schemas.entity_input(entity)
    fields_text = f"Field values, see {prefix}.fields"
    fields_reader = decode.array("Parameter 'fields' must be array.")
    fields_param = Param("fields", "object", True, fields_text, fields_schema, fields_reader)
    new_fields_schema = schemas.entity_new_input(entity, fields_schema)
    new_fields_param = Param("fields", "object", True, fields_text, new_fields_schema, fields_reader)
    options_param = Param(
        "params",
        "object",
        False,
        "Additional options (accepted, not used yet)",
        reader=decode.array_or_none("Parameter 'params' must be array."),
    )
    record = schemas.entity_record(entity)

    def fields_of(params: Mapping[str, Any]) -> Mapping[Any, Any]:
        """``fields``, once ``params`` (read after it) is an array or absent (M1)."""
        fields = fields_param.read(params)
        options_param.read(params)
        return fields

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
        records.check_level(call.perms, "add")
        return records.add(call.tx, call.perms, AddRecord(fields_of(call.params)))

    @method(
        f"{prefix}.get", scope="crm", params=(id_param,), summary=f"One {noun} by ID.", result=Result(record)
    )
    def get(call: Call) -> dict[str, Any]:
        records.check_level(call.perms, "read")
        return records.get(call.tx, call.perms, id_param.read(call.params))

    @method(
        f"{prefix}.update",
        scope="crm",
        write=True,
        params=(id_param, fields_param, options_param),
        summary=f"Change the given fields of a {noun}.",
        result=schemas.BOOLEAN,
    )
    def update(call: Call) -> bool:
        records.check_level(call.perms, "update")
        command = UpdateRecord(id_param.read(call.params), fields_of(call.params))
        return records.update(call.tx, call.perms, command)

    @method(
        f"{prefix}.delete",
        scope="crm",
        write=True,
        params=(id_param,),
        summary=f"Delete a {noun}.",
        result=schemas.BOOLEAN,
    )
    def delete(call: Call) -> bool:
        records.check_level(call.perms, "delete")
        return records.delete(call.tx, call.perms, id_param.read(call.params))

    select = Param(
        "select",
        "string[]",
        False,
        "Fields to return; default * (all but multifields)",
        schemas.entity_select(entity),
        decode.names,
    )
    filter_ = Param(
        "filter",
        "object",
        False,
        "Conditions: {FIELD: value}, prefixes = ! > >= < <= @ !@ % =% !%",
        schemas.entity_filter(entity),
        decode.array_or_empty("Parameter 'filter' must be array."),
    )
    order = Param(
        "order",
        "object",
        False,
        "{FIELD: ASC|DESC}",
        schemas.entity_order(entity),
        decode.array_or_empty("Parameter 'order' must be array."),
    )
    start = Param("start", "integer", False, "Offset, pages of 50; -1: no total", reader=decode.integer)

    @method(
        f"{prefix}.list",
        scope="crm",
        params=(select, filter_, order, start),
        summary=f"A page of {plural(noun)} matching a filter.",
        result=Result({"type": "array", "items": record}, page=True),
    )
    def list_(call: Call) -> ListPage:
        records.check_level(call.perms, "read")
        p = call.params  # read in this order: a bad filter is reported before a bad order
        command = ListRecords(filter_.read(p), order.read(p), select.read(p), start.read(p))
        return records.page(call.tx, call.perms, command, call.budget.spend_patterns)

    return records
