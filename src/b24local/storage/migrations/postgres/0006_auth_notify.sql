-- b24local schema (PostgreSQL), version 6: every move of auth_epoch is also announced on the
-- channel b24local_auth, so that a server process that LISTENs there may keep webhook logins in
-- memory without reading the epoch in every read call (storage/postgres.py).

CREATE OR REPLACE FUNCTION b24local_auth_epoch_bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE auth_epoch SET n = n + 1; PERFORM pg_notify('b24local_auth', ''); RETURN NULL; END $$;
