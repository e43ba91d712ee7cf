-- b24local schema, version 5: a counter that every change of a user or a webhook moves on, so that a
-- server process may keep webhook logins in memory and know, with one read, when they may be stale.

CREATE TABLE auth_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n INTEGER NOT NULL
);

INSERT INTO auth_epoch (id, n) VALUES (1, 0);

CREATE TRIGGER b_user_insert_epoch AFTER INSERT ON b_user BEGIN UPDATE auth_epoch SET n = n + 1; END;
CREATE TRIGGER b_user_update_epoch AFTER UPDATE ON b_user BEGIN UPDATE auth_epoch SET n = n + 1; END;
CREATE TRIGGER b_user_delete_epoch AFTER DELETE ON b_user BEGIN UPDATE auth_epoch SET n = n + 1; END;
CREATE TRIGGER webhook_insert_epoch AFTER INSERT ON webhook BEGIN UPDATE auth_epoch SET n = n + 1; END;
CREATE TRIGGER webhook_update_epoch AFTER UPDATE ON webhook BEGIN UPDATE auth_epoch SET n = n + 1; END;
CREATE TRIGGER webhook_delete_epoch AFTER DELETE ON webhook BEGIN UPDATE auth_epoch SET n = n + 1; END;
