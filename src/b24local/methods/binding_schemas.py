"""What the binding family declares for the registry and the OpenAPI document, from a relation.

Names, parameter labels, schemas and readers are derived from the
:class:`~b24local.crm.entities.BindingKind`: the owner entity's title gives "Lead ID", the bound
entity's title the item's title ("Contact"), and ``bound_field`` the item key (``CONTACT_ID``). The
readers refuse with the contract's words (E1–E5).
"""

from __future__ import annotations

from typing import Any

from b24local.crm.entities import BindingKind
from b24local.methods import decode, schemas
from b24local.methods.registry import Param, Schema

_BOUND_ID: dict[str, Any] = {"type": "integer", "minimum": 1}


def plural(noun: str) -> str:
    """English plural of an entity's name or title: contact → contacts, company → companies."""
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "o", "u"):
        return noun[:-1] + "ies"
    return noun + "s"


class BindingSchemas:
    def __init__(self, kind: BindingKind) -> None:
        self.kind = kind
        self.prefix = f"crm.{kind.owner.name}.{kind.bound.name}"
        field = kind.bound_field
        id_text = f"{kind.owner.title} ID"
        invalid_id = "The parameter {} is invalid or not defined."
        read_id = decode.positive_id(invalid_id.format("ownerEntityID"))  # E2
        self.id_param = Param("id", "integer", True, id_text, schemas.RECORD_ID, read_id)
        # add and delete quote the name (E1); the same parameter to a reader of the document
        read_quoted_id = decode.positive_id(invalid_id.format("'ownerEntityID'"))
        self.quoted_id_param = Param("id", "integer", True, id_text, schemas.RECORD_ID, read_quoted_id)
        binding_input = self._input_schema()
        self.binding = self._binding_schema()
        self.items_param = Param(
            "items",
            "object[]",
            True,
            f"{field}, SORT, IS_PRIMARY of each {kind.bound.name}",
            {"type": "array", "items": binding_input},
            decode.bindings(field, "The parameter items must be array."),  # E5
        )
        self.add_fields_param = Param(
            "fields",
            "object",
            True,
            f"{field}, SORT, IS_PRIMARY",
            binding_input,
            decode.binding(field, "The parameter 'fields' must be array."),  # E3
        )
        self.delete_fields_param = Param(
            "fields",
            "object",
            True,
            field,
            {"type": "object", "required": [field], "properties": {field: _BOUND_ID}},
            decode.binding(field, "The parameter 'item' must be array."),  # E4
        )

    @property
    def _component(self) -> str:
        """The prefix of the relation's named schemas: "LeadContact"."""
        return f"{self.kind.owner.title}{self.kind.bound.title}"

    def _input_schema(self) -> Schema:
        field = self.kind.bound_field
        return schemas.named(
            f"{self._component}Input",
            {
                "type": "object",
                "required": [field],
                "properties": {field: _BOUND_ID, "SORT": {"type": "integer"}, "IS_PRIMARY": schemas.YES_NO},
            },
        )

    def _binding_schema(self) -> Schema:
        field = self.kind.bound_field
        return schemas.named(
            f"{self._component}Binding",
            schemas.strict_object(
                {
                    field: _BOUND_ID,
                    "SORT": {"type": "integer"},
                    "ROLE_ID": {"type": "integer"},
                    "IS_PRIMARY": schemas.YES_NO,
                },
                (field, "SORT", "ROLE_ID", "IS_PRIMARY"),
            ),
        )

    def field_descriptions(self) -> dict[str, dict[str, Any]]:
        """F1 / B6: SORT, IS_PRIMARY and the item key, in this order."""
        return {
            "SORT": _describe("integer", "Sorting", required=False),
            "IS_PRIMARY": _describe("char", "Primary", required=False),
            self.kind.bound_field: _describe("integer", self.kind.bound.title, required=True),
        }


def _describe(type_: str, title: str, required: bool) -> dict[str, Any]:
    return {
        "type": type_,
        "isRequired": required,
        "isReadOnly": False,
        "isImmutable": False,
        "isMultiple": False,
        "isDynamic": False,
        "title": title,
    }
