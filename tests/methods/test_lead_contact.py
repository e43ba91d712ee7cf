"""crm.lead.contact.*: one test (or a tight parametrised group) per line of the bindings contract.

Contract: ../shared/contract/lead-contact-bindings.md (E1–E12, F1, G1–G3, S1–S7, A1–A4, D1–D2, X1,
L1–L4, P1–P3, a P4 smoke test, I1–I5 and the check order). Every test asserts the exact HTTP status,
the exact body and the stored state afterwards, read straight from the database; every error test also
checks that nothing was written. Expected values are written out literally.

State is written as ``(contact id, SORT, IS_PRIMARY)`` tuples in items.get order (SORT, then contact
id). :func:`state` checks I1 (exactly one primary when there is any binding) and ROLE_ID 0 on every read.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from b24local.crm.entities import LEAD, LEAD_CONTACT
from b24local.storage.base import Binding
from tests.conftest import LiveServer, Response, new_database, start_in_process
from tests.expected import LEAD_CONTACT_FIELDS, TIME_KEYS

ITEMS_GET = "crm.lead.contact.items.get"
ITEMS_SET = "crm.lead.contact.items.set"
ITEMS_DELETE = "crm.lead.contact.items.delete"
ADD = "crm.lead.contact.add"
DELETE = "crm.lead.contact.delete"
FIELDS = "crm.lead.contact.fields"

LEAD_MISSING = 987_654_321  # no lead has this id
CONTACT_MISSING = 987_654_322  # no contact has this id

State = list[tuple[int, int, str]]


# Helpers --------------------------------------------------------------------------------------------
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


def state(server: LiveServer, lead_id: int) -> State:
    """The lead's bindings as stored, checking I1 and ROLE_ID on the way."""
    store = server.storage()
    try:
        with store.read() as tx:
            rows = tx.bindings_get(LEAD_CONTACT, lead_id)
    finally:
        store.close()
    out = [(b.bound_id, b.sort, "Y" if b.is_primary else "N") for b in rows]
    if out:
        assert sum(1 for *_, primary in out if primary == "Y") == 1, f"I1 broken: {out}"
    assert all(b.role_id == 0 for b in rows)
    return out


def put(server: LiveServer, lead_id: int, rows: State) -> None:
    """Write a lead's bindings straight into the database (set-up that does not use the code under test)."""
    store = server.storage()
    try:
        with store.write() as tx:
            tx.bindings_replace(
                LEAD_CONTACT, lead_id, [Binding(c, sort, primary == "Y") for c, sort, primary in rows]
            )
    finally:
        store.close()


def lead_row(server: LiveServer, lead_id: int) -> dict[str, Any]:
    store = server.storage()
    try:
        with store.read() as tx:
            row = tx.entity_get(LEAD, lead_id)
    finally:
        store.close()
    assert row is not None
    return row


def as_got(rows: State) -> list[dict[str, Any]]:
    """A state as items.get returns it (written out by the test, not by the code under test)."""
    return [{"CONTACT_ID": c, "SORT": s, "ROLE_ID": 0, "IS_PRIMARY": p} for c, s, p in rows]


def user_id_of(webhook: str) -> int:
    return int(webhook.split("/rest/", 1)[1].split("/", 1)[0])


def form(server: LiveServer, method: str, data: dict[str, str], webhook: str | None = None) -> Response:
    raw = server.client.post((webhook or server.webhook_url) + method, data=data)
    return Response(raw.status_code, raw.json(), raw.headers)


# Fixtures -------------------------------------------------------------------------------------------
@pytest.fixture
def lead(server: LiveServer) -> int:
    return server.insert_lead()


@pytest.fixture
def contacts(server: LiveServer) -> list[int]:
    """Five contacts of the administrator, in ascending id order."""
    return [server.insert_contact() for _ in range(5)]


@dataclass
class Users:
    user: str  # webhook of a non-admin with CRM access ("own" level)
    user_id: int
    other_id: int  # another non-admin, owner of things `user` may not see
    no_crm: str  # webhook of a user without any CRM access (E9)


@pytest.fixture(scope="module")
def users(server: LiveServer) -> Users:
    user = server.add_user("Caller")
    other = server.add_user("Other")
    no_crm = server.add_user("No CRM", crm_access=False)
    return Users(user, user_id_of(user), user_id_of(other), no_crm)


