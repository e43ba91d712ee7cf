-- b24local schema, version 9: contact ↔ company bindings (crm.contact.company.*, crm.company.contact.*).

-- One row per bound contact and company, seen from both sides (binding-family.md B3): the contact's
-- ordering and primary company (contact_*), and the company's ordering and primary contact
-- (company_*). At most one primary on each side (I1 per side).
CREATE TABLE crm_contact_company (
    contact_id BIGINT NOT NULL REFERENCES crm_contact (id) ON DELETE CASCADE,
    company_id BIGINT NOT NULL REFERENCES crm_company (id) ON DELETE CASCADE,
    contact_sort BIGINT NOT NULL DEFAULT 0,
    contact_role_id BIGINT NOT NULL DEFAULT 0,
    contact_primary TEXT COLLATE "C" NOT NULL DEFAULT 'N' CHECK (contact_primary IN ('Y', 'N')),
    company_sort BIGINT NOT NULL DEFAULT 0,
    company_role_id BIGINT NOT NULL DEFAULT 0,
    company_primary TEXT COLLATE "C" NOT NULL DEFAULT 'N' CHECK (company_primary IN ('Y', 'N')),
    PRIMARY KEY (contact_id, company_id)
);

CREATE UNIQUE INDEX crm_contact_company_contact_primary ON crm_contact_company (contact_id)
    WHERE contact_primary = 'Y';
CREATE UNIQUE INDEX crm_contact_company_company_primary ON crm_contact_company (company_id)
    WHERE company_primary = 'Y';
CREATE INDEX crm_contact_company_company_id ON crm_contact_company (company_id);
