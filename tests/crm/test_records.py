"""Pure unit tests of the entity service's conversions (no server, no database)."""

from __future__ import annotations

from typing import Any

import pytest

from b24local.crm.codec import InvalidValue, parse_date, to_column, to_output
from b24local.crm.entities import CONTACT, CONTACT_COMPANY, LEAD, LEAD_CONTACT
from b24local.crm.errors import InvalidFilter
from b24local.crm.input import plan_multifields
from b24local.crm.records import Records
from b24local.methods import decode
from b24local.methods.errors import api_error
from b24local.model.query import AllOf, AnyOf, Column, Cond, MultifieldValue, PrimaryBound
from b24local.storage.base import MultifieldRow

LEADS = Records(LEAD)
CONTACTS = Records(CONTACT)
F = LEAD.by_name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-23", "2024-05-23"),
        ("2024-05-23T18:18:25+02:00", "2024-05-23"),
        ("2024-05-23T23:30:00-11:00", "2024-05-23"),
        ("2024-05-23 18:18:25", "2024-05-23"),
        ("2024-05-23T18:18:25Z", "2024-05-23"),
        ("23.05.2024", "2024-05-23"),
        ("1.5.2024 08:00", "2024-05-01"),
        (" 2024-05-23 ", "2024-05-23"),
    ],
)
def test_parse_date(text: str, expected: str) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text", ["", "tomorrow", "2024-02-30", "31.02.2020", "2024-05", "05/23/2024", 20240523, None]
)
def test_parse_date_refuses(text: Any) -> None:
    with pytest.raises(InvalidValue):
        parse_date(text)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("TITLE", "x", "x"),
        ("TITLE", 5, "5"),
        ("TITLE", 2.0, "2"),
        ("TITLE", True, "1"),
        ("TITLE", None, None),
        ("ASSIGNED_BY_ID", "12abc", 12),
        ("ASSIGNED_BY_ID", 0, None),
        ("ASSIGNED_BY_ID", -4, None),
        ("ADDRESS_LOC_ADDR_ID", "", None),
        ("ADDRESS_LOC_ADDR_ID", 5.9, 5),
        ("OPPORTUNITY", "15 000,50", 15000.5),
        ("OPPORTUNITY", "abc", 0.0),
        ("OPPORTUNITY", "", None),
        ("OPENED", "Y", "Y"),
        ("OPENED", "n", "N"),
        ("OPENED", 1, "Y"),
        ("OPENED", "", "N"),
        ("BIRTHDATE", "", None),
        ("DATE_CREATE", "1970-01-02T00:00:00+00:00", 86400),
    ],
)
def test_to_column(name: str, value: Any, expected: Any) -> None:
    assert to_column(F[name], value) == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TITLE", [1]),
        ("TITLE", {"a": 1}),
        ("OPENED", "yes"),
        ("OPENED", 2),
        ("OPPORTUNITY", "1e400"),
        ("BIRTHDATE", 5),
    ],
)
def test_to_column_refuses(name: str, value: Any) -> None:
    with pytest.raises(InvalidValue):
        to_column(F[name], value)


def test_to_output() -> None:
    assert to_output(F["ID"], 123) == "123"
    assert to_output(F["OPPORTUNITY"], 15000) == "15000.00"
    assert to_output(F["OPPORTUNITY"], None) is None
    assert to_output(F["TITLE"], None) is None
    assert to_output(F["BIRTHDATE"], None) is None
    assert to_output(F["DATE_CLOSED"], None) is None
    assert to_output(F["BIRTHDATE"], "2001-11-11").startswith("2001-11-11T00:00:00")
    assert to_output(F["BIRTHDATE"], "garbage") == "garbage"  # never a 500 on odd stored data


def test_filter_keys_and_values() -> None:
    conditions = LEADS.listing.conditions(
        {
            ">=OPPORTUNITY": "10",
            "!@ID": ["1", 2],
            "=%TITLE": "al%",
            "!%=NAME": "x%",
            "%LAST_NAME": 5,
            "CONTACT_ID": "7",
            "PHONE": 15551234,
            "<PHONE": "1",  # no ordering on multifields: ignored
            "COMMENTS": "",
            "!ASSIGNED_BY_ID": None,
            "status_id": ["NEW", ""],
            "%SOURCE_ID": ["A", "B"],
            "!%SOURCE_DESCRIPTION": ["A", "B"],
            "CONTACT_IDS": [1],  # write-only: ignored
            "NOPE": 1,
            5: "x",
        }
    )
    assert conditions == [
        Cond(Column("opportunity"), "ge", 10.0),
        Cond(Column("id"), "not_in", (1, 2)),
        Cond(Column("title"), "like", "al%"),
        Cond(Column("name"), "not_like", "x%"),
        Cond(Column("last_name"), "contains", "5"),
        Cond(PrimaryBound(LEAD_CONTACT), "eq", 7),
        Cond(MultifieldValue("PHONE"), "eq", "15551234"),
        Cond(Column("comments"), "is_null", "text"),
        Cond(Column("assigned_by_id"), "not_null", None),
        Cond(Column("status_id"), "in", ("NEW",)),
        AnyOf((Cond(Column("source_id"), "contains", "A"), Cond(Column("source_id"), "contains", "B"))),
        AllOf(
            (
                Cond(Column("source_description"), "not_contains", "A"),
                Cond(Column("source_description"), "not_contains", "B"),
            )
        ),
    ]
    assert CONTACTS.listing.conditions({"COMPANY_ID": 5, "LEAD_ID": "3"}) == [
        Cond(PrimaryBound(CONTACT_COMPANY), "eq", 5),
        Cond(Column("lead_id"), "eq", 3),
    ]


