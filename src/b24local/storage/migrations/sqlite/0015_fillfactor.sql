-- b24local schema (SQLite), version 15: nothing to change. On PostgreSQL this version leaves room in
-- the CRM tables' pages for updates in place; SQLite has no such setting. Kept so that both backends
-- count the same versions.

SELECT 1;
