"""``b24local db reset`` (contract test-portal.md T3): every CRM record goes and ids start at 1 again;
users and credentials stay. Atomic under concurrent REST calls, on SQLite with ``--workers 2`` and on
PostgreSQL.
"""

from __future__ import annotations

import sys
import threading
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


@pytest.mark.live
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="--workers uses fork")
def test_reset_is_atomic_under_concurrent_calls(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Writers add leads bound to contacts while the database is reset five times: every answer is a
    portal's (200, or 400 for a contact a reset took away), and no binding outlives its records."""
    workers = ("--workers", "2") if backend == "sqlite" else ()
    server = start_server(new_database(request, backend, tmp_path), *workers)
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
        for _ in range(5):
            reset(capsys, server.db_url)
        stop.set()
        for thread in threads:
            thread.join()
        assert set(statuses) <= {200, 400}, statuses
        assert statuses.get(200, 0) > 0
        checks = Invariants(server.db_url)
        try:
            assert checks.violations() == []
        finally:
            checks.close()
    finally:
        stop.set()
        server.stop()
