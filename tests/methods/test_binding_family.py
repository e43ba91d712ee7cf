"""The binding family is registered from the relations table (crm/entities.py BINDINGS)."""

from __future__ import annotations

import pytest

from b24local.methods.binding_schemas import plural
from b24local.methods.families import BINDING_SERVICES, load_all


@pytest.mark.parametrize(
    ("prefix", "owner_label"),
    [
        ("crm.lead.contact.", "Lead ID"),
        ("crm.deal.contact.", "Deal ID"),
        ("crm.contact.company.", "Contact ID"),
        ("crm.company.contact.", "Company ID"),
    ],
)
def test_one_family_per_relation_with_the_six_methods(prefix: str, owner_label: str) -> None:
    methods = load_all()
    assert sorted(BINDING_SERVICES) == ["company_contact", "contact_company", "deal_contact", "lead_contact"]
    family = {
        name[len(prefix) :]: (m.write, m.params[0].description if m.params else None)
        for name, m in methods.items()
        if name.startswith(prefix)
    }
    assert family == {
        "fields": (False, None),
        "items.get": (False, owner_label),
        "items.set": (True, owner_label),
        "items.delete": (True, owner_label),
        "add": (True, owner_label),
        "delete": (True, owner_label),
    }


def test_plural_of_entity_names() -> None:
    assert [plural(n) for n in ("contact", "Contact", "company", "deal", "survey")] == [
        "contacts",
        "Contacts",
        "companies",
        "deals",
        "surveys",
    ]
