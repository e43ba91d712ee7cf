"""Issue 5: SIGKILL of a ``serve --workers 4`` server (parent and workers) while clients write.

Twenty rounds on one database, on each backend (an SQLite file; a PostgreSQL database of the test
cluster, which itself stays up: only the b24local processes are killed). In each, 8 client threads
send crm.lead.add and random binding writes on 3 leads for about half a second, then every server
process is killed with SIGKILL. After each kill: the database passes its integrity check (SQLite
``PRAGMA integrity_check``; PostgreSQL amcheck on every index and table, tests/workers.py), every
lead added with an answer is there, I1–I4 hold, and each lead's bindings are what some serial order of
the round's calls leaves, counting a call without an answer as applied or not (tests/workers.py). Then
the server starts again on the same database.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import new_database, start_server
from tests.workers import (
    Sent,
    State,
    check_serial,
    db_state,
    hammer,
    integrity,
    kill_all,
    lead_ids,
    random_write,
    send,
    wait_sessions_gone,
    wait_workers,
)

pytestmark = [
    pytest.mark.live,  # SIGKILLs of server processes
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="--workers uses fork and /proc"),
]

ROUNDS = 20
THREADS = 8


def test_sigkill_loses_no_answered_write(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path
) -> None:
    db = new_database(request, backend, tmp_path)
    live = start_server(db, "--workers", "4")
    db_url = live.db_url
    webhook_path = live.webhook_path
    leads = [live.call("crm.lead.add", {"fields": {"TITLE": f"Lead {i}"}}).result for i in range(3)]
    contacts = [live.call("crm.contact.add", {"fields": {"NAME": f"C{i}"}}).result for i in range(8)]
    before: dict[int, State] = {lead: () for lead in leads}
    added_total = answered_total = cut_total = 0
    rng = random.Random(5)
    clients = [httpx.Client(timeout=30) for _ in range(THREADS)]
    for round_no in range(ROUNDS):
        if round_no:
            live = start_server(db, "--workers", "4", webhook_path=webhook_path)
        assert len(wait_workers(live.process.pid, 4)) == 4
        stop = threading.Event()

        def work(client: httpx.Client, rng: random.Random, webhook: str = live.webhook_url) -> Sent | None:
            if rng.random() < 0.2:
                return send(client, webhook, 0, "crm.lead.add", {"fields": {"TITLE": "Crash"}})
            return send(client, webhook, *random_write(rng, leads, contacts))

        calls: list[Sent] = []
        runner = threading.Thread(target=_collect, args=(calls, work, stop, clients))
        runner.start()
        time.sleep(rng.uniform(0.3, 0.8))
        kill_all(live.process.pid)
        live.process.wait(timeout=10)
        stop.set()
        runner.join(timeout=30)
        live.client.close()

        answered = [c for c in calls if c.answered is not None]
        assert answered, (round_no, len(calls), {c.error for c in calls}, live.output(0.1))
        assert all(c.status == 200 for c in answered), [
            (c.method, c.status, c.body) for c in answered if not c.ok
        ][:5]
        assert wait_sessions_gone(db_url) == 0, f"round {round_no}: sessions of the killed server remain"
        assert integrity(db_url) == "ok", round_no
        new_leads = [c.body["result"] for c in answered if c.method == "crm.lead.add"]
        assert set(new_leads) <= lead_ids(db_url), f"round {round_no}: answered crm.lead.add lost"
        added_total += len(new_leads)
        answered_total += len(answered)
        cut_total += len(calls) - len(answered)
        states = db_state(db_url, leads)
        check_serial([c for c in calls if c.method != "crm.lead.add"], states, before)
        before = states
    for client in clients:
        client.close()
    # The figures docs/reliability.md quotes (pytest -rP shows them).
    print(f"{ROUNDS} kills: {answered_total} answered calls ({added_total} lead adds), {cut_total} cut")
    # The load was real and the kills did cut calls in flight.
    assert added_total > 0 and answered_total > 20 * ROUNDS and cut_total > 0, (answered_total, cut_total)


def _collect(out: list[Sent], work: Any, stop: threading.Event, clients: list[httpx.Client]) -> None:
    out.extend(hammer(THREADS, work, stop, clients))
