"""The storage interface every backend implements.

Methods and CRM rules speak only to :class:`Storage` and :class:`Transaction`; no SQL leaves the
backends. A call runs in one transaction: ``with storage.write() as tx: ...`` commits when the block
ends normally and rolls back on any exception.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from b24local.crm.entities import BindingKind, EntityType
from b24local.crm.query import Condition, Query


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    last_name: str
    is_admin: bool
    active: bool
    crm_access: bool = True


@dataclass(frozen=True, slots=True)
class Webhook:
    id: int
    user_id: int
    code_hash: str
    scopes: frozenset[str]
    active: bool


@dataclass(frozen=True, slots=True)
class Binding:
    bound_id: int
    sort: int
    is_primary: bool
    role_id: int = 0


@dataclass(frozen=True, slots=True)
class MultifieldRow:
    id: int
    element_id: int
    type_id: str
    value_type: str
    value: str


Row = dict[str, Any]  # column name → stored value


class Transaction(Protocol):
    # Users and webhooks.
    def user_get(self, user_id: int) -> User | None: ...
    def user_add(self, name: str, last_name: str, is_admin: bool, crm_access: bool = True) -> int: ...
    def user_count(self) -> int: ...
    def webhook_add(self, user_id: int, code_hash: str, scopes: Sequence[str]) -> int: ...
    def webhooks_of_user(self, user_id: int) -> list[Webhook]: ...
    def webhook_logins(self, user_id: int) -> list[tuple[Webhook, User]]:
        """The user's webhooks, each with the user, in one round trip (every request asks)."""
        ...

    # Entities (rows keyed by column name; "id" included).
    def entity_get(self, entity: EntityType, entity_id: int) -> Row | None: ...
    def entity_insert(self, entity: EntityType, values: Row) -> int: ...
    def entity_update(self, entity: EntityType, entity_id: int, values: Row) -> None: ...
    def entity_delete(self, entity: EntityType, entity_id: int) -> None: ...
    def entity_select(self, entity: EntityType, query: Query) -> list[Row]: ...
    def entity_count(self, entity: EntityType, where: Condition) -> int: ...

    # Multifields (PHONE, EMAIL, ...), keyed by the owning entity.
    def multifields_of(self, entity: EntityType, ids: Sequence[int]) -> dict[int, list[MultifieldRow]]: ...
    def multifield_insert(
        self, entity: EntityType, element_id: int, type_id: str, value_type: str, value: str
    ) -> int: ...
    def multifield_update(self, row_id: int, value_type: str, value: str) -> None: ...
    def multifield_delete(self, row_id: int) -> None: ...

    # Bindings, ordered by SORT then bound id.
    def bindings_get(self, kind: BindingKind, owner_id: int) -> list[Binding]: ...
    def bindings_replace(self, kind: BindingKind, owner_id: int, bindings: Sequence[Binding]) -> None: ...
    def binding_insert(self, kind: BindingKind, owner_id: int, binding: Binding) -> None: ...
    def binding_delete(self, kind: BindingKind, owner_id: int, bound_id: int) -> None: ...
    def binding_set_primary(self, kind: BindingKind, owner_id: int, bound_id: int | None) -> None: ...
    def owners_of(self, kind: BindingKind, bound_id: int) -> list[int]: ...
    def primaries(self, kind: BindingKind, owner_ids: Sequence[int]) -> dict[int, int]: ...
    def access_rows(self, entity: EntityType, ids: Sequence[int]) -> dict[int, Row]:
        """The existing ones of ``ids`` with the columns permissions look at (id, assigned_by_id, opened)."""
        ...


class Storage(Protocol):
    def read(self) -> AbstractContextManager[Transaction]: ...
    def write(self) -> AbstractContextManager[Transaction]: ...
    def close(self) -> None: ...


def chunks(ids: Sequence[int], size: int = 500) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
