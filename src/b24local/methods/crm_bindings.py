"""The binding family: crm.<owner>.<bound>.fields/add/delete/items.get/items.set/items.delete.

One generic implementation over a :class:`~b24local.crm.entities.BindingKind` (contract
binding-family.md; lead-contact-bindings.md is its first row): :func:`register_binding_family` is called
once per relation by methods/families.py. Parameter parsing lives here; the owner and bound-entity
checks and the writes live in :class:`~b24local.crm.binding_service.BindingService`. Every handler runs
its checks in the contract's order (E9, id, parameter shape, E8, E7, E6/E12, E10/E11) before it writes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from b24local.crm.binding_service import BindingService
from b24local.crm.bindings import Wanted
from b24local.crm.entities import BindingKind
from b24local.crm.values import as_php_array, id_param, is_numeric_id, param, php_int, php_map
from b24local.methods import schemas
from b24local.methods.binding_schemas import BindingSchemas, plural
from b24local.methods.registry import Call, Handler, Param, Result, method
from b24local.protocol.errors import bad_request
from b24local.storage.base import Binding


def register_binding_family(kind: BindingKind) -> BindingService:
    """Register the six methods of ``kind`` and return the service behind them."""
    service = BindingService(kind)
    shapes = BindingSchemas(kind)
    _register_reads(kind, service, shapes)
    _register_set(kind, service, shapes)
    _register_one(kind, service, shapes)
    return service


# Parameters (the checks before E8 and the ones between E7 and E10) ------------------------------


def _check_any_crm_access(call: Call) -> None:
    if not call.perms.can_read_any_crm():
        raise bad_request("Access denied.")  # E9


def _owner_id(call: Call, quoted: bool) -> int:
    owner_id = id_param(call.params)
    if owner_id <= 0:  # E1 / E2 (the portal quotes the name in add/delete only)
        name = "'ownerEntityID'" if quoted else "ownerEntityID"
        raise bad_request(f"The parameter {name} is invalid or not defined.")
    return owner_id


def _fields_object(call: Call, description: str) -> dict[Any, Any]:
    fields = php_map(param(call.params, "fields"))
    if fields is None:
        raise bad_request(description)  # E3 / E4
    return fields


def _fields_bound_id(kind: BindingKind, fields: dict[Any, Any]) -> int:
    bound_id = php_int(fields.get(kind.bound_field))
    if bound_id <= 0:
        raise bad_request("The parameter 'fields' is not valid.")  # E6
    return bound_id


def _optional_sort(item: dict[Any, Any]) -> int | None:
    return php_int(item["SORT"]) if item.get("SORT") is not None else None


def _wanted(kind: BindingKind, items: list[Any]) -> list[Wanted]:
    out = []
    for index, item in enumerate(items):
        raw = item.get(kind.bound_field) if isinstance(item, dict) else None
        if not isinstance(item, dict) or not is_numeric_id(raw) or php_int(raw) <= 0:  # E12
            raise bad_request(
                f"The parameter items is not valid: item #{index} has no valid {kind.bound_field}."
            )
        out.append(Wanted(php_int(raw), _optional_sort(item), item.get("IS_PRIMARY") == "Y"))
    return out


def _item(kind: BindingKind, binding: Binding) -> dict[str, Any]:
    primary = "Y" if binding.is_primary else "N"
    return {
        kind.bound_field: binding.bound_id,
        "SORT": binding.sort,
        "ROLE_ID": binding.role_id,
        "IS_PRIMARY": primary,
    }


def _write_method(name: str, params: tuple[Param, ...], summary: str) -> Callable[[Handler], Handler]:
    """The four writes of the family: scope crm, one write transaction, answer true or false."""
    return method(name, scope="crm", write=True, params=params, summary=summary, result=schemas.BOOLEAN)


# The methods -------------------------------------------------------------------------------------


def _register_reads(kind: BindingKind, service: BindingService, shapes: BindingSchemas) -> None:
    owner, bound = kind.owner.name, kind.bound.name

    @method(
        f"{shapes.prefix}.fields",
        scope="crm",
        summary=f"Fields of a {owner}–{bound} binding.",
        result=schemas.FIELD_DESCRIPTIONS,
    )
    def fields(call: Call) -> dict[str, Any]:
        _check_any_crm_access(call)
        return shapes.field_descriptions()

    @method(
        f"{shapes.prefix}.items.get",
        scope="crm",
        params=(shapes.id_param,),
        summary=f"{plural(kind.bound.title)} bound to a {owner}.",
        result=Result({"type": "array", "items": shapes.binding}),
        snapshot=False,  # the owner and its bindings are one statement
    )
    def items_get(call: Call) -> list[dict[str, Any]]:
        _check_any_crm_access(call)
        owner_id = _owner_id(call, quoted=False)
        return [_item(kind, b) for b in service.items(call.tx, call.perms, owner_id)]


def _register_set(kind: BindingKind, service: BindingService, shapes: BindingSchemas) -> None:
    owner, bound = kind.owner.name, kind.bound.name

    @_write_method(
        f"{shapes.prefix}.items.set",
        (shapes.id_param, shapes.items_param),
        f"Replace the {plural(bound)} bound to a {owner}.",
    )
    def items_set(call: Call) -> bool:
        _check_any_crm_access(call)
        owner_id = _owner_id(call, quoted=False)
        items = as_php_array(param(call.params, "items"))
        if items is None:
            raise bad_request("The parameter items must be array.")  # E5
        service.check_owner(call.tx, call.perms, owner_id, ("update",))
        service.replace(call.tx, call.perms, owner_id, _wanted(kind, items))
        return True

    @_write_method(
        f"{shapes.prefix}.items.delete", (shapes.id_param,), f"Unbind every {bound} from a {owner}."
    )
    def items_delete(call: Call) -> bool:
        _check_any_crm_access(call)
        owner_id = _owner_id(call, quoted=False)
        service.check_owner(call.tx, call.perms, owner_id, ("read", "update"))
        service.engine.clear(call.tx, owner_id)
        return True


def _register_one(kind: BindingKind, service: BindingService, shapes: BindingSchemas) -> None:
    owner, bound = kind.owner.name, kind.bound.name

    @_write_method(
        f"{shapes.prefix}.add", (shapes.id_param, shapes.add_fields_param), f"Bind one {bound} to a {owner}."
    )
    def add(call: Call) -> bool:
        _check_any_crm_access(call)
        owner_id = _owner_id(call, quoted=True)
        fields = _fields_object(call, "The parameter 'fields' must be array.")
        service.check_owner(call.tx, call.perms, owner_id, ("update",))
        bound_id = _fields_bound_id(kind, fields)
        primary = fields.get("IS_PRIMARY") == "Y"
        return service.add(
            call.tx, call.perms, owner_id, bound_id, sort=_optional_sort(fields), primary=primary
        )

    @_write_method(
        f"{shapes.prefix}.delete",
        (shapes.id_param, shapes.delete_fields_param),
        f"Unbind one {bound} from a {owner}.",
    )
    def delete(call: Call) -> bool:
        _check_any_crm_access(call)
        owner_id = _owner_id(call, quoted=True)
        fields = _fields_object(call, "The parameter 'item' must be array.")
        service.check_owner(call.tx, call.perms, owner_id, ("update",))
        return service.remove(call.tx, call.perms, owner_id, _fields_bound_id(kind, fields))
