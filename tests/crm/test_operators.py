"""The operator table (model/query.py OPERATORS): one row per operator, read by the `filter` parser and
by the SQL compiler, so a row that is missing or contradicts itself breaks both at once."""

from __future__ import annotations

from typing import get_args

from b24local.model.query import FILTER_PREFIXES, OPERATORS, Op


def test_every_operator_has_a_row_and_a_prefix_unless_internal() -> None:
    assert set(OPERATORS) == set(get_args(Op))
    internal = {op for op, row in OPERATORS.items() if not row.prefixes}
    assert internal == {"is_null", "not_null"}
    assert all(OPERATORS[op].family == "empty" for op in internal)


def test_prefixes_are_tried_longest_first_and_name_one_operator() -> None:
    assert FILTER_PREFIXES == (
        ("!=%", "not_like"),
        ("!%=", "not_like"),
        ("!@", "not_in"),
        ("!=", "ne"),
        ("!%", "not_contains"),
        ("=%", "like"),
        ("%=", "like"),
        (">=", "ge"),
        ("<=", "le"),
        ("!", "ne"),
        ("@", "in"),
        ("%", "contains"),
        ("=", "eq"),
        (">", "gt"),
        ("<", "lt"),
    )


def test_what_each_row_says() -> None:
    rows = {
        op: (row.family, row.negated, row.sql, row.when_empty, row.as_set, row.ordering, row.is_pattern)
        for op, row in OPERATORS.items()
    }
    assert rows == {
        "eq": ("compare", False, "=", "is_null", "in", False, False),
        "ne": ("compare", True, "<>", "not_null", "not_in", False, False),
        "gt": ("compare", False, ">", None, None, True, False),
        "ge": ("compare", False, ">=", None, None, True, False),
        "lt": ("compare", False, "<", None, None, True, False),
        "le": ("compare", False, "<=", None, None, True, False),
        "in": ("set", False, "", None, "in", False, False),
        "not_in": ("set", True, "", None, "not_in", False, False),
        "contains": ("contains", False, "", None, None, False, True),
        "not_contains": ("contains", True, "", None, None, False, True),
        "like": ("like", False, "", None, None, False, True),
        "not_like": ("like", True, "", None, None, False, True),
        "is_null": ("empty", True, "", None, None, False, False),
        "not_null": ("empty", False, "", None, None, False, False),
    }
