"""Shared fixtures: real b24local servers on loopback over real databases.

``server`` is one live server for the whole session (tests create their own leads and contacts, so
they do not see each other's data); ``fresh_server`` is a new server on an empty database, for tests
that need exact ids (the seed examples) or a known empty state.

Both run once per backend: SQLite files, and PostgreSQL databases in a throwaway cluster
(tests/pgcluster.py). ``B24LOCAL_TEST_BACKENDS=sqlite,postgres`` chooses (default: both when the
PostgreSQL binaries are installed, and always both under CI, where a missing PostgreSQL fails).
Tests marked ``sqlite_only``, and the client-library tests (tests/clients/, which test the clients,
not the storage), run on SQLite only.
"""

from __future__ import annotations

import contextlib
import os
import queue
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, Protocol, TypeVar

import httpx
import pytest

from b24local.auth.webhooks import hash_secret, new_code
from b24local.crm.entities import COMPANY, CONTACT, DEAL, LEAD
from b24local.storage.base import Storage
from b24local.storage.open import open_storage
from tests.pgcluster import Cluster, find_bindir
from tests.redisserver import RedisServer, find_redis_server

BACKENDS = ("sqlite", "postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Response:
    status: int
    body: Any
    headers: httpx.Headers

    @property
    def result(self) -> Any:
        assert self.status == 200, (self.status, self.body)
        return self.body["result"]


@dataclass
class LiveServer:
    base_url: str
    webhook_url: str  # http://127.0.0.1:PORT/rest/1/CODE/ (user 1, administrator, scope crm)
    db_path: Path | None  # the SQLite file (None on PostgreSQL)
    process: subprocess.Popen[str]
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))
    ca_file: str | None = None  # the local CA of a server started with --tls
    lines: queue.Queue[str] | None = None  # what the server prints after starting
    database_url: str = ""
    helper_store: Storage | None = None  # PostgreSQL: one connection for the fixture helpers

    def output(self, wait: float = 0.5) -> str:
        """What the server has printed (stdout and stderr) since it started, waiting up to ``wait`` s."""
        assert self.lines is not None
        got: list[str] = []
        deadline = time.monotonic() + wait
        while True:
            try:
                got.append(self.lines.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                return "".join(got)

    @property
    def webhook_path(self) -> str:
        """``/rest/{user}/{code}/`` of the bootstrap webhook."""
        return "/rest/" + self.webhook_url.split("/rest/", 1)[1]

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.db_path}"

    @property
    def backend(self) -> str:
        return "sqlite" if self.db_url.startswith("sqlite:") else "postgres"

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        webhook: str | None = None,
        http_method: str = "POST",
    ) -> Response:
        """A JSON POST (or a bare GET) to ``{webhook}{method}``."""
        url = (webhook or self.webhook_url) + method
        raw = self.client.get(url) if http_method == "GET" else self.client.post(url, json=params or {})
        return Response(raw.status_code, raw.json() if raw.content else None, raw.headers)

    def raw(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Any request to ``base_url + path``."""
        return self.client.request(method, self.base_url + path, **kwargs)

    def storage(self) -> Storage:
        """The server's own database, opened beside it (for fixtures and state checks)."""
        return open_storage(self.db_url)

    # Fixture helpers that write straight to the database --------------------------------------
    def add_user(
        self,
        name: str = "User",
        *,
        admin: bool = False,
        scopes: tuple[str, ...] = ("crm",),
        crm_access: bool = True,
    ) -> str:
        """A new user with a webhook; returns the webhook URL prefix (``.../rest/{id}/{code}/``)."""
        code = new_code()
        with self._helper() as store, store.write() as tx:
            user_id = tx.user_add(name, "", admin, crm_access)
            tx.webhook_add(user_id, hash_secret(code), scopes)
        return f"{self.base_url}/rest/{user_id}/{code}/"

    def insert_lead(self, lead_id: int | None = None, *, assigned_by: int = 1, **columns: Any) -> int:
        return self._insert(
            LEAD, lead_id, {"title": "Lead", "assigned_by_id": assigned_by, "opened": "Y", **columns}
        )

    def insert_contact(self, contact_id: int | None = None, *, assigned_by: int = 1, **columns: Any) -> int:
        return self._insert(
            CONTACT, contact_id, {"name": "Contact", "assigned_by_id": assigned_by, "opened": "Y", **columns}
        )

    def insert_company(self, company_id: int | None = None, *, assigned_by: int = 1, **columns: Any) -> int:
        return self._insert(
            COMPANY, company_id, {"title": "Company", "assigned_by_id": assigned_by, "opened": "Y", **columns}
        )

    def insert_deal(self, deal_id: int | None = None, *, assigned_by: int = 1, **columns: Any) -> int:
        values = {"title": "Deal", "assigned_by_id": assigned_by, "opened": "Y", "stage_id": "NEW"}
        return self._insert(DEAL, deal_id, {**values, **columns})

    def _insert(self, entity: Any, entity_id: int | None, values: dict[str, Any]) -> int:
        if entity_id is not None:
            values = {"id": entity_id, **values}
        with self._helper() as store, store.write() as tx:
            return tx.entity_insert(entity, values)

    @contextlib.contextmanager
    def _helper(self) -> Iterator[Storage]:
        """The storage for one fixture write: a new SQLite connection each time (as before), or one
        PostgreSQL connection kept for the server's lifetime (a connection costs a backend process)."""
        if self.backend == "sqlite":
            store = self.storage()
            try:
                yield store
            finally:
                store.close()
            return
        if self.helper_store is None:
            self.helper_store = self.storage()
        yield self.helper_store

    def stop(self) -> None:
        self.client.close()
        if self.helper_store is not None:
            self.helper_store.close()
            self.helper_store = None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _output_lines(process: subprocess.Popen[str]) -> queue.Queue[str]:
    """The server's output lines, read by a thread so that waiting for one can time out."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put("")

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _read_line(lines: queue.Queue[str], deadline: float) -> str:
    """One line, or "" at the end of the output or when the deadline passes."""
    try:
        return lines.get(timeout=max(0.0, deadline - time.monotonic()))
    except queue.Empty:
        return ""


def start_server(db: Path | str, *extra: str, webhook_path: str | None = None) -> LiveServer:
    """A server on a free port, on an SQLite file (a path) or a database URL. On an existing database
    no webhook is printed: pass the ``/rest/{user}/{code}/`` part of one made earlier as
    ``webhook_path``."""
    db_path = db if isinstance(db, Path) else None
    url = f"sqlite:///{db}" if isinstance(db, Path) else db
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("B24LOCAL_DATABASE_URL", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "b24local",
            "serve",
            "--port",
            str(port),
            "--database",
            url,
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    webhook = ""
    ca: str | None = None
    deadline = time.monotonic() + 20
    scheme = "http"
    lines = _output_lines(process)
    while True:
        line = _read_line(lines, deadline)
        if not line:
            break
        if line.startswith("b24local ") and " on https://" in line:
            scheme = "https"
        if line.startswith("TLS: local CA certificate "):
            ca = line.split()[4]
        if line.startswith("Existing database:") and webhook_path is not None:
            webhook = f"{scheme}://127.0.0.1:{port}{webhook_path}"
            break
        if line.startswith("http://") or line.startswith("https://"):
            webhook = line.strip()
            break
    base_url = f"{scheme}://127.0.0.1:{port}"
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.05)
    if not webhook or process.poll() is not None:
        process.kill()
        raise RuntimeError(f"server did not start (exit {process.poll()})")
    client = httpx.Client(timeout=30, verify=ssl.create_default_context(cafile=ca) if ca else True)
    return LiveServer(
        base_url=base_url,
        webhook_url=webhook,
        db_path=db_path,
        process=process,
        client=client,
        ca_file=ca,
        lines=lines,
        database_url=url,
    )


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


@pytest.fixture(scope="session")
def server(
    request: pytest.FixtureRequest, backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    live = start_server(new_database(request, backend, tmp_path_factory.mktemp("shared")))
    yield live
    live.stop()


@pytest.fixture
def fresh_server(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[LiveServer]:
    live = start_server(new_database(request, backend, tmp_path))
    yield live
    live.stop()
