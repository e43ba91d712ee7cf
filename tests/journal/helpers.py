"""What the journal tests share: a portal with an admin token, and reading its journal."""

from __future__ import annotations

from typing import Any

from tests.servers import Server

TOKEN = "journal-admin-token-7"
AUTH = {"authorization": f"Bearer {TOKEN}"}
#: Fields that vary from run to run (moments and durations).
VARYING = ("time", "duration_ms")


def journal(server: Server, **filters: Any) -> list[dict[str, Any]]:
    answer = server.raw("GET", "/_b24local/journal", headers=AUTH, params=filters)
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()["entries"]
    return entries


def shown(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries without what varies; checks that it is there and well formed first."""
    for entry in entries:
        assert entry["time"].endswith("Z") and len(entry["time"]) == len("2026-12-05T07:00:00.123Z")
        assert entry["duration_ms"] >= 0
    return [{k: v for k, v in entry.items() if k not in VARYING} for entry in entries]


def entry(
    entry_id: int,
    method: str,
    params: Any,
    *,
    path: str | None = None,
    status: int = 200,
    error: str | None = None,
    description: str | None = None,
    why: str | None = None,
    credential: dict[str, Any] | None = None,
    batch: int | None = None,
    command: str | None = None,
    http_method: str = "POST",
) -> dict[str, Any]:
    """An entry as the journal shows it, without time and duration (defaults: user 1's webhook 1)."""
    return {
        "id": entry_id,
        "batch": batch,
        "http_method": http_method,
        "path": path or f"/rest/1/***/{method}",
        "credential": {"user_id": 1, "webhook_id": 1} if credential is None else credential,
        "method": method,
        "command": command,
        "params": params,
        "status": status,
        "error": error,
        "error_description": description,
        "why": why,
    }
