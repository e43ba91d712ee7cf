"""The storage interface every backend implements.

Methods and CRM rules speak only to :class:`Storage` and :class:`Transaction`; no SQL leaves the
backends. The transaction's methods are grouped by concern (:class:`UserStore`, :class:`OAuthStore`,
:class:`LimitStore`, :class:`AccessStore`, :class:`CrmStore`), and a consumer that needs one group
declares that one. A call runs in one transaction: ``with storage.write() as tx: ...`` commits when the block
ends normally and rolls back on any exception.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from b24local.model.entities import BindingKind, EntityType
from b24local.model.query import Condition, Query


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


class Binding(NamedTuple):
    """One bound item of an owner. A named tuple: ``items.get`` makes five per call, and a tuple is
    made in half the time of a frozen dataclass."""

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


@dataclass(frozen=True, slots=True)
class OAuthApp:
    id: int
    name: str
    client_id: str
    secret_hash: str
    scopes: frozenset[str]
    redirect_uri: str
    version: int
    active: bool


@dataclass(frozen=True, slots=True)
class OAuthLogin:
    """An access token's pair with its application and user (what a call authenticates against)."""

    token_id: int
    access_hash: str
    access_expires_at: int
    app: OAuthApp
    user: User


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    """A saved snapshot (contract test-portal.md T4): its name, when (Unix seconds), rows per table."""

    name: str
    taken_at: float
    counts: dict[str, int]


Row = dict[str, Any]  # column name → stored value


class UserStore(Protocol):
    """Users and webhooks (auth/webhooks.py, the CLI)."""

    def user_get(self, user_id: int) -> User | None: ...
    def user_add(self, name: str, last_name: str, is_admin: bool, crm_access: bool = True) -> int: ...
    def user_count(self) -> int: ...
    def webhook_add(self, user_id: int, code_hash: str, scopes: Sequence[str]) -> int: ...
    def webhooks_of_user(self, user_id: int) -> list[Webhook]: ...
    def webhook_logins(self, user_id: int) -> list[tuple[Webhook, User]]:
        """The user's webhooks, each with the user, in one round trip."""
        ...

    def auth_epoch(self) -> int:
        """A number every change of a user or a webhook moves on (auth/login_cache.py); every
        webhook request asks."""
        ...

    def webhook_set_active(self, webhook_id: int, active: bool) -> None: ...
    def webhook_delete(self, webhook_id: int) -> None: ...
    def webhooks_all(self) -> list[Webhook]:
        """Every webhook of every user, by id (``webhook list``)."""
        ...

    def setting_get(self, name: str) -> str | None:
        """A setting of the installation (migration 10), None when never set."""
        ...

    def setting_set(self, name: str, value: str) -> None: ...


class OAuthStore(Protocol):
    """OAuth 2.0 applications (auth/oauth.py). Hashes only; ``now`` in Unix seconds."""

    def oauth_member_id(self) -> str: ...
    def oauth_app_add(
        self, name: str, client_id: str, secret_hash: str, scopes: Sequence[str], redirect_uri: str
    ) -> int: ...
    def oauth_app_by_client_id(self, client_id: str) -> OAuthApp | None: ...
    def oauth_app_get(self, app_id: int) -> OAuthApp | None: ...
    def oauth_code_add(self, app_id: int, user_id: int, code_hash: str, expires_at: int) -> None: ...
    def oauth_code_take(self, app_id: int, code_hash: str, now: float) -> int | None:
        """Marks an unused, unexpired code of the app used (compare-and-set); its user id, or None."""
        ...

    def oauth_token_add(
        self,
        app_id: int,
        user_id: int,
        *,
        access_hash: str,
        access_expires_at: int,
        refresh_hash: str,
        refresh_expires_at: int,
    ) -> int: ...
    def oauth_refresh_take(self, app_id: int, refresh_hash: str, now: float) -> int | None:
        """Marks an unused, unexpired refresh token of the app used (compare-and-set); its user id."""
        ...

    def oauth_login(self, access_hash: str) -> OAuthLogin | None: ...


class LimitStore(Protocol):
    """Portal limits shared by server processes (auth/limit_state.py); times in Unix seconds."""

    def limit_take(self, fits: float, drain: float, now: float) -> bool:
        """Drain the request bucket to ``now`` and admit one request if its level stays within
        ``fits`` (a write)."""
        ...

    def operating_usage(
        self, key: tuple[str, int, str], window: float, now: float
    ) -> tuple[float, float | None]:
        """(seconds, first call of the oldest basket) of ``key``'s baskets still counting at ``now``."""
        ...

    def operating_add(
        self, key: tuple[str, int, str], minute: int, seconds: float, window: float, now: float
    ) -> tuple[float, float | None]:
        """Add a call's seconds to ``key``'s basket of ``minute`` (a write); the usage after it."""
        ...

    def operating_sweep(self, window: float, now: float) -> None:
        """Forget every basket that stopped counting (a write)."""
        ...


