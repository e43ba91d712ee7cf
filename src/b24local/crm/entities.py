"""CRM entity types and the binding kinds between them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from b24local.crm.entity_fields import CONTACT_FIELDS, LEAD_FIELDS
from b24local.crm.fields import Field
from b24local.crm.rules import CONTACT_RULES, LEAD_RULES, EntityRules


@dataclass(frozen=True)
class EntityType:
    name: str  # "lead", "contact"
    type_id: int  # Bitrix24 CRM entity type id: lead 1, contact 3
    table: str
    fields: tuple[Field, ...]
    title: str
    #: What the service does beyond fields and bindings: required names, stages, flags.
    rules: EntityRules

    @cached_property
    def by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    @cached_property
    def columns(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.storage == "column" and f.name != "ID")


LEAD = EntityType("lead", 1, "crm_lead", LEAD_FIELDS, "Lead", LEAD_RULES)
CONTACT = EntityType("contact", 3, "crm_contact", CONTACT_FIELDS, "Contact", CONTACT_RULES)
ENTITIES = {e.name: e for e in (LEAD, CONTACT)}


@dataclass(frozen=True)
class BindingKind:
    """Bindings of ``bound`` entities to an ``owner`` (lead ↔ contact; deal ↔ contact later).

    One row per (owner, bound) with SORT, ROLE_ID and IS_PRIMARY; the owner's ``owner_field`` (the
    lead's CONTACT_ID) is the primary binding's bound id.
    """

    name: str
    owner: EntityType
    bound: EntityType
    table: str
    owner_column: str
    bound_column: str
    owner_field: str  # the owner's computed field that shows the primary bound id
    bound_field: str  # the key of the bound id inside a binding object: "CONTACT_ID"


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