@pytest.fixture(scope="module")
def exact(
    request: pytest.FixtureRequest, backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server of this module's own with fixed ids: leads 1, 5, 12 bound to contacts 101, 105, 112."""
    live = start_in_process(new_database(request, backend, tmp_path_factory.mktemp("lead_contact_exact")))
    for lead_id in (1, 5, 12):
        live.insert_lead(lead_id)
        live.insert_contact(100 + lead_id)
        put(live, lead_id, [(100 + lead_id, 10, "Y")])
    yield live
    live.stop()


def valid_params(method: str, lead_id: int, contact: int) -> dict[str, Any]:
    """Parameters that would succeed (and, for writes, change something) on a lead bound to nothing else."""
    return {
        ITEMS_GET: {"id": lead_id},
        ITEMS_SET: {"id": lead_id, "items": [{"CONTACT_ID": contact}]},
        ITEMS_DELETE: {"id": lead_id},
        ADD: {"id": lead_id, "fields": {"CONTACT_ID": contact}},
        DELETE: {"id": lead_id, "fields": {"CONTACT_ID": contact}},
        FIELDS: {},
    }[method]


# F1 -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("params", [{}, {"id": 5, "fields": {"x": 1}}])
def test_F1_fields(server: LiveServer, users: Users, params: dict[str, Any]) -> None:
    for webhook in (None, users.user):
        response = server.call(FIELDS, params, webhook=webhook)
        ok(response, LEAD_CONTACT_FIELDS)
        assert list(response.body["result"]) == ["SORT", "IS_PRIMARY", "CONTACT_ID"]
        for spec in response.body["result"].values():
            assert list(spec) == [
                "type",
                "isRequired",
                "isReadOnly",
                "isImmutable",
                "isMultiple",
                "isDynamic",
                "title",
            ]


# G1–G3 ----------------------------------------------------------------------------------------------
def test_G1_items_get_order_and_types(server: LiveServer, lead: int, contacts: list[int]) -> None:
    c1, c2, c3, c4, _ = contacts
    put(server, lead, [(c4, 20, "N"), (c2, 20, "Y"), (c3, 5, "N"), (c1, 30, "N")])
    response = server.call(ITEMS_GET, {"id": lead})
    ok(
        response,
        [
            {"CONTACT_ID": c3, "SORT": 5, "ROLE_ID": 0, "IS_PRIMARY": "N"},
            {"CONTACT_ID": c2, "SORT": 20, "ROLE_ID": 0, "IS_PRIMARY": "Y"},
            {"CONTACT_ID": c4, "SORT": 20, "ROLE_ID": 0, "IS_PRIMARY": "N"},
            {"CONTACT_ID": c1, "SORT": 30, "ROLE_ID": 0, "IS_PRIMARY": "N"},
        ],
    )
    for item in response.body["result"]:
        assert list(item) == ["CONTACT_ID", "SORT", "ROLE_ID", "IS_PRIMARY"]
        assert type(item["CONTACT_ID"]) is int
        assert type(item["SORT"]) is int
        assert type(item["ROLE_ID"]) is int
    assert state(server, lead) == [(c3, 5, "N"), (c2, 20, "Y"), (c4, 20, "N"), (c1, 30, "N")]


def test_G1_no_paging(server: LiveServer, lead: int) -> None:
    many = [server.insert_contact() for _ in range(60)]
    put(server, lead, [(c, 10 * (i + 1), "Y" if i == 0 else "N") for i, c in enumerate(many)])
    response = server.call(ITEMS_GET, {"id": lead, "start": 50})
    assert response.status == 200
    assert set(response.body) == {"result", "time"}  # no total, no next
    assert [item["CONTACT_ID"] for item in response.body["result"]] == many
    assert response.body["result"][59] == {
        "CONTACT_ID": many[59],
        "SORT": 600,
        "ROLE_ID": 0,
        "IS_PRIMARY": "N",
    }


def test_G2_no_bindings(server: LiveServer, lead: int) -> None:
    ok(server.call(ITEMS_GET, {"id": lead}), [])
    assert state(server, lead) == []


SEED_ITEMS_SET = (
    b'{"id":1,"items":[{"CONTACT_ID":1010,"SORT":10,"IS_PRIMARY":"Y"},'
    b'{"CONTACT_ID":1020,"SORT":20,"IS_PRIMARY":"N"}]}'
)


def seed(live: LiveServer) -> None:
    assert live.insert_lead() == 1
    live.insert_contact(1010)
    live.insert_contact(1020)


def test_G3_seed_example(fresh_server: LiveServer) -> None:
    seed(fresh_server)
    raw = fresh_server.client.post(
        fresh_server.webhook_url + ITEMS_SET,
        content=SEED_ITEMS_SET,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    assert raw.status_code == 200
    ok(
        fresh_server.call(ITEMS_GET, {"id": 1}),
        [
            {"CONTACT_ID": 1010, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"},
            {"CONTACT_ID": 1020, "SORT": 20, "ROLE_ID": 0, "IS_PRIMARY": "N"},
        ],
    )
    assert state(fresh_server, 1) == [(1010, 10, "Y"), (1020, 20, "N")]


# S1–S7 ----------------------------------------------------------------------------------------------
def test_S1_replaces_whole_set_and_true_when_unchanged(
    server: LiveServer, lead: int, contacts: list[int]
) -> None:
    c1, c2, c3, c4, c5 = contacts
    put(server, lead, [(c1, 10, "Y"), (c2, 20, "N"), (c3, 30, "N")])
    ok(server.call(ITEMS_SET, {"id": lead, "items": [{"CONTACT_ID": c4}, {"CONTACT_ID": c2}]}), True)
    assert state(server, lead) == [(c4, 10, "Y"), (c2, 20, "N")]
    # The same call again changes nothing and still answers true.
    ok(server.call(ITEMS_SET, {"id": lead, "items": [{"CONTACT_ID": c4}, {"CONTACT_ID": c2}]}), True)
    assert state(server, lead) == [(c4, 10, "Y"), (c2, 20, "N")]
    # A set that reorders the same contacts rewrites SORT and primary.
    ok(
        server.call(ITEMS_SET, {"id": lead, "items": [{"CONTACT_ID": c2}, {"CONTACT_ID": c5, "SORT": 5}]}),
        True,
    )
    assert state(server, lead) == [(c5, 5, "N"), (c2, 10, "Y")]


@pytest.mark.parametrize("empty", [[], {}])
def test_S2_empty_items_removes_everything(
    server: LiveServer, lead: int, contacts: list[int], empty: Any
) -> None:
    c1, c2, *_ = contacts
    put(server, lead, [(c1, 10, "Y"), (c2, 20, "N")])
    ok(server.call(ITEMS_SET, {"id": lead, "items": empty}), True)
    assert state(server, lead) == []
    ok(server.call(ITEMS_GET, {"id": lead}), [])
    # On a lead without bindings too.
    ok(server.call(ITEMS_SET, {"id": lead, "items": []}), True)
    assert state(server, lead) == []


@pytest.mark.parametrize("flag", [True, 1, "1", "y", "Yes", "N", "", None, " Y", "Y ", ["Y"]])
def test_S3_only_exact_Y_marks_the_primary(
    server: LiveServer, lead: int, contacts: list[int], flag: Any
) -> None:
    c1, c2, c3, *_ = contacts
    items = [
        {"CONTACT_ID": c1, "IS_PRIMARY": flag},
        {"CONTACT_ID": c2, "IS_PRIMARY": "Y"},
        {"CONTACT_ID": c3, "IS_PRIMARY": "Y"},
    ]
    ok(server.call(ITEMS_SET, {"id": lead, "items": items}), True)
    assert state(server, lead) == [(c1, 10, "N"), (c2, 20, "Y"), (c3, 30, "N")]


@pytest.mark.parametrize("flag", [True, 1, "1", "y", "Yes", "N", None])
def test_S3_no_Y_means_first_element_whatever_its_sort(
    server: LiveServer, lead: int, contacts: list[int], flag: Any
) -> None:
    c1, c2, c3, *_ = contacts
    items = [
        {"CONTACT_ID": c3, "SORT": 90, "IS_PRIMARY": "N"},
        {"CONTACT_ID": c1, "SORT": 1, "IS_PRIMARY": flag},
        {"CONTACT_ID": c2, "SORT": 2},
    ]
    ok(server.call(ITEMS_SET, {"id": lead, "items": items}), True)
    assert state(server, lead) == [(c1, 1, "N"), (c2, 2, "N"), (c3, 90, "Y")]


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("absent", 20),
        (30, 30),
        ("30", 30),
        (15.9, 15),
        ("15.9", 15),
        ("25abc", 25),
        (True, 1),
        (1, 1),
        (0, 20),
        ("0", 20),
        (-5, 20),
        ("-5", 20),
        (None, 20),
        ("", 20),
        ("abc", 20),
        (False, 20),
    ],
)
def test_S4_sort(server: LiveServer, lead: int, contacts: list[int], given: Any, stored: int) -> None:
    c1, c2, c3, *_ = contacts
    middle: dict[str, Any] = {"CONTACT_ID": c2}
    if given != "absent":
        middle["SORT"] = given
    items = [{"CONTACT_ID": c1, "SORT": 1000}, middle, {"CONTACT_ID": c3}]
    ok(server.call(ITEMS_SET, {"id": lead, "items": items}), True)
    assert sorted(state(server, lead)) == sorted([(c1, 1000, "Y"), (c2, stored, "N"), (c3, 30, "N")])


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        # The last occurrence's SORT wins; the primary is still the first element.
        ([("c1", 5, None), ("c2", None, None), ("c1", 40, None)], [("c2", 20, "N"), ("c1", 40, "Y")]),
        # A last occurrence without SORT takes its own position's default.
        ([("c1", 5, None), ("c2", None, "Y"), ("c1", None, None)], [("c2", 20, "Y"), ("c1", 30, "N")]),
        # The first "Y" over the whole list, even on a repeated contact.
        ([("c1", None, None), ("c2", None, None), ("c2", None, "Y")], [("c1", 10, "N"), ("c2", 30, "Y")]),
        # Two "Y" on the same contact and on another: one primary.
        ([("c2", None, "Y"), ("c1", None, "Y"), ("c2", 7, "Y")], [("c2", 7, "Y"), ("c1", 20, "N")]),
        ([("c1", None, None), ("c1", None, None), ("c1", None, None)], [("c1", 30, "Y")]),
    ],
)
def test_S5_duplicates_collapse(
    server: LiveServer,
    lead: int,
    contacts: list[int],
    items: list[tuple[str, int | None, str | None]],
    expected: list[tuple[str, int, str]],
) -> None:
    ids = {"c1": contacts[0], "c2": contacts[1]}
    request: list[dict[str, Any]] = []
    for name, sort, primary in items:
        item: dict[str, Any] = {"CONTACT_ID": ids[name]}
        if sort is not None:
            item["SORT"] = sort
        if primary is not None:
            item["IS_PRIMARY"] = primary
        request.append(item)
    ok(server.call(ITEMS_SET, {"id": lead, "items": request}), True)
    assert state(server, lead) == [(ids[n], s, p) for n, s, p in expected]


@pytest.mark.parametrize(
    ("before", "items", "expected"),
    [
        (None, [{"C": 1}, {"C": 2}], [(1, 10, "Y"), (2, 20, "N")]),
        (None, [{"C": 1, "SORT": 50}, {"C": 2, "SORT": 10}], [(2, 10, "N"), (1, 50, "Y")]),
        (
            None,
            [{"C": 1, "IS_PRIMARY": "Y"}, {"C": 2, "IS_PRIMARY": "Y"}],
            [(1, 10, "Y"), (2, 20, "N")],
        ),
        (
            None,
            [{"C": 1, "IS_PRIMARY": True}, {"C": 2, "IS_PRIMARY": "Y"}],
            [(1, 10, "N"), (2, 20, "Y")],
        ),
        ([{"C": 1}, {"C": 2}, {"C": 3}], [{"C": 3}, {"C": 4}], [(3, 10, "Y"), (4, 20, "N")]),
    ],
    ids=["plain", "sort-reorders", "two-Y", "true-is-not-Y", "existing-123-then-34"],
)
def test_S6_examples(
    server: LiveServer,
    lead: int,
    contacts: list[int],
    *,
    before: list[dict[str, Any]] | None,
    items: list[dict[str, Any]],
    expected: list[tuple[int, int, str]],
) -> None:
    def real(spec: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {"CONTACT_ID": contacts[s["C"] - 1], **{k: v for k, v in s.items() if k != "C"}} for s in spec
        ]

    if before is not None:
        ok(server.call(ITEMS_SET, {"id": lead, "items": real(before)}), True)
        assert state(server, lead) == [(contacts[0], 10, "Y"), (contacts[1], 20, "N"), (contacts[2], 30, "N")]
    ok(server.call(ITEMS_SET, {"id": lead, "items": real(items)}), True)
    want = [(contacts[c - 1], sort, primary) for c, sort, primary in expected]
    assert state(server, lead) == want
    ok(server.call(ITEMS_GET, {"id": lead}), as_got(want))


