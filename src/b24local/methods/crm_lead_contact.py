"""crm.lead.contact.*: the lead ↔ contact bindings (contract lead-contact-bindings.md).

Parameter parsing lives here; the rules live in :mod:`b24local.crm.bindings`. Every handler runs its
checks in the contract's order (E9, id, parameter shape, E8, E7, E6/E12, E10/E11) before it writes.
"""

from __future__ import annotations

from typing import Any

from b24local.crm.bindings import BindingEngine, Wanted
from b24local.crm.entities import LEAD_CONTACT, BindingKind
from b24local.crm.permissions import Action
from b24local.crm.values import as_php_array, id_param, is_numeric_id, param, php_int
from b24local.methods import schemas
from b24local.methods.registry import Call, Param, Result, method
from b24local.protocol.errors import ApiError, bad_request
from b24local.storage.base import Row

KIND: BindingKind = LEAD_CONTACT
ENGINE = BindingEngine(KIND)
BOUND_TITLE = "Contact"

ID_PARAM = Param("id", "integer", True, "Lead ID", schemas.RECORD_ID)

_BOUND_ID: dict[str, Any] = {"type": "integer", "minimum": 1}
BINDING_INPUT = schemas.named(
    "LeadContactInput",
    {
        "type": "object",
        "required": [KIND.bound_field],
        "properties": {
            KIND.bound_field: _BOUND_ID,
            "SORT": {"type": "integer"},
            "IS_PRIMARY": schemas.YES_NO,
        },
    },
)
BINDING = schemas.named(
    "LeadContactBinding",
    schemas.strict_object(
        {
            KIND.bound_field: _BOUND_ID,
            "SORT": {"type": "integer"},
            "ROLE_ID": {"type": "integer"},
            "IS_PRIMARY": schemas.YES_NO,
        },
        (KIND.bound_field, "SORT", "ROLE_ID", "IS_PRIMARY"),
    ),
)

FIELD_DESCRIPTIONS: dict[str, dict[str, Any]] = {
    "SORT": {"type": "integer", "title": "Sorting", "isRequired": False},
    "IS_PRIMARY": {"type": "char", "title": "Primary", "isRequired": False},
    KIND.bound_field: {"type": "integer", "title": BOUND_TITLE, "isRequired": True},
}


def _describe(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": spec["type"],
        "isRequired": spec["isRequired"],
        "isReadOnly": False,
        "isImmutable": False,
        "isMultiple": False,
        "isDynamic": False,
        "title": spec["title"],
    }


def _check_any_crm_access(call: Call) -> None:
    if not call.perms.can_read_any_crm():
        raise bad_request("Access denied.")  # E9


def _owner_id(call: Call, quoted: bool) -> int:
    owner_id = id_param(call.params)
    if owner_id <= 0:  # E1 / E2 (the portal quotes the name in add/delete only)
        name = "'ownerEntityID'" if quoted else "ownerEntityID"
        raise bad_request(f"The parameter {name} is invalid or not defined.")
    return owner_id


def _check_owner(call: Call, owner_id: int, actions: tuple[Action, ...]) -> None:
    _check_owner_row(call, call.tx.access_rows(KIND.owner, [owner_id]).get(owner_id), actions)


def _check_owner_row(call: Call, row: Row | None, actions: tuple[Action, ...]) -> None:
    """E8 before E7: a caller below level "all" learns nothing about leads it may not see."""
    for action in actions:
        if not call.perms.can(KIND.owner, action, row):
            raise ApiError(403, "ACCESS_DENIED", "Access denied!")
    if row is None:
        raise ApiError(400, "NOT_FOUND", "Not found.")


def _check_bound(call: Call, bound_ids: list[int], must_exist: bool) -> None:
    """E10/E11 for each contact in request order."""
    rows = call.tx.access_rows(KIND.bound, bound_ids)
    for bound_id in dict.fromkeys(bound_ids):
        row = rows.get(bound_id)
        if row is None and must_exist:
            raise ApiError(400, "NOT_FOUND", f"{BOUND_TITLE} #{bound_id} not found.")
        if not call.perms.can(KIND.bound, "read", row):
            raise bad_request(f"[{BOUND_TITLE} #{bound_id}] Access denied.")


def _fields_object(call: Call, description: str) -> dict[str, Any]:
    fields = param(call.params, "fields")
    if isinstance(fields, list):
        fields = dict(enumerate(fields))
    if not isinstance(fields, dict):
        raise bad_request(description)  # E3 / E4
    return fields


def _fields_bound_id(fields: dict[str, Any]) -> int:
    bound_id = php_int(fields.get(KIND.bound_field))
    if bound_id <= 0:
        raise bad_request("The parameter 'fields' is not valid.")  # E6
    return bound_id


