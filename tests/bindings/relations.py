"""The four binding relations as test objects, and the helpers every binding test shares.

Contract: ../shared/contract/binding-family.md (B1–B6) over lead-contact-bindings.md. A
:class:`Relation` names, literally, what a test needs to drive one row of the family's table: the
method prefix, the item key, the entity titles the error texts use, the owner's own fields (B2) and how
to make owners and bound entities. Its ``kind`` is used only to read and write the stored rows straight
(set-up and state checks that do not go through the code under test).

State is written as ``(bound id, SORT, IS_PRIMARY)`` tuples in items.get order (SORT, then bound id).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from b24local.crm.entities import (
    BINDINGS,
    COMPANY_CONTACT,
    CONTACT_COMPANY,
    DEAL_CONTACT,
    ENTITIES,
    LEAD_CONTACT,
    BindingKind,
)
from b24local.storage.base import Binding, Storage, Transaction
from tests.conftest import LiveServer, Response
from tests.expected import CONTACT_COMPANY_FIELDS, LEAD_CONTACT_FIELDS

State = list[tuple[int, int, str]]

# The six methods of every relation (Relation.m makes the full name).
ITEMS_GET = "items.get"
ITEMS_SET = "items.set"
ITEMS_DELETE = "items.delete"
ADD = "add"
DELETE = "delete"
FIELDS = "fields"

OWNER_MISSING = 987_654_321  # no owner has this id
BOUND_MISSING = 987_654_322  # no bound entity has this id


@dataclass(frozen=True)
class Relation:
    kind: BindingKind
    prefix: str  # "crm.lead.contact"
    owner: str  # the owner's REST entity: crm.<owner>.get, LiveServer.insert_<owner>
    bound: str
    key: str  # the bound id's key in an item: "CONTACT_ID"
    owner_title: str  # as error texts name the owner
    bound_title: str  # as error texts name the bound entity: "Contact #5 not found."
    fields: dict[str, Any]  # what <prefix>.fields answers (F1, B6)
    #: The owner's printed field that shows the primary (L1, I2); None: a company prints none (B2).
    owner_field: str | None
    #: The owner's write-only field that takes the whole list (L2): "CONTACT_IDS".
    list_field: str
    #: What crm.<owner>.add needs besides the bindings (a contact's NAME, a company's TITLE).
    required: dict[str, str]
    #: Owner columns no binding method may touch (I5).
    untouched: tuple[str, ...] = ("date_modify", "modify_by_id")

    @property
    def name(self) -> str:
        return self.kind.name

    def m(self, method: str) -> str:
        """The full method name: ``m("items.set")`` → ``crm.lead.contact.items.set``."""
        return f"{self.prefix}.{method}"

    @property
    def mirror(self) -> BindingKind | None:
        """The same rows seen from the bound side (contact ↔ company, B3)."""
        return None if self.kind.mirror is None else BINDINGS[self.kind.mirror]

    def insert_owner(self, server: LiveServer, entity_id: int | None = None, **columns: Any) -> int:
        return insert(server, self.owner, entity_id, **columns)

    def insert_bound(self, server: LiveServer, entity_id: int | None = None, **columns: Any) -> int:
        return insert(server, self.bound, entity_id, **columns)


def insert(server: LiveServer, entity: str, entity_id: int | None = None, **columns: Any) -> int:
    """A record of ``entity`` ("lead", "deal", "contact", "company") written straight to the database."""
    inserter = {
        "lead": server.insert_lead,
        "deal": server.insert_deal,
        "contact": server.insert_contact,
        "company": server.insert_company,
    }[entity]
    return inserter(entity_id, **columns)


LEAD_CONTACTS = Relation(
    LEAD_CONTACT,
    "crm.lead.contact",
    "lead",
    "contact",
    "CONTACT_ID",
    "Lead",
    "Contact",
    LEAD_CONTACT_FIELDS,
    owner_field="CONTACT_ID",
    list_field="CONTACT_IDS",
    required={"TITLE": "Owner"},
    untouched=("date_modify", "modify_by_id", "is_return_customer"),
)
#: Like the lead's, with a deal as the owner.
DEAL_CONTACTS = replace(
    LEAD_CONTACTS, kind=DEAL_CONTACT, prefix="crm.deal.contact", owner="deal", owner_title="Deal"
)
CONTACT_COMPANIES = Relation(
    CONTACT_COMPANY,
    "crm.contact.company",
    "contact",
    "company",
    "COMPANY_ID",
    "Contact",
    "Company",
    CONTACT_COMPANY_FIELDS,
    owner_field="COMPANY_ID",
    list_field="COMPANY_IDS",
    required={"NAME": "Owner"},
)
COMPANY_CONTACTS = Relation(
    COMPANY_CONTACT,
    "crm.company.contact",
    "company",
    "contact",
    "CONTACT_ID",
    "Company",
    "Contact",
    LEAD_CONTACT_FIELDS,
    owner_field=None,
    list_field="CONTACT_IDS",
    required={"TITLE": "Owner"},
)
RELATIONS = {r.name: r for r in (LEAD_CONTACTS, DEAL_CONTACTS, CONTACT_COMPANIES, COMPANY_CONTACTS)}


# Responses --------------------------------------------------------------------------------------------
def ok(response: Response, result: Any) -> None:
    """HTTP 200, ``{"result": result, "time": {...}}`` exactly (booleans compared by identity)."""
    assert response.status == 200, response.body
    assert set(response.body) == {"result", "time"}, response.body
    if isinstance(result, bool):
        assert response.body["result"] is result
    else:
        assert response.body["result"] == result


def error(response: Response, status: int, code: str, description: str) -> None:
    assert (response.status, response.body) == (status, {"error": code, "error_description": description})


def form(server: LiveServer, method: str, data: dict[str, str], webhook: str | None = None) -> Response:
    raw = server.client.post((webhook or server.webhook_url) + method, data=data)
    return Response(raw.status_code, raw.json(), raw.headers)


def as_got(rel: Relation, rows: State) -> list[dict[str, Any]]:
    """A state as items.get returns it (written out by the test, not by the code under test)."""
    return [{rel.key: b, "SORT": s, "ROLE_ID": 0, "IS_PRIMARY": p} for b, s, p in rows]


@dataclass
class Users:
    user: str  # webhook of a non-admin with CRM access ("own" level)
    user_id: int
    other_id: int  # another non-admin, owner of things `user` may not see
    no_crm: str  # webhook of a user without any CRM access (E9)


def user_id_of(webhook: str) -> int:
    return int(webhook.split("/rest/", 1)[1].split("/", 1)[0])


def valid_params(rel: Relation, method: str, owner_id: int, bound_id: int) -> dict[str, Any]:
    """Parameters that would succeed (and, for writes, change something) on an owner bound to nothing
    else."""
    return {
        ITEMS_GET: {"id": owner_id},
        ITEMS_SET: {"id": owner_id, "items": [{rel.key: bound_id}]},
        ITEMS_DELETE: {"id": owner_id},
        ADD: {"id": owner_id, "fields": {rel.key: bound_id}},
        DELETE: {"id": owner_id, "fields": {rel.key: bound_id}},
        FIELDS: {},
    }[method]


# The stored state -------------------------------------------------------------------------------------
@contextmanager
def opened(server: LiveServer) -> Iterator[Storage]:
    store = server.storage()
    try:
        yield store
    finally:
        store.close()


def rows_of(tx: Transaction, kind: BindingKind, owner_id: int) -> State:
    """One side's bindings as stored, checking I1 and ROLE_ID 0 on the way."""
    rows = tx.bindings_get(kind, owner_id)
    out = [(b.bound_id, b.sort, "Y" if b.is_primary else "N") for b in rows]
    if out:
        assert sum(1 for *_, primary in out if primary == "Y") == 1, f"I1 broken ({kind.name}): {out}"
    assert all(b.role_id == 0 for b in rows)
    return out


