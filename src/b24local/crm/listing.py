"""The list grammar of `crm.*.list`: `select` → :class:`Shape`, `filter` and `order` → the parts of a
storage-neutral :class:`~b24local.model.query.Query` (contract M4).

Which prefix is which operator, and what an operator does with an empty value or a list of values, is
read from :data:`~b24local.model.query.OPERATORS`; field values are coerced as the field stores them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from b24local.crm.codec import (
    REFERENCE_TYPES,
    TEXT_TYPES,
    InvalidValue,
    is_empty,
    parse_date,
    parse_timestamp,
    php_double,
    php_string,
    printer_for,
)
from b24local.crm.entities import EntityType, primary_fields
from b24local.crm.errors import InvalidFilter
from b24local.crm.values import as_php_array, php_int
from b24local.model.fields import Field
from b24local.model.query import (
    FILTER_PREFIXES,
    OPERATORS,
    AllOf,
    AnyOf,
    Column,
    Cond,
    Condition,
    MultifieldValue,
    Op,
    PrimaryBound,
    Term,
)

#: Values of one `=`/`!`/`@`/`!@` list: it is one IN, bound as one parameter whatever its length
#: (the request decoder admits 10,000 values in all).
FILTER_IN_VALUES_MAX = 10_000
#: Comparisons one filter compiles to, an IN counting as one and a list with another operator as
#: one per value: bounds the SQL (SQLite nests an OR chain one level per term, at most 1,000) and
#: the work per row.
FILTER_TERMS_MAX = 100
#: A pattern's bytes: escaped, twice this fits SQLite's limit on a LIKE pattern (50,000 bytes).
FILTER_PATTERN_BYTES_MAX = 20_000


@dataclass(frozen=True, slots=True)
class Shape:
    """Which fields a formatted row carries: plain fields in definition order, then multifields."""

    fields: tuple[Field, ...]
    multifields: tuple[str, ...]
    #: (output name, stored column or None for a computed field, printer): worked out once per shape.
    plan: tuple[tuple[str, str | None, Callable[[Any], Any]], ...] = ()

    def __post_init__(self) -> None:
        plan = tuple(
            (f.name, f.column if f.storage == "column" else None, printer_for(f.type)) for f in self.fields
        )
        object.__setattr__(self, "plan", plan)


def _pattern(value: Any) -> str:
    text = php_string(value)
    if len(text) > FILTER_PATTERN_BYTES_MAX // 4 and len(text.encode()) > FILTER_PATTERN_BYTES_MAX:
        raise InvalidValue(f"the pattern is longer than {FILTER_PATTERN_BYTES_MAX} bytes")
    return text


def _filter_value(fld: Field, value: Any) -> Any:
    """A filter value coerced to the field's stored type (raises :class:`InvalidValue`)."""
    if isinstance(value, (list, dict)):
        raise InvalidValue("an array is not allowed here")
    kind = fld.type
    if fld.storage == "multifield":
        return php_string(value)
    if kind == "integer" or kind in REFERENCE_TYPES:
        return php_int(value)
    if kind == "double":
        return php_double(value)
    if kind == "date":
        return parse_date(value)
    if kind == "datetime":
        return parse_timestamp(value)
    if kind == "char" and isinstance(value, bool):
        return "Y" if value else "N"
    return php_string(value)


def count_patterns(conditions: Iterable[Condition]) -> int:
    """Substring and pattern comparisons among ``conditions`` (a filter's grammar nests one level)."""
    count = 0
    for cond in conditions:
        if isinstance(cond, Cond):
            count += OPERATORS[cond.op].is_pattern
        else:
            count += count_patterns(cond.parts)
    return count


def _split_key(key: str) -> tuple[Op, str]:
    """A `filter` key as its operator and the rest (the field name)."""
    name = key.strip()
    for prefix, op in FILTER_PREFIXES:
        if name.startswith(prefix):
            return op, name[len(prefix) :]
    return "eq", name


