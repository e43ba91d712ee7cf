"""Parameter readers (methods/decode.py): what each reads, and the portal's words when it refuses."""

from __future__ import annotations

from typing import Any

import pytest

from b24local.crm.bindings import Wanted
from b24local.methods import decode
from b24local.protocol.errors import ApiError


def refusal(reader: decode.Reader[Any], name: str, params: dict[str, Any]) -> tuple[int, str, str]:
    with pytest.raises(ApiError) as caught:
        reader(name, params)
    return caught.value.status, caught.value.code, caught.value.description


def test_ids_follow_p1() -> None:
    read = decode.positive_id("ID is not defined or invalid.")
    assert read("id", {"id": "12abc"}) == 12
    assert read("id", {"ID": 5.9, "id": 7}) == 5
    assert read("id", {"ID": None, "id": True}) == 1
    for bad in ({}, {"id": "abc"}, {"id": 0}, {"id": -3}, {"Id": 4}):
        assert refusal(read, "id", bad) == (400, "", "ID is not defined or invalid.")


def test_arrays() -> None:
    fields = decode.array("Parameter 'fields' must be array.")
    assert fields("fields", {"FIELDS": ["a", "b"]}) == {0: "a", 1: "b"}
    assert refusal(fields, "fields", {"fields": "TITLE"}) == (400, "", "Parameter 'fields' must be array.")
    assert refusal(fields, "fields", {}) == (400, "", "Parameter 'fields' must be array.")
    filters = decode.array_or_empty("Parameter 'filter' must be array.")
    assert filters("filter", {"filter": ""}) == filters("filter", {}) == {}
    assert refusal(filters, "filter", {"filter": 5}) == (400, "", "Parameter 'filter' must be array.")
    options = decode.array_or_none("Parameter 'params' must be array.")
    assert options("params", {}) is None
    assert refusal(options, "params", {"params": ""}) == (400, "", "Parameter 'params' must be array.")


def test_binding_items_keep_positions_and_zero_what_names_nothing() -> None:
    read = decode.bindings("CONTACT_ID", "The parameter items must be array.")
    items = [
        {"CONTACT_ID": "7", "SORT": "30", "IS_PRIMARY": "Y"},
        {"CONTACT_ID": "12abc"},  # not numeric as written (E12)
        5,  # not an object (E12)
        {"CONTACT_ID": 8, "SORT": 15.9, "IS_PRIMARY": "y", "ROLE_ID": 3},
    ]
    assert read("items", {"ITEMS": items}) == (
        Wanted(7, 30, True),
        Wanted(0, None, False),
        Wanted(0, None, False),
        Wanted(8, 15, False),
    )
    assert refusal(read, "items", {"items": "x"}) == (400, "", "The parameter items must be array.")
    one = decode.binding("CONTACT_ID", "The parameter 'fields' must be array.")
    assert one("fields", {"fields": {"CONTACT_ID": "12abc", "SORT": None}}) == Wanted(12, None, False)
    assert refusal(one, "fields", {"fields": 1}) == (400, "", "The parameter 'fields' must be array.")


def test_system_spellings() -> None:
    halt = decode.yes_no(decode.exact_or_upper)
    assert halt("halt", {"HALT": "Yes"}) is True
    assert halt("halt", {"halt": "0", "HALT": 1}) is False
    assert decode.yes_no(decode.exact)("full", {"FULL": True}) is False
    assert decode.integer("start", {"Start": "-1"}) == -1
