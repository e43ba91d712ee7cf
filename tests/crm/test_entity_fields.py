"""Titles of the declared fields that a portal spells differently from the pattern they share."""

from __future__ import annotations

from b24local.crm.entity_fields import COMPANY_FIELDS, CONTACT_FIELDS, LEAD_FIELDS


def test_location_address_titles_follow_the_portal() -> None:
    """crm-company-fields.md, crm-contact-fields.md, crm-lead-fields.md (the example responses)."""
    company = {field.name: field.describe() for field in COMPANY_FIELDS}
    assert company["ADDRESS_LOC_ADDR_ID"]["title"] == "Location Address ID"
    legal = company["REG_ADDRESS_LOC_ADDR_ID"]
    assert (legal["type"], legal["isReadOnly"], legal["title"]) == (
        "integer",
        False,
        "Legal Address Location ID",
    )
    for fields in (CONTACT_FIELDS, LEAD_FIELDS):
        assert {f.name: f.title for f in fields}["ADDRESS_LOC_ADDR_ID"] == "Location Address ID"
