-- b24local schema (PostgreSQL), version 14: a journal page's text is now a JSON list of chunks, each the rows of the
-- calls that ended one after another (b24local/journal/page.py), read off the calls without a Python
-- step per call, where version 12 kept compressed rows made call by call. Pages of the old form cannot
-- be read as the new, and the journal is a record of recent calls only: they go.

DELETE FROM journal;
