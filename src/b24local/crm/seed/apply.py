"""Applying a seed document (contract test-portal.md T5) in the caller's one write transaction.

The whole document is read and checked first, every list and item with the checks of the call that
would add it, against the file itself and the database (ids in the file must be new); only then is
anything written, in bulk. A refusal raises :class:`SeedError` with the path of the first error, and
the caller's transaction rolls back: nothing is written.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from b24local.crm.seed.bindings import BindingReader
from b24local.crm.seed.document import BINDING_LISTS, ENTITY_LISTS, LISTS
from b24local.crm.seed.items import Known
from b24local.crm.seed.records import EntityReader, EntityRows
from b24local.crm.seed.state import READERS, StateRows
from b24local.model.query import AllOf
from b24local.storage.base import BindingRow, Transaction

#: Who adds the records of a seed, where an item does not say (CREATED_BY_ID, ASSIGNED_BY_ID): user 1,
#: the administrator every database starts with.
SEEDING_USER = 1


def record_count(doc: Mapping[str, list[Any]]) -> int:
    """The records and bindings of a document: what a progress bar of a seed counts."""
    return sum(len(doc.get(name) or ()) for name in (*ENTITY_LISTS, *BINDING_LISTS))


def seed(
    tx: Transaction, doc: Mapping[str, list[Any]], tick: Callable[[int], None] = lambda n: None
) -> dict[str, int]:
    """Check the whole document, then write it; the number of items of each list it has. ``tick`` is
    told how many records and bindings have been checked (the writes that follow are a few bulk
    statements, most of a second per 100,000 records)."""
    if _brings_user_1(doc) and is_as_new(tx):
        # User 1 and its webhook, as a new database (or a reset of everything) has them, make way for
        # a document with a user 1 of its own, as ``serve --seed`` seeds before making them: an export
        # seeded after ``reset {"all": true}`` gives the same export back (T5's round trip).
        tx.state_clear()
    known = Known(tx, doc)
    state = StateRows()
    for name, read_state in READERS.items():
        if doc.get(name):
            read_state(tx, known, doc[name], state)
    now = int(time.time())
    entities: list[EntityRows] = []
    for name in ENTITY_LISTS:
        if doc.get(name):
            entities.append(EntityReader(tx, known, name, SEEDING_USER, now).read(doc[name], tick))
    bindings: list[tuple[BindingReader, list[BindingRow]]] = []
    for name, kind in BINDING_LISTS.items():
        if doc.get(name):
            reader = BindingReader(tx, known, name, kind)
            bindings.append((reader, reader.read(doc[name], tick)))
    state.write(tx)
    for rows in entities:
        bound: set[int] = set()
        for reader, _ in bindings:
            if reader.kind.owner is rows.entity:
                bound |= reader.bound_owners()
        rows.write(tx, bound)
    for reader, binding_rows in bindings:
        tx.binding_insert_many(reader.kind, binding_rows)
    return {name: len(doc[name]) for name in LISTS if name in doc}


def _brings_user_1(doc: Mapping[str, list[Any]]) -> bool:
    return any(isinstance(user, dict) and user.get("id") == 1 for user in doc.get("users") or ())


#: State parts a new database has none of (it has user 1 and at most the first webhook).
_NONE_WHEN_NEW = ("department", "role", "app", "pipeline")


def is_as_new(tx: Transaction) -> bool:
    """Only what a new database is made with: user 1, at most one webhook, nothing else."""
    if tx.user_count() != 1 or any(tx.entity_count(e, AllOf(())) for e in ENTITY_LISTS.values()):
        return False
    return len(tx.state_rows("webhook")) <= 1 and not any(tx.state_rows(p) for p in _NONE_WHEN_NEW)


def is_empty(tx: Transaction) -> bool:
    """No user and no CRM record: a database no server has started on, and nobody seeded."""
    return tx.user_count() == 0 and all(tx.entity_count(e, AllOf(())) == 0 for e in ENTITY_LISTS.values())
