"""The binding methods' errors, for every relation: E1–E12 (their order: test_check_order.py).

Contract: ../shared/contract/binding-family.md B1 over lead-contact-bindings.md ("Errors"): the same
texts for every relation, except that the bound entity's title names it (``Company #<id> not found.``,
``[Company #<id>] Access denied.``) and E12 names the relation's item key. Every error test also checks
that nothing was written. Permissions here are the built-in Employee role's (level "own" on every
entity type); roles per entity type (B5) are in test_roles.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.bindings.relations import (
    ADD,
    BOUND_MISSING,
    DELETE,
    FIELDS,
    ITEMS_DELETE,
    ITEMS_GET,
    ITEMS_SET,
    OWNER_MISSING,
    Relation,
    Users,
    as_got,
    error,
    form,
    ok,
    put,
    state,
    user_id_of,
    valid_params,
)
from tests.conftest import LiveServer


def spelled(rel: Relation, value: Any) -> Any:
    """A parametrised key or value with the relation's item key put in: ``KEY`` → ``CONTACT_ID``,
    ``key`` → ``contact_id``, ``Key_Id`` → ``Contact_Id``, ``Key_ID`` → ``Contact_ID``."""
    if isinstance(value, dict):
        return {spelled(rel, k): spelled(rel, v) for k, v in value.items()}
    if isinstance(value, list):
        return [spelled(rel, v) for v in value]
    head = rel.key.split("_")[0]
    return (
        {
            "KEY": rel.key,
            "key": rel.key.lower(),
            "Key_Id": head.capitalize() + "_Id",
            "Key_ID": head.capitalize() + "_ID",
        }.get(value, value)
        if isinstance(value, str)
        else value
    )


# E1–E2 (and P1's zero casts) ------------------------------------------------------------------------
BAD_IDS = [0, -1, "-7", "abc", "", None, False, "missing", [], {}, "0x1A"]


@pytest.mark.parametrize("bad_id", BAD_IDS)
@pytest.mark.parametrize("method", [ADD, DELETE])
def test_E1_bad_id_add_delete(
    server: LiveServer, rel: Relation, owner: int, bound: list[int], *, method: str, bad_id: Any
) -> None:
    put(server, rel, owner, [(bound[0], 10, "Y")])
    params: dict[str, Any] = {"fields": {rel.key: bound[0]}}
    if bad_id != "missing":
        params["id"] = bad_id
    error(
        server.call(rel.m(method), params),
        400,
        "",
        "The parameter 'ownerEntityID' is invalid or not defined.",
    )
    assert state(server, rel, owner) == [(bound[0], 10, "Y")]


@pytest.mark.parametrize("bad_id", BAD_IDS)
@pytest.mark.parametrize("method", [ITEMS_GET, ITEMS_SET, ITEMS_DELETE])
def test_E2_bad_id_items(
    server: LiveServer, rel: Relation, owner: int, bound: list[int], *, method: str, bad_id: Any
) -> None:
    put(server, rel, owner, [(bound[0], 10, "Y")])
    params: dict[str, Any] = {"items": [{rel.key: bound[1]}]}
    if bad_id != "missing":
        params["ID"] = bad_id
    error(
        server.call(rel.m(method), params), 400, "", "The parameter ownerEntityID is invalid or not defined."
    )
    assert state(server, rel, owner) == [(bound[0], 10, "Y")]


# E3–E5 ----------------------------------------------------------------------------------------------
NOT_AN_ARRAY = ["missing", None, "x", "", 5, 0, 1.5, True, False]


def _with(params: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    return params if value == "missing" else {**params, name: value}


@pytest.mark.parametrize("value", NOT_AN_ARRAY)
def test_E3_add_fields_not_array(
    server: LiveServer, rel: Relation, owner: int, bound: list[int], value: Any
) -> None:
    put(server, rel, owner, [(bound[0], 10, "Y")])
    error(
        server.call(rel.m(ADD), _with({"id": owner}, "fields", value)),
        400,
        "",
        "The parameter 'fields' must be array.",
    )
    assert state(server, rel, owner) == [(bound[0], 10, "Y")]


@pytest.mark.parametrize("value", NOT_AN_ARRAY)
def test_E4_delete_fields_not_array(
    server: LiveServer, rel: Relation, owner: int, bound: list[int], value: Any
) -> None:
    put(server, rel, owner, [(bound[0], 10, "Y")])
    error(
        server.call(rel.m(DELETE), _with({"id": owner}, "fields", value)),
        400,
        "",
        "The parameter 'item' must be array.",
    )
    assert state(server, rel, owner) == [(bound[0], 10, "Y")]


@pytest.mark.parametrize("value", ["missing", None, "x", "", "[]", 5, 0, 1.5])
def test_E5_items_not_array(
    server: LiveServer, rel: Relation, owner: int, bound: list[int], value: Any
) -> None:
    put(server, rel, owner, [(bound[0], 10, "Y"), (bound[1], 20, "N")])
    error(
        server.call(rel.m(ITEMS_SET), _with({"id": owner}, "items", value)),
        400,
        "",
        "The parameter items must be array.",
    )
    assert state(server, rel, owner) == [(bound[0], 10, "Y"), (bound[1], 20, "N")]


def test_E5_form_empty_items_is_a_string(
    server: LiveServer, rel: Relation, owner: int, bound: list[int]
) -> None:
    """`items=` in a form is the empty string, not an empty list: refused, nothing cleared."""
    put(server, rel, owner, [(bound[0], 10, "Y")])
    response = form(server, rel.m(ITEMS_SET), {"id": str(owner), "items": ""})
    error(response, 400, "", "The parameter items must be array.")
    assert state(server, rel, owner) == [(bound[0], 10, "Y")]


# E6 -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"KEY": 0},
        {"KEY": -4},
        {"KEY": "-4"},
        {"KEY": "abc"},
        {"KEY": ""},
        {"KEY": None},
        {"KEY": False},
        {"key": "LOWER"},  # P3: lower-case keys are not read
        {"Key_Id": "LOWER"},
        {"SORT": 10, "IS_PRIMARY": "Y"},
    ],
)
@pytest.mark.parametrize("method", [ADD, DELETE])
def test_E6_fields_not_valid(
    server: LiveServer, rel: Relation, owner: int, bound: list[int], *, method: str, fields: Any
) -> None:
    put(server, rel, owner, [(bound[0], 10, "Y")])
    fields = spelled(rel, fields)
    if isinstance(fields, dict):
        fields = {k: (bound[0] if v == "LOWER" else v) for k, v in fields.items()}
    error(
        server.call(rel.m(method), {"id": owner, "fields": fields}),
        400,
        "",
        "The parameter 'fields' is not valid.",
    )
    assert state(server, rel, owner) == [(bound[0], 10, "Y")]


# E7 -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", [ITEMS_GET, ITEMS_SET, ITEMS_DELETE, ADD, DELETE])
def test_E7_owner_not_found(server: LiveServer, rel: Relation, bound: list[int], method: str) -> None:
    error(
        server.call(rel.m(method), valid_params(rel, method, OWNER_MISSING, bound[0])),
        400,
        "NOT_FOUND",
        "Not found.",
    )
    assert state(server, rel, OWNER_MISSING) == []


# E8 -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", [ITEMS_GET, ITEMS_SET, ITEMS_DELETE, ADD, DELETE])
def test_E8_owner_of_another_user(server: LiveServer, rel: Relation, users: Users, method: str) -> None:
    for assignee in (1, users.other_id):
        owner_id = rel.insert_owner(server, assigned_by=assignee)
        mine = [rel.insert_bound(server, assigned_by=users.user_id) for _ in range(2)]
        put(server, rel, owner_id, [(mine[0], 10, "Y")])
        chosen = mine[0] if method == DELETE else mine[1]
        response = server.call(rel.m(method), valid_params(rel, method, owner_id, chosen), webhook=users.user)
        error(response, 403, "ACCESS_DENIED", "Access denied!")
        assert state(server, rel, owner_id) == [(mine[0], 10, "Y")]


@pytest.mark.parametrize("method", [ITEMS_GET, ITEMS_SET, ITEMS_DELETE, ADD, DELETE])
def test_E8_missing_owner_for_non_admin(server: LiveServer, rel: Relation, users: Users, method: str) -> None:
    """Below level "all", an owner that does not exist answers E8, never E7."""
    mine = rel.insert_bound(server, assigned_by=users.user_id)
    response = server.call(rel.m(method), valid_params(rel, method, OWNER_MISSING, mine), webhook=users.user)
    error(response, 403, "ACCESS_DENIED", "Access denied!")
    assert state(server, rel, OWNER_MISSING) == []


def test_E8_passes_for_own_owner(server: LiveServer, rel: Relation, users: Users) -> None:
    """The counterpart: a non-admin works on its own owner with its own bound entities."""
    owner_id = rel.insert_owner(server, assigned_by=users.user_id)
    b1, b2, b3 = (rel.insert_bound(server, assigned_by=users.user_id) for _ in range(3))
    hook = users.user
    ok(
        server.call(
            rel.m(ITEMS_SET), {"id": owner_id, "items": [{rel.key: b1}, {rel.key: b2}]}, webhook=hook
        ),
        True,
    )
    ok(
        server.call(rel.m(ADD), {"id": owner_id, "fields": {rel.key: b3, "IS_PRIMARY": "Y"}}, webhook=hook),
        True,
    )
    assert state(server, rel, owner_id) == [(b1, 10, "N"), (b2, 20, "N"), (b3, 30, "Y")]
    ok(server.call(rel.m(DELETE), {"id": owner_id, "fields": {rel.key: b3}}, webhook=hook), True)
    ok(
        server.call(rel.m(ITEMS_GET), {"id": owner_id}, webhook=hook),
        as_got(rel, [(b1, 10, "Y"), (b2, 20, "N")]),
    )
    ok(server.call(rel.m(ITEMS_DELETE), {"id": owner_id}, webhook=hook), True)
    assert state(server, rel, owner_id) == []


# E9 -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", [FIELDS, ITEMS_GET, ITEMS_SET, ITEMS_DELETE, ADD, DELETE])
@pytest.mark.parametrize("broken", [False, True])
def test_E9_no_crm_access(
    server: LiveServer, rel: Relation, users: Users, bound: list[int], *, method: str, broken: bool
) -> None:
    """E9 comes first: also before a bad id and a bad parameter shape."""
    owner_id = rel.insert_owner(server, assigned_by=user_id_of(users.no_crm))
    put(server, rel, owner_id, [(bound[0], 10, "Y")])
    chosen = bound[0] if method == DELETE else bound[1]
    params = {"id": 0, "items": 5, "fields": "x"} if broken else valid_params(rel, method, owner_id, chosen)
    error(server.call(rel.m(method), params, webhook=users.no_crm), 400, "", "Access denied.")
    assert state(server, rel, owner_id) == [(bound[0], 10, "Y")]


# E10 ------------------------------------------------------------------------------------------------
def test_E10_add_missing_bound(server: LiveServer, rel: Relation, owner: int, bound: list[int]) -> None:
    put(server, rel, owner, [(bound[0], 10, "Y")])
    for given in (BOUND_MISSING, str(BOUND_MISSING)):
        response = server.call(rel.m(ADD), {"id": owner, "fields": {rel.key: given, "IS_PRIMARY": "Y"}})
        error(response, 400, "NOT_FOUND", f"{rel.bound_title} #987654322 not found.")
        assert state(server, rel, owner) == [(bound[0], 10, "Y")]


def test_E10_items_set_missing_bound(server: LiveServer, rel: Relation, owner: int, bound: list[int]) -> None:
    b1, b2, b3, *_ = bound
    put(server, rel, owner, [(b1, 10, "Y"), (b2, 20, "N")])
    items = [{rel.key: b3}, {rel.key: BOUND_MISSING}, {rel.key: b1}]
    error(
        server.call(rel.m(ITEMS_SET), {"id": owner, "items": items}),
        400,
        "NOT_FOUND",
        f"{rel.bound_title} #987654322 not found.",
    )
    assert state(server, rel, owner) == [(b1, 10, "Y"), (b2, 20, "N")]


# E11 ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", [ADD, DELETE, ITEMS_SET])
def test_E11_bound_of_another_user(server: LiveServer, rel: Relation, users: Users, method: str) -> None:
    owner_id = rel.insert_owner(server, assigned_by=users.user_id)
    mine = rel.insert_bound(server, assigned_by=users.user_id)
    theirs = rel.insert_bound(server, assigned_by=users.other_id)
    before = [(mine, 10, "Y"), (theirs, 20, "N")] if method == DELETE else [(mine, 10, "Y")]
    put(server, rel, owner_id, before)
    params = {
        ADD: {"id": owner_id, "fields": {rel.key: theirs}},
        DELETE: {"id": owner_id, "fields": {rel.key: theirs}},
        ITEMS_SET: {"id": owner_id, "items": [{rel.key: mine}, {rel.key: theirs}]},
    }[method]
    error(
        server.call(rel.m(method), params, webhook=users.user),
        400,
        "",
        f"[{rel.bound_title} #{theirs}] Access denied.",
    )
    assert state(server, rel, owner_id) == before


# E12 ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "bad",
    [
        "BARE",  # a bare bound id, as in the portal's silently destructive `[5, 6]`
        "BARE_STR",
        None,
        [],
        ["CID"],
        {},
        {"KEY": 0},
        {"KEY": "0"},
        {"KEY": -3},
        {"KEY": "-3"},
        {"KEY": "abc"},
        {"KEY": "CID_abc"},
        {"KEY": ""},
        {"KEY": None},
        {"KEY": True},
        {"KEY": ["CID"]},
        {"KEY": {"x": "CID"}},
        {"key": "CID"},  # P3: lower-case keys are not read
        {"Key_ID": "CID"},
        {"SORT": 10, "IS_PRIMARY": "Y"},
    ],
)
def test_E12_item_without_valid_key(
    server: LiveServer, rel: Relation, owner: int, bound: list[int], bad: Any
) -> None:
    b1, b2, b3, *_ = bound

    def fill(value: Any) -> Any:
        if value == "CID":
            return b3
        if value == "CID_abc":
            return f"{b3}abc"
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    element = (
        {"BARE": b3, "BARE_STR": str(b3)}.get(bad, bad) if isinstance(bad, str) else fill(spelled(rel, bad))
    )
    put(server, rel, owner, [(b1, 10, "Y"), (b2, 20, "N")])
    items = [{rel.key: b2}, {rel.key: b1, "SORT": 1}, element, {rel.key: b3}]
    error(
        server.call(rel.m(ITEMS_SET), {"id": owner, "items": items}),
        400,
        "",
        f"The parameter items is not valid: item #2 has no valid {rel.key}.",
    )
    assert state(server, rel, owner) == [(b1, 10, "Y"), (b2, 20, "N")]


def test_E12_bare_id_list_is_refused(server: LiveServer, rel: Relation, owner: int, bound: list[int]) -> None:
    """The portal's `[5, 6]` clears every binding and answers true; b24local refuses at item #0."""
    b1, b2, *_ = bound
    put(server, rel, owner, [(b1, 10, "Y"), (b2, 20, "N")])
    error(
        server.call(rel.m(ITEMS_SET), {"id": owner, "items": [b1, b2]}),
        400,
        "",
        f"The parameter items is not valid: item #0 has no valid {rel.key}.",
    )
    assert state(server, rel, owner) == [(b1, 10, "Y"), (b2, 20, "N")]
