"""``b24local db reset`` (contract test-portal.md T3): every CRM record goes and ids start at 1 again;
users and credentials stay. Atomic under concurrent REST calls, on SQLite with ``--workers 2`` and on
PostgreSQL.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from b24local.cli import main
from tests.conftest import LiveServer, new_database, start_server
from tests.invariants import Invariants


def reset(capsys: pytest.CaptureFixture[str], url: str) -> None:
    assert main(["db", "reset", "--database", url]) == 0
    assert (
        capsys.readouterr().out == "Removed every CRM record, binding and multifield; ids start at 1 again.\n"
    )


def test_reset_removes_crm_data_and_restarts_ids(
    fresh_server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server = fresh_server
    contact = server.call("crm.contact.add", {"fields": {"NAME": "Ann", "PHONE": [{"VALUE": "+1"}]}}).result
    company = server.call("crm.company.add", {"fields": {"TITLE": "ACME", "CONTACT_ID": [contact]}}).result
    server.call("crm.lead.add", {"fields": {"TITLE": "L", "CONTACT_ID": contact, "COMPANY_ID": company}})
    server.call("crm.deal.add", {"fields": {"TITLE": "D", "CONTACT_IDS": [contact]}})
    webhook = server.add_user("Second user")
    assert [
        server.call(f"crm.{e}.add", {"fields": {"TITLE": "x", "NAME": "x"}}).result for e in ("lead",)
    ] == [2]

    reset(capsys, server.db_url)

    for entity in ("lead", "contact", "deal", "company"):
        body = server.call(f"crm.{entity}.list", {}).body
        assert (body["result"], body["total"]) == ([], 0), entity
    # ids start at 1 again, multifields too; both users' webhooks still work
    assert (
        server.call("crm.contact.add", {"fields": {"NAME": "Bob", "EMAIL": [{"VALUE": "b@x"}]}}).result == 1
    )
    assert server.call("crm.contact.get", {"id": 1}).result["EMAIL"][0]["ID"] == "1"
    assert server.call("crm.company.add", {"fields": {"TITLE": "New"}}, webhook=webhook).result == 1
    assert server.call("crm.lead.contact.items.get", {"id": 1}).status == 400  # no lead 1 any more
    checks = Invariants(server.db_url)
    try:
        assert checks.violations() == []
    finally:
        checks.close()


def concurrent_writes(server: LiveServer, act: Callable[[], None]) -> dict[int, int]:
    """Four writers add contacts and leads bound to them while ``act`` runs: the statuses they got."""
    stop = threading.Event()
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def write() -> None:
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                contact = client.post(server.webhook_url + "crm.contact.add", json={"fields": {"NAME": "c"}})
                status = contact.status_code
                if status == 200:
                    fields = {"TITLE": "l", "CONTACT_IDS": [contact.json()["result"]]}
                    status = client.post(
                        server.webhook_url + "crm.lead.add", json={"fields": fields}
                    ).status_code
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=write) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
        # The writers are under way before ``act`` starts (on a loaded machine they may take a while).
        deadline = time.monotonic() + 30
        while sum(statuses.values()) < 8 and time.monotonic() < deadline:
            time.sleep(0.01)
        act()
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    return statuses


def five_times(*argv: str) -> Callable[[], None]:
    """Run the command line ``argv`` five times, each successfully."""

    def run() -> None:
        for _ in range(5):
            assert main(list(argv)) == 0

    return run


def assert_atomic(server: LiveServer, act: Callable[[], None]) -> None:
    """Every answer the writers got while ``act`` ran is a portal's (200, or 400 for a contact that
    went), some succeeded, and no binding outlives its records."""
    statuses = concurrent_writes(server, act)
    assert set(statuses) <= {200, 400}, statuses
    assert statuses.get(200, 0) > 0, statuses
    assert_consistent(server)


def assert_consistent(server: LiveServer) -> None:
    checks = Invariants(server.db_url)
    try:
        assert checks.violations() == []
    finally:
        checks.close()


def concurrent_server(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, *extra: str
) -> LiveServer:
    """A live server: with two workers on SQLite (two processes writing one file), one on PostgreSQL."""
    workers = ("--workers", "2") if backend == "sqlite" else ()
    return start_server(new_database(request, backend, tmp_path), *workers, *extra)


@pytest.mark.live
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="--workers uses fork")
def test_reset_is_atomic_under_concurrent_calls(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Writers add leads bound to contacts while the database is reset five times: every answer is a
    portal's (200, or 400 for a contact a reset took away), and no binding outlives its records."""
    server = concurrent_server(request, backend, tmp_path)
    try:
        assert_atomic(server, five_times("db", "reset", "--database", server.db_url))
    finally:
        server.stop()


@pytest.mark.live
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="--workers uses fork")
def test_restore_is_atomic_under_concurrent_calls(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A snapshot of 3 contacts and 2 leads restored five times while writers add more: every answer
    a portal's, no binding outlives its records, and the last restore leaves exactly the snapshot."""
    server = concurrent_server(request, backend, tmp_path)
    url = server.db_url
    try:
        for name in ("a", "b", "c"):
            server.call("crm.contact.add", {"fields": {"NAME": name}})
        server.call("crm.lead.add", {"fields": {"TITLE": "x", "CONTACT_IDS": [1, 2]}})
        server.call("crm.lead.add", {"fields": {"TITLE": "y", "CONTACT_IDS": [3]}})
        assert main(["snapshot", "save", "--database", server.db_url, "base"]) == 0
        assert capsys.readouterr().out == (
            "Saved snapshot base: users 1, webhooks 1, contacts 3, leads 2, lead_contact 3.\n"
        )

        assert_atomic(server, five_times("db", "reset", "--database", url, "--to", "base"))
        assert main(["snapshot", "restore", "--database", server.db_url, "base"]) == 0
        assert capsys.readouterr().out == "Restored snapshot base.\n" * 6
        assert [c["ID"] for c in server.call("crm.contact.list", {}).result] == ["1", "2", "3"]
        assert server.call("crm.lead.contact.items.get", {"id": 1}).result[1]["CONTACT_ID"] == 2
        assert server.call("crm.contact.add", {"fields": {"NAME": "next"}}).result == 4
    finally:
        server.stop()


@pytest.mark.live
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="--workers uses fork")
def test_reset_all_is_atomic_under_concurrent_calls(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With the webhook code known (``--webhook-code``), writers go on through five resets of
    everything: user 1 and the webhook are made again in the same transaction, so no call finds them
    missing (no 401)."""
    server = concurrent_server(request, backend, tmp_path, "--webhook-code", "stable-ci-code")
    url = server.db_url
    try:
        reset_all = ("db", "reset", "--all", "--database", url, "--webhook-code", "stable-ci-code")
        assert_atomic(server, five_times(*reset_all))
        lines = capsys.readouterr().out.splitlines()
        assert lines[-2:] == [
            "Removed everything; created user 1 (administrator) and a webhook with scope crm:",
            f"{server.base_url}/rest/1/stable-ci-code/",
        ]
        assert len(lines) == 10
    finally:
        server.stop()
