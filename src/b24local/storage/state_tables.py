"""Which tables make up the test portal's state, in one place (contract test-portal.md T3, T4).

A snapshot copies exactly :data:`STATE_TABLES` and a restore or ``reset --all`` replaces exactly them;
:data:`NOT_STATE` lists the tables left alone on purpose. A new table goes into one of the two
(tests/storage/test_state_tables.py fails for a table in neither).
"""

from __future__ import annotations

#: (table, the name its row count has in a snapshot's listing), parents before the tables whose
#: foreign keys name them: a restore inserts in this order and deletes in the reverse one.
STATE_TABLES: tuple[tuple[str, str], ...] = (
    ("b_user", "users"),
    ("b_department", "departments"),
    ("b_user_department", "user_departments"),
    ("crm_role", "roles"),
    ("crm_role_permission", "role_permissions"),
    ("crm_role_holder", "role_holders"),
    ("webhook", "webhooks"),
    ("oauth_app", "apps"),
    ("oauth_code", "oauth_codes"),
    ("oauth_token", "oauth_tokens"),
    ("crm_category", "pipelines"),
    ("crm_company", "companies"),
    ("crm_contact", "contacts"),
    ("crm_lead", "leads"),
    ("crm_deal", "deals"),
    ("crm_multifield", "multifields"),
    ("crm_lead_contact", "lead_contact"),
    ("crm_deal_contact", "deal_contact"),
    ("crm_contact_company", "contact_company"),
)

#: The state tables whose rows are numbered by the database (an ``id`` that counts up): a restore
#: gives each the next id it had when the snapshot was saved, ``reset --all`` starts each at 1.
NUMBERED: tuple[str, ...] = (
    "b_user",
    "b_department",
    "crm_role",
    "webhook",
    "oauth_app",
    "oauth_code",
    "oauth_token",
    "crm_category",
    "crm_company",
    "crm_contact",
    "crm_lead",
    "crm_deal",
    "crm_multifield",
)

#: Tables that are no part of the state: the schema's own bookkeeping, the installation's settings
#: (the admin token's hash, the base URL), the portal's identity (member_id), the limits' running
#: state, the auth epoch (it must only move on, or a server's kept logins would look current), and
#: the snapshot catalogue itself.
NOT_STATE: tuple[str, ...] = (
    "schema_migrations",
    "setting",
    "oauth_portal",
    "limit_bucket",
    "limit_operating",
    "auth_epoch",
    "snapshot",
    "snapshot_sequence",
    # Fault rules are the test's setup, not its data: a restore or a reset keeps them (T9).
    "fault_state",
    "fault_rule",
    # The journal is what was sent, not the state: every reset and restore empties it instead (T3).
    "journal",
)
