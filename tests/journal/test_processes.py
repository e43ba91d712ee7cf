"""The journal is one for the whole database (test-portal.md T7): with ``serve --workers 2`` on SQLite and
with two servers on one PostgreSQL database, a read through any process shows every process's calls,
each process's within its flush interval (hence the polling). And ``serve --log-format`` (T8)."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer, new_database, start_server
from tests.journal.helpers import AUTH, TOKEN

CALLS = 24


def poll(server: LiveServer, count: int, deadline: float = 10.0) -> list[dict[str, Any]]:
    """The journal once it holds ``count`` entries (the other processes flush within 0.25 s)."""
    end = time.monotonic() + deadline
    while True:
        entries: list[dict[str, Any]] = server.raw(
            "GET", "/_b24local/journal", headers=AUTH, params={"limit": 1000}
        ).json()["entries"]
        if len(entries) >= count or time.monotonic() > end:
            return entries
        time.sleep(0.05)


def titles(entries: list[dict[str, Any]]) -> list[str]:
    return sorted(e["params"]["fields"]["TITLE"] for e in entries)


def add_leads(urls: list[str]) -> None:
    """``CALLS`` adds, each on a new connection from one of four threads (so the workers share them)."""

    def run(part: int) -> None:
        for n in range(part, CALLS, 4):
            with httpx.Client(timeout=30) as client:
                answer = client.post(
                    urls[n % len(urls)] + "crm.lead.add", json={"fields": {"TITLE": f"t{n:02d}"}}
                )
                assert answer.status_code == 200

    threads = [threading.Thread(target=run, args=(part,)) for part in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.live
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="--workers uses fork")
def test_every_process_calls_show_in_one_read(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path
) -> None:
    db = new_database(request, backend, tmp_path)
    first = start_server(db, "--admin-token", TOKEN, *(("--workers", "2") if backend == "sqlite" else ()))
    servers = [first]
    try:
        if backend == "postgres":  # a second server on the same database, its own port and process
            servers.append(start_server(db, "--admin-token", TOKEN, webhook_path=first.webhook_path))
        add_leads([s.webhook_url for s in servers])
        expected = [f"t{n:02d}" for n in range(CALLS)]
        for server in servers:  # whichever process a read reaches
            entries = poll(server, CALLS)
            assert titles(entries) == expected
            assert sorted(e["id"] for e in entries) == list(range(1, CALLS + 1))
        assert first.raw("DELETE", "/_b24local/journal", headers=AUTH).status_code == 200
        assert poll(servers[-1], 1, deadline=0.3) == []
    finally:
        for server in servers:
            server.stop()


@pytest.mark.live
@pytest.mark.sqlite_only  # the lines are the same on both backends
@pytest.mark.parametrize("fmt", ["json", "text"])
def test_log_lines_hold_the_journal_fields_and_no_secret(tmp_path: Path, fmt: str) -> None:
    code = "ci-code-5c1f0e"
    server = start_server(tmp_path / "b24local.db", "--webhook-code", code, "--log-format", fmt)
    try:
        server.output(wait=0.3)  # the start: the webhook URL is printed there on purpose
        server.call("crm.lead.add", {"fields": {"TITLE": f"about {code}"}, "password": "pw-8812"})
        server.call("batch", {"cmd": {"a": "crm.lead.get?id=1&auth=tok-19ab44"}})
        server.raw("GET", f"/rest/1/{code}x/crm.lead.list")
        output = server.output(wait=1.0)
    finally:
        server.stop()
    for secret in (code, "pw-8812", "tok-19ab44"):
        assert secret not in output
    lines = output.splitlines()
    assert len(lines) == 4  # the add, the batch, its command, the refused call
    if fmt == "json":
        shown = [
            {k: v for k, v in json.loads(line).items() if k not in ("time", "duration_ms")} for line in lines
        ]
        assert shown[3] == {
            "http_method": "GET",
            "path": "/rest/1/***/crm.lead.list",
            "credential": None,
            "method": "crm.lead.list",
            "command": None,
            "status": 401,
            "error": "INVALID_CREDENTIALS",
            "error_description": "Invalid request credentials",
            "why": "no webhook of user 1 has this code",
        }
        assert [(e["method"], e["command"], e["status"]) for e in shown[:3]] == [
            ("crm.lead.add", None, 200),
            ("batch", None, 200),
            ("crm.lead.get", "a", 200),
        ]
    else:
        time_, rest = lines[3].split(" ", 1)
        assert time_.endswith("Z")
        duration = rest.split("duration_ms=")[1].split(" ")[0]
        assert rest == (
            f"401 GET /rest/1/***/crm.lead.list crm.lead.list duration_ms={duration} "
            'error="INVALID_CREDENTIALS" error_description="Invalid request credentials" '
            'why="no webhook of user 1 has this code"'
        )
        assert (
            lines[2]
            .split(" ", 1)[1]
            .startswith('200 POST /rest/1/***/batch crm.lead.get command="a" user=1 webhook=1 duration_ms=')
        )
