"""Export: the whole state as a seed document (contract test-portal.md T5), read in one transaction.

Written so that seeding it into an empty database and exporting again gives the same document:
every stored value of a record (empty ones left out; times in ISO 8601 with the server's offset, as
REST prints them), multifields without their row ids, both sides of a two-sided binding, and secrets
as their hashes only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from b24local.clock import iso_local
from b24local.crm.entities import ENTITIES
from b24local.crm.permissions import Level
from b24local.crm.seed.document import BINDING_LISTS, ENTITY_LISTS
from b24local.model.entities import BindingKind, EntityType
from b24local.model.query import AllOf
from b24local.storage.base import Transaction

_ENTITY_BY_TYPE_ID = {e.type_id: e.name for e in ENTITIES.values()}


def _yes(value: Any) -> bool:
    return bool(value)


def _departments(tx: Transaction) -> list[dict[str, Any]]:
    out = []
    for r in tx.state_rows("department"):
        item: dict[str, Any] = {"id": r["id"], "name": r["name"]}
        if r["parent_id"] is not None:
            item["parent"] = r["parent_id"]
        out.append(item)
    return out


def _users(tx: Transaction) -> list[dict[str, Any]]:
    departments: dict[int, list[int]] = {}
    for r in tx.state_rows("user_department"):
        departments.setdefault(r["user_id"], []).append(r["department_id"])
    out = []
    for r in tx.state_rows("user"):
        item: dict[str, Any] = {
            "id": r["id"],
            "name": r["name"],
            "last_name": r["last_name"] or "",
            "admin": _yes(r["is_admin"]),
            "active": _yes(r["active"]),
            "crm_access": _yes(r["crm_access"]),
        }
        if r["id"] in departments:
            item["departments"] = sorted(departments[r["id"]])
        out.append(item)
    return out


def _roles(tx: Transaction) -> list[dict[str, Any]]:
    permissions: dict[int, dict[str, dict[str, str]]] = {}
    for r in tx.state_rows("role_permission"):
        entity = permissions.setdefault(r["role_id"], {}).setdefault(r["entity"], {})
        entity[r["action"]] = Level(r["level"]).name.lower()
    holders: dict[int, list[tuple[int, str, int]]] = {}
    for r in tx.state_rows("role_holder"):
        key = (0, "user", r["user_id"]) if r["user_id"] is not None else (1, "department", r["department_id"])
        holders.setdefault(r["role_id"], []).append(key)
    out = []
    for r in tx.state_rows("role"):
        item: dict[str, Any] = {"id": r["id"], "name": r["name"]}
        if r["id"] in permissions:
            item["permissions"] = {
                e: dict(sorted(a.items())) for e, a in sorted(permissions[r["id"]].items())
            }
        if r["id"] in holders:
            item["assignments"] = [{what: number} for _, what, number in sorted(holders[r["id"]])]
        out.append(item)
    return out


def _scopes(text: str) -> list[str]:
    return [s for s in text.split(",") if s]


def _webhooks(tx: Transaction) -> list[dict[str, Any]]:
    return [
        {
            "id": r["id"],
            "user": r["user_id"],
            "scope": _scopes(r["scope"]),
            "active": _yes(r["active"]),
            "code_hash": r["code_hash"],
        }
        for r in tx.state_rows("webhook")
    ]


def _apps(tx: Transaction) -> list[dict[str, Any]]:
    return [
        {
            "id": r["id"],
            "name": r["name"],
            "client_id": r["client_id"],
            "secret_hash": r["secret_hash"],
            "scope": _scopes(r["scope"]),
            "redirect_uri": r["redirect_uri"],
            "version": r["version"],
            "active": _yes(r["active"]),
        }
        for r in tx.state_rows("app")
    ]


def _pipelines(tx: Transaction) -> list[dict[str, Any]]:
    return [
        {
            "id": r["id"],
            "entity": _ENTITY_BY_TYPE_ID.get(r["entity_type_id"], str(r["entity_type_id"])),
            "name": r["name"],
            "sort": r["sort"],
        }
        for r in tx.state_rows("pipeline")
    ]


def entity_items(tx: Transaction, entity: EntityType) -> list[dict[str, Any]]:
    """Every record of ``entity`` as a seed item: ``ID``, the stored fields, the multifields."""
    multifields: dict[int, dict[str, list[dict[str, str]]]] = {}
    for element, type_id, value_type, value in tx.multifields_all(entity):
        multifields.setdefault(element, {}).setdefault(type_id, []).append(
            {"VALUE_TYPE": value_type, "VALUE": value}
        )
    columns = [(f.name, f.column, f.type == "datetime") for f in entity.columns]
    types = [f.name for f in entity.fields if f.storage == "multifield"]
    out = []
    for row in tx.entity_rows_all(entity):
        item: dict[str, Any] = {"ID": row["id"]}
        for name, column, is_time in columns:
            value = row[column]
            if value is not None:
                item[name] = iso_local(value) if is_time else value
        kept = multifields.get(row["id"])
        if kept:
            item.update((t, kept[t]) for t in types if t in kept)
        out.append(item)
    return out


def binding_items(tx: Transaction, kind: BindingKind) -> list[dict[str, Any]]:
    yes = {True: "Y", False: "N"}
    out = []
    for owner, bound, sort, primary, bound_sort, bound_primary in tx.binding_rows_all(kind):
        item: dict[str, Any] = {"owner": owner, "bound": bound, "SORT": sort, "IS_PRIMARY": yes[primary]}
        if kind.mirror is not None:
            item["BOUND_SORT"] = bound_sort
            item["BOUND_IS_PRIMARY"] = yes[bool(bound_primary)]
        out.append(item)
    return out


_STATE: dict[str, Callable[[Transaction], list[dict[str, Any]]]] = {
    "departments": _departments,
    "users": _users,
    "roles": _roles,
    "webhooks": _webhooks,
    "apps": _apps,
    "pipelines": _pipelines,
}


def export(tx: Transaction, tick: Callable[[int], None] = lambda n: None) -> dict[str, list[Any]]:
    """The document; ``tick`` is told how many records each list added (a progress bar's steps)."""
    doc: dict[str, list[Any]] = {}
    for name, read in _STATE.items():
        doc[name] = read(tx)
    for name, entity in ENTITY_LISTS.items():
        doc[name] = entity_items(tx, entity)
        tick(len(doc[name]))
    for name, kind in BINDING_LISTS.items():
        doc[name] = binding_items(tx, kind)
    return {name: items for name, items in doc.items() if items}


def export_count(tx: Transaction) -> int:
    """How many CRM records an export writes (what its progress bar counts)."""
    return sum(tx.entity_count(e, AllOf(())) for e in ENTITY_LISTS.values())
