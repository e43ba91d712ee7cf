"""Permissions of the binding methods by entity type, for every relation (binding-family.md B5).

The owner needs what a lead needs (E8: read for items.get, update for add/delete/items.set, read and
update for items.delete), checked on the owner's own type; binding or unbinding an entity needs read on
the bound type (E11); E9 answers when no type at all is readable. Each caller here is a user without the
built-in Employee role holding one role whose levels (5: all) name exactly the (type, action) pairs of
the case, so that nothing else lets it through. Deals are permitted per pipeline: the role's "deal"
levels are the default pipeline's, "deal_c<n>" those of pipeline n.
"""

from __future__ import annotations

from typing import Any

import pytest

from b24local.crm.entities import DEAL
from tests.bindings.relations import (
    ADD,
    DEAL_CONTACTS,
    DELETE,
    FIELDS,
    ITEMS_DELETE,
    ITEMS_GET,
    ITEMS_SET,
    Relation,
    as_got,
    error,
    ok,
    opened,
    put,
    role_user,
    state,
    valid_params,
)
from tests.conftest import LiveServer

ALL = 5
METHODS = (FIELDS, ITEMS_GET, ITEMS_SET, ITEMS_DELETE, ADD, DELETE)


def check(
    server: LiveServer, rel: Relation, webhook: str, method: str, *, outcome: str, owner_id: int
) -> None:
    """Call ``method`` on an owner bound to one entity; the answer is ``outcome`` (OK, E8, E9, E11);
    a refused call wrote nothing."""
    first, second = rel.insert_bound(server), rel.insert_bound(server)
    put(server, rel, owner_id, [(first, 10, "Y")])
    target = first if method == DELETE else second
    response = server.call(rel.m(method), valid_params(rel, method, owner_id, target), webhook=webhook)
    if outcome == "E8":
        error(response, 403, "ACCESS_DENIED", "Access denied!")
    elif outcome == "E9":
        error(response, 400, "", "Access denied.")
    elif outcome == "E11":
        error(response, 400, "", f"[{rel.bound_title} #{target}] Access denied.")
    else:
        expected: Any = {FIELDS: rel.fields, ITEMS_GET: as_got(rel, [(first, 10, "Y")])}.get(method, True)
        ok(response, expected)
        return
    assert state(server, rel, owner_id) == [(first, 10, "Y")]


#: (what the role gives, as "owner:action" / "bound:action" / "other:read") → outcome per method.
CASES: list[tuple[tuple[str, ...], dict[str, str]]] = [
    (
        ("owner:read", "owner:update", "bound:read"),
        {FIELDS: "OK", ITEMS_GET: "OK", ITEMS_SET: "OK", ITEMS_DELETE: "OK", ADD: "OK", DELETE: "OK"},
    ),
    # No read on the bound type: E11 wherever an entity is bound or unbound.
    (
        ("owner:read", "owner:update"),
        {FIELDS: "OK", ITEMS_GET: "OK", ITEMS_SET: "E11", ITEMS_DELETE: "OK", ADD: "E11", DELETE: "E11"},
    ),
    # No update on the owner's type: only the reads.
    (
        ("owner:read", "bound:read"),
        {FIELDS: "OK", ITEMS_GET: "OK", ITEMS_SET: "E8", ITEMS_DELETE: "E8", ADD: "E8", DELETE: "E8"},
    ),
    # No read on the owner's type: items.get and items.delete (read and update) are refused.
    (
        ("owner:update", "bound:read"),
        {FIELDS: "OK", ITEMS_GET: "E8", ITEMS_SET: "OK", ITEMS_DELETE: "E8", ADD: "OK", DELETE: "OK"},
    ),
    # Everything on the bound type and on another type, nothing on the owner's: E8 (not E9).
    (
        ("bound:read", "bound:update", "other:read", "other:update"),
        {FIELDS: "OK", ITEMS_GET: "E8", ITEMS_SET: "E8", ITEMS_DELETE: "E8", ADD: "E8", DELETE: "E8"},
    ),
    # Update without read anywhere: no CRM entity is readable, E9 for all six.
    (
        ("owner:update",),
        {FIELDS: "E9", ITEMS_GET: "E9", ITEMS_SET: "E9", ITEMS_DELETE: "E9", ADD: "E9", DELETE: "E9"},
    ),
]


def levels(rel: Relation, grants: tuple[str, ...]) -> dict[tuple[str, str], int]:
    """Role levels: "owner"/"bound" are the relation's types; "other" is a type that is neither."""
    other = next(e for e in ("lead", "deal", "contact", "company") if e not in (rel.owner, rel.bound))
    types = {"owner": rel.owner, "bound": rel.bound, "other": other}
    return {(types[who], action): ALL for who, action in (g.split(":") for g in grants)}


@pytest.mark.parametrize(
    ("grants", "outcomes"),
    CASES,
    ids=["all", "no-bound-read", "no-update", "no-read", "other-types", "no-read-anywhere"],
)
def test_B5_role_levels_by_entity_type(
    server: LiveServer, rel: Relation, grants: tuple[str, ...], outcomes: dict[str, str]
) -> None:
    _, webhook = role_user(server, "B5 " + " ".join(grants), levels(rel, grants))
    for method in METHODS:
        check(server, rel, webhook, method, outcome=outcomes[method], owner_id=rel.insert_owner(server))


def test_B5_deals_are_permitted_per_pipeline(server: LiveServer) -> None:
    """A role's "deal" levels are pipeline 0's and those of every pipeline it names no level for;
    "deal_c<n>" gives pipeline n its own."""
    rel = DEAL_CONTACTS
    with opened(server) as store, store.write() as tx:
        n = tx.pipeline_add(DEAL, "Second")
    read_contacts = {("contact", "read"): ALL}
    default = {("deal", "read"): ALL, ("deal", "update"): ALL}
    own_n = {(f"deal_c{n}", "read"): ALL, (f"deal_c{n}", "update"): ALL}
    none_n = {(f"deal_c{n}", "read"): 0, (f"deal_c{n}", "update"): 0}
    callers = {
        "default": role_user(server, "deals", default | read_contacts)[1],
        "default-not-n": role_user(server, f"deals but pipeline {n}", default | none_n | read_contacts)[1],
        "only-n": role_user(server, f"deals of pipeline {n}", own_n | read_contacts)[1],
    }
    # (caller, pipeline) → outcome, for items.get, items.set and add alike.
    expected = {
        ("default", 0): "OK",
        ("default", n): "OK",
        ("default-not-n", 0): "OK",
        ("default-not-n", n): "E8",
        ("only-n", 0): "E8",
        ("only-n", n): "OK",
    }
    for (caller, pipeline), outcome in expected.items():
        for method in (ITEMS_GET, ITEMS_SET, ADD):
            stage = "NEW" if pipeline == 0 else f"C{pipeline}:NEW"
            deal = rel.insert_owner(server, category_id=pipeline, stage_id=stage)
            check(server, rel, callers[caller], method, outcome=outcome, owner_id=deal)
