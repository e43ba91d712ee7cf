"""P4: one call, four encodings (JSON, form-urlencoded, multipart/form-data, query string), one effect."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest

from b24local.crm.entities import LEAD_CONTACT
from tests.conftest import LiveServer

ENCODINGS = ["json", "form", "multipart", "query-post", "query-get"]


def php_pairs(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Nested params as PHP bracket pairs with explicit indices (``items[0][CONTACT_ID]``)."""
    if isinstance(value, dict):
        pairs: list[tuple[str, str]] = []
        for key, item in value.items():
            pairs += php_pairs(item, f"{prefix}[{key}]" if prefix else str(key))
        return pairs
    if isinstance(value, list):
        pairs = []
        for index, item in enumerate(value):
            pairs += php_pairs(item, f"{prefix}[{index}]")
        return pairs
    return [(prefix, str(value))]


def query_string(params: dict[str, Any]) -> str:
    return "&".join(f"{quote(k, safe='[]')}={quote(v)}" for k, v in php_pairs(params))


def send(server: LiveServer, encoding: str, method: str, params: dict[str, Any]) -> httpx.Response:
    url = server.webhook_url + method
    client = server.client
    if encoding == "json":
        return client.post(url, json=params)
    if encoding == "form":
        body = query_string(params).encode()
        return client.post(url, content=body, headers={"content-type": "application/x-www-form-urlencoded"})
    if encoding == "multipart":
        parts = [(name, (None, value)) for name, value in php_pairs(params)]
        response = client.post(url, files=parts)
        assert response.request.headers["content-type"].startswith("multipart/form-data; boundary=")
        return response
    if encoding == "query-post":
        return client.post(f"{url}?{query_string(params)}", content=b"")
    assert encoding == "query-get"
    return client.get(f"{url}?{query_string(params)}")


def stored(server: LiveServer, lead: int) -> list[tuple[int, int, bool, int]]:
    store = server.storage()
    try:
        with store.read() as tx:
            return [
                (b.bound_id, b.sort, b.is_primary, b.role_id) for b in tx.bindings_get(LEAD_CONTACT, lead)
            ]
    finally:
        store.close()


