"""The binding invariants through the methods, for every relation: I1, I3, I4, I5, and B4 (deleting a
contact, company, deal or lead unbinds it on every relation).

Contract: ../shared/contract/binding-family.md B1 and B4 over lead-contact-bindings.md ("Invariants").
Random sequences with a reference model are in test_properties.py; the owner's own fields (I2) in
test_owner_fields.py.
"""

from __future__ import annotations

import random
import threading
from typing import Any

from tests.bindings.relations import (
    ADD,
    BOUND_MISSING,
    COMPANY_CONTACTS,
    CONTACT_COMPANIES,
    DEAL_CONTACTS,
    DELETE,
    FIELDS,
    ITEMS_DELETE,
    ITEMS_GET,
    ITEMS_SET,
    LEAD_CONTACTS,
    Relation,
    Users,
    as_got,
    ok,
    put,
    record,
    state,
)
from tests.conftest import LiveServer


# I1 / I3 / I5 ---------------------------------------------------------------------------------------
def test_I1_random_call_sequence(server: LiveServer, rel: Relation, owner: int, bound: list[int]) -> None:
    """Exactly one primary after every kind of call, successful or not; items.get agrees with storage."""
    rng = random.Random(20240503)
    pool = [*bound, BOUND_MISSING]
    flags = ["Y", "N", None, True, "y"]
    sorts = [None, 0, -5, 10, 20, "30", 15.9]

    def item() -> Any:
        if rng.random() < 0.05:
            return rng.choice(bound)  # a bare id: E12
        out: dict[str, Any] = {rel.key: rng.choice(pool)}
        if (sort := rng.choice(sorts)) is not None:
            out["SORT"] = sort
        if (flag := rng.choice(flags)) is not None:
            out["IS_PRIMARY"] = flag
        return out

    for _ in range(150):
        kind = rng.randrange(4)
        if kind == 0:
            response = server.call(rel.m(ADD), {"id": owner, "fields": item()})
        elif kind == 1:
            response = server.call(rel.m(DELETE), {"id": owner, "fields": {rel.key: rng.choice(pool)}})
        elif kind == 2:
            response = server.call(
                rel.m(ITEMS_SET), {"id": owner, "items": [item() for _ in range(rng.randrange(5))]}
            )
        else:
            response = server.call(rel.m(ITEMS_DELETE), {"id": owner})
        assert response.status in (200, 400), response.body
        now = state(server, rel, owner)  # asserts I1
        ok(server.call(rel.m(ITEMS_GET), {"id": owner}), as_got(rel, now))


def test_I3_concurrent_items_set(server: LiveServer, rel: Relation, owner: int, bound: list[int]) -> None:
    """Concurrent writes on one owner end in a state some serial order gives; I1 holds."""
    b1, b2, b3, b4, b5 = bound
    lists = [
        [{rel.key: b1}, {rel.key: b2}],
        [{rel.key: b3, "IS_PRIMARY": "Y"}, {rel.key: b4, "IS_PRIMARY": "Y"}],
        [{rel.key: b5, "SORT": 5}],
    ]
    outcomes = [
        [(b1, 10, "Y"), (b2, 20, "N")],
        [(b3, 10, "Y"), (b4, 20, "N")],
        [(b5, 5, "Y")],
    ]
    failures: list[Any] = []

    def worker(n: int) -> None:
        for i in range(8):
            response = server.call(rel.m(ITEMS_SET), {"id": owner, "items": lists[(n + i) % 3]})
            if response.status != 200 or response.body["result"] is not True:
                failures.append(response.body)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert state(server, rel, owner) in outcomes


#: Set-up values of the columns I5 watches (an owner has the relation's ``untouched`` ones).
PRESET = {"date_modify": 1_600_000_000, "modify_by_id": 77, "is_return_customer": "N"}


def watched(server: LiveServer, rel: Relation, owner_id: int, bound: tuple[int, ...]) -> list[dict[str, Any]]:
    """The owner's I5 columns, then each bound entity's DATE_MODIFY and MODIFY_BY_ID."""
    out = [{k: record(server, rel.owner, owner_id)[k] for k in rel.untouched}]
    for bound_id in bound:
        row = record(server, rel.bound, bound_id)
        out.append({"date_modify": row["date_modify"], "modify_by_id": row["modify_by_id"]})
    return out


