"""The binding reads and items.set, for every relation: F1, G1–G3, S1–S7.

Contract: ../shared/contract/binding-family.md B1 and B6 over lead-contact-bindings.md; one test (or a
tight parametrised group) per line, run once per relation (the ``rel`` fixture). Every test asserts the
exact HTTP status, the exact body and the stored state afterwards, read straight from the database.
Expected values are written out literally, as ``(bound id, SORT, IS_PRIMARY)`` in items.get order; the
item key is the relation's (``CONTACT_ID``, or ``COMPANY_ID`` for crm.contact.company.*).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.bindings.relations import (
    FIELDS,
    ITEMS_GET,
    ITEMS_SET,
    Relation,
    Users,
    as_got,
    ok,
    put,
    state,
)
from tests.conftest import LiveServer
from tests.expected import TIME_KEYS


# F1 -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("params", [{}, {"id": 5, "fields": {"x": 1}}])
def test_F1_fields(server: LiveServer, rel: Relation, users: Users, params: dict[str, Any]) -> None:
    for webhook in (None, users.user):
        response = server.call(rel.m(FIELDS), params, webhook=webhook)
        ok(response, rel.fields)
        assert list(response.body["result"]) == ["SORT", "IS_PRIMARY", rel.key]
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
def test_G1_items_get_order_and_types(
    server: LiveServer, rel: Relation, owner: int, bound: list[int]
) -> None:
    b1, b2, b3, b4, _ = bound
    put(server, rel, owner, [(b4, 20, "N"), (b2, 20, "Y"), (b3, 5, "N"), (b1, 30, "N")])
    response = server.call(rel.m(ITEMS_GET), {"id": owner})
    ok(
        response,
        [
            {rel.key: b3, "SORT": 5, "ROLE_ID": 0, "IS_PRIMARY": "N"},
            {rel.key: b2, "SORT": 20, "ROLE_ID": 0, "IS_PRIMARY": "Y"},
            {rel.key: b4, "SORT": 20, "ROLE_ID": 0, "IS_PRIMARY": "N"},
            {rel.key: b1, "SORT": 30, "ROLE_ID": 0, "IS_PRIMARY": "N"},
        ],
    )
    for item in response.body["result"]:
        assert list(item) == [rel.key, "SORT", "ROLE_ID", "IS_PRIMARY"]
        assert type(item[rel.key]) is int
        assert type(item["SORT"]) is int
        assert type(item["ROLE_ID"]) is int
    assert state(server, rel, owner) == [(b3, 5, "N"), (b2, 20, "Y"), (b4, 20, "N"), (b1, 30, "N")]


def test_G1_no_paging(server: LiveServer, rel: Relation, owner: int) -> None:
    many = [rel.insert_bound(server) for _ in range(60)]
    put(server, rel, owner, [(b, 10 * (i + 1), "Y" if i == 0 else "N") for i, b in enumerate(many)])
    response = server.call(rel.m(ITEMS_GET), {"id": owner, "start": 50})
    assert response.status == 200
    assert set(response.body) == {"result", "time"}  # no total, no next
    assert [item[rel.key] for item in response.body["result"]] == many
    assert response.body["result"][59] == {
        rel.key: many[59],
        "SORT": 600,
        "ROLE_ID": 0,
        "IS_PRIMARY": "N",
    }


def test_G2_no_bindings(server: LiveServer, rel: Relation, owner: int) -> None:
    ok(server.call(rel.m(ITEMS_GET), {"id": owner}), [])
    assert state(server, rel, owner) == []


#: The seed's items.set body, verbatim (lead-contact-bindings.md G3, S7); other relations name their
#: item key instead of CONTACT_ID.
SEED_ITEMS_SET = (
    b'{"id":1,"items":[{"CONTACT_ID":1010,"SORT":10,"IS_PRIMARY":"Y"},'
    b'{"CONTACT_ID":1020,"SORT":20,"IS_PRIMARY":"N"}]}'
)


def post_seed(live: LiveServer, rel: Relation) -> httpx.Response:
    """Owner 1 and bound entities 1010 and 1020 on a fresh server, then the seed's items.set as sent."""
    assert rel.insert_owner(live) == 1
    rel.insert_bound(live, 1010)
    rel.insert_bound(live, 1020)
    return live.client.post(
        live.webhook_url + rel.m(ITEMS_SET),
        content=SEED_ITEMS_SET.replace(b'"CONTACT_ID"', f'"{rel.key}"'.encode()),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )


