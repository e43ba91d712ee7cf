"""Issue 5: several server processes are one portal for the limits (contract protocol.md T1–T2).

Two ``serve`` processes on one database (as on two machines), or one ``serve --workers 2``, share one
request bucket and one operating-time account: in the database, or in Redis with ``--redis URL``.
Time is a fake clock file both servers read, so nothing drains while a test runs.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.auth.test_limits import OPERATION_TIME_LIMIT, QUERY_LIMIT_EXCEEDED, T0, ClockFile
from tests.conftest import (
    LiveServer,
    free_port,
    missing_tool,
    new_database,
    start_server,
    wanted_backends,
)
from tests.redisserver import RedisServer, find_redis_server

pytestmark = pytest.mark.live  # several server processes

#: Where the state is shared: each database backend under test, and Redis (beside an SQLite file).
PLACES = [*wanted_backends(), "redis"]


class Portal:
    """The arguments for servers of one portal: its database, its clock, and its state's place."""

    def __init__(self, request: pytest.FixtureRequest, place: str, folder: Path) -> None:
        self.database = new_database(request, "sqlite" if place == "redis" else place, folder)
        self.clock = ClockFile(folder / "clock", float(T0))
        self.extra = ["--limits", "standard", "--fake-clock", str(self.clock.path)]
        if place == "redis":
            redis: RedisServer = request.getfixturevalue("redis_server")
            self.extra += ["--redis", redis.url]
        self.servers: list[LiveServer] = []
        self.webhook_path: str | None = None

    def start(self, *extra: str) -> LiveServer:
        live = start_server(self.database, *self.extra, *extra, webhook_path=self.webhook_path)
        self.webhook_path = live.webhook_path
        self.servers.append(live)
        return live

    def stop(self) -> None:
        for live in self.servers:
            live.stop()


@pytest.fixture(params=PLACES)
def portal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Portal]:
    made = Portal(request, str(request.param), tmp_path)
    yield made
    made.stop()


def test_two_servers_share_one_bucket(portal: Portal) -> None:
    first, second = portal.start(), portal.start()
    # 25 requests on each server, alternating: the portal's 50 places are used up, on both servers.
    got = [(first if i % 2 else second).call("crm.lead.fields").status for i in range(50)]
    assert got == [200] * 50
    for live in (first, second):
        refused = live.call("crm.lead.fields")
        assert (refused.status, refused.body) == (503, QUERY_LIMIT_EXCEEDED)
    portal.clock.advance(1)  # 2 places a second, for the portal, not per server
    assert [first.call("crm.lead.fields").status, second.call("crm.lead.fields").status] == [200, 200]
    assert [first.call("crm.lead.fields").status, second.call("crm.lead.fields").status] == [503, 503]


def test_operating_time_is_one_account(portal: Portal) -> None:
    first = portal.start("--operating-limit", "0")
    second = portal.start("--operating-limit", "0")
    ran = first.call("crm.lead.fields")
    assert ran.status == 200
    blocked = second.call("crm.lead.fields")
    assert (blocked.status, blocked.body) == (429, OPERATION_TIME_LIMIT)
    # The other server sees what this one ran, and shows it in its own time object.
    other = second.call("crm.contact.fields")
    assert other.status == 200
    assert first.call("crm.contact.fields").status == 429
    portal.clock.advance(600)
    again = second.call("crm.lead.fields")
    assert again.status == 200
    assert again.body["time"]["operating_reset_at"] == T0 + 1200


def test_workers_share_one_bucket(portal: Portal) -> None:
    """``serve --workers 2``: 8 clients on new connections (spread over both workers by the kernel)."""
    live = portal.start("--workers", "2")
    statuses: list[int] = []
    lock = threading.Lock()

    def client() -> None:
        for _ in range(10):
            with httpx.Client(timeout=30) as fresh:
                status = fresh.post(live.webhook_url + "crm.lead.fields", json={}).status_code
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] * 50 + [503] * 30


def test_portals_on_one_redis_are_apart(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Two databases (two portals) with one Redis: each has its own bucket (keys carry the member_id)."""
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one = Portal(request, "redis", tmp_path / "one")
    two = Portal(request, "redis", tmp_path / "two")
    try:
        a, b = one.start(), two.start()
        assert [a.call("crm.lead.fields").status for _ in range(51)] == [200] * 50 + [503]
        assert [b.call("crm.lead.fields").status for _ in range(51)] == [200] * 50 + [503]
    finally:
        one.stop()
        two.stop()


def test_redis_gone_answers_503_and_back_again(tmp_path: Path) -> None:
    """Redis stops while serving: requests answer 503 QUERY_LIMIT_EXCEEDED (never 500) and the log
    says why; when Redis is back (empty), requests are admitted again."""
    binary = find_redis_server()
    if binary is None:
        missing_tool("redis-server not found: apt-get install redis-server")
    redis = RedisServer(binary)
    redis.start()
    clock = ClockFile(tmp_path / "clock", float(T0))
    live = start_server(
        tmp_path / "b24local.db",
        "--limits",
        "standard",
        "--fake-clock",
        str(clock.path),
        "--redis",
        redis.url,
    )
    try:
        assert live.call("crm.lead.fields").status == 200
        assert redis.process is not None
        redis.process.terminate()
        redis.process.wait(timeout=10)
        refused = live.call("crm.lead.fields")
        assert refused.status == 503
        assert refused.body["error"] == "QUERY_LIMIT_EXCEEDED"
        assert "redis unavailable (ConnectionError)" in live.output(1.0)
        redis.start()  # same port, empty
        assert live.call("crm.lead.fields").status == 200
    finally:
        live.stop()
        redis.stop()


def test_serve_redis_options(tmp_path: Path) -> None:
    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        db = f"sqlite:///{tmp_path / 'b24local.db'}"
        return subprocess.run(
            [sys.executable, "-m", "b24local", "serve", "--port", "1", "--database", db, *extra],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    off = run("--redis", "redis://127.0.0.1:1/0")
    assert (off.returncode, off.stdout, off.stderr) == (
        2,
        "",
        "b24local: error: --redis needs --limits standard or enterprise\n",
    )
    port = free_port()  # nothing listens there
    gone = run("--limits", "standard", "--redis", f"redis://user:secret@127.0.0.1:{port}/0")
    assert (gone.returncode, gone.stdout, gone.stderr) == (
        2,
        "",
        f"b24local: error: --redis: cannot reach redis://user:***@127.0.0.1:{port}/0: ConnectionError\n",
    )