def test_I5_binding_methods_leave_owner_columns_alone(
    server: LiveServer, rel: Relation, users: Users
) -> None:
    """Neither the owner's columns nor the bound entity's change (not even the other side's of B3)."""
    for webhook, assignee in ((None, 1), (users.user, users.user_id)):
        preset = {k: v for k, v in PRESET.items() if k in rel.untouched}
        owner_id = rel.insert_owner(server, assigned_by=assignee, **preset)
        b1, b2, b3 = (
            rel.insert_bound(server, assigned_by=assignee, date_modify=1_600_000_000, modify_by_id=77)
            for _ in range(3)
        )

        before = watched(server, rel, owner_id, (b1, b2, b3))
        assert before == [preset] + [{"date_modify": 1_600_000_000, "modify_by_id": 77}] * 3
        calls: list[tuple[str, dict[str, Any], int]] = [
            (ITEMS_SET, {"id": owner_id, "items": [{rel.key: b1}, {rel.key: b2}]}, 200),
            (ADD, {"id": owner_id, "fields": {rel.key: b3, "IS_PRIMARY": "Y"}}, 200),
            (ADD, {"id": owner_id, "fields": {rel.key: b3}}, 200),  # false
            (DELETE, {"id": owner_id, "fields": {rel.key: b3}}, 200),
            (DELETE, {"id": owner_id, "fields": {rel.key: b3}}, 200),  # false
            (ITEMS_GET, {"id": owner_id}, 200),
            (FIELDS, {}, 200),
            (ITEMS_SET, {"id": owner_id, "items": [{rel.key: BOUND_MISSING}]}, 400),
            (ITEMS_SET, {"id": owner_id, "items": [5]}, 400),
            (ADD, {"id": owner_id, "fields": {rel.key: 0}}, 400),
            (ITEMS_DELETE, {"id": owner_id}, 200),
            (ITEMS_SET, {"id": owner_id, "items": []}, 200),
            (ADD, {"id": owner_id, "fields": {rel.key: b2}}, 200),
        ]
        for method, params, status in calls:
            response = server.call(rel.m(method), params, webhook=webhook)
            assert response.status == status, (method, response.body)
            assert watched(server, rel, owner_id, (b1, b2, b3)) == before, method
        assert state(server, rel, owner_id) == [(b2, 10, "Y")]


def test_I4_deleting_a_bound_entity_or_the_owner(
    server: LiveServer, rel: Relation, owner: int, bound: list[int]
) -> None:
    b1, b2, b3, b4, _ = bound
    other = rel.insert_owner(server)
    put(server, rel, owner, [(b1, 10, "Y"), (b4, 30, "N"), (b3, 30, "N"), (b2, 40, "N")])
    put(server, rel, other, [(b2, 10, "N"), (b1, 20, "Y")])
    ok(server.call(f"crm.{rel.bound}.delete", {"id": b1}), True)
    # Unbound everywhere; where it was primary, the lowest SORT (ties: lowest id) takes over.
    assert state(server, rel, owner) == [(b3, 30, "Y"), (b4, 30, "N"), (b2, 40, "N")]
    assert state(server, rel, other) == [(b2, 10, "Y")]
    ok(server.call(f"crm.{rel.bound}.delete", {"id": b4}), True)  # not primary: nothing else moves
    assert state(server, rel, owner) == [(b3, 30, "Y"), (b2, 40, "N")]
    ok(server.call(f"crm.{rel.owner}.delete", {"id": owner}), True)
    assert state(server, rel, owner) == []
    assert state(server, rel, other) == [(b2, 10, "Y")]


