"""The request journal (contract test-portal.md T7): what an entry holds for plain calls, batch commands
and OAuth token calls; the filters; the bound; redaction; clearing; the admin token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from b24local.auth import oauth
from b24local.journal.entry import OAUTH_SECRETS, Call
from b24local.journal.page import join_chunks, make_chunk, unpack
from b24local.protocol.call_note import CommandNote
from tests.conftest import InProcessServer, new_database, start_in_process
from tests.journal.helpers import AUTH, TOKEN, entry, journal, shown


@pytest.fixture
def portal(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[InProcessServer]:
    server = start_in_process(
        new_database(request, backend, tmp_path), "--admin-token", TOKEN, "--auto-approve-user", "1"
    )
    yield server
    server.stop()


def test_plain_calls(portal: InProcessServer) -> None:
    portal.call("crm.lead.add", {"fields": {"TITLE": "First", "ASSIGNED_BY_ID": 1}})
    portal.raw("GET", f"{portal.webhook_path}crm.lead.get", params={"id": 1})
    portal.call("crm.lead.get", {"id": 5})
    assert shown(journal(portal)) == [
        entry(3, "crm.lead.get", {"id": 5}, status=400, error="", description="Not found.", why="Not found."),
        entry(2, "crm.lead.get", {"id": "1"}, http_method="GET"),
        entry(1, "crm.lead.add", {"fields": {"TITLE": "First", "ASSIGNED_BY_ID": 1}}),
    ]


def test_batch_commands_are_linked_to_their_batch(portal: InProcessServer) -> None:
    cmd = {"add": "crm.lead.add?fields[TITLE]=B", "get": "crm.lead.get?id=$result[add]", "bad": "no.such"}
    assert portal.call("batch", {"halt": 0, "cmd": cmd}).status == 200
    assert shown(journal(portal)) == [
        entry(
            4,
            "no.such",
            {},
            path="/rest/1/***/batch",
            status=404,
            error="ERROR_METHOD_NOT_FOUND",
            description="Method not found!",
            why="no method no.such",
            batch=1,
            command="bad",
        ),
        entry(3, "crm.lead.get", {"id": 1}, path="/rest/1/***/batch", batch=1, command="get"),
        entry(
            2, "crm.lead.add", {"fields": {"TITLE": "B"}}, path="/rest/1/***/batch", batch=1, command="add"
        ),
        entry(1, "batch", {"halt": 0, "cmd": cmd}),
    ]


def test_oauth_token_calls_and_calls_with_a_token(portal: InProcessServer) -> None:
    with closing(portal.storage()) as store, store.write() as tx:
        client_id, secret = oauth.create_app(tx, "App", ("crm",), "https://app.example/back")
    approved = portal.raw("GET", "/oauth/authorize/", params={"client_id": client_id})
    code = approved.headers["location"].split("code=")[1].split("&")[0]
    grant = {
        "grant_type": "authorization_code",
        "client_id": client_id,
        "client_secret": secret,
        "code": code,
    }
    tokens = portal.raw("POST", "/oauth/token/", data=grant).json()
    refused = portal.raw("POST", "/oauth/token/", data=grant)  # a code serves once
    assert refused.status_code == 400
    portal.raw("POST", "/rest/crm.lead.list", json={"auth": tokens["access_token"]})
    app = {"user_id": 1, "client_id": client_id}
    masked = {
        "grant_type": "authorization_code",
        "client_id": client_id,
        "client_secret": "***",
        "code": "***",
    }
    assert shown(journal(portal)) == [
        entry(4, "crm.lead.list", {"auth": "***"}, path="/rest/crm.lead.list", credential=app),
        entry(
            3,
            "oauth/token",
            masked,
            path="/oauth/token/",
            status=400,
            error="invalid_grant",
            description="Invalid grant",
            why=f"the authorization code is not one of {client_id}'s unused, unexpired ones",
            credential={"client_id": client_id},
        ),
        entry(2, "oauth/token", masked, path="/oauth/token/", credential=app),
        entry(
            1,
            "oauth/authorize",
            {"client_id": client_id},
            path="/oauth/authorize/",
            status=302,
            credential=app,
            http_method="GET",
        ),
    ]


def test_filters_and_limit(portal: InProcessServer) -> None:
    other = portal.add_user("Other", scopes=("user",))
    portal.call("crm.lead.add", {"fields": {"TITLE": "x"}})  # 1
    portal.call("crm.lead.list", {})  # 2
    portal.call("crm.lead.list", {}, webhook=other)  # 3: 403 insufficient_scope
    portal.call("CRM.Lead.List", {})  # 4
    ids = lambda **filters: [e["id"] for e in journal(portal, **filters)]  # noqa: E731
    assert ids() == [4, 3, 2, 1]
    assert ids(method="crm.lead.list") == [4, 3, 2]
    assert ids(method="CRM.LEAD.LIST", status=200) == [4, 2]
    assert ids(status=403) == [3]
    assert ids(user=2) == [3]
    assert ids(user=1, limit=2) == [4, 2]
    assert ids(since=2) == [4, 3]
    first = journal(portal, since=0)[-1]["time"]
    assert ids(since=first) == [4, 3, 2, 1]
    assert ids(since="2999-01-01T00:00:00+00:00") == []


@pytest.mark.parametrize(
    ("query", "description"),
    [
        ({"limit": "0"}, "limit must be a whole number from 1 to 10000, not '0'"),
        ({"limit": "10001"}, "limit must be a whole number from 1 to 10000, not '10001'"),
        ({"status": "abc"}, "status must be a whole number from 100 to 599, not 'abc'"),
        ({"user": "-1"}, "user must be a whole number from 0 to 9223372036854775807, not '-1'"),
        (
            {"since": "yesterday"},
            "since must be an entry id or an ISO 8601 time with its offset, not 'yesterday'",
        ),
        (
            {"since": "2026-12-05T07:00:00"},
            "since must be an entry id or an ISO 8601 time with its offset, not '2026-12-05T07:00:00'",
        ),
        ({"order": "asc"}, "Unknown filter: order (method, status, user, since, limit)"),
    ],
)
def test_bad_filters_answer_400(portal: InProcessServer, query: dict[str, str], description: str) -> None:
    answer = portal.raw("GET", "/_b24local/journal", headers=AUTH, params=query)
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": "INVALID_REQUEST", "error_description": description},
    )


def test_the_journal_keeps_its_size(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> None:
    server = start_in_process(
        new_database(request, backend, tmp_path), "--admin-token", TOKEN, "--journal-size", "3"
    )
    try:
        for n in range(5):
            server.call("crm.lead.add", {"fields": {"TITLE": f"L{n}"}})
            assert journal(server)[0]["id"] == n + 1  # a read stores what this process holds
        assert [(e["id"], e["params"]) for e in journal(server, limit=10)] == [
            (5, {"fields": {"TITLE": "L4"}}),
            (4, {"fields": {"TITLE": "L3"}}),
            (3, {"fields": {"TITLE": "L2"}}),
        ]
    finally:
        server.stop()


def test_size_0_turns_it_off(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> None:
    server = start_in_process(
        new_database(request, backend, tmp_path), "--admin-token", TOKEN, "--journal-size", "0"
    )
    try:
        assert server.call("crm.lead.add", {"fields": {"TITLE": "x"}}).status == 200
        answer = server.raw("GET", "/_b24local/journal", headers=AUTH)
        assert (answer.status_code, answer.json()) == (
            404,
            {"error": "NOT_FOUND", "error_description": "The journal is off (serve --journal-size 0)"},
        )
    finally:
        server.stop()


def test_secrets_are_never_in_the_journal(portal: InProcessServer) -> None:
    code = portal.webhook_url.rstrip("/").rsplit("/", 1)[1]
    secrets = ["tok-3f9a2b", "refresh-77c1", "s3cr3t-client", "hunter2-pass", "access-99d0"]
    params = {
        "auth": secrets[0],
        "fields": {"TITLE": f"mentions {code} here", "COMMENTS": [{"refresh_token": secrets[1]}]},
        "deep": {"x": {"CLIENT_SECRET": secrets[2], "Password": secrets[3]}},
        "access_token": secrets[4],
    }
    portal.call("crm.lead.add", params)
    portal.call("batch", {"cmd": {"a": f"crm.lead.list?auth={secrets[0]}&filter[TITLE]={code}"}})
    portal.raw("GET", f"/rest/1/{code}/crm.lead.get?id={code}&password={secrets[3]}")
    portal.raw(
        "POST",
        "/oauth/token/",
        data={
            "grant_type": "refresh_token",
            "client_id": "local.x",
            "client_secret": secrets[2],
            "refresh_token": secrets[1],
        },
    )
    entries = journal(portal)
    assert len(entries) == 5
    text = json.dumps(entries)
    for secret in [code, *secrets]:
        assert secret not in text
    assert entries[-1]["params"] == {
        "auth": "***",
        "fields": {"TITLE": "mentions *** here", "COMMENTS": [{"refresh_token": "***"}]},
        "deep": {"x": {"CLIENT_SECRET": "***", "Password": "***"}},
        "access_token": "***",
    }


def test_delete_clears_and_a_reset_clears_too(portal: InProcessServer) -> None:
    portal.call("crm.lead.add", {"fields": {"TITLE": "x"}})
    assert [e["id"] for e in journal(portal)] == [1]
    answer = portal.raw("DELETE", "/_b24local/journal", headers=AUTH)
    assert (answer.status_code, answer.json()) == (200, {"cleared": True})
    assert journal(portal) == []
    portal.call("crm.lead.list", {})
    assert portal.raw("POST", "/_b24local/reset", headers=AUTH).status_code == 200
    assert journal(portal) == []
    portal.call("crm.lead.list", {})
    assert [e["id"] for e in journal(portal)] == [3]  # ids go on after a clear and a reset


def test_the_admin_token_guards_it(portal: InProcessServer) -> None:
    portal.call("crm.lead.add", {"fields": {"TITLE": "x"}})
    for method in ("GET", "DELETE"):
        for headers in (
            {},
            {"authorization": "Bearer wrong"},
            {"authorization": f"Bearer {portal.webhook_url}"},
        ):
            answer = portal.raw(method, "/_b24local/journal", headers=headers)
            assert answer.status_code == 401
            assert answer.json()["error"] == "INVALID_CREDENTIALS"
    answer = portal.raw("PUT", "/_b24local/journal", headers=AUTH)
    assert (answer.status_code, answer.headers["allow"]) == (405, "GET, HEAD, DELETE")
    assert [e["id"] for e in journal(portal)] == [1]
    # The admin surface itself is not journaled.


def test_a_restore_and_a_reset_of_everything_clear_it_too(portal: InProcessServer) -> None:
    json_auth = {**AUTH, "content-type": "application/json"}
    assert portal.raw("PUT", "/_b24local/snapshots/empty", headers=AUTH).status_code == 201
    portal.call("crm.lead.add", {"fields": {"TITLE": "x"}})
    restored = portal.raw("POST", "/_b24local/reset", headers=json_auth, content=b'{"to": "empty"}')
    assert restored.status_code == 200
    assert journal(portal) == []
    portal.call("crm.lead.list", {})
    assert [e["method"] for e in journal(portal)] == ["crm.lead.list"]
    everything = portal.raw("POST", "/_b24local/reset", headers=json_auth, content=b'{"all": true}')
    assert everything.status_code == 200
    assert journal(portal) == []


def test_a_faulted_call_says_which_rule_answered(portal: InProcessServer) -> None:
    rules = [{"method": "crm.lead.*", "times": 1, "error": "QUERY_LIMIT_EXCEEDED"}]
    put = portal.raw(
        "PUT", "/_b24local/faults", headers={**AUTH, "content-type": "application/json"}, json=rules
    )
    assert put.status_code == 200
    assert portal.call("crm.lead.list", {}).status == 503
    # A fault comes before the request is decoded or its caller known, as a proxy's answer would.
    (faulted,) = shown(journal(portal))
    assert faulted == {
        **entry(1, "crm.lead.list", None, status=503, error="QUERY_LIMIT_EXCEEDED"),
        "credential": None,
        "error_description": "Too many requests",
        "why": "fault rule [0] (method 'crm.lead.*') answered QUERY_LIMIT_EXCEEDED",
    }


def test_a_page_is_masked_whenever_its_text_may_show_a_secret() -> None:
    """A page is made unmasked unless its parameters show a secret's name (in any case) or its text a
    webhook code of its calls; each of these is masked, and a page with none of them is kept as is.
    A refused call's texts are masked too."""

    def made(*calls: Call) -> list[dict[str, Any]]:
        count, _, text = join_chunks([make_chunk(list(calls))])
        entries = unpack(text)
        assert count == len(entries)
        return [{"params": fields[3], "why": fields[7]} for _, _, _, fields in entries]

    def call(params: dict[str, Any], path: str = "/rest/crm.lead.get", code: str | None = None) -> Call:
        made_call = Call(0.0, "POST", path, "crm.lead.get", code)
        made_call.params = params
        return made_call

    plain = call({"id": 5}, "/rest/1/***/crm.lead.get", "hook_code_1")
    assert made(plain) == [{"params": {"id": 5}, "why": None}]
    named = call({"filter": {"TITLE": "x"}, "AUTH": "tok-secret"})
    named.refused(401, {"error": "invalid_token"}, "token tok-secret is unknown")
    assert made(call({"id": 5}, "/rest/1/***/crm.lead.get", "hook_code_1"), named) == [
        {"params": {"id": 5}, "why": None},
        {"params": {"filter": {"TITLE": "x"}, "AUTH": "***"}, "why": "token *** is unknown"},
    ]
    echoed = call({"filter": {"TITLE": "hook_code_1"}}, "/rest/1/***/crm.lead.list", "hook_code_1")
    assert made(echoed) == [{"params": {"filter": {"TITLE": "***"}}, "why": None}]
    oauth_code = Call(0.0, "POST", "/oauth/token/", "oauth/token")
    oauth_code.params, oauth_code.secrets = {"code": "abc123", "grant_type": "x"}, OAUTH_SECRETS
    oauth_code.mask()  # as journal/record.py does: its secrets are not the ones a page looks for
    assert made(oauth_code, call({"id": 7})) == [
        {"params": {"code": "***", "grant_type": "x"}, "why": None},
        {"params": {"id": 7}, "why": None},
    ]
    batch = call({"cmd": {"a": "crm.lead.get?id=1&auth=tok-12345"}}, "/rest/batch")
    batch.commands = [CommandNote("a", "crm.lead.get", {"id": "1", "auth": "tok-12345"}, 0.0, 0.001)]
    assert made(call({"id": 8}), batch) == [
        {"params": {"id": 8}, "why": None},
        {"params": {"cmd": {"a": "crm.lead.get?id=1&auth=***"}}, "why": None},
        {"params": {"id": "1", "auth": "***"}, "why": None},
    ]
