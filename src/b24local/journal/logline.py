"""``serve --log-format text|json`` (test-portal.md T8): one line on stdout per journal entry (a call, and
each command of a batch), with the entry's fields except the parameters. Secrets are never in an entry,
so never in a line. The id is not there either: an entry gets it when it reaches the database.
"""

from __future__ import annotations

from typing import Any

import orjson

from b24local.clock import iso_utc
from b24local.journal.entry import Row, as_object

FORMATS = ("text", "json")


def lines(rows: list[Row], fmt: str) -> str:
    """The lines of a call's rows, each ending in a newline."""
    shown = [{"time": iso_utc(at, millis=True), **as_object(head, fields)} for at, head, fields in rows]
    for entry in shown:
        del entry["params"]
    if fmt == "json":
        return "".join(orjson.dumps(entry).decode() + "\n" for entry in shown)
    return "".join(_text(entry) + "\n" for entry in shown)


def _text(entry: dict[str, Any]) -> str:
    """``TIME STATUS HTTP-METHOD PATH METHOD key=value…``; texts as JSON strings (quoted, escaped)."""
    parts = [entry["time"], str(entry["status"]), entry["http_method"], entry["path"], entry["method"] or "-"]
    if entry["command"] is not None:
        parts.append(f"command={_quoted(entry['command'])}")
    for key, value in (entry["credential"] or {}).items():
        parts.append(f"{key.removesuffix('_id')}={value}")
    parts.append(f"duration_ms={entry['duration_ms']}")
    for key in ("error", "error_description", "why"):
        if entry[key] is not None:
            parts.append(f"{key}={_quoted(entry[key])}")
    return " ".join(parts)


def _quoted(text: str) -> str:
    return orjson.dumps(text).decode()
