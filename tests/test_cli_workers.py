"""``serve --workers N`` and ``db upgrade`` (issue 5)."""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import start_server
from tests.test_cli import b24local
from tests.workers import children, gone, wait_workers

pytestmark = pytest.mark.live  # `serve --workers`: processes

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork and /proc")


@linux_only
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_workers_share_the_port_print_the_webhook_once_and_stop_with_0(tmp_path: Path, sig: int) -> None:
    live = start_server(tmp_path / "b.db", "--workers", "3")
    try:
        workers = wait_workers(live.process.pid, 3)
        assert len(workers) == 3
        ids = {live.call("crm.lead.add", {"fields": {"TITLE": str(i)}}).result for i in range(30)}
        assert len(ids) == 30
        live.process.send_signal(sig)
        assert live.process.wait(timeout=20) == 0
        output = live.output(0.5)
        assert "http://" not in output  # the webhook URL was printed once, before the workers started
        assert all(gone(pid) for pid in workers)
    finally:
        live.stop()


@linux_only
def test_a_worker_that_dies_is_replaced(tmp_path: Path) -> None:
    live = start_server(tmp_path / "b.db", "--workers", "2")
    try:
        first = wait_workers(live.process.pid, 2)
        os.kill(first[0], signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            now = children(live.process.pid)
            if len(now) == 2 and first[0] not in now:
                break
            time.sleep(0.05)
        assert len(now) == 2 and first[0] not in now
        assert f"worker {first[0]} died (signal 9)" in live.output(1.0)
        for i in range(10):
            assert live.call("crm.lead.add", {"fields": {"TITLE": str(i)}}).status == 200
    finally:
        live.stop()
    assert live.process.returncode == 0


@linux_only
def test_killing_the_parent_stops_the_workers(tmp_path: Path) -> None:
    live = start_server(tmp_path / "b.db", "--workers", "2")
    workers = wait_workers(live.process.pid, 2)
    assert len(workers) == 2
    live.process.kill()
    live.process.wait(timeout=10)
    deadline = time.monotonic() + 15
    while not all(gone(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(gone(pid) for pid in workers)
    live.stop()


def test_workers_flag_is_checked() -> None:
    for value in ("0", "-1", "x", "65"):
        done = b24local("serve", "--workers", value, "--database", "sqlite:///nowhere/x.db")
        assert done.returncode == 2
        assert done.stderr.startswith("b24local: error: argument --workers:")
        assert "Traceback" not in done.stderr


def test_db_upgrade_applies_migrations_once_and_prints_the_version(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    first = b24local("db", "upgrade", "--database", url)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0].startswith("Applied migrations: 1, 2, 3")
    version = int(lines[-1].removeprefix("Schema version: "))
    conn = sqlite3.connect(tmp_path / "b.db")
    try:
        assert conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] == version
    finally:
        conn.close()
    again = b24local("db", "upgrade", "--database", url)
    assert again.returncode == 0
    assert again.stdout == f"No pending migrations.\nSchema version: {version}\n"
    env_run = b24local("db", "upgrade", env={"B24LOCAL_DATABASE_URL": url})
    assert env_run.stdout == again.stdout


def test_db_upgrade_errors_are_one_line(tmp_path: Path) -> None:
    done = b24local("db", "upgrade", "--database", f"sqlite:///{tmp_path / 'missing' / 'b.db'}")
    assert done.returncode == 1
    assert done.stderr.startswith("b24local: error: cannot open database")
    assert "Traceback" not in done.stderr
