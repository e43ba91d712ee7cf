"""JSON Schemas of what methods take and answer: the registry's ``Result``s and precise ``Param``s.

Entity schemas come from the field definitions (crm/entity_fields.py), so they cannot drift from what
add/update read and get/list print (ids and numbers as strings, contract C4). Named schemas are kept
in :data:`COMPONENTS` and referred to by ``$ref``, as the OpenAPI document lists them.
"""

from __future__ import annotations

from typing import Any

from b24local.crm.codec import REFERENCE_TYPES
from b24local.crm.entities import EntityType
from b24local.methods.registry import Result, Schema
from b24local.model.fields import Field
from b24local.model.query import FILTER_PREFIXES

#: Named schemas, by name, for ``#/components/schemas/``.
COMPONENTS: dict[str, Schema] = {}


def named(name: str, schema: Schema) -> Schema:
    """Keep ``schema`` as a component and return a reference to it."""
    if COMPONENTS.setdefault(name, schema) is not schema:
        raise RuntimeError(f"schema {name} defined twice")
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "type": [schema["type"], "null"]}


def strict_object(properties: dict[str, Schema], required: tuple[str, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        out["required"] = list(required)
    return out


def php_map(item: Schema) -> Schema:
    """A PHP array as a portal prints it: a list when keyed 0..n-1 (or empty), an object otherwise."""
    return {"anyOf": [{"type": "array", "items": item}, {"type": "object", "additionalProperties": item}]}


YES_NO: Schema = {"type": "string", "enum": ["Y", "N"]}
#: A record's ID as a parameter (0 or less: "not defined or invalid").
RECORD_ID: Schema = {"type": "integer", "minimum": 1, "examples": [1]}
SCALAR: Schema = {"type": ["string", "number", "boolean", "null"]}

ERROR = named(
    "Error",
    strict_object(
        {
            "error": {
                "type": "string",
                "description": "A code such as INVALID_CREDENTIALS; empty for many CRM checks",
            },
            "error_description": {"type": "string"},
        },
        ("error", "error_description"),
    ),
)
_SECONDS: Schema = {"type": "number"}
_LOCAL_TIME: Schema = {"type": "string", "format": "date-time"}
TIME = named(
    "Time",
    strict_object(
        {
            "start": _SECONDS,
            "finish": _SECONDS,
            "duration": _SECONDS,
            "processing": _SECONDS,
            "date_start": _LOCAL_TIME,
            "date_finish": _LOCAL_TIME,
            "operating_reset_at": {"type": "integer"},
            "operating": _SECONDS,
        },
        (
            "start",
            "finish",
            "duration",
            "processing",
            "date_start",
            "date_finish",
            "operating_reset_at",
            "operating",
        ),
    ),
)

BOOLEAN = Result({"type": "boolean"})
NEW_ID = Result({"type": "integer", "minimum": 1, "description": "The new record's ID"})
STRINGS = Result({"type": "array", "items": {"type": "string"}})
DATE_TIME = Result({"type": "string", "format": "date-time"})

FIELD_DESCRIPTION = named(
    "FieldDescription",
    {
        "type": "object",
        "description": "One field as crm.*.fields prints it",
        "required": ["type", "isRequired", "isReadOnly", "isImmutable", "isMultiple", "isDynamic", "title"],
        "properties": {
            "type": {"type": "string"},
            "isRequired": {"type": "boolean"},
            "isReadOnly": {"type": "boolean"},
            "isImmutable": {"type": "boolean"},
            "isMultiple": {"type": "boolean"},
            "isDynamic": {"type": "boolean"},
            "statusType": {"type": "string"},
            "isDeprecated": {"type": "boolean"},
            "title": {"type": "string"},
        },
        "additionalProperties": False,
    },
)
FIELD_DESCRIPTIONS = Result({"type": "object", "additionalProperties": FIELD_DESCRIPTION})

MULTIFIELD_OUT = named(
    "MultifieldValue",
    strict_object(
        {
            "ID": {"type": "string", "pattern": "^[0-9]+$"},
            "VALUE_TYPE": {"type": "string"},
            "VALUE": {"type": "string"},
            "TYPE_ID": {"type": "string"},
        },
        ("ID", "VALUE_TYPE", "VALUE", "TYPE_ID"),
    ),
)
MULTIFIELD_IN = named(
    "MultifieldInput",
    {
        "type": "object",
        "description": "No ID: a new value; ID and VALUE: overwrite; ID and DELETE Y (or VALUE ''): delete",
        "properties": {
            "ID": {"type": "integer", "minimum": 1},
            "VALUE": {"type": "string"},
            "VALUE_TYPE": {"type": "string", "examples": ["WORK", "HOME", "MOBILE"]},
            "DELETE": YES_NO,
        },
    },
)

_DIGITS: dict[str, Any] = {"type": "string", "pattern": "^-?[0-9]+$"}
_OUTPUT_BY_TYPE: dict[str, dict[str, Any]] = {
    "integer": _DIGITS,
    "double": {"type": "string", "pattern": "^-?[0-9]+[.][0-9]{2}$"},
    "char": {"type": "string", "enum": ["Y", "N", None]},
    "date": {"type": "string", "format": "date-time"},  # a portal prints a date at local midnight
    "datetime": {"type": "string", "format": "date-time"},
}
_INPUT_BY_TYPE: dict[str, Schema] = {
    "integer": {"type": "integer"},
    "double": {"type": "number"},
    "char": YES_NO,
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
}


def _output(fld: Field) -> Schema:
    if fld.storage == "multifield":
        return {"type": "array", "items": MULTIFIELD_OUT}
    base = _DIGITS if fld.type in REFERENCE_TYPES else _OUTPUT_BY_TYPE.get(fld.type, {"type": "string"})
    return {**nullable(base), "title": fld.title}


def _input(fld: Field) -> Schema:
    if fld.storage == "multifield":
        return {"type": "array", "items": MULTIFIELD_IN, "title": fld.title}
    if fld.type in REFERENCE_TYPES:
        one: Schema = {"type": "integer", "description": "an ID; 0 clears"}
    else:
        one = _INPUT_BY_TYPE.get(fld.type, {"type": "string"})
    if fld.is_multiple:
        return {"type": "array", "items": one, "title": fld.title}
    return {**one, "title": fld.title}


def entity_record(entity: EntityType) -> Schema:
    """A record as crm.<entity>.get and .list print it (a list prints only the selected fields)."""
    properties = {f.name: _output(f) for f in entity.fields if f.storage != "write_only"}
    return named(entity.title, strict_object(properties, ("ID",)))


def entity_input(entity: EntityType) -> Schema:
    """``fields`` of crm.<entity>.add/update: writable fields; unknown and read-only ones are ignored."""
    properties = {f.name: _input(f) for f in entity.fields if not f.is_read_only}
    return named(f"{entity.title}Fields", {"type": "object", "properties": properties})


def entity_new_input(entity: EntityType, fields: Schema) -> Schema:
    """``fields`` of crm.<entity>.add: ``fields`` plus the entity's "one of these non-empty" rule (C2)."""
    rule = entity.rules.one_of_required
    if rule is None:
        return fields
    names = rule.names
    non_empty: Schema = {"type": "string", "pattern": "\\S"}
    one_of = [{"required": [name], "properties": {name: non_empty}} for name in names]
    return named(f"New{entity.title}Fields", {"allOf": [fields], "anyOf": one_of})


def entity_filter(entity: EntityType) -> Schema:
    names = "|".join(f.name for f in entity.fields if f.storage != "write_only")
    prefixes = "|".join(prefix for prefix, _ in FILTER_PREFIXES)  # longest first
    return named(
        f"{entity.title}Filter",
        {
            "type": "object",
            "description": "{[prefix]FIELD: value or list of values}; unknown fields are ignored",
            "propertyNames": {"pattern": f"^({prefixes})?({names})$"},
            "additionalProperties": {"anyOf": [SCALAR, {"type": "array", "items": SCALAR}]},
        },
    )


def entity_select(entity: EntityType) -> Schema:
    names = ["*", *(f.name for f in entity.fields if f.storage != "write_only")]
    return {"type": "array", "items": {"type": "string", "enum": names}}


def entity_order(entity: EntityType) -> Schema:
    names = [f.name for f in entity.fields if f.storage in ("column", "computed")]
    return {
        "type": "object",
        "propertyNames": {"enum": names},
        "additionalProperties": {"type": "string", "enum": ["ASC", "DESC"]},
    }
