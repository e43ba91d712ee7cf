"""The seed and export document (contract test-portal.md T5): its lists, and JSON or YAML text.

One format both ways: an object of lists. The CRM lists are named after crm/entities.py (``leads``,
``contacts``, ``deals``, ``companies``) and hold items as ``*.add`` takes them; one list per binding
relation (``lead_contact``, ``deal_contact``, ``contact_company``: a relation seen from both sides is
listed once, under its first kind); and the portal's own lists (users, departments, roles, webhooks,
apps, pipelines). YAML is read and written with PyYAML's safe functions only.
"""

from __future__ import annotations

import datetime
from typing import Any, Literal

import orjson

from b24local import yaml_text
from b24local.crm.entities import BINDINGS, ENTITIES, BindingKind, EntityType

Format = Literal["json", "yaml"]
FORMATS: tuple[Format, ...] = ("json", "yaml")


def plural(name: str) -> str:
    """``lead`` → ``leads``, ``company`` → ``companies``."""
    return name[:-1] + "ies" if name.endswith("y") else name + "s"


#: The list of each CRM entity type, in crm/entities.py's order.
ENTITY_LISTS: dict[str, EntityType] = {plural(e.name): e for e in ENTITIES.values()}


def _binding_lists() -> dict[str, BindingKind]:
    """Each relation once: a kind whose mirror is listed already is the same rows seen from the other side."""
    out: dict[str, BindingKind] = {}
    for kind in BINDINGS.values():
        if kind.mirror is None or kind.mirror not in out:
            out[kind.name] = kind
    return out


BINDING_LISTS: dict[str, BindingKind] = _binding_lists()
#: b24local's own lists, in the order they are written (a list may name ids of the lists before it).
STATE_LISTS: tuple[str, ...] = ("departments", "users", "roles", "webhooks", "apps", "pipelines")
#: Every list, in the order of an export (and of applying a seed).
LISTS: tuple[str, ...] = (*STATE_LISTS, *ENTITY_LISTS, *BINDING_LISTS)


class SeedError(ValueError):
    """A seed refused whole: ``path`` names the first error (``leads[3].STATUS_ID``), ``message`` says it."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


def _plain(value: Any, seen: dict[int, Any] | None = None) -> Any:
    """YAML reads an unquoted 2024-05-23 as a date: back to the text it was, as JSON would give it.

    A node YAML shares through an alias is converted once (``seen``): a document of aliases of aliases
    must not be walked, and copied, once per path to each node."""
    if seen is None:
        seen = {}
    if isinstance(value, (dict, list)):
        done = seen.get(id(value))
        if done is None:
            if isinstance(value, dict):
                done = seen[id(value)] = {}
                done.update((k, _plain(v, seen)) for k, v in value.items())
            else:
                done = seen[id(value)] = []
                done.extend(_plain(v, seen) for v in value)
        return done
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ") if value.tzinfo is None else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def parse(text: bytes, fmt: Format) -> dict[str, list[Any]]:
    """The document in ``text``; its lists are checked to be lists of objects, not their items."""
    try:
        doc = orjson.loads(text) if fmt == "json" else _plain(yaml_text.load(text))
    except (orjson.JSONDecodeError, yaml_text.YAMLError, UnicodeDecodeError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise SeedError("", f"not a {fmt.upper()} document: {first}") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise SeedError("", "the document must be an object of lists (users, leads, ...)")
    for name, items in doc.items():
        if name not in LISTS:
            raise SeedError(str(name), f"unknown list (the lists: {', '.join(LISTS)})")
        if items is None:
            doc[name] = []
        elif not isinstance(items, list):
            raise SeedError(name, "must be a list")
    return doc


def dump(doc: dict[str, list[Any]], fmt: Format) -> bytes:
    if fmt == "json":
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"
    return yaml_text.dump(doc).encode("utf-8")


def format_of(name: str | None) -> Format:
    """The format a file name or a content type names: YAML for .yaml/.yml or */yaml, else JSON."""
    text = (name or "").lower().split(";")[0].strip()
    return "yaml" if text.endswith((".yaml", ".yml", "yaml")) else "json"
