"""The CRM entities b24local serves and the binding kinds between them (their types: model/).

A new entity is one :class:`EntityType` here (fields in crm/entity_fields.py, a table in a migration);
a new binding pair is one :class:`BindingKind` (and its table); the method families are built from
these two tables (methods/families.py).
"""

from __future__ import annotations

from b24local.crm.entity_fields import COMPANY_FIELDS, CONTACT_FIELDS, DEAL_FIELDS, LEAD_FIELDS
from b24local.model.entities import BindingKind, EntityType
from b24local.model.rules import (
    AddDefaults,
    EntityRules,
    OneOfRequired,
    Pipelines,
    ReturnCustomer,
    StageRule,
)

__all__ = [
    "BINDINGS",
    "COMPANY",
    "COMPANY_CONTACT",
    "CONTACT",
    "CONTACT_COMPANY",
    "DEAL",
    "DEAL_CONTACT",
    "ENTITIES",
    "LEAD",
    "LEAD_CONTACT",
    "BindingKind",
    "EntityType",
    "bindings_bound_to",
    "bindings_owned_by",
    "list_fields",
    "primary_fields",
]

LEAD_RULES = EntityRules(stages=StageRule(), return_customer=ReturnCustomer())
CONTACT_RULES = EntityRules(
    one_of_required=OneOfRequired(("NAME", "LAST_NAME"), "Required fields are not filled: NAME or LAST_NAME.")
)
DEAL_RULES = EntityRules(
    stages=StageRule(
        stage="stage_id",
        semantic_column="stage_semantic_id",
        pipelines=Pipelines(),
        closed_time=None,
        closed_flag="closed",
        new_flag="is_new",
    ),
    add_defaults=AddDefaults(title="Deal #{id}", dates=(("begindate", 0), ("closedate", 7))),
    permission_partition="category_id",
)
COMPANY_RULES = EntityRules(
    one_of_required=OneOfRequired(("TITLE",), 'The "Company Name" field is required.'),
)

LEAD = EntityType("lead", 1, "crm_lead", LEAD_FIELDS, "Lead", LEAD_RULES)
CONTACT = EntityType("contact", 3, "crm_contact", CONTACT_FIELDS, "Contact", CONTACT_RULES)
DEAL = EntityType("deal", 2, "crm_deal", DEAL_FIELDS, "Deal", DEAL_RULES)
COMPANY = EntityType("company", 4, "crm_company", COMPANY_FIELDS, "Company", COMPANY_RULES)
ENTITIES = {e.name: e for e in (LEAD, CONTACT, DEAL, COMPANY)}


LEAD_CONTACT = BindingKind(
    name="lead_contact",
    owner=LEAD,
    bound=CONTACT,
    table="crm_lead_contact",
    owner_column="lead_id",
    bound_column="contact_id",
    bound_field="CONTACT_ID",
    primary_field="CONTACT_ID",
    list_fields=("CONTACT_IDS",),
)
DEAL_CONTACT = BindingKind(
    name="deal_contact",
    owner=DEAL,
    bound=CONTACT,
    table="crm_deal_contact",
    owner_column="deal_id",
    bound_column="contact_id",
    bound_field="CONTACT_ID",
    primary_field="CONTACT_ID",
    list_fields=("CONTACT_IDS",),
)
# One relation seen from both sides (binding-family.md B3): each side its own SORT and primary.
CONTACT_COMPANY = BindingKind(
    name="contact_company",
    owner=CONTACT,
    bound=COMPANY,
    table="crm_contact_company",
    owner_column="contact_id",
    bound_column="company_id",
    bound_field="COMPANY_ID",
    primary_field="COMPANY_ID",
    list_fields=("COMPANY_IDS",),
    sort_column="contact_sort",
    role_column="contact_role_id",
    primary_column="contact_primary",
    mirror="company_contact",
)
COMPANY_CONTACT = BindingKind(
    name="company_contact",
    owner=COMPANY,
    bound=CONTACT,
    table="crm_contact_company",
    owner_column="company_id",
    bound_column="contact_id",
    bound_field="CONTACT_ID",
    primary_field=None,
    list_fields=("CONTACT_ID", "CONTACT_IDS"),
    sort_column="company_sort",
    role_column="company_role_id",
    primary_column="company_primary",
    mirror="contact_company",
)
BINDINGS = {b.name: b for b in (LEAD_CONTACT, DEAL_CONTACT, CONTACT_COMPANY, COMPANY_CONTACT)}


def bindings_owned_by(entity: EntityType) -> tuple[BindingKind, ...]:
    return tuple(b for b in BINDINGS.values() if b.owner is entity)


def bindings_bound_to(entity: EntityType) -> tuple[BindingKind, ...]:
    return tuple(b for b in BINDINGS.values() if b.bound is entity)


def primary_fields(entity: EntityType) -> dict[str, BindingKind]:
    """The owner's computed fields that show a primary binding (the lead's CONTACT_ID), by name."""
    return {
        k.primary_field: k
        for k in bindings_owned_by(entity)
        if k.primary_field is not None and k.primary_field in entity.by_name
    }


def list_fields(entity: EntityType) -> dict[str, BindingKind]:
    """The owner's write-only fields that take its whole list of bound ids (CONTACT_IDS), by name."""
    return {name: k for k in bindings_owned_by(entity) for name in k.list_fields}
