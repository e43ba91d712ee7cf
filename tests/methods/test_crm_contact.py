"""crm.contact.* over real HTTP (contract crud.md; deleting a contact: lead-contact-bindings.md I4)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from b24local.crm.entities import CONTACT
from tests.conftest import LiveServer, Response
from tests.expected import ISO_DATETIME

CONTACT_FIELD_NAMES = [
    "ID", "HONORIFIC", "NAME", "SECOND_NAME", "LAST_NAME", "BIRTHDATE", "TYPE_ID", "SOURCE_ID",
    "SOURCE_DESCRIPTION", "POST", "ADDRESS", "ADDRESS_2", "ADDRESS_CITY", "ADDRESS_POSTAL_CODE",
    "ADDRESS_REGION", "ADDRESS_PROVINCE", "ADDRESS_COUNTRY", "ADDRESS_COUNTRY_CODE", "ADDRESS_LOC_ADDR_ID",
    "COMMENTS", "OPENED", "EXPORT", "HAS_PHONE", "HAS_EMAIL", "HAS_IMOL", "ASSIGNED_BY_ID", "CREATED_BY_ID",
    "MODIFY_BY_ID", "DATE_CREATE", "DATE_MODIFY", "COMPANY_ID", "COMPANY_IDS", "LEAD_ID", "ORIGINATOR_ID",
    "ORIGIN_ID", "ORIGIN_VERSION", "UTM_SOURCE", "UTM_MEDIUM", "UTM_CAMPAIGN", "UTM_CONTENT", "UTM_TERM",
    "LAST_ACTIVITY_TIME", "LAST_ACTIVITY_BY", "PHONE", "EMAIL", "WEB", "IM", "LINK",
]  # fmt: skip
REQUIRED = "Required fields are not filled: NAME or LAST_NAME."


def error(response: Response, status: int, code: str, description: str) -> None:
    assert (response.status, response.body) == (status, {"error": code, "error_description": description})


def add(live: LiveServer, webhook: str | None = None, **fields: Any) -> int:
    result = live.call("crm.contact.add", {"fields": fields}, webhook=webhook).result
    assert isinstance(result, int)
    return result


def get(live: LiveServer, contact_id: int) -> dict[str, Any]:
    result = live.call("crm.contact.get", {"id": contact_id}).result
    assert isinstance(result, dict)
    return result


def bindings(live: LiveServer, lead_id: int) -> list[tuple[int, int, str]]:
    result = live.call("crm.lead.contact.items.get", {"id": lead_id}).result
    return [(b["CONTACT_ID"], b["SORT"], b["IS_PRIMARY"]) for b in result]


def test_fields(server: LiveServer) -> None:
    result = server.call("crm.contact.fields").result
    assert list(result) == CONTACT_FIELD_NAMES
    assert result["NAME"] == {
        "type": "string",
        "isRequired": True,
        "isReadOnly": False,
        "isImmutable": False,
        "isMultiple": False,
        "isDynamic": False,
        "title": "First Name",
    }
    assert result["COMPANY_IDS"] == {
        "type": "crm_company",
        "isRequired": False,
        "isReadOnly": False,
        "isImmutable": False,
        "isMultiple": True,
        "isDynamic": False,
        "title": "COMPANY_IDS",
    }
    assert result["LEAD_ID"]["isReadOnly"] is True


def test_add_docs_example_then_get(fresh_server: LiveServer) -> None:
    """The crm.contact.add documentation example (photo and user fields do not exist here)."""
    for company in (12, 13, 15):
        fresh_server.insert_company(company)
    fields = {
        "HONORIFIC": "HNR_RU_1",
        "NAME": "John",
        "SECOND_NAME": "Doe",
        "LAST_NAME": "Smith",
        "PHOTO": {"fileData": "**put_photo_data_here**"},
        "BIRTHDATE": "11.11.2001",
        "TYPE_ID": "PARTNER",
        "SOURCE_ID": "WEB",
        "SOURCE_DESCRIPTION": "*Additional information about the source*",
        "POST": "Administrator",
        "COMMENTS": "**put_comment_here**",
        "OPENED": "Y",
        "EXPORT": "N",
        "ASSIGNED_BY_ID": 6,
        "COMPANY_ID": 12,
        "COMPANY_IDS": [12, 13, 15],
        "UTM_SOURCE": "google",
        "UTM_MEDIUM": "CPC",
        "UTM_CAMPAIGN": "summer_sale",
        "UTM_CONTENT": "header_banner",
        "UTM_TERM": "discount",
        "PHONE": [
            {"VALUE": "+1333333555", "VALUE_TYPE": "WORK"},
            {"VALUE": "+15599888666", "VALUE_TYPE": "HOME"},
        ],
        "EMAIL": [
            {"VALUE": "john.smith@example.mailing", "VALUE_TYPE": "MAILING"},
            {"VALUE": "john.smith@example.work", "VALUE_TYPE": "WORK"},
        ],
        "UF_CRM_1720697698689": 'Example value of a custom field with type "String"',
        "PARENT_ID_1224": 12,
    }
    response = fresh_server.call("crm.contact.add", {"FIELDS": fields})
    assert (response.status, response.body["result"]) == (200, 1)
    contact = get(fresh_server, 1)
    for name in ("DATE_CREATE", "DATE_MODIFY", "LAST_ACTIVITY_TIME"):
        assert ISO_DATETIME.match(contact.pop(name)), name
    assert re.match(r"^2001-11-11T00:00:00[+-]\d\d:\d\d$", contact.pop("BIRTHDATE"))
    assert contact == {
        "ID": "1",
        "HONORIFIC": "HNR_RU_1",
        "NAME": "John",
        "SECOND_NAME": "Doe",
        "LAST_NAME": "Smith",
        "TYPE_ID": "PARTNER",
        "SOURCE_ID": "WEB",
        "SOURCE_DESCRIPTION": "*Additional information about the source*",
        "POST": "Administrator",
        "ADDRESS": None,
        "ADDRESS_2": None,
        "ADDRESS_CITY": None,
        "ADDRESS_POSTAL_CODE": None,
        "ADDRESS_REGION": None,
        "ADDRESS_PROVINCE": None,
        "ADDRESS_COUNTRY": None,
        "ADDRESS_COUNTRY_CODE": None,
        "ADDRESS_LOC_ADDR_ID": None,
        "COMMENTS": "**put_comment_here**",
        "OPENED": "Y",
        "EXPORT": "N",
        "HAS_PHONE": "Y",
        "HAS_EMAIL": "Y",
        "HAS_IMOL": "N",
        "ASSIGNED_BY_ID": "6",
        "CREATED_BY_ID": "1",
        "MODIFY_BY_ID": "1",
        "COMPANY_ID": "12",  # COMPANY_IDS wins over COMPANY_ID; its first is the primary
        "LEAD_ID": None,
        "ORIGINATOR_ID": None,
        "ORIGIN_ID": None,
        "ORIGIN_VERSION": None,
        "UTM_SOURCE": "google",
        "UTM_MEDIUM": "CPC",
        "UTM_CAMPAIGN": "summer_sale",
        "UTM_CONTENT": "header_banner",
        "UTM_TERM": "discount",
        "LAST_ACTIVITY_BY": "1",
        "PHONE": [
            {"ID": "1", "VALUE_TYPE": "WORK", "VALUE": "+1333333555", "TYPE_ID": "PHONE"},
            {"ID": "2", "VALUE_TYPE": "HOME", "VALUE": "+15599888666", "TYPE_ID": "PHONE"},
        ],
        "EMAIL": [
            {"ID": "3", "VALUE_TYPE": "MAILING", "VALUE": "john.smith@example.mailing", "TYPE_ID": "EMAIL"},
            {"ID": "4", "VALUE_TYPE": "WORK", "VALUE": "john.smith@example.work", "TYPE_ID": "EMAIL"},
        ],
    }


def test_add_defaults(server: LiveServer) -> None:
    contact = get(server, add(server, LAST_NAME="Only"))
    picked = {k: contact[k] for k in ("TYPE_ID", "OPENED", "EXPORT", "HAS_PHONE", "HAS_EMAIL", "HAS_IMOL")}
    assert picked == {
        "TYPE_ID": "CLIENT",
        "OPENED": "Y",
        "EXPORT": "Y",
        "HAS_PHONE": "N",
        "HAS_EMAIL": "N",
        "HAS_IMOL": "N",
    }
    assert (contact["NAME"], contact["ASSIGNED_BY_ID"], contact["COMPANY_ID"], contact["BIRTHDATE"]) == (
        None,
        "1",
        None,
        None,
    )
    assert "IS_RETURN_CUSTOMER" not in contact and "COMPANY_IDS" not in contact


def test_name_or_last_name_required(server: LiveServer) -> None:
    before = server.call("crm.contact.list", {}).body["total"]
    for fields in ({}, {"NAME": " ", "LAST_NAME": ""}, {"SECOND_NAME": "Middle", "POST": "CEO"}):
        error(server.call("crm.contact.add", {"fields": fields}), 400, "", REQUIRED)
    error(server.call("crm.contact.add", {}), 400, "", "Parameter 'fields' must be array.")
    assert server.call("crm.contact.list", {}).body["total"] == before
    contact_id = add(server, NAME="Ann")
    error(server.call("crm.contact.update", {"id": contact_id, "fields": {"NAME": ""}}), 400, "", REQUIRED)
    assert server.call(
        "crm.contact.update", {"id": contact_id, "fields": {"NAME": "", "LAST_NAME": "Lee"}}
    ).result
    assert (get(server, contact_id)["NAME"], get(server, contact_id)["LAST_NAME"]) == ("", "Lee")
    # the rule is only checked when a name field is written
    nameless = server.insert_contact(name=None)
    assert server.call("crm.contact.update", {"id": nameless, "fields": {"POST": "CEO"}}).result is True


def test_get_update_delete_errors(server: LiveServer) -> None:
    for method in ("crm.contact.get", "crm.contact.update", "crm.contact.delete"):
        error(server.call(method, {"id": 0, "fields": {}}), 400, "", "ID is not defined or invalid.")
        error(server.call(method, {"id": 987654, "fields": {}}), 400, "", "Not found.")
    contact_id = add(server, NAME="Keep")
    error(
        server.call("crm.contact.update", {"id": contact_id, "fields": "x"}),
        400,
        "",
        "Parameter 'fields' must be array.",
    )
    error(
        server.call("crm.contact.update", {"id": contact_id, "fields": {"EXPORT": "perhaps"}}),
        400,
        "",
        "Field 'EXPORT' is not valid: 'perhaps' is neither Y nor N.",
    )


def test_update_multifields_and_flags(server: LiveServer) -> None:
    contact_id = add(server, NAME="Mia", EMAIL=[{"VALUE": "mia@example.com"}])
    email_id = get(server, contact_id)["EMAIL"][0]["ID"]
    response = server.call(
        "crm.contact.update",
        {
            "id": contact_id,
            "fields": {
                "EMAIL": {"0": {"ID": email_id, "DELETE": "Y"}},
                "PHONE": {"0": {"VALUE": "+4420"}},
                "IM": [{"VALUE": "imol|telegram|5", "VALUE_TYPE": "IMOL"}],
            },
        },
    )
    assert response.result is True
    contact = get(server, contact_id)
    assert (contact["HAS_EMAIL"], contact["HAS_PHONE"], contact["HAS_IMOL"], "EMAIL" in contact) == (
        "N",
        "Y",
        "Y",
        False,
    )
    assert [(p["VALUE"], p["VALUE_TYPE"], p["TYPE_ID"]) for p in contact["PHONE"]] == [
        ("+4420", "WORK", "PHONE")
    ]
    assert server.call("crm.contact.update", {"id": contact_id, "fields": {"NAME": "Mila"}}).result is True
    assert (get(server, contact_id)["NAME"], get(server, contact_id)["HAS_PHONE"]) == ("Mila", "Y")


def test_delete_unbinds_everywhere_and_reelects_primary(fresh_server: LiveServer) -> None:
    for name in ("One", "Two", "Three"):
        add(fresh_server, NAME=name, PHONE=[{"VALUE": "+1"}])
    plans = {
        "A": [{"CONTACT_ID": 1, "SORT": 10}, {"CONTACT_ID": 2, "SORT": 30}, {"CONTACT_ID": 3, "SORT": 20}],
        "B": [{"CONTACT_ID": 2, "SORT": 10}, {"CONTACT_ID": 1, "SORT": 20}],
        "C": [{"CONTACT_ID": 1}],
        "D": [{"CONTACT_ID": 1, "SORT": 10}, {"CONTACT_ID": 3, "SORT": 20}, {"CONTACT_ID": 2, "SORT": 20}],
    }
    leads: dict[str, int] = {}
    for key, items in plans.items():
        leads[key] = fresh_server.call("crm.lead.add", {"fields": {"TITLE": key}}).result
        assert (
            fresh_server.call("crm.lead.contact.items.set", {"id": leads[key], "items": items}).result is True
        )
    assert fresh_server.call("crm.contact.delete", {"id": 1}).result is True
    assert bindings(fresh_server, leads["A"]) == [(3, 20, "Y"), (2, 30, "N")]
    assert bindings(fresh_server, leads["B"]) == [(2, 10, "Y")]
    assert bindings(fresh_server, leads["C"]) == []
    assert bindings(fresh_server, leads["D"]) == [(2, 20, "Y"), (3, 20, "N")]  # a tie: the lowest id
    lead_contacts = fresh_server.call("crm.lead.list", {"select": ["CONTACT_ID"]}).result
    assert lead_contacts == [
        {"ID": "1", "CONTACT_ID": "3"},
        {"ID": "2", "CONTACT_ID": "2"},
        {"ID": "3", "CONTACT_ID": None},
        {"ID": "4", "CONTACT_ID": "2"},
    ]
    error(fresh_server.call("crm.contact.get", {"id": 1}), 400, "", "Not found.")
    store = fresh_server.storage()
    try:
        with store.read() as tx:
            assert sorted(tx.multifields_of(CONTACT, [1, 2, 3])) == [2, 3]
    finally:
        store.close()


def test_list_docs_example(fresh_server: LiveServer) -> None:
    """The crm.contact.list documentation example: upper-case parameter names, prefixes, EMAIL, order."""
    special = [{"VALUE": "special-for@example.com"}]
    add(fresh_server, NAME="Ivan", LAST_NAME="Ivanov", SOURCE_ID="CRM_FORM", EMAIL=special)
    add(fresh_server, NAME="Igor", LAST_NAME="Ilyin", SOURCE_ID="CRM_FORM", EMAIL=special, ASSIGNED_BY_ID=6)
    add(fresh_server, NAME="Ivan", LAST_NAME="Petrov", SOURCE_ID="CRM_FORM", EMAIL=special)
    add(fresh_server, NAME="", LAST_NAME="Ivanova", SOURCE_ID="CRM_FORM", EMAIL=special)
    add(
        fresh_server,
        NAME="Inna",
        LAST_NAME="Isaeva",
        SOURCE_ID="CRM_FORM",
        EMAIL=[{"VALUE": "other@example.com"}],
    )
    add(fresh_server, NAME="Ilya", LAST_NAME="Ivanov", SOURCE_ID="CALL", EMAIL=special)
    add(fresh_server, NAME="Ivan", LAST_NAME="Ivanov", SOURCE_ID="CRM_FORM", EMAIL=special, ASSIGNED_BY_ID=2)
    six_months_ago = (datetime.now() - timedelta(days=183)).strftime("%Y-%m-%d")
    body = fresh_server.call(
        "crm.contact.list",
        {
            "FILTER": {
                "SOURCE_ID": "CRM_FORM",
                "!=NAME": "",
                "!=LAST_NAME": "",
                "=%NAME": "I%",
                "=%LAST_NAME": "I%",
                "EMAIL": "special-for@example.com",
                "@ASSIGNED_BY_ID": [1, 6],
                "IMPORT": "Y",
                ">=DATE_CREATE": six_months_ago,
            },
            "ORDER": {"LAST_NAME": "ASC", "NAME": "ASC"},
            "SELECT": ["ID", "NAME", "LAST_NAME", "EMAIL", "EXPORT", "ASSIGNED_BY_ID", "DATE_CREATE"],
        },
    ).body
    assert (body["total"], "next" in body) == (2, False)
    for item in body["result"]:
        assert ISO_DATETIME.match(item.pop("DATE_CREATE"))
    assert body["result"] == [
        {
            "ID": "2",
            "NAME": "Igor",
            "LAST_NAME": "Ilyin",
            "EXPORT": "Y",
            "ASSIGNED_BY_ID": "6",
            "EMAIL": [
                {"ID": "2", "VALUE_TYPE": "WORK", "VALUE": "special-for@example.com", "TYPE_ID": "EMAIL"}
            ],
        },
        {
            "ID": "1",
            "NAME": "Ivan",
            "LAST_NAME": "Ivanov",
            "EXPORT": "Y",
            "ASSIGNED_BY_ID": "1",
            "EMAIL": [
                {"ID": "1", "VALUE_TYPE": "WORK", "VALUE": "special-for@example.com", "TYPE_ID": "EMAIL"}
            ],
        },
    ]


def test_list_paging_and_select(fresh_server: LiveServer) -> None:
    for n in range(55):
        add(fresh_server, NAME=f"c{n}")
    body = fresh_server.call("crm.contact.list", {"select": ["NAME"], "order": {"id": "desc"}}).body
    assert (len(body["result"]), body["next"], body["total"], body["result"][0]) == (
        50,
        50,
        55,
        {"ID": "55", "NAME": "c54"},
    )
    rest = fresh_server.call(
        "crm.contact.list", {"select": ["NAME"], "order": {"id": "desc"}, "start": 50}
    ).body
    assert (rest["result"][-1], rest["total"], "next" in rest) == ({"ID": "1", "NAME": "c0"}, 55, False)
    assert [list(c) for c in fresh_server.call("crm.contact.list", {"filter": {"ID": 1}}).result] == [
        [n for n in CONTACT_FIELD_NAMES if n not in ("COMPANY_IDS", "PHONE", "EMAIL", "WEB", "IM", "LINK")]
    ]


def test_permissions(fresh_server: LiveServer) -> None:
    webhook = fresh_server.add_user("Manager")
    theirs = add(fresh_server, NAME="Admin's")
    mine = [add(fresh_server, webhook, NAME=f"Mine {n}") for n in range(2)]
    body = fresh_server.call("crm.contact.list", {"select": ["ID"]}, webhook=webhook).body
    assert (body["result"], body["total"]) == ([{"ID": str(mine[0])}, {"ID": str(mine[1])}], 2)
    error(fresh_server.call("crm.contact.get", {"id": theirs}, webhook=webhook), 400, "", "Access denied.")
    error(
        fresh_server.call("crm.contact.update", {"id": theirs, "fields": {"NAME": "x"}}, webhook=webhook),
        400,
        "",
        "Access denied.",
    )
    error(fresh_server.call("crm.contact.delete", {"id": theirs}, webhook=webhook), 400, "", "Access denied.")
    error(
        fresh_server.call("crm.contact.add", {"fields": {"NAME": "x", "ASSIGNED_BY_ID": 1}}, webhook=webhook),
        400,
        "",
        "Access denied.",
    )
    assert get(fresh_server, theirs)["NAME"] == "Admin's"
    assert fresh_server.call("crm.contact.delete", {"id": mine[0]}, webhook=webhook).result is True
    assert fresh_server.call("crm.contact.list", {}).body["total"] == 2
