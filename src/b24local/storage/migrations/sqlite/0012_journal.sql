-- b24local schema, version 12: the request journal (contract test-portal.md T7), one for the whole
-- database so that every server process's calls are read together. Each process buffers its entries and
-- appends them in batches (b24local/journal/); the table is trimmed to `serve --journal-size`.
-- AUTOINCREMENT: ids never come back, not even after a reset clears the table, so that a reader's
-- `since=<id>` keeps its meaning.

CREATE TABLE journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,  -- Unix seconds, when the call came in
    method TEXT NOT NULL,  -- the REST method, lower case ('' when the call named none)
    status INTEGER NOT NULL,  -- the HTTP status (a batch command: its own)
    user_id INTEGER,  -- the credential's user, NULL when none was established
    batch_id INTEGER,  -- a batch command: the id of its batch's entry
    entry TEXT NOT NULL  -- the rest of the entry, as JSON
);

-- No index beside the id: a read scans at most --journal-size rows, and every index would cost each
-- call's append.
