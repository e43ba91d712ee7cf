"""Property tests of the binding invariants I1–I4 and B3 against a live server, for every relation.

Random sequences of <prefix>.add / delete / items.set / items.delete and crm.<bound>.delete, valid and
invalid, run over a small pool of fresh owners and bound entities (steps.py). A reference model written
independently of b24local.crm.bindings (model.py) predicts every answer and the state. After each step:

- the answer equals the prediction (status and result, or the exact error body);
- items.get over HTTP and the stored rows both equal the model, on every side of the relation (so a
  failed call changed nothing: I3);
- an owner with bindings has exactly one primary (I1), on each side; the owner's printed field equals it
  (I2, where the owner prints one: B2);
- on contact ↔ company, both sides see the same pairs (B3). The two-sided test draws its steps from both
  sides at once, deleting contacts and companies too.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.bindings.model import Model
from tests.bindings.relations import CONTACT_COMPANIES, Relation
from tests.bindings.steps import ABSENT, BOUNDS, OWNERS, BoundRef, IdRef, Item, Pool, Step, request, steps
from tests.conftest import LiveServer
from tests.expected import OWNER_INVALID

E7 = {"error": "NOT_FOUND", "error_description": "Not found."}


def check_state(server: LiveServer, store: Any, pool: Pool, model: Model, context: Any) -> None:
    """Every side of the model against items.get, the stored rows and the owner's printed field."""
    seen: list[set[tuple[int, int]]] = []
    for index, side in enumerate(model.sides):
        owners = pool.side(index).owners
        with store.read() as tx:
            stored = {owner: tx.bindings_get(side.rel.kind, owner) for owner in owners}
            primaries = tx.primaries(side.rel.kind, owners)
        pairs = set()
        for owner in owners:
            response = server.call(side.rel.m("items.get"), {"id": owner})
            rows = [
                {
                    side.rel.key: b.bound_id,
                    "SORT": b.sort,
                    "ROLE_ID": b.role_id,
                    "IS_PRIMARY": "YN"[not b.is_primary],
                }
                for b in stored[owner]
            ]
            if owner not in side.bindings:  # deleted: its bindings went with it
                assert (response.status, response.body, rows) == (400, E7, []), context
                continue
            expected = side.expected_items(owner)
            assert response.result == expected, context
            assert rows == expected, context
            flagged = [b.bound_id for b in stored[owner] if b.is_primary]
            assert len(flagged) == (1 if stored[owner] else 0), context  # I1
            assert primaries.get(owner) == side.primary(owner), context  # I2 (storage)
            if side.rel.owner_field is not None:
                printed = server.call(f"crm.{side.rel.owner}.get", {"id": owner}).result[side.rel.owner_field]
                primary = side.primary(owner)
                assert printed == (None if primary is None else str(primary)), context  # I2 (REST)
            pairs |= {(owner, item[side.rel.key]) for item in response.result}
        seen.append(pairs)
    if len(seen) == 2:  # B3: one relation, the same pairs from both sides
        assert seen[0] == {(b, o) for o, b in seen[1]}, context


def run_step(server: LiveServer, model: Model, pool: Pool, number: int, step: Step) -> str:
    """Send one step and check its answer against the model; what happened, for hypothesis' events."""
    rel = model.sides[step.side].rel
    method, params = request(rel, pool.side(step.side), step)
    before = model.snapshot()
    status, expected = model.apply(pool, step)
    response = server.call(method, params)
    label = expected.get("error_description", "")[:20] if isinstance(expected, dict) else expected
    context = (number, method, params)
    assert response.status == status, (context, response.body)
    if status == 200:
        assert response.body["result"] == expected, context
    else:
        assert response.body == expected, context
        assert model.snapshot() == before  # I3 (model)
    return re.sub(r"\d+", "N", f"{step.side}:{step.op} → {status} {label}")


def run_sequence(server: LiveServer, model: Model, pool: Pool, sequence: list[Step]) -> None:
    store = server.storage()
    try:
        for number, step in enumerate(sequence):
            event(run_step(server, model, pool, number, step))
            check_state(server, store, pool, model, (number, step))
    finally:
        store.close()


SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)


