"""Webhook security (contract protocol.md W1, W5, W6; issue 4 "Webhooks" and "Security").

A webhook answers only for its own user, only while it and its user are active, only within its scopes;
its code is stored hashed and never shows in the server's output or in an error text.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import LiveServer
from tests.expected import INSUFFICIENT_SCOPE, INVALID_CREDENTIALS


def b24local(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "b24local", *args],
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "B24LOCAL_DATABASE_URL"},
    )


def parts(webhook_url: str) -> tuple[int, str]:
    user, code = webhook_url.rstrip("/").split("/rest/", 1)[1].split("/")
    return int(user), code


def status_and_body(live: LiveServer, prefix: str, method: str = "crm.lead.fields") -> tuple[int, object]:
    reply = live.call(method, webhook=prefix)
    return reply.status, reply.body


def test_a_code_works_only_with_its_own_user(server: LiveServer) -> None:
    alice = server.add_user("Alice", admin=True)
    bob = server.add_user("Bob", admin=True)
    (alice_id, alice_code), (bob_id, bob_code) = parts(alice), parts(bob)
    assert status_and_body(server, alice)[0] == 200
    for user_id, code in (
        (bob_id, alice_code),
        (alice_id, bob_code),
        (1, alice_code),
        (alice_id + 1000, alice_code),
    ):
        assert status_and_body(server, f"{server.base_url}/rest/{user_id}/{code}/") == (
            401,
            INVALID_CREDENTIALS,
        )
    # A code differing in case or by a character is a wrong code.
    for code in (alice_code.upper(), alice_code[:-1], alice_code + "x"):
        assert status_and_body(server, f"{server.base_url}/rest/{alice_id}/{code}/") == (
            401,
            INVALID_CREDENTIALS,
        )


def test_disable_and_delete_revoke_a_webhook(server: LiveServer) -> None:
    kept = server.add_user("Kept", admin=True)
    user_id, _ = parts(kept)
    # A second and a third webhook of the same user: revoking one leaves the others working.
    disabled = b24local(
        "webhook", "create", "--database", server.db_url, "--user", str(user_id), "--scope", "crm"
    ).stdout.strip()
    deleted = b24local(
        "webhook", "create", "--database", server.db_url, "--user", str(user_id), "--scope", "crm"
    ).stdout.strip()
    for hook in (kept, disabled, deleted):
        assert status_and_body(server, server.base_url + "/rest/" + hook.split("/rest/", 1)[1])[0] == 200
    disabled = server.base_url + "/rest/" + disabled.split("/rest/", 1)[1]
    deleted = server.base_url + "/rest/" + deleted.split("/rest/", 1)[1]

    done = b24local(
        "webhook",
        "disable",
        "--database",
        server.db_url,
        "--user",
        str(user_id),
        "--code",
        parts(disabled)[1],
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1
    assert done.stdout.startswith("Webhook ") and done.stdout.endswith(f" of user {user_id} disabled.\n")
    assert parts(disabled)[1] not in done.stdout + done.stderr
    assert status_and_body(server, disabled) == (401, INVALID_CREDENTIALS)
    assert status_and_body(server, disabled, "batch") == (401, INVALID_CREDENTIALS)

    done = b24local(
        "webhook", "delete", "--database", server.db_url, "--user", str(user_id), "--code", parts(deleted)[1]
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(f" of user {user_id} deleted.\n")
    assert status_and_body(server, deleted) == (401, INVALID_CREDENTIALS)
    store = server.storage()
    try:
        with store.read() as tx:
            hooks = tx.webhooks_of_user(user_id)
    finally:
        store.close()
    assert sorted(h.active for h in hooks) == [False, True]  # the disabled one is kept, inactive

    assert status_and_body(server, kept)[0] == 200
    # The disabled webhook can still be deleted; a deleted one is gone for the CLI too.
    assert (
        b24local(
            "webhook",
            "delete",
            "--database",
            server.db_url,
            "--user",
            str(user_id),
            "--code",
            parts(disabled)[1],
        ).returncode
        == 0
    )
    missing = b24local(
        "webhook", "disable", "--database", server.db_url, "--user", str(user_id), "--code", parts(deleted)[1]
    )
    assert missing.returncode == 2
    assert missing.stderr == f"b24local: error: user {user_id} has no webhook with that code\n"
    assert parts(deleted)[1] not in missing.stderr


def test_an_inactive_users_webhook_is_refused(server: LiveServer) -> None:
    hook = server.add_user("Leaver", admin=True)
    user_id, _ = parts(hook)
    assert status_and_body(server, hook)[0] == 200
    changed = b24local("user", "update", "--database", server.db_url, "--id", str(user_id), "--inactive")
    assert changed.returncode == 0, changed.stderr
    assert status_and_body(server, hook) == (401, INVALID_CREDENTIALS)
    assert status_and_body(server, hook, "user.current") == (401, INVALID_CREDENTIALS)
    changed = b24local("user", "update", "--database", server.db_url, "--id", str(user_id), "--active")
    assert changed.returncode == 0, changed.stderr
    assert status_and_body(server, hook)[0] == 200


def test_scopes_are_enforced(server: LiveServer) -> None:
    hook = server.add_user("Scoped", admin=True, scopes=("user",))
    assert status_and_body(server, hook, "crm.lead.fields") == (403, INSUFFICIENT_SCOPE)
    assert status_and_body(server, hook, "crm.lead.list") == (403, INSUFFICIENT_SCOPE)
    assert status_and_body(server, hook, "server.time")[0] == 200  # basic is always granted (W5)
    reply = server.call("batch", {"cmd": {"a": "crm.lead.fields", "b": "server.time"}}, webhook=hook)
    assert reply.status == 200
    assert reply.result["result_error"] == {"a": {"error": "insufficient_scope", "error_description": ""}}
    assert set(reply.result["result"]) == {"b"}


@pytest.mark.sqlite_only  # reads the database file and its WAL
def test_codes_never_appear_in_output_errors_or_the_database(fresh_live_server: LiveServer) -> None:
    live = fresh_live_server
    live.output(wait=0.3)  # what the server printed on start: the bootstrap URL, shown once on purpose
    admin_id, admin_code = parts(live.webhook_url)
    other = live.add_user("Other", admin=False)
    other_id, other_code = parts(other)
    codes = [admin_code, other_code]

    answers = [
        live.call("crm.lead.fields"),
        live.call("crm.lead.get", {"id": 999999}),
        live.call("no.such.method"),
        live.call("crm.lead.fields", webhook=f"{live.base_url}/rest/{admin_id}/{other_code}/"),
        live.call("crm.lead.fields", webhook=f"{live.base_url}/rest/{other_id}/{admin_code}/"),
        live.call("batch", {"cmd": {"x": f"crm.lead.get?id={admin_code}", "y": "nope"}}),
    ]
    texts = [str(a.body) for a in answers]
    raw = [
        live.raw(
            "POST",
            f"/rest/{admin_id}/{admin_code}/crm.lead.add",
            content=b"{broken",
            headers={"content-type": "application/json"},
        ),
        live.raw("GET", f"/rest/{other_id}/{admin_code}/crm.lead.fields.xml"),
        live.raw("GET", f"/rest/crm.lead.fields?auth={admin_code}"),
        live.raw("GET", f"/rest/{admin_id}/{admin_code}/crm.lead.list?filter[%3EDATE_CREATE]=not-a-date"),
    ]
    assert [r.status_code for r in raw[:3]] == [400, 401, 401]
    texts += [r.text for r in raw]
    revoke = b24local(
        "webhook", "disable", "--database", live.db_url, "--user", str(other_id), "--code", other_code
    )
    assert revoke.returncode == 0
    texts += [revoke.stdout, revoke.stderr]
    assert live.call("crm.lead.fields", webhook=other).status == 401
    output = live.output(wait=0.5)
    for code in codes:
        assert code not in output
        for text in texts:
            assert code not in text

    # At rest: only the SHA-256 of each code, in the database file and its write-ahead log.
    stored = b"".join(
        Path(f"{live.db_path}{suffix}").read_bytes()
        for suffix in ("", "-wal")
        if Path(f"{live.db_path}{suffix}").exists()
    )
    assert stored
    for code in codes:
        assert code.encode() not in stored
        assert hashlib.sha256(code.encode()).hexdigest().encode() in stored
