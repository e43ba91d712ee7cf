"""The command line: the exact forms scripts depend on, and one-line errors without tracebacks."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveServer, free_port, start_server

pytestmark = pytest.mark.live  # the command line: `serve` processes and admin commands

WEBHOOK_URL = re.compile(r"^http://127\.0\.0\.1:(\d+)/rest/(\d+)/([a-z0-9]{16})/$")


def b24local(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "b24local", *args],
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_serve_bootstraps_an_empty_database_and_prints_a_webhook(fresh_live_server: LiveServer) -> None:
    match = WEBHOOK_URL.match(fresh_live_server.webhook_url)
    assert match is not None, fresh_live_server.webhook_url
    assert match.group(2) == "1"
    # The printed webhook works and belongs to an administrator with scope crm.
    assert fresh_live_server.call("crm.lead.contact.fields").status == 200
    store = fresh_live_server.storage()
    try:
        with store.read() as tx:
            user = tx.user_get(1)
            hooks = tx.webhooks_of_user(1)
    finally:
        store.close()
    assert user is not None and user.is_admin and user.active
    assert [sorted(h.scopes) for h in hooks] == [["crm"]]
    # Only the hash is stored.
    assert match.group(3) not in hooks[0].code_hash


def test_restart_keeps_data_and_creates_no_second_bootstrap(tmp_path: Path) -> None:
    db = tmp_path / "b24local.db"
    first = start_server(db)
    lead = first.insert_lead()
    contact = first.insert_contact()
    assert first.call("crm.lead.contact.add", {"id": lead, "fields": {"CONTACT_ID": contact}}).result is True
    webhook = first.webhook_url
    first.stop()
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "b24local", "serve", "--port", str(port), "--database", f"sqlite:///{db}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(2)]
        assert lines[0].startswith(f"b24local 0.1.0 on http://127.0.0.1:{port} with sqlite:///")
        assert lines[1].startswith("Existing database:")
        webhook = webhook.replace(webhook.split("/rest/")[0], f"http://127.0.0.1:{port}")
        for _ in range(100):
            try:
                reply = httpx.post(webhook + "crm.lead.contact.items.get", json={"id": lead}, timeout=5)
                break
            except httpx.TransportError:
                import time

                time.sleep(0.05)
        assert reply.json()["result"] == [
            {"CONTACT_ID": contact, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"}
        ]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_sigint_stops_cleanly(fresh_live_server: LiveServer) -> None:
    fresh_live_server.process.send_signal(signal.SIGINT)
    assert fresh_live_server.process.wait(timeout=10) == 0


def test_user_and_webhook_create(fresh_live_server: LiveServer) -> None:
    db = fresh_live_server.db_url
    created = b24local("user", "create", "--database", db, "--name", "Anna", "--last-name", "Petrova")
    assert created.returncode == 0, created.stderr
    assert created.stdout == "2\n"
    hook = b24local(
        "webhook", "create", "--database", db, "--user", "2", "--scope", "crm,user", "--code", "abc_123"
    )
    assert hook.returncode == 0, hook.stderr
    # The running server's address, which `serve` recorded in the database (issue 16).
    url = f"{fresh_live_server.base_url}/rest/2/abc_123/"
    assert hook.stdout.splitlines()[-1] == url
    # A non-admin with scope crm: reads its own (no) leads, is refused a lead assigned to user 1.
    lead = fresh_live_server.insert_lead(assigned_by=1)
    reply = fresh_live_server.call("crm.lead.contact.items.get", {"id": lead}, webhook=url)
    assert (reply.status, reply.body) == (
        403,
        {"error": "ACCESS_DENIED", "error_description": "Access denied!"},
    )
    random_hook = b24local("webhook", "create", "--database", db, "--user", "2", "--scope", "crm")
    assert random_hook.returncode == 0
    assert re.match(
        rf"^{re.escape(fresh_live_server.base_url)}/rest/2/[a-z0-9]{{16}}/$",
        random_hook.stdout.splitlines()[-1],
    )


def test_database_from_environment(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'env.db'}"
    created = b24local("user", "create", "--name", "Env", env={"B24LOCAL_DATABASE_URL": db})
    assert (created.returncode, created.stdout) == (0, "1\n")
    assert (tmp_path / "env.db").exists()


def test_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    cases = [
        (("serve", "--bogus"), 2, "b24local: error: unrecognized arguments: --bogus"),
        (("serve", "--port", "x"), 2, "b24local: error: argument --port: invalid int value: 'x'"),
        (
            ("webhook", "create", "--user", "1"),
            2,
            "b24local: error: the following arguments are required: --scope",
        ),
        (
            ("user", "create", "--name", "X", "--database", "sqlite:////nonexistent/dir/x.db"),
            1,
            "b24local: error: cannot open database /nonexistent/dir/x.db: "
            "directory /nonexistent/dir does not exist",
        ),
        (
            ("user", "create", "--name", "X", "--database", "mysql://localhost/x"),
            1,
            "b24local: error: unsupported database URL scheme 'mysql' (supported: sqlite:///path, "
            "postgresql://user:password@host:port/database)",
        ),
        (
            (
                "webhook",
                "create",
                "--database",
                f"sqlite:///{tmp_path / 'w.db'}",
                "--user",
                "7",
                "--scope",
                "crm",
            ),
            2,
            "b24local: error: no user with id 7: the database has no users yet; 'b24local serve' creates "
            "user 1 (an administrator) on its first start, 'b24local user create' makes one now",
        ),
    ]
    for args, code, message in cases:
        done = b24local(*args)
        assert (done.returncode, done.stderr, done.stdout) == (code, message + "\n", ""), args


def test_unreachable_postgresql_is_one_line_without_password() -> None:
    port = free_port()  # nothing listens there
    done = b24local(
        "user", "create", "--name", "X", "--database", f"postgresql://u:secret@127.0.0.1:{port}/x"
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith(
        f"b24local: error: cannot connect to database postgresql://u:***@127.0.0.1:{port}/x: "
    )
    assert done.stderr.count("\n") == 1
    assert "secret" not in done.stderr
    assert (done.stdout, "Traceback" in done.stderr) == ("", False)


def test_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        done = b24local("serve", "--port", str(port), "--database", f"sqlite:///{tmp_path / 'p.db'}")
    assert done.returncode == 2
    assert done.stderr == f"b24local: error: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    assert "Traceback" not in done.stdout
