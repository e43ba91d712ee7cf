-- b24local schema, version 10: settings of the installation, one text value per name. `serve` keeps
-- the base URL it listens on here (`base_url`), so that `webhook create` prints URLs of the running
-- server (its scheme, host and port) instead of assuming http://127.0.0.1:8000.

CREATE TABLE setting (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
