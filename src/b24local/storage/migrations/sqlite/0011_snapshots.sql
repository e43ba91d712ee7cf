-- b24local schema, version 11: the catalogue of snapshots (contract test-portal.md T4). A snapshot's
-- rows are copies of the state tables (storage/state_tables.py) in tables of the same file named
-- snapshot_<id>_<table>; this catalogue names them, and keeps what each numbered table's next id was.

CREATE TABLE snapshot (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    taken_at REAL NOT NULL,  -- Unix seconds
    counts TEXT NOT NULL  -- JSON: rows per state table
);

-- The id each numbered table would have given next when the snapshot was saved.
CREATE TABLE snapshot_sequence (
    snapshot_id INTEGER NOT NULL REFERENCES snapshot (id) ON DELETE CASCADE,
    table_name TEXT NOT NULL,
    next_id INTEGER NOT NULL,
    PRIMARY KEY (snapshot_id, table_name)
) WITHOUT ROWID;
