"""Compiling :mod:`b24local.model.query` conditions to SQL, for both SQL dialects.

Identifiers come only from entity and binding definitions; every value is a bound parameter.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from b24local.model.entities import EntityType
from b24local.model.query import (
    OPERATORS,
    AllOf,
    AnyOf,
    Column,
    Cond,
    Condition,
    MultifieldValue,
    Op,
    Operator,
    PrimaryBound,
    Query,
    Term,
)


class SqlCompiler:
    #: The case-insensitive (for ASCII) pattern match: SQLite's LIKE is one; PostgreSQL's is ILIKE.
    like = "LIKE"
    #: After a caller's own pattern (`=%`): its backslash is a plain character, as in SQLite's LIKE.
    raw_pattern = ""
    #: Where NULLs sort; "" keeps SQLite's own order (first ascending, last descending).
    nulls_asc = ""
    nulls_desc = ""

    def __init__(self, entity: EntityType, placeholder: str = "?") -> None:
        self.entity = entity
        self.ph = placeholder
        self.params: list[Any] = []
        self._columns = {f.column for f in entity.columns} | {"id"}

    def _param(self, value: Any) -> str:
        self.params.append(value)
        return self.ph

    def text(self, expr: str) -> str:
        """``expr`` as text for a pattern match (SQLite compares any type; PostgreSQL casts)."""
        return expr

    def one_of(self, expr: str, values: Sequence[Any]) -> str:
        """``expr`` equals one of ``values``: the whole list is one parameter, so the statement is the
        same whatever its length (SQLite takes at most 32,766 parameters, PostgreSQL 65,535)."""
        return (
            f"{expr} IN (SELECT value FROM json_each({self._param(json.dumps(values, ensure_ascii=False))}))"
        )

    def term(self, term: Term) -> str:
        table = self.entity.table
        if isinstance(term, Column):
            if term.name not in self._columns:
                raise ValueError(f"unknown column {term.name!r}")
            return f"{table}.{term.name}"
        if isinstance(term, PrimaryBound):
            kind = term.kind
            return (
                f"(SELECT b.{kind.bound_column} FROM {kind.table} b WHERE b.{kind.owner_column} = "
                f"{table}.id AND b.{kind.primary_column} = 'Y')"
            )
        raise ValueError(f"term {term!r} has no scalar form")

    def _multifield(self, conds: Sequence[Cond], type_id: str, negate: bool) -> str:
        """Whether the row has a value of multifield ``type_id`` that one of ``conds`` holds for (or,
        negated, none that any holds for): one subquery for a whole `%PHONE` or `!%PHONE` list."""
        # Bind the subquery's own parameters first: they come before the tests in the SQL text.
        of = f"m.entity_type = {self._param(self.entity.name)} AND m.type_id = {self._param(type_id)}"
        tests = " OR ".join(self._multifield_test(c) for c in conds)
        return self.has_multifield(f"{of} AND ({tests})" if len(conds) > 1 else f"{of} AND {tests}", negate)

    def _multifield_test(self, cond: Cond) -> str:
        """The positive test on one value ``m.value``: a negated operator's NOT is the NOT IN."""
        operator = OPERATORS[cond.op]
        if operator.family == "set":
            return self.one_of("m.value", list(cond.value))
        if operator.is_pattern:
            return f"m.value {self.like} {self._pattern(cond.op, cond.value)}"
        if operator.family == "empty":
            return "1=1"
        return f"m.value = {self._param(cond.value)}"

    def _pattern(self, op: Op, value: Any) -> str:
        """The bound pattern of a LIKE: a substring escaped, or the caller's own pattern."""
        if OPERATORS[op].family == "contains":
            return f"{self._param(_like_contains(value))} ESCAPE '\\'"
        return f"{self._param(value)}{self.raw_pattern}"

    def has_multifield(self, where: str, negate: bool) -> str:
        """Whether the row has (or, negated, has no) multifield value ``where`` (on ``m``) holds for.

        SQLite: the matching elements are read once, as a set; a correlated EXISTS ran once per row
        (an indexed PHONE equality walked every lead)."""
        sub = f"SELECT m.element_id FROM crm_multifield m WHERE {where}"
        return f"{self.entity.table}.id {'NOT IN' if negate else 'IN'} ({sub})"

    def _one_multifield(self, cond: AllOf | AnyOf) -> tuple[list[Cond], str, bool] | None:
        """The parts of a list on one multifield that one subquery can test: values OR-ed, or negated
        values AND-ed (has none matching a and none matching b: has none matching a or b)."""
        negate = isinstance(cond, AllOf)
        parts = [p for p in cond.parts if isinstance(p, Cond) and isinstance(p.term, MultifieldValue)]
        if len(parts) < 2 or len(parts) != len(cond.parts):
            return None
        type_ids = {p.term.type_id for p in parts if isinstance(p.term, MultifieldValue)}
        if len(type_ids) != 1 or any(OPERATORS[p.op].family == "set" or _negated(p) != negate for p in parts):
            return None
        return parts, type_ids.pop(), negate

    def condition(self, cond: Condition) -> str:
        if isinstance(cond, (AllOf, AnyOf)):
            one = self._one_multifield(cond)
            if one is not None:
                return self._multifield(*one)
        if isinstance(cond, AllOf):
            if not cond.parts:
                return "1=1"
            return "(" + " AND ".join(self.condition(p) for p in cond.parts) + ")"
        if isinstance(cond, AnyOf):
            if not cond.parts:
                return "1=0"
            return "(" + " OR ".join(self.condition(p) for p in cond.parts) + ")"
        if isinstance(cond.term, MultifieldValue):
            if OPERATORS[cond.op].family == "set" and not cond.value:
                return "1=1" if _negated(cond) else "1=0"
            return self._multifield([cond], cond.term.type_id, _negated(cond))
        return self._scalar(self.term(cond.term), OPERATORS[cond.op], cond.value)

    def _scalar(self, expr: str, operator: Operator, value: Any) -> str:
        """One condition on a column or a primary binding. A negated operator holds for NULL too."""
        family = operator.family
        if family == "empty":
            return self._empty(expr, operator.op, value)
        if family == "set":
            values = list(value)
            if not values:
                return "1=1" if operator.negated else "1=0"
            test = self.one_of(expr, values)
            return f"({expr} IS NULL OR NOT ({test}))" if operator.negated else test
        if family == "compare":
            test = f"{expr} {operator.sql} {self._param(value)}"
        else:
            negation = "NOT " if operator.negated else ""
            test = f"{self.text(expr)} {negation}{self.like} {self._pattern(operator.op, value)}"
        return f"({expr} IS NULL OR {test})" if operator.negated else test

    @staticmethod
    def _empty(expr: str, op: Op, value: Any) -> str:
        """is_null / not_null; on a text field '' counts as empty too."""
        if op == "is_null":
            return f"({expr} IS NULL OR {expr} = '')" if _textual(value) else f"{expr} IS NULL"
        return f"({expr} IS NOT NULL AND {expr} <> '')" if _textual(value) else f"{expr} IS NOT NULL"

    def order(self, query: Query) -> str:
        parts = []
        for t, desc in query.order:
            if isinstance(t, Column) and t.name == "id":
                # Never NULL: without a NULLS clause PostgreSQL walks the primary key in order instead
                # of sorting every matching row (a deep page took seconds).
                parts.append(f"{self.term(t)} {'DESC' if desc else 'ASC'}")
            else:
                parts.append(f"{self.term(t)} {'DESC' + self.nulls_desc if desc else 'ASC' + self.nulls_asc}")
        if not any(isinstance(t, Column) and t.name == "id" for t, _ in query.order):
            parts.append(f"{self.entity.table}.id ASC")
        return ", ".join(parts)


def _negated(cond: Cond) -> bool:
    """Whether a multifield condition asks for no matching value (a NOT IN)."""
    return OPERATORS[cond.op].negated


def _textual(value: Any) -> bool:
    return bool(value == "text")


def _like_contains(value: Any) -> str:
    text = str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{text}%"
