"""``POST /_b24local/reset`` (test-portal.md T3) behind the admin token; the CLI's reset and its
atomicity under concurrent calls are tested in tests/test_reset.py."""

from __future__ import annotations

import pytest

from tests.admin.conftest import AUTH
from tests.conftest import InProcessServer


def test_reset_empties_the_crm_and_keeps_the_webhook(portal: InProcessServer) -> None:
    contact = portal.call("crm.contact.add", {"fields": {"NAME": "Ann"}}).result
    portal.call("crm.deal.add", {"fields": {"CONTACT_IDS": [contact]}})
    answer = portal.raw("POST", "/_b24local/reset", headers=AUTH)
    assert (answer.status_code, answer.json()) == (200, {"reset": "crm"})
    assert portal.call("crm.deal.list", {}).body["total"] == 0
    assert portal.call("crm.contact.add", {"fields": {"NAME": "Bob"}}).result == 1  # same webhook, ids from 1


@pytest.mark.parametrize(
    ("body", "description"),
    [
        (b'{"all": true, "to": "clean"}', 'Give either "all" or "to", not both'),
        (b'{"all": 1}', '"all" must be true or false'),
        (b'{"to": "a/b"}', "\"to\": A snapshot name is 1 to 64 letters, digits, '_', '.' or '-'"),
        (b'{"everything": 1}', "Unknown option: everything"),
        (b"[1]", "The body must be a JSON object"),
        (b"{", "The body must be a JSON object"),
    ],
)
def test_what_is_not_served_changes_nothing(portal: InProcessServer, body: bytes, description: str) -> None:
    portal.call("crm.lead.add", {"fields": {"TITLE": "kept"}})
    answer = portal.raw(
        "POST", "/_b24local/reset", headers={**AUTH, "content-type": "application/json"}, content=body
    )
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": "INVALID_REQUEST", "error_description": description},
    )
    assert portal.call("crm.lead.list", {}).body["total"] == 1


def test_reset_needs_the_admin_token_and_post(portal: InProcessServer) -> None:
    portal.call("crm.lead.add", {"fields": {"TITLE": "kept"}})
    assert portal.raw("POST", "/_b24local/reset").status_code == 401
    assert (
        portal.raw("POST", "/_b24local/reset", headers={"authorization": "Bearer wrong"}).status_code == 401
    )
    answer = portal.raw("GET", "/_b24local/reset", headers=AUTH)
    assert (answer.status_code, answer.headers["allow"]) == (405, "POST")
    assert portal.call("crm.lead.list", {}).body["total"] == 1
