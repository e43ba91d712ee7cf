"""The one table that words CRM refusals (methods/errors.py): every domain error has its answer, and
each answer is the portal's, byte for byte (crud.md M2, binding-family.md E6–E12)."""

from __future__ import annotations

import pytest

from b24local.crm import errors
from b24local.crm.entities import CONTACT, LEAD, LEAD_CONTACT
from b24local.methods.errors import ANSWERS, api_error


def _subclasses(cls: type[errors.CrmError]) -> set[type[errors.CrmError]]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def test_every_domain_error_has_its_own_row() -> None:
    assert _subclasses(errors.CrmError) == set(ANSWERS)


@pytest.mark.parametrize(
    ("error", "status", "code", "text"),
    [
        (errors.AccessDenied(LEAD), 400, "", "Access denied."),
        (errors.AccessDenied(None), 400, "", "Access denied."),
        (errors.AccessDenied(CONTACT, 7), 400, "", "Access denied."),
        (errors.NotFound(LEAD, 7), 400, "", "Not found."),
        (errors.OwnerAccessDenied(LEAD, 7), 403, "ACCESS_DENIED", "Access denied!"),
        (errors.OwnerNotFound(LEAD, 7), 400, "NOT_FOUND", "Not found."),
        (errors.BoundNotFound(CONTACT, 5), 400, "NOT_FOUND", "Contact #5 not found."),
        (errors.BoundNotFound(LEAD, 5), 400, "NOT_FOUND", "Lead #5 not found."),
        (errors.BoundAccessDenied(CONTACT, 5), 400, "", "[Contact #5] Access denied."),
        (errors.MultifieldNotFound("PHONE", 3), 400, "NOT_FOUND", "PHONE value #3 not found."),
        (
            errors.InvalidField("OPENED", "'x' is neither Y nor N"),
            400,
            "",
            "Field 'OPENED' is not valid: 'x' is neither Y nor N.",
        ),
        (
            errors.InvalidFilter(">ID {x}", "a {reason}"),
            400,
            "",
            "Filter field '>ID {x}' is not valid: a {reason}.",
        ),
        (
            errors.RuleBroken("Required fields are not filled: NAME or LAST_NAME."),
            400,
            "",
            "Required fields are not filled: NAME or LAST_NAME.",
        ),
        (errors.InvalidBoundId(LEAD_CONTACT), 400, "", "The parameter 'fields' is not valid."),
        (
            errors.InvalidBindingItem(LEAD_CONTACT, 2),
            400,
            "",
            "The parameter items is not valid: item #2 has no valid CONTACT_ID.",
        ),
    ],
)
def test_answers(error: errors.CrmError, status: int, code: str, text: str) -> None:
    answer = api_error(error)
    assert (answer.status, answer.code, answer.description) == (status, code, text)
