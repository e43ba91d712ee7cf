"""Field definitions: the single source for storage columns, `*.fields` output and value handling.

Every CRM entity is described by an ordered tuple of :class:`Field`. The storage layer derives its
columns from the fields whose ``storage`` is ``"column"``; the `crm.*.fields` methods print them in
this order; input and output conversion is chosen by ``type``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

#: How a field is kept:
#: ``column`` — one column of the entity's table, named ``Field.column``;
#: ``multifield`` — rows of the shared multifield table (PHONE, EMAIL, WEB, IM, LINK);
#: ``computed`` — derived on read (e.g. the lead's ``CONTACT_ID`` from its primary binding);
#: ``write_only`` — accepted on add/update, never stored or returned as such (``CONTACT_IDS``).
Storage = Literal["column", "multifield", "computed", "write_only"]


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: str
    title: str
    storage: Storage = "column"
    is_required: bool = False
    is_read_only: bool = False
    is_immutable: bool = False
    is_multiple: bool = False
    is_dynamic: bool = False
    is_deprecated: bool = False
    status_type: str | None = None
    #: Value written on add when the caller gives none (not for read-only fields set by the server).
    default: Any = None

    @property
    def column(self) -> str:
        return self.name.lower()

    def describe(self) -> dict[str, Any]:
        """The field as `crm.*.fields` prints it."""
        out: dict[str, Any] = {
            "type": self.type,
            "isRequired": self.is_required,
            "isReadOnly": self.is_read_only,
            "isImmutable": self.is_immutable,
            "isMultiple": self.is_multiple,
            "isDynamic": self.is_dynamic,
        }
        if self.status_type is not None:
            out["statusType"] = self.status_type
        if self.is_deprecated:
            out["isDeprecated"] = True
        out["title"] = self.title
        return out


def ro(name: str, type_: str, title: str, **kw: Any) -> Field:
    """A read-only field (set by the server)."""
    return Field(name, type_, title, is_read_only=True, **kw)


MULTIFIELD_TYPES: tuple[str, ...] = ("PHONE", "EMAIL", "WEB", "IM", "LINK")


def multifield(name: str, title: str) -> Field:
    return Field(name, "crm_multifield", title, storage="multifield", is_multiple=True)
