"""The request journal (contract test-portal.md T7) and the log line per call (T8).

entry.py turns a finished call into journal entries (secrets redacted, the webhook code masked);
journal.py buffers them per process and appends them to the database's ``journal`` table in batches
from a thread of its own, so that a read on any server process sees every process's calls.
"""
