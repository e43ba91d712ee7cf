"""Portal limits (contract protocol.md T1, T2, V2, B5) with a fake clock, never with sleeps.

Unit tests drive :mod:`b24local.auth.limits` with a clock the test holds; server tests start servers
with ``--limits standard --fake-clock FILE`` (in-process; live for the client libraries over TLS) and
move the server's time by rewriting the file.
"""

from __future__ import annotations

import gc
import math
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import pytest
from b24pysdk import BitrixWebhook, Client
from fast_bitrix24 import Bitrix

from b24local.auth.context import AuthContext
from b24local.auth.limit_state import DatabaseState, RedisState
from b24local.auth.limits import Limits
from b24local.storage.base import Storage
from b24local.storage.open import open_storage
from tests.conftest import (
    BACKENDS,
    LiveServer,
    Server,
    new_database,
    start_in_process,
    start_server,
    wanted_backends,
)
from tests.expected import TIME_KEYS
from tests.redisserver import RedisServer

QUERY_LIMIT_EXCEEDED = {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}
OPERATION_TIME_LIMIT = {
    "error": "OPERATION_TIME_LIMIT",
    "error_description": "Method is blocked due to operation time limit.",
}
T0 = 1_800_000_000  # a whole minute (T0 % 60 == 0): basket boundaries are easy to reason about


class FakeClock:
    def __init__(self, start: float = T0) -> None:
        self.now = float(start)

    def __call__(self) -> float:
        return self.now


def webhook(credential_id: int = 1) -> AuthContext:
    return AuthContext(
        user_id=1,
        is_admin=True,
        scopes=frozenset({"crm"}),
        credential_kind="webhook",
        credential_id=credential_id,
    )


LIST = "crm.item.list"
GET = "crm.item.get"


#: Where the unit tests keep the limits' state: memory, each database backend under test, and Redis.
STATES = ["memory", *wanted_backends(), "redis"]


class MakeLimits(Protocol):
    def __call__(self, profile: str, *, now: FakeClock, operating_limit: float | None = None) -> Limits: ...


@pytest.fixture(params=STATES)
def make_limits(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeLimits]:
    """Limits on a fresh state of the kind under test (a new database, or a new Redis key prefix)."""
    kind = str(request.param)
    opened: list[Storage] = []

    def make(profile: str, *, now: FakeClock, operating_limit: float | None = None) -> Limits:
        limits = Limits(profile, now=now, operating_limit=operating_limit)
        if kind in BACKENDS:
            database = new_database(request, kind, tmp_path)
            storage = open_storage(f"sqlite:///{database}" if isinstance(database, Path) else database)
            opened.append(storage)
            limits.state = DatabaseState(storage)
        elif kind == "redis":
            redis: RedisServer = request.getfixturevalue("redis_server")
            limits.state = RedisState(redis.url, uuid.uuid4().hex)
        return limits

    yield make
    for storage in opened:
        storage.close()


# Unit: the leaky bucket ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("profile", "capacity", "drain"), [("standard", 50, 2), ("enterprise", 250, 5)])
def test_bucket_admits_exactly_capacity_then_drains_at_its_rate(
    make_limits: MakeLimits, profile: str, capacity: int, drain: int
) -> None:
    clock = FakeClock()
    limits = make_limits(profile, now=clock)

    def admitted(tries: int) -> int:
        count = 0
        for _ in range(tries):
            try:
                limits.admit()
            except Exception as error:
                assert getattr(error, "status", None) == 503
                continue
            count += 1
        return count

    assert admitted(capacity + 10) == capacity
    assert admitted(5) == 0  # refused requests add nothing…
    clock.now += 1
    assert admitted(10) == drain  # …so one second frees exactly Y places
    clock.now += 0.5 / drain
    assert admitted(3) == 0  # half a request's worth of draining is not a place
    clock.now += 0.5 / drain
    assert admitted(3) == 1
    clock.now += 3600
    assert admitted(capacity + 1) == capacity


def test_limits_off_never_refuse_but_still_measure() -> None:
    clock = FakeClock()
    limits = Limits("off", now=clock)
    assert limits.bucket is None and limits.operating_limit is None
    for _ in range(1000):
        limits.admit()
        limits.check(webhook(), LIST)
        limits.record(webhook(), LIST, 20.0)
    assert limits.usage(limits.key(webhook(), LIST)) == (20_000.0, T0 + 600)


