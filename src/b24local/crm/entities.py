"""The CRM entities b24local serves and the binding kinds between them (their types: model/)."""

from __future__ import annotations

from b24local.crm.entity_fields import CONTACT_FIELDS, LEAD_FIELDS
from b24local.model.entities import BindingKind, EntityType
from b24local.model.rules import EntityRules, OneOfRequired, ReturnCustomer, StageRule

__all__ = [
    "BINDINGS",
    "CONTACT",
    "ENTITIES",
    "LEAD",
    "LEAD_CONTACT",
    "BindingKind",
    "EntityType",
    "bindings_bound_to",
    "bindings_owned_by",
]

LEAD_RULES = EntityRules(stages=StageRule(), return_customer=ReturnCustomer())
CONTACT_RULES = EntityRules(
    one_of_required=OneOfRequired(("NAME", "LAST_NAME"), "Required fields are not filled: NAME or LAST_NAME.")
)


LEAD = EntityType("lead", 1, "crm_lead", LEAD_FIELDS, "Lead", LEAD_RULES)
CONTACT = EntityType("contact", 3, "crm_contact", CONTACT_FIELDS, "Contact", CONTACT_RULES)
ENTITIES = {e.name: e for e in (LEAD, CONTACT)}


LEAD_CONTACT = BindingKind(
    name="lead_contact",
    owner=LEAD,
    bound=CONTACT,
    table="crm_lead_contact",
    owner_column="lead_id",
    bound_column="contact_id",
    owner_field="CONTACT_ID",
    bound_field="CONTACT_ID",
)
BINDINGS = {b.name: b for b in (LEAD_CONTACT,)}


def bindings_owned_by(entity: EntityType) -> tuple[BindingKind, ...]:
    return tuple(b for b in BINDINGS.values() if b.owner is entity)


def bindings_bound_to(entity: EntityType) -> tuple[BindingKind, ...]:
    return tuple(b for b in BINDINGS.values() if b.bound is entity)
