"""Expected values shared by several test modules, written out literally.

Nothing here is derived from ``src/``: these are what a portal answers (or what the contract says it
answers), so a change in b24local that alters one of them makes the tests fail instead of following it.
"""

from __future__ import annotations

import re

#: The eight keys of the ``time`` object of every answer (and of every ``result_time`` entry of a batch).
TIME_KEYS = frozenset(
    {
        "start",
        "finish",
        "duration",
        "processing",
        "date_start",
        "date_finish",
        "operating_reset_at",
        "operating",
    }
)

#: A date-time as a portal writes it: ``2024-05-23T18:18:25+02:00``.
ISO_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")

#: The ``result`` of ``crm.lead.contact.fields``, in the order a portal sends the keys (also of
#: ``crm.deal.contact.fields`` and ``crm.company.contact.fields``: the same item key and titles).
LEAD_CONTACT_FIELDS = {
    "SORT": {
        "type": "integer",
        "isRequired": False,
        "isReadOnly": False,
        "isImmutable": False,
        "isMultiple": False,
        "isDynamic": False,
        "title": "Sorting",
    },
    "IS_PRIMARY": {
        "type": "char",
        "isRequired": False,
        "isReadOnly": False,
        "isImmutable": False,
        "isMultiple": False,
        "isDynamic": False,
        "title": "Primary",
    },
    "CONTACT_ID": {
        "type": "integer",
        "isRequired": True,
        "isReadOnly": False,
        "isImmutable": False,
        "isMultiple": False,
        "isDynamic": False,
        "title": "Contact",
    },
}

#: The ``result`` of ``crm.contact.company.fields`` (the item key is the company's; official page
#: contacts/company/crm-contact-company-fields.md).
CONTACT_COMPANY_FIELDS = {
    "SORT": LEAD_CONTACT_FIELDS["SORT"],
    "IS_PRIMARY": LEAD_CONTACT_FIELDS["IS_PRIMARY"],
    "COMPANY_ID": {
        "type": "integer",
        "isRequired": True,
        "isReadOnly": False,
        "isImmutable": False,
        "isMultiple": False,
        "isDynamic": False,
        "title": "Company",
    },
}

# Error bodies ---------------------------------------------------------------------------------------

#: 404 for a method that does not exist.
METHOD_NOT_FOUND = {"error": "ERROR_METHOD_NOT_FOUND", "error_description": "Method not found!"}
#: 401 for a wrong webhook code or user.
INVALID_CREDENTIALS = {"error": "INVALID_CREDENTIALS", "error_description": "Invalid request credentials"}
#: 403 for a direct call outside the webhook's scopes (inside a batch the description is empty).
INSUFFICIENT_SCOPE = {
    "error": "insufficient_scope",
    "error_description": "The request requires higher privileges than provided by the webhook token",
}
#: The description of the 400 (error code "") for a missing or invalid lead ``id``.
OWNER_INVALID = "The parameter ownerEntityID is invalid or not defined."
