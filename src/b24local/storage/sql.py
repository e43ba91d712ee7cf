"""Compiling :mod:`b24local.crm.query` conditions to SQL shared by the SQL backends.

Identifiers come only from entity and binding definitions; every value is a bound parameter.
"""

from __future__ import annotations

from typing import Any

from b24local.crm.entities import BINDINGS, EntityType
from b24local.crm.query import (
    AllOf,
    AnyOf,
    Column,
    Cond,
    Condition,
    MultifieldValue,
    PrimaryBound,
    Query,
    Term,
)


class SqlCompiler:
    #: The case-insensitive (for ASCII) pattern match: SQLite's LIKE is one; PostgreSQL's is ILIKE.
    like = "LIKE"
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

    def term(self, term: Term) -> str:
        table = self.entity.table
        if isinstance(term, Column):
            if term.name not in self._columns:
                raise ValueError(f"unknown column {term.name!r}")
            return f"{table}.{term.name}"
        if isinstance(term, PrimaryBound):
            kind = BINDINGS[term.binding]
            return (
                f"(SELECT b.{kind.bound_column} FROM {kind.table} b WHERE b.{kind.owner_column} = "
                f"{table}.id AND b.is_primary = 'Y')"
            )
        raise ValueError(f"term {term!r} has no scalar form")

    def _multifield(self, cond: Cond, term: MultifieldValue) -> str:
        table = self.entity.table
        if cond.op in ("in", "not_in") and not list(cond.value):
            return "1=0" if cond.op == "in" else "1=1"
        # Bind the subquery's own parameters first: they come before the test in the SQL text.
        head = (
            f"EXISTS (SELECT 1 FROM crm_multifield m WHERE m.entity_type = {self._param(self.entity.name)} "
            f"AND m.element_id = {table}.id AND m.type_id = {self._param(term.type_id)} AND "
        )
        if cond.op in ("in", "not_in"):
            values = list(cond.value)
            test = f"m.value IN ({', '.join(self._param(v) for v in values)})"
        elif cond.op in ("contains", "not_contains"):
            test = f"m.value {self.like} {self._param(_like_contains(cond.value))} ESCAPE '\\'"
        elif cond.op in ("like", "not_like"):
            test = f"m.value {self.like} {self._param(cond.value)}"
        elif cond.op in ("is_null", "not_null"):
            test = "1=1"
        else:
            test = f"m.value = {self._param(cond.value)}"
        negate = cond.op in ("ne", "not_in", "not_contains", "not_like", "is_null")
        sub = f"{head}{test})"
        return f"NOT {sub}" if negate else sub

    def condition(self, cond: Condition) -> str:
        if isinstance(cond, AllOf):
            if not cond.parts:
                return "1=1"
            return "(" + " AND ".join(self.condition(p) for p in cond.parts) + ")"
        if isinstance(cond, AnyOf):
            if not cond.parts:
                return "1=0"
            return "(" + " OR ".join(self.condition(p) for p in cond.parts) + ")"
        if isinstance(cond.term, MultifieldValue):
            return self._multifield(cond, cond.term)
        expr = self.term(cond.term)
        op, value = cond.op, cond.value
        if op == "is_null":
            return f"({expr} IS NULL OR {expr} = '')" if _textual(value) else f"{expr} IS NULL"
        if op == "not_null":
            return f"({expr} IS NOT NULL AND {expr} <> '')" if _textual(value) else f"{expr} IS NOT NULL"
        if op in ("in", "not_in"):
            values = list(value)
            if not values:
                return "1=0" if op == "in" else "1=1"
            inner = ", ".join(self._param(v) for v in values)
            return f"{expr} IN ({inner})" if op == "in" else f"({expr} IS NULL OR {expr} NOT IN ({inner}))"
        if op == "contains":
            return f"{self.text(expr)} {self.like} {self._param(_like_contains(value))} ESCAPE '\\'"
        if op == "not_contains":
            pattern = self._param(_like_contains(value))
            return f"({expr} IS NULL OR {self.text(expr)} NOT {self.like} {pattern} ESCAPE '\\')"
        if op == "like":
            return f"{self.text(expr)} {self.like} {self._param(value)}"
        if op == "not_like":
            return f"({expr} IS NULL OR {self.text(expr)} NOT {self.like} {self._param(value)})"
        if op == "ne":
            return f"({expr} IS NULL OR {expr} <> {self._param(value)})"
        sql_op = {"eq": "=", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}[op]
        return f"{expr} {sql_op} {self._param(value)}"

    def order(self, query: Query) -> str:
        parts = [
            f"{self.term(t)} {'DESC' + self.nulls_desc if desc else 'ASC' + self.nulls_asc}"
            for t, desc in query.order
        ]
        if not any(isinstance(t, Column) and t.name == "id" for t, _ in query.order):
            parts.append(f"{self.entity.table}.id ASC")
        return ", ".join(parts)


def _textual(value: Any) -> bool:
    return bool(value == "text")


def _like_contains(value: Any) -> str:
    text = str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{text}%"
