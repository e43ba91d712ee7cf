-- b24local schema (PostgreSQL), version 4: the portal limits' state (contract protocol.md T1–T2),
-- shared by every server process on the database when limits are on and no --redis is given.

-- One row: the request-intensity leaky bucket (T1): its level after the last admitted request, and when.
CREATE TABLE limit_bucket (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    level DOUBLE PRECISION NOT NULL,
    at DOUBLE PRECISION NOT NULL  -- Unix seconds
);

INSERT INTO limit_bucket (id, level, at) VALUES (1, 0, 0);

-- Operating time (T2): one row per credential, method and one-minute basket; a basket counts until
-- first_at + 600 s.
CREATE TABLE limit_operating (
    credential_kind TEXT COLLATE "C" NOT NULL,
    credential_id BIGINT NOT NULL,
    method TEXT COLLATE "C" NOT NULL,
    minute BIGINT NOT NULL,
    first_at DOUBLE PRECISION NOT NULL,
    seconds DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (credential_kind, credential_id, method, minute)
);

CREATE INDEX limit_operating_first_at ON limit_operating (first_at);
