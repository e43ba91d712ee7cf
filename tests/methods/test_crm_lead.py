"""crm.lead.* over real HTTP (contract crud.md; lead-contact-bindings.md L1–L4, I4; protocol.md Q1–Q3)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from b24local.crm.entities import LEAD, LEAD_CONTACT
from tests.conftest import LiveServer, Response
from tests.expected import ISO_DATETIME

VOLATILE = ("DATE_CREATE", "DATE_MODIFY", "MOVED_TIME", "LAST_ACTIVITY_TIME")

LEAD_FIELD_NAMES = [
    "ID", "TITLE", "HONORIFIC", "NAME", "SECOND_NAME", "LAST_NAME", "BIRTHDATE", "COMPANY_TITLE",
    "SOURCE_ID", "SOURCE_DESCRIPTION", "STATUS_ID", "STATUS_DESCRIPTION", "STATUS_SEMANTIC_ID", "POST",
    "ADDRESS", "ADDRESS_2", "ADDRESS_CITY", "ADDRESS_POSTAL_CODE", "ADDRESS_REGION", "ADDRESS_PROVINCE",
    "ADDRESS_COUNTRY", "ADDRESS_COUNTRY_CODE", "ADDRESS_LOC_ADDR_ID", "CURRENCY_ID", "OPPORTUNITY",
    "IS_MANUAL_OPPORTUNITY", "OPENED", "COMMENTS", "HAS_PHONE", "HAS_EMAIL", "HAS_IMOL", "ASSIGNED_BY_ID",
    "CREATED_BY_ID", "MODIFY_BY_ID", "MOVED_BY_ID", "DATE_CREATE", "DATE_MODIFY", "MOVED_TIME",
    "COMPANY_ID", "CONTACT_ID", "CONTACT_IDS", "IS_RETURN_CUSTOMER", "DATE_CLOSED", "ORIGINATOR_ID",
    "ORIGIN_ID", "UTM_SOURCE", "UTM_MEDIUM", "UTM_CAMPAIGN", "UTM_CONTENT", "UTM_TERM",
    "LAST_ACTIVITY_TIME", "LAST_ACTIVITY_BY", "PHONE", "EMAIL", "WEB", "IM", "LINK",
]  # fmt: skip
# What `select` "*" (and no select) prints: every field but CONTACT_IDS and the multifields.
STAR = [n for n in LEAD_FIELD_NAMES if n not in ("CONTACT_IDS", "PHONE", "EMAIL", "WEB", "IM", "LINK")]


def error(response: Response, status: int, code: str, description: str) -> None:
    assert (response.status, response.body) == (status, {"error": code, "error_description": description})


def user_id(webhook: str) -> int:
    found = re.search(r"/rest/(\d+)/", webhook)
    assert found is not None
    return int(found.group(1))


def add(live: LiveServer, webhook: str | None = None, **fields: Any) -> int:
    result = live.call("crm.lead.add", {"fields": fields}, webhook=webhook).result
    assert isinstance(result, int)
    return result


def get(live: LiveServer, lead_id: int) -> dict[str, Any]:
    result = live.call("crm.lead.get", {"id": lead_id}).result
    assert isinstance(result, dict)
    return result


def bindings(live: LiveServer, lead_id: int) -> list[dict[str, Any]]:
    result = live.call("crm.lead.contact.items.get", {"id": lead_id}).result
    assert isinstance(result, list)
    return result


def ids(live: LiveServer, params: dict[str, Any]) -> list[int]:
    body = live.call("crm.lead.list", {"select": ["ID"], **params}).result
    return [int(item["ID"]) for item in body]


# crm.lead.fields ------------------------------------------------------------------------------------


def test_fields_in_definition_order(server: LiveServer) -> None:
    result = server.call("crm.lead.fields").result
    assert list(result) == LEAD_FIELD_NAMES
    assert result["ID"] == {
        "type": "integer",
        "isRequired": False,
        "isReadOnly": True,
        "isImmutable": False,
        "isMultiple": False,
        "isDynamic": False,
        "title": "ID",
    }
    assert result["STATUS_ID"] == {
        "type": "crm_status",
        "isRequired": False,
        "isReadOnly": False,
        "isImmutable": False,
        "isMultiple": False,
        "isDynamic": False,
        "statusType": "STATUS",
        "title": "Stage",
    }
    assert result["CONTACT_ID"] == {
        "type": "crm_contact",
        "isRequired": False,
        "isReadOnly": False,
        "isImmutable": False,
        "isMultiple": False,
        "isDynamic": False,
        "isDeprecated": True,
        "title": "Contact",
    }
    assert result["PHONE"] == {
        "type": "crm_multifield",
        "isRequired": False,
        "isReadOnly": False,
        "isImmutable": False,
        "isMultiple": True,
        "isDynamic": False,
        "title": "Phone",
    }


# crm.lead.add / crm.lead.get --------------------------------------------------------------------------


def test_add_then_get_full_shape(fresh_server: LiveServer) -> None:
    fresh_server.insert_contact(7)
    response = fresh_server.call(
        "crm.lead.add",
        {
            "FIELDS": {
                "TITLE": "Lead from the site",
                "HONORIFIC": "HNR_EN_1",
                "NAME": "Gleb",
                "SECOND_NAME": "",
                "LAST_NAME": "Titov",
                "BIRTHDATE": "1990-05-01",
                "COMPANY_TITLE": "ACME",
                "SOURCE_ID": "WEB",
                "SOURCE_DESCRIPTION": "form",
                "STATUS_ID": "IN_PROCESS",
                "POST": "CEO",
                "ADDRESS_CITY": "Riga",
                "ADDRESS_LOC_ADDR_ID": "12",
                "CURRENCY_ID": "USD",
                "OPPORTUNITY": "15000",
                "IS_MANUAL_OPPORTUNITY": "Y",
                "OPENED": "N",
                "COMMENTS": "call back",
                "COMPANY_ID": 0,
                "CONTACT_ID": 7,
                "ORIGINATOR_ID": "shop",
                "ORIGIN_ID": "A-1",
                "UTM_SOURCE": "google",
                "PHONE": [{"VALUE": "+15551234567", "VALUE_TYPE": "MOBILE"}],
                "EMAIL": [{"VALUE": "gleb@example.com"}],
                "IM": [{"VALUE": "imol|livechat|1|67|21", "VALUE_TYPE": "OPENLINE"}],
                # read-only and unknown fields are ignored
                "ID": 77,
                "DATE_CREATE": "2000-01-01T00:00:00+00:00",
                "CREATED_BY_ID": 9,
                "HAS_PHONE": "N",
                "STATUS_SEMANTIC_ID": "F",
                "IS_RETURN_CUSTOMER": "N",
                "title": "lower case is not a field",
                "NO_SUCH_FIELD": "x",
            }
        },
    )
    assert response.status == 200
    assert response.body["result"] == 1
    lead = get(fresh_server, 1)
    for name in VOLATILE:
        assert ISO_DATETIME.match(lead.pop(name)), name
    assert re.match(r"^1990-05-01T00:00:00[+-]\d\d:\d\d$", lead.pop("BIRTHDATE"))
    assert lead == {
        "ID": "1",
        "TITLE": "Lead from the site",
        "HONORIFIC": "HNR_EN_1",
        "NAME": "Gleb",
        "SECOND_NAME": "",
        "LAST_NAME": "Titov",
        "COMPANY_TITLE": "ACME",
        "SOURCE_ID": "WEB",
        "SOURCE_DESCRIPTION": "form",
        "STATUS_ID": "IN_PROCESS",
        "STATUS_DESCRIPTION": None,
        "STATUS_SEMANTIC_ID": "P",
        "POST": "CEO",
        "ADDRESS": None,
        "ADDRESS_2": None,
        "ADDRESS_CITY": "Riga",
        "ADDRESS_POSTAL_CODE": None,
        "ADDRESS_REGION": None,
        "ADDRESS_PROVINCE": None,
        "ADDRESS_COUNTRY": None,
        "ADDRESS_COUNTRY_CODE": None,
        "ADDRESS_LOC_ADDR_ID": "12",
        "CURRENCY_ID": "USD",
        "OPPORTUNITY": "15000.00",
        "IS_MANUAL_OPPORTUNITY": "Y",
        "OPENED": "N",
        "COMMENTS": "call back",
        "HAS_PHONE": "Y",
        "HAS_EMAIL": "Y",
        "HAS_IMOL": "Y",
        "ASSIGNED_BY_ID": "1",
        "CREATED_BY_ID": "1",
        "MODIFY_BY_ID": "1",
        "MOVED_BY_ID": "1",
        "COMPANY_ID": None,
        "CONTACT_ID": "7",
        "IS_RETURN_CUSTOMER": "Y",
        "DATE_CLOSED": None,
        "ORIGINATOR_ID": "shop",
        "ORIGIN_ID": "A-1",
        "UTM_SOURCE": "google",
        "UTM_MEDIUM": None,
        "UTM_CAMPAIGN": None,
        "UTM_CONTENT": None,
        "UTM_TERM": None,
        "LAST_ACTIVITY_BY": "1",
        "PHONE": [{"ID": "1", "VALUE_TYPE": "MOBILE", "VALUE": "+15551234567", "TYPE_ID": "PHONE"}],
        "EMAIL": [{"ID": "2", "VALUE_TYPE": "WORK", "VALUE": "gleb@example.com", "TYPE_ID": "EMAIL"}],
        "IM": [{"ID": "3", "VALUE_TYPE": "OPENLINE", "VALUE": "imol|livechat|1|67|21", "TYPE_ID": "IM"}],
    }


def test_add_defaults(fresh_server: LiveServer) -> None:
    assert add(fresh_server) == 1
    lead = get(fresh_server, 1)
    assert ISO_DATETIME.match(lead["DATE_CREATE"])
    assert lead["DATE_CREATE"] == lead["DATE_MODIFY"] == lead["MOVED_TIME"] == lead["LAST_ACTIVITY_TIME"]
    picked = {k: lead[k] for k in lead if k not in VOLATILE and lead[k] is not None}
    assert (lead["BIRTHDATE"], lead["DATE_CLOSED"]) == (None, None)
    assert picked == {
        "ID": "1",
        "STATUS_ID": "NEW",
        "STATUS_SEMANTIC_ID": "P",
        "OPPORTUNITY": "0.00",
        "IS_MANUAL_OPPORTUNITY": "N",
        "OPENED": "Y",
        "HAS_PHONE": "N",
        "HAS_EMAIL": "N",
        "HAS_IMOL": "N",
        "ASSIGNED_BY_ID": "1",
        "CREATED_BY_ID": "1",
        "MODIFY_BY_ID": "1",
        "MOVED_BY_ID": "1",
        "IS_RETURN_CUSTOMER": "N",
        "LAST_ACTIVITY_BY": "1",
    }
    assert "CONTACT_IDS" not in lead and "PHONE" not in lead


def test_add_coerces_values(server: LiveServer) -> None:
    lead_id = add(
        server,
        TITLE=12.5,
        NAME=100,
        ADDRESS_LOC_ADDR_ID="7abc",
        OPPORTUNITY="1 234,5",
        OPENED=False,
        IS_MANUAL_OPPORTUNITY="y",
        BIRTHDATE="2024-05-23T18:18:25+02:00",
        STATUS_ID="CONVERTED",
        ASSIGNED_BY_ID="1",
    )
    lead = get(server, lead_id)
    assert {k: lead[k] for k in ("TITLE", "NAME", "ADDRESS_LOC_ADDR_ID", "OPPORTUNITY", "OPENED")} == {
        "TITLE": "12.5",
        "NAME": "100",
        "ADDRESS_LOC_ADDR_ID": "7",
        "OPPORTUNITY": "1234.50",
        "OPENED": "N",
    }
    assert lead["IS_MANUAL_OPPORTUNITY"] == "Y"
    assert lead["BIRTHDATE"].startswith("2024-05-23T00:00:00")
    assert (lead["STATUS_SEMANTIC_ID"], lead["DATE_CLOSED"]) == ("S", lead["DATE_CREATE"])
    assert get(server, add(server, STATUS_ID="JUNK", BIRTHDATE="23.05.2024"))["STATUS_SEMANTIC_ID"] == "F"


def test_add_form_encoded_with_php_maps(server: LiveServer) -> None:
    raw = server.client.post(
        server.webhook_url + "crm.lead.add",
        data={
            "fields[TITLE]": "form",
            "fields[PHONE][0][VALUE]": "+100",
            "fields[PHONE][0][VALUE_TYPE]": "HOME",
            "fields[PHONE][1][VALUE]": "+200",
        },
    )
    assert raw.status_code == 200
    lead = get(server, raw.json()["result"])
    assert lead["TITLE"] == "form"
    assert [(p["VALUE"], p["VALUE_TYPE"]) for p in lead["PHONE"]] == [("+100", "HOME"), ("+200", "WORK")]


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({}, "Parameter 'fields' must be array."),
        ({"fields": "TITLE"}, "Parameter 'fields' must be array."),
        ({"fields": 5}, "Parameter 'fields' must be array."),
        ({"fields": {"TITLE": "x"}, "params": "x"}, "Parameter 'params' must be array."),
        (
            {"fields": {"BIRTHDATE": "31.02.2020"}},
            "Field 'BIRTHDATE' is not valid: '31.02.2020' is not a date.",
        ),
        ({"fields": {"BIRTHDATE": "tomorrow"}}, "Field 'BIRTHDATE' is not valid: 'tomorrow' is not a date."),
        ({"fields": {"OPENED": "maybe"}}, "Field 'OPENED' is not valid: 'maybe' is neither Y nor N."),
        ({"fields": {"TITLE": {"a": 1}}}, "Field 'TITLE' is not valid: an array is not allowed here."),
        (
            {"fields": {"OPPORTUNITY": "1e999"}},
            "Field 'OPPORTUNITY' is not valid: '1e999' is not a finite number.",
        ),
        ({"fields": {"PHONE": "+1555"}}, "Field 'PHONE' is not valid: it must be an array of objects."),
        ({"fields": {"PHONE": ["+1555"]}}, "Field 'PHONE' is not valid: item #0 is not an object."),
        (
            {"fields": {"PHONE": [{"VALUE": ["x"]}]}},
            "Field 'PHONE' is not valid: item #0 has an invalid VALUE.",
        ),
        ({"fields": {"CONTACT_IDS": "4"}}, "Field 'CONTACT_IDS' is not valid: it must be an array of IDs."),
        (
            {"fields": {"CONTACT_IDS": [{"CONTACT_ID": 4}]}},
            "Field 'CONTACT_IDS' is not valid: item #0 is not an ID.",
        ),
        ({"fields": {"CONTACT_ID": "abc"}}, "Field 'CONTACT_ID' is not valid: the value is not an ID."),
        # PostgreSQL text cannot hold NUL (a 500 there before): refused on both backends.
        ({"fields": {"TITLE": "a\x00b"}}, "Field 'TITLE' is not valid: the text contains a NUL character."),
    ],
)
def test_add_refuses_bad_input(server: LiveServer, params: dict[str, Any], description: str) -> None:
    before = server.call("crm.lead.list", {}).body["total"]
    error(server.call("crm.lead.add", params), 400, "", description)
    assert server.call("crm.lead.list", {}).body["total"] == before


def test_add_unknown_contact_writes_nothing(fresh_server: LiveServer) -> None:
    fresh_server.insert_contact(4)
    response = fresh_server.call("crm.lead.add", {"fields": {"TITLE": "x", "CONTACT_IDS": [4, 999]}})
    error(response, 400, "NOT_FOUND", "Contact #999 not found.")
    error(
        fresh_server.call("crm.lead.add", {"fields": {"CONTACT_ID": 998}}),
        400,
        "NOT_FOUND",
        "Contact #998 not found.",
    )
    assert fresh_server.call("crm.lead.list", {}).body["total"] == 0


def test_get_errors(server: LiveServer) -> None:
    for bad in (0, -3, "abc", None):
        error(server.call("crm.lead.get", {"id": bad}), 400, "", "ID is not defined or invalid.")
    error(server.call("crm.lead.get", {}), 400, "", "ID is not defined or invalid.")
    error(server.call("crm.lead.get", {"id": 987654}), 400, "", "Not found.")
    lead_id = add(server, TITLE="by id")
    assert get(server, lead_id)["TITLE"] == "by id"
    assert server.call("crm.lead.get", {"ID": str(lead_id)}).result["ID"] == str(lead_id)


# crm.lead.update ---------------------------------------------------------------------------------


def test_update_changes_only_given_fields(server: LiveServer) -> None:
    lead_id = server.insert_lead(title="old", name="Ann", opportunity=5.0, date_create=1000, date_modify=1000)
    before = get(server, lead_id)
    assert (
        server.call("crm.lead.update", {"id": lead_id, "fields": {"TITLE": "new", "NO_SUCH": 1}}).result
        is True
    )
    after = get(server, lead_id)
    assert ISO_DATETIME.match(after["DATE_MODIFY"]) and after["DATE_MODIFY"] != before["DATE_MODIFY"]
    changed = {k: after[k] for k in after if after[k] != before.get(k)}
    assert changed == {"TITLE": "new", "MODIFY_BY_ID": "1", "DATE_MODIFY": after["DATE_MODIFY"]}


def test_update_status_and_clearing(server: LiveServer) -> None:
    lead_id = add(server, TITLE="t", NAME="n", BIRTHDATE="2001-11-11")
    server.call("crm.lead.update", {"id": lead_id, "fields": {"STATUS_ID": "CONVERTED", "NAME": None}})
    lead = get(server, lead_id)
    assert (lead["STATUS_ID"], lead["STATUS_SEMANTIC_ID"], lead["NAME"]) == ("CONVERTED", "S", None)
    assert ISO_DATETIME.match(lead["DATE_CLOSED"])
    server.call("crm.lead.update", {"id": lead_id, "fields": {"STATUS_ID": "IN_PROCESS", "BIRTHDATE": ""}})
    lead = get(server, lead_id)
    assert (lead["STATUS_SEMANTIC_ID"], lead["DATE_CLOSED"], lead["BIRTHDATE"]) == ("P", None, None)
    # an empty value of a field with a default leaves it as it is
    server.call("crm.lead.update", {"id": lead_id, "fields": {"STATUS_ID": "", "OPENED": None}})
    assert (get(server, lead_id)["STATUS_ID"], get(server, lead_id)["OPENED"]) == ("IN_PROCESS", "Y")


def test_update_errors(server: LiveServer) -> None:
    lead_id = add(server, TITLE="keep")
    error(server.call("crm.lead.update", {"id": 0, "fields": {}}), 400, "", "ID is not defined or invalid.")
    error(server.call("crm.lead.update", {"id": 987654, "fields": {}}), 400, "", "Not found.")
    error(server.call("crm.lead.update", {"id": lead_id}), 400, "", "Parameter 'fields' must be array.")
    error(
        server.call("crm.lead.update", {"id": lead_id, "fields": {"TITLE": "x", "BIRTHDATE": "99.99.2020"}}),
        400,
        "",
        "Field 'BIRTHDATE' is not valid: '99.99.2020' is not a date.",
    )
    assert get(server, lead_id)["TITLE"] == "keep"


# Multifields (C5) ----------------------------------------------------------------------------------


def test_multifield_writes(fresh_server: LiveServer) -> None:
    lead_id = add(
        fresh_server,
        PHONE=[{"VALUE": "+1"}, {"VALUE": "+2", "VALUE_TYPE": "HOME"}, {"VALUE": "+3"}],
        EMAIL=[{"VALUE": "a@example.com"}],
    )
    other = add(fresh_server, PHONE=[{"VALUE": "+9"}])  # PHONE entry 5
    response = fresh_server.call(
        "crm.lead.update",
        {
            "id": lead_id,
            "fields": {
                "PHONE": {
                    "0": {"ID": "1", "VALUE": "+10", "VALUE_TYPE": "MOBILE"},
                    "1": {"ID": 2, "DELETE": "Y"},
                    "2": {"VALUE": "+4"},
                    "3": {"VALUE": ""},
                }
            },
        },
    )
    assert response.result is True
    lead = get(fresh_server, lead_id)
    assert lead["PHONE"] == [
        {"ID": "1", "VALUE_TYPE": "MOBILE", "VALUE": "+10", "TYPE_ID": "PHONE"},
        {"ID": "3", "VALUE_TYPE": "WORK", "VALUE": "+3", "TYPE_ID": "PHONE"},
        {"ID": "6", "VALUE_TYPE": "WORK", "VALUE": "+4", "TYPE_ID": "PHONE"},
    ]
    assert lead["EMAIL"] == [{"ID": "4", "VALUE_TYPE": "WORK", "VALUE": "a@example.com", "TYPE_ID": "EMAIL"}]
    # {ID, VALUE: ""} deletes; {ID} alone changes nothing; VALUE without VALUE_TYPE keeps the type
    fresh_server.call(
        "crm.lead.update",
        {"id": lead_id, "fields": {"PHONE": [{"ID": 1, "VALUE": "+11"}, {"ID": 3, "VALUE": ""}, {"ID": 6}]}},
    )
    assert get(fresh_server, lead_id)["PHONE"] == [
        {"ID": "1", "VALUE_TYPE": "MOBILE", "VALUE": "+11", "TYPE_ID": "PHONE"},
        {"ID": "6", "VALUE_TYPE": "WORK", "VALUE": "+4", "TYPE_ID": "PHONE"},
    ]
    # IDs of another element, or of another type, are refused and nothing changes
    for bad in ({"PHONE": [{"ID": 5, "VALUE": "+0"}]}, {"PHONE": [{"ID": 4, "DELETE": "Y"}]}):
        response = fresh_server.call("crm.lead.update", {"id": lead_id, "fields": {"TITLE": "no", **bad}})
        item_id = bad["PHONE"][0]["ID"]
        error(response, 400, "NOT_FOUND", f"PHONE value #{item_id} not found.")
    assert get(fresh_server, other)["PHONE"][0]["VALUE"] == "+9"
    assert get(fresh_server, lead_id)["TITLE"] is None
    # deleting the last phone and email clears HAS_PHONE / HAS_EMAIL
    fresh_server.call(
        "crm.lead.update",
        {
            "id": lead_id,
            "fields": {
                "PHONE": [{"ID": 1, "DELETE": "Y"}, {"ID": 6, "DELETE": "Y"}],
                "EMAIL": [{"ID": 4, "VALUE": ""}],
            },
        },
    )
    lead = get(fresh_server, lead_id)
    assert ("PHONE" in lead, "EMAIL" in lead, lead["HAS_PHONE"], lead["HAS_EMAIL"]) == (
        False,
        False,
        "N",
        "N",
    )


def test_multifield_ids_on_add_are_ignored(fresh_server: LiveServer) -> None:
    source = add(fresh_server, PHONE=[{"VALUE": "+1"}])
    copy = add(fresh_server, PHONE=get(fresh_server, source)["PHONE"])
    assert get(fresh_server, copy)["PHONE"] == [
        {"ID": "2", "VALUE_TYPE": "WORK", "VALUE": "+1", "TYPE_ID": "PHONE"}
    ]
    assert get(fresh_server, source)["PHONE"] == [
        {"ID": "1", "VALUE_TYPE": "WORK", "VALUE": "+1", "TYPE_ID": "PHONE"}
    ]


# CONTACT_ID / CONTACT_IDS (L1–L4) ----------------------------------------------------------------------


@pytest.fixture
def contacts(fresh_server: LiveServer) -> LiveServer:
    for contact_id in (4, 5, 6):
        fresh_server.insert_contact(contact_id)
    return fresh_server


def test_contact_ids_on_add(contacts: LiveServer) -> None:
    lead_id = add(contacts, CONTACT_IDS=[4, 5, 4, 0, "0"])
    assert bindings(contacts, lead_id) == [
        {"CONTACT_ID": 4, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"},
        {"CONTACT_ID": 5, "SORT": 20, "ROLE_ID": 0, "IS_PRIMARY": "N"},
    ]
    lead = get(contacts, lead_id)
    assert (lead["CONTACT_ID"], lead["IS_RETURN_CUSTOMER"], "CONTACT_IDS" in lead) == ("4", "Y", False)
    # CONTACT_IDS wins over CONTACT_ID; CONTACT_ID alone binds one contact
    assert [b["CONTACT_ID"] for b in bindings(contacts, add(contacts, CONTACT_ID=6, CONTACT_IDS=["5"]))] == [
        5
    ]
    assert bindings(contacts, add(contacts, CONTACT_ID="6")) == [
        {"CONTACT_ID": 6, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"}
    ]
    assert get(contacts, add(contacts, CONTACT_ID=0))["CONTACT_ID"] is None


def test_contact_id_on_update(contacts: LiveServer) -> None:
    lead_id = contacts.insert_lead(date_modify=1000, is_return_customer="N")
    contacts.call(
        "crm.lead.contact.items.set", {"id": lead_id, "items": [{"CONTACT_ID": 4}, {"CONTACT_ID": 5}]}
    )
    old = get(contacts, lead_id)
    # L3: an already bound contact changes nothing in the bindings, but it is a normal update (L4)
    assert contacts.call("crm.lead.update", {"id": lead_id, "fields": {"CONTACT_ID": "5"}}).result is True
    assert [(b["CONTACT_ID"], b["IS_PRIMARY"]) for b in bindings(contacts, lead_id)] == [(4, "Y"), (5, "N")]
    lead = get(contacts, lead_id)
    assert (lead["CONTACT_ID"], lead["IS_RETURN_CUSTOMER"]) == ("4", "Y")
    assert lead["DATE_MODIFY"] != old["DATE_MODIFY"]
    # another contact: the bindings become exactly [n]
    contacts.call("crm.lead.update", {"id": lead_id, "fields": {"CONTACT_ID": 6}})
    assert bindings(contacts, lead_id) == [{"CONTACT_ID": 6, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"}]
    # 0 clears
    contacts.call("crm.lead.update", {"id": lead_id, "fields": {"CONTACT_ID": 0}})
    assert bindings(contacts, lead_id) == []
    lead = get(contacts, lead_id)
    assert (lead["CONTACT_ID"], lead["IS_RETURN_CUSTOMER"]) == (None, "N")


def test_contact_ids_on_update(contacts: LiveServer) -> None:
    lead_id = add(contacts, CONTACT_IDS=[4])
    contacts.call("crm.lead.update", {"id": lead_id, "fields": {"CONTACT_IDS": [6, 5], "CONTACT_ID": 4}})
    assert bindings(contacts, lead_id) == [
        {"CONTACT_ID": 6, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"},
        {"CONTACT_ID": 5, "SORT": 20, "ROLE_ID": 0, "IS_PRIMARY": "N"},
    ]
    assert get(contacts, lead_id)["CONTACT_ID"] == "6"
    error(
        contacts.call("crm.lead.update", {"id": lead_id, "fields": {"TITLE": "x", "CONTACT_IDS": [4, 404]}}),
        400,
        "NOT_FOUND",
        "Contact #404 not found.",
    )
    assert [b["CONTACT_ID"] for b in bindings(contacts, lead_id)] == [6, 5]
    assert get(contacts, lead_id)["TITLE"] is None
    contacts.call("crm.lead.update", {"id": lead_id, "fields": {"CONTACT_IDS": []}})
    assert bindings(contacts, lead_id) == []
    assert get(contacts, lead_id)["CONTACT_ID"] is None


def test_binding_a_contact_the_caller_may_not_read(contacts: LiveServer) -> None:
    webhook = contacts.add_user("Manager")
    me = user_id(webhook)
    contacts.insert_contact(8, assigned_by=me)
    response = contacts.call("crm.lead.add", {"fields": {"CONTACT_IDS": [8, 4]}}, webhook=webhook)
    error(response, 400, "", "[Contact #4] Access denied.")
    lead_id = add(contacts, webhook, CONTACT_IDS=[8])
    assert get(contacts, lead_id)["CONTACT_ID"] == "8"


def test_delete_lead_deletes_bindings_and_multifields(contacts: LiveServer) -> None:
    lead_id = add(contacts, CONTACT_IDS=[4, 5], PHONE=[{"VALUE": "+1"}])
    keep = add(contacts, CONTACT_IDS=[4])
    assert contacts.call("crm.lead.delete", {"id": lead_id}).result is True
    error(contacts.call("crm.lead.get", {"id": lead_id}), 400, "", "Not found.")
    error(contacts.call("crm.lead.contact.items.get", {"id": lead_id}), 400, "NOT_FOUND", "Not found.")
    store = contacts.storage()
    try:
        with store.read() as tx:
            assert tx.bindings_get(LEAD_CONTACT, lead_id) == []
            assert tx.multifields_of(LEAD, [lead_id]) == {}
    finally:
        store.close()
    assert contacts.call("crm.contact.get", {"id": 4}).status == 200
    assert get(contacts, keep)["CONTACT_ID"] == "4"
    error(contacts.call("crm.lead.delete", {"id": lead_id}), 400, "", "Not found.")
    error(contacts.call("crm.lead.delete", {"id": "x"}), 400, "", "ID is not defined or invalid.")


def test_contact_delete_reelects_primary(contacts: LiveServer) -> None:
    lead_id = add(contacts)
    contacts.call(
        "crm.lead.contact.items.set",
        {
            "id": lead_id,
            "items": [
                {"CONTACT_ID": 4, "SORT": 10},
                {"CONTACT_ID": 5, "SORT": 30},
                {"CONTACT_ID": 6, "SORT": 20},
            ],
        },
    )
    assert contacts.call("crm.contact.delete", {"id": 4}).result is True
    assert bindings(contacts, lead_id) == [
        {"CONTACT_ID": 6, "SORT": 20, "ROLE_ID": 0, "IS_PRIMARY": "Y"},
        {"CONTACT_ID": 5, "SORT": 30, "ROLE_ID": 0, "IS_PRIMARY": "N"},
    ]
    assert get(contacts, lead_id)["CONTACT_ID"] == "6"


# crm.lead.list -------------------------------------------------------------------------------------


@pytest.fixture
def five(fresh_server: LiveServer) -> LiveServer:
    rows: list[dict[str, Any]] = [
        {"TITLE": "alpha", "OPPORTUNITY": 10, "STATUS_ID": "NEW", "PHONE": [{"VALUE": "+1555"}]},
        {"TITLE": "beta", "OPPORTUNITY": 20, "STATUS_ID": "JUNK", "NAME": "Bea", "BIRTHDATE": "1990-05-01"},
        {"TITLE": "gamma", "OPPORTUNITY": 30, "STATUS_ID": "IN_PROCESS", "PHONE": [{"VALUE": "+15550"}]},
        {"TITLE": "Alphabet", "OPPORTUNITY": 40, "STATUS_ID": "NEW", "BIRTHDATE": "2001-11-11"},
        {
            "TITLE": "delta_%",
            "OPPORTUNITY": 50,
            "STATUS_ID": "CONVERTED",
            "EMAIL": [{"VALUE": "d@example.com"}],
        },
    ]
    for row in rows:
        add(fresh_server, **row)
    return fresh_server


FILTER_CASES: list[tuple[dict[str, Any], list[int]]] = [
    ({"TITLE": "beta"}, [2]),
    ({"=OPPORTUNITY": "30"}, [3]),
    ({"!TITLE": "beta"}, [1, 3, 4, 5]),
    ({"!=TITLE": "beta"}, [1, 3, 4, 5]),
    ({">OPPORTUNITY": 30}, [4, 5]),
    ({">=OPPORTUNITY": 30}, [3, 4, 5]),
    ({"<OPPORTUNITY": 30}, [1, 2]),
    ({"<=OPPORTUNITY": "30.00"}, [1, 2, 3]),
    ({"@ID": [1, 3, "5"]}, [1, 3, 5]),
    ({"!@ID": [1, 3]}, [2, 4, 5]),
    ({"@ID": []}, []),
    ({"%TITLE": "lph"}, [1, 4]),
    ({"=%TITLE": "al%"}, [1, 4]),
    ({"%=TITLE": "%ta"}, [2]),
    ({"!%TITLE": "lph"}, [2, 3, 5]),
    ({"!=%TITLE": "al%"}, [2, 3, 5]),
    ({"%TITLE": "_%"}, [5]),
    ({"STATUS_ID": ["NEW", "JUNK"]}, [1, 2, 4]),
    ({"!STATUS_ID": ["NEW", "JUNK"]}, [3, 5]),
    ({"STATUS_SEMANTIC_ID": "S"}, [5]),
    ({"NAME": ""}, [1, 3, 4, 5]),
    ({"!NAME": ""}, [2]),
    ({">BIRTHDATE": "01.01.2000"}, [4]),
    ({"BIRTHDATE": "1990-05-01"}, [2]),
    ({"PHONE": "+1555"}, [1]),
    ({"!PHONE": "+1555"}, [2, 3, 4, 5]),
    ({"EMAIL": "d@example.com"}, [5]),
    ({"@PHONE": ["+1555", "+15550"]}, [1, 3]),
    ({"HAS_PHONE": "Y"}, [1, 3]),
    ({"title": "beta", "NO_SUCH_FIELD": 1, "IMPORT": "Y"}, [2]),
    ({">=DATE_CREATE": "2000-01-01", "<DATE_CREATE": "2999-01-01T00:00:00+00:00"}, [1, 2, 3, 4, 5]),
    ({"<DATE_CREATE": "2000-01-01"}, []),
    ({"%OPPORTUNITY": "0", "<ID": 3}, [1, 2]),
]


def test_list_filters(five: LiveServer) -> None:
    """Every prefix and value kind of M4, on one set of five leads."""
    wrong = {str(f): got for f, want in FILTER_CASES if (got := ids(five, {"filter": f})) != want}
    assert wrong == {}


def test_list_filter_order_select_errors(five: LiveServer) -> None:
    error(five.call("crm.lead.list", {"filter": "TITLE"}), 400, "", "Parameter 'filter' must be array.")
    error(five.call("crm.lead.list", {"order": "ID"}), 400, "", "Parameter 'order' must be array.")
    error(
        five.call("crm.lead.list", {"filter": {">=DATE_CREATE": "yesterday"}}),
        400,
        "",
        "Filter field '>=DATE_CREATE' is not valid: 'yesterday' is not a date.",
    )


LONG_LIST = "more than 100 values; only =, !, @ and !@ take longer lists."
TOO_MANY = (
    "the filter has more than 100 conditions (a list with = or ! counts as one, with another operator "
    "one per value)."
)


LONG_PATTERN = "the pattern is longer than 20000 bytes."


def nested(depth: int, inner: Any) -> Any:
    for _ in range(depth):
        inner = [inner]
    return inner


@pytest.mark.parametrize(
    ("filters", "description"),
    [
        # Issue 14: 1,000 OR-ed values passed SQLite's expression depth (500).
        ({">ID": list(range(1000))}, f"Filter field '>ID' is not valid: {LONG_LIST}"),
        ({"%TITLE": [f"t{n}" for n in range(101)]}, f"Filter field '%TITLE' is not valid: {LONG_LIST}"),
        ({"!%PHONE": [f"{n}" for n in range(101)]}, f"Filter field '!%PHONE' is not valid: {LONG_LIST}"),
        # Nested lists recursed, one SQL parenthesis per level (500 from 100 levels); 20 stays under
        # the request decoder's own nesting cap.
        ({">ID": nested(20, 1)}, "Filter field '>ID' is not valid: item #0 is an array, not a value."),
        ({"ID": nested(20, 1)}, "Filter field 'ID' is not valid: item #0 is an array, not a value."),
        ({"ID": [1, {"a": 2}]}, "Filter field 'ID' is not valid: item #1 is an array, not a value."),
        ({"%TITLE": ["a", ["b"]]}, "Filter field '%TITLE' is not valid: item #1 is an array, not a value."),
        (
            {" " * n + ">=ID": 1 for n in range(101)},
            f"Filter field '{' ' * 100}>=ID' is not valid: {TOO_MANY}",
        ),
        ({"ID": [1, 2], ">ID": list(range(100))}, f"Filter field '>ID' is not valid: {TOO_MANY}"),
        ({"TITLE": "a\x00b"}, "Filter field 'TITLE' is not valid: the text contains a NUL character."),
        ({"@PHONE": ["1", "\x00"]}, "Filter field '@PHONE' is not valid: the text contains a NUL character."),
        # SQLite refused a LIKE pattern over 50,000 bytes (500 once the table had a row).
        ({"%TITLE": "a" * 20_001}, f"Filter field '%TITLE' is not valid: {LONG_PATTERN}"),
        ({"!%TITLE": "ж" * 10_001}, f"Filter field '!%TITLE' is not valid: {LONG_PATTERN}"),
        ({"=%TITLE": ["a", "%" * 20_001]}, f"Filter field '=%TITLE' is not valid: {LONG_PATTERN}"),
        ({"%EMAIL": "a" * 20_001}, f"Filter field '%EMAIL' is not valid: {LONG_PATTERN}"),
    ],
)
def test_list_filter_limits(five: LiveServer, filters: dict[str, Any], description: str) -> None:
    error(five.call("crm.lead.list", {"filter": filters}), 400, "", description)


def test_list_filters_at_the_limits(five: LiveServer) -> None:
    assert ids(five, {"filter": {">OPPORTUNITY": [40, *([30] * 98), 20]}}) == [3, 4, 5]  # OR: > 20
    assert ids(five, {"filter": {"!%TITLE": [f"x{n}" for n in range(99)] + ["lph"]}}) == [2, 3, 5]
    assert ids(five, {"filter": {" " * n + ">=ID": 4 for n in range(100)}}) == [4, 5]
    assert ids(five, {"filter": {"%PHONE": ["555", *(["none"] * 99)]}}) == [1, 3]
    assert ids(five, {"filter": {"%TITLE": "%" * 20_000}}) == []  # escaped: 40,002 bytes
    assert ids(five, {"filter": {"!%TITLE": "ж" * 10_000}}) == [1, 2, 3, 4, 5]


def test_own_patterns_take_a_backslash_as_it_is(five: LiveServer) -> None:
    """`=%` passes the caller's pattern to LIKE; PostgreSQL's LIKE escaped with a backslash and refused a
    pattern ending in one (500, found by the fuzzer). On both backends it is a plain character."""
    lead = add(five, TITLE="back\\slash\\", EMAIL=[{"VALUE": "x\\y@example.com"}])
    assert ids(five, {"filter": {"=%TITLE": "%\\"}}) == [lead]
    assert ids(five, {"filter": {"=%TITLE": "back\\%"}}) == [lead]
    assert ids(five, {"filter": {"!=%TITLE": "%\\"}}) == [1, 2, 3, 4, 5]
    assert ids(five, {"filter": {"=%EMAIL": "x\\%"}}) == [lead]
    assert ids(five, {"filter": {"=%TITLE": "\\%"}}) == []


def test_integers_of_any_length(five: LiveServer) -> None:
    """PHP's (int) saturates at 64 bits; Python's int() refused more than 4,300 digits (a 500)."""
    many = "9" * 5000
    assert ids(five, {"filter": {"ID": [many, 1]}}) == [1]
    assert ids(five, {"filter": {"<ID": "-" + many}}) == []
    assert ids(five, {"filter": {">ID": "0" * 5000 + "4"}}) == [5]
    error(five.call("crm.lead.get", {"id": many}), 400, "", "Not found.")


def test_list_filter_in_5000(fresh_server: LiveServer) -> None:
    """An IN of 5,000 values is one parameter and names exactly the leads it should."""
    for n in range(1, 121):
        fresh_server.insert_lead(n, title=f"lead {n}", status_id="NEW" if n % 3 else "JUNK")
    evens = list(range(2, 10002, 2))
    body = fresh_server.call("crm.lead.list", {"select": ["ID"], "filter": {"ID": evens}}).body
    assert [int(i["ID"]) for i in body["result"]] == list(range(2, 101, 2))
    assert (body["total"], body["next"]) == (60, 50)
    second = fresh_server.call("crm.lead.list", {"select": ["ID"], "filter": {"@ID": evens}, "start": 50})
    assert [int(i["ID"]) for i in second.result] == list(range(102, 121, 2))
    odds = fresh_server.call("crm.lead.list", {"select": ["ID"], "filter": {"!ID": evens}}).body
    assert [int(i["ID"]) for i in odds["result"]] == list(range(1, 100, 2))
    assert odds["total"] == 60
    titles = [f"lead {n}" for n in range(5000, 0, -1)]
    junk = ids(fresh_server, {"filter": {"TITLE": titles, "!STATUS_ID": ["NEW"], ">ID": 100}})
    assert junk == [102, 105, 108, 111, 114, 117, 120]
    assert ids(fresh_server, {"filter": {"!@TITLE": titles[:-10], "@ID": evens}}) == [2, 4, 6, 8, 10]


def test_list_order(five: LiveServer) -> None:
    assert ids(five, {"order": {"OPPORTUNITY": "desc"}}) == [5, 4, 3, 2, 1]
    assert ids(five, {"order": {"status_id": "ASC", "ID": "DESC"}}) == [5, 3, 2, 4, 1]
    assert ids(five, {"order": {"NO_SUCH": "DESC", "PHONE": "DESC"}}) == [1, 2, 3, 4, 5]
    assert ids(five, {"ORDER": {"ID": "sideways"}}) == [1, 2, 3, 4, 5]


def test_list_select(five: LiveServer) -> None:
    body = five.call("crm.lead.list", {}).body
    assert body["total"] == 5 and "next" not in body
    assert [list(item) for item in body["result"]] == [STAR] * 5
    assert five.call("crm.lead.list", {"select": ["*"]}).result == body["result"]
    result = five.call("crm.lead.list", {"select": ["TITLE", "phone", "NO_SUCH", "CONTACT_IDS"]}).result
    assert result == [
        {
            "ID": "1",
            "TITLE": "alpha",
            "PHONE": [{"ID": "1", "VALUE_TYPE": "WORK", "VALUE": "+1555", "TYPE_ID": "PHONE"}],
        },
        {"ID": "2", "TITLE": "beta"},
        {
            "ID": "3",
            "TITLE": "gamma",
            "PHONE": [{"ID": "2", "VALUE_TYPE": "WORK", "VALUE": "+15550", "TYPE_ID": "PHONE"}],
        },
        {"ID": "4", "TITLE": "Alphabet"},
        {"ID": "5", "TITLE": "delta_%"},
    ]
    star_email = five.call("crm.lead.list", {"select": ["*", "EMAIL"], "filter": {"ID": 5}}).result[0]
    assert list(star_email) == [*STAR, "EMAIL"]
    assert five.call("crm.lead.list", {"SELECT": ["NO_SUCH"], "filter": {"ID": 2}}).result == [{"ID": "2"}]


def test_list_contact_id(contacts: LiveServer) -> None:
    first = add(contacts, CONTACT_IDS=[5, 4])
    second = add(contacts, CONTACT_IDS=[4])
    add(contacts)
    result = contacts.call("crm.lead.list", {"select": ["CONTACT_ID", "CONTACT_IDS"]}).result
    assert result == [
        {"ID": str(first), "CONTACT_ID": "5"},
        {"ID": str(second), "CONTACT_ID": "4"},
        {"ID": "3", "CONTACT_ID": None},
    ]
    assert ids(contacts, {"filter": {"CONTACT_ID": 4}}) == [second]
    assert ids(contacts, {"filter": {"@CONTACT_ID": [4, 5]}}) == [first, second]
    assert ids(contacts, {"filter": {"CONTACT_ID": ""}}) == [3]
    assert ids(contacts, {"order": {"CONTACT_ID": "DESC"}}) == [first, second, 3]


def test_list_paging(fresh_server: LiveServer) -> None:
    for n in range(120):
        add(fresh_server, TITLE=f"lead {n}")
    first = fresh_server.call("crm.lead.list", {"select": ["ID"]}).body
    assert (len(first["result"]), first["next"], first["total"]) == (50, 50, 120)
    assert first["result"][0] == {"ID": "1"} and first["result"][-1] == {"ID": "50"}
    second = fresh_server.call("crm.lead.list", {"select": ["ID"], "start": 50}).body
    assert (second["result"][0], second["next"], second["total"]) == ({"ID": "51"}, 100, 120)
    third = fresh_server.call("crm.lead.list", {"select": ["ID"], "start": "100"}).body
    assert (len(third["result"]), third["total"], "next" in third) == (20, 120, False)
    assert third["result"][-1] == {"ID": "120"}
    beyond = fresh_server.call("crm.lead.list", {"select": ["ID"], "start": 500}).body
    assert (beyond["result"], beyond["total"], "next" in beyond) == ([], 120, False)
    uncounted = fresh_server.call("crm.lead.list", {"select": ["ID"], "start": -1}).body
    assert (len(uncounted["result"]), uncounted["total"], "next" in uncounted) == (50, 0, False)
    after = fresh_server.call(
        "crm.lead.list", {"select": ["ID"], "start": -1, "filter": {">ID": 100}, "order": {"ID": "ASC"}}
    ).body
    assert [int(i["ID"]) for i in after["result"]] == list(range(101, 121))
    filtered = fresh_server.call("crm.lead.list", {"filter": {"%TITLE": "lead 1"}, "start": 0}).body
    assert (filtered["total"], "next" in filtered) == (31, False)  # lead 1, lead 10-19, lead 100-119


# Permissions (M5, Q3) ----------------------------------------------------------------------------


def test_permissions_own_rows_only(fresh_server: LiveServer) -> None:
    webhook = fresh_server.add_user("Manager")
    me = user_id(webhook)
    theirs = add(fresh_server, TITLE="admin's")
    mine = [add(fresh_server, webhook, TITLE=f"mine {n}") for n in range(3)]
    add(fresh_server, TITLE="assigned to me by admin", ASSIGNED_BY_ID=me)
    body = fresh_server.call("crm.lead.list", {"select": ["ID", "ASSIGNED_BY_ID"]}, webhook=webhook).body
    assert body["total"] == 4
    assert [item["ID"] for item in body["result"]] == [str(i) for i in (*mine, 5)]
    assert {item["ASSIGNED_BY_ID"] for item in body["result"]} == {str(me)}
    assert fresh_server.call("crm.lead.list", {}).body["total"] == 5
    # a colleague's lead, and a missing one, answer "Access denied." to a caller below level "all"
    for method in ("crm.lead.get", "crm.lead.delete"):
        error(fresh_server.call(method, {"id": theirs}, webhook=webhook), 400, "", "Access denied.")
        error(fresh_server.call(method, {"id": 999}, webhook=webhook), 400, "", "Access denied.")
    error(
        fresh_server.call("crm.lead.update", {"id": theirs, "fields": {"TITLE": "x"}}, webhook=webhook),
        400,
        "",
        "Access denied.",
    )
    assert get(fresh_server, theirs)["TITLE"] == "admin's"
    # add: assigned to the caller by default; to a colleague refused at level "own"
    error(
        fresh_server.call("crm.lead.add", {"fields": {"ASSIGNED_BY_ID": 1}}, webhook=webhook),
        400,
        "",
        "Access denied.",
    )
    lead = fresh_server.call("crm.lead.get", {"id": mine[0]}, webhook=webhook).result
    assert (lead["ASSIGNED_BY_ID"], lead["CREATED_BY_ID"]) == (str(me), str(me))
    assert fresh_server.call(
        "crm.lead.update", {"id": mine[0], "fields": {"TITLE": "ok"}}, webhook=webhook
    ).result
    assert fresh_server.call("crm.lead.delete", {"id": mine[1]}, webhook=webhook).result is True
    assert fresh_server.call("crm.lead.list", {}, webhook=webhook).body["total"] == 3


def test_no_crm_access(server: LiveServer) -> None:
    webhook = server.add_user("Outsider", crm_access=False)
    lead_id = add(server)
    for method, params in (
        ("crm.lead.fields", {}),
        ("crm.lead.list", {}),
        ("crm.lead.add", {"fields": {"TITLE": "x"}}),
        ("crm.lead.get", {"id": lead_id}),
        ("crm.lead.update", {"id": lead_id, "fields": {}}),
        ("crm.lead.delete", {"id": lead_id}),
    ):
        error(server.call(method, params, webhook=webhook), 400, "", "Access denied.")
