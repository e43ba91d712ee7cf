"""``why`` in the journal (test-portal.md T7): the rule behind each kind of refusal, in words, while the
caller's answer stays the portal's (the expected answers of tests/expected.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from b24local.auth.webhooks import hash_secret, new_code
from tests.conftest import InProcessServer, new_database, start_in_process
from tests.expected import INSUFFICIENT_SCOPE, INVALID_CREDENTIALS
from tests.journal.helpers import TOKEN, journal

OWN = 1


@pytest.fixture
def portal(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[InProcessServer]:
    server = start_in_process(new_database(request, backend, tmp_path), "--admin-token", TOKEN)
    yield server
    server.stop()


def last(server: InProcessServer) -> tuple[int, str | None, str | None]:
    found = journal(server, limit=1)[0]
    return found["status"], found["error"], found["why"]


def user_with_role(server: InProcessServer, role: str | None, levels: dict[tuple[str, str], int]) -> str:
    """A user without the built-in role, holding ``role`` (None: no role at all); its webhook URL."""
    code = new_code()
    with closing(server.storage()) as store, store.write() as tx:
        user = tx.user_add("Sam", "", False, False)
        tx.webhook_add(user, hash_secret(code), ["crm"])
        if role is not None:
            tx.role_assign(tx.role_add(role, levels), user_id=user)
    return f"{server.base_url}/rest/{user}/{code}/"


def test_permission_refusals_name_the_item_owner_and_the_role(portal: InProcessServer) -> None:
    lead = portal.insert_lead(assigned_by=1, opened="N")
    sales = user_with_role(portal, "Sales", {("lead", "read"): OWN, ("lead", "update"): OWN})
    answer = portal.call("crm.lead.update", {"id": lead, "fields": {"TITLE": "x"}}, webhook=sales)
    assert (answer.status, answer.body) == (400, {"error": "", "error_description": "Access denied."})
    assert last(portal) == (
        400,
        "",
        'lead 1 is assigned to user 1; role "Sales" gives user 2 lead:update at level OWN',
    )
    portal.call("crm.lead.delete", {"id": lead}, webhook=sales)
    assert last(portal) == (400, "", "user 2 holds no role that gives lead:delete")
    employee = portal.add_user("Eve")  # the built-in role only
    portal.call("crm.lead.get", {"id": 99}, webhook=employee)
    assert last(portal) == (
        400,
        "",
        "lead 99 does not exist, which only level ALL may learn; "
        'role "Employee" gives user 3 lead:read at level OWN',
    )
    portal.call("crm.lead.add", {"fields": {"TITLE": "x", "ASSIGNED_BY_ID": 1}}, webhook=employee)
    assert last(portal) == (
        400,
        "",
        'the new lead would be assigned to user 1; role "Employee" gives user 3 lead:add at level OWN',
    )


def test_binding_refusals(portal: InProcessServer) -> None:
    lead = portal.insert_lead(assigned_by=1, opened="N")
    nobody = user_with_role(portal, None, {})
    answer = portal.call("crm.lead.contact.items.get", {"id": lead}, webhook=nobody)
    assert (answer.status, answer.body) == (400, {"error": "", "error_description": "Access denied."})  # E9
    assert last(portal) == (400, "", "user 2 holds no role that gives read on any CRM entity")
    employee = portal.add_user("Eve")
    portal.call("crm.lead.contact.items.get", {"id": lead}, webhook=employee)
    assert last(portal) == (
        403,
        "ACCESS_DENIED",
        'lead 1 is assigned to user 1; role "Employee" gives user 3 lead:read at level OWN',
    )


def test_scope_credentials_method_and_parameters(portal: InProcessServer) -> None:
    narrow = portal.add_user("Una", scopes=("user",))
    answer = portal.call("crm.lead.list", {}, webhook=narrow)
    assert (answer.status, answer.body) == (403, INSUFFICIENT_SCOPE)
    assert last(portal) == (
        403,
        "insufficient_scope",
        "crm.lead.list needs scope crm; webhook 2 has scope user",
    )
    user, code = narrow.rstrip("/").rsplit("/", 2)[1:]
    for path, why in [
        (f"/rest/1/{code}/crm.lead.list", "no webhook of user 1 has this code"),
        (f"/rest/99/{code}/crm.lead.list", "user 99 has no webhook"),
    ]:
        answer = portal.raw("POST", path)
        assert (answer.status_code, answer.json()) == (401, INVALID_CREDENTIALS)
        assert last(portal) == (401, "INVALID_CREDENTIALS", why)
    with closing(portal.storage()) as store, store.write() as tx:
        tx.webhook_set_active(2, False)
    portal.call("crm.lead.list", {}, webhook=narrow)
    assert last(portal) == (401, "INVALID_CREDENTIALS", "webhook 2 of user 2 is disabled")
    with closing(portal.storage()) as store, store.write() as tx:
        tx.webhook_set_active(2, True)
        tx.user_update(int(user), {"active": False})
    portal.call("crm.lead.list", {}, webhook=narrow)
    assert last(portal) == (401, "INVALID_CREDENTIALS", "user 2 is inactive")
    portal.raw("POST", "/rest/crm.lead.list")
    assert last(portal) == (
        401,
        "NO_AUTH_FOUND",
        "the call has no auth parameter and its path names no webhook",
    )
    portal.raw("POST", "/rest/crm.lead.list", json={"auth": "not-a-token"})
    assert last(portal) == (401, "invalid_token", "no access token matches auth")
    portal.call("crm.nothing.here", {})
    assert last(portal) == (404, "ERROR_METHOD_NOT_FOUND", "no method crm.nothing.here")
    portal.call("tasks.task.list", {})
    assert last(portal) == (
        404,
        "ERROR_METHOD_NOT_FOUND",
        "tasks.task.list is a Bitrix24 method that b24local does not implement",
    )
    portal.call("crm.lead.get", {})
    assert last(portal) == (400, "", "ID is not defined or invalid.")


def test_limits(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> None:
    server = start_in_process(
        new_database(request, backend, tmp_path),
        "--admin-token",
        TOKEN,
        "--limits",
        "standard",
        "--operating-limit",
        "0",
    )
    try:
        server.call("crm.lead.list", {})
        answer = server.call("crm.lead.list", {})
        assert answer.status == 429
        assert last(server) == (
            429,
            "OPERATION_TIME_LIMIT",
            "crm.lead.list ran 0.0 s for webhook 1 in the last 10 minutes, above the limit of 0 s",
        )
        for _ in range(60):
            if server.call("server.time", {}).status == 503:
                break
        assert last(server) == (
            503,
            "QUERY_LIMIT_EXCEEDED",
            "the request bucket of --limits standard is full: it holds 50 requests and drains 2 a second",
        )
    finally:
        server.stop()