# Unit: operating time -----------------------------------------------------------------------------------
def test_operating_limit_follows_the_documentation_example(make_limits: MakeLimits) -> None:
    """limits.md: limit 480 s, 20 s calls; 25 calls: 500 s, blocked; the oldest basket (40 s) goes: 460 s."""
    clock = FakeClock()
    limits = make_limits("standard", now=clock)
    key = limits.key(webhook(), LIST)
    for minute in range(10):  # two 20-second calls a minute for ten minutes
        for second in (0, 30):
            clock.now = T0 + minute * 60 + second
            limits.check(webhook(), LIST)
            limits.record(webhook(), LIST, 20.0)
    assert limits.usage(key) == (400.0, T0 + 600)
    for second in (31, 32, 33, 34, 35):  # five more in the last minute: the last one ends above 480
        clock.now = T0 + 540 + second
        limits.check(webhook(), LIST)
        limits.record(webhook(), LIST, 20.0)
    assert limits.usage(key) == (500.0, T0 + 600)
    clock.now = T0 + 599.5
    with pytest.raises(Exception) as caught:
        limits.check(webhook(), LIST)
    assert (caught.value.status, caught.value.body()) == (429, OPERATION_TIME_LIMIT)  # type: ignore[attr-defined]
    # Other methods and other webhooks are not blocked.
    limits.check(webhook(), GET)
    limits.check(webhook(2), LIST)
    clock.now = T0 + 600  # operating_reset_at: the first basket (40 s) stops counting
    assert limits.usage(key) == (460.0, T0 + 660)
    limits.check(webhook(), LIST)


def test_operating_reset_at_counts_from_the_first_call_of_a_basket(make_limits: MakeLimits) -> None:
    clock = FakeClock(T0 + 20.25)
    limits = make_limits("standard", now=clock)
    key = limits.key(webhook(), LIST)
    limits.record(webhook(), LIST, 1.5)
    clock.now = T0 + 50
    limits.record(webhook(), LIST, 1.0)  # same minute: same basket
    clock.now = T0 + 65
    limits.record(webhook(), LIST, 2.0)  # next minute: a new basket from T0 + 65
    assert limits.usage(key) == (4.5, T0 + 621)  # rounded up: the reset has happened by then
    clock.now = T0 + 620.25
    assert limits.usage(key) == (2.0, T0 + 665)
    clock.now = T0 + 665
    assert limits.usage(key) == (0.0, T0 + 665 + 600)


def test_operating_limit_option_overrides_the_profile(make_limits: MakeLimits) -> None:
    clock = FakeClock()
    limits = make_limits("enterprise", operating_limit=1.0, now=clock)
    limits.check(webhook(), LIST)
    limits.record(webhook(), LIST, 1.0)
    limits.check(webhook(), LIST)  # exactly at the limit: not above it
    limits.record(webhook(), LIST, 0.001)
    with pytest.raises(Exception, match="OPERATION_TIME_LIMIT"):
        limits.check(webhook(), LIST)
    with pytest.raises(ValueError):
        Limits("premium")


# Live servers -------------------------------------------------------------------------------------------
class ClockFile:
    def __init__(self, path: Path, start: float) -> None:
        self.path = path
        self.set(start)

    def set(self, value: float) -> None:
        self.now = value
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(repr(value), encoding="ascii")
        tmp.replace(self.path)

    def advance(self, seconds: float) -> None:
        self.set(self.now + seconds)


def limited(
    tmp_path: Path, *extra: str, start: float | None = None, serve: Callable[..., Server] = start_in_process
) -> tuple[Server, ClockFile]:
    clock = ClockFile(tmp_path / "clock", float(T0 if start is None else start))
    live = serve(tmp_path / "b24local.db", "--limits", "standard", "--fake-clock", str(clock.path), *extra)
    return live, clock


@pytest.fixture
def standard(tmp_path: Path) -> Iterator[tuple[LiveServer, ClockFile]]:
    live, clock = limited(tmp_path)
    yield live, clock
    live.stop()


def statuses(live: LiveServer, count: int, method: str = "crm.lead.fields") -> list[int]:
    return [live.call(method).status for _ in range(count)]


