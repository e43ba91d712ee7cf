"""Reset of the test portal's CRM data (contract test-portal.md T3): every record, binding and multifield
of every entity goes, and every journal entry (T7); the records' ids start at 1 again; users,
departments, roles, webhooks, apps and pipelines stay.
"""

from __future__ import annotations

from b24local.crm.entities import BINDINGS, ENTITIES
from b24local.storage.base import CrmStore


def reset_crm(tx: CrmStore) -> None:
    """In the caller's one write transaction: concurrent calls see the state before or after, not a mix."""
    tx.crm_reset(list(ENTITIES.values()), list(BINDINGS.values()))
