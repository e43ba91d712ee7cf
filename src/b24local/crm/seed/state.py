"""b24local's own lists of a seed: departments, users, roles, webhooks, apps and pipelines.

Their items use lower-case keys (they are not REST fields). Secrets: a webhook's ``code`` and an app's
``client_secret`` may be given in a seed and are stored hashed, as everywhere; an export writes only
their hashes (``code_hash``, ``secret_hash``), which a seed takes back as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from b24local.auth.webhooks import hash_secret
from b24local.crm.entities import ENTITIES
from b24local.crm.permissions import ACTIONS, Level
from b24local.crm.seed.document import SeedError
from b24local.crm.seed.items import STATE_PARTS, Item, Known, id_key
from b24local.storage.base import Row, Transaction

#: A role's levels by name (``all``, ``own`` ...), as ``role create --perm`` names them.
LEVELS = {level.name.lower(): level for level in Level}
_HASH = re.compile(r"^[0-9a-f]{64}$")
_CODE = re.compile(r"^[A-Za-z0-9_-]+$")
#: Entities with pipelines (the deal): a seed may list their pipelines, and a role its levels per one.
_PIPELINED = {e.name: e for e in ENTITIES.values() if e.rules.stages and e.rules.stages.pipelines}


class StateRows:
    """The rows of every state part a seed writes, by part, in the order written."""

    def __init__(self) -> None:
        self.parts: dict[str, list[Row]] = {part: [] for part in _WRITE_ORDER}

    def write(self, tx: Transaction) -> None:
        for part in _WRITE_ORDER:
            tx.state_insert(part, self.parts[part])


_WRITE_ORDER = (
    "department",
    "user",
    "user_department",
    "role",
    "role_permission",
    "role_holder",
    "webhook",
    "app",
    "pipeline",
)


def _numbered(tx: Transaction, known: Known, name: str, items: list[Any]) -> list[tuple[Item, int]]:
    """Each item with its id: the one given, or the next free one."""
    fresh = known.new_ids(name, tx.state_id_floor(STATE_PARTS[name]))
    out = []
    for index, value in enumerate(items):
        item = Item(f"{name}[{index}]", value)
        given = item.value.get(id_key(name))
        out.append((item, int(str(given).strip()) if given is not None else next(fresh)))
    return out


def read_departments(tx: Transaction, known: Known, items: list[Any], rows: StateRows) -> None:
    seen: set[int] = set()
    for item, number in _numbered(tx, known, "departments", items):
        item.only(("id", "name", "parent"))
        parent = item.value.get("parent")
        if parent is not None:
            parent = known.reference(item.at("parent"), "departments", parent)
            # A parent comes before its children (the tree has no cycles, and rows go in this order).
            if parent not in seen and not known.in_database("departments", parent):
                raise SeedError(
                    item.at("parent"), f"department {parent} must come before department {number}"
                )
        rows.parts["department"].append({"id": number, "name": item.text("name"), "parent_id": parent})
        seen.add(number)


def read_users(tx: Transaction, known: Known, items: list[Any], rows: StateRows) -> None:
    for item, number in _numbered(tx, known, "users", items):
        item.only(("id", "name", "last_name", "admin", "active", "crm_access", "departments"))
        rows.parts["user"].append(
            {
                "id": number,
                "name": item.text("name"),
                "last_name": item.text("last_name", ""),
                "is_admin": int(item.flag("admin", False)),
                "active": int(item.flag("active", True)),
                "crm_access": int(item.flag("crm_access", True)),
            }
        )
        departments = item.value.get("departments") or []
        if not isinstance(departments, list):
            raise SeedError(item.at("departments"), "must be a list of department ids")
        for at, department in enumerate(dict.fromkeys(departments)):
            path = f"{item.at('departments')}[{at}]"
            rows.parts["user_department"].append(
                {"user_id": number, "department_id": known.reference(path, "departments", department)}
            )


def _check_entity_key(path: str, key: Any) -> str:
    """``lead``, or ``deal_c<n>`` for the deals of pipeline n (crm/permissions.py)."""
    if not isinstance(key, str):
        raise SeedError(path, "must be an entity name")
    name, _, pipeline = key.partition("_c")
    if key in ENTITIES or (name in _PIPELINED and pipeline.isdigit() and not pipeline.startswith("0")):
        return key
    raise SeedError(path, f"unknown entity {key!r} (one of {', '.join(ENTITIES)}, deal_c<pipeline id>)")


def read_roles(tx: Transaction, known: Known, items: list[Any], rows: StateRows) -> None:
    for item, number in _numbered(tx, known, "roles", items):
        item.only(("id", "name", "permissions", "assignments"))
        rows.parts["role"].append({"id": number, "name": item.text("name")})
        permissions = item.value.get("permissions") or {}
        if not isinstance(permissions, dict):
            raise SeedError(item.at("permissions"), "must map entities to {action: level}")
        for key, actions in permissions.items():
            path = f"{item.at('permissions')}.{key}"
            entity = _check_entity_key(path, key)
            if not isinstance(actions, dict):
                raise SeedError(path, "must map actions (read, add, update, delete) to levels")
            for action, level in actions.items():
                if action not in ACTIONS:
                    raise SeedError(f"{path}.{action}", f"unknown action (one of {', '.join(ACTIONS)})")
                if level not in LEVELS:
                    raise SeedError(
                        f"{path}.{action}", f"unknown level {level!r} (one of {', '.join(LEVELS)})"
                    )
                part = rows.parts["role_permission"]
                part.append(
                    {"role_id": number, "entity": entity, "action": action, "level": int(LEVELS[level])}
                )
        _read_assignments(item, number, known, rows)


def _read_assignments(item: Item, role_id: int, known: Known, rows: StateRows) -> None:
    assignments = item.value.get("assignments") or []
    if not isinstance(assignments, list):
        raise SeedError(item.at("assignments"), "must be a list of {user: ID} or {department: ID}")
    held: set[tuple[str, int]] = set()
    for at, value in enumerate(assignments):
        holder = Item(f"{item.at('assignments')}[{at}]", value)
        holder.only(("user", "department"))
        if len(holder.value) != 1:
            raise SeedError(holder.path, "must be {user: ID} or {department: ID}")
        key, given = next(iter(holder.value.items()))
        target = known.reference(holder.at(key), "users" if key == "user" else "departments", given)
        if (key, target) not in held:
            held.add((key, target))
            rows.parts["role_holder"].append(
                {"role_id": role_id, "user_id": None, "department_id": None, f"{key}_id": target}
            )


def _secret(item: Item, plain: str, hashed: str, rule: tuple[Callable[[str], bool], str]) -> str:
    """The hash of a secret given in clear (``code``) or as its hash (``code_hash``), one of the two;
    ``rule``: what a secret given in clear must be, and the words for it. The secret is never shown."""
    if (item.value.get(plain) is None) == (item.value.get(hashed) is None):
        raise SeedError(item.path, f"give either {plain} or {hashed}")
    if item.value.get(plain) is not None:
        secret = item.text(plain)
        check, words = rule
        if not check(secret):
            raise SeedError(item.at(plain), f"must be {words}")
        return hash_secret(secret)
    digest = item.text(hashed)
    if not _HASH.match(digest):
        raise SeedError(item.at(hashed), "must be a SHA-256 in hexadecimal (64 characters 0-9a-f)")
    return digest


def _webhook_code(code: str) -> bool:
    """As ``webhook create --code`` takes it: letters, digits, '_' and '-', not all digits."""
    return bool(_CODE.match(code)) and not code.isdigit()


#: What a secret given in clear must be: a webhook code as ``webhook create --code`` takes it; any text.
_WEBHOOK_CODE = (_webhook_code, "letters, digits, '_' and '-', not all digits")
_ANY_TEXT: tuple[Callable[[str], bool], str] = (lambda text: bool(text.strip()), "a text")


def read_webhooks(tx: Transaction, known: Known, items: list[Any], rows: StateRows) -> None:
    for item, number in _numbered(tx, known, "webhooks", items):
        item.only(("id", "user", "scope", "active", "code", "code_hash"))
        rows.parts["webhook"].append(
            {
                "id": number,
                "user_id": known.reference(item.at("user"), "users", item.value.get("user")),
                "code_hash": _secret(item, "code", "code_hash", _WEBHOOK_CODE),
                "scope": ",".join(item.scopes("scope")),
                "active": int(item.flag("active", True)),
            }
        )


def read_apps(tx: Transaction, known: Known, items: list[Any], rows: StateRows) -> None:
    client_ids = {r["client_id"] for r in tx.state_rows("app")}
    for item, number in _numbered(tx, known, "apps", items):
        item.only(
            (
                "id",
                "name",
                "client_id",
                "client_secret",
                "secret_hash",
                "scope",
                "redirect_uri",
                "version",
                "active",
            )
        )
        client_id = item.text("client_id")
        if client_id in client_ids:
            raise SeedError(
                item.at("client_id"), f"an application with client_id {client_id!r} exists already"
            )
        client_ids.add(client_id)
        rows.parts["app"].append(
            {
                "id": number,
                "name": item.text("name"),
                "client_id": client_id,
                "secret_hash": _secret(item, "client_secret", "secret_hash", _ANY_TEXT),
                "scope": ",".join(item.scopes("scope")),
                "redirect_uri": item.text("redirect_uri"),
                "version": item.number("version", 1),
                "active": int(item.flag("active", True)),
            }
        )


def read_pipelines(tx: Transaction, known: Known, items: list[Any], rows: StateRows) -> None:
    for item, number in _numbered(tx, known, "pipelines", items):
        item.only(("id", "entity", "name", "sort"))
        entity = _PIPELINED.get(item.value.get("entity", "deal"))
        if entity is None:
            raise SeedError(item.at("entity"), f"must be one of {', '.join(_PIPELINED)}")
        rows.parts["pipeline"].append(
            {
                "id": number,
                "entity_type_id": entity.type_id,
                "name": item.text("name"),
                "sort": item.number("sort", 500),
            }
        )


#: The readers of the state lists, in the order they are read and written.
READERS = {
    "departments": read_departments,
    "users": read_users,
    "roles": read_roles,
    "webhooks": read_webhooks,
    "apps": read_apps,
    "pipelines": read_pipelines,
}
