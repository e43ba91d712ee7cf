-- b24local schema (PostgreSQL), version 15: the CRM's record tables leave a fifth of each page free
-- (fillfactor 80), so that an UPDATE which changes no indexed column writes the new row version on
-- the same page and touches no index (a HOT update). A restore that sets back every lead of 100,000
-- changed ones took 1.04 s, 0.84 s with this (docs/performance.md, "Issue 16: reset and restore");
-- `crm.*.update` calls gain the same way. The tables grow by about a quarter. Pages written before
-- this version keep no room until they are rewritten.

ALTER TABLE crm_lead SET (fillfactor = 80);
ALTER TABLE crm_deal SET (fillfactor = 80);
ALTER TABLE crm_contact SET (fillfactor = 80);
ALTER TABLE crm_company SET (fillfactor = 80);
