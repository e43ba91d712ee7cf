"""pytest fixtures for testing an integration against b24local (a ``pytest11`` plugin, installed with
b24local: no import or conftest line is needed).

- ``b24local_server`` (session): ``b24local serve`` on a free loopback port over a temporary SQLite
  database, or over the PostgreSQL database given with ``--b24local-database URL`` (or
  ``$B24LOCAL_TEST_DATABASE_URL``); stopped at the end of the session.
- ``b24local_webhook_url``: the URL of a webhook of user 1 (an administrator) with scope ``crm``,
  made for the session: ``{base}/rest/1/{code}/``, to which a method name is appended.
- ``b24local_reset``: the CRM data removed before the test (``b24local db reset``): every test that asks
  for it starts with no leads, contacts, deals or companies, and ids from 1.
- ``b24local_faults``: fault rules for the test (``set(rules)``, ``rules()`` with their counts; the
  format of ``PUT /_b24local/faults``), cleared after it.
- ``b24local_seed``: a function that applies a seed document (contract T5) to the session's server
  through ``POST /_b24local/seed``: a dict, or the path of a JSON or YAML (.yaml/.yml) file; it
  returns the counts per list, and raises :class:`SeedRefused` with the server's reason otherwise.
- ``b24local_journal``: the server's request journal, emptied before the test, to assert what the code
  under test sent (``entries(method=...)``, ``clear()``; test-portal.md T7).

A real server in its own process, as a test suite's code would meet a portal (docs/testing.md).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

#: How long a server may take to listen.
START_TIMEOUT = 30.0


@dataclass
class B24LocalServer:
    """A running ``b24local serve``."""

    base_url: str  # http://127.0.0.1:PORT
    database_url: str
    webhook_url: str  # {base_url}/rest/1/{code}/
    process: subprocess.Popen[str]
    #: The session's own token of /_b24local/ (given to the server in $B24LOCAL_ADMIN_TOKEN).
    admin_token: str = field(default="", repr=False)

    def admin(self, http_method: str, path: str, body: Any = None) -> Any:
        """A call to the test portal's surface (``/_b24local/...``) with the admin token; its JSON."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=http_method)  # noqa: S310
        request.add_header("Authorization", f"Bearer {self.admin_token}")
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (our own http URL)
            return json.loads(answer.read())

    def reset(self) -> None:
        """Remove every CRM record (``b24local db reset``); users and webhooks stay."""
        _cli("db", "reset", "--database", self.database_url)

    def seed(self, source: dict[str, Any] | str | Path) -> dict[str, int]:
        """Apply a seed document (a dict, or a JSON or YAML file) with ``POST /_b24local/seed``; the
        counts per list. All or nothing: a refused seed raises :class:`SeedRefused` and writes nothing."""
        if isinstance(source, dict):
            body, content_type = json.dumps(source).encode(), "application/json"
        else:
            path = Path(source)
            yaml_file = path.suffix.lower() in (".yaml", ".yml")
            body, content_type = path.read_bytes(), "application/yaml" if yaml_file else "application/json"
        request = urllib.request.Request(  # noqa: S310 (the session's own http:// server)
            f"{self.base_url}/_b24local/seed",
            data=body,
            method="POST",
            headers={"Content-Type": content_type, "Authorization": f"Bearer {self.admin_token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310 (our own http URL)
                counts: dict[str, int] = json.load(answer)["seeded"]
                return counts
        except urllib.error.HTTPError as refused:
            reason = json.loads(refused.read() or b"{}").get("error_description", str(refused))
            raise SeedRefused(reason) from None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class SeedRefused(AssertionError):
    """The server refused a seed (nothing was written); the message names the first error's path."""


class B24LocalJournal:
    """The requests the server received (``GET /_b24local/journal``), newest first."""

    def __init__(self, server: B24LocalServer) -> None:
        self.server = server

    def entries(self, **filters: Any) -> list[dict[str, Any]]:
        """Entries, newest first; ``filters``: ``method``, ``status``, ``user``, ``since``, ``limit``
        (default here 10000, every entry the journal keeps)."""
        query = urlencode({"limit": 10_000, **filters})
        found: list[dict[str, Any]] = self.server.admin("GET", f"/_b24local/journal?{query}")["entries"]
        return found

    def clear(self) -> None:
        self.server.admin("DELETE", "/_b24local/journal")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("b24local", "b24local test portal")
    group.addoption(
        "--b24local-database",
        metavar="URL",
        default=os.environ.get("B24LOCAL_TEST_DATABASE_URL"),
        help="a PostgreSQL database for the b24local_server fixture "
        "(default: $B24LOCAL_TEST_DATABASE_URL, else a temporary SQLite file)",
    )


def _cli(*argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "b24local", *argv], capture_output=True, text=True, check=False, timeout=60
    )
    if done.returncode:
        raise RuntimeError(f"b24local {' '.join(argv[:2])} failed: {done.stderr.strip()}")
    return done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"b24local serve did not listen on port {port} in time")


