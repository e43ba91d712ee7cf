"""The owner's own binding fields, for every relation: I2 and L1–L4 as binding-family.md B2 reads them.

- A lead and a deal print ``CONTACT_ID`` (the primary contact, a string or null) and take ``CONTACT_IDS``
  (write-only); a contact prints ``COMPANY_ID`` and takes ``COMPANY_IDS`` likewise.
- A company prints neither (its contacts are read with crm.company.contact.items.get) and takes
  ``CONTACT_ID`` — a list, as on the official pages — and ``CONTACT_IDS`` on add/update.

Expected values are written out literally, as ``(bound id, SORT, IS_PRIMARY)`` in items.get order.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.bindings.relations import (
    ADD,
    COMPANY_CONTACTS,
    CONTACT_COMPANIES,
    DEAL_CONTACTS,
    DELETE,
    ITEMS_DELETE,
    ITEMS_SET,
    LEAD_CONTACTS,
    Relation,
    ok,
    put,
    record,
    state,
)
from tests.conftest import LiveServer

#: The relations whose owner prints its primary (L1, I2, L3): all but the company's.
WITH_OWNER_FIELD = pytest.mark.parametrize(
    "rel",
    [LEAD_CONTACTS, DEAL_CONTACTS, CONTACT_COMPANIES],
    ids=["lead_contact", "deal_contact", "contact_company"],
)


def owner_get(server: LiveServer, rel: Relation, owner_id: int) -> dict[str, Any]:
    result: dict[str, Any] = server.call(f"crm.{rel.owner}.get", {"id": owner_id}).result
    return result


def single(rel: Relation, bound_id: int) -> Any:
    """The owner's one-value field as add/update take it: a company's CONTACT_ID is a list (B2)."""
    return [bound_id] if rel.owner_field is None else bound_id


def test_I2_owner_field_follows_primary(
    server: LiveServer, rel: Relation, owner: int, bound: list[int]
) -> None:
    b1, b2, b3, *_ = bound
    steps: list[tuple[str, dict[str, Any], str | None]] = [
        (ITEMS_SET, {"id": owner, "items": [{rel.key: b1}, {rel.key: b2}]}, str(b1)),
        (ADD, {"id": owner, "fields": {rel.key: b3, "IS_PRIMARY": "Y"}}, str(b3)),
        (DELETE, {"id": owner, "fields": {rel.key: b3}}, str(b1)),
        (
            ITEMS_SET,
            {"id": owner, "items": [{rel.key: b1, "SORT": 50}, {rel.key: b2, "SORT": 10}]},
            str(b1),
        ),
        (DELETE, {"id": owner, "fields": {rel.key: b1}}, str(b2)),
        (DELETE, {"id": owner, "fields": {rel.key: b2}}, None),
        (ADD, {"id": owner, "fields": {rel.key: b2, "IS_PRIMARY": "N"}}, str(b2)),
        (ITEMS_DELETE, {"id": owner}, None),
        (ITEMS_SET, {"id": owner, "items": [{rel.key: b3}]}, str(b3)),
        (ITEMS_SET, {"id": owner, "items": []}, None),
    ]
    for method, params, primary in steps:
        assert server.call(rel.m(method), params).status == 200
        got = owner_get(server, rel, owner)
        if rel.owner_field is None:  # a company prints no CONTACT_ID (B2)
            assert ("CONTACT_ID" in got, "CONTACT_IDS" in got) == (False, False), method
        else:
            assert got[rel.owner_field] == primary, method


@WITH_OWNER_FIELD
def test_L1_get_and_list_show_the_primary_never_the_list(
    server: LiveServer, rel: Relation, owner: int, bound: list[int]
) -> None:
    assert rel.owner_field is not None
    b1, b2, *_ = bound
    got = owner_get(server, rel, owner)
    assert got[rel.owner_field] is None
    assert rel.list_field not in got
    put(server, rel, owner, [(b1, 10, "N"), (b2, 20, "Y")])
    got = owner_get(server, rel, owner)
    assert got[rel.owner_field] == str(b2)
    assert rel.list_field not in got
    for params in (
        {"filter": {"ID": owner}},
        {"filter": {"ID": owner}, "select": ["*", rel.owner_field, rel.list_field]},
    ):
        rows = server.call(f"crm.{rel.owner}.list", params).result
        assert len(rows) == 1
        assert rows[0][rel.owner_field] == str(b2)
        assert rel.list_field not in rows[0]


@WITH_OWNER_FIELD
def test_L1_list_filters_and_orders_by_the_primary(
    server: LiveServer, rel: Relation, bound: list[int]
) -> None:
    """The printed primary is a list field like any other: filter and order (on contact ↔ company the
    contact's own side's primary)."""
    assert rel.owner_field is not None
    b1, b2, *_ = bound
    o1, o2, o3 = (rel.insert_owner(server) for _ in range(3))
    put(server, rel, o1, [(b2, 10, "Y")])
    put(server, rel, o2, [(b1, 10, "Y"), (b2, 20, "N")])
    put(server, rel, o3, [(b2, 5, "N"), (b1, 10, "Y")])
    ours = {">=ID": o1, "<=ID": o3}

    def listed(params: dict[str, Any]) -> list[tuple[int, str]]:
        rows = server.call(f"crm.{rel.owner}.list", {"select": ["ID", rel.owner_field], **params}).result
        return [(int(r["ID"]), r[rel.owner_field]) for r in rows]

    assert listed({"filter": {**ours, rel.owner_field: b2}}) == [(o1, str(b2))]
    assert listed({"filter": {**ours, rel.owner_field: b1}}) == [(o2, str(b1)), (o3, str(b1))]
    order = {rel.owner_field: "DESC", "ID": "ASC"}
    assert listed({"filter": ours, "order": order}) == [(o1, str(b2)), (o2, str(b1)), (o3, str(b1))]


def test_L1_company_prints_no_contact_fields(server: LiveServer) -> None:
    company = server.insert_company()
    contact = server.insert_contact()
    put(server, COMPANY_CONTACTS, company, [(contact, 10, "Y")])
    got = owner_get(server, COMPANY_CONTACTS, company)
    assert ("CONTACT_ID" in got, "CONTACT_IDS" in got) == (False, False)
    for params in (
        {"filter": {"ID": company}},
        {"filter": {"ID": company}, "select": ["*", "CONTACT_ID", "CONTACT_IDS"]},
    ):
        rows = server.call("crm.company.list", params).result
        assert [r["ID"] for r in rows] == [str(company)]
        assert ("CONTACT_ID" in rows[0], "CONTACT_IDS" in rows[0]) == (False, False)


def test_L2_list_field_on_add_and_update(server: LiveServer, rel: Relation, bound: list[int]) -> None:
    b1, b2, b3, b4, b5 = bound
    one = rel.owner_field or "CONTACT_ID"
    fields = {**rel.required, rel.list_field: [b4, b5], one: single(rel, b1)}
    owner_id = server.call(f"crm.{rel.owner}.add", {"fields": fields}).result
    assert type(owner_id) is int
    assert state(server, rel, owner_id) == [(b4, 10, "Y"), (b5, 20, "N")]
    if rel.owner_field is not None:
        assert owner_get(server, rel, owner_id)[rel.owner_field] == str(b4)
    # Replaces; the list field wins over the single one.
    update = f"crm.{rel.owner}.update"
    ok(
        server.call(update, {"id": owner_id, "fields": {rel.list_field: [b2, b3], one: single(rel, b5)}}),
        True,
    )
    assert state(server, rel, owner_id) == [(b2, 10, "Y"), (b3, 20, "N")]
    # Duplicates collapse; zeros are ignored.
    ok(server.call(update, {"id": owner_id, "fields": {rel.list_field: [0, b1, b2, b1, 0]}}), True)
    assert state(server, rel, owner_id) == [(b1, 10, "Y"), (b2, 20, "N")]
    # [] clears.
    ok(server.call(update, {"id": owner_id, "fields": {rel.list_field: []}}), True)
    assert state(server, rel, owner_id) == []
    if rel.owner_field is not None:
        assert owner_get(server, rel, owner_id)[rel.owner_field] is None


@pytest.mark.parametrize("order", ["list-first", "single-first"])
def test_L2_list_field_wins_whatever_the_key_order(
    server: LiveServer, rel: Relation, bound: list[int], order: str
) -> None:
    b1, b2, *_ = bound
    one = rel.owner_field or "CONTACT_ID"
    pairs = [(rel.list_field, [b2]), (one, single(rel, b1))]
    fields = dict(rel.required) | dict(pairs if order == "list-first" else pairs[::-1])
    owner_id = server.call(f"crm.{rel.owner}.add", {"fields": fields}).result
    assert state(server, rel, owner_id) == [(b2, 10, "Y")]
    ok(server.call(f"crm.{rel.owner}.update", {"id": owner_id, "fields": fields}), True)
    assert state(server, rel, owner_id) == [(b2, 10, "Y")]


@WITH_OWNER_FIELD
def test_L3_owner_field_on_update(server: LiveServer, rel: Relation, owner: int, bound: list[int]) -> None:
    assert rel.owner_field is not None
    update, field = f"crm.{rel.owner}.update", rel.owner_field
    b1, b2, b3, *_ = bound
    put(server, rel, owner, [(b1, 10, "Y"), (b2, 20, "N")])
    # Already bound (even as non-primary): nothing changes.
    for given in (b2, str(b1)):
        ok(server.call(update, {"id": owner, "fields": {field: given}}), True)
        assert state(server, rel, owner) == [(b1, 10, "Y"), (b2, 20, "N")]
    # Not bound: the bindings become exactly [n].
    ok(server.call(update, {"id": owner, "fields": {field: b3}}), True)
    assert state(server, rel, owner) == [(b3, 10, "Y")]
    assert owner_get(server, rel, owner)[field] == str(b3)
    # 0 clears.
    ok(server.call(update, {"id": owner, "fields": {field: 0}}), True)
    assert state(server, rel, owner) == []
    assert owner_get(server, rel, owner)[field] is None


def test_L3_company_contact_id_is_a_list(server: LiveServer) -> None:
    """A company's CONTACT_ID is multiple (official crm-company-fields.md): the whole list, like
    CONTACT_IDS, also when its contacts are bound already."""
    c1, c2, c3 = (server.insert_contact() for _ in range(3))
    company = server.call("crm.company.add", {"fields": {"TITLE": "L3", "CONTACT_ID": [c1, c2]}}).result
    assert state(server, COMPANY_CONTACTS, company) == [(c1, 10, "Y"), (c2, 20, "N")]
    ok(server.call("crm.company.update", {"id": company, "fields": {"CONTACT_ID": [c2]}}), True)
    assert state(server, COMPANY_CONTACTS, company) == [(c2, 10, "Y")]
    ok(server.call("crm.company.update", {"id": company, "fields": {"CONTACT_ID": [c3, c2]}}), True)
    assert state(server, COMPANY_CONTACTS, company) == [(c3, 10, "Y"), (c2, 20, "N")]
    ok(server.call("crm.company.update", {"id": company, "fields": {"CONTACT_ID": []}}), True)
    assert state(server, COMPANY_CONTACTS, company) == []


#: L4 on each owner: what a normal update sets (a lead's IS_RETURN_CUSTOMER follows its contacts).
L4_AFTER = {
    "lead_contact": {"modify_by_id": 1, "is_return_customer": "Y"},
    "deal_contact": {"modify_by_id": 1},
    "contact_company": {"modify_by_id": 1},
    "company_contact": {"modify_by_id": 1},
}


def test_L4_owner_update_is_a_normal_update(server: LiveServer, rel: Relation, bound: list[int]) -> None:
    preset = {"date_modify": 1_600_000_000, "modify_by_id": 77}
    if "is_return_customer" in L4_AFTER[rel.name]:
        preset["is_return_customer"] = "N"
    owner_id = rel.insert_owner(server, **preset)
    ok(server.call(f"crm.{rel.owner}.update", {"id": owner_id, "fields": {rel.list_field: [bound[0]]}}), True)
    row = record(server, rel.owner, owner_id)
    assert row["date_modify"] > 1_600_000_000
    assert {k: row[k] for k in L4_AFTER[rel.name]} == L4_AFTER[rel.name]
    assert state(server, rel, owner_id) == [(bound[0], 10, "Y")]
