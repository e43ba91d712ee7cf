-- b24local schema, version 1: users, webhooks, leads, contacts, multifields, lead ↔ contact bindings.

CREATE TABLE b_user (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    last_name TEXT NOT NULL DEFAULT '',
    is_admin INTEGER NOT NULL DEFAULT 0,
    active INTEGER NOT NULL DEFAULT 1,
    -- 0: the user may not read any CRM entity (until CRM roles exist, the only non-default level).
    crm_access INTEGER NOT NULL DEFAULT 1
);

-- The code itself is never stored: only its SHA-256, compared in constant time.
CREATE TABLE webhook (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES b_user (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    scope TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1
);

CREATE INDEX webhook_user_id ON webhook (user_id);

CREATE TABLE crm_lead (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT,
    honorific TEXT,
    name TEXT,
    second_name TEXT,
    last_name TEXT,
    birthdate TEXT,  -- YYYY-MM-DD
    company_title TEXT,
    source_id TEXT,
    source_description TEXT,
    status_id TEXT,
    status_description TEXT,
    status_semantic_id TEXT,
    post TEXT,
    address TEXT,
    address_2 TEXT,
    address_city TEXT,
    address_postal_code TEXT,
    address_region TEXT,
    address_province TEXT,
    address_country TEXT,
    address_country_code TEXT,
    address_loc_addr_id INTEGER,
    currency_id TEXT,
    opportunity REAL,
    is_manual_opportunity TEXT,
    opened TEXT,
    comments TEXT,
    has_phone TEXT,
    has_email TEXT,
    has_imol TEXT,
    assigned_by_id INTEGER,
    created_by_id INTEGER,
    modify_by_id INTEGER,
    moved_by_id INTEGER,
    date_create INTEGER,  -- Unix seconds
    date_modify INTEGER,  -- Unix seconds
    moved_time INTEGER,  -- Unix seconds
    company_id INTEGER,
    is_return_customer TEXT,
    date_closed INTEGER,  -- Unix seconds
    originator_id TEXT,
    origin_id TEXT,
    utm_source TEXT,
    utm_medium TEXT,
    utm_campaign TEXT,
    utm_content TEXT,
    utm_term TEXT,
    last_activity_time INTEGER,  -- Unix seconds
    last_activity_by INTEGER
);

CREATE INDEX crm_lead_assigned_by_id ON crm_lead (assigned_by_id);
CREATE INDEX crm_lead_date_create ON crm_lead (date_create);
CREATE INDEX crm_lead_status_id ON crm_lead (status_id);

CREATE TABLE crm_contact (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    honorific TEXT,
    name TEXT,
    second_name TEXT,
    last_name TEXT,
    birthdate TEXT,  -- YYYY-MM-DD
    type_id TEXT,
    source_id TEXT,
    source_description TEXT,
    post TEXT,
    address TEXT,
    address_2 TEXT,
    address_city TEXT,
    address_postal_code TEXT,
    address_region TEXT,
    address_province TEXT,
    address_country TEXT,
    address_country_code TEXT,
    address_loc_addr_id INTEGER,
    comments TEXT,
    opened TEXT,
    export TEXT,
    has_phone TEXT,
    has_email TEXT,
    has_imol TEXT,
    assigned_by_id INTEGER,
    created_by_id INTEGER,
    modify_by_id INTEGER,
    date_create INTEGER,  -- Unix seconds
    date_modify INTEGER,  -- Unix seconds
    lead_id INTEGER,
    originator_id TEXT,
    origin_id TEXT,
    origin_version TEXT,
    utm_source TEXT,
    utm_medium TEXT,
    utm_campaign TEXT,
    utm_content TEXT,
    utm_term TEXT,
    last_activity_time INTEGER,  -- Unix seconds
    last_activity_by INTEGER
);

CREATE INDEX crm_contact_assigned_by_id ON crm_contact (assigned_by_id);

CREATE TABLE crm_multifield (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_type TEXT NOT NULL,
    element_id INTEGER NOT NULL,
    type_id TEXT NOT NULL,
    value_type TEXT NOT NULL,
    value TEXT NOT NULL
);

CREATE INDEX crm_multifield_element ON crm_multifield (entity_type, element_id);
CREATE INDEX crm_multifield_value ON crm_multifield (type_id, value);

-- A contact is bound to a lead at most once; at most one binding of a lead is primary (I1).
CREATE TABLE crm_lead_contact (
    lead_id INTEGER NOT NULL REFERENCES crm_lead (id) ON DELETE CASCADE,
    contact_id INTEGER NOT NULL REFERENCES crm_contact (id) ON DELETE CASCADE,
    sort INTEGER NOT NULL,
    role_id INTEGER NOT NULL DEFAULT 0,
    is_primary TEXT NOT NULL CHECK (is_primary IN ('Y', 'N')),
    PRIMARY KEY (lead_id, contact_id)
) WITHOUT ROWID;

CREATE UNIQUE INDEX crm_lead_contact_one_primary ON crm_lead_contact (lead_id) WHERE is_primary = 'Y';
CREATE INDEX crm_lead_contact_contact_id ON crm_lead_contact (contact_id);