def test_bucket_live_exact_count_body_and_recovery(standard: tuple[LiveServer, ClockFile]) -> None:
    live, clock = standard
    assert statuses(live, 50) == [200] * 50
    raw = live.client.post(live.webhook_url + "crm.lead.fields", json={})
    assert raw.status_code == 503
    assert raw.headers["content-type"] == "application/json; charset=utf-8"
    assert raw.json() == QUERY_LIMIT_EXCEEDED
    # Any request to /rest/ counts, whatever its outcome; a refused one adds nothing.
    assert live.call("no.such.method").status == 503
    assert live.raw("GET", "/rest/1/wrong-code/crm.lead.fields").status_code == 503
    clock.advance(1)
    assert statuses(live, 3) == [200, 200, 503]
    clock.advance(0.25)  # half a place
    assert statuses(live, 1) == [503]
    clock.advance(0.25)
    assert statuses(live, 2) == [200, 503]
    clock.advance(25)  # empty again
    assert statuses(live, 51) == [200] * 50 + [503]


def test_bucket_live_enterprise_and_xml(tmp_path: Path) -> None:
    clock = ClockFile(tmp_path / "clock", float(T0))
    live = start_in_process(
        tmp_path / "b24local.db", "--limits", "enterprise", "--fake-clock", str(clock.path)
    )
    try:
        assert statuses(live, 251) == [200] * 250 + [503]
        refused = live.client.get(live.webhook_url + "crm.lead.fields.xml")
        assert refused.status_code == 503
        assert refused.headers["content-type"] == "text/xml; charset=utf-8"
        assert "<error>QUERY_LIMIT_EXCEEDED</error>" in refused.text
        assert "<error_description>Too many requests</error_description>" in refused.text
        clock.advance(1)
        assert statuses(live, 6) == [200] * 5 + [503]
    finally:
        live.stop()


def test_bucket_live_batch_counts_once(standard: tuple[LiveServer, ClockFile]) -> None:
    live, clock = standard
    assert statuses(live, 49) == [200] * 49
    commands = {f"c{i}": "crm.lead.fields" for i in range(50)}
    reply = live.call("batch", {"cmd": commands})
    assert reply.status == 200
    assert set(reply.result["result"]) == set(commands) and reply.result["result_error"] == []
    assert live.call("batch", {"cmd": commands}).body == QUERY_LIMIT_EXCEEDED
    assert live.call("crm.lead.fields").status == 503
    clock.advance(0.5)
    assert live.call("batch", {"cmd": commands}).status == 200
    assert live.call("crm.lead.fields").status == 503


def test_operating_limit_live(tmp_path: Path) -> None:
    """``--operating-limit 0``: any call that ran makes the next call of that method wait for its reset."""
    live, clock = limited(tmp_path, "--operating-limit", "0")
    try:
        first = live.call("crm.lead.fields")
        assert first.status == 200
        timing = first.body["time"]
        assert set(timing) == TIME_KEYS
        assert timing["operating"] > 0
        assert timing["operating"] == pytest.approx(timing["processing"])
        assert timing["operating_reset_at"] == T0 + 600
        assert isinstance(timing["operating_reset_at"], int)

        blocked = live.call("crm.lead.fields")
        assert (blocked.status, blocked.body) == (429, OPERATION_TIME_LIMIT)
        # Per method and per webhook: other methods and another webhook of the same user's kind still run.
        other = live.call("crm.contact.fields")
        assert other.status == 200 and other.body["time"]["operating"] == pytest.approx(
            other.body["time"]["processing"]
        )
        second_hook = live.add_user("Second", admin=True)
        assert live.call("crm.lead.fields", webhook=second_hook).status == 200
        # batch is not accounted itself; each command counts and is checked for its own method (B5).
        reply = live.call("batch", {"cmd": {"lead": "crm.lead.fields", "list": "crm.lead.list"}})
        assert reply.status == 200
        assert reply.result["result_error"] == {"lead": OPERATION_TIME_LIMIT}
        assert set(reply.result["result"]) == {"list"}
        command_time = reply.result["result_time"]["list"]
        assert command_time["operating"] == pytest.approx(command_time["processing"])
        assert command_time["operating_reset_at"] == T0 + 600
        assert live.call("crm.lead.list").status == 429  # the batch command counted for crm.lead.list

        clock.advance(599)
        assert live.call("crm.lead.fields").status == 429
        clock.advance(1)  # operating_reset_at
        again = live.call("crm.lead.fields")
        assert again.status == 200
        assert again.body["time"]["operating"] == pytest.approx(again.body["time"]["processing"])
        assert again.body["time"]["operating_reset_at"] == T0 + 1200
    finally:
        live.stop()