class ListGrammar:
    """`select`, `filter` and `order` of one entity type."""

    def __init__(self, entity: EntityType) -> None:
        self.entity = entity
        # The owner's computed field (the lead's CONTACT_ID): filtered and ordered by its primary.
        self._single = primary_fields(entity)
        plain = tuple(f for f in entity.fields if f.storage in ("column", "computed"))
        self.multifields = tuple(f.name for f in entity.fields if f.storage == "multifield")
        self.star = Shape(plain, ())
        self.full = Shape(plain, self.multifields)

    def select(self, names: Sequence[str]) -> Shape:
        """No names and "*": every field but multifields; multifields by name; unknown names ignored."""
        wanted = {n.strip().upper() for n in names}
        if not wanted:
            return self.star
        if "*" in wanted:
            plain = self.star.fields
        else:
            plain = tuple(f for f in self.star.fields if f.name in wanted or f.name == "ID")
        multifields = tuple(name for name in self.multifields if name in wanted)
        return Shape(plain, multifields)

    def _term(self, fld: Field) -> Term | None:
        if fld.storage == "column":
            return Column(fld.column)
        if fld.storage == "multifield":
            return MultifieldValue(fld.name)
        kind = self._single.get(fld.name)
        return PrimaryBound(kind) if kind is not None else None

    def conditions(self, filters: Mapping[Any, Any]) -> list[Condition]:
        """`filter` as conditions; unknown fields are ignored, values coerced to the field type.

        At most :data:`FILTER_TERMS_MAX` comparisons in all, so that the SQL stays bounded."""
        out: list[Condition] = []
        terms = 0
        for key, value in filters.items():
            if not isinstance(key, str):
                continue
            op, name = _split_key(key)
            fld = self.entity.by_name.get(name.strip().upper())
            term = self._term(fld) if fld is not None else None
            if fld is None or term is None:
                continue
            try:
                cond = _condition(fld, term, op, value)
            except InvalidValue as error:
                raise InvalidFilter(key, str(error)) from None
            if cond is None:
                continue
            terms += len(cond.parts) if isinstance(cond, (AnyOf, AllOf)) else 1
            if terms > FILTER_TERMS_MAX:
                raise InvalidFilter(
                    key,
                    f"the filter has more than {FILTER_TERMS_MAX} conditions (a list with = or ! counts "
                    "as one, with another operator one per value)",
                )
            out.append(cond)
        return out

    def order(self, raw: Mapping[Any, Any]) -> list[tuple[Term, bool]]:
        """`order` {FIELD: ASC|DESC}, case-insensitive; unknown or unsortable fields ignored."""
        out: list[tuple[Term, bool]] = []
        for key, direction in raw.items():
            if not isinstance(key, str):
                continue
            fld = self.entity.by_name.get(key.strip().upper())
            if fld is None or fld.storage == "multifield":
                continue
            term = self._term(fld)
            if term is not None and all(term != t for t, _ in out):
                descending = isinstance(direction, str) and direction.strip().upper() == "DESC"
                out.append((term, descending))
        return out


def _condition(fld: Field, term: Term, op: Op, value: Any) -> Condition | None:
    """One filter key: a scalar is one comparison; a list (one level, scalars only) is an IN with
    `=`/`!`/`@`/`!@`, otherwise comparisons OR-ed (AND-ed for a negated operator)."""
    operator = OPERATORS[op]
    if operator.family != "set" and not isinstance(value, (list, dict)):
        return _comparison(fld, term, op, value)
    values = as_php_array(value)
    if values is None:
        values = [value]
    limit = FILTER_IN_VALUES_MAX if operator.as_set is not None else FILTER_TERMS_MAX
    if len(values) > limit:
        only = "" if operator.as_set is not None else "; only =, !, @ and !@ take longer lists"
        raise InvalidValue(f"more than {limit} values{only}")
    for index, item in enumerate(values):
        if isinstance(item, (list, dict)):
            raise InvalidValue(f"item #{index} is an array, not a value")
    if operator.as_set is not None:
        return Cond(term, operator.as_set, tuple(_filter_value(fld, v) for v in values if not is_empty(v)))
    parts = tuple(c for v in values if (c := _comparison(fld, term, op, v)) is not None)
    return AllOf(parts) if operator.negated else AnyOf(parts)


def _comparison(fld: Field, term: Term, op: Op, value: Any) -> Cond | None:
    """One scalar value with one operator (never `in`/`not_in`); None: the condition is ignored."""
    operator = OPERATORS[op]
    multifield = fld.storage == "multifield"
    if is_empty(value):
        if operator.when_empty is None:
            return None
        textual = multifield or fld.type in TEXT_TYPES
        return Cond(term, operator.when_empty, "text" if textual else None)
    if operator.is_pattern:
        return Cond(term, op, _pattern(value))
    if multifield and operator.ordering:
        return None
    return Cond(term, op, _filter_value(fld, value))
