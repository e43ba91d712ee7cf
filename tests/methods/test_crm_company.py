"""crm.company.* over real HTTP: fields, the required title, contacts on add/update, deletion.

The contract is the official company pages (../shared/b24-docs/api-reference/crm/companies/), read
with crud.md and protocol.md; binding-family.md B2–B4 for CONTACT_ID and the contact's COMPANY_ID.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import LiveServer, Response
from tests.expected import ISO_DATETIME

COMPANY_FIELD_NAMES = [
    "ID", "TITLE", "COMPANY_TYPE", "ADDRESS", "ADDRESS_2", "ADDRESS_CITY", "ADDRESS_POSTAL_CODE",
    "ADDRESS_REGION", "ADDRESS_PROVINCE", "ADDRESS_COUNTRY", "ADDRESS_COUNTRY_CODE", "ADDRESS_LOC_ADDR_ID",
    "ADDRESS_LEGAL", "REG_ADDRESS", "REG_ADDRESS_2", "REG_ADDRESS_CITY", "REG_ADDRESS_POSTAL_CODE",
    "REG_ADDRESS_REGION", "REG_ADDRESS_PROVINCE", "REG_ADDRESS_COUNTRY", "REG_ADDRESS_COUNTRY_CODE",
    "REG_ADDRESS_LOC_ADDR_ID", "BANKING_DETAILS", "INDUSTRY", "EMPLOYEES", "CURRENCY_ID", "REVENUE", "OPENED",
    "COMMENTS", "HAS_PHONE", "HAS_EMAIL", "HAS_IMOL", "IS_MY_COMPANY", "ASSIGNED_BY_ID", "CREATED_BY_ID",
    "MODIFY_BY_ID", "DATE_CREATE", "DATE_MODIFY", "CONTACT_ID", "LEAD_ID", "ORIGINATOR_ID", "ORIGIN_ID",
    "ORIGIN_VERSION", "UTM_SOURCE", "UTM_MEDIUM", "UTM_CAMPAIGN", "UTM_CONTENT", "UTM_TERM",
    "LAST_ACTIVITY_TIME", "LAST_ACTIVITY_BY", "PHONE", "EMAIL", "WEB", "IM", "LINK",
]  # fmt: skip
TITLE_REQUIRED = 'The "Company Name" field is required.'


def error(response: Response, status: int, code: str, description: str) -> None:
    assert (response.status, response.body) == (status, {"error": code, "error_description": description})


def add(live: LiveServer, **fields: Any) -> int:
    result = live.call("crm.company.add", {"fields": fields}).result
    assert isinstance(result, int)
    return result


def get(live: LiveServer, company_id: int) -> dict[str, Any]:
    result = live.call("crm.company.get", {"id": company_id}).result
    assert isinstance(result, dict)
    return result


def contacts_of(live: LiveServer, company_id: int) -> list[tuple[int, int, str]]:
    items = live.call("crm.company.contact.items.get", {"id": company_id}).result
    return [(i["CONTACT_ID"], i["SORT"], i["IS_PRIMARY"]) for i in items]


def companies_of(live: LiveServer, contact_id: int) -> list[tuple[int, int, str]]:
    items = live.call("crm.contact.company.items.get", {"id": contact_id}).result
    return [(i["COMPANY_ID"], i["SORT"], i["IS_PRIMARY"]) for i in items]


def test_fields_as_the_official_page_prints_them(server: LiveServer) -> None:
    result = server.call("crm.company.fields").result
    assert list(result) == COMPANY_FIELD_NAMES
    assert result["TITLE"] == {
        "type": "string",
        "isRequired": True,
        "isReadOnly": False,
        "isImmutable": False,
        "isMultiple": False,
        "isDynamic": False,
        "title": "Company Name",
    }
    assert result["CONTACT_ID"] == {
        "type": "crm_contact",
        "isRequired": False,
        "isReadOnly": False,
        "isImmutable": False,
        "isMultiple": True,
        "isDynamic": False,
        "title": "Contact",
    }


def test_add_docs_example_then_get(fresh_server: LiveServer) -> None:
    fields = {
        "TITLE": "John Doe LLC", "COMPANY_TYPE": "CUSTOMER", "INDUSTRY": "MANUFACTURING",
        "EMPLOYEES": "EMPLOYEES_2", "CURRENCY_ID": "USD", "REVENUE": 3000000, "OPENED": "Y",
        "ASSIGNED_BY_ID": 1, "PHONE": [{"VALUE": "555888", "VALUE_TYPE": "WORK"}],
    }  # fmt: skip
    response = fresh_server.call(
        "crm.company.add", {"fields": fields, "params": {"REGISTER_SONET_EVENT": "Y"}}
    )
    assert response.result == 1
    company = get(fresh_server, 1)
    names = list(company)
    for name in ("DATE_CREATE", "DATE_MODIFY", "LAST_ACTIVITY_TIME"):
        assert ISO_DATETIME.match(company.pop(name)), name
    assert {k: v for k, v in company.items() if v is not None} == {
        "ID": "1", "TITLE": "John Doe LLC", "COMPANY_TYPE": "CUSTOMER", "INDUSTRY": "MANUFACTURING",
        "EMPLOYEES": "EMPLOYEES_2", "CURRENCY_ID": "USD", "REVENUE": "3000000.00", "OPENED": "Y",
        "HAS_PHONE": "Y", "HAS_EMAIL": "N", "HAS_IMOL": "N", "IS_MY_COMPANY": "N", "ASSIGNED_BY_ID": "1",
        "CREATED_BY_ID": "1", "MODIFY_BY_ID": "1", "LAST_ACTIVITY_BY": "1",
        "PHONE": [{"ID": "1", "VALUE_TYPE": "WORK", "VALUE": "555888", "TYPE_ID": "PHONE"}],
    }  # fmt: skip
    assert "CONTACT_ID" not in company  # B2: a company's contacts are read through its binding methods
    assert names == [n for n in COMPANY_FIELD_NAMES if n not in ("CONTACT_ID", "EMAIL", "WEB", "IM", "LINK")]


def test_title_is_required_on_add_and_when_given_on_update(fresh_server: LiveServer) -> None:
    for fields in ({}, {"TITLE": ""}, {"TITLE": "   "}, {"COMPANY_TYPE": "PARTNER"}):
        error(fresh_server.call("crm.company.add", {"fields": fields}), 400, "", TITLE_REQUIRED)
    assert fresh_server.call("crm.company.list", {}).body["total"] == 0
    company = add(fresh_server, TITLE="ACME")
    error(
        fresh_server.call("crm.company.update", {"id": company, "fields": {"TITLE": ""}}),
        400,
        "",
        TITLE_REQUIRED,
    )
    assert (
        fresh_server.call("crm.company.update", {"id": company, "fields": {"COMMENTS": "x"}}).result is True
    )
    assert (get(fresh_server, company)["TITLE"], get(fresh_server, company)["COMMENTS"]) == ("ACME", "x")


def test_contacts_on_add_and_update_are_one_relation_with_the_contacts_companies(
    fresh_server: LiveServer,
) -> None:
    first, second, third = (fresh_server.insert_contact() for _ in range(3))
    company = add(fresh_server, TITLE="ACME", CONTACT_ID=[second, first])
    assert contacts_of(fresh_server, company) == [(second, 10, "Y"), (first, 20, "N")]
    # the contact's side: its own order and primary (B3)
    assert companies_of(fresh_server, first) == [(company, 10, "Y")]
    assert fresh_server.call("crm.contact.get", {"id": first}).result["COMPANY_ID"] == str(company)
    other = add(fresh_server, TITLE="Other", CONTACT_IDS=[first])
    assert companies_of(fresh_server, first) == [(company, 10, "Y"), (other, 20, "N")]
    # CONTACT_IDS replaces the company's contacts; the contact that left keeps its other company
    fresh_server.call("crm.company.update", {"id": company, "fields": {"CONTACT_IDS": [third]}})
    assert contacts_of(fresh_server, company) == [(third, 10, "Y")]
    assert companies_of(fresh_server, first) == [(other, 20, "Y")]
    error(
        fresh_server.call("crm.company.update", {"id": company, "fields": {"CONTACT_ID": [404_404]}}),
        400,
        "NOT_FOUND",
        "Contact #404404 not found.",
    )
    assert contacts_of(fresh_server, company) == [(third, 10, "Y")]


def test_delete_unbinds_everywhere_and_clears_links(fresh_server: LiveServer) -> None:
    contact = fresh_server.insert_contact()
    company = add(fresh_server, TITLE="Gone soon", CONTACT_ID=[contact])
    kept = add(fresh_server, TITLE="Kept", CONTACT_ID=[contact])
    lead = fresh_server.call("crm.lead.add", {"fields": {"COMPANY_ID": company}}).result
    bound_lead = fresh_server.call("crm.lead.add", {"fields": {"COMPANY_ID": company, "CONTACT_ID": contact}})
    deal = fresh_server.call("crm.deal.add", {"fields": {"COMPANY_ID": company}}).result
    assert fresh_server.call("crm.lead.get", {"id": lead}).result["IS_RETURN_CUSTOMER"] == "Y"
    assert companies_of(fresh_server, contact) == [(company, 10, "Y"), (kept, 20, "N")]
    assert fresh_server.call("crm.company.delete", {"id": company}).result is True
    error(fresh_server.call("crm.company.get", {"id": company}), 400, "", "Not found.")
    assert companies_of(fresh_server, contact) == [(kept, 20, "Y")]  # B4: a new primary
    cleared = fresh_server.call("crm.lead.get", {"id": lead}).result
    assert (cleared["COMPANY_ID"], cleared["IS_RETURN_CUSTOMER"]) == (None, "N")  # no company, no contact
    still = fresh_server.call("crm.lead.get", {"id": bound_lead.result}).result
    assert (still["COMPANY_ID"], still["IS_RETURN_CUSTOMER"]) == (None, "Y")  # its contact remains
    assert fresh_server.call("crm.deal.get", {"id": deal}).result["COMPANY_ID"] is None
    assert fresh_server.call("crm.contact.delete", {"id": contact}).result is True
    assert contacts_of(fresh_server, kept) == []


def test_list_filters_by_title_and_phone(fresh_server: LiveServer) -> None:
    add(fresh_server, TITLE="Alpha Trading", PHONE=[{"VALUE": "+100"}])
    beta = add(fresh_server, TITLE="Beta Trading", PHONE=[{"VALUE": "+200"}], IS_MY_COMPANY="Y")
    found = fresh_server.call("crm.company.list", {"filter": {"PHONE": "+200"}, "select": ["ID", "TITLE"]})
    assert (found.result, found.body["total"]) == ([{"ID": str(beta), "TITLE": "Beta Trading"}], 1)
    mine = fresh_server.call("crm.company.list", {"filter": {"IS_MY_COMPANY": "Y"}, "select": ["ID"]}).result
    assert mine == [{"ID": str(beta)}]
    trading = fresh_server.call(
        "crm.company.list", {"filter": {"%TITLE": "Trading"}, "order": {"ID": "DESC"}}
    )
    assert [c["TITLE"] for c in trading.result] == ["Beta Trading", "Alpha Trading"]


def test_contacts_filtered_and_ordered_by_their_primary_company(fresh_server: LiveServer) -> None:
    """The contact's COMPANY_ID is its primary company (found by the fuzzer: once a 500)."""
    first, second, loner = (fresh_server.insert_contact() for _ in range(3))
    acme = add(fresh_server, TITLE="ACME", CONTACT_ID=[second])
    zeta = add(fresh_server, TITLE="Zeta", CONTACT_ID=[first])
    params = {"filter": {"COMPANY_ID": zeta}, "select": ["ID", "COMPANY_ID"]}
    assert fresh_server.call("crm.contact.list", params).result == [
        {"ID": str(first), "COMPANY_ID": str(zeta)}
    ]
    ordered = fresh_server.call(
        "crm.contact.list", {"order": {"COMPANY_ID": "DESC", "ID": "ASC"}, "select": ["ID"]}
    )
    assert [c["ID"] for c in ordered.result] == [str(first), str(second), str(loner)]
    assert acme < zeta
