"""Why the CRM refused a call: domain errors that carry what went wrong, not how a portal says it.

The services (records.py, binding_service.py, input.py, listing.py) raise these; one table in
methods/errors.py words each type as the portal does (HTTP status, ``error``, ``error_description``).
A type exists for each distinct answer: the owner of a binding is refused differently from the item of
a CRUD call, and a bound element differently from both (contract crud.md M2, bindings E7–E11).
"""

from __future__ import annotations

from b24local.model.entities import BindingKind, EntityType


class CrmError(Exception):
    """A refusal the caller is told about; nothing was written."""


class AccessDenied(CrmError):
    """The caller may not do this to ``entity`` (the type, or the item ``id``); ``entity`` None: the
    caller may read no CRM entity at all (bindings E9)."""

    def __init__(self, entity: EntityType | None, id: int | None = None) -> None:
        super().__init__(entity and entity.name, id)
        self.entity = entity
        self.id = id


class NotFound(CrmError):
    """No item ``id`` of ``entity`` (told only to a caller allowed to know, Permissions.refusal)."""

    def __init__(self, entity: EntityType, id: int) -> None:
        super().__init__(entity.name, id)
        self.entity = entity
        self.id = id


class OwnerAccessDenied(AccessDenied):
    """The caller may not read or change the bindings of the owner ``id`` (E8)."""


class OwnerNotFound(NotFound):
    """The owner of the bindings does not exist (E7)."""


class BoundAccessDenied(AccessDenied):
    """The caller may not read the element ``id`` it binds or unbinds (E11)."""


class BoundNotFound(NotFound):
    """The element ``id`` to bind does not exist (E10)."""


class MultifieldNotFound(CrmError):
    """An update names multifield entry ``id`` that the item does not have under ``type_id`` (C5)."""

    def __init__(self, type_id: str, id: int) -> None:
        super().__init__(type_id, id)
        self.type_id = type_id
        self.id = id


class InvalidField(CrmError):
    """The value of field ``name`` in ``fields`` cannot be used; ``reason`` completes a sentence."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(name, reason)
        self.name = name
        self.reason = reason


class InvalidFilter(CrmError):
    """The `filter` key ``key`` (as written, prefix included) cannot be used; ``reason`` as above."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(key, reason)
        self.key = key
        self.reason = reason


class RuleBroken(CrmError):
    """An entity rule refused the item (model/rules.py); ``message`` is the rule's own wording."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidBoundId(CrmError):
    """add/delete of one binding names no element of ``kind.bound`` (E6)."""

    def __init__(self, kind: BindingKind) -> None:
        super().__init__(kind.name)
        self.kind = kind


class InvalidBindingItem(CrmError):
    """Element ``index`` of a binding set is not a binding of ``kind`` with a valid id (E12)."""

    def __init__(self, kind: BindingKind, index: int) -> None:
        super().__init__(kind.name, index)
        self.kind = kind
        self.index = index
