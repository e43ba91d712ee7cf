"""The servers tests call: a live ``b24local serve`` process (``start_server``) or the app in-process
(``start_in_process``, tests/inprocess.py), both behind one interface (``Server``) with the helpers that
write fixtures straight to the database. The fixtures that make them are in tests/conftest.py.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from b24local.auth.webhooks import hash_secret, new_code
from b24local.crm.entities import COMPANY, CONTACT, DEAL, LEAD
from b24local.storage.base import Storage
from b24local.storage.open import open_storage
from tests.inprocess import HOST, InProcessApp

#: The test running now (the innermost: pytest runs one at a time), kept by tests/conftest.py.
RUNNING: list[pytest.Item] = []


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


@dataclass(kw_only=True)
class Server:
    """A b24local server and the tests' helpers for it, live or in-process."""

    base_url: str
    webhook_url: str  # {base_url}/rest/1/CODE/ (user 1, administrator, scope crm)
    db_path: Path | None  # the SQLite file (None on PostgreSQL)
    client: httpx.Client
    database_url: str = ""
    helper_store: Storage | None = None  # PostgreSQL: one connection for the fixture helpers

    def new_client(self) -> httpx.Client:
        """A client of its own (for a thread), whose requests reach this server."""
        raise NotImplementedError

    def output(self, wait: float = 0.5) -> str:
        raise NotImplementedError("only a live server prints: use live_server or fresh_live_server")

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


@dataclass(kw_only=True)
class LiveServer(Server):
    """A ``b24local serve`` process on loopback (``start_server``)."""

    process: subprocess.Popen[str]
    ca_file: str | None = None  # the local CA of a server started with --tls
    lines: queue.Queue[str] | None = None  # what the server prints after starting

    def new_client(self) -> httpx.Client:
        return _client(self.ca_file)

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

    def stop(self) -> None:
        super().stop()
        end_process(self.process)


def end_process(process: subprocess.Popen[Any]) -> None:
    """Terminates ``process`` if it still runs, killing it after 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _client(ca_file: str | None) -> httpx.Client:
    return httpx.Client(timeout=30, verify=ssl.create_default_context(cafile=ca_file) if ca_file else True)


@dataclass(kw_only=True)
class InProcessServer(Server):
    """The app in the test process (``start_in_process``; tests/inprocess.py)."""

    app: InProcessApp

    def new_client(self) -> httpx.Client:
        return self.app.client()

    def stop(self) -> None:
        super().stop()
        self.app.stop()


def start_in_process(db: Path | str, *extra: str, webhook_path: str | None = None) -> InProcessServer:
    """An in-process server on an SQLite file (a path) or a database URL, with ``serve``'s options
    ``extra``; ``webhook_path`` as for ``start_server``."""
    url = f"sqlite:///{db}" if isinstance(db, Path) else db
    app = InProcessApp(url, *extra)
    base_url = f"http://{HOST}"
    if app.code is not None:
        webhook_path = f"/rest/1/{app.code}/"  # as `serve` prints it: user 1, made on an empty database
    if webhook_path is None:
        app.stop()
        raise RuntimeError("an existing database: pass the webhook_path of one made earlier")
    return InProcessServer(
        base_url=base_url,
        webhook_url=base_url + webhook_path,
        db_path=db if isinstance(db, Path) else None,
        client=app.client(),
        database_url=url,
        app=app,
    )


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


def start_server(
    db: Path | str, *extra: str, webhook_path: str | None = None, env: dict[str, str] | None = None
) -> LiveServer:
    """A server on a free port, on an SQLite file (a path) or a database URL. On an existing database
    no webhook is printed: pass the ``/rest/{user}/{code}/`` part of one made earlier as
    ``webhook_path``. ``env``: variables added to the server's environment. Only in a test marked
    ``live`` (``make test-fast`` leaves those out)."""
    item = RUNNING[-1] if RUNNING else None
    if item is not None and item.get_closest_marker("live") is None:
        raise RuntimeError(f"{item.nodeid} starts a live server: mark it live (tests/conftest.py)")
    db_path = db if isinstance(db, Path) else None
    url = f"sqlite:///{db}" if isinstance(db, Path) else db
    port = free_port()
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    environment.pop("B24LOCAL_DATABASE_URL", None)
    environment.update(env or {})
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
        env=environment,
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
    return LiveServer(
        base_url=base_url,
        webhook_url=webhook,
        db_path=db_path,
        process=process,
        client=_client(ca),
        ca_file=ca,
        lines=lines,
        database_url=url,
    )
