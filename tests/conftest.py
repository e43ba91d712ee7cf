"""Shared fixtures: b24local servers over real databases, in-process or live.

``server`` is one server for the whole session (tests create their own leads and contacts, so they do
not see each other's data); ``fresh_server`` is a new server on an empty database, for tests that need
exact ids (the seed examples) or a known empty state. Both are in-process (tests/inprocess.py): the
ASGI app built as ``b24local serve`` builds it, called through httpx without a socket.
``start_in_process`` makes one with ``serve``'s options (those of the socket layer refused). A test
that needs clients of its own (threads) takes them from ``new_client()``: an in-process server's URLs
name a host that never resolves, so any other client fails at once.

``live_server`` and ``fresh_live_server`` are the same on a real ``b24local serve`` process on
loopback (``start_server``, any options): for what only a live server has, its HTTP layer (uvicorn,
httptools, src/b24local/server.py: connections, head deadlines, 414), TLS, workers, crashes, its
printed ``output()``, and clients that need a URL (tests/clients/, where ``server`` and
``fresh_server`` are live ones, curl, Schemathesis). Both kinds have one interface (``Server``), and
tests/test_inprocess.py checks that they answer alike.

Tests that run b24local as a process (a live server, a CLI command) or a client library carry the
``live`` marker: a test using a live fixture, or in tests/clients/, gets it here; the others are marked
where they are written, and ``start_server`` refuses to run in a test without it. ``make test-fast``
runs ``-m "not live"``.

Every server runs once per backend: SQLite files, and PostgreSQL databases in a throwaway cluster
(tests/pgcluster.py). ``B24LOCAL_TEST_BACKENDS=sqlite,postgres`` chooses (default: both when the
PostgreSQL binaries are installed, and always both under CI, where a missing PostgreSQL fails).
Tests marked ``sqlite_only``, and the client-library tests (tests/clients/, which test the clients,
not the storage), run on SQLite only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn, Protocol, TypeVar

import pytest

from tests.pgcluster import Cluster, find_bindir
from tests.redisserver import RedisServer, find_redis_server
from tests.servers import (
    RUNNING,
    InProcessServer,
    LiveServer,
    Response,
    Server,
    free_port,
    start_in_process,
    start_server,
)

# What test modules import from here.
__all__ = [
    "BACKENDS",
    "InProcessServer",
    "LiveServer",
    "Response",
    "Server",
    "free_port",
    "missing_tool",
    "new_database",
    "start_in_process",
    "start_server",
    "wanted_backends",
]

BACKENDS = ("sqlite", "postgres")
#: Fixtures that give a live server: a test using one is marked ``live``.
LIVE_FIXTURES = ("live_server", "fresh_live_server")


def wanted_backends() -> list[str]:
    """The backends to run on: $B24LOCAL_TEST_BACKENDS, else both (SQLite alone locally when the
    PostgreSQL binaries are missing)."""
    named = os.environ.get("B24LOCAL_TEST_BACKENDS", "")
    if named.strip():
        chosen = [b.strip() for b in named.split(",") if b.strip()]
        unknown = sorted(set(chosen) - set(BACKENDS))
        if unknown:
            raise pytest.UsageError(
                f"B24LOCAL_TEST_BACKENDS: unknown backend(s) {unknown}; known: {BACKENDS}"
            )
        return chosen
    if find_bindir() is None and not os.environ.get("CI"):
        return ["sqlite"]
    return list(BACKENDS)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: runs on the SQLite backend only (reads its file)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        uses_live = any(name in LIVE_FIXTURES for name in getattr(item, "fixturenames", ()))
        if uses_live or "clients" in Path(str(item.path)).parts:  # client libraries: processes, sockets
            item.add_marker(pytest.mark.live)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[object]:
    RUNNING.append(item)  # for start_server's check, in the test and in the fixtures it sets up
    try:
        return (yield)
    finally:
        RUNNING.pop()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    backends = wanted_backends()
    in_clients = "clients" in Path(str(metafunc.definition.path)).parts
    if in_clients or metafunc.definition.get_closest_marker("sqlite_only") is not None:
        backends = [b for b in backends if b == "sqlite"] or ["sqlite"]
    metafunc.parametrize("backend", backends, indirect=True, scope="session")


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    """The storage backend under test ("sqlite" or "postgres"); parametrised by pytest_generate_tests."""
    return str(request.param)


class _Service(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


_ServiceT = TypeVar("_ServiceT", bound=_Service)


def missing_tool(reason: str) -> NoReturn:
    """A tool the tests need is not installed: skipped locally, a failure under CI (.ci/run installs it)."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def _running(service: _ServiceT) -> Iterator[_ServiceT]:
    try:
        service.start()
    except BaseException:
        service.stop()
        raise
    yield service
    service.stop()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """A throwaway PostgreSQL cluster for the session."""
    bindir = find_bindir()
    if bindir is None:
        missing_tool("PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql")
    yield from _running(Cluster(bindir))


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A throwaway Redis server for the session."""
    binary = find_redis_server()
    if binary is None:
        missing_tool("redis-server not found: apt-get install redis-server")
    yield from _running(RedisServer(binary))


def new_database(request: pytest.FixtureRequest, backend: str, folder: Path) -> Path | str:
    """An empty database on ``backend``: a file in ``folder`` (SQLite) or a new database's URL."""
    if backend == "sqlite":
        return folder / "b24local.db"
    cluster: Cluster = request.getfixturevalue("pg_cluster")
    return cluster.new_database()


_ServerT = TypeVar("_ServerT", bound=Server)


def _serving(made: _ServerT) -> Iterator[_ServerT]:
    yield made
    made.stop()


@pytest.fixture(scope="session")
def server(
    request: pytest.FixtureRequest, backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[InProcessServer]:
    yield from _serving(start_in_process(new_database(request, backend, tmp_path_factory.mktemp("shared"))))


@pytest.fixture
def fresh_server(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[InProcessServer]:
    yield from _serving(start_in_process(new_database(request, backend, tmp_path)))


@pytest.fixture(scope="session")
def live_server(
    request: pytest.FixtureRequest, backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    yield from _serving(start_server(new_database(request, backend, tmp_path_factory.mktemp("live"))))


@pytest.fixture
def fresh_live_server(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[LiveServer]:
    yield from _serving(start_server(new_database(request, backend, tmp_path)))