def test_G3_seed_example(fresh_server: LiveServer, rel: Relation) -> None:
    raw = post_seed(fresh_server, rel)
    assert raw.status_code == 200
    ok(
        fresh_server.call(rel.m(ITEMS_GET), {"id": 1}),
        [
            {rel.key: 1010, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"},
            {rel.key: 1020, "SORT": 20, "ROLE_ID": 0, "IS_PRIMARY": "N"},
        ],
    )
    assert state(fresh_server, rel, 1) == [(1010, 10, "Y"), (1020, 20, "N")]


# S1–S7 ----------------------------------------------------------------------------------------------
def test_S1_replaces_whole_set_and_true_when_unchanged(
    server: LiveServer, rel: Relation, owner: int, bound: list[int]
) -> None:
    b1, b2, b3, b4, b5 = bound
    put(server, rel, owner, [(b1, 10, "Y"), (b2, 20, "N"), (b3, 30, "N")])
    ok(server.call(rel.m(ITEMS_SET), {"id": owner, "items": [{rel.key: b4}, {rel.key: b2}]}), True)
    assert state(server, rel, owner) == [(b4, 10, "Y"), (b2, 20, "N")]
    # The same call again changes nothing and still answers true.
    ok(server.call(rel.m(ITEMS_SET), {"id": owner, "items": [{rel.key: b4}, {rel.key: b2}]}), True)
    assert state(server, rel, owner) == [(b4, 10, "Y"), (b2, 20, "N")]
    # A set that reorders the same bound rewrites SORT and primary.
    ok(
        server.call(rel.m(ITEMS_SET), {"id": owner, "items": [{rel.key: b2}, {rel.key: b5, "SORT": 5}]}),
        True,
    )
    assert state(server, rel, owner) == [(b5, 5, "N"), (b2, 10, "Y")]


@pytest.mark.parametrize("empty", [[], {}])
def test_S2_empty_items_removes_everything(
    server: LiveServer, rel: Relation, owner: int, bound: list[int], empty: Any
) -> None:
    b1, b2, *_ = bound
    put(server, rel, owner, [(b1, 10, "Y"), (b2, 20, "N")])
    ok(server.call(rel.m(ITEMS_SET), {"id": owner, "items": empty}), True)
    assert state(server, rel, owner) == []
    ok(server.call(rel.m(ITEMS_GET), {"id": owner}), [])
    # On an owner without bindings too.
    ok(server.call(rel.m(ITEMS_SET), {"id": owner, "items": []}), True)
    assert state(server, rel, owner) == []


@pytest.mark.parametrize("flag", [True, 1, "1", "y", "Yes", "N", "", None, " Y", "Y ", ["Y"]])
def test_S3_only_exact_Y_marks_the_primary(
    server: LiveServer, rel: Relation, owner: int, bound: list[int], flag: Any
) -> None:
    b1, b2, b3, *_ = bound
    items = [
        {rel.key: b1, "IS_PRIMARY": flag},
        {rel.key: b2, "IS_PRIMARY": "Y"},
        {rel.key: b3, "IS_PRIMARY": "Y"},
    ]
    ok(server.call(rel.m(ITEMS_SET), {"id": owner, "items": items}), True)
    assert state(server, rel, owner) == [(b1, 10, "N"), (b2, 20, "Y"), (b3, 30, "N")]


@pytest.mark.parametrize("flag", [True, 1, "1", "y", "Yes", "N", None])
def test_S3_no_Y_means_first_element_whatever_its_sort(
    server: LiveServer, rel: Relation, owner: int, bound: list[int], flag: Any
) -> None:
    b1, b2, b3, *_ = bound
    items = [
        {rel.key: b3, "SORT": 90, "IS_PRIMARY": "N"},
        {rel.key: b1, "SORT": 1, "IS_PRIMARY": flag},
        {rel.key: b2, "SORT": 2},
    ]
    ok(server.call(rel.m(ITEMS_SET), {"id": owner, "items": items}), True)
    assert state(server, rel, owner) == [(b1, 1, "N"), (b2, 2, "N"), (b3, 90, "Y")]


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
def test_S4_sort(
    server: LiveServer, rel: Relation, owner: int, bound: list[int], *, given: Any, stored: int
) -> None:
    b1, b2, b3, *_ = bound
    middle: dict[str, Any] = {rel.key: b2}
    if given != "absent":
        middle["SORT"] = given
    items = [{rel.key: b1, "SORT": 1000}, middle, {rel.key: b3}]
    ok(server.call(rel.m(ITEMS_SET), {"id": owner, "items": items}), True)
    assert sorted(state(server, rel, owner)) == sorted([(b1, 1000, "Y"), (b2, stored, "N"), (b3, 30, "N")])


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        # The last occurrence's SORT wins; the primary is still the first element.
        ([("b1", 5, None), ("b2", None, None), ("b1", 40, None)], [("b2", 20, "N"), ("b1", 40, "Y")]),
        # A last occurrence without SORT takes its own position's default.
        ([("b1", 5, None), ("b2", None, "Y"), ("b1", None, None)], [("b2", 20, "Y"), ("b1", 30, "N")]),
        # The first "Y" over the whole list, even on a repeated bound id.
        ([("b1", None, None), ("b2", None, None), ("b2", None, "Y")], [("b1", 10, "N"), ("b2", 30, "Y")]),
        # Two "Y" on the same bound id and on another: one primary.
        ([("b2", None, "Y"), ("b1", None, "Y"), ("b2", 7, "Y")], [("b2", 7, "Y"), ("b1", 20, "N")]),
        ([("b1", None, None), ("b1", None, None), ("b1", None, None)], [("b1", 30, "Y")]),
    ],
)
def test_S5_duplicates_collapse(
    server: LiveServer,
    rel: Relation,
    owner: int,
    bound: list[int],
    *,
    items: list[tuple[str, int | None, str | None]],
    expected: list[tuple[str, int, str]],
) -> None:
    ids = {"b1": bound[0], "b2": bound[1]}
    request: list[dict[str, Any]] = []
    for name, sort, primary in items:
        item: dict[str, Any] = {rel.key: ids[name]}
        if sort is not None:
            item["SORT"] = sort
        if primary is not None:
            item["IS_PRIMARY"] = primary
        request.append(item)
    ok(server.call(rel.m(ITEMS_SET), {"id": owner, "items": request}), True)
    assert state(server, rel, owner) == [(ids[n], s, p) for n, s, p in expected]


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
    rel: Relation,
    owner: int,
    bound: list[int],
    *,
    before: list[dict[str, Any]] | None,
    items: list[dict[str, Any]],
    expected: list[tuple[int, int, str]],
) -> None:
    def real(spec: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{rel.key: bound[s["C"] - 1], **{k: v for k, v in s.items() if k != "C"}} for s in spec]

    if before is not None:
        ok(server.call(rel.m(ITEMS_SET), {"id": owner, "items": real(before)}), True)
        assert state(server, rel, owner) == [(bound[0], 10, "Y"), (bound[1], 20, "N"), (bound[2], 30, "N")]
    ok(server.call(rel.m(ITEMS_SET), {"id": owner, "items": real(items)}), True)
    want = [(bound[c - 1], sort, primary) for c, sort, primary in expected]
    assert state(server, rel, owner) == want
    ok(server.call(rel.m(ITEMS_GET), {"id": owner}), as_got(rel, want))


def test_S7_seed_example_verbatim(fresh_server: LiveServer, rel: Relation) -> None:
    raw = post_seed(fresh_server, rel)
    assert raw.status_code == 200
    assert raw.headers["content-type"] == "application/json; charset=utf-8"
    answer = raw.json()
    assert set(answer) == {"result", "time"}
    assert answer["result"] is True
    assert set(answer["time"]) == TIME_KEYS
    assert state(fresh_server, rel, 1) == [(1010, 10, "Y"), (1020, 20, "N")]