@method(
    "crm.lead.contact.fields",
    scope="crm",
    summary="Fields of a lead–contact binding.",
    result=schemas.FIELD_DESCRIPTIONS,
)
def fields(call: Call) -> dict[str, Any]:
    _check_any_crm_access(call)
    return {name: _describe(spec) for name, spec in FIELD_DESCRIPTIONS.items()}


@method(
    "crm.lead.contact.items.get",
    scope="crm",
    params=(ID_PARAM,),
    summary="Contacts bound to a lead.",
    result=Result({"type": "array", "items": BINDING}),
    snapshot=False,  # the lead and its bindings are one statement
)
def items_get(call: Call) -> list[dict[str, Any]]:
    _check_any_crm_access(call)
    owner_id = _owner_id(call, quoted=False)
    row, bindings = ENGINE.get_with_owner(call.tx, owner_id)  # one read: the hottest call there is
    _check_owner_row(call, row, ("read",))
    field = KIND.bound_field
    return [
        {field: b.bound_id, "SORT": b.sort, "ROLE_ID": b.role_id, "IS_PRIMARY": "Y" if b.is_primary else "N"}
        for b in bindings
    ]


def _wanted(items: list[Any]) -> list[Wanted]:
    out = []
    for index, item in enumerate(items):
        raw = item.get(KIND.bound_field) if isinstance(item, dict) else None
        if not is_numeric_id(raw) or php_int(raw) <= 0:  # E12
            raise bad_request(
                f"The parameter items is not valid: item #{index} has no valid {KIND.bound_field}."
            )
        assert isinstance(item, dict)
        sort = php_int(item["SORT"]) if item.get("SORT") is not None else None
        out.append(Wanted(php_int(raw), sort, item.get("IS_PRIMARY") == "Y"))
    return out


@method(
    "crm.lead.contact.items.set",
    scope="crm",
    write=True,
    params=(
        ID_PARAM,
        Param(
            "items",
            "object[]",
            True,
            "CONTACT_ID, SORT, IS_PRIMARY of each contact",
            {"type": "array", "items": BINDING_INPUT},
        ),
    ),
    summary="Replace the contacts bound to a lead.",
    result=schemas.BOOLEAN,
)
def items_set(call: Call) -> bool:
    _check_any_crm_access(call)
    owner_id = _owner_id(call, quoted=False)
    items = as_php_array(param(call.params, "items"))
    if items is None:
        raise bad_request("The parameter items must be array.")  # E5
    _check_owner(call, owner_id, ("update",))
    wanted = _wanted(items)
    _check_bound(call, [w.bound_id for w in wanted], must_exist=True)
    ENGINE.replace(call.tx, owner_id, wanted)
    return True


@method(
    "crm.lead.contact.items.delete",
    scope="crm",
    write=True,
    params=(ID_PARAM,),
    summary="Unbind every contact from a lead.",
    result=schemas.BOOLEAN,
)
def items_delete(call: Call) -> bool:
    _check_any_crm_access(call)
    owner_id = _owner_id(call, quoted=False)
    _check_owner(call, owner_id, ("read", "update"))
    ENGINE.clear(call.tx, owner_id)
    return True


@method(
    "crm.lead.contact.add",
    scope="crm",
    write=True,
    params=(ID_PARAM, Param("fields", "object", True, "CONTACT_ID, SORT, IS_PRIMARY", BINDING_INPUT)),
    summary="Bind one contact to a lead.",
    result=schemas.BOOLEAN,
)
def add(call: Call) -> bool:
    _check_any_crm_access(call)
    owner_id = _owner_id(call, quoted=True)
    fields = _fields_object(call, "The parameter 'fields' must be array.")
    _check_owner(call, owner_id, ("update",))
    bound_id = _fields_bound_id(fields)
    _check_bound(call, [bound_id], must_exist=True)
    sort = php_int(fields["SORT"]) if fields.get("SORT") is not None else None
    return ENGINE.add(call.tx, owner_id, bound_id, sort, fields.get("IS_PRIMARY") == "Y")


@method(
    "crm.lead.contact.delete",
    scope="crm",
    write=True,
    params=(
        ID_PARAM,
        Param(
            "fields",
            "object",
            True,
            "CONTACT_ID",
            {"type": "object", "required": [KIND.bound_field], "properties": {KIND.bound_field: _BOUND_ID}},
        ),
    ),
    summary="Unbind one contact from a lead.",
    result=schemas.BOOLEAN,
)
def delete(call: Call) -> bool:
    _check_any_crm_access(call)
    owner_id = _owner_id(call, quoted=True)
    fields = _fields_object(call, "The parameter 'item' must be array.")
    _check_owner(call, owner_id, ("update",))
    bound_id = _fields_bound_id(fields)
    _check_bound(call, [bound_id], must_exist=False)
    return ENGINE.remove(call.tx, owner_id, bound_id)
