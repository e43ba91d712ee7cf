"""crm.contact.*: contacts (contract crud.md; deleting one unbinds it from every lead, I4)."""

from __future__ import annotations

from b24local.crm.entities import CONTACT
from b24local.methods.crm_crud import register_family

RECORDS = register_family(CONTACT)