@SETTINGS
@given(sequence=st.lists(steps, min_size=2, max_size=12))
def test_binding_invariants(server: LiveServer, rel: Relation, sequence: list[Step]) -> None:
    pool = Pool(
        owners=[rel.insert_owner(server) for _ in range(OWNERS)],
        bounds=[rel.insert_bound(server) for _ in range(BOUNDS)],
    )
    run_sequence(server, Model.of(rel, pool), pool, sequence)


#: Steps on either side of contact ↔ company (side 1: crm.company.contact.*, deleting contacts).
both_sides = st.tuples(st.sampled_from([0, 1]), steps).map(lambda pair: replace(pair[1], side=pair[0]))


@SETTINGS
@given(sequence=st.lists(both_sides, min_size=2, max_size=12))
def test_two_sided_invariants(server: LiveServer, sequence: list[Step]) -> None:
    """B3: writes through crm.contact.company.* and crm.company.contact.* interleaved, contacts and
    companies deleted; each side keeps I1 and its own SORT and primary, both see the same pairs."""
    rel = CONTACT_COMPANIES
    pool = Pool(
        owners=[rel.insert_owner(server) for _ in range(BOUNDS)],
        bounds=[rel.insert_bound(server) for _ in range(BOUNDS)],
    )
    run_sequence(server, Model.of(rel, pool), pool, sequence)


def test_bound_delete_is_exercised(server: LiveServer, rel: Relation) -> None:
    """The sequences delete bound entities through crm.<bound>.delete: it must exist (not 404)."""
    response = server.call(f"crm.{rel.bound}.delete", {"id": 0})
    assert (response.status, response.body) == (
        400,
        {"error": "", "error_description": "ID is not defined or invalid."},
    )
    response = server.call(rel.m("items.get"), {"id": 0})
    assert (response.status, response.body) == (400, {"error": "", "error_description": OWNER_INVALID})


# --- Fixed sequences with literal expectations (they also check the model against the contract) ------

#: After a step, per pool owner index: (pool bound index, SORT, IS_PRIMARY) in items.get order.
Expect = dict[int, list[tuple[int, int, str]]]


def run_fixed(server: LiveServer, rel: Relation, script: list[tuple[Step, Expect]]) -> None:
    pool = Pool(
        owners=[rel.insert_owner(server) for _ in range(OWNERS)],
        bounds=[rel.insert_bound(server) for _ in range(4)],
    )
    model = Model.of(rel, pool)
    store = server.storage()
    try:
        for number, (step, expect) in enumerate(script):
            run_step(server, model, pool, number, step)
            for owner_index, rows in expect.items():
                assert model.sides[0].expected_items(pool.owners[owner_index]) == [
                    {rel.key: pool.bounds[b], "SORT": sort, "ROLE_ID": 0, "IS_PRIMARY": flag}
                    for b, sort, flag in rows
                ], number
            check_state(server, store, pool, model, number)
    finally:
        store.close()


def item(index: int | str, sort: Any = ABSENT, primary: Any = ABSENT, literal: Any = None) -> Item:
    return Item(BoundRef(index, literal=literal), sort, primary)