@pytest.fixture(scope="module")
def contacts(server: LiveServer) -> list[int]:
    return [server.insert_contact() for _ in range(4)]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_items_set_same_state_in_every_encoding(
    server: LiveServer, contacts: list[int], encoding: str
) -> None:
    c1, c2, c3, c4 = contacts
    lead = server.insert_lead()
    assert (
        server.call("crm.lead.contact.items.set", {"id": lead, "items": [{"CONTACT_ID": c4}]}).result is True
    )
    params = {
        "id": lead,
        "items": [
            {"CONTACT_ID": c1, "SORT": 30, "IS_PRIMARY": "N"},
            {"CONTACT_ID": c2, "SORT": "5", "IS_PRIMARY": "Y", "ROLE_ID": 9},
            {"CONTACT_ID": c3},
        ],
    }
    response = send(server, encoding, "crm.lead.contact.items.set", params)
    assert response.status_code == 200, response.content
    assert response.json()["result"] is True
    expected = [
        {"CONTACT_ID": c2, "SORT": 5, "ROLE_ID": 0, "IS_PRIMARY": "Y"},
        {"CONTACT_ID": c1, "SORT": 30, "ROLE_ID": 0, "IS_PRIMARY": "N"},
        {"CONTACT_ID": c3, "SORT": 30, "ROLE_ID": 0, "IS_PRIMARY": "N"},
    ]
    assert server.call("crm.lead.contact.items.get", {"id": lead}).result == expected
    assert stored(server, lead) == [(c2, 5, True, 0), (c1, 30, False, 0), (c3, 30, False, 0)]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_add_and_delete_in_every_encoding(server: LiveServer, contacts: list[int], encoding: str) -> None:
    c1, c2, _, _ = contacts
    lead = server.insert_lead()
    for contact, sort, primary in ((c1, "15", "N"), (c2, 7, "Y")):
        fields = {"CONTACT_ID": contact, "SORT": sort, "IS_PRIMARY": primary}
        response = send(server, encoding, "crm.lead.contact.add", {"id": lead, "fields": fields})
        assert response.status_code == 200, response.content
        assert response.json()["result"] is True
    assert stored(server, lead) == [(c2, 7, True, 0), (c1, 15, False, 0)]
    response = send(server, encoding, "crm.lead.contact.delete", {"id": lead, "fields": {"CONTACT_ID": c2}})
    assert response.json()["result"] is True
    assert stored(server, lead) == [(c1, 15, True, 0)]
    response = send(server, encoding, "crm.lead.contact.items.delete", {"ID": lead})
    assert response.json()["result"] is True
    assert stored(server, lead) == []


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_errors_are_the_same_in_every_encoding(
    server: LiveServer, contacts: list[int], encoding: str
) -> None:
    lead = server.insert_lead()
    server.call("crm.lead.contact.items.set", {"id": lead, "items": [{"CONTACT_ID": contacts[0]}]})
    cases: list[tuple[str, dict[str, Any], dict[str, str]]] = [
        (
            "crm.lead.contact.items.set",
            {"id": "0", "items": [{"CONTACT_ID": contacts[1]}]},
            {"error": "", "error_description": "The parameter ownerEntityID is invalid or not defined."},
        ),
        (
            # A form field can only be a string: "items=" is not an array (E5).
            "crm.lead.contact.items.set",
            {"id": lead, "items": ""},
            {"error": "", "error_description": "The parameter items must be array."},
        ),
        (
            "crm.lead.contact.items.set",
            {"id": lead, "items": [{"CONTACT_ID": contacts[1]}, {"CONTACT_ID": "abc"}]},
            {
                "error": "",
                "error_description": "The parameter items is not valid: item #1 has no valid CONTACT_ID.",
            },
        ),
        (
            "crm.lead.contact.add",
            {"id": f"{lead}abc", "fields": {"CONTACT_ID": "0"}},
            {"error": "", "error_description": "The parameter 'fields' is not valid."},
        ),
    ]
    for method, params, body in cases:
        response = send(server, encoding, method, params)
        assert response.status_code == 400
        assert response.json() == body
    assert stored(server, lead) == [(contacts[0], 10, True, 0)]


def test_query_and_body_combine(server: LiveServer, contacts: list[int]) -> None:
    """R1: the id in the query string, the items in the body; the body wins on a shared name."""
    c1, c2, _, _ = contacts
    lead, other = server.insert_lead(), server.insert_lead()
    url = f"{server.webhook_url}crm.lead.contact.items.set?id={other}"
    body = query_string({"id": lead, "items": [{"CONTACT_ID": c1}, {"CONTACT_ID": c2}]}).encode()
    response = server.client.post(
        url, content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.json()["result"] is True
    assert stored(server, lead) == [(c1, 10, True, 0), (c2, 20, False, 0)]
    assert stored(server, other) == []
    url = f"{server.webhook_url}crm.lead.contact.items.set?id={other}"
    response = server.client.post(url, json={"items": [{"CONTACT_ID": c2}]})
    assert response.json()["result"] is True
    assert stored(server, other) == [(c2, 10, True, 0)]


def test_items_get_by_get_query(server: LiveServer, contacts: list[int]) -> None:
    c1, c2, _, _ = contacts
    lead = server.insert_lead()
    server.call("crm.lead.contact.items.set", {"id": lead, "items": [{"CONTACT_ID": c2}, {"CONTACT_ID": c1}]})
    expected = [
        {"CONTACT_ID": c2, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"},
        {"CONTACT_ID": c1, "SORT": 20, "ROLE_ID": 0, "IS_PRIMARY": "N"},
    ]
    for query in (f"id={lead}", f"ID={lead}", f"id={lead}abc", f"ID={lead}&id=0", f"auth=ignored&id={lead}"):
        for name in ("crm.lead.contact.items.get", "crm.lead.contact.items.get.json"):
            response = server.client.get(f"{server.webhook_url}{name}?{query}")
            assert response.status_code == 200, (query, response.content)
            assert response.json()["result"] == expected
    response = server.client.get(f"{server.webhook_url}crm.lead.contact.items.get")
    assert response.status_code == 400
    assert response.json() == {
        "error": "",
        "error_description": "The parameter ownerEntityID is invalid or not defined.",
    }
