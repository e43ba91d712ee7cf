"""Reading a seed's items field by field, each error with its path, and the ids the seed and the
database hold (an item may name a record of the same file, before or after it, or of the database)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from b24local.crm.seed.document import ENTITY_LISTS, SeedError
from b24local.crm.values import is_numeric_id
from b24local.storage.base import Transaction

#: b24local's own lists → their part of the storage (storage/sql_seed.py STATE_PARTS).
STATE_PARTS = {
    "users": "user",
    "departments": "department",
    "roles": "role",
    "webhooks": "webhook",
    "apps": "app",
    "pipelines": "pipeline",
}
#: What one item of each list is called in messages ("user 3 does not exist").
SINGULAR = {name: part for name, part in STATE_PARTS.items()} | {
    name: entity.name for name, entity in ENTITY_LISTS.items()
}


def id_key(list_name: str) -> str:
    """The key of an item's id: ``ID`` in the CRM lists (REST field names), ``id`` in the others."""
    return "ID" if list_name in ENTITY_LISTS else "id"


def positive_id(path: str, value: Any) -> int:
    if isinstance(value, bool) or not is_numeric_id(value) or int(str(value).strip()) <= 0:
        raise SeedError(path, f"{_show(value)} is not an ID (a whole number from 1)")
    return int(str(value).strip())


def _show(value: Any) -> str:
    return f"'{value[:60]}'" if isinstance(value, str) else repr(value)[:60]


class Item:
    """One object of a list; its values are taken by key, and keys nobody took are refused."""

    def __init__(self, path: str, value: Any) -> None:
        if not isinstance(value, dict):
            raise SeedError(path, "must be an object")
        self.path = path
        self.value: dict[str, Any] = value

    def at(self, key: str) -> str:
        return f"{self.path}.{key}"

    def only(self, allowed: Iterable[str]) -> None:
        extra = [k for k in self.value if k not in set(allowed)]
        if extra:
            raise SeedError(self.at(str(extra[0])), "unknown field")

    def text(self, key: str, default: str | None = None) -> str:
        value = self.value.get(key)
        if value is None:
            if default is None:
                raise SeedError(self.at(key), "is required")
            return default
        if not isinstance(value, str) or "\x00" in value:
            raise SeedError(self.at(key), f"{_show(value)} is not a text")
        if default is None and not value.strip():
            raise SeedError(self.at(key), "must not be empty")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.value.get(key)
        if value is None:
            return default
        if value in (True, "Y"):
            return True
        if value in (False, "N"):
            return False
        raise SeedError(self.at(key), f"{_show(value)} is neither true nor false")

    def number(self, key: str, default: int) -> int:
        value = self.value.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SeedError(self.at(key), f"{_show(value)} is not a whole number from 0")
        return value

    def scopes(self, key: str) -> list[str]:
        """``[crm, user]`` (or ``"crm,user"``), lower case, at least one."""
        value = self.value.get(key)
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(s, str) for s in items):
            raise SeedError(self.at(key), "must be a list of scopes (crm, user, ...)")
        scopes = [s.strip().lower() for s in items if s.strip()]
        if not scopes or not all(s.replace("_", "").isalnum() and s.isascii() for s in scopes):
            raise SeedError(self.at(key), "must be a list of scopes (crm, user, ...)")
        return scopes


class Known:
    """The ids of each list: those the file gives (all of them, read before any item is checked) and
    those the database holds (asked once per id, then kept)."""

    def __init__(self, tx: Transaction, doc: Mapping[str, list[Any]]) -> None:
        self.tx = tx
        self.file: dict[str, set[int]] = {}
        self._db: dict[str, dict[int, bool]] = {}
        self._state_ids: dict[str, set[int]] = {}
        for name, items in doc.items():
            if name in STATE_PARTS or name in ENTITY_LISTS:
                self._collect(name, items)

    def _collect(self, name: str, items: list[Any]) -> None:
        """The ids the file gives ``name``: whole numbers from 1, once each, none in the database yet."""
        key, ids = id_key(name), self.file.setdefault(name, set())
        given: list[tuple[str, int]] = []
        for index, item in enumerate(items):
            if isinstance(item, dict) and item.get(key) is not None:
                path = f"{name}[{index}].{key}"
                number = positive_id(path, item[key])
                if number in ids:
                    raise SeedError(path, f"{SINGULAR[name]} {number} is given twice")
                ids.add(number)
                given.append((path, number))
        existing = self._in_database(name, [n for _, n in given])
        for path, number in given:
            if number in existing:
                raise SeedError(path, f"{SINGULAR[name]} {number} exists already")

    def _in_database(self, name: str, ids: list[int]) -> set[int]:
        if name in ENTITY_LISTS:
            found = set(self.tx.access_rows(ENTITY_LISTS[name], ids)) if ids else set()
            cache = self._db.setdefault(name, {})
            cache.update((i, i in found) for i in ids)
            return found
        return self.state_ids(name) & set(ids)

    def state_ids(self, name: str) -> set[int]:
        """Every id of a state list in the database (a few rows: read whole, once)."""
        kept = self._state_ids.get(name)
        if kept is None:
            kept = self._state_ids[name] = {r["id"] for r in self.tx.state_rows(STATE_PARTS[name])}
        return kept

    def exists(self, name: str, number: int) -> bool:
        """Whether item ``number`` of list ``name`` is in the file or in the database."""
        if number in self.file.get(name, ()):
            return True
        if name in STATE_PARTS:
            return number in self.state_ids(name)
        cache = self._db.setdefault(name, {})
        if number not in cache:
            cache[number] = bool(self.tx.access_rows(ENTITY_LISTS[name], [number]))
        return cache[number]

    def in_database(self, name: str, number: int) -> bool:
        return number not in self.file.get(name, ()) and self.exists(name, number)

    def reference(self, path: str, name: str, value: Any) -> int:
        """An id that must name an item of list ``name``."""
        number = positive_id(path, value)
        if not self.exists(name, number):
            raise SeedError(path, f"{SINGULAR[name]} {number} does not exist")
        return number

    def new_ids(self, name: str, floor: int) -> Iterator[int]:
        """Ids for the items without one: after every id the table has used and the file gives."""
        start = max(floor, max(self.file.get(name, ()), default=0))
        return iter(range(start + 1, 2**62))
