"""crm.<owner>.<bound>.add, .delete and .items.delete, for every relation: A1–A4, D1–D2, X1.

Contract: ../shared/contract/binding-family.md B1 over lead-contact-bindings.md, as in
test_get_set.py: exact answers, the stored state afterwards, expected values written out literally.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.bindings.relations import (
    ADD,
    BOUND_MISSING,
    DELETE,
    ITEMS_DELETE,
    ITEMS_GET,
    Relation,
    State,
    as_got,
    ok,
    put,
    state,
)
from tests.conftest import LiveServer


# A1–A4 ----------------------------------------------------------------------------------------------
def test_A1_add(server: LiveServer, rel: Relation, owner: int, bound: list[int]) -> None:
    b1, b2, *_ = bound
    ok(server.call(rel.m(ADD), {"id": owner, "fields": {rel.key: b1}}), True)
    assert state(server, rel, owner) == [(b1, 10, "Y")]
    ok(server.call(rel.m(ADD), {"id": owner, "fields": {rel.key: str(b2)}}), True)
    assert state(server, rel, owner) == [(b1, 10, "Y"), (b2, 20, "N")]
    ok(server.call(rel.m(ITEMS_GET), {"id": owner}), as_got(rel, [(b1, 10, "Y"), (b2, 20, "N")]))
    # The item key is cast like P1 (E6 refuses only what casts to ≤ 0).
    b3 = bound[2]
    ok(server.call(rel.m(ADD), {"id": owner, "fields": {rel.key: f"{b3}abc"}}), True)
    ok(server.call(rel.m(ADD), {"id": owner, "fields": {rel.key: bound[3] + 0.9}}), True)
    assert state(server, rel, owner) == [(b1, 10, "Y"), (b2, 20, "N"), (b3, 30, "N"), (bound[3], 40, "N")]


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
    server: LiveServer, rel: Relation, owner: int, bound: list[int], *, fields: dict[str, Any], which: str
) -> None:
    b1, b2, *_ = bound
    put(server, rel, owner, [(b1, 10, "Y"), (b2, 20, "N")])
    chosen = b1 if which == "primary" else b2
    ok(server.call(rel.m(ADD), {"id": owner, "fields": {rel.key: chosen, **fields}}), False)
    assert state(server, rel, owner) == [(b1, 10, "Y"), (b2, 20, "N")]


def test_A3_primary(server: LiveServer, rel: Relation, owner: int, bound: list[int]) -> None:
    b1, b2, b3, b4, b5 = bound
    # The first bound entity is primary even with "N".
    ok(server.call(rel.m(ADD), {"id": owner, "fields": {rel.key: b1, "IS_PRIMARY": "N"}}), True)
    assert state(server, rel, owner) == [(b1, 10, "Y")]
    # Not exactly "Y": not primary.
    for chosen, flag in ((b2, "y"), (b3, True)):
        ok(server.call(rel.m(ADD), {"id": owner, "fields": {rel.key: chosen, "IS_PRIMARY": flag}}), True)
    assert state(server, rel, owner) == [(b1, 10, "Y"), (b2, 20, "N"), (b3, 30, "N")]
    # Exactly "Y": becomes primary, the former primary is demoted.
    ok(server.call(rel.m(ADD), {"id": owner, "fields": {rel.key: b4, "IS_PRIMARY": "Y"}}), True)
    assert state(server, rel, owner) == [(b1, 10, "N"), (b2, 20, "N"), (b3, 30, "N"), (b4, 40, "Y")]
    ok(server.call(rel.m(ADD), {"id": owner, "fields": {rel.key: b5, "IS_PRIMARY": "1"}}), True)
    assert state(server, rel, owner) == [
        (b1, 10, "N"),
        (b2, 20, "N"),
        (b3, 30, "N"),
        (b4, 40, "Y"),
        (b5, 50, "N"),
    ]


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
    rel: Relation,
    owner: int,
    bound: list[int],
    *,
    before: list[tuple[int, int, str]],
    given: Any,
    stored: int,
) -> None:
    put(server, rel, owner, [(bound[i], sort, primary) for i, sort, primary in before])
    fields: dict[str, Any] = {rel.key: bound[4]}
    if given != "absent":
        fields["SORT"] = given
    ok(server.call(rel.m(ADD), {"id": owner, "fields": fields}), True)
    expected = [(bound[i], sort, primary) for i, sort, primary in before]
    expected.append((bound[4], stored, "N" if before else "Y"))
    assert sorted(state(server, rel, owner)) == sorted(expected)


# D1–D2 ----------------------------------------------------------------------------------------------
def test_D1_delete(server: LiveServer, rel: Relation, owner: int, bound: list[int]) -> None:
    b1, b2, b3, *_ = bound
    put(server, rel, owner, [(b1, 10, "Y"), (b2, 20, "N"), (b3, 30, "N")])
    ok(server.call(rel.m(DELETE), {"id": owner, "fields": {rel.key: b2}}), True)
    assert state(server, rel, owner) == [(b1, 10, "Y"), (b3, 30, "N")]
    # Not bound (also an id that does not exist): false, nothing changes.
    for gone in (b2, bound[4], BOUND_MISSING):
        ok(server.call(rel.m(DELETE), {"id": owner, "fields": {rel.key: gone}}), False)
        assert state(server, rel, owner) == [(b1, 10, "Y"), (b3, 30, "N")]


@pytest.mark.parametrize(
    ("before", "gone", "after"),
    [
        # Lowest SORT wins.
        ([(0, 10, "Y"), (1, 40, "N"), (2, 20, "N")], 0, [(2, 20, "Y"), (1, 40, "N")]),
        # Ties on SORT: lowest bound id wins (stored order does not matter).
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
        # Deleting the last one leaves nothing (the owner's CONTACT_ID null: see test_I2).
        ([(0, 10, "Y")], 0, []),
    ],
)
def test_D2_delete_primary_promotes(
    server: LiveServer,
    rel: Relation,
    owner: int,
    bound: list[int],
    *,
    before: State,
    gone: int,
    after: State,
) -> None:
    put(server, rel, owner, [(bound[i], s, p) for i, s, p in before])
    ok(server.call(rel.m(DELETE), {"id": owner, "fields": {rel.key: bound[gone]}}), True)
    assert state(server, rel, owner) == [(bound[i], s, p) for i, s, p in after]


# X1 -------------------------------------------------------------------------------------------------
def test_X1_items_delete(server: LiveServer, rel: Relation, owner: int, bound: list[int]) -> None:
    b1, b2, b3, *_ = bound
    put(server, rel, owner, [(b1, 10, "N"), (b2, 20, "Y"), (b3, 30, "N")])
    other = rel.insert_owner(server)
    put(server, rel, other, [(b1, 10, "Y")])
    ok(server.call(rel.m(ITEMS_DELETE), {"id": owner}), True)
    assert state(server, rel, owner) == []
    ok(server.call(rel.m(ITEMS_GET), {"id": owner}), [])
    # Again on the now empty owner: still true.
    ok(server.call(rel.m(ITEMS_DELETE), {"id": owner}), True)
    assert state(server, rel, owner) == []
    # Other owners keep theirs.
    assert state(server, rel, other) == [(b1, 10, "Y")]