def test_S7_seed_example_verbatim(fresh_server: LiveServer) -> None:
    seed(fresh_server)
    raw = fresh_server.client.post(
        fresh_server.webhook_url + ITEMS_SET,
        content=SEED_ITEMS_SET,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    assert raw.status_code == 200
    assert raw.headers["content-type"] == "application/json; charset=utf-8"
    body = raw.json()
    assert set(body) == {"result", "time"}
    assert body["result"] is True
    assert set(body["time"]) == TIME_KEYS
    assert state(fresh_server, 1) == [(1010, 10, "Y"), (1020, 20, "N")]


# A1–A4 ----------------------------------------------------------------------------------------------
def test_A1_add(server: LiveServer, lead: int, contacts: list[int]) -> None:
    c1, c2, *_ = contacts
    ok(server.call(ADD, {"id": lead, "fields": {"CONTACT_ID": c1}}), True)
    assert state(server, lead) == [(c1, 10, "Y")]
    ok(server.call(ADD, {"id": lead, "fields": {"CONTACT_ID": str(c2)}}), True)
    assert state(server, lead) == [(c1, 10, "Y"), (c2, 20, "N")]
    ok(server.call(ITEMS_GET, {"id": lead}), as_got([(c1, 10, "Y"), (c2, 20, "N")]))
    # CONTACT_ID is cast like P1 (E6 refuses only what casts to ≤ 0).
    c3 = contacts[2]
    ok(server.call(ADD, {"id": lead, "fields": {"CONTACT_ID": f"{c3}abc"}}), True)
    ok(server.call(ADD, {"id": lead, "fields": {"CONTACT_ID": contacts[3] + 0.9}}), True)
    assert state(server, lead) == [(c1, 10, "Y"), (c2, 20, "N"), (c3, 30, "N"), (contacts[3], 40, "N")]


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"SORT": 1},
        {"SORT": 99, "IS_PRIMARY": "Y"},
        {"IS_PRIMARY": "Y"},
    ],
)
@pytest.mark.parametrize("which", ["primary", "other"])
def test_A2_already_bound_is_false(
    server: LiveServer, lead: int, contacts: list[int], fields: dict[str, Any], which: str
) -> None:
    c1, c2, *_ = contacts
    put(server, lead, [(c1, 10, "Y"), (c2, 20, "N")])
    contact = c1 if which == "primary" else c2
    ok(server.call(ADD, {"id": lead, "fields": {"CONTACT_ID": contact, **fields}}), False)
    assert state(server, lead) == [(c1, 10, "Y"), (c2, 20, "N")]


def test_A3_primary(server: LiveServer, lead: int, contacts: list[int]) -> None:
    c1, c2, c3, c4, c5 = contacts
    # The first contact is primary even with "N".
    ok(server.call(ADD, {"id": lead, "fields": {"CONTACT_ID": c1, "IS_PRIMARY": "N"}}), True)
    assert state(server, lead) == [(c1, 10, "Y")]
    # Not exactly "Y": not primary.
    for contact, flag in ((c2, "y"), (c3, True)):
        ok(server.call(ADD, {"id": lead, "fields": {"CONTACT_ID": contact, "IS_PRIMARY": flag}}), True)
    assert state(server, lead) == [(c1, 10, "Y"), (c2, 20, "N"), (c3, 30, "N")]
    # Exactly "Y": becomes primary, the former primary is demoted.
    ok(server.call(ADD, {"id": lead, "fields": {"CONTACT_ID": c4, "IS_PRIMARY": "Y"}}), True)
    assert state(server, lead) == [(c1, 10, "N"), (c2, 20, "N"), (c3, 30, "N"), (c4, 40, "Y")]
    ok(server.call(ADD, {"id": lead, "fields": {"CONTACT_ID": c5, "IS_PRIMARY": "1"}}), True)
    assert state(server, lead) == [(c1, 10, "N"), (c2, 20, "N"), (c3, 30, "N"), (c4, 40, "Y"), (c5, 50, "N")]


@pytest.mark.parametrize(
    ("before", "given", "stored"),
    [
        ([], "absent", 10),
        ([], None, 10),
        ([(0, 7, "Y"), (1, 35, "N")], "absent", 45),
        ([(0, -30, "Y"), (1, -20, "N")], "absent", -10),
        ([(0, 10, "Y")], 0, 0),
        ([(0, 10, "Y")], -5, -5),
        ([(0, 10, "Y")], "30", 30),
        ([(0, 10, "Y")], "30abc", 30),
        ([(0, 10, "Y")], 15.9, 15),
        ([(0, 10, "Y")], "", 0),
        ([(0, 10, "Y")], "abc", 0),
        ([(0, 10, "Y")], 5, 5),
        # Saturates at the largest storable integer instead of failing (was a 500).
        ([(0, 9223372036854775807, "Y")], "absent", 9223372036854775807),
        ([(0, 9223372036854775800, "Y")], "absent", 9223372036854775807),
        ([(0, 10, "Y")], "99999999999999999999", 9223372036854775807),
        ([(0, 10, "Y")], -1e30, -9223372036854775808),
    ],
)
def test_A4_sort(
    server: LiveServer,
    lead: int,
    contacts: list[int],
    *,
    before: list[tuple[int, int, str]],
    given: Any,
    stored: int,
) -> None:
    put(server, lead, [(contacts[i], sort, primary) for i, sort, primary in before])
    fields: dict[str, Any] = {"CONTACT_ID": contacts[4]}
    if given != "absent":
        fields["SORT"] = given
    ok(server.call(ADD, {"id": lead, "fields": fields}), True)
    expected = [(contacts[i], sort, primary) for i, sort, primary in before]
    expected.append((contacts[4], stored, "N" if before else "Y"))
    assert sorted(state(server, lead)) == sorted(expected)


# D1–D2 ----------------------------------------------------------------------------------------------
def test_D1_delete(server: LiveServer, lead: int, contacts: list[int]) -> None:
    c1, c2, c3, *_ = contacts
    put(server, lead, [(c1, 10, "Y"), (c2, 20, "N"), (c3, 30, "N")])
    ok(server.call(DELETE, {"id": lead, "fields": {"CONTACT_ID": c2}}), True)
    assert state(server, lead) == [(c1, 10, "Y"), (c3, 30, "N")]
    # Not bound (also a contact that does not exist): false, nothing changes.
    for contact in (c2, contacts[4], CONTACT_MISSING):
        ok(server.call(DELETE, {"id": lead, "fields": {"CONTACT_ID": contact}}), False)
        assert state(server, lead) == [(c1, 10, "Y"), (c3, 30, "N")]


@pytest.mark.parametrize(
    ("before", "gone", "after"),
    [
        # Lowest SORT wins.
        ([(0, 10, "Y"), (1, 40, "N"), (2, 20, "N")], 0, [(2, 20, "Y"), (1, 40, "N")]),
        # Ties on SORT: lowest contact id wins (stored order does not matter).
        (
            [(0, 10, "Y"), (3, 30, "N"), (1, 30, "N"), (2, 50, "N")],
            0,
            [(1, 30, "Y"), (3, 30, "N"), (2, 50, "N")],
        ),
        # The primary need not have the lowest SORT.
        ([(0, 5, "N"), (1, 8, "N"), (2, 90, "Y")], 2, [(0, 5, "Y"), (1, 8, "N")]),
        # Negative SORTs are the lowest.
        ([(0, 10, "Y"), (1, 5, "N"), (2, -3, "N")], 0, [(2, -3, "Y"), (1, 5, "N")]),
        # Deleting a non-primary keeps the primary.
        ([(0, 10, "N"), (1, 20, "Y")], 0, [(1, 20, "Y")]),
        # Deleting the last one leaves nothing (CONTACT_ID null: see test_I2).
        ([(0, 10, "Y")], 0, []),
    ],
)
def test_D2_delete_primary_promotes(
    server: LiveServer,
    lead: int,
    contacts: list[int],
    *,
    before: State,
    gone: int,
    after: State,
) -> None:
    put(server, lead, [(contacts[i], s, p) for i, s, p in before])
    ok(server.call(DELETE, {"id": lead, "fields": {"CONTACT_ID": contacts[gone]}}), True)
    assert state(server, lead) == [(contacts[i], s, p) for i, s, p in after]


