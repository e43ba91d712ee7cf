"""The fuzz test of `make test` (bounded: a fixed seed and count) and of `make fuzz` (long).

``B24LOCAL_FUZZ_SEED`` and ``B24LOCAL_FUZZ_COUNT`` override the seed and the number of in-process
requests; the raw-socket part sends a twentieth of that (at least 100). Each test prints a summary line
(run with ``-s`` to see it; `make fuzz` does).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import new_database, start_server
from tests.fuzz.raw_http import run_raw
from tests.fuzz.runner import run_fuzz

SEED = os.environ.get("B24LOCAL_FUZZ_SEED", "14")
#: Per backend: PostgreSQL runs fewer by default (each call is a round trip to a server).
DEFAULT_COUNT = {"sqlite": 3_000, "postgres": 1_000}


def fuzz_count(backend: str) -> int:
    return int(os.environ.get("B24LOCAL_FUZZ_COUNT", DEFAULT_COUNT[backend]))


def test_fuzz_in_process(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> None:
    database = new_database(request, backend, tmp_path)
    url = f"sqlite:///{database}" if isinstance(database, Path) else database
    report = run_fuzz(url, backend, SEED, fuzz_count(backend))
    print("\n" + report.summary() + ("\n" + report.groups() if report.failures else ""))
    assert not report.failures, report.failure_text()


@pytest.mark.sqlite_only
@pytest.mark.live  # raw bytes on sockets, through the live server's HTTP layer
def test_fuzz_raw_http(backend: str, tmp_path: Path) -> None:
    live = start_server(tmp_path / "raw.db")
    try:
        webhook = live.webhook_path.removeprefix("/rest/").rstrip("/")
        report = run_raw(live.base_url, webhook, SEED, max(100, fuzz_count("sqlite") // 20))
        output = live.output(wait=0.5)
    finally:
        live.stop()
    print("\n" + report.summary())
    assert "Traceback" not in output, output
    assert not report.failures, report.failure_text()
