-- b24local schema, version 13: fault and latency injection (test-portal.md T9). The rules set through
-- /_b24local/faults live here, so that every server process of the database applies the same ones and
-- counts their calls together (`times: 1` fails one call, whichever process takes it). A process keeps
-- the rules in memory for one generation, which every replacement of the list moves on; the counts are
-- kept per rule of that generation.

CREATE TABLE fault_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
);

INSERT INTO fault_state (id, generation) VALUES (1, 0);

CREATE TABLE fault_rule (
    generation INTEGER NOT NULL,
    position INTEGER NOT NULL,
    rule TEXT NOT NULL,
    hits INTEGER NOT NULL DEFAULT 0,
    faulted INTEGER NOT NULL DEFAULT 0,
    remaining INTEGER,
    PRIMARY KEY (generation, position)
);