# X1 -------------------------------------------------------------------------------------------------
def test_X1_items_delete(server: LiveServer, lead: int, contacts: list[int]) -> None:
    c1, c2, c3, *_ = contacts
    put(server, lead, [(c1, 10, "N"), (c2, 20, "Y"), (c3, 30, "N")])
    other = server.insert_lead()
    put(server, other, [(c1, 10, "Y")])
    ok(server.call(ITEMS_DELETE, {"id": lead}), True)
    assert state(server, lead) == []
    ok(server.call(ITEMS_GET, {"id": lead}), [])
    # Again on the now empty lead: still true.
    ok(server.call(ITEMS_DELETE, {"id": lead}), True)
    assert state(server, lead) == []
    # Other leads keep theirs.
    assert state(server, other) == [(c1, 10, "Y")]


# E1–E2 (and P1's zero casts) ------------------------------------------------------------------------
BAD_IDS = [0, -1, "-7", "abc", "", None, False, "missing", [], {}, "0x1A"]


@pytest.mark.parametrize("bad_id", BAD_IDS)
@pytest.mark.parametrize("method", [ADD, DELETE])
def test_E1_bad_id_add_delete(
    server: LiveServer, lead: int, contacts: list[int], method: str, bad_id: Any
) -> None:
    put(server, lead, [(contacts[0], 10, "Y")])
    params: dict[str, Any] = {"fields": {"CONTACT_ID": contacts[0]}}
    if bad_id != "missing":
        params["id"] = bad_id
    error(server.call(method, params), 400, "", "The parameter 'ownerEntityID' is invalid or not defined.")
    assert state(server, lead) == [(contacts[0], 10, "Y")]


@pytest.mark.parametrize("bad_id", BAD_IDS)
@pytest.mark.parametrize("method", [ITEMS_GET, ITEMS_SET, ITEMS_DELETE])
def test_E2_bad_id_items(
    server: LiveServer, lead: int, contacts: list[int], method: str, bad_id: Any
) -> None:
    put(server, lead, [(contacts[0], 10, "Y")])
    params: dict[str, Any] = {"items": [{"CONTACT_ID": contacts[1]}]}
    if bad_id != "missing":
        params["ID"] = bad_id
    error(server.call(method, params), 400, "", "The parameter ownerEntityID is invalid or not defined.")
    assert state(server, lead) == [(contacts[0], 10, "Y")]


# E3–E5 ----------------------------------------------------------------------------------------------
NOT_AN_ARRAY = ["missing", None, "x", "", 5, 0, 1.5, True, False]


def _with(params: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    return params if value == "missing" else {**params, name: value}


@pytest.mark.parametrize("value", NOT_AN_ARRAY)
def test_E3_add_fields_not_array(server: LiveServer, lead: int, contacts: list[int], value: Any) -> None:
    put(server, lead, [(contacts[0], 10, "Y")])
    error(
        server.call(ADD, _with({"id": lead}, "fields", value)),
        400,
        "",
        "The parameter 'fields' must be array.",
    )
    assert state(server, lead) == [(contacts[0], 10, "Y")]


@pytest.mark.parametrize("value", NOT_AN_ARRAY)
def test_E4_delete_fields_not_array(server: LiveServer, lead: int, contacts: list[int], value: Any) -> None:
    put(server, lead, [(contacts[0], 10, "Y")])
    error(
        server.call(DELETE, _with({"id": lead}, "fields", value)),
        400,
        "",
        "The parameter 'item' must be array.",
    )
    assert state(server, lead) == [(contacts[0], 10, "Y")]


@pytest.mark.parametrize("value", ["missing", None, "x", "", "[]", 5, 0, 1.5])
def test_E5_items_not_array(server: LiveServer, lead: int, contacts: list[int], value: Any) -> None:
    put(server, lead, [(contacts[0], 10, "Y"), (contacts[1], 20, "N")])
    error(
        server.call(ITEMS_SET, _with({"id": lead}, "items", value)),
        400,
        "",
        "The parameter items must be array.",
    )
    assert state(server, lead) == [(contacts[0], 10, "Y"), (contacts[1], 20, "N")]


def test_E5_form_empty_items_is_a_string(server: LiveServer, lead: int, contacts: list[int]) -> None:
    """`items=` in a form is the empty string, not an empty list: refused, nothing cleared."""
    put(server, lead, [(contacts[0], 10, "Y")])
    response = form(server, ITEMS_SET, {"id": str(lead), "items": ""})
    error(response, 400, "", "The parameter items must be array.")
    assert state(server, lead) == [(contacts[0], 10, "Y")]


# E6 -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"CONTACT_ID": 0},
        {"CONTACT_ID": -4},
        {"CONTACT_ID": "-4"},
        {"CONTACT_ID": "abc"},
        {"CONTACT_ID": ""},
        {"CONTACT_ID": None},
        {"CONTACT_ID": False},
        {"contact_id": "LOWER"},  # P3: lower-case keys are not read
        {"Contact_Id": "LOWER"},
        {"SORT": 10, "IS_PRIMARY": "Y"},
    ],
)
@pytest.mark.parametrize("method", [ADD, DELETE])
def test_E6_fields_not_valid(
    server: LiveServer, lead: int, contacts: list[int], method: str, fields: Any
) -> None:
    put(server, lead, [(contacts[0], 10, "Y")])
    if isinstance(fields, dict):
        fields = {k: (contacts[0] if v == "LOWER" else v) for k, v in fields.items()}
    error(
        server.call(method, {"id": lead, "fields": fields}), 400, "", "The parameter 'fields' is not valid."
    )
    assert state(server, lead) == [(contacts[0], 10, "Y")]


# E7 -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", [ITEMS_GET, ITEMS_SET, ITEMS_DELETE, ADD, DELETE])
def test_E7_lead_not_found(server: LiveServer, contacts: list[int], method: str) -> None:
    error(
        server.call(method, valid_params(method, LEAD_MISSING, contacts[0])), 400, "NOT_FOUND", "Not found."
    )
    assert state(server, LEAD_MISSING) == []


# E8 -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", [ITEMS_GET, ITEMS_SET, ITEMS_DELETE, ADD, DELETE])
def test_E8_lead_of_another_user(server: LiveServer, users: Users, method: str) -> None:
    for owner in (1, users.other_id):
        lead_id = server.insert_lead(assigned_by=owner)
        mine = [server.insert_contact(assigned_by=users.user_id) for _ in range(2)]
        put(server, lead_id, [(mine[0], 10, "Y")])
        contact = mine[0] if method == DELETE else mine[1]
        response = server.call(method, valid_params(method, lead_id, contact), webhook=users.user)
        error(response, 403, "ACCESS_DENIED", "Access denied!")
        assert state(server, lead_id) == [(mine[0], 10, "Y")]


@pytest.mark.parametrize("method", [ITEMS_GET, ITEMS_SET, ITEMS_DELETE, ADD, DELETE])
def test_E8_missing_lead_for_non_admin(server: LiveServer, users: Users, method: str) -> None:
    """Below level "all", a lead that does not exist answers E8, never E7."""
    mine = server.insert_contact(assigned_by=users.user_id)
    response = server.call(method, valid_params(method, LEAD_MISSING, mine), webhook=users.user)
    error(response, 403, "ACCESS_DENIED", "Access denied!")
    assert state(server, LEAD_MISSING) == []


def test_E8_passes_for_own_lead(server: LiveServer, users: Users) -> None:
    """The counterpart: a non-admin works on its own lead with its own contacts."""
    lead_id = server.insert_lead(assigned_by=users.user_id)
    c1, c2, c3 = (server.insert_contact(assigned_by=users.user_id) for _ in range(3))
    hook = users.user
    ok(
        server.call(
            ITEMS_SET, {"id": lead_id, "items": [{"CONTACT_ID": c1}, {"CONTACT_ID": c2}]}, webhook=hook
        ),
        True,
    )
    ok(server.call(ADD, {"id": lead_id, "fields": {"CONTACT_ID": c3, "IS_PRIMARY": "Y"}}, webhook=hook), True)
    assert state(server, lead_id) == [(c1, 10, "N"), (c2, 20, "N"), (c3, 30, "Y")]
    ok(server.call(DELETE, {"id": lead_id, "fields": {"CONTACT_ID": c3}}, webhook=hook), True)
    ok(server.call(ITEMS_GET, {"id": lead_id}, webhook=hook), as_got([(c1, 10, "Y"), (c2, 20, "N")]))
    ok(server.call(ITEMS_DELETE, {"id": lead_id}, webhook=hook), True)
    assert state(server, lead_id) == []


