"""Write docs/compatibility.md from the compat records of a client test run.

Usage: ``python tools/compat.py build/compat.json docs/compatibility.md`` (``make compat`` runs the
client tests with ``B24LOCAL_COMPAT_OUT=build/compat.json`` and then this).

The input is what tests/clients/conftest.py writes: the b24local version, the date of the run, and one
record per (test, compat marker) with its client, feature and outcome. The output is a short
description of each client (``CLIENTS`` below, kept by hand from the test modules and the libraries'
own code) and the client × feature matrix. The same input always gives the same output.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The features, in the matrix's column order (the same names as FEATURES in tests/clients/conftest.py).
FEATURES: dict[str, str] = {
    "items.set/get": "`crm.lead.contact.items.set`, then `crm.lead.contact.items.get` returns the bindings "
    "exactly as set (order, `SORT`, `ROLE_ID`, `IS_PRIMARY`).",
    "add/delete": "`crm.lead.add` / `crm.contact.add` return the new id; after `*.delete` the record is "
    "gone.",
    "list all pages": "`crm.lead.list` over more than one page of 50 (`start`/`next`, or the client's own "
    "paging): every row exactly once.",
    "batch": "`batch` with several commands (directly or through the client's batch helper): per-command "
    "results, references to earlier results, per-command errors.",
    "error surfaced": "a failing call (invalid id, unknown method) reaches the caller as an error that "
    "carries the HTTP status and/or the portal's `error` / `error_description`.",
    "deals": "`crm.deal.add` (one call each, or through the client's batch helper) returns the new ids; "
    "`crm.deal.list` over more than one page of 50 (the client's list-all helper) returns every deal "
    "exactly once, with the fields as added.",
    "companies": "the same for `crm.company.add` and `crm.company.list`.",
    "deal bindings": "`crm.deal.contact.items.set` / `crm.deal.contact.add` / `crm.deal.contact.delete`, "
    "then `crm.deal.contact.items.get` returns the bindings exactly (order, `SORT`, `IS_PRIMARY`) and the "
    "deal's `CONTACT_ID` is the primary contact.",
    "company bindings": "`crm.company.contact.*` and `crm.contact.company.*` write one relation: bindings "
    "written from either side are read back from both, each side with its own `SORT` and primary.",
}


@dataclass(frozen=True)
class Client:
    what: str  # what it is and where it comes from
    language: str
    scheme: str  # http / https as the client can use it against b24local
    request: str  # HTTP method and URL form
    body: str  # how parameters travel


#: Every client that has compat-marked tests, by the name used in its markers; the matrix lists them in
#: this order. Filled from the test modules in tests/clients/ and from reading each library's code.
CLIENTS: dict[str, Client] = {
    "fast-bitrix24": Client(
        what="fast-bitrix24 (PyPI): throttled sync/async wrapper over aiohttp; `call()` always goes "
        "through `batch`, `get_all()` fetches pages 2… in `batch` commands",
        language="Python",
        scheme="http or https (the webhook's)",
        request="POST `{webhook}{method}`",
        body="JSON",
    ),
    "b24pysdk": Client(
        what="b24pysdk (PyPI): Bitrix24's official Python SDK, over requests",
        language="Python",
        scheme="https only (URLs are built as `https://{domain}/rest/…`): tested against `serve --tls`",
        request="POST `https://{domain}/rest/{user}/{code}/{method}.json`",
        body="JSON",
    ),
    "bitrix24-rest": Client(
        what="bitrix24-rest (PyPI): small asyncio wrapper over aiohttp, fetches all list pages itself",
        language="Python",
        scheme="http or https (the webhook's)",
        request="GET `{webhook}{method}.json`",
        body="query string with PHP bracket keys, built by hand (values unescaped, then the whole string "
        'percent-encoded by aiohttp); any non-200 answer becomes `BitrixError("HTTP error: <status>")`',
    ),
    "pybitrix24": Client(
        what="pybitrix24 (PyPI): dependency-free client over urllib; an HTTP error status does not raise, "
        "the decoded error body is returned; no paging helper",
        language="Python",
        scheme="https only (URLs are built as `https://{hostname}/rest/…`): tested against `serve --tls`",
        request="POST `https://{hostname}/rest/{user}/{code}/{method}.json` (GET without parameters)",
        body="JSON",
    ),
    "bitrix24-api-client": Client(
        what="bitrix24-api-client (PyPI): sync (requests) and async (httpx) clients; `call_method` returns "
        "only `result` (of an object, its first key: a batch's `result_error` is dropped); no batch helper "
        "beyond chunking raw `batch` calls",
        language="Python",
        scheme="http or https (the base URL's)",
        request="POST `{base}/rest/{user}/{code}/{method}`",
        body="JSON",
    ),
    "@bitrix24/b24jssdk": Client(
        what="@bitrix24/b24jssdk (npm): Bitrix24's official JavaScript/TypeScript SDK, `B24Hook` over "
        "axios, run under Node.js",
        language="JavaScript (Node.js)",
        scheme="https only (`B24Hook.fromWebhookUrl` refuses http): tested against `serve --tls`",
        request="POST `{webhook}{method}?bx24_request_id=…` (no `.json`)",
        body="JSON",
    ),
    "PHP (CRest-style)": Client(
        what="a PHP script written for these tests (tests/clients/php/crest_like.php, no CRest code) that "
        "sends what Bitrix24's CRest class sends, through PHP's curl extension; errors come back as the "
        "decoded `error` array, whatever the HTTP status",
        language="PHP",
        scheme="http or https (the webhook's); tested over http",
        request="POST `{webhook}{method}.json`",
        body="form-urlencoded (`http_build_query`, PHP bracket keys); batch commands encoded twice",
    ),
    "curl": Client(
        what="the curl command line tool, as a shell script uses it",
        language="shell",
        scheme="http",
        request="POST and GET `{webhook}{method}` (also `.json`)",
        body="JSON, form-urlencoded with PHP bracket keys, query string",
    ),
}

OUTCOMES = ("passed", "failed", "xfailed", "xpassed", "skipped")
SYMBOL = {"passed": "✅", "failed": "❌", "xfailed": "⚠️", "skipped": "—", "untested": "—"}
MATRIX_START = "<!-- compat-matrix:start -->"
MATRIX_END = "<!-- compat-matrix:end -->"


class InputError(Exception):
    pass


def load(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: {error}") from error
    if not isinstance(document, dict) or document.get("schema") != 1:
        raise InputError(f"{path}: not a compat record file (schema 1)")
    if document.get("features") != list(FEATURES):
        raise InputError(
            f"{path}: features {document.get('features')} differ from tools/compat.py's {list(FEATURES)}"
        )
    for record in document.get("records", []):
        if record.get("feature") not in FEATURES or record.get("outcome") not in OUTCOMES:
            raise InputError(f"{path}: bad record {record}")
    return document


def _test_name(nodeid: str) -> str:
    """``tests/clients/test_x.py::test_y`` → ``test_x.py::test_y``."""
    return nodeid.rsplit("/", 1)[-1]


def _one_line(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


@dataclass
class Cell:
    state: str  # passed / failed / xfailed / skipped / untested
    notes: list[str]


def cell(records: list[dict[str, str]]) -> Cell:
    """The cell of one client and feature: the worst outcome of its tests, with notes.

    failed beats xfailed beats passed (an xpassed test counts as passed) beats skipped.
    """
    by_outcome: dict[str, list[dict[str, str]]] = {outcome: [] for outcome in OUTCOMES}
    for record in records:
        by_outcome[record["outcome"]].append(record)
    notes: list[str] = []
    if by_outcome["failed"]:
        for r in by_outcome["failed"]:
            notes.append(f"failed: `{_test_name(r['nodeid'])}`: {_one_line(r['reason'])}".rstrip(": "))
        return Cell("failed", notes)
    for r in by_outcome["xpassed"]:
        reason = f" ({_one_line(r['reason'])})" if r["reason"] else ""
        notes.append(f"`{_test_name(r['nodeid'])}` is marked xfail{reason} but passed: the marker is stale")
    if by_outcome["xfailed"]:
        for r in by_outcome["xfailed"]:
            reason = _one_line(r["reason"]) or "no reason given"
            notes.append(f"expected failure: {reason} (`{_test_name(r['nodeid'])}`)")
        return Cell("xfailed", notes)
    if by_outcome["passed"] or by_outcome["xpassed"]:
        return Cell("passed", notes)
    if by_outcome["skipped"]:
        reasons = sorted({_one_line(r["reason"]) or "no reason given" for r in by_outcome["skipped"]})
        return Cell("skipped", [f"not run: {reason}" for reason in reasons])
    return Cell("untested", [])


def client_order(names: set[str]) -> list[str]:
    known = [name for name in CLIENTS if name in names]
    return known + sorted(names - set(CLIENTS), key=str.casefold)


def render(document: dict[str, Any]) -> str:
    records: list[dict[str, str]] = document["records"]
    clients = client_order({r["client"] for r in records})
    footnotes: dict[str, int] = {}

    def refs(notes: list[str]) -> str:
        numbers = [footnotes.setdefault(note, len(footnotes) + 1) for note in notes]
        return "".join(f"[^{n}]" for n in sorted(set(numbers)))

    lines = [
        "# Client compatibility",
        "",
        f"Generated by `make compat` on {document['date']} against b24local {document['b24local_version']}"
        " from the compat-marked tests in `tests/clients/`; do not edit by hand.",
        "",
        "Each client below talks to a live b24local on loopback the way an integration would talk to a "
        "portal: libraries through their public API only, with exact expected results.",
        "",
        "## Clients",
        "",
        "| client | what it is | language | scheme | requests | parameters |",
        "|---|---|---|---|---|---|",
    ]
    for name in clients:
        described = CLIENTS.get(name)
        if described is None:
            print(f"compat.py: client {name!r} has no entry in CLIENTS (tools/compat.py)", file=sys.stderr)
            lines.append(f"| {name} | *not described yet: add it to CLIENTS in tools/compat.py* | | | | |")
            continue
        fields = (described.what, described.language, described.scheme, described.request, described.body)
        lines.append(f"| {name} | " + " | ".join(_one_line(f) for f in fields) + " |")
    lines += ["", "## Features", ""]
    lines += [f"- **{feature}**: {text}" for feature, text in FEATURES.items()]
    lines += [
        "",
        "## Matrix",
        "",
        "✅ passed · ❌ failed · ⚠️ expected failure (xfail; the reason is in the notes) · — not tested "
        "(a note says why when the tests exist but did not run)",
        "",
        MATRIX_START,
        "| client | " + " | ".join(FEATURES) + " |",
        "|---|" + "---|" * len(FEATURES),
    ]
    for name in clients:
        row = []
        for feature in FEATURES:
            current = cell([r for r in records if r["client"] == name and r["feature"] == feature])
            row.append(SYMBOL[current.state] + refs(current.notes))
        lines.append(f"| {name} | " + " | ".join(row) + " |")
    lines.append(MATRIX_END)
    if not clients:
        lines += ["", "*No compat-marked tests ran.*"]
    counts = {outcome: sum(r["outcome"] == outcome for r in records) for outcome in OUTCOMES}
    lines += [
        "",
        f"{len(records)} marked tests: " + ", ".join(f"{counts[o]} {o}" for o in OUTCOMES) + ".",
    ]
    if footnotes:
        lines.append("")
        lines += [f"[^{number}]: {note}" for note, number in footnotes.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write docs/compatibility.md from compat records.")
    parser.add_argument(
        "records", type=Path, help="the JSON written by the client tests (B24LOCAL_COMPAT_OUT)"
    )
    parser.add_argument("output", type=Path, help="the Markdown file to write")
    args = parser.parse_args(argv)
    try:
        document = load(args.records)
    except InputError as error:
        print(f"compat.py: {error}", file=sys.stderr)
        return 2
    text = render(document)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"compat.py: wrote {args.output} ({len(document['records'])} records)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
