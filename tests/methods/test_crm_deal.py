"""crm.deal.* over real HTTP: fields, stages by pipeline, links, bindings, permissions per pipeline.

The contract is the official deal pages (../shared/b24-docs/api-reference/crm/deals/), read with the
general rules of crud.md and protocol.md; binding-family.md B2 for CONTACT_ID/CONTACT_IDS.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest

from b24local.crm.entities import DEAL
from tests.conftest import LiveServer, Response
from tests.expected import ISO_DATETIME

DEAL_FIELD_NAMES = [
    "ID", "TITLE", "TYPE_ID", "CATEGORY_ID", "STAGE_ID", "STAGE_SEMANTIC_ID", "IS_NEW", "IS_RECURRING",
    "IS_RETURN_CUSTOMER", "IS_REPEATED_APPROACH", "PROBABILITY", "CURRENCY_ID", "OPPORTUNITY",
    "IS_MANUAL_OPPORTUNITY", "TAX_VALUE", "COMPANY_ID", "CONTACT_ID", "CONTACT_IDS", "BEGINDATE",
    "CLOSEDATE", "OPENED", "CLOSED", "COMMENTS", "ASSIGNED_BY_ID", "CREATED_BY_ID", "MODIFY_BY_ID",
    "MOVED_BY_ID", "DATE_CREATE", "DATE_MODIFY", "MOVED_TIME", "SOURCE_ID", "SOURCE_DESCRIPTION", "LEAD_ID",
    "ADDITIONAL_INFO", "ORIGINATOR_ID", "ORIGIN_ID", "UTM_SOURCE", "UTM_MEDIUM", "UTM_CAMPAIGN",
    "UTM_CONTENT", "UTM_TERM", "LAST_ACTIVITY_TIME", "LAST_ACTIVITY_BY",
]  # fmt: skip
VOLATILE = ("DATE_CREATE", "DATE_MODIFY", "MOVED_TIME", "LAST_ACTIVITY_TIME")


def error(response: Response, status: int, code: str, description: str) -> None:
    assert (response.status, response.body) == (status, {"error": code, "error_description": description})


def add(live: LiveServer, webhook: str | None = None, **fields: Any) -> int:
    result = live.call("crm.deal.add", {"fields": fields}, webhook=webhook).result
    assert isinstance(result, int)
    return result


def get(live: LiveServer, deal_id: int, webhook: str | None = None) -> dict[str, Any]:
    result = live.call("crm.deal.get", {"id": deal_id}, webhook=webhook).result
    assert isinstance(result, dict)
    return result


def stage(live: LiveServer, deal_id: int) -> tuple[str, str, str, str, str]:
    deal = get(live, deal_id)
    return (deal["CATEGORY_ID"], deal["STAGE_ID"], deal["STAGE_SEMANTIC_ID"], deal["CLOSED"], deal["IS_NEW"])


def count(live: LiveServer) -> int:
    total = live.call("crm.deal.list", {"select": ["ID"]}).body["total"]
    assert isinstance(total, int)
    return total


def new_pipeline(live: LiveServer) -> int:
    with live._helper() as store, store.write() as tx:
        return tx.pipeline_add(DEAL, "Wholesale")


def test_fields_as_the_official_page_prints_them(server: LiveServer) -> None:
    result = server.call("crm.deal.fields").result
    assert list(result) == DEAL_FIELD_NAMES
    assert result["CATEGORY_ID"] == {
        "type": "crm_category",
        "isRequired": False,
        "isReadOnly": False,
        "isImmutable": True,
        "isMultiple": False,
        "isDynamic": False,
        "title": "Sales Funnel",
    }
    assert result["STAGE_ID"] == {
        "type": "crm_status",
        "isRequired": False,
        "isReadOnly": False,
        "isImmutable": False,
        "isMultiple": False,
        "isDynamic": False,
        "statusType": "DEAL_STAGE",
        "title": "Deal Stage",
    }
    assert result["CONTACT_ID"]["isDeprecated"] is True
    assert (result["CONTACT_IDS"]["isMultiple"], result["IS_NEW"]["isReadOnly"]) == (True, True)


def test_add_docs_example_then_get(fresh_server: LiveServer) -> None:
    """The crm.deal.add example of the official page (its company and contacts made first)."""
    fresh_server.insert_company(9)
    fresh_server.insert_contact(83)
    fresh_server.insert_contact(84)
    fields = {
        "TITLE": "New Deal #1", "TYPE_ID": "COMPLEX", "CATEGORY_ID": 0, "STAGE_ID": "PREPARATION",
        "IS_RECURRING": "N", "IS_RETURN_CUSTOMER": "Y", "IS_REPEATED_APPROACH": "Y", "PROBABILITY": 99,
        "CURRENCY_ID": "EUR", "OPPORTUNITY": 1000000, "IS_MANUAL_OPPORTUNITY": "Y", "TAX_VALUE": 0.10,
        "COMPANY_ID": 9, "CONTACT_IDS": [84, 83], "BEGINDATE": "2026-12-05T10:00:00+01:00",
        "CLOSEDATE": "2026-12-15T10:00:00+01:00", "OPENED": "Y", "CLOSED": "N", "COMMENTS": "Example comment",
        "SOURCE_ID": "CALLBACK", "SOURCE_DESCRIPTION": "Additional information about the source",
        "ADDITIONAL_INFO": "Additional information", "UTM_SOURCE": "google", "UTM_MEDIUM": "CPC",
        "PARENT_ID_1220": 22, "UF_CRM_1721244482250": "Hello World!",
    }  # fmt: skip
    assert (
        fresh_server.call("crm.deal.add", {"FIELDS": fields, "PARAMS": {"REGISTER_SONET_EVENT": "N"}}).result
        == 1
    )
    deal = get(fresh_server, 1)
    for name in VOLATILE:
        assert ISO_DATETIME.match(deal.pop(name)), name
    assert re.match(r"^2026-12-05T00:00:00[+-]\d\d:\d\d$", deal.pop("BEGINDATE"))
    assert re.match(r"^2026-12-15T00:00:00[+-]\d\d:\d\d$", deal.pop("CLOSEDATE"))
    assert deal == {
        "ID": "1", "TITLE": "New Deal #1", "TYPE_ID": "COMPLEX", "CATEGORY_ID": "0",
        "STAGE_ID": "PREPARATION", "STAGE_SEMANTIC_ID": "P", "IS_NEW": "N", "IS_RECURRING": "N",
        "IS_RETURN_CUSTOMER": "Y", "IS_REPEATED_APPROACH": "Y", "PROBABILITY": "99", "CURRENCY_ID": "EUR",
        "OPPORTUNITY": "1000000.00", "IS_MANUAL_OPPORTUNITY": "Y", "TAX_VALUE": "0.10", "COMPANY_ID": "9",
        "CONTACT_ID": "84", "OPENED": "Y", "CLOSED": "N", "COMMENTS": "Example comment",
        "ASSIGNED_BY_ID": "1", "CREATED_BY_ID": "1", "MODIFY_BY_ID": "1", "MOVED_BY_ID": "1",
        "SOURCE_ID": "CALLBACK", "SOURCE_DESCRIPTION": "Additional information about the source",
        "LEAD_ID": None, "ADDITIONAL_INFO": "Additional information", "ORIGINATOR_ID": None,
        "ORIGIN_ID": None, "UTM_SOURCE": "google", "UTM_MEDIUM": "CPC", "UTM_CAMPAIGN": None,
        "UTM_CONTENT": None, "UTM_TERM": None, "LAST_ACTIVITY_BY": "1",
    }  # fmt: skip
    items = fresh_server.call("crm.deal.contact.items.get", {"id": 1}).result
    assert items == [
        {"CONTACT_ID": 84, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"},
        {"CONTACT_ID": 83, "SORT": 20, "ROLE_ID": 0, "IS_PRIMARY": "N"},
    ]


def test_add_defaults(fresh_server: LiveServer) -> None:
    """Empty fields: "Deal #<ID>", the first stage of the default pipeline, today and today + 7."""
    before = datetime.date.today()
    assert add(fresh_server) == 1
    deal = get(fresh_server, 1)
    after = datetime.date.today()
    begin, close = deal.pop("BEGINDATE")[:10], deal.pop("CLOSEDATE")[:10]
    assert begin in {before.isoformat(), after.isoformat()}
    assert close == (datetime.date.fromisoformat(begin) + datetime.timedelta(days=7)).isoformat()
    picked = {k: v for k, v in deal.items() if k not in VOLATILE and v is not None}
    assert picked == {
        "ID": "1", "TITLE": "Deal #1", "TYPE_ID": "SALE", "CATEGORY_ID": "0", "STAGE_ID": "NEW",
        "STAGE_SEMANTIC_ID": "P", "IS_NEW": "Y", "IS_RECURRING": "N", "IS_RETURN_CUSTOMER": "N",
        "IS_REPEATED_APPROACH": "N", "OPPORTUNITY": "0.00", "IS_MANUAL_OPPORTUNITY": "N", "TAX_VALUE": "0.00",
        "OPENED": "Y", "CLOSED": "N", "ASSIGNED_BY_ID": "1", "CREATED_BY_ID": "1", "MODIFY_BY_ID": "1",
        "MOVED_BY_ID": "1", "LAST_ACTIVITY_BY": "1",
    }  # fmt: skip
    assert add(fresh_server, TITLE="  ") == 2
    assert get(fresh_server, 2)["TITLE"] == "Deal #2"


def test_stage_semantics_closed_and_new_follow_the_stage(server: LiveServer) -> None:
    deal_id = add(server, TITLE="stages")
    assert stage(server, deal_id) == ("0", "NEW", "P", "N", "Y")
    for stage_id, expected in (
        ("EXECUTING", ("0", "EXECUTING", "P", "N", "N")),
        ("WON", ("0", "WON", "S", "Y", "N")),
        ("LOSE", ("0", "LOSE", "F", "Y", "N")),
        ("APOLOGY", ("0", "APOLOGY", "F", "Y", "N")),
        ("NEW", ("0", "NEW", "P", "N", "Y")),
    ):
        assert (
            server.call("crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": stage_id}}).result is True
        )
        assert stage(server, deal_id) == expected
    # CLOSED follows the stage only; CATEGORY_ID is fixed at add (both ignored on their own)
    update = {"id": deal_id, "fields": {"CLOSED": "Y", "CATEGORY_ID": 5, "COMMENTS": "kept"}}
    assert server.call("crm.deal.update", update).result is True
    assert stage(server, deal_id) == ("0", "NEW", "P", "N", "Y")
    assert get(server, deal_id)["COMMENTS"] == "kept"
    assert add(server, STAGE_ID="WON", CLOSED="N") > 0
    assert stage(server, deal_id + 1) == ("0", "WON", "S", "Y", "N")


def test_a_stage_of_another_pipeline_is_refused(server: LiveServer) -> None:
    deal_id = add(server, TITLE="wrong stage", STAGE_ID="EXECUTING")
    total = count(server)
    for stage_id in ("C1:NEW", "NO_SUCH_STAGE", ""):
        response = server.call("crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": stage_id}})
        shown = stage_id
        error(response, 400, "", f"Field 'STAGE_ID' is not valid: '{shown}' is not a stage of pipeline 0.")
        response = server.call("crm.deal.add", {"fields": {"STAGE_ID": stage_id or "C2:WON"}})
        assert response.status == 400
    assert stage(server, deal_id) == ("0", "EXECUTING", "P", "N", "N")
    assert count(server) == total


def test_pipelines(fresh_server: LiveServer) -> None:
    error(
        fresh_server.call("crm.deal.add", {"fields": {"CATEGORY_ID": 1}}),
        400,
        "",
        "Field 'CATEGORY_ID' is not valid: pipeline 1 does not exist.",
    )
    error(
        fresh_server.call("crm.deal.add", {"fields": {"CATEGORY_ID": -1}}),
        400,
        "",
        "Field 'CATEGORY_ID' is not valid: -1 is not a pipeline ID.",
    )
    assert count(fresh_server) == 0
    pipeline = new_pipeline(fresh_server)
    assert pipeline == 1
    deal_id = add(fresh_server, CATEGORY_ID="1")
    assert stage(fresh_server, deal_id) == ("1", "C1:NEW", "P", "N", "Y")
    fresh_server.call("crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": "C1:WON"}})
    assert stage(fresh_server, deal_id) == ("1", "C1:WON", "S", "Y", "N")
    error(
        fresh_server.call("crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": "WON"}}),
        400,
        "",
        "Field 'STAGE_ID' is not valid: 'WON' is not a stage of pipeline 1.",
    )
    body = fresh_server.call(
        "crm.deal.list", {"filter": {"CATEGORY_ID": 1}, "select": ["ID", "STAGE_ID"]}
    ).body
    assert (body["result"], body["total"]) == ([{"ID": str(deal_id), "STAGE_ID": "C1:WON"}], 1)


def test_company_id_is_a_link(fresh_server: LiveServer) -> None:
    company = fresh_server.insert_company()
    error(
        fresh_server.call("crm.deal.add", {"fields": {"COMPANY_ID": company + 1}}),
        400,
        "NOT_FOUND",
        f"Company #{company + 1} not found.",
    )
    assert count(fresh_server) == 0
    deal_id = add(fresh_server, COMPANY_ID=company)
    lead_id = fresh_server.call("crm.lead.add", {"fields": {"COMPANY_ID": company}}).result
    error(
        fresh_server.call("crm.deal.update", {"id": deal_id, "fields": {"COMPANY_ID": 999}}),
        400,
        "NOT_FOUND",
        "Company #999 not found.",
    )
    assert get(fresh_server, deal_id)["COMPANY_ID"] == str(company)
    assert fresh_server.call("crm.company.delete", {"id": company}).result is True
    assert get(fresh_server, deal_id)["COMPANY_ID"] is None
    assert fresh_server.call("crm.lead.get", {"id": lead_id}).result["COMPANY_ID"] is None


def test_contacts_on_add_update_and_delete(fresh_server: LiveServer) -> None:
    first, second = fresh_server.insert_contact(), fresh_server.insert_contact()
    deal_id = add(fresh_server, CONTACT_ID=first)
    assert get(fresh_server, deal_id)["CONTACT_ID"] == str(first)
    fresh_server.call("crm.deal.update", {"id": deal_id, "fields": {"CONTACT_IDS": [second, first]}})
    assert get(fresh_server, deal_id)["CONTACT_ID"] == str(second)
    listed = fresh_server.call("crm.deal.list", {"filter": {"CONTACT_ID": second}, "select": ["ID"]}).result
    assert listed == [{"ID": str(deal_id)}]
    error(
        fresh_server.call("crm.deal.update", {"id": deal_id, "fields": {"CONTACT_IDS": [777]}}),
        400,
        "NOT_FOUND",
        "Contact #777 not found.",
    )
    assert fresh_server.call("crm.contact.delete", {"id": second}).result is True
    assert get(fresh_server, deal_id)["CONTACT_ID"] == str(first)  # I4: a new primary
    assert fresh_server.call("crm.deal.delete", {"id": deal_id}).result is True
    error(fresh_server.call("crm.deal.get", {"id": deal_id}), 400, "", "Not found.")
    error(fresh_server.call("crm.deal.contact.items.get", {"id": deal_id}), 400, "NOT_FOUND", "Not found.")


@pytest.mark.parametrize(
    ("fields", "description"),
    [
        ({"OPPORTUNITY": "1e999"}, "Field 'OPPORTUNITY' is not valid: '1e999' is not a finite number."),
        ({"PROBABILITY": [1]}, "Field 'PROBABILITY' is not valid: an array is not allowed here."),
        ({"BEGINDATE": "someday"}, "Field 'BEGINDATE' is not valid: 'someday' is not a date."),
        ({"CLOSED": "maybe"}, "Field 'CLOSED' is not valid: 'maybe' is neither Y nor N."),
        ({"CONTACT_IDS": "5"}, "Field 'CONTACT_IDS' is not valid: it must be an array of IDs."),
    ],
)
def test_bad_input_is_refused_whole(server: LiveServer, fields: dict[str, Any], description: str) -> None:
    total = count(server)
    error(server.call("crm.deal.add", {"fields": {"TITLE": "bad", **fields}}), 400, "", description)
    assert count(server) == total
    deal_id = add(server, TITLE="unchanged")
    error(
        server.call("crm.deal.update", {"id": deal_id, "fields": {"TITLE": "x", **fields}}),
        400,
        "",
        description,
    )
    assert get(server, deal_id)["TITLE"] == "unchanged"


def test_list_pages_filters_and_orders(fresh_server: LiveServer) -> None:
    made = [add(fresh_server, TITLE=f"deal {n}", OPPORTUNITY=n * 100) for n in range(1, 56)]
    first = fresh_server.call("crm.deal.list", {"select": ["ID"], "order": {"ID": "ASC"}}).body
    assert (len(first["result"]), first["total"], first["next"]) == (50, 55, 50)
    rest = fresh_server.call("crm.deal.list", {"select": ["ID"], "order": {"ID": "ASC"}, "start": 50}).body
    assert [r["ID"] for r in first["result"] + rest["result"]] == [str(i) for i in made]
    assert "next" not in rest
    uncounted = fresh_server.call("crm.deal.list", {"select": ["ID"], "start": -1}).body
    assert (len(uncounted["result"]), uncounted["total"]) == (50, 0)
    rich = fresh_server.call(
        "crm.deal.list",
        {
            "filter": {">=OPPORTUNITY": 5300, "STAGE_ID": "NEW"},
            "order": {"OPPORTUNITY": "DESC"},
            "select": ["ID"],
        },
    ).result
    assert rich == [{"ID": str(made[n])} for n in (54, 53, 52)]


def test_permissions_per_pipeline(fresh_server: LiveServer) -> None:
    """A role gives levels per pipeline ("deal", "deal_c<n>"); a pipeline it does not name has the
    default pipeline's levels."""
    first, second = new_pipeline(fresh_server), new_pipeline(fresh_server)
    webhook = fresh_server.add_user("Sales")
    user_id = int(webhook.split("/rest/")[1].split("/")[0])
    with fresh_server._helper() as store, store.write() as tx:
        levels = {("deal", a): 5 for a in ("read", "add", "update", "delete")}
        levels |= {(f"deal_c{first}", "read"): 0, (f"deal_c{first}", "update"): 0}
        tx.role_assign(tx.role_add("deals but pipeline 1", levels), user_id=user_id)
    default = add(fresh_server, TITLE="default pipeline")
    hidden = add(fresh_server, TITLE="pipeline 1", CATEGORY_ID=first)
    inherited = add(fresh_server, TITLE="pipeline 2", CATEGORY_ID=second)
    assert get(fresh_server, default, webhook)["TITLE"] == "default pipeline"
    assert get(fresh_server, inherited, webhook)["TITLE"] == "pipeline 2"
    error(fresh_server.call("crm.deal.get", {"id": hidden}, webhook=webhook), 400, "", "Access denied.")
    error(
        fresh_server.call("crm.deal.update", {"id": hidden, "fields": {"TITLE": "x"}}, webhook=webhook),
        400,
        "",
        "Access denied.",
    )
    # level "none" in a role leaves the built-in Employee role's "own" (the caller's own deals)
    mine = add(fresh_server, webhook, TITLE="mine in 1", CATEGORY_ID=first)
    assert get(fresh_server, mine, webhook)["TITLE"] == "mine in 1"
    body = fresh_server.call(
        "crm.deal.list", {"select": ["ID"], "order": {"ID": "ASC"}}, webhook=webhook
    ).body
    assert (body["result"], body["total"]) == ([{"ID": str(i)} for i in (default, inherited, mine)], 3)
    assert fresh_server.call("crm.deal.delete", {"id": hidden}, webhook=webhook).result is True
