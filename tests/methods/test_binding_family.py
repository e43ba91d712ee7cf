"""The binding family is registered from the relations table (crm/entities.py BINDINGS)."""

from __future__ import annotations

from b24local.methods.binding_schemas import plural
from b24local.methods.families import BINDING_SERVICES, load_all


def test_one_family_per_relation_with_the_six_methods() -> None:
    methods = load_all()
    assert sorted(BINDING_SERVICES) == ["lead_contact"]
    family = {
        name: (m.write, m.params[0].description if m.params else None)
        for name, m in methods.items()
        if name.startswith("crm.lead.contact.")
    }
    assert family == {
        "crm.lead.contact.fields": (False, None),
        "crm.lead.contact.items.get": (False, "Lead ID"),
        "crm.lead.contact.items.set": (True, "Lead ID"),
        "crm.lead.contact.items.delete": (True, "Lead ID"),
        "crm.lead.contact.add": (True, "Lead ID"),
        "crm.lead.contact.delete": (True, "Lead ID"),
    }


def test_plural_of_entity_names() -> None:
    assert [plural(n) for n in ("contact", "Contact", "company", "deal", "survey")] == [
        "contacts",
        "Contacts",
        "companies",
        "deals",
        "surveys",
    ]
