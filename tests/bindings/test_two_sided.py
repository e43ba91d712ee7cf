"""contact ↔ company is one relation seen from both sides (binding-family.md B3).

A row written through crm.contact.company.* is seen by crm.company.contact.items.get and the other way
round. Each side keeps its own SORT and its own primary (a contact's primary company, a company's
primary contact); I1 holds on each side after every call. Where the official pages leave the other
side open, b24local's reading (docs/deviations.md): a row new to a side comes last in its order (its
largest SORT + 10, or 10) and becomes its primary only when that side had none; a side that loses its
primary promotes its lowest SORT (ties: the lowest id), as D2.

States are ``(bound id, SORT, IS_PRIMARY)`` in items.get order, read straight from the database (each
read checks I1 on that side); the autouse fixture also checks every side of the whole database.
"""

from __future__ import annotations

from typing import Any

from tests.bindings.relations import COMPANY_CONTACTS, CONTACT_COMPANIES, State, ok, state
from tests.conftest import LiveServer


def got(key: str, rows: State) -> list[dict[str, Any]]:
    return [{key: i, "SORT": s, "ROLE_ID": 0, "IS_PRIMARY": p} for i, s, p in rows]


def contact_side(server: LiveServer, contact: int) -> State:
    """The contact's companies, as stored and as crm.contact.company.items.get answers."""
    rows = state(server, CONTACT_COMPANIES, contact)
    ok(server.call("crm.contact.company.items.get", {"id": contact}), got("COMPANY_ID", rows))
    return rows


def company_side(server: LiveServer, company: int) -> State:
    """The company's contacts, as stored and as crm.company.contact.items.get answers."""
    rows = state(server, COMPANY_CONTACTS, company)
    ok(server.call("crm.company.contact.items.get", {"id": company}), got("CONTACT_ID", rows))
    return rows


def test_B3_a_row_written_on_one_side_is_seen_on_the_other(server: LiveServer) -> None:
    x, y = server.insert_contact(), server.insert_contact()
    k1, k2 = server.insert_company(), server.insert_company()
    items = [{"COMPANY_ID": k1}, {"COMPANY_ID": k2}]
    ok(server.call("crm.contact.company.items.set", {"id": x, "items": items}), True)
    assert contact_side(server, x) == [(k1, 10, "Y"), (k2, 20, "N")]
    assert company_side(server, k1) == [(x, 10, "Y")]
    assert company_side(server, k2) == [(x, 10, "Y")]
    ok(server.call("crm.company.contact.add", {"id": k1, "fields": {"CONTACT_ID": y}}), True)
    assert company_side(server, k1) == [(x, 10, "Y"), (y, 20, "N")]
    assert contact_side(server, y) == [(k1, 10, "Y")]
    # Already bound, seen from either side: add answers false and changes nothing.
    ok(server.call("crm.contact.company.add", {"id": y, "fields": {"COMPANY_ID": k1}}), False)
    ok(server.call("crm.company.contact.add", {"id": k2, "fields": {"CONTACT_ID": x}}), False)
    assert (contact_side(server, x), contact_side(server, y)) == (
        [(k1, 10, "Y"), (k2, 20, "N")],
        [(k1, 10, "Y")],
    )
    assert (company_side(server, k1), company_side(server, k2)) == (
        [(x, 10, "Y"), (y, 20, "N")],
        [(x, 10, "Y")],
    )
    # The owners' fields follow their own side's primary.
    assert server.call("crm.contact.get", {"id": y}).result["COMPANY_ID"] == str(k1)