@dataclass(frozen=True, slots=True)
class FaultRow:
    """A fault rule as kept (test-portal.md T9): its place in the list, the rule as JSON text, the
    calls it matched and those it faulted, and for a ``times`` rule the faults it has left."""

    position: int
    rule: str
    hits: int
    faulted: int
    remaining: int | None


class FaultStore(Protocol):
    """Fault rules shared by server processes (admin/faults.py)."""

    def fault_generation(self) -> int:
        """A number every replacement of the rules moves on (a process keeps the rules of one)."""
        ...

    def fault_rules(self) -> tuple[int, list[FaultRow]]:
        """The generation and its rules with their counts, in list order (one statement)."""
        ...

    def fault_rules_set(self, rules: Sequence[tuple[str, int | None]]) -> int:
        """Replace the rules by ``rules`` ((rule JSON, faults left or None), in order) with zero
        counts; the new generation (a write)."""
        ...

    def fault_hit(self, generation: int, position: int) -> tuple[int, int | None] | None:
        """Count a call the rule matched: (its matching calls so far, this one included; faults
        left), or None when the rule is no longer of the current generation (a write)."""
        ...

    def fault_fired(self, generation: int, position: int) -> None:
        """Count a fault of the rule (and take one off the faults it has left) (a write)."""
        ...

    def fault_announce(self, generation: int) -> None:
        """After the commit of :meth:`fault_rules_set`: tell the other processes, so that their next
        :meth:`fault_generation` sees it."""
        ...


class AccessStore(Protocol):
    """Departments and CRM roles (crm/permissions.py). Levels are crm.permissions.Level values."""

    def user_update(self, user_id: int, changes: Mapping[str, Any]) -> None:
        """Set some of name, last_name, is_admin, active, crm_access."""
        ...

    def department_add(self, name: str, parent_id: int | None) -> int: ...
    def department_exists(self, department_id: int) -> bool: ...
    def user_departments(self, user_id: int) -> list[int]: ...
    def user_departments_set(self, user_id: int, department_ids: Sequence[int]) -> None: ...
    def role_add(self, name: str, levels: Mapping[tuple[str, str], int]) -> int:
        """A role with a level per (entity name, action); pairs not given are level 0 (none)."""
        ...

    def role_exists(self, role_id: int) -> bool: ...
    def role_assign(
        self, role_id: int, *, user_id: int | None = None, department_id: int | None = None
    ) -> bool:
        """Give a role to a user or a department; False when it already holds it."""
        ...

    def role_levels(self, user_id: int) -> dict[tuple[str, str], int]:
        """The highest level per (entity name, action) over the roles the user holds: its own, and
        those of its departments and of their parent departments (one query)."""
        ...

    def role_grants(self, user_id: int) -> list[tuple[str, str, str, int]]:
        """(role name, entity name, action, level) of every role the user holds, as :meth:`role_levels`
        finds them, each once, sorted (read only to explain a refusal)."""
        ...

    def department_members(self, user_id: int) -> tuple[frozenset[int], frozenset[int]]:
        """Users in the user's departments, and users in those or any of their sub-departments (one
        query). Both are empty for a user in no department."""
        ...


class CrmStore(Protocol):
    """CRM records, their multifields, bindings and pipelines (crm/)."""

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
    def owner_with_bindings(self, kind: BindingKind, owner_id: int) -> tuple[Row | None, list[Binding]]:
        """The owner's access row (as :meth:`access_rows`; None when it does not exist) and its
        bindings, in one read."""
        ...

    def bindings_replace(self, kind: BindingKind, owner_id: int, bindings: Sequence[Binding]) -> None:
        """Make the owner's bindings exactly ``bindings``; a row the other side also sees (a kind
        with a mirror) keeps that side's SORT and primary, a new one gets the columns' defaults."""
        ...

    def binding_set_sort(self, kind: BindingKind, owner_id: int, bound_id: int, sort: int) -> None: ...
    def binding_insert(self, kind: BindingKind, owner_id: int, binding: Binding) -> None: ...
    def binding_delete(self, kind: BindingKind, owner_id: int, bound_id: int) -> None: ...
    def binding_set_primary(self, kind: BindingKind, owner_id: int, bound_id: int | None) -> None: ...
    def owners_of(self, kind: BindingKind, bound_id: int) -> list[int]: ...
    def primaries(self, kind: BindingKind, owner_ids: Sequence[int]) -> dict[int, int]: ...
    def references_clear(self, entity: EntityType, column: str, target_id: int) -> None: ...
    def crm_reset(self, entities: Sequence[EntityType], bindings: Sequence[BindingKind]) -> None:
        """Remove every record of ``entities``, every binding of ``bindings``, every multifield and
        every journal entry, and start the records' ids at 1 again (test-portal.md T3), in this one
        transaction."""
        ...

    def pipeline_exists(self, entity: EntityType, pipeline_id: int) -> bool:
        """0 (the default pipeline) always exists."""
        ...

    def pipeline_add(self, entity: EntityType, name: str) -> int: ...
    def access_rows(self, entity: EntityType, ids: Sequence[int]) -> dict[int, Row]:
        """The existing ones of ``ids`` with the columns permissions look at (id, assigned_by_id, opened)."""
        ...


