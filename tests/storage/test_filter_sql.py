"""List filters as SQL on both backends (issue 14): an IN list is one parameter whatever its length,
it selects exactly the rows it names, and the work grows linearly with it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from b24local.crm.entities import LEAD
from b24local.crm.records import Records
from b24local.model.query import AllOf, Column, Cond, Condition, MultifieldValue, Query
from b24local.storage.base import Storage
from b24local.storage.open import open_storage
from b24local.storage.postgres import PgCompiler
from b24local.storage.sql import SqlCompiler
from b24local.storage.sqlite import SqliteStorage
from tests.conftest import new_database

LEADS = Records(LEAD)

SQLITE_IN = "IN (SELECT value FROM json_each(?))"
PHONES_SQLITE = "crm_lead.id IN (SELECT m.element_id FROM crm_multifield m WHERE "
PHONES_PG = "EXISTS (SELECT 1 FROM crm_multifield m WHERE m.element_id = crm_lead.id AND "
OF_PHONE = "m.entity_type = {0} AND m.type_id = {0} AND m.value "


def in_lists(count: int) -> list[Condition]:
    return [
        Cond(Column("id"), "in", tuple(range(count))),
        Cond(Column("id"), "not_in", tuple(range(count))),
        Cond(MultifieldValue("PHONE"), "in", tuple(str(n) for n in range(count))),
    ]


@pytest.mark.parametrize(
    ("compiler", "placeholder", "sql", "params"),
    [
        (
            SqlCompiler,
            "?",
            [
                f"crm_lead.id {SQLITE_IN}",
                f"(crm_lead.id IS NULL OR NOT (crm_lead.id {SQLITE_IN}))",
                f"{PHONES_SQLITE}{OF_PHONE.format('?')}{SQLITE_IN})",
            ],
            ["[0, 1, 2]", "[0, 1, 2]", "lead", "PHONE", '["0", "1", "2"]'],
        ),
        (
            PgCompiler,
            "%s",
            [
                "crm_lead.id = ANY(%s)",
                "(crm_lead.id IS NULL OR NOT (crm_lead.id = ANY(%s)))",
                f"{PHONES_PG}{OF_PHONE.format('%s')}= ANY(%s))",
            ],
            [[0, 1, 2], [0, 1, 2], "lead", "PHONE", ["0", "1", "2"]],
        ),
    ],
)
def test_an_in_list_is_one_parameter(
    compiler: type[SqlCompiler], placeholder: str, sql: list[str], params: list[Any]
) -> None:
    """The statement is the same for 3 values and for 50,000 (one placeholder per value passed
    SQLite's and PostgreSQL's parameter limits)."""
    for count in (3, 50_000):
        compiled = compiler(LEAD, placeholder)
        assert [compiled.condition(c) for c in in_lists(count)] == sql
        assert len(compiled.params) == 5
    small = compiler(LEAD, placeholder)
    for cond in in_lists(3):
        small.condition(cond)
    assert small.params == params


@pytest.mark.parametrize("compiler", [SqlCompiler, PgCompiler])
def test_a_list_on_one_multifield_is_one_subquery(compiler: type[SqlCompiler]) -> None:
    """OR-ed `%PHONE` values (or AND-ed `!%PHONE` ones) ask one subquery: one per value was read once
    per value on SQLite and planned as a subquery per lead on PostgreSQL."""
    for filters in ({"%PHONE": ["1", "2", "3"]}, {"!%EMAIL": ["a", "b", "c"]}, {"=%PHONE": ["1%", "2%"]}):
        (cond,) = LEADS.listing.conditions(filters)
        assert compiler(LEAD).condition(cond).count("crm_multifield") == 1
    (mixed,) = LEADS.listing.conditions({"%TITLE": ["1", "2"]})
    assert compiler(LEAD).condition(mixed).count(" OR ") == 1


@pytest.fixture
def store(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[Storage]:
    database = new_database(request, backend, tmp_path)
    opened = open_storage(database if isinstance(database, str) else f"sqlite:///{database}")
    yield opened
    opened.close()


ODD_TITLES = {3: 'a"b', 4: "c,d", 5: "{e}", 6: "x\\y", 8: "é ü", 9: "😀", 10: "NULL", 11: "'; --"}


def fill(store: Storage, count: int, first: int = 1) -> None:
    """Leads first..count titled "lead N" (some odd titles), OPPORTUNITY N/10; a PHONE "+N" on every 7th."""
    with store.write() as tx:
        for n in range(first, count + 1):
            title = ODD_TITLES.get(n, f"lead {n}")
            tx.entity_insert(LEAD, {"id": n, "title": title, "assigned_by_id": 1, "opportunity": n / 10})
            if n % 7 == 0:
                tx.multifield_insert(LEAD, n, "PHONE", "WORK", f"+{n}")


def matching(store: Storage, filters: dict[str, Any]) -> list[int]:
    query = Query(where=AllOf(tuple(LEADS.listing.conditions(filters))), limit=None)
    with store.read() as tx:
        rows = tx.entity_select(LEAD, query)
        assert tx.entity_count(LEAD, query.where) == len(rows)
    return [row["id"] for row in rows]


def test_in_lists_select_exactly_the_rows_named(store: Storage) -> None:
    fill(store, 120)
    evens = list(range(2, 10_002, 2))
    assert matching(store, {"ID": evens}) == list(range(2, 121, 2))
    assert matching(store, {"!@ID": evens}) == list(range(1, 121, 2))
    assert matching(store, {"TITLE": [*ODD_TITLES.values(), "lead 7", "lead 1000"]}) == [
        3,
        4,
        5,
        6,
        7,
        8,
        9,
        10,
        11,
    ]
    assert matching(store, {"!TITLE": [f"lead {n}" for n in range(5000)], "<ID": 15}) == [
        3,
        4,
        5,
        6,
        8,
        9,
        10,
        11,
    ]
    assert matching(store, {"OPPORTUNITY": [0.1, 2.5, 11.9, 1e300, "7.7"]}) == [1, 25, 77, 119]
    phones = [f"+{n}" for n in range(5000)]
    assert matching(store, {"PHONE": phones}) == list(range(7, 120, 7))
    assert matching(store, {"!PHONE": phones[::2], "<ID": 30}) == [
        n for n in range(1, 30) if n not in {14, 28}
    ]
    assert matching(store, {"@PHONE": ["+14", "+15", "+1"], "@ID": [14, 21]}) == [14]
    assert matching(store, {"%PHONE": ["+14", "+21", "zz"]}) == [14, 21]
    assert matching(store, {"!%PHONE": ["+1", "+2"], "<ID": 30}) == [
        n for n in range(1, 30) if n not in {14, 21, 28}
    ]
    assert matching(store, {"!%PHONE": ["+1", "+2"], "!PHONE": "", "<ID": 30}) == [7]


def test_the_work_grows_linearly_with_the_list(store: Storage) -> None:
    """Converting, compiling and running a filter of N values against 2N in one run: twice the work,
    never four times (the best of several tries each, so that other load on the machine drops out)."""
    fill(store, 200)

    def seconds(count: int) -> float:
        filters = {"ID": list(range(count)), "!@TITLE": [f"t{n}" for n in range(count)]}
        started = time.perf_counter()
        assert len(matching(store, filters)) == 200
        return time.perf_counter() - started

    once, twice = [], []
    for _ in range(5):
        once.append(seconds(5000))
        twice.append(seconds(10_000))
    assert min(twice) / min(once) < 3.2, (once, twice)


def test_a_phone_filter_on_sqlite_reads_the_matches_not_every_lead(tmp_path: Path) -> None:
    """SQLite ran a correlated EXISTS once per lead, so one indexed PHONE equality walked the whole
    table; as an IN over the matching elements its work does not grow with the leads (counted in
    SQLite VM instructions, a hundred at a time)."""
    store = SqliteStorage(f"sqlite:///{tmp_path / 'phones.db'}")
    counted = [0]

    def count() -> int:
        counted[0] += 1
        return 0  # go on

    def steps() -> int:
        counted[0] = 0
        store.conn.set_progress_handler(count, 100)
        try:
            assert matching(store, {"PHONE": "+14"}) == [14]
        finally:
            store.conn.set_progress_handler(None, 0)
        return counted[0]

    try:
        fill(store, 1000)
        small = steps()
        fill(store, 4000, first=1001)
        assert steps() <= 2 * small + 10
    finally:
        store.close()
