-- b24local schema, version 3: OAuth 2.0 applications, authorization codes and token pairs.
-- Secrets, codes and tokens are never stored: only their SHA-256, compared in constant time.

-- One row: the portal's member_id, random per database and stable for its lifetime.
CREATE TABLE oauth_portal (
    member_id TEXT NOT NULL
);

INSERT INTO oauth_portal (member_id) VALUES (lower(hex(randomblob(16))));

CREATE TABLE oauth_app (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    client_id TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    scope TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    active INTEGER NOT NULL DEFAULT 1
);

-- An authorization code: one exchange (used 0 → 1 in one compare-and-set UPDATE), until expires_at.
CREATE TABLE oauth_code (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id INTEGER NOT NULL REFERENCES oauth_app (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES b_user (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL UNIQUE,
    expires_at INTEGER NOT NULL,  -- Unix seconds
    used INTEGER NOT NULL DEFAULT 0
);

-- A token pair. The refresh token is used at most once (refreshed 0 → 1 in one compare-and-set
-- UPDATE); the access token of a refreshed pair stays valid until its own expiry.
CREATE TABLE oauth_token (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id INTEGER NOT NULL REFERENCES oauth_app (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES b_user (id) ON DELETE CASCADE,
    access_hash TEXT NOT NULL UNIQUE,
    access_expires_at INTEGER NOT NULL,  -- Unix seconds
    refresh_hash TEXT NOT NULL UNIQUE,
    refresh_expires_at INTEGER NOT NULL,  -- Unix seconds
    refreshed INTEGER NOT NULL DEFAULT 0
);
