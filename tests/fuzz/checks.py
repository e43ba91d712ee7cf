"""What every fuzz answer must be, and the database invariants that must hold after every write.

An answer: status below 500; a body that parses as JSON (XML for ``.xml`` calls) and is an envelope
(``result``, or ``error`` with ``error_description``); no command of a batch that failed inside.
The database (lead-contact-bindings.md I1, I4 for every binding pair and side, binding-family.md B3,
B4): tests/invariants.py, plain SQL on the backend's own driver.
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree

from tests.fuzz.encode import FuzzRequest
from tests.invariants import INVARIANTS, Invariants

__all__ = ["INVARIANTS", "Invariants", "answer_problems"]


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