# E9 -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", [FIELDS, ITEMS_GET, ITEMS_SET, ITEMS_DELETE, ADD, DELETE])
@pytest.mark.parametrize("broken", [False, True])
def test_E9_no_crm_access(
    server: LiveServer, users: Users, contacts: list[int], method: str, broken: bool
) -> None:
    """E9 comes first: also before a bad id and a bad parameter shape."""
    lead_id = server.insert_lead(assigned_by=user_id_of(users.no_crm))
    put(server, lead_id, [(contacts[0], 10, "Y")])
    contact = contacts[0] if method == DELETE else contacts[1]
    params = {"id": 0, "items": 5, "fields": "x"} if broken else valid_params(method, lead_id, contact)
    error(server.call(method, params, webhook=users.no_crm), 400, "", "Access denied.")
    assert state(server, lead_id) == [(contacts[0], 10, "Y")]


# E10 ------------------------------------------------------------------------------------------------
def test_E10_add_missing_contact(server: LiveServer, lead: int, contacts: list[int]) -> None:
    put(server, lead, [(contacts[0], 10, "Y")])
    for given in (CONTACT_MISSING, str(CONTACT_MISSING)):
        response = server.call(ADD, {"id": lead, "fields": {"CONTACT_ID": given, "IS_PRIMARY": "Y"}})
        error(response, 400, "NOT_FOUND", "Contact #987654322 not found.")
        assert state(server, lead) == [(contacts[0], 10, "Y")]


def test_E10_items_set_missing_contact(server: LiveServer, lead: int, contacts: list[int]) -> None:
    c1, c2, c3, *_ = contacts
    put(server, lead, [(c1, 10, "Y"), (c2, 20, "N")])
    items = [{"CONTACT_ID": c3}, {"CONTACT_ID": CONTACT_MISSING}, {"CONTACT_ID": c1}]
    error(
        server.call(ITEMS_SET, {"id": lead, "items": items}),
        400,
        "NOT_FOUND",
        "Contact #987654322 not found.",
    )
    assert state(server, lead) == [(c1, 10, "Y"), (c2, 20, "N")]


# E11 ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", [ADD, DELETE, ITEMS_SET])
def test_E11_contact_of_another_user(server: LiveServer, users: Users, method: str) -> None:
    lead_id = server.insert_lead(assigned_by=users.user_id)
    mine = server.insert_contact(assigned_by=users.user_id)
    theirs = server.insert_contact(assigned_by=users.other_id)
    before = [(mine, 10, "Y"), (theirs, 20, "N")] if method == DELETE else [(mine, 10, "Y")]
    put(server, lead_id, before)
    params = {
        ADD: {"id": lead_id, "fields": {"CONTACT_ID": theirs}},
        DELETE: {"id": lead_id, "fields": {"CONTACT_ID": theirs}},
        ITEMS_SET: {"id": lead_id, "items": [{"CONTACT_ID": mine}, {"CONTACT_ID": theirs}]},
    }[method]
    error(server.call(method, params, webhook=users.user), 400, "", f"[Contact #{theirs}] Access denied.")
    assert state(server, lead_id) == before


# E12 ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "bad",
    [
        "BARE",  # a bare contact id, as in the portal's silently destructive `[5, 6]`
        "BARE_STR",
        None,
        [],
        ["CID"],
        {},
        {"CONTACT_ID": 0},
        {"CONTACT_ID": "0"},
        {"CONTACT_ID": -3},
        {"CONTACT_ID": "-3"},
        {"CONTACT_ID": "abc"},
        {"CONTACT_ID": "CID_abc"},
        {"CONTACT_ID": ""},
        {"CONTACT_ID": None},
        {"CONTACT_ID": True},
        {"CONTACT_ID": ["CID"]},
        {"CONTACT_ID": {"x": "CID"}},
        {"contact_id": "CID"},  # P3: lower-case keys are not read
        {"Contact_ID": "CID"},
        {"SORT": 10, "IS_PRIMARY": "Y"},
    ],
)
def test_E12_item_without_valid_contact(server: LiveServer, lead: int, contacts: list[int], bad: Any) -> None:
    c1, c2, c3, *_ = contacts

    def fill(value: Any) -> Any:
        if value == "CID":
            return c3
        if value == "CID_abc":
            return f"{c3}abc"
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    element = {"BARE": c3, "BARE_STR": str(c3)}.get(bad, bad) if isinstance(bad, str) else fill(bad)
    put(server, lead, [(c1, 10, "Y"), (c2, 20, "N")])
    items = [{"CONTACT_ID": c2}, {"CONTACT_ID": c1, "SORT": 1}, element, {"CONTACT_ID": c3}]
    error(
        server.call(ITEMS_SET, {"id": lead, "items": items}),
        400,
        "",
        "The parameter items is not valid: item #2 has no valid CONTACT_ID.",
    )
    assert state(server, lead) == [(c1, 10, "Y"), (c2, 20, "N")]


def test_E12_bare_id_list_is_refused(server: LiveServer, lead: int, contacts: list[int]) -> None:
    """The portal's `[5, 6]` clears every binding and answers true; b24local refuses at item #0."""
    c1, c2, *_ = contacts
    put(server, lead, [(c1, 10, "Y"), (c2, 20, "N")])
    error(
        server.call(ITEMS_SET, {"id": lead, "items": [c1, c2]}),
        400,
        "",
        "The parameter items is not valid: item #0 has no valid CONTACT_ID.",
    )
    assert state(server, lead) == [(c1, 10, "Y"), (c2, 20, "N")]


# Check order ----------------------------------------------------------------------------------------
def test_order_id_before_shape(server: LiveServer) -> None:
    error(
        server.call(ITEMS_SET, {"id": "abc"}),
        400,
        "",
        "The parameter ownerEntityID is invalid or not defined.",
    )
    error(server.call(ADD, {"id": 0}), 400, "", "The parameter 'ownerEntityID' is invalid or not defined.")
    error(
        server.call(DELETE, {"fields": 5}),
        400,
        "",
        "The parameter 'ownerEntityID' is invalid or not defined.",
    )


def test_order_shape_before_access_and_existence(server: LiveServer, users: Users) -> None:
    theirs = server.insert_lead(assigned_by=users.other_id)
    for lead_id, webhook in ((theirs, users.user), (LEAD_MISSING, users.user), (LEAD_MISSING, None)):
        error(
            server.call(ITEMS_SET, {"id": lead_id}, webhook=webhook),
            400,
            "",
            "The parameter items must be array.",
        )
        error(
            server.call(ADD, {"id": lead_id}, webhook=webhook),
            400,
            "",
            "The parameter 'fields' must be array.",
        )
        error(
            server.call(DELETE, {"id": lead_id}, webhook=webhook),
            400,
            "",
            "The parameter 'item' must be array.",
        )


def test_order_E8_before_E6_E12_E10_E11(server: LiveServer, users: Users) -> None:
    theirs = server.insert_lead(assigned_by=users.other_id)
    foreign = server.insert_contact(assigned_by=users.other_id)
    for lead_id in (theirs, LEAD_MISSING):
        for method, params in (
            (ADD, {"id": lead_id, "fields": {"CONTACT_ID": 0}}),
            (DELETE, {"id": lead_id, "fields": {}}),
            (ITEMS_SET, {"id": lead_id, "items": [5, 6]}),
            (ADD, {"id": lead_id, "fields": {"CONTACT_ID": CONTACT_MISSING}}),
            (ITEMS_SET, {"id": lead_id, "items": [{"CONTACT_ID": CONTACT_MISSING}]}),
            (ADD, {"id": lead_id, "fields": {"CONTACT_ID": foreign}}),
            (DELETE, {"id": lead_id, "fields": {"CONTACT_ID": foreign}}),
        ):
            error(server.call(method, params, webhook=users.user), 403, "ACCESS_DENIED", "Access denied!")
    assert state(server, theirs) == []


