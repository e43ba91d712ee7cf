"""The types of a CRM entity and of a binding kind between two entities (declared in crm/entities.py)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from b24local.model.fields import Field
from b24local.model.rules import EntityRules


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
