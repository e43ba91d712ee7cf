"""crm.lead.*: leads (contract crud.md; CONTACT_ID/CONTACT_IDS per lead-contact-bindings.md L1–L4)."""

from __future__ import annotations

from b24local.crm.entities import LEAD
from b24local.methods.crm_crud import register_family

RECORDS = register_family(LEAD)
