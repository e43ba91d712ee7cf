-- b24local schema (PostgreSQL), version 13: fault and latency injection (test-portal.md T9). The rules
-- set through /_b24local/faults live here, so that every server process of the database applies the
-- same ones and counts their calls together (`times: 1` fails one call, whichever process takes it). A
-- process keeps the rules in memory for one generation, which every replacement of the list moves on;
-- each move is announced on the channel b24local_auth, which serving connections already LISTEN to, so
-- that they need not read the generation in every call (storage/postgres.py).

CREATE TABLE fault_state (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL
);

INSERT INTO fault_state (id, generation) VALUES (1, 0);

CREATE TABLE fault_rule (
    generation BIGINT NOT NULL,
    position BIGINT NOT NULL,
    rule TEXT NOT NULL,
    hits BIGINT NOT NULL DEFAULT 0,
    faulted BIGINT NOT NULL DEFAULT 0,
    remaining BIGINT,
    PRIMARY KEY (generation, position)
);

CREATE FUNCTION b24local_faults_announce() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('b24local_auth', 'faults'); RETURN NULL; END $$;

CREATE TRIGGER fault_state_announce AFTER UPDATE ON fault_state FOR EACH STATEMENT EXECUTE FUNCTION b24local_faults_announce();