#: A binding row of seed and export: (owner id, bound id, owner's SORT, owner's primary, and for a
#: relation seen from both sides the bound side's SORT and primary, else None and None).
BindingRow = tuple[int, int, int, bool, int | None, bool | None]


class SeedStore(Protocol):
    """The whole state in bulk (test-portal.md T5, crm/seed): every row of a part, many rows at once.

    State parts: user, department, user_department, role, role_permission, role_holder, webhook, app,
    pipeline (rows keyed by their column names, storage/sql_seed.py STATE_PARTS)."""

    def state_rows(self, part: str) -> list[Row]: ...
    def state_insert(self, part: str, rows: Sequence[Row]) -> None: ...
    def state_id_floor(self, part: str) -> int:
        """The largest id the part holds or has held (a new row gets a larger one)."""
        ...

    def entity_rows_all(self, entity: EntityType) -> list[Row]: ...
    def entity_insert_many(
        self, entity: EntityType, columns: Sequence[str], rows: list[tuple[Any, ...]]
    ) -> None: ...
    def entity_id_floor(self, entity: EntityType) -> int: ...
    def multifields_all(self, entity: EntityType) -> list[tuple[int, str, str, str]]:
        """(element id, type, value type, value) of every multifield of ``entity``, in the order added."""
        ...

    def multifield_insert_many(self, entity: EntityType, rows: list[tuple[int, str, str, str]]) -> None: ...
    def binding_rows_all(self, kind: BindingKind) -> list[BindingRow]: ...
    def binding_insert_many(self, kind: BindingKind, rows: Sequence[BindingRow]) -> None: ...


class SnapshotStore(Protocol):
    """The whole state at once (storage/state_tables.py): snapshots, restore, ``reset --all``."""

    def snapshot_save(self, name: str, taken_at: float) -> tuple[SnapshotInfo, bool]:
        """Save the state as ``name`` (replacing one of that name: then True)."""
        ...

    def snapshots(self) -> list[SnapshotInfo]: ...
    def snapshot_delete(self, name: str) -> bool:
        """False when there is no such snapshot."""
        ...

    def snapshot_restore(self, name: str) -> bool:
        """Replace the state with the snapshot's, next ids included; False when there is none."""
        ...

    def state_clear(self) -> None:
        """Empty every state table and start every id at 1; the auth epoch moves on."""
        ...


class JournalStore(Protocol):
    """The request journal shared by every server process of the database (test-portal.md T7): pages
    of entries, each page a compressed JSON array that one process appends at once."""

    def journal_append(self, count: int, at: float, entries: bytes, keep: int) -> int:
        """Add a page of ``count`` entries (the latest of them at ``at``), giving them the next ``count``
        ids in a row, never given before, not even after a clear; drop the pages whose entries are all
        ``keep`` ids or more older than its newest. The page's newest id. A write."""
        ...

    def journal_pages(
        self, after_id: int | None, since: float | None
    ) -> tuple[int, list[tuple[int, int, bytes]]]:
        """The newest entry id (0: none), and (newest id, entry count, entries) of every page that may
        hold an entry after ``after_id`` and at or after ``since`` (any order)."""
        ...

    def journal_clear(self) -> None: ...


class Transaction(
    UserStore,
    OAuthStore,
    LimitStore,
    FaultStore,
    AccessStore,
    CrmStore,
    SeedStore,
    SnapshotStore,
    JournalStore,
    Protocol,
):
    """One transaction: every part of the port. A consumer names the narrow part it uses."""


class Storage(Protocol):
    def read(self, snapshot: bool = True) -> AbstractContextManager[Transaction]:
        """A read transaction; with ``snapshot=False`` no transaction of its own: each statement sees
        what is committed when it runs (for calls whose data is one statement: no BEGIN and COMMIT)."""
        ...

    def write(self) -> AbstractContextManager[Transaction]: ...
    def schema_version(self) -> int:
        """The highest migration applied to the database (a read: it fails when the database does)."""
        ...

    def close(self) -> None: ...


def chunks(ids: Sequence[int], size: int = 500) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
