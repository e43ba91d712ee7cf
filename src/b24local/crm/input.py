"""Input of add/update: `fields` split into column values, multifield items and binding requests
(contract crud.md M1), and multifield items planned against what the element has (C5).

Nothing is written here: the entity service applies what these return.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from b24local.crm.codec import InvalidValue, is_empty, php_string, to_column
from b24local.crm.entities import EntityType, list_fields, primary_fields
from b24local.crm.errors import InvalidField, MultifieldNotFound
from b24local.crm.values import as_php_array, is_numeric_id, php_int
from b24local.model.fields import Field
from b24local.storage.base import MultifieldRow, Row

DEFAULT_VALUE_TYPE = "WORK"


@dataclass(slots=True)
class BindingInput:
    """What add/update asked of one binding kind: the plural field (CONTACT_IDS) or the single one."""

    ids: list[int] | None = None  # CONTACT_IDS, deduplicated, zeros dropped
    single: int | None = None  # CONTACT_ID (0: clear)


@dataclass(slots=True)
class Input:
    columns: Row = field(default_factory=dict)
    multifields: dict[str, list[Any]] = field(default_factory=dict)
    bindings: dict[str, BindingInput] = field(default_factory=dict)


@dataclass(slots=True)
class MultifieldPlan:
    inserts: list[tuple[str, str, str]] = field(default_factory=list)  # type_id, value_type, value
    updates: dict[int, tuple[str, str]] = field(default_factory=dict)  # id → value_type, value
    deletes: list[int] = field(default_factory=list)
    final: list[tuple[str, str, str]] = field(default_factory=list)  # what the element has afterwards


def _id_list(name: str, value: Any) -> list[int]:
    """CONTACT_IDS: bare ids in order; duplicates collapse, zeros and empties are ignored (L2)."""
    if value == "":
        return []
    items = as_php_array(value)
    if items is None:
        raise InvalidField(name, "it must be an array of IDs")
    out: list[int] = []
    for index, item in enumerate(items):
        number = _one_id(name, item, f"item #{index}")
        if number > 0 and number not in out:
            out.append(number)
    return out


def _one_id(name: str, value: Any, what: str = "the value") -> int:
    if value is None or value == "":
        return 0
    if not is_numeric_id(value):
        raise InvalidField(name, f"{what} is not an ID")
    return php_int(value)


def _mf_text(type_id: str, index: int, key: str, value: Any) -> str:
    try:
        return php_string(value)
    except InvalidValue:
        raise InvalidField(type_id, f"item #{index} has an invalid {key}") from None


def _is_yes(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.upper() == "Y")


class InputReader:
    """Reads `fields` of one entity type."""

    def __init__(self, entity: EntityType) -> None:
        self.entity = entity
        # The owner's computed field (the lead's CONTACT_ID) and its write-only lists (CONTACT_IDS;
        # a company's CONTACT_ID, which a company does not print).
        self._single = primary_fields(entity)
        self._plural = list_fields(entity)

    def read(self, fields: Mapping[Any, Any], adding: bool) -> Input:
        """Split `fields` into column values, multifield items and binding requests (M1).

        Unknown and read-only fields are ignored; a value that cannot be converted is refused.
        """
        out = Input()
        # In the kind's declared order, not the caller's: the last one given wins, so that CONTACT_IDS
        # takes precedence over a company's CONTACT_ID, which is a list too (L2, binding-family B2).
        for name, kind in self._plural.items():
            if fields.get(name) is not None:
                out.bindings.setdefault(kind.name, BindingInput()).ids = _id_list(name, fields[name])
        for name, value in fields.items():
            if name in self._plural:
                continue
            fld = self.entity.by_name.get(name) if isinstance(name, str) else None
            if fld is None or fld.is_read_only or (fld.is_immutable and not adding):
                continue  # an immutable field (the deal's pipeline) is set on add only
            if fld.storage == "column":
                self._read_column(out, fld, value, adding)
            elif fld.storage == "multifield":
                if is_empty(value):
                    continue
                items = as_php_array(value)
                if items is None:
                    raise InvalidField(fld.name, "it must be an array of objects")
                out.multifields[fld.name] = items
            elif fld.name in self._single:
                kind = self._single[fld.name]
                out.bindings.setdefault(kind.name, BindingInput()).single = _one_id(fld.name, value)
        return out

    def _read_column(self, out: Input, fld: Field, value: Any, adding: bool) -> None:
        if fld.default is not None and (value is None or value == ""):
            if adding:
                out.columns[fld.column] = fld.default
            return  # on update an empty value leaves a defaulted field as it is
        try:
            converted = to_column(fld, value)
        except InvalidValue as error:
            raise InvalidField(fld.name, str(error)) from None
        if fld.name == "ASSIGNED_BY_ID" and converted is None:
            return  # 0 or empty: the caller on add, no change on update
        out.columns[fld.column] = converted


def plan_multifields(
    given: dict[str, list[Any]], existing: Sequence[MultifieldRow], adding: bool
) -> MultifieldPlan:
    """C5: no ID → add; ID + VALUE → overwrite; ID + DELETE "Y" or VALUE "" → delete; rest kept.

    On add, IDs are ignored (items copied from another element are added as new). On update an ID
    must name an entry of this element and this type.
    """
    plan = MultifieldPlan()
    state = {m.id: (m.type_id, m.value_type, m.value) for m in existing}
    for type_id, items in given.items():
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise InvalidField(type_id, f"item #{index} is not an object")
            item_id = 0 if adding else php_int(item.get("ID"))
            value = item.get("VALUE")
            value = None if value is None else _mf_text(type_id, index, "VALUE", value)
            value_type = item.get("VALUE_TYPE")
            value_type = (
                None
                if value_type is None or value_type == ""
                else _mf_text(type_id, index, "VALUE_TYPE", value_type)
            )
            delete = _is_yes(item.get("DELETE"))
            if item_id <= 0:
                if not delete and value:
                    plan.inserts.append((type_id, value_type or DEFAULT_VALUE_TYPE, value))
                continue
            old = state.get(item_id)
            if old is None or old[0] != type_id:
                raise MultifieldNotFound(type_id, item_id)
            if delete or value == "":
                plan.deletes.append(item_id)
                plan.updates.pop(item_id, None)
                del state[item_id]
                continue
            new = (type_id, value_type or old[1], old[2] if value is None else value)
            if new != old:
                plan.updates[item_id] = (new[1], new[2])
                state[item_id] = new
    plan.final = [*state.values(), *plan.inserts]
    return plan
