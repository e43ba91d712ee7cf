-- b24local schema, version 12: the request journal (contract test-portal.md T7), one for the whole
-- database so that every server process's calls are read together. Each process buffers its entries and
-- appends them in batches (b24local/journal/), one row per batch: a page of entries, compressed, so
-- that an entry costs the database next to nothing. The table is trimmed to `serve --journal-size` entries.
-- AUTOINCREMENT: ids never come back, not even after a reset clears the table, so that a reader's
-- `since=<id>` keeps its meaning.

CREATE TABLE journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- the id of the page's newest entry
    entry_count INTEGER NOT NULL,  -- its entries, whose ids are id - entry_count + 1 … id
    at REAL NOT NULL,  -- Unix seconds: the latest moment of the page's entries
    entries BLOB NOT NULL  -- zlib-compressed JSON: [[batch's place in the page, Unix seconds, user id, entry], ...]
);