def test_order_E7_before_E6_E12_E10(server: LiveServer) -> None:
    for method, params in (
        (ADD, {"id": LEAD_MISSING, "fields": {"CONTACT_ID": 0}}),
        (DELETE, {"id": LEAD_MISSING, "fields": {"SORT": 1}}),
        (ITEMS_SET, {"id": LEAD_MISSING, "items": [5, 6]}),
        (ADD, {"id": LEAD_MISSING, "fields": {"CONTACT_ID": CONTACT_MISSING}}),
        (ITEMS_SET, {"id": LEAD_MISSING, "items": [{"CONTACT_ID": CONTACT_MISSING}]}),
    ):
        error(server.call(method, params), 400, "NOT_FOUND", "Not found.")
    assert state(server, LEAD_MISSING) == []


def test_order_E12_before_E10_and_E11(server: LiveServer, users: Users) -> None:
    # Admin: a missing contact first, an invalid element later: E12, not E10.
    lead_id = server.insert_lead()
    items = [{"CONTACT_ID": CONTACT_MISSING}, {"CONTACT_ID": "x"}]
    error(
        server.call(ITEMS_SET, {"id": lead_id, "items": items}),
        400,
        "",
        "The parameter items is not valid: item #1 has no valid CONTACT_ID.",
    )
    assert state(server, lead_id) == []
    # Non-admin on its own lead: a foreign contact first, an invalid element later: E12, not E11.
    own = server.insert_lead(assigned_by=users.user_id)
    foreign = server.insert_contact(assigned_by=users.other_id)
    items = [{"CONTACT_ID": foreign}, {"CONTACT_ID": 0}]
    error(
        server.call(ITEMS_SET, {"id": own, "items": items}, webhook=users.user),
        400,
        "",
        "The parameter items is not valid: item #1 has no valid CONTACT_ID.",
    )
    assert state(server, own) == []


def test_order_E6_before_E10(server: LiveServer, lead: int) -> None:
    error(
        server.call(ADD, {"id": lead, "fields": {"CONTACT_ID": "-1"}}),
        400,
        "",
        "The parameter 'fields' is not valid.",
    )
    assert state(server, lead) == []


def test_order_admin_missing_lead_is_E7_non_admin_is_E8(server: LiveServer, users: Users) -> None:
    error(server.call(ITEMS_GET, {"id": LEAD_MISSING}), 400, "NOT_FOUND", "Not found.")
    error(
        server.call(ITEMS_GET, {"id": LEAD_MISSING}, webhook=users.user),
        403,
        "ACCESS_DENIED",
        "Access denied!",
    )


