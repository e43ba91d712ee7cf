"""The method families b24local serves: the one list a new family is added to.

Importing a family registers its methods; the registry itself imports none of them, so that a family
may import the registry without a circle.
"""

from __future__ import annotations

from b24local.methods import batch, crm_contact, crm_lead, crm_lead_contact, system
from b24local.methods.registry import REGISTRY, Method

FAMILIES = (system, batch, crm_lead, crm_contact, crm_lead_contact)


def load_all() -> dict[str, Method]:
    """Every registered method by lower-case name (the families above registered on import)."""
    return REGISTRY
