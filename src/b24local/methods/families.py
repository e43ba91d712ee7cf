"""The method families b24local serves: the one list a new family is added to.

Importing a family registers its methods; the registry itself imports none of them, so that a family
may import the registry without a circle. The CRUD family is registered here for every entity of
crm.entities.ENTITIES, and the binding family for every relation of crm.entities.BINDINGS.
"""

from __future__ import annotations

from b24local.crm.binding_service import BindingService
from b24local.crm.entities import BINDINGS, ENTITIES
from b24local.crm.records import Records
from b24local.methods import batch, system
from b24local.methods.crm_bindings import register_binding_family
from b24local.methods.crm_crud import register_family
from b24local.methods.registry import REGISTRY, AnyMethod

FAMILIES = (system, batch)
RECORDS: dict[str, Records] = {name: register_family(entity) for name, entity in ENTITIES.items()}
BINDING_SERVICES: dict[str, BindingService] = {
    name: register_binding_family(kind) for name, kind in BINDINGS.items()
}


def load_all() -> dict[str, AnyMethod]:
    """Every registered method by lower-case name (the families above registered on import)."""
    return REGISTRY
