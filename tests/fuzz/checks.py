"""What every fuzz answer must be, and the database invariants that must hold after every write.

An answer: status below 500; a body that parses as JSON (XML for ``.xml`` calls) and is an envelope
(``result``, or ``error`` with ``error_description``); no command of a batch that failed inside.
The database (contract lead-contact-bindings.md I1, I4): a lead with bindings has exactly one primary,
and no binding names a missing contact or lead. Checked with plain SQL on the backend's own driver.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any
from xml.etree import ElementTree

import psycopg

from tests.fuzz.encode import FuzzRequest

INVARIANTS = {
    "a lead with bindings has exactly one primary (I1)": (
        "SELECT lead_id FROM crm_lead_contact GROUP BY lead_id "
        "HAVING SUM(CASE WHEN is_primary = 'Y' THEN 1 ELSE 0 END) <> 1"
    ),
    "no binding to a missing contact (I4)": (
        "SELECT b.lead_id, b.contact_id FROM crm_lead_contact b "
        "LEFT JOIN crm_contact c ON c.id = b.contact_id WHERE c.id IS NULL"
    ),
    "no binding of a missing lead (I4)": (
        "SELECT b.lead_id, b.contact_id FROM crm_lead_contact b "
        "LEFT JOIN crm_lead l ON l.id = b.lead_id WHERE l.id IS NULL"
    ),
}


def answer_problems(request: FuzzRequest, status: int, body: bytes) -> list[str]:
    """What is wrong with one answer (empty: nothing)."""
    problems = []
    if status >= 500:
        problems.append(f"status {status}")
    if status == 204:  # No Content (OPTIONS): no body to be JSON
        return [*problems, "a 204 with a body"] if body else problems
    if request.fmt == "xml" and request.path.startswith("/rest"):
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError as error:
            return [*problems, f"not XML: {error}"]
        if root.tag != "response":
            problems.append(f"XML root <{root.tag}>, not <response>")
        errors = root.iterfind("./result/result_error/*/error")  # a batch's failed commands
        problems += ["batch command failed inside" for e in errors if e.text == "INTERNAL_SERVER_ERROR"]
        return problems
    try:
        parsed = json.loads(body)
    except ValueError:
        return [*problems, "not JSON"]
    if not _is_envelope(parsed):
        return [*problems, "JSON that is not an envelope"]
    problems.extend(_batch_problems(parsed))
    return problems


def _is_envelope(parsed: Any) -> bool:
    if not isinstance(parsed, dict):
        return False
    return "result" in parsed or ("error" in parsed and "error_description" in parsed)


def _batch_problems(parsed: dict[str, Any]) -> list[str]:
    """A command of a batch that failed with a fault answers 200 around it: look inside."""
    result = parsed.get("result")
    errors = result.get("result_error") if isinstance(result, dict) else None
    entries = errors.values() if isinstance(errors, dict) else errors if isinstance(errors, list) else []
    return [
        f"batch command failed inside: {entry}"
        for entry in entries
        if isinstance(entry, dict) and entry.get("error") == "INTERNAL_SERVER_ERROR"
    ]


class Invariants:
    """The database of the run, opened beside the server with the backend's own driver."""

    def __init__(self, url: str) -> None:
        self.conn: Any
        if url.startswith("sqlite:"):
            self.conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        else:
            self.conn = psycopg.connect(url, autocommit=True)

    def violations(self) -> list[str]:
        found = []
        for rule, sql in INVARIANTS.items():
            rows = self.conn.execute(sql).fetchmany(5)
            if rows:
                found.append(f"{rule}: {rows}")
        return found

    def close(self) -> None:
        self.conn.close()