def test_fixed_sequence_sort_and_primary(server: LiveServer, rel: Relation) -> None:
    owner = IdRef(0)
    state = [(2, 0, "Y"), (1, 10, "N"), (0, 50, "N")]
    final = [(0, 20, "N"), (1, 30, "N"), (2, 40, "Y")]
    run_fixed(
        server,
        rel,
        [
            # S4 + S3: SORTs kept, the first element is primary whatever its SORT.
            (
                Step("set", owner, items=(item(0, (50, 50)), item(1, (10, 10)))),
                {0: [(1, 10, "N"), (0, 50, "Y")]},
            ),
            # A4: a given SORT 0 is stored; A3: not primary while the owner has one.
            (
                Step("add", owner, bound=BoundRef(2), sort=(0, 0), primary="N"),
                {0: [(2, 0, "N"), (1, 10, "N"), (0, 50, "Y")]},
            ),
            # A4: max SORT + 10; A3: "Y" takes over the primary.
            (
                Step("add", owner, bound=BoundRef(3), primary="Y"),
                {0: [(2, 0, "N"), (1, 10, "N"), (0, 50, "N"), (3, 60, "Y")]},
            ),
            # A2: already bound → false, nothing changes.
            (
                Step("add", owner, bound=BoundRef(3), sort=(1, 1), primary="N"),
                {0: [(2, 0, "N"), (1, 10, "N"), (0, 50, "N"), (3, 60, "Y")]},
            ),
            # D2: the lowest SORT takes over.
            (Step("delete", owner, bound=BoundRef(3)), {0: state}),
            # S5: duplicates collapse, the last occurrence's SORT (-4 → its position's default 30);
            # S3: only the string "Y" counts (true does not).
            (
                Step(
                    "set",
                    owner,
                    items=(item(1), item(0, primary=True), item(1, ("-4", -4)), item(2, primary="Y")),
                ),
                {0: final},
            ),
            # E10 and E12: nothing changes (I3).
            (Step("set", owner, items=(item(0), item("missing"))), {0: final}),
            (Step("set", owner, items=(item(0), item("literal", literal="abc"))), {0: final}),
            (Step("add", owner, bound=BoundRef("missing")), {0: final}),
            # X1, then D1.
            (Step("clear", owner), {0: []}),
            (Step("delete", owner, bound=BoundRef(0)), {0: []}),
            # S2 on the other owner, and E7 for an owner that does not exist.
            (Step("set", IdRef(1), items=()), {1: []}),
            (Step("set", IdRef("missing"), items=(item(0),)), {0: [], 1: []}),
        ],
    )


def test_fixed_sequence_bound_delete(server: LiveServer, rel: Relation) -> None:
    first, second = IdRef(0), IdRef(1)
    after = {0: [(1, 20, "Y"), (2, 20, "N")], 1: [(1, 10, "Y")]}
    run_fixed(
        server,
        rel,
        [
            (
                Step("set", first, items=(item(0, (30, 30)), item(1, (20, 20)), item(2, (20, 20)))),
                {0: [(1, 20, "N"), (2, 20, "N"), (0, 30, "Y")]},
            ),
            (Step("set", second, items=(item(1), item(0))), {1: [(1, 10, "Y"), (0, 20, "N")]}),
            # I4: unbound everywhere; on the first owner 1 and 2 tie on SORT 20 → the lower id.
            (Step("bound_delete", first, bound=BoundRef(0)), after),
            (Step("bound_delete", first, bound=BoundRef(0)), after),  # 400 Not found.
            (Step("add", first, bound=BoundRef(0)), after),  # E10
            (Step("set", second, items=(item(0),)), after),  # E10
        ],
    )


@pytest.mark.parametrize("side", [0, 1])
def test_fixed_sequence_two_sided(server: LiveServer, side: int) -> None:
    """B3 with literal expectations: a pair written on one side, then the other side's own order."""
    rel = CONTACT_COMPANIES
    pool = Pool(
        owners=[rel.insert_owner(server) for _ in range(2)],
        bounds=[rel.insert_bound(server) for _ in range(2)],
    )
    model = Model.of(rel, pool)
    mine, theirs = model.sides[side], model.sides[1 - side]
    store = server.storage()
    try:
        script = [
            Step("set", IdRef(0), items=(item(0, (50, 50)), item(1, (5, 5))), side=side),
            Step("add", IdRef(1), bound=BoundRef(1), primary="Y", side=side),
            Step("delete", IdRef(1), bound=BoundRef(0), side=1 - side),  # the first owner leaves the second
        ]
        for number, step in enumerate(script):
            run_step(server, model, pool, number, step)
            check_state(server, store, pool, model, number)
        here, there = pool.side(side), pool.side(1 - side)
        # On the writing side: its own SORTs and primary; on the other: 10, 20 and first come, primary.
        assert mine.bindings == {
            here.owners[0]: {here.bounds[0]: [50, True]},
            here.owners[1]: {here.bounds[1]: [10, True]},
        }
        assert theirs.bindings == {
            there.owners[0]: {here.owners[0]: [10, True]},
            there.owners[1]: {here.owners[1]: [20, True]},
        }
    finally:
        store.close()