def start(database_url: str, log: Path) -> B24LocalServer:
    """``b24local serve`` on a free port over ``database_url`` (its output in ``log``), and a webhook of
    user 1 with a code of this session's own."""
    port = _free_port()
    argv = [sys.executable, "-m", "b24local", "serve", "--port", str(port), "--database", database_url]
    admin_token = secrets.token_hex(16)
    env = {**os.environ, "B24LOCAL_ADMIN_TOKEN": admin_token}  # not on the command line: ps shows it
    with log.open("w") as output:  # the server keeps its own copy of the descriptor
        process = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        _wait_ready(port, time.monotonic() + START_TIMEOUT)
        code = secrets.token_hex(12)
        _cli("webhook", "create", "--database", database_url, "--user", "1", "--scope", "crm", "--code", code)
    except BaseException:
        process.kill()
        process.wait()
        raise
    base_url = f"http://127.0.0.1:{port}"
    return B24LocalServer(base_url, database_url, f"{base_url}/rest/1/{code}/", process, admin_token)


@pytest.fixture(scope="session")
def b24local_server(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[B24LocalServer]:
    folder = tmp_path_factory.mktemp("b24local")
    url = pytestconfig.getoption("b24local_database") or f"sqlite:///{folder / 'b24local.db'}"
    server = start(url, folder / "serve.log")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def b24local_webhook_url(b24local_server: B24LocalServer) -> str:
    return b24local_server.webhook_url


@pytest.fixture
def b24local_reset(b24local_server: B24LocalServer) -> B24LocalServer:
    b24local_server.reset()
    return b24local_server


class FaultRules:
    """The server's fault rules (test-portal.md T9) for one test."""

    def __init__(self, server: B24LocalServer) -> None:
        self.server = server

    def set(self, rules: list[dict[str, Any]]) -> None:
        """Replace the rules (``PUT /_b24local/faults``); every count starts at 0."""
        self.server.admin("PUT", "/_b24local/faults", rules)

    def rules(self) -> list[dict[str, Any]]:
        """Each rule with its counts: ``{"rule": {...}, "hits": n, "faulted": n}``."""
        return list(self.server.admin("GET", "/_b24local/faults")["rules"])

    def clear(self) -> None:
        self.server.admin("DELETE", "/_b24local/faults")


@pytest.fixture
def b24local_faults(b24local_server: B24LocalServer) -> Iterator[FaultRules]:
    faults = FaultRules(b24local_server)
    yield faults
    faults.clear()


@pytest.fixture
def b24local_seed(b24local_server: B24LocalServer) -> Callable[[dict[str, Any] | str | Path], dict[str, int]]:
    return b24local_server.seed


@pytest.fixture
def b24local_journal(b24local_server: B24LocalServer) -> B24LocalJournal:
    journal = B24LocalJournal(b24local_server)
    journal.clear()
    return journal