# B4: one delete, every relation -----------------------------------------------------------------------
def test_B4_deleting_a_contact_unbinds_it_on_every_relation(server: LiveServer) -> None:
    x, y1, y2 = (server.insert_contact() for _ in range(3))
    lead, deal = server.insert_lead(), server.insert_deal()
    c1, c2 = server.insert_company(), server.insert_company()
    put(server, LEAD_CONTACTS, lead, [(x, 10, "Y"), (y1, 20, "N")])
    put(server, DEAL_CONTACTS, deal, [(y2, 30, "N"), (x, 10, "Y"), (y1, 30, "N")])
    put(server, COMPANY_CONTACTS, c1, [(y1, 5, "N"), (x, 10, "Y")])
    put(server, CONTACT_COMPANIES, x, [(c1, 10, "Y"), (c2, 20, "N")])
    assert state(server, COMPANY_CONTACTS, c2) == [(x, 0, "Y")]
    ok(server.call("crm.contact.delete", {"id": x}), True)
    # Each owner that lost its primary promotes the lowest SORT (ties: the lowest id), I4.
    assert state(server, LEAD_CONTACTS, lead) == [(y1, 20, "Y")]
    assert state(server, DEAL_CONTACTS, deal) == [(y1, 30, "Y"), (y2, 30, "N")]
    assert state(server, COMPANY_CONTACTS, c1) == [(y1, 5, "Y")]
    assert state(server, COMPANY_CONTACTS, c2) == []
    assert state(server, CONTACT_COMPANIES, x) == []
    assert state(server, CONTACT_COMPANIES, y1) == [(c1, 0, "Y")]  # its own side: untouched
    assert server.call("crm.lead.get", {"id": lead}).result["CONTACT_ID"] == str(y1)
    assert server.call("crm.deal.get", {"id": deal}).result["CONTACT_ID"] == str(y1)


def test_B4_deleting_a_company_unbinds_it_from_both_sides(server: LiveServer) -> None:
    k1, k2, k3 = (server.insert_company() for _ in range(3))
    p, q = server.insert_contact(), server.insert_contact()
    put(server, CONTACT_COMPANIES, p, [(k1, 10, "Y"), (k2, 20, "N"), (k3, 15, "N")])
    put(server, CONTACT_COMPANIES, q, [(k2, 10, "N"), (k1, 20, "Y")])
    put(server, COMPANY_CONTACTS, k2, [(q, 7, "Y"), (p, 8, "N")])
    lead = server.insert_lead(company_id=k1)
    deal = server.insert_deal(company_id=k1)
    ok(server.call("crm.company.delete", {"id": k1}), True)
    assert state(server, CONTACT_COMPANIES, p) == [(k3, 15, "Y"), (k2, 20, "N")]
    assert state(server, CONTACT_COMPANIES, q) == [(k2, 10, "Y")]
    assert state(server, COMPANY_CONTACTS, k1) == []
    # The other company's own side is as it was.
    assert state(server, COMPANY_CONTACTS, k2) == [(q, 7, "Y"), (p, 8, "N")]
    assert server.call("crm.contact.get", {"id": p}).result["COMPANY_ID"] == str(k3)
    assert server.call("crm.contact.get", {"id": q}).result["COMPANY_ID"] == str(k2)
    # The lead's and the deal's COMPANY_ID named it: cleared too.
    assert record(server, "lead", lead)["company_id"] is None
    assert record(server, "deal", deal)["company_id"] is None


def test_B4_deleting_a_deal_or_a_lead_keeps_the_contacts_other_bindings(server: LiveServer) -> None:
    c1, c2 = server.insert_contact(), server.insert_contact()
    deal, lead, company = server.insert_deal(), server.insert_lead(), server.insert_company()
    put(server, DEAL_CONTACTS, deal, [(c1, 10, "Y"), (c2, 20, "N")])
    put(server, LEAD_CONTACTS, lead, [(c2, 10, "Y"), (c1, 20, "N")])
    put(server, COMPANY_CONTACTS, company, [(c1, 10, "Y")])
    ok(server.call("crm.deal.delete", {"id": deal}), True)
    assert state(server, DEAL_CONTACTS, deal) == []
    assert state(server, LEAD_CONTACTS, lead) == [(c2, 10, "Y"), (c1, 20, "N")]
    ok(server.call("crm.lead.delete", {"id": lead}), True)
    assert state(server, LEAD_CONTACTS, lead) == []
    assert state(server, COMPANY_CONTACTS, company) == [(c1, 10, "Y")]
    ok(
        server.call("crm.contact.company.items.get", {"id": c1}),
        [{"COMPANY_ID": company, "SORT": 0, "ROLE_ID": 0, "IS_PRIMARY": "Y"}],
    )
