"""The real @bitrix24/b24jssdk (npm) on deals, companies and their contact bindings, over HTTPS.

``tests/clients/js/b24jssdk_crm_run.mjs`` runs every case once in one Node process and prints one JSON
object; the tests below assert parts of it (how the SDK talks to a portal: test_b24jssdk.py).

As the SDK's users write it: ``actions.v2.batchByChunk`` sends any number of ``crm.*.add`` commands in
batches of 50 and returns the results in command order; ``actions.v2.callList`` and the async generator
``actions.v2.fetchList`` read every page of a list by ID cursor (``order {ID: ASC}``, filter ``>ID``,
``start = -1``) until a page has fewer than 50 rows; ``actions.v2.call`` sends one method.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.clients.runtime import node_with_sdk, run_node_script
from tests.conftest import LiveServer, start_server

CLIENT = "@bitrix24/b24jssdk"
SCRIPT = "b24jssdk_crm_run.mjs"
DEALS = 120  # two full pages of 50 and one of 20
COMPANIES = 75  # a full page and one of 25


@dataclass(frozen=True)
class CrmRun:
    live: LiveServer
    tag: str
    bind_deal: int
    bind_company: int
    other_company: int
    contacts: tuple[int, int, int]
    out: dict[str, Any]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrmRun]:
    """An HTTPS server with one deal, two companies and three contacts, and the script's output."""
    node = node_with_sdk()
    live = start_server(tmp_path_factory.mktemp("b24jssdk-crm") / "b24local.db", "--tls")
    try:
        tag = f"b24jssdk-crm-{uuid.uuid4().hex[:8]}"
        deal, company, other = live.insert_deal(), live.insert_company(), live.insert_company()
        contacts = (live.insert_contact(), live.insert_contact(), live.insert_contact())
        fixture = {
            "tag": tag,
            "deals": DEALS,
            "companies": COMPANIES,
            "bindDeal": deal,
            "bindCompany": company,
            "otherCompany": other,
            "contacts": list(contacts),
        }
        out = run_node_script(node, SCRIPT, live, fixture)
        yield CrmRun(live, tag, deal, company, other, contacts, out)
    finally:
        live.stop()


def binding(key: str, bound: int, sort: int, primary: bool) -> dict[str, Any]:
    return {key: bound, "SORT": sort, "ROLE_ID": 0, "IS_PRIMARY": "Y" if primary else "N"}


def added_and_listed(
    out: dict[str, Any], pages: tuple[int, ...], row: Callable[[int, int], Any]
) -> list[int]:
    """Check one ``addAndList`` case of the script and return the new ids.

    batchByChunk returned one new integer id per command, in command order (one batch request per 50);
    callList returned ``row(i, id)`` for the i-th of them and fetchList yielded their ids in pages of
    the given sizes, each with one request per page.
    """
    count = sum(pages)
    assert (out["add"]["isSuccess"], out["add"]["batches"]) == (True, -(-count // 50))
    ids = out["add"]["ids"]
    assert len(ids) == count and all(isinstance(i, int) for i in ids) and ids == sorted(set(ids))
    assert out["callList"] == {
        "isSuccess": True,
        "rows": [row(i, record) for i, record in enumerate(ids)],
        "requests": len(pages),
    }
    starts = [sum(pages[:n]) for n in range(len(pages))]
    assert out["fetchList"] == {
        "pages": [
            [str(record) for record in ids[at : at + size]] for at, size in zip(starts, pages, strict=True)
        ],
        "requests": len(pages),
    }
    return list(ids)


@pytest.mark.compat(client=CLIENT, feature="deals")
def test_deals_add_and_list_all(run: CrmRun) -> None:
    def row(i: int, deal: int) -> dict[str, str]:
        return {"ID": str(deal), "TITLE": f"{run.tag}-{i:03}", "OPPORTUNITY": f"{i}.00", "STAGE_ID": "NEW"}

    ids = added_and_listed(run.out["deals"], (50, 50, 20), row)
    deal = run.live.call("crm.deal.get", {"id": ids[119]}).result
    assert (deal["TITLE"], deal["ORIGINATOR_ID"], deal["CATEGORY_ID"]) == (f"{run.tag}-119", run.tag, "0")


@pytest.mark.compat(client=CLIENT, feature="companies")
def test_companies_add_and_list_all(run: CrmRun) -> None:
    def row(i: int, company: int) -> dict[str, str]:
        title, revenue = f"{run.tag}-{i:03}", f"{1000 + i}.00"
        return {"ID": str(company), "TITLE": title, "COMPANY_TYPE": "CUSTOMER", "REVENUE": revenue}

    ids = added_and_listed(run.out["companies"], (50, 25), row)
    company = run.live.call("crm.company.get", {"id": ids[74]}).result
    assert (company["TITLE"], company["ORIGINATOR_ID"], company["IS_MY_COMPANY"]) == (
        f"{run.tag}-074",
        run.tag,
        "N",
    )


@pytest.mark.compat(client=CLIENT, feature="deal bindings")
def test_deal_contact_bindings(run: CrmRun) -> None:
    c1, c2, c3 = run.contacts
    assert run.out["dealBindings"] == {
        "set": True,
        "add": True,
        "addAgain": False,  # already bound
        "items": [
            binding("CONTACT_ID", c1, 10, False),
            binding("CONTACT_ID", c2, 20, False),
            binding("CONTACT_ID", c3, 30, True),
        ],
        "contactId": str(c3),
        "delete": True,
        "after": [binding("CONTACT_ID", c1, 10, True), binding("CONTACT_ID", c2, 20, False)],
        "contactIdAfter": str(c1),  # the lowest SORT became primary
    }


@pytest.mark.compat(client=CLIENT, feature="company bindings")
def test_company_contact_bindings_both_sides(run: CrmRun) -> None:
    c1, c2, c3 = run.contacts
    assert run.out["companyBindings"] == {
        "set": True,
        "addFromContact": True,
        "addOther": True,
        "companyItems": [
            binding("CONTACT_ID", c1, 10, False),
            binding("CONTACT_ID", c2, 20, True),
            binding("CONTACT_ID", c3, 30, False),  # bound from the contact's side
        ],
        "contactItems": [
            binding("COMPANY_ID", run.bind_company, 10, False),
            binding("COMPANY_ID", run.other_company, 20, True),
        ],
        "contactCompanyId": str(run.other_company),
    }
