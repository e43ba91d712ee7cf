"""How the binding methods read their parameters, for every relation: P1–P4.

Contract: ../shared/contract/binding-family.md B1 over lead-contact-bindings.md ("Parameters"). The P1
tests read a server of their own with fixed ids (the ``exact`` fixture: owners 1, 5 and 12 bound to
101, 105 and 112 in every relation); the others create their own owners on the shared server.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.bindings.relations import (
    ADD,
    DELETE,
    ITEMS_GET,
    ITEMS_SET,
    Relation,
    as_got,
    error,
    form,
    ok,
    put,
    state,
)
from tests.conftest import LiveServer


# P1 -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("given", "owner_id"),
    [
        (12, 12),
        ("12", 12),
        ("12abc", 12),
        (" 12", 12),
        ("+12", 12),
        (5.9, 5),
        ("5.9", 5),
        (True, 1),
        ("1e1", 10),  # PHP 7.1+: "1e1" → 10 (no such owner: E7)
        ("abc", 0),
        ("", 0),
        (None, 0),
        ("missing", 0),
        (0.9, 0),
    ],
)
def test_P1_id_cast_json(exact: LiveServer, rel: Relation, given: Any, owner_id: int) -> None:
    params = {} if given == "missing" else {"id": given}
    response = exact.call(rel.m(ITEMS_GET), params)
    if owner_id == 0:
        error(response, 400, "", "The parameter ownerEntityID is invalid or not defined.")
    elif owner_id == 10:
        error(response, 400, "NOT_FOUND", "Not found.")
    else:
        ok(response, [{rel.key: 100 + owner_id, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"}])


@pytest.mark.parametrize(
    ("given", "owner_id"),
    [("12", 12), ("12abc", 12), ("5.9", 5), ("1", 1), ("abc", 0), ("", 0), ("missing", 0), ("true", 0)],
)
def test_P1_id_cast_form(exact: LiveServer, rel: Relation, given: str, owner_id: int) -> None:
    data = {} if given == "missing" else {"id": given}
    response = form(exact, rel.m(ITEMS_GET), {**data, "x": "1"})
    if owner_id == 0:
        error(response, 400, "", "The parameter ownerEntityID is invalid or not defined.")
    else:
        ok(response, [{rel.key: 100 + owner_id, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"}])


@pytest.mark.parametrize(
    ("params", "owner_id"),
    [
        ({"ID": 5, "id": 12}, 5),
        ({"ID": "12abc", "id": 5}, 12),
        ({"ID": None, "id": 12}, 12),
        ({"Id": 12}, 0),
        ({"iD": 12}, 0),
    ],
)
def test_P1_ID_before_id(exact: LiveServer, rel: Relation, params: dict[str, Any], owner_id: int) -> None:
    response = exact.call(rel.m(ITEMS_GET), params)
    if owner_id == 0:
        error(response, 400, "", "The parameter ownerEntityID is invalid or not defined.")
    else:
        ok(response, [{rel.key: 100 + owner_id, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"}])


def test_P1_id_cast_on_writes(exact: LiveServer, rel: Relation) -> None:
    extra = rel.insert_bound(exact)
    ok(exact.call(rel.m(ADD), {"id": "12abc", "fields": {rel.key: extra}}), True)
    assert state(exact, rel, 12) == [(112, 10, "Y"), (extra, 20, "N")]
    ok(exact.call(rel.m(DELETE), {"ID": 12.7, "fields": {rel.key: extra}}), True)
    assert state(exact, rel, 12) == [(112, 10, "Y")]
    ok(form(exact, rel.m(ITEMS_SET), {"id": "5.9", f"items[0][{rel.key}]": str(extra)}), True)
    assert state(exact, rel, 5) == [(extra, 10, "Y")]
    ok(exact.call(rel.m(ITEMS_SET), {"id": True, "items": [{rel.key: 101}, {rel.key: extra}]}), True)
    assert state(exact, rel, 1) == [(101, 10, "Y"), (extra, 20, "N")]
    # Restore the fixture's state for the read-only P1 tests.
    put(exact, rel, 5, [(105, 10, "Y")])
    put(exact, rel, 1, [(101, 10, "Y")])
    assert state(exact, rel, 12) == [(112, 10, "Y")]


# P2 -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["items", "ITEMS", "Items"])
def test_P2_items_names(server: LiveServer, rel: Relation, owner: int, bound: list[int], name: str) -> None:
    b1, b2, *_ = bound
    ok(server.call(rel.m(ITEMS_SET), {"id": owner, name: [{rel.key: b2}, {rel.key: b1}]}), True)
    assert state(server, rel, owner) == [(b2, 10, "Y"), (b1, 20, "N")]


@pytest.mark.parametrize("name", ["fields", "FIELDS", "Fields"])
def test_P2_fields_names(server: LiveServer, rel: Relation, owner: int, bound: list[int], name: str) -> None:
    b1, b2, *_ = bound
    ok(server.call(rel.m(ADD), {"id": owner, name: {rel.key: b1}}), True)
    ok(server.call(rel.m(ADD), {"id": owner, name: {rel.key: b2, "SORT": 5}}), True)
    assert state(server, rel, owner) == [(b2, 5, "N"), (b1, 10, "Y")]
    ok(server.call(rel.m(DELETE), {"id": owner, name: {rel.key: b1}}), True)
    assert state(server, rel, owner) == [(b2, 5, "Y")]


@pytest.mark.parametrize("null_name", ["items", "ITEMS", "Items"])
@pytest.mark.parametrize("name", ["items", "ITEMS", "Items"])
def test_P2_null_items_counts_as_missing(
    server: LiveServer, rel: Relation, owner: int, bound: list[int], *, null_name: str, name: str
) -> None:
    b1, b2, *_ = bound
    put(server, rel, owner, [(b1, 10, "Y")])
    if name != null_name:
        ok(server.call(rel.m(ITEMS_SET), {"id": owner, null_name: None, name: [{rel.key: b2}]}), True)
        assert state(server, rel, owner) == [(b2, 10, "Y")]
    else:
        error(
            server.call(rel.m(ITEMS_SET), {"id": owner, name: None}),
            400,
            "",
            "The parameter items must be array.",
        )
        assert state(server, rel, owner) == [(b1, 10, "Y")]


@pytest.mark.parametrize("method", [ADD, DELETE])
def test_P2_null_fields_counts_as_missing(
    server: LiveServer, rel: Relation, owner: int, bound: list[int], method: str
) -> None:
    b1, b2, *_ = bound
    put(server, rel, owner, [(b1, 10, "Y")])
    chosen = b2 if method == ADD else b1
    ok(server.call(rel.m(method), {"id": owner, "fields": None, "FIELDS": {rel.key: chosen}}), True)
    assert state(server, rel, owner) == ([(b1, 10, "Y"), (b2, 20, "N")] if method == ADD else [])


@pytest.mark.parametrize(
    ("items_name", "fields_name"),
    [("iTEMS", "fIELDS"), ("ITems", "FIelds"), ("item", "field"), ("Item", "Field"), ("ITEM", "FIELD")],
)
def test_P2_other_spellings_not_read(
    server: LiveServer, rel: Relation, owner: int, bound: list[int], *, items_name: str, fields_name: str
) -> None:
    put(server, rel, owner, [(bound[0], 10, "Y")])
    error(
        server.call(rel.m(ITEMS_SET), {"id": owner, items_name: [{rel.key: bound[1]}]}),
        400,
        "",
        "The parameter items must be array.",
    )
    error(
        server.call(rel.m(ADD), {"id": owner, fields_name: {rel.key: bound[1]}}),
        400,
        "",
        "The parameter 'fields' must be array.",
    )
    error(
        server.call(rel.m(DELETE), {"id": owner, fields_name: {rel.key: bound[0]}}),
        400,
        "",
        "The parameter 'item' must be array.",
    )
    assert state(server, rel, owner) == [(bound[0], 10, "Y")]


# P3 -------------------------------------------------------------------------------------------------
def test_P3_items_set_reads_only_upper_case_keys(
    server: LiveServer, rel: Relation, owner: int, bound: list[int]
) -> None:
    b1, b2, b3, *_ = bound
    items = [
        {rel.key: b1, "ROLE_ID": 7, "ID": b3, "FOO": "bar"},
        {rel.key: b2, "is_primary": "Y", "sort": 5, "Sort": 6, "ROLE_ID": "9", rel.key.lower(): b3},
        {rel.key: b3, "Is_Primary": "Y", "SORT": 3, "role_id": 1},
    ]
    ok(server.call(rel.m(ITEMS_SET), {"id": owner, "items": items}), True)
    assert state(server, rel, owner) == [(b3, 3, "N"), (b1, 10, "Y"), (b2, 20, "N")]
    ok(
        server.call(rel.m(ITEMS_GET), {"id": owner}),
        as_got(rel, [(b3, 3, "N"), (b1, 10, "Y"), (b2, 20, "N")]),
    )


def test_P3_add_reads_only_upper_case_keys(
    server: LiveServer, rel: Relation, owner: int, bound: list[int]
) -> None:
    b1, b2, *_ = bound
    ok(server.call(rel.m(ADD), {"id": owner, "fields": {rel.key: b1, "ROLE_ID": 5, "sort": 99}}), True)
    ok(
        server.call(
            rel.m(ADD), {"id": owner, "fields": {rel.key: b2, "is_primary": "Y", "Sort": 1, "ID": b1}}
        ),
        True,
    )
    assert state(server, rel, owner) == [(b1, 10, "Y"), (b2, 20, "N")]
    ok(
        server.call(rel.m(DELETE), {"id": owner, "fields": {rel.key: b2, rel.key.lower(): b1, "ROLE_ID": 3}}),
        True,
    )
    assert state(server, rel, owner) == [(b1, 10, "Y")]


# P4 smoke (the full matrix is tested elsewhere) -----------------------------------------------------
def test_P4_form_urlencoded_items_set(
    server: LiveServer, rel: Relation, owner: int, bound: list[int]
) -> None:
    b1, b2, *_ = bound
    data = {
        "id": str(owner),
        f"items[0][{rel.key}]": str(b1),
        "items[0][SORT]": "30",
        f"items[1][{rel.key}]": str(b2),
        "items[1][IS_PRIMARY]": "Y",
        "items[1][ROLE_ID]": "4",
    }
    ok(form(server, rel.m(ITEMS_SET), data), True)
    assert state(server, rel, owner) == [(b2, 20, "Y"), (b1, 30, "N")]


def test_P4_multipart_add_and_delete(server: LiveServer, rel: Relation, owner: int, bound: list[int]) -> None:
    b1, b2, *_ = bound
    for chosen, sort in ((b1, None), (b2, "5")):
        files = {"id": (None, str(owner)), f"fields[{rel.key}]": (None, str(chosen))}
        if sort is not None:
            files["fields[SORT]"] = (None, sort)
        raw = server.client.post(server.webhook_url + rel.m(ADD), files=files)
        assert raw.status_code == 200
        assert raw.json()["result"] is True
    assert state(server, rel, owner) == [(b2, 5, "N"), (b1, 10, "Y")]
    raw = server.client.post(
        server.webhook_url + rel.m(DELETE),
        files={"id": (None, str(owner)), f"fields[{rel.key}]": (None, str(b1))},
    )
    assert raw.status_code == 200
    assert raw.json()["result"] is True
    assert state(server, rel, owner) == [(b2, 5, "Y")]


def test_P4_query_string(server: LiveServer, rel: Relation, owner: int, bound: list[int]) -> None:
    b1, b2, *_ = bound
    raw = server.client.get(
        server.webhook_url + rel.m(ITEMS_SET),
        params={"id": str(owner), f"items[0][{rel.key}]": str(b1), f"items[1][{rel.key}]": str(b2)},
    )
    assert raw.status_code == 200
    assert raw.json()["result"] is True
    assert state(server, rel, owner) == [(b1, 10, "Y"), (b2, 20, "N")]
    raw = server.client.get(server.webhook_url + rel.m(ITEMS_GET), params={"id": str(owner)})
    assert raw.status_code == 200
    assert raw.json()["result"] == as_got(rel, [(b1, 10, "Y"), (b2, 20, "N")])
