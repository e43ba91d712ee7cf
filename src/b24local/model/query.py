"""A storage-neutral description of a list query: conditions, order, page.

Built by the CRM layer from `filter`/`order`/`select`, compiled to SQL by each storage backend. Field
names never reach SQL text: terms name columns from the field definitions only. :data:`OPERATORS` is
the one table of what each operator is: the CRM layer parses `filter` keys with it and the SQL
compiler turns conditions into SQL with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from b24local.model.entities import BindingKind

Op = Literal[
    "eq",
    "ne",
    "gt",
    "ge",
    "lt",
    "le",
    "in",
    "not_in",
    "contains",
    "not_contains",
    "like",
    "not_like",
    "is_null",
    "not_null",
]

#: How an operator compares: a scalar comparison, one of a set, a substring (`%`: the value's own
#: ``%`` and ``_`` are plain characters), a caller's LIKE pattern (`=%`), or emptiness.
Family = Literal["compare", "set", "contains", "like", "empty"]


@dataclass(frozen=True, slots=True)
class Operator:
    op: Op
    family: Family
    #: `filter` key prefixes that choose it; none for an operator only the CRM layer makes.
    prefixes: tuple[str, ...] = ()
    #: Holds for a row without a matching value: NULL matches, and a list of values AND-s instead of
    #: OR-ing; on a multifield, "has no value that matches the positive form".
    negated: bool = False
    #: The SQL comparison of a "compare" operator.
    sql: str = ""
    #: What an empty value (None, "", []) asks for; None: the condition is ignored.
    when_empty: Op | None = None
    #: What a list of values with it becomes (one IN); None: one comparison per value.
    as_set: Op | None = None
    #: Compares by order (`>`, `<=`...): meaningless on a multifield.
    ordering: bool = False

    @property
    def is_pattern(self) -> bool:
        """A LIKE: it scans every row, so a request's patterns are counted."""
        return self.family in ("contains", "like")


#: Every operator. Rows are in the order their prefixes are tried, which a stable sort by length
#: keeps (:data:`FILTER_PREFIXES`).
OPERATORS: dict[Op, Operator] = {
    o.op: o
    for o in (
        Operator("not_like", "like", ("!=%", "!%="), negated=True),
        Operator("not_in", "set", ("!@",), negated=True, as_set="not_in"),
        Operator(
            "ne", "compare", ("!=", "!"), negated=True, sql="<>", when_empty="not_null", as_set="not_in"
        ),
        Operator("not_contains", "contains", ("!%",), negated=True),
        Operator("like", "like", ("=%", "%=")),
        Operator("ge", "compare", (">=",), sql=">=", ordering=True),
        Operator("le", "compare", ("<=",), sql="<=", ordering=True),
        Operator("in", "set", ("@",), as_set="in"),
        Operator("contains", "contains", ("%",)),
        Operator("eq", "compare", ("=",), sql="=", when_empty="is_null", as_set="in"),
        Operator("gt", "compare", (">",), sql=">", ordering=True),
        Operator("lt", "compare", ("<",), sql="<", ordering=True),
        # Made from an empty `=`/`!` value; negated on a multifield: "has no value at all".
        Operator("is_null", "empty", negated=True),
        Operator("not_null", "empty"),
    )
}

#: `filter` key prefixes, longest first (M4).
FILTER_PREFIXES: tuple[tuple[str, Op], ...] = tuple(
    sorted(((p, o.op) for o in OPERATORS.values() for p in o.prefixes), key=lambda pair: -len(pair[0]))
)


@dataclass(frozen=True, slots=True)
class Column:
    name: str  # a column of the entity's table, from Field.column


@dataclass(frozen=True, slots=True)
class MultifieldValue:
    type_id: str  # PHONE, EMAIL, ...


@dataclass(frozen=True, slots=True)
class PrimaryBound:
    """The owner's computed field (the lead's CONTACT_ID): the bound id of its primary binding."""

    kind: BindingKind


Term = Column | MultifieldValue | PrimaryBound


@dataclass(frozen=True, slots=True)
class Cond:
    term: Term
    op: Op
    value: Any = None


@dataclass(frozen=True, slots=True)
class AnyOf:
    """True when at least one part is (an empty AnyOf is false)."""

    parts: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AllOf:
    """True when every part is (an empty AllOf is true)."""

    parts: tuple[Condition, ...]


Condition = Cond | AnyOf | AllOf


@dataclass(slots=True)
class Query:
    where: Condition = field(default_factory=lambda: AllOf(()))
    order: list[tuple[Term, bool]] = field(default_factory=list)  # (term, descending)
    offset: int = 0
    limit: int | None = 50