def refused(filters: dict[str, Any]) -> str:
    with pytest.raises(InvalidFilter) as caught:
        LEADS.listing.conditions(filters)
    answer = api_error(caught.value)
    assert (answer.status, answer.code) == (400, "")
    return answer.description


def test_filter_input_is_bounded_whatever_it_is() -> None:
    """Issue 14: nesting past Python's recursion limit and lists past SQL's limits are a 400, found
    before any value is converted; the largest accepted IN is one condition."""
    deep: Any = 1
    for _ in range(5000):
        deep = [deep]
    for key in (">ID", "ID", "!%TITLE", "@PHONE"):
        assert refused({key: deep}) == f"Filter field '{key}' is not valid: item #0 is an array, not a value."
    assert refused({"ID": list(range(300_000))}) == "Filter field 'ID' is not valid: more than 10000 values."
    assert refused({">=ID": list(range(101))}) == (
        "Filter field '>=ID' is not valid: more than 100 values; only =, !, @ and !@ take longer lists."
    )
    assert LEADS.listing.conditions({"!ID": list(range(10_000))}) == [
        Cond(Column("id"), "not_in", tuple(range(10_000)))
    ]


def test_select_and_order() -> None:
    assert LEADS.listing.select(()) == LEADS.listing.star
    assert LEADS.listing.select(["*", "UF_*"]) == LEADS.listing.star
    shape = LEADS.listing.select(["title", "EMAIL", "nope", "CONTACT_IDS"])
    assert ([f.name for f in shape.fields], shape.multifields) == (["ID", "TITLE"], ("EMAIL",))
    as_given = decode.names("select", {"select": {"0": "PHONE", "1": "*", "2": 5}})  # a PHP array
    assert as_given == ("PHONE", "*")
    assert LEADS.listing.select(as_given).multifields == ("PHONE",)
    assert decode.names("select", {"SELECT": "title"}) == ("title",)
    assert decode.names("select", {"select": ""}) == decode.names("select", {}) == ()
    assert LEADS.listing.order(
        {"title": "desc", "TITLE": "asc", "PHONE": "asc", "CONTACT_ID": "ASC", "x": "desc"}
    ) == [
        (Column("title"), True),
        (PrimaryBound(LEAD_CONTACT), False),
    ]


def row(row_id: int, type_id: str, value_type: str, value: str) -> MultifieldRow:
    return MultifieldRow(row_id, 1, type_id, value_type, value)


def test_plan_multifields() -> None:
    existing = [row(1, "PHONE", "WORK", "+1"), row(2, "PHONE", "HOME", "+2"), row(3, "EMAIL", "WORK", "a@b")]
    plan = plan_multifields(
        {
            "PHONE": [
                {"ID": 1, "VALUE": "+10"},
                {"ID": "2", "DELETE": "Y"},
                {"VALUE": "+3", "VALUE_TYPE": "MOBILE"},
                {"VALUE": ""},
                {"ID": 0, "VALUE": "+4"},
            ]
        },
        existing,
        adding=False,
    )
    assert plan.deletes == [2]
    assert plan.updates == {1: ("WORK", "+10")}
    assert plan.inserts == [("PHONE", "MOBILE", "+3"), ("PHONE", "WORK", "+4")]
    assert plan.final == [
        ("PHONE", "WORK", "+10"),
        ("EMAIL", "WORK", "a@b"),
        ("PHONE", "MOBILE", "+3"),
        ("PHONE", "WORK", "+4"),
    ]
    unchanged = plan_multifields({"PHONE": [{"ID": 1}, {"ID": 1, "VALUE": "+1"}]}, existing, adding=False)
    assert (unchanged.updates, unchanged.deletes, unchanged.inserts) == ({}, [], [])
