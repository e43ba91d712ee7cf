-- b24local schema, version 8: deal ↔ contact bindings (crm.deal.contact.*).

-- A contact is bound to a deal at most once; at most one binding of a deal is primary (I1).
CREATE TABLE crm_deal_contact (
    deal_id BIGINT NOT NULL REFERENCES crm_deal (id) ON DELETE CASCADE,
    contact_id BIGINT NOT NULL REFERENCES crm_contact (id) ON DELETE CASCADE,
    sort BIGINT NOT NULL,
    role_id BIGINT NOT NULL DEFAULT 0,
    is_primary TEXT COLLATE "C" NOT NULL CHECK (is_primary IN ('Y', 'N')),
    PRIMARY KEY (deal_id, contact_id)
);

CREATE UNIQUE INDEX crm_deal_contact_one_primary ON crm_deal_contact (deal_id) WHERE is_primary = 'Y';
CREATE INDEX crm_deal_contact_contact_id ON crm_deal_contact (contact_id);
