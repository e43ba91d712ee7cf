-- b24local schema (PostgreSQL), version 5: a counter that every change of a user or a webhook moves
-- on, so that a server process may keep webhook logins in memory and know, with one read, when they
-- may be stale.

CREATE TABLE auth_epoch (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    n BIGINT NOT NULL
);

INSERT INTO auth_epoch (id, n) VALUES (1, 0);

CREATE FUNCTION b24local_auth_epoch_bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE auth_epoch SET n = n + 1; RETURN NULL; END $$;

CREATE TRIGGER b_user_epoch AFTER INSERT OR UPDATE OR DELETE ON b_user FOR EACH STATEMENT EXECUTE FUNCTION b24local_auth_epoch_bump();

CREATE TRIGGER webhook_epoch AFTER INSERT OR UPDATE OR DELETE ON webhook FOR EACH STATEMENT EXECUTE FUNCTION b24local_auth_epoch_bump();
