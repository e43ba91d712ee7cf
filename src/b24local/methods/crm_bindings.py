"""The binding family: crm.<owner>.<bound>.fields/add/delete/items.get/items.set/items.delete.

One generic implementation over a :class:`~b24local.crm.entities.BindingKind` (contract
binding-family.md; lead-contact-bindings.md is its first row): :func:`register_binding_family` is called
once per relation by methods/families.py. Each handler checks E9, decodes its declared parameters
(methods/binding_schemas.py: id, then the parameter's shape) into a command, and hands it to the
:class:`~b24local.crm.binding_service.BindingService`, which runs the rest in the contract's order
(E8, E7, E6/E12, E10/E11) before it writes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from b24local.crm.binding_service import BindingService
from b24local.crm.commands import AddBinding, RemoveBinding, SetBindings
from b24local.crm.entities import BindingKind
from b24local.methods import schemas
from b24local.methods.binding_schemas import BindingSchemas, plural
from b24local.methods.registry import Call, Handler, Param, Result, method
from b24local.storage.base import Binding


def register_binding_family(kind: BindingKind) -> BindingService:
    """Register the six methods of ``kind`` and return the service behind them."""
    service = BindingService(kind)
    shapes = BindingSchemas(kind)
    _register_reads(kind, service, shapes)
    _register_set(kind, service, shapes)
    _register_one(kind, service, shapes)
    return service


def _items(key: str, bindings: Sequence[Binding]) -> list[dict[str, Any]]:
    """Bindings as items.get prints them: one comprehension, no call per binding (the hottest read)."""
    return [
        {key: b.bound_id, "SORT": b.sort, "ROLE_ID": b.role_id, "IS_PRIMARY": "Y" if b.is_primary else "N"}
        for b in bindings
    ]


def _write_method(name: str, params: tuple[Param[Any], ...], summary: str) -> Callable[[Handler], Handler]:
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
        service.check_crm_access(call.perms)
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
        service.check_crm_access(call.perms)
        owner_id = shapes.id_param.read(call.params)
        return _items(kind.bound_field, service.items(call.tx, call.perms, owner_id))


def _register_set(kind: BindingKind, service: BindingService, shapes: BindingSchemas) -> None:
    owner, bound = kind.owner.name, kind.bound.name

    @_write_method(
        f"{shapes.prefix}.items.set",
        (shapes.id_param, shapes.items_param),
        f"Replace the {plural(bound)} bound to a {owner}.",
    )
    def items_set(call: Call) -> bool:
        service.check_crm_access(call.perms)
        command = SetBindings(shapes.id_param.read(call.params), shapes.items_param.read(call.params))
        service.replace(call.tx, call.perms, command)
        return True

    @_write_method(
        f"{shapes.prefix}.items.delete", (shapes.id_param,), f"Unbind every {bound} from a {owner}."
    )
    def items_delete(call: Call) -> bool:
        service.check_crm_access(call.perms)
        service.clear(call.tx, call.perms, shapes.id_param.read(call.params))
        return True


def _register_one(kind: BindingKind, service: BindingService, shapes: BindingSchemas) -> None:
    owner, bound = kind.owner.name, kind.bound.name

    @_write_method(
        f"{shapes.prefix}.add",
        (shapes.quoted_id_param, shapes.add_fields_param),
        f"Bind one {bound} to a {owner}.",
    )
    def add(call: Call) -> bool:
        service.check_crm_access(call.perms)
        params = call.params
        command = AddBinding(shapes.quoted_id_param.read(params), shapes.add_fields_param.read(params))
        return service.add(call.tx, call.perms, command)

    @_write_method(
        f"{shapes.prefix}.delete",
        (shapes.quoted_id_param, shapes.delete_fields_param),
        f"Unbind one {bound} from a {owner}.",
    )
    def delete(call: Call) -> bool:
        service.check_crm_access(call.perms)
        owner_id = shapes.quoted_id_param.read(call.params)
        bound_id = shapes.delete_fields_param.read(call.params).bound_id
        return service.remove(call.tx, call.perms, RemoveBinding(owner_id, bound_id))
