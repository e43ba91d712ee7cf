"""Issue 5: concurrent binding writes through ``serve --workers 4`` on one database, on each backend
(an SQLite file; a PostgreSQL database of the test cluster).

32 client threads send 1,000 random items.set / add / delete calls on the same 3 leads over 8
contacts. No call may answer anything but 200; afterwards every lead satisfies I1–I4 (read straight
from the database) and its bindings are what some serial order of the calls leaves (tests/workers.py).
"""

from __future__ import annotations

import random
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import new_database, start_server
from tests.workers import Sent, check_serial, db_state, hammer, random_write, send, thread_index, wait_workers

pytestmark = [
    pytest.mark.live,  # `serve --workers 4`: processes
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="--workers uses fork and /proc"),
]

CALLS = 1000
THREADS = 32


def test_concurrent_binding_writes_serialise(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path
) -> None:
    live = start_server(new_database(request, backend, tmp_path), "--workers", "4")
    try:
        assert len(wait_workers(live.process.pid, 4)) == 4
        leads = [live.call("crm.lead.add", {"fields": {"TITLE": f"Lead {i}"}}).result for i in range(3)]
        contacts = [live.call("crm.contact.add", {"fields": {"NAME": f"C{i}"}}).result for i in range(8)]
        made = [0]
        lock = threading.Lock()

        def work(client: httpx.Client, rng: random.Random) -> Sent | None:
            # The threads stop one after another (the last 2 calls of each in turn): the calls at the
            # end overlap less and less, so the final state pins down more of the serial order.
            with lock:
                if made[0] >= CALLS - 2 * (THREADS - 1 - thread_index()):
                    return None
                made[0] += 1
            return send(client, live.webhook_url, *random_write(rng, leads, contacts))

        calls = hammer(THREADS, work)
        assert len(calls) == CALLS
        unexpected = [(c.method, c.status, c.body) for c in calls if c.status != 200]
        assert not unexpected, unexpected[:5]
        results: dict[tuple[str, Any], int] = {}
        for c in calls:
            key = (c.method, c.body["result"])
            results[key] = results.get(key, 0) + 1
        print(f"{CALLS} calls from {THREADS} threads, answers by (method, result): {results}")  # pytest -rP
        # Each method both succeeded and, for add/delete, found nothing to do: the mix is real.
        assert results.get(("crm.lead.contact.items.set", True), 0) > 100, results
        assert results.get(("crm.lead.contact.add", True), 0) > 0, results
        assert results.get(("crm.lead.contact.delete", True), 0) > 0, results
        # I2 through the API: CONTACT_ID is the primary binding's contact.
        states_now = {}
        for lead in leads:
            got = live.call("crm.lead.contact.items.get", {"id": lead}).result
            states_now[lead] = tuple(
                sorted((b["CONTACT_ID"], b["SORT"], b["IS_PRIMARY"] == "Y") for b in got)
            )
            primary = [b["CONTACT_ID"] for b in got if b["IS_PRIMARY"] == "Y"]
            contact_id = live.call("crm.lead.get", {"id": lead}).result["CONTACT_ID"]
            assert contact_id == (str(primary[0]) if primary else None), (lead, got, contact_id)
    finally:
        live.stop()
    assert live.process.returncode == 0
    states = db_state(live.db_url, leads)
    assert states == states_now
    check_serial(calls, states)
