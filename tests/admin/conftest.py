"""What the admin surface's tests share: a new in-process server with a known admin token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import InProcessServer, new_database, start_in_process

ADMIN_TOKEN = "reset-admin-token-42"
AUTH = {"authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def portal(
    request: pytest.FixtureRequest, backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[InProcessServer]:
    """A server on a new database whose surface opens with :data:`AUTH`."""
    server = start_in_process(
        new_database(request, backend, tmp_path_factory.mktemp("admin")), "--admin-token", ADMIN_TOKEN
    )
    yield server
    server.stop()