def state(server: LiveServer, rel: Relation, owner_id: int) -> State:
    """The owner's bindings as stored, checking I1 and ROLE_ID on the way."""
    with opened(server) as store, store.read() as tx:
        return rows_of(tx, rel.kind, owner_id)


def other_side(server: LiveServer, rel: Relation, bound_id: int) -> State:
    """The bound entity's own view of a two-sided relation (B3): its owners, SORT and primary."""
    assert rel.mirror is not None
    with opened(server) as store, store.read() as tx:
        return rows_of(tx, rel.mirror, bound_id)


def put(server: LiveServer, rel: Relation, owner_id: int, rows: State) -> None:
    """Write an owner's bindings straight into the database (set-up that does not use the code under
    test). On a two-sided relation each bound entity touched keeps one primary of its own (I1 there):
    its lowest SORT, ties lowest id, when it has none."""
    with opened(server) as store, store.write() as tx:
        before = {b.bound_id for b in tx.bindings_get(rel.kind, owner_id)}
        tx.bindings_replace(rel.kind, owner_id, [Binding(b, sort, flag == "Y") for b, sort, flag in rows])
        mirror = rel.mirror
        if mirror is None:
            return
        for bound_id in sorted(before | {b for b, _, _ in rows}):
            theirs = tx.bindings_get(mirror, bound_id)
            if theirs and not any(b.is_primary for b in theirs):
                first = min(theirs, key=lambda b: (b.sort, b.bound_id))
                tx.binding_set_primary(mirror, bound_id, first.bound_id)


def record(server: LiveServer, entity: str, entity_id: int) -> dict[str, Any]:
    """A record's stored row (entity "lead", "deal", "contact" or "company")."""
    with opened(server) as store, store.read() as tx:
        row = tx.entity_get(ENTITIES[entity], entity_id)
    assert row is not None
    return row


def role_user(server: LiveServer, name: str, levels: dict[tuple[str, str], int]) -> tuple[int, str]:
    """A user without the built-in Employee role (no CRM access) holding one role with ``levels``
    ((entity, action) → stored level: 0 none … 5 all); (user id, webhook)."""
    webhook = server.add_user(name, crm_access=False)
    user_id = user_id_of(webhook)
    with opened(server) as store, store.write() as tx:
        role_id = tx.role_add(name, levels)
        tx.role_assign(role_id, user_id=user_id)
    return user_id, webhook
