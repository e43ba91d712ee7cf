"""The in-process portal the fault injection tests share (tests/admin/test_faults.py and
test_fault_resource.py): one server per backend with an admin token, cleared of rules after each test,
and helpers to set rules and read their counts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import InProcessServer, new_database, start_in_process

TOKEN = "adm-faults-7Q"
ADMIN = {"authorization": f"Bearer {TOKEN}"}


def serve(
    request: pytest.FixtureRequest, backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[InProcessServer]:
    """A module's server (``portal_server = pytest.fixture(scope="module")(serve)``): the admin token,
    OAuth approved at once as user 1."""
    db = new_database(request, backend, tmp_path_factory.mktemp("faults"))
    server = start_in_process(db, "--admin-token", TOKEN, "--auto-approve-user", "1")
    yield server
    server.stop()


def cleared(portal_server: InProcessServer) -> Iterator[InProcessServer]:
    """A test's view of it (``portal = pytest.fixture(cleared)``): no rules left after the test."""
    yield portal_server
    portal_server.raw("DELETE", "/_b24local/faults", headers=ADMIN)


def put(server: InProcessServer, rules: Any) -> httpx.Response:
    return server.raw("PUT", "/_b24local/faults", json=rules, headers=ADMIN)


def set_rules(server: InProcessServer, rules: list[dict[str, Any]]) -> None:
    answer = put(server, rules)
    assert answer.status_code == 200, answer.text


def counts(server: InProcessServer) -> list[tuple[int, int]]:
    """(hits, faulted) of each rule."""
    shown = server.raw("GET", "/_b24local/faults", headers=ADMIN).json()["rules"]
    return [(rule["hits"], rule["faulted"]) for rule in shown]


def statuses(server: InProcessServer, method: str, n: int, webhook: str | None = None) -> list[int]:
    return [server.call(method, {}, webhook=webhook).status for _ in range(n)]
