"""A storage-neutral description of a list query: conditions, order, page.

Built by the CRM layer from `filter`/`order`/`select`, compiled to SQL by each storage backend. Field
names never reach SQL text: terms name columns from the field definitions only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Op = Literal[
    "eq",
    "ne",
    "gt",
    "ge",
    "lt",
    "le",
    "in",
    "not_in",
    "contains",
    "not_contains",
    "like",
    "not_like",
    "is_null",
    "not_null",
]


@dataclass(frozen=True, slots=True)
class Column:
    name: str  # a column of the entity's table, from Field.column


@dataclass(frozen=True, slots=True)
class MultifieldValue:
    type_id: str  # PHONE, EMAIL, ...


@dataclass(frozen=True, slots=True)
class PrimaryBound:
    binding: str  # a BindingKind name: the owner's computed field (the lead's CONTACT_ID)


Term = Column | MultifieldValue | PrimaryBound


@dataclass(frozen=True, slots=True)
class Cond:
    term: Term
    op: Op
    value: Any = None


@dataclass(frozen=True, slots=True)
class AnyOf:
    """True when at least one part is (an empty AnyOf is false)."""

    parts: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AllOf:
    """True when every part is (an empty AllOf is true)."""

    parts: tuple[Condition, ...]


Condition = Cond | AnyOf | AllOf


@dataclass(slots=True)
class Query:
    where: Condition = field(default_factory=lambda: AllOf(()))
    order: list[tuple[Term, bool]] = field(default_factory=list)  # (term, descending)
    offset: int = 0
    limit: int | None = 50
