"""Path and parameter tolerance that real clients rely on (issue: clients run unchanged)."""

from __future__ import annotations

from tests.conftest import LiveServer


def _path(server: LiveServer) -> str:
    return server.webhook_path  # /rest/{user}/{code}/


def test_double_slashes_and_any_case(server: LiveServer) -> None:
    lead = server.insert_lead(title="tolerant")
    path = _path(server).replace("/rest/", "//rest//")
    reply = server.raw("GET", f"{path}/CRM.Lead.Get?id={lead}")
    assert reply.status_code == 200
    assert reply.json()["result"]["TITLE"] == "tolerant"
    # b24pysdk spells list methods like this.
    reply = server.raw(
        "POST", f"{_path(server)}crm.lead.List", json={"filter": {"ID": lead}, "select": ["ID"]}
    )
    assert reply.json()["result"] == [{"ID": str(lead)}]


def test_get_with_stray_json_content_type_and_no_body(server: LiveServer) -> None:
    lead = server.insert_lead()
    reply = server.raw(
        "GET",
        f"{_path(server)}crm.lead.contact.items.get?id={lead}",
        headers={"Content-Type": "application/json"},
    )
    assert (reply.status_code, reply.json()["result"]) == (200, [])
    assert reply.headers["content-type"] == "application/json; charset=utf-8"


def test_unknown_parameters_are_ignored(server: LiveServer) -> None:
    lead = server.insert_lead(title="ignored-params")
    reply = server.call(
        "crm.lead.get", {"id": lead, "start": 50, "__order": "x", "bx24_label": {"a": 1}, "auth": "ignored"}
    )
    assert reply.result["TITLE"] == "ignored-params"
    contact = server.insert_contact()
    reply = server.call(
        "crm.lead.contact.add",
        {"id": lead, "fields": {"CONTACT_ID": contact}, "start": 0, "bx24_first_name": "n"},
    )
    assert reply.body["result"] is True


def test_maps_keyed_0_1_are_lists(server: LiveServer) -> None:
    lead = server.insert_lead(title="maps")
    first, second = server.insert_contact(), server.insert_contact()
    items = {"0": {"CONTACT_ID": first}, "1": {"CONTACT_ID": second}}
    assert server.call("crm.lead.contact.items.set", {"id": lead, "items": items}).result is True
    assert server.call("crm.lead.contact.items.get", {"id": lead}).result == [
        {"CONTACT_ID": first, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"},
        {"CONTACT_ID": second, "SORT": 20, "ROLE_ID": 0, "IS_PRIMARY": "N"},
    ]
    reply = server.call(
        "crm.lead.list",
        {"select": {"0": "ID", "1": "TITLE"}, "filter": {"@ID": {"0": lead, "1": 0}}},
    )
    assert reply.result == [{"ID": str(lead), "TITLE": "maps"}]
    assert (
        server.call("crm.lead.update", {"id": lead, "fields": {"CONTACT_IDS": {"0": second}}}).result is True
    )
    assert server.call("crm.lead.get", {"id": lead}).result["CONTACT_ID"] == str(second)


def test_json_answers_say_utf8(server: LiveServer) -> None:
    for path in (f"{_path(server)}server.time", f"{_path(server)}no.such.method", "/rest/1/bad/server.time"):
        reply = server.raw("POST", path)
        assert reply.headers["content-type"] == "application/json; charset=utf-8", path
