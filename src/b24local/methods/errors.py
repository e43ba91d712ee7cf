"""How a portal words each CRM refusal: the one table from a domain error's type to its answer.

crm/ raises the errors of :mod:`b24local.crm.errors`, which carry data (the entity, the id, the field);
the dispatcher turns them into the :class:`~b24local.protocol.errors.ApiError` a caller receives, the
same for a direct call and for a command of ``batch``.
"""

from __future__ import annotations

from b24local.crm import errors as crm
from b24local.protocol.errors import ApiError

#: (HTTP status, ``error``, ``error_description``); the description's ``{fields}`` are the error's
#: attributes (``{entity.title}``: the entity's title, so that a new entity needs no new text).
ANSWERS: dict[type[crm.CrmError], tuple[int, str, str]] = {
    # CRUD (crud.md M2) and E9
    crm.AccessDenied: (400, "", "Access denied."),
    crm.NotFound: (400, "", "Not found."),
    crm.InvalidField: (400, "", "Field '{name}' is not valid: {reason}."),
    crm.InvalidFilter: (400, "", "Filter field '{key}' is not valid: {reason}."),
    crm.MultifieldNotFound: (400, "NOT_FOUND", "{type_id} value #{id} not found."),
    crm.RuleBroken: (400, "", "{message}"),
    # Bindings (binding-family.md, E6–E12)
    crm.OwnerAccessDenied: (403, "ACCESS_DENIED", "Access denied!"),
    crm.OwnerNotFound: (400, "NOT_FOUND", "Not found."),
    crm.InvalidBoundId: (400, "", "The parameter 'fields' is not valid."),
    crm.InvalidBindingItem: (
        400,
        "",
        "The parameter items is not valid: item #{index} has no valid {kind.bound_field}.",
    ),
    crm.BoundNotFound: (400, "NOT_FOUND", "{entity.title} #{id} not found."),
    crm.BoundAccessDenied: (400, "", "[{entity.title} #{id}] Access denied."),
}


def api_error(error: crm.CrmError) -> ApiError:
    """``error`` as the portal answers it (a type not in the table answers as its nearest parent)."""
    status, code, text = next(ANSWERS[cls] for cls in type(error).__mro__ if cls in ANSWERS)
    return ApiError(status, code, text.format_map(vars(error)), why=error.why)