# P1 -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("given", "lead_id"),
    [
        (12, 12),
        ("12", 12),
        ("12abc", 12),
        (" 12", 12),
        ("+12", 12),
        (5.9, 5),
        ("5.9", 5),
        (True, 1),
        ("1e1", 10),  # PHP 7.1+: "1e1" → 10 (no such lead: E7)
        ("abc", 0),
        ("", 0),
        (None, 0),
        ("missing", 0),
        (0.9, 0),
    ],
)
def test_P1_id_cast_json(exact: LiveServer, given: Any, lead_id: int) -> None:
    params = {} if given == "missing" else {"id": given}
    response = exact.call(ITEMS_GET, params)
    if lead_id == 0:
        error(response, 400, "", "The parameter ownerEntityID is invalid or not defined.")
    elif lead_id == 10:
        error(response, 400, "NOT_FOUND", "Not found.")
    else:
        ok(response, [{"CONTACT_ID": 100 + lead_id, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"}])


@pytest.mark.parametrize(
    ("given", "lead_id"),
    [("12", 12), ("12abc", 12), ("5.9", 5), ("1", 1), ("abc", 0), ("", 0), ("missing", 0), ("true", 0)],
)
def test_P1_id_cast_form(exact: LiveServer, given: str, lead_id: int) -> None:
    data = {} if given == "missing" else {"id": given}
    response = form(exact, ITEMS_GET, {**data, "x": "1"})
    if lead_id == 0:
        error(response, 400, "", "The parameter ownerEntityID is invalid or not defined.")
    else:
        ok(response, [{"CONTACT_ID": 100 + lead_id, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"}])


@pytest.mark.parametrize(
    ("params", "lead_id"),
    [
        ({"ID": 5, "id": 12}, 5),
        ({"ID": "12abc", "id": 5}, 12),
        ({"ID": None, "id": 12}, 12),
        ({"Id": 12}, 0),
        ({"iD": 12}, 0),
    ],
)
def test_P1_ID_before_id(exact: LiveServer, params: dict[str, Any], lead_id: int) -> None:
    response = exact.call(ITEMS_GET, params)
    if lead_id == 0:
        error(response, 400, "", "The parameter ownerEntityID is invalid or not defined.")
    else:
        ok(response, [{"CONTACT_ID": 100 + lead_id, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"}])


def test_P1_id_cast_on_writes(exact: LiveServer) -> None:
    extra = exact.insert_contact()
    ok(exact.call(ADD, {"id": "12abc", "fields": {"CONTACT_ID": extra}}), True)
    assert state(exact, 12) == [(112, 10, "Y"), (extra, 20, "N")]
    ok(exact.call(DELETE, {"ID": 12.7, "fields": {"CONTACT_ID": extra}}), True)
    assert state(exact, 12) == [(112, 10, "Y")]
    ok(form(exact, ITEMS_SET, {"id": "5.9", "items[0][CONTACT_ID]": str(extra)}), True)
    assert state(exact, 5) == [(extra, 10, "Y")]
    ok(exact.call(ITEMS_SET, {"id": True, "items": [{"CONTACT_ID": 101}, {"CONTACT_ID": extra}]}), True)
    assert state(exact, 1) == [(101, 10, "Y"), (extra, 20, "N")]
    # Restore the fixture's state for the read-only P1 tests.
    put(exact, 5, [(105, 10, "Y")])
    put(exact, 1, [(101, 10, "Y")])
    assert state(exact, 12) == [(112, 10, "Y")]


# P2 -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["items", "ITEMS", "Items"])
def test_P2_items_names(server: LiveServer, lead: int, contacts: list[int], name: str) -> None:
    c1, c2, *_ = contacts
    ok(server.call(ITEMS_SET, {"id": lead, name: [{"CONTACT_ID": c2}, {"CONTACT_ID": c1}]}), True)
    assert state(server, lead) == [(c2, 10, "Y"), (c1, 20, "N")]


@pytest.mark.parametrize("name", ["fields", "FIELDS", "Fields"])
def test_P2_fields_names(server: LiveServer, lead: int, contacts: list[int], name: str) -> None:
    c1, c2, *_ = contacts
    ok(server.call(ADD, {"id": lead, name: {"CONTACT_ID": c1}}), True)
    ok(server.call(ADD, {"id": lead, name: {"CONTACT_ID": c2, "SORT": 5}}), True)
    assert state(server, lead) == [(c2, 5, "N"), (c1, 10, "Y")]
    ok(server.call(DELETE, {"id": lead, name: {"CONTACT_ID": c1}}), True)
    assert state(server, lead) == [(c2, 5, "Y")]


@pytest.mark.parametrize("null_name", ["items", "ITEMS", "Items"])
@pytest.mark.parametrize("name", ["items", "ITEMS", "Items"])
def test_P2_null_items_counts_as_missing(
    server: LiveServer, lead: int, contacts: list[int], null_name: str, name: str
) -> None:
    c1, c2, *_ = contacts
    put(server, lead, [(c1, 10, "Y")])
    if name != null_name:
        ok(server.call(ITEMS_SET, {"id": lead, null_name: None, name: [{"CONTACT_ID": c2}]}), True)
        assert state(server, lead) == [(c2, 10, "Y")]
    else:
        error(server.call(ITEMS_SET, {"id": lead, name: None}), 400, "", "The parameter items must be array.")
        assert state(server, lead) == [(c1, 10, "Y")]


@pytest.mark.parametrize("method", [ADD, DELETE])
def test_P2_null_fields_counts_as_missing(
    server: LiveServer, lead: int, contacts: list[int], method: str
) -> None:
    c1, c2, *_ = contacts
    put(server, lead, [(c1, 10, "Y")])
    contact = c2 if method == ADD else c1
    ok(server.call(method, {"id": lead, "fields": None, "FIELDS": {"CONTACT_ID": contact}}), True)
    assert state(server, lead) == ([(c1, 10, "Y"), (c2, 20, "N")] if method == ADD else [])


@pytest.mark.parametrize(
    ("items_name", "fields_name"),
    [("iTEMS", "fIELDS"), ("ITems", "FIelds"), ("item", "field"), ("Item", "Field"), ("ITEM", "FIELD")],
)
def test_P2_other_spellings_not_read(
    server: LiveServer, lead: int, contacts: list[int], items_name: str, fields_name: str
) -> None:
    put(server, lead, [(contacts[0], 10, "Y")])
    error(
        server.call(ITEMS_SET, {"id": lead, items_name: [{"CONTACT_ID": contacts[1]}]}),
        400,
        "",
        "The parameter items must be array.",
    )
    error(
        server.call(ADD, {"id": lead, fields_name: {"CONTACT_ID": contacts[1]}}),
        400,
        "",
        "The parameter 'fields' must be array.",
    )
    error(
        server.call(DELETE, {"id": lead, fields_name: {"CONTACT_ID": contacts[0]}}),
        400,
        "",
        "The parameter 'item' must be array.",
    )
    assert state(server, lead) == [(contacts[0], 10, "Y")]


# P3 -------------------------------------------------------------------------------------------------
def test_P3_items_set_reads_only_upper_case_keys(server: LiveServer, lead: int, contacts: list[int]) -> None:
    c1, c2, c3, *_ = contacts
    items = [
        {"CONTACT_ID": c1, "ROLE_ID": 7, "ID": c3, "FOO": "bar"},
        {"CONTACT_ID": c2, "is_primary": "Y", "sort": 5, "Sort": 6, "ROLE_ID": "9", "contact_id": c3},
        {"CONTACT_ID": c3, "Is_Primary": "Y", "SORT": 3, "role_id": 1},
    ]
    ok(server.call(ITEMS_SET, {"id": lead, "items": items}), True)
    assert state(server, lead) == [(c3, 3, "N"), (c1, 10, "Y"), (c2, 20, "N")]
    ok(server.call(ITEMS_GET, {"id": lead}), as_got([(c3, 3, "N"), (c1, 10, "Y"), (c2, 20, "N")]))


def test_P3_add_reads_only_upper_case_keys(server: LiveServer, lead: int, contacts: list[int]) -> None:
    c1, c2, *_ = contacts
    ok(server.call(ADD, {"id": lead, "fields": {"CONTACT_ID": c1, "ROLE_ID": 5, "sort": 99}}), True)
    ok(
        server.call(ADD, {"id": lead, "fields": {"CONTACT_ID": c2, "is_primary": "Y", "Sort": 1, "ID": c1}}),
        True,
    )
    assert state(server, lead) == [(c1, 10, "Y"), (c2, 20, "N")]
    ok(server.call(DELETE, {"id": lead, "fields": {"CONTACT_ID": c2, "contact_id": c1, "ROLE_ID": 3}}), True)
    assert state(server, lead) == [(c1, 10, "Y")]


# P4 smoke (the full matrix is tested elsewhere) -----------------------------------------------------
def test_P4_form_urlencoded_items_set(server: LiveServer, lead: int, contacts: list[int]) -> None:
    c1, c2, *_ = contacts
    data = {
        "id": str(lead),
        "items[0][CONTACT_ID]": str(c1),
        "items[0][SORT]": "30",
        "items[1][CONTACT_ID]": str(c2),
        "items[1][IS_PRIMARY]": "Y",
        "items[1][ROLE_ID]": "4",
    }
    ok(form(server, ITEMS_SET, data), True)
    assert state(server, lead) == [(c2, 20, "Y"), (c1, 30, "N")]


def test_P4_multipart_add_and_delete(server: LiveServer, lead: int, contacts: list[int]) -> None:
    c1, c2, *_ = contacts
    for contact, sort in ((c1, None), (c2, "5")):
        files = {"id": (None, str(lead)), "fields[CONTACT_ID]": (None, str(contact))}
        if sort is not None:
            files["fields[SORT]"] = (None, sort)
        raw = server.client.post(server.webhook_url + ADD, files=files)
        assert raw.status_code == 200
        assert raw.json()["result"] is True
    assert state(server, lead) == [(c2, 5, "N"), (c1, 10, "Y")]
    raw = server.client.post(
        server.webhook_url + DELETE, files={"id": (None, str(lead)), "fields[CONTACT_ID]": (None, str(c1))}
    )
    assert raw.status_code == 200
    assert raw.json()["result"] is True
    assert state(server, lead) == [(c2, 5, "Y")]


def test_P4_query_string(server: LiveServer, lead: int, contacts: list[int]) -> None:
    c1, c2, *_ = contacts
    raw = server.client.get(
        server.webhook_url + ITEMS_SET,
        params={"id": str(lead), "items[0][CONTACT_ID]": str(c1), "items[1][CONTACT_ID]": str(c2)},
    )
    assert raw.status_code == 200
    assert raw.json()["result"] is True
    assert state(server, lead) == [(c1, 10, "Y"), (c2, 20, "N")]
    raw = server.client.get(server.webhook_url + ITEMS_GET, params={"id": str(lead)})
    assert raw.status_code == 200
    assert raw.json()["result"] == as_got([(c1, 10, "Y"), (c2, 20, "N")])


# I1 / I3 / I5 ---------------------------------------------------------------------------------------
def test_I1_random_call_sequence(server: LiveServer, lead: int, contacts: list[int]) -> None:
    """Exactly one primary after every kind of call, successful or not; items.get agrees with storage."""
    rng = random.Random(20240503)
    pool = [*contacts, CONTACT_MISSING]
    flags = ["Y", "N", None, True, "y"]
    sorts = [None, 0, -5, 10, 20, "30", 15.9]

    def item() -> Any:
        if rng.random() < 0.05:
            return rng.choice(contacts)  # a bare id: E12
        out: dict[str, Any] = {"CONTACT_ID": rng.choice(pool)}
        if (sort := rng.choice(sorts)) is not None:
            out["SORT"] = sort
        if (flag := rng.choice(flags)) is not None:
            out["IS_PRIMARY"] = flag
        return out

    for _ in range(150):
        kind = rng.randrange(4)
        if kind == 0:
            response = server.call(ADD, {"id": lead, "fields": item()})
        elif kind == 1:
            response = server.call(DELETE, {"id": lead, "fields": {"CONTACT_ID": rng.choice(pool)}})
        elif kind == 2:
            response = server.call(
                ITEMS_SET, {"id": lead, "items": [item() for _ in range(rng.randrange(5))]}
            )
        else:
            response = server.call(ITEMS_DELETE, {"id": lead})
        assert response.status in (200, 400), response.body
        now = state(server, lead)  # asserts I1
        ok(server.call(ITEMS_GET, {"id": lead}), as_got(now))


def test_I3_concurrent_items_set(server: LiveServer, lead: int, contacts: list[int]) -> None:
    """Concurrent writes on one lead end in a state some serial order gives; I1 holds."""
    c1, c2, c3, c4, c5 = contacts
    lists = [
        [{"CONTACT_ID": c1}, {"CONTACT_ID": c2}],
        [{"CONTACT_ID": c3, "IS_PRIMARY": "Y"}, {"CONTACT_ID": c4, "IS_PRIMARY": "Y"}],
        [{"CONTACT_ID": c5, "SORT": 5}],
    ]
    outcomes = [
        [(c1, 10, "Y"), (c2, 20, "N")],
        [(c3, 10, "Y"), (c4, 20, "N")],
        [(c5, 5, "Y")],
    ]
    failures: list[Any] = []

    def worker(n: int) -> None:
        for i in range(8):
            response = server.call(ITEMS_SET, {"id": lead, "items": lists[(n + i) % 3]})
            if response.status != 200 or response.body["result"] is not True:
                failures.append(response.body)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert state(server, lead) in outcomes


def test_I5_binding_methods_leave_lead_columns_alone(server: LiveServer, users: Users) -> None:
    tracked = ("date_modify", "modify_by_id", "is_return_customer")
    for webhook, owner in ((None, 1), (users.user, users.user_id)):
        lead_id = server.insert_lead(
            assigned_by=owner, date_modify=1_600_000_000, modify_by_id=77, is_return_customer="N"
        )
        c1, c2, c3 = (server.insert_contact(assigned_by=owner) for _ in range(3))
        before = {k: lead_row(server, lead_id)[k] for k in tracked}
        assert before == {"date_modify": 1_600_000_000, "modify_by_id": 77, "is_return_customer": "N"}
        calls: list[tuple[str, dict[str, Any], int]] = [
            (ITEMS_SET, {"id": lead_id, "items": [{"CONTACT_ID": c1}, {"CONTACT_ID": c2}]}, 200),
            (ADD, {"id": lead_id, "fields": {"CONTACT_ID": c3, "IS_PRIMARY": "Y"}}, 200),
            (ADD, {"id": lead_id, "fields": {"CONTACT_ID": c3}}, 200),  # false
            (DELETE, {"id": lead_id, "fields": {"CONTACT_ID": c3}}, 200),
            (DELETE, {"id": lead_id, "fields": {"CONTACT_ID": c3}}, 200),  # false
            (ITEMS_GET, {"id": lead_id}, 200),
            (FIELDS, {}, 200),
            (ITEMS_SET, {"id": lead_id, "items": [{"CONTACT_ID": CONTACT_MISSING}]}, 400),
            (ITEMS_SET, {"id": lead_id, "items": [5]}, 400),
            (ADD, {"id": lead_id, "fields": {"CONTACT_ID": 0}}, 400),
            (ITEMS_DELETE, {"id": lead_id}, 200),
            (ITEMS_SET, {"id": lead_id, "items": []}, 200),
            (ADD, {"id": lead_id, "fields": {"CONTACT_ID": c2}}, 200),
        ]
        for method, params, status in calls:
            response = server.call(method, params, webhook=webhook)
            assert response.status == status, (method, response.body)
            assert {k: lead_row(server, lead_id)[k] for k in tracked} == before, method
        assert state(server, lead_id) == [(c2, 10, "Y")]


def test_I4_deleting_a_contact_or_lead(server: LiveServer, lead: int, contacts: list[int]) -> None:
    c1, c2, c3, c4, _ = contacts
    other = server.insert_lead()
    put(server, lead, [(c1, 10, "Y"), (c4, 30, "N"), (c3, 30, "N"), (c2, 40, "N")])
    put(server, other, [(c2, 10, "N"), (c1, 20, "Y")])
    ok(server.call("crm.contact.delete", {"id": c1}), True)
    # Unbound everywhere; where it was primary, the lowest SORT (ties: lowest id) takes over.
    assert state(server, lead) == [(c3, 30, "Y"), (c4, 30, "N"), (c2, 40, "N")]
    assert state(server, other) == [(c2, 10, "Y")]
    ok(server.call("crm.contact.delete", {"id": c4}), True)  # not primary: nothing else moves
    assert state(server, lead) == [(c3, 30, "Y"), (c2, 40, "N")]
    ok(server.call("crm.lead.delete", {"id": lead}), True)
    assert state(server, lead) == []
    assert state(server, other) == [(c2, 10, "Y")]


# I2, L1–L4: need crm.lead.* (methods/crm_lead.py) ---------------------------------------------------
def lead_get(server: LiveServer, lead_id: int) -> dict[str, Any]:
    response = server.call("crm.lead.get", {"id": lead_id})
    assert response.status == 200, response.body
    result: dict[str, Any] = response.body["result"]
    return result


def test_I2_lead_contact_id_follows_primary(server: LiveServer, lead: int, contacts: list[int]) -> None:
    c1, c2, c3, *_ = contacts
    steps: list[tuple[str, dict[str, Any], str | None]] = [
        (ITEMS_SET, {"id": lead, "items": [{"CONTACT_ID": c1}, {"CONTACT_ID": c2}]}, str(c1)),
        (ADD, {"id": lead, "fields": {"CONTACT_ID": c3, "IS_PRIMARY": "Y"}}, str(c3)),
        (DELETE, {"id": lead, "fields": {"CONTACT_ID": c3}}, str(c1)),
        (
            ITEMS_SET,
            {"id": lead, "items": [{"CONTACT_ID": c1, "SORT": 50}, {"CONTACT_ID": c2, "SORT": 10}]},
            str(c1),
        ),
        (DELETE, {"id": lead, "fields": {"CONTACT_ID": c1}}, str(c2)),
        (DELETE, {"id": lead, "fields": {"CONTACT_ID": c2}}, None),
        (ADD, {"id": lead, "fields": {"CONTACT_ID": c2, "IS_PRIMARY": "N"}}, str(c2)),
        (ITEMS_DELETE, {"id": lead}, None),
        (ITEMS_SET, {"id": lead, "items": [{"CONTACT_ID": c3}]}, str(c3)),
        (ITEMS_SET, {"id": lead, "items": []}, None),
    ]
    for method, params, contact_id in steps:
        assert server.call(method, params).status == 200
        assert lead_get(server, lead)["CONTACT_ID"] == contact_id, method


def test_L1_lead_get_and_list_show_contact_id_never_ids(
    server: LiveServer, lead: int, contacts: list[int]
) -> None:
    c1, c2, *_ = contacts
    got = lead_get(server, lead)
    assert got["CONTACT_ID"] is None
    assert "CONTACT_IDS" not in got
    put(server, lead, [(c1, 10, "N"), (c2, 20, "Y")])
    got = lead_get(server, lead)
    assert got["CONTACT_ID"] == str(c2)
    assert "CONTACT_IDS" not in got
    for params in (
        {"filter": {"ID": lead}},
        {"filter": {"ID": lead}, "select": ["*", "CONTACT_ID", "CONTACT_IDS"]},
    ):
        response = server.call("crm.lead.list", params)
        assert response.status == 200, response.body
        assert len(response.body["result"]) == 1
        row = response.body["result"][0]
        assert row["CONTACT_ID"] == str(c2)
        assert "CONTACT_IDS" not in row


def test_L2_contact_ids_on_add_and_update(server: LiveServer, contacts: list[int]) -> None:
    c1, c2, c3, c4, c5 = contacts
    response = server.call(
        "crm.lead.add", {"fields": {"TITLE": "L2", "CONTACT_IDS": [c4, c5], "CONTACT_ID": c1}}
    )
    assert response.status == 200, response.body
    lead_id = response.body["result"]
    assert type(lead_id) is int
    assert state(server, lead_id) == [(c4, 10, "Y"), (c5, 20, "N")]
    assert lead_get(server, lead_id)["CONTACT_ID"] == str(c4)
    # Replaces; CONTACT_IDS wins over CONTACT_ID.
    ok(
        server.call(
            "crm.lead.update", {"id": lead_id, "fields": {"CONTACT_IDS": [c2, c3], "CONTACT_ID": c5}}
        ),
        True,
    )
    assert state(server, lead_id) == [(c2, 10, "Y"), (c3, 20, "N")]
    # Duplicates collapse; zeros are ignored.
    ok(server.call("crm.lead.update", {"id": lead_id, "fields": {"CONTACT_IDS": [0, c1, c2, c1, 0]}}), True)
    assert state(server, lead_id) == [(c1, 10, "Y"), (c2, 20, "N")]
    # [] clears.
    ok(server.call("crm.lead.update", {"id": lead_id, "fields": {"CONTACT_IDS": []}}), True)
    assert state(server, lead_id) == []
    assert lead_get(server, lead_id)["CONTACT_ID"] is None


def test_L3_contact_id_on_update(server: LiveServer, lead: int, contacts: list[int]) -> None:
    c1, c2, c3, *_ = contacts
    put(server, lead, [(c1, 10, "Y"), (c2, 20, "N")])
    # Already bound (even as non-primary): nothing changes.
    for given in (c2, str(c1)):
        ok(server.call("crm.lead.update", {"id": lead, "fields": {"CONTACT_ID": given}}), True)
        assert state(server, lead) == [(c1, 10, "Y"), (c2, 20, "N")]
    # Not bound: the bindings become exactly [n].
    ok(server.call("crm.lead.update", {"id": lead, "fields": {"CONTACT_ID": c3}}), True)
    assert state(server, lead) == [(c3, 10, "Y")]
    assert lead_get(server, lead)["CONTACT_ID"] == str(c3)
    # 0 clears.
    ok(server.call("crm.lead.update", {"id": lead, "fields": {"CONTACT_ID": 0}}), True)
    assert state(server, lead) == []
    assert lead_get(server, lead)["CONTACT_ID"] is None


def test_L4_lead_update_is_a_normal_update(server: LiveServer, contacts: list[int]) -> None:
    lead_id = server.insert_lead(date_modify=1_600_000_000, modify_by_id=77, is_return_customer="N")
    ok(server.call("crm.lead.update", {"id": lead_id, "fields": {"CONTACT_IDS": [contacts[0]]}}), True)
    row = lead_row(server, lead_id)
    assert row["date_modify"] > 1_600_000_000
    assert row["modify_by_id"] == 1
    assert row["is_return_customer"] == "Y"
    assert state(server, lead_id) == [(contacts[0], 10, "Y")]
