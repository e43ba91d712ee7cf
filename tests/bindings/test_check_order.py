"""The order of the binding methods' checks, for every relation (lead-contact-bindings.md, "Check
order", B1): E9, then the id (E1/E2), then the parameter shape (E3/E4/E5), then E8, then E7, then
E6/E12, then E10/E11; the first failing check answers and nothing is written.
"""

from __future__ import annotations

from tests.bindings.relations import (
    ADD,
    BOUND_MISSING,
    DELETE,
    ITEMS_GET,
    ITEMS_SET,
    OWNER_MISSING,
    Relation,
    Users,
    error,
    state,
)
from tests.conftest import LiveServer


# Check order ----------------------------------------------------------------------------------------
def test_order_id_before_shape(server: LiveServer, rel: Relation) -> None:
    error(
        server.call(rel.m(ITEMS_SET), {"id": "abc"}),
        400,
        "",
        "The parameter ownerEntityID is invalid or not defined.",
    )
    error(
        server.call(rel.m(ADD), {"id": 0}),
        400,
        "",
        "The parameter 'ownerEntityID' is invalid or not defined.",
    )
    error(
        server.call(rel.m(DELETE), {"fields": 5}),
        400,
        "",
        "The parameter 'ownerEntityID' is invalid or not defined.",
    )


def test_order_shape_before_access_and_existence(server: LiveServer, rel: Relation, users: Users) -> None:
    theirs = rel.insert_owner(server, assigned_by=users.other_id)
    for owner_id, webhook in ((theirs, users.user), (OWNER_MISSING, users.user), (OWNER_MISSING, None)):
        error(
            server.call(rel.m(ITEMS_SET), {"id": owner_id}, webhook=webhook),
            400,
            "",
            "The parameter items must be array.",
        )
        error(
            server.call(rel.m(ADD), {"id": owner_id}, webhook=webhook),
            400,
            "",
            "The parameter 'fields' must be array.",
        )
        error(
            server.call(rel.m(DELETE), {"id": owner_id}, webhook=webhook),
            400,
            "",
            "The parameter 'item' must be array.",
        )


def test_order_E8_before_E6_E12_E10_E11(server: LiveServer, rel: Relation, users: Users) -> None:
    theirs = rel.insert_owner(server, assigned_by=users.other_id)
    foreign = rel.insert_bound(server, assigned_by=users.other_id)
    for owner_id in (theirs, OWNER_MISSING):
        for method, params in (
            (ADD, {"id": owner_id, "fields": {rel.key: 0}}),
            (DELETE, {"id": owner_id, "fields": {}}),
            (ITEMS_SET, {"id": owner_id, "items": [5, 6]}),
            (ADD, {"id": owner_id, "fields": {rel.key: BOUND_MISSING}}),
            (ITEMS_SET, {"id": owner_id, "items": [{rel.key: BOUND_MISSING}]}),
            (ADD, {"id": owner_id, "fields": {rel.key: foreign}}),
            (DELETE, {"id": owner_id, "fields": {rel.key: foreign}}),
        ):
            error(
                server.call(rel.m(method), params, webhook=users.user), 403, "ACCESS_DENIED", "Access denied!"
            )
    assert state(server, rel, theirs) == []


def test_order_E7_before_E6_E12_E10(server: LiveServer, rel: Relation) -> None:
    for method, params in (
        (ADD, {"id": OWNER_MISSING, "fields": {rel.key: 0}}),
        (DELETE, {"id": OWNER_MISSING, "fields": {"SORT": 1}}),
        (ITEMS_SET, {"id": OWNER_MISSING, "items": [5, 6]}),
        (ADD, {"id": OWNER_MISSING, "fields": {rel.key: BOUND_MISSING}}),
        (ITEMS_SET, {"id": OWNER_MISSING, "items": [{rel.key: BOUND_MISSING}]}),
    ):
        error(server.call(rel.m(method), params), 400, "NOT_FOUND", "Not found.")
    assert state(server, rel, OWNER_MISSING) == []


def test_order_E12_before_E10_and_E11(server: LiveServer, rel: Relation, users: Users) -> None:
    # Admin: a missing bound id first, an invalid element later: E12, not E10.
    owner_id = rel.insert_owner(server)
    items = [{rel.key: BOUND_MISSING}, {rel.key: "x"}]
    error(
        server.call(rel.m(ITEMS_SET), {"id": owner_id, "items": items}),
        400,
        "",
        f"The parameter items is not valid: item #1 has no valid {rel.key}.",
    )
    assert state(server, rel, owner_id) == []
    # Non-admin on its own owner: a foreign bound entity first, an invalid element later: E12, not E11.
    own = rel.insert_owner(server, assigned_by=users.user_id)
    foreign = rel.insert_bound(server, assigned_by=users.other_id)
    items = [{rel.key: foreign}, {rel.key: 0}]
    error(
        server.call(rel.m(ITEMS_SET), {"id": own, "items": items}, webhook=users.user),
        400,
        "",
        f"The parameter items is not valid: item #1 has no valid {rel.key}.",
    )
    assert state(server, rel, own) == []


def test_order_E6_before_E10(server: LiveServer, rel: Relation, owner: int) -> None:
    error(
        server.call(rel.m(ADD), {"id": owner, "fields": {rel.key: "-1"}}),
        400,
        "",
        "The parameter 'fields' is not valid.",
    )
    assert state(server, rel, owner) == []


def test_order_admin_missing_owner_is_E7_non_admin_is_E8(
    server: LiveServer, rel: Relation, users: Users
) -> None:
    error(server.call(rel.m(ITEMS_GET), {"id": OWNER_MISSING}), 400, "NOT_FOUND", "Not found.")
    error(
        server.call(rel.m(ITEMS_GET), {"id": OWNER_MISSING}, webhook=users.user),
        403,
        "ACCESS_DENIED",
        "Access denied!",
    )
