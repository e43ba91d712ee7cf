-- b24local schema, version 7: deals, their pipelines, and companies (issue 15).

-- Pipelines (categories) besides each entity type's default one (0, built in). A deal pipeline's stages
-- are the default pipeline's with the prefix "C<id>:" (crm.model.rules.Pipelines) until b24local has a
-- status directory.
CREATE TABLE crm_category (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_type_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    sort INTEGER NOT NULL DEFAULT 500
);

CREATE TABLE crm_company (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT,
    company_type TEXT,
    address TEXT,
    address_2 TEXT,
    address_city TEXT,
    address_postal_code TEXT,
    address_region TEXT,
    address_province TEXT,
    address_country TEXT,
    address_country_code TEXT,
    address_loc_addr_id INTEGER,
    address_legal TEXT,
    reg_address TEXT,
    reg_address_2 TEXT,
    reg_address_city TEXT,
    reg_address_postal_code TEXT,
    reg_address_region TEXT,
    reg_address_province TEXT,
    reg_address_country TEXT,
    reg_address_country_code TEXT,
    reg_address_loc_addr_id INTEGER,
    banking_details TEXT,
    industry TEXT,
    employees TEXT,
    currency_id TEXT,
    revenue REAL,
    opened TEXT,
    comments TEXT,
    has_phone TEXT,
    has_email TEXT,
    has_imol TEXT,
    is_my_company TEXT,
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

CREATE INDEX crm_company_assigned_by_id ON crm_company (assigned_by_id);

CREATE TABLE crm_deal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT,
    type_id TEXT,
    category_id INTEGER NOT NULL DEFAULT 0,
    stage_id TEXT,
    stage_semantic_id TEXT,
    is_new TEXT,
    is_recurring TEXT,
    is_return_customer TEXT,
    is_repeated_approach TEXT,
    probability INTEGER,
    currency_id TEXT,
    opportunity REAL,
    is_manual_opportunity TEXT,
    tax_value REAL,
    company_id INTEGER,
    begindate TEXT,  -- YYYY-MM-DD
    closedate TEXT,  -- YYYY-MM-DD
    opened TEXT,
    closed TEXT,
    comments TEXT,
    assigned_by_id INTEGER,
    created_by_id INTEGER,
    modify_by_id INTEGER,
    moved_by_id INTEGER,
    date_create INTEGER,  -- Unix seconds
    date_modify INTEGER,  -- Unix seconds
    moved_time INTEGER,  -- Unix seconds
    source_id TEXT,
    source_description TEXT,
    lead_id INTEGER,
    additional_info TEXT,
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

CREATE INDEX crm_deal_assigned_by_id ON crm_deal (assigned_by_id);
CREATE INDEX crm_deal_category_stage ON crm_deal (category_id, stage_id);
CREATE INDEX crm_deal_company_id ON crm_deal (company_id);
CREATE INDEX crm_lead_company_id ON crm_lead (company_id);
