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
    """Bindings of ``bound`` entities to an ``owner`` (lead ↔ contact, deal ↔ contact, ...).

    One row per (owner, bound) with SORT, ROLE_ID and IS_PRIMARY as the owner sees them. A
    relation seen from both sides (contact ↔ company, contract binding-family.md B3) is two kinds
    over one table, each with its own SORT/ROLE_ID/IS_PRIMARY columns, naming each other ``mirror``.
    """

    name: str
    owner: EntityType
    bound: EntityType
    table: str
    owner_column: str
    bound_column: str
    #: The key of the bound id inside a binding object: "CONTACT_ID".
    bound_field: str
    #: The owner's computed field that shows the primary bound id (the lead's CONTACT_ID); None: none.
    primary_field: str | None
    #: The owner's write-only fields that take the whole list of bound ids (CONTACT_IDS).
    list_fields: tuple[str, ...] = ()
    sort_column: str = "sort"
    role_column: str = "role_id"
    primary_column: str = "is_primary"
    #: The name of the kind that holds the same rows seen from the bound side.
    mirror: str | None = None
