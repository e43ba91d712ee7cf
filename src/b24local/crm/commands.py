"""What a call asks of the CRM services, decoded: methods/ reads the REST parameters into these.

A service takes one of these (or a bare id) and never sees a parameter map. Values inside ``fields``
and ``filter`` are still as the caller wrote them: converting field values is the entity's business
(crm/input.py, crm/listing.py). Binding ids ≤ 0 name nothing; the binding service refuses them in the
contract's order, after the owner check (E6, E12).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from b24local.crm.bindings import Wanted


@dataclass(frozen=True, slots=True)
class AddRecord:
    fields: Mapping[Any, Any]  # field name → value, as given (keys of a PHP array may be ints)


@dataclass(frozen=True, slots=True)
class UpdateRecord:
    id: int
    fields: Mapping[Any, Any]


@dataclass(frozen=True, slots=True)
class ListRecords:
    filter: Mapping[Any, Any]  # `filter` key (operator prefix + field name) → value(s)
    order: Mapping[Any, Any]  # field name → ASC|DESC
    select: tuple[str, ...]  # field names as given; () or "*": every field but multifields
    start: int  # offset; -1: no total (Q2)


@dataclass(frozen=True, slots=True)
class AddBinding:
    owner_id: int
    binding: Wanted


@dataclass(frozen=True, slots=True)
class RemoveBinding:
    owner_id: int
    bound_id: int


@dataclass(frozen=True, slots=True)
class SetBindings:
    owner_id: int
    items: tuple[Wanted, ...]  # in request order: an item's position is its index in E12
