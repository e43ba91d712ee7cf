"""Why the CRM refused a call: domain errors that carry what went wrong, not how a portal says it.

The services (records.py, binding_service.py, input.py, listing.py) raise these; one table in
methods/errors.py words each type as the portal does (HTTP status, ``error``, ``error_description``).
A type exists for each distinct answer: the owner of a binding is refused differently from the item of
a CRUD call, and a bound element differently from both (contract crud.md M2, bindings E7–E11).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from b24local.model.entities import BindingKind, EntityType


class CrmError(Exception):
    """A refusal the caller is told about; nothing was written.

    The subclasses are dataclasses (``eq=False``: an exception compares by identity); their fields are
    what the table's texts may name. Entities and binding kinds print by name. ``why``: the rule that
    refused in words, for the journal (test-portal.md T7) and never for the caller; None where the
    answer's own description says it all.
    """

    why: str | None = None

    def __str__(self) -> str:
        return ", ".join(f"{key}={getattr(value, 'name', value)!r}" for key, value in vars(self).items())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self})"


@dataclass(eq=False, repr=False)
class AccessDenied(CrmError):
    """The caller may not do this to ``entity`` (the type, or the item ``id``); ``entity`` None: the
    caller may read no CRM entity at all (bindings E9)."""

    entity: EntityType | None
    id: int | None = None
    why: str | None = field(default=None, kw_only=True)  # the role and the item's owner (crm/why.py)


@dataclass(eq=False, repr=False)
class NotFound(CrmError):
    """No item ``id`` of ``entity`` (told only to a caller allowed to know, Permissions.refusal)."""

    entity: EntityType
    id: int


class OwnerAccessDenied(AccessDenied):
    """The caller may not read or change the bindings of the owner ``id`` (E8)."""


class OwnerNotFound(NotFound):
    """The owner of the bindings does not exist (E7)."""


class BoundAccessDenied(AccessDenied):
    """The caller may not read the element ``id`` it binds or unbinds (E11)."""


class BoundNotFound(NotFound):
    """The element ``id`` to bind does not exist (E10)."""


@dataclass(eq=False, repr=False)
class MultifieldNotFound(CrmError):
    """An update names multifield entry ``id`` that the item does not have under ``type_id`` (C5)."""

    type_id: str
    id: int


@dataclass(eq=False, repr=False)
class InvalidField(CrmError):
    """The value of field ``name`` in ``fields`` cannot be used; ``reason`` completes a sentence."""

    name: str
    reason: str


@dataclass(eq=False, repr=False)
class InvalidFilter(CrmError):
    """The `filter` key ``key`` (as written, prefix included) cannot be used; ``reason`` as above."""

    key: str
    reason: str


@dataclass(eq=False, repr=False)
class RuleBroken(CrmError):
    """An entity rule refused the item (model/rules.py); ``message`` is the rule's own wording."""

    message: str


@dataclass(eq=False, repr=False)
class InvalidBoundId(CrmError):
    """add/delete of one binding names no element of ``kind.bound`` (E6)."""

    kind: BindingKind


@dataclass(eq=False, repr=False)
class InvalidBindingItem(CrmError):
    """Element ``index`` of a binding set is not a binding of ``kind`` with a valid id (E12)."""

    kind: BindingKind
    index: int