def test_B3_each_side_keeps_its_own_sort_and_primary(server: LiveServer) -> None:
    a, b, c = (server.insert_contact() for _ in range(3))
    k, k2, k3 = (server.insert_company() for _ in range(3))
    items = [{"CONTACT_ID": a, "SORT": 5}, {"CONTACT_ID": b, "SORT": 50, "IS_PRIMARY": "Y"}]
    ok(server.call("crm.company.contact.items.set", {"id": k, "items": items}), True)
    assert company_side(server, k) == [(a, 5, "N"), (b, 50, "Y")]
    assert (contact_side(server, a), contact_side(server, b)) == ([(k, 10, "Y")], [(k, 10, "Y")])
    # b's own side is rewritten; k's side keeps b's SORT 50 and its primary.
    items = [{"COMPANY_ID": k2, "SORT": 1, "IS_PRIMARY": "Y"}, {"COMPANY_ID": k, "SORT": 99}]
    ok(server.call("crm.contact.company.items.set", {"id": b, "items": items}), True)
    assert contact_side(server, b) == [(k2, 1, "Y"), (k, 99, "N")]
    assert company_side(server, k) == [(a, 5, "N"), (b, 50, "Y")]
    assert company_side(server, k2) == [(b, 10, "Y")]
    # A new primary on a's side is not one on k's.
    ok(
        server.call("crm.contact.company.add", {"id": a, "fields": {"COMPANY_ID": k3, "IS_PRIMARY": "Y"}}),
        True,
    )
    assert contact_side(server, a) == [(k, 10, "N"), (k3, 20, "Y")]
    assert company_side(server, k) == [(a, 5, "N"), (b, 50, "Y")]
    assert company_side(server, k3) == [(a, 10, "Y")]
    # And the other way round: c becomes k's primary, c's side gets k as its only company.
    ok(
        server.call("crm.company.contact.add", {"id": k, "fields": {"CONTACT_ID": c, "IS_PRIMARY": "Y"}}),
        True,
    )
    assert company_side(server, k) == [(a, 5, "N"), (b, 50, "N"), (c, 60, "Y")]
    assert contact_side(server, c) == [(k, 10, "Y")]
    assert contact_side(server, b) == [(k2, 1, "Y"), (k, 99, "N")]
    # A row new to a side comes last there: k2 already has b (SORT 10), so a lands at 20.
    ok(server.call("crm.contact.company.add", {"id": a, "fields": {"COMPANY_ID": k2, "SORT": 3}}), True)
    assert contact_side(server, a) == [(k2, 3, "N"), (k, 10, "N"), (k3, 20, "Y")]
    assert company_side(server, k2) == [(b, 10, "Y"), (a, 20, "N")]


def test_B3_removing_on_one_side_promotes_on_the_other(server: LiveServer) -> None:
    a, b = server.insert_contact(), server.insert_contact()
    k, k2, k3 = (server.insert_company() for _ in range(3))
    items = [{"COMPANY_ID": k}, {"COMPANY_ID": k2}, {"COMPANY_ID": k3, "SORT": 15}]
    ok(server.call("crm.contact.company.items.set", {"id": a, "items": items}), True)
    ok(server.call("crm.company.contact.add", {"id": k, "fields": {"CONTACT_ID": b}}), True)
    assert contact_side(server, a) == [(k, 10, "Y"), (k3, 15, "N"), (k2, 20, "N")]
    assert company_side(server, k) == [(a, 10, "Y"), (b, 20, "N")]
    # delete from k's side: k promotes b; a lost its primary company k and promotes k3 (lowest SORT).
    ok(server.call("crm.company.contact.delete", {"id": k, "fields": {"CONTACT_ID": a}}), True)
    assert company_side(server, k) == [(b, 20, "Y")]
    assert contact_side(server, a) == [(k3, 15, "Y"), (k2, 20, "N")]
    assert server.call("crm.contact.get", {"id": a}).result["COMPANY_ID"] == str(k3)
    # items.set from k2's side without a: a's side drops k2; k2 gets b as its primary.
    ok(server.call("crm.company.contact.items.set", {"id": k2, "items": [{"CONTACT_ID": b}]}), True)
    assert contact_side(server, a) == [(k3, 15, "Y")]
    assert company_side(server, k2) == [(b, 10, "Y")]
    assert contact_side(server, b) == [(k, 10, "Y"), (k2, 20, "N")]
    # items.delete from b's side empties b and removes b from k and k2.
    ok(server.call("crm.contact.company.items.delete", {"id": b}), True)
    assert contact_side(server, b) == []
    assert (company_side(server, k), company_side(server, k2)) == ([], [])
    # items.delete from k3's side: a has no company left.
    ok(server.call("crm.company.contact.items.delete", {"id": k3}), True)
    assert (contact_side(server, a), company_side(server, k3)) == ([], [])
    assert server.call("crm.contact.get", {"id": a}).result["COMPANY_ID"] is None


def test_B3_owner_delete_on_either_side(server: LiveServer) -> None:
    a, b = server.insert_contact(), server.insert_contact()
    k, k2 = server.insert_company(), server.insert_company()
    ok(
        server.call(
            "crm.contact.company.items.set", {"id": a, "items": [{"COMPANY_ID": k}, {"COMPANY_ID": k2}]}
        ),
        True,
    )
    ok(
        server.call(
            "crm.contact.company.items.set", {"id": b, "items": [{"COMPANY_ID": k2}, {"COMPANY_ID": k}]}
        ),
        True,
    )
    assert (company_side(server, k), company_side(server, k2)) == (
        [(a, 10, "Y"), (b, 20, "N")],
        [(a, 10, "Y"), (b, 20, "N")],
    )
    ok(server.call("crm.contact.delete", {"id": a}), True)
    assert (company_side(server, k), company_side(server, k2)) == ([(b, 20, "Y")], [(b, 20, "Y")])
    ok(server.call("crm.company.delete", {"id": k2}), True)
    assert contact_side(server, b) == [(k, 20, "Y")]
    assert company_side(server, k) == [(b, 20, "Y")]
