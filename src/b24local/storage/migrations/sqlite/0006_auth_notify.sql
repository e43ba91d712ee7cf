-- b24local schema (SQLite), version 6: nothing to change. On PostgreSQL this version announces
-- every change of a user or a webhook to the server processes; SQLite has no such channel, and its
-- server processes read auth_epoch in every call. Kept so that both backends count the same versions.

SELECT 1;