def test_operating_accumulates_with_limits_off(server: LiveServer) -> None:
    """With limits off nothing is refused, but ``time.operating`` is real: this method, this webhook."""
    hook = server.add_user("Operating", admin=True)
    before = math.ceil(time.time())
    first = server.call("crm.lead.fields", webhook=hook).body["time"]
    second = server.call("crm.lead.fields", webhook=hook).body["time"]
    other = server.call("crm.contact.fields", webhook=hook).body["time"]
    after = math.ceil(time.time())
    assert first["operating"] == pytest.approx(first["processing"])
    assert second["operating"] == pytest.approx(first["processing"] + second["processing"])
    assert other["operating"] == pytest.approx(other["processing"])
    assert before + 600 <= first["operating_reset_at"] <= after + 600
    assert second["operating_reset_at"] == first["operating_reset_at"]


@pytest.mark.live  # the command line
def test_serve_refuses_bad_limit_options(tmp_path: Path) -> None:
    import subprocess
    import sys

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "b24local", "serve", "--database", f"sqlite:///{tmp_path}/x.db", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    bad_profile = run("--limits", "premium")
    assert bad_profile.returncode == 2 and "invalid choice: 'premium'" in bad_profile.stderr
    assert run("--operating-limit", "5").stderr.strip() == (
        "b24local: error: --operating-limit needs --limits standard or enterprise"
    )
    missing = run("--limits", "standard", "--fake-clock", str(tmp_path / "missing"))
    assert missing.returncode == 2
    assert "must hold a Unix time in seconds" in missing.stderr
    assert "Traceback" not in missing.stderr


# Real clients retrying through 503 ----------------------------------------------------------------------
@pytest.fixture
def tls_limited(tmp_path: Path) -> Iterator[tuple[LiveServer, ClockFile]]:
    live, clock = limited(tmp_path, "--tls", serve=start_server)
    yield live, clock
    gc.collect()  # see tests/clients/test_b24pysdk.py: idle TLS connections held by SDK objects
    live.stop()


def fill_bucket(live: LiveServer) -> None:
    while live.call("crm.lead.fields").status == 200:
        pass


def drain_later(clock: ClockFile, delay: float) -> threading.Thread:
    """Moves the server's clock on by a minute (the bucket empties) ``delay`` real seconds from now."""
    thread = threading.Timer(delay, clock.advance, args=(60,))
    thread.start()
    return thread


DELAY = 0.6  # both clients send their first attempt long before this, and it is refused


@pytest.mark.live  # a client library over HTTPS
def test_fast_bitrix24_retries_through_503(tls_limited: tuple[LiveServer, ClockFile]) -> None:
    live, clock = tls_limited
    fill_bucket(live)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        bitrix = Bitrix(live.webhook_url, verbose=False, ssl=False)
    started = time.monotonic()
    timer = drain_later(clock, DELAY)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            answer = bitrix.call("crm.lead.fields", raw=True)
    finally:
        timer.join()
    assert time.monotonic() - started >= DELAY  # it could only succeed after the clock moved: it retried
    assert "TITLE" in answer["result"]


@pytest.mark.live  # a client library over HTTPS
def test_b24pysdk_retries_through_503(
    tls_limited: tuple[LiveServer, ClockFile], monkeypatch: pytest.MonkeyPatch
) -> None:
    live, clock = tls_limited
    assert live.ca_file is not None
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", live.ca_file)
    url = urlsplit(live.webhook_url)
    client = Client(BitrixWebhook(domain=url.netloc, webhook_token=url.path.split("/rest/", 1)[1]))
    fill_bucket(live)
    started = time.monotonic()
    timer = drain_later(clock, DELAY)
    try:
        fields = client.crm.lead.fields().result  # the SDK's own retry: 3 attempts, 1 s then 2 s apart
    finally:
        timer.join()
    assert time.monotonic() - started >= DELAY
    assert "TITLE" in fields
