"""The official b24pysdk client (PyPI) against a live b24local, through its public API only.

How b24pysdk talks to a portal (read from its source, confirmed here):

- a webhook is ``BitrixWebhook(domain=..., webhook_token="{user}/{code}")``; ``domain`` is a host (with
  an optional port) without a scheme, and every URL is built as
  ``https://{domain}/rest/{user}/{code}/{method}.json``: there is no way to ask for plain http, so these
  tests use a server started with ``--tls`` and point ``requests`` at its local CA with
  ``REQUESTS_CA_BUNDLE`` (the SDK calls ``requests.post`` and has no TLS option of its own);
- every call is an HTTP POST of a JSON body (redirects off); 503 answers are retried;
- method wrappers (``client.crm.lead.contact.items.set(...)``) build lazy request objects that are sent on
  the first access to ``.result``/``.response``;
- ``request.as_list()`` fetches the first page with a plain call and the remaining pages with ``batch``
  commands (``start`` = 50, 100, …, ``halt`` true); ``as_list_fast()`` pages by ID windows
  (``>ID`` filter, ``order ID ASC``, ``start=-1``);
- ``client.call_batch({...})`` sends ``batch`` with ``cmd`` = ``method?query`` in PHP bracket syntax and
  ``halt`` as a JSON boolean;
- error envelopes raise a ``BitrixAPIError`` subclass chosen by the ``error`` code first
  (``NOT_FOUND`` → ``BitrixAPINotFound`` even on HTTP 400), then by the HTTP status (an empty code on
  400 → ``BitrixAPIBadRequest``); the exception carries ``error``, ``error_description`` (also its
  message) and ``status_code``.
"""

from __future__ import annotations

import gc
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from b24pysdk import BitrixWebhook, Client
from b24pysdk.errors import BitrixAPIBadRequest, BitrixAPINotFound

from tests.conftest import LiveServer, start_server
from tests.expected import OWNER_INVALID

CLIENT = "b24pysdk"


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(Path(tmp_path_factory.mktemp("b24pysdk")) / "b24local.db", "--tls")
    yield live
    # An SDK exception keeps its requests.Response, and with it an idle keep-alive TLS connection, alive
    # in a reference cycle; b24local waits for such a connection's TLS close on shutdown (up to 30 s).
    gc.collect()
    live.stop()


@pytest.fixture
def client(tls_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Client:
    assert tls_server.ca_file is not None
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", tls_server.ca_file)
    url = urlsplit(tls_server.webhook_url)
    assert url.scheme == "https"
    webhook = BitrixWebhook(domain=url.netloc, webhook_token=url.path.split("/rest/", 1)[1])
    return Client(webhook)


def binding(contact: int, sort: int, primary: bool) -> dict[str, object]:
    return {"CONTACT_ID": contact, "SORT": sort, "ROLE_ID": 0, "IS_PRIMARY": "Y" if primary else "N"}


@pytest.mark.compat(client=CLIENT, feature="items.set/get")
def test_items_set_and_get(tls_server: LiveServer, client: Client) -> None:
    lead = tls_server.insert_lead()
    first, second = tls_server.insert_contact(), tls_server.insert_contact()
    items = [{"CONTACT_ID": second, "SORT": 20}, {"CONTACT_ID": first, "SORT": 10, "IS_PRIMARY": "Y"}]
    request = client.crm.lead.contact.items.set(lead, items)
    assert request.result is True
    assert request.time.duration >= 0

    got = client.crm.lead.contact.items.get(lead)
    assert got.result == [binding(first, 10, True), binding(second, 20, False)]
    assert [(v.contact_id, v.sort, v.role_id, v.is_primary) for v in got.values] == [
        (first, 10, 0, True),
        (second, 20, 0, False),
    ]


@pytest.mark.compat(client=CLIENT, feature="add/delete")
def test_add_and_delete(client: Client) -> None:
    lead = client.crm.lead.add({"TITLE": "b24pysdk add"}).result
    contact = client.crm.contact.add({"NAME": "Ann", "LAST_NAME": "Sdk"}).result
    assert isinstance(lead, int) and isinstance(contact, int)

    contacts = client.crm.lead.contact
    assert contacts.add(lead, {"CONTACT_ID": contact}).result is True
    assert contacts.add(lead, {"CONTACT_ID": contact}).result is False  # already bound (A2)
    assert contacts.items.get(lead).result == [binding(contact, 10, True)]
    assert client.crm.lead.get(lead).result["CONTACT_ID"] == str(contact)
    assert contacts.delete(lead, {"CONTACT_ID": contact}).result is True
    assert contacts.delete(lead, {"CONTACT_ID": contact}).result is False  # not bound (D1)
    assert contacts.items.get(lead).result == []

    assert client.crm.contact.delete(contact).result is True
    assert client.crm.lead.delete(lead).result is True
    for gone in (client.crm.lead.get(lead), client.crm.contact.get(contact)):
        with pytest.raises(BitrixAPIBadRequest) as caught:
            _ = gone.result
        assert (caught.value.error, caught.value.error_description) == ("", "Not found.")


@pytest.mark.compat(client=CLIENT, feature="list all pages")
def test_list_all_pages(tls_server: LiveServer, client: Client) -> None:
    title = f"b24pysdk-{uuid.uuid4().hex[:8]}"
    ids = [tls_server.insert_lead(title=title) for _ in range(260)]  # 6 pages of 50

    rows = client.crm.lead.list(filter={"TITLE": title}, select=["ID", "TITLE"]).as_list().result
    assert [int(row["ID"]) for row in rows] == ids  # default order is ID ascending, no gaps or repeats
    assert {row["TITLE"] for row in rows} == {title}

    fast = client.crm.lead.list(filter={"TITLE": title}, select=["ID", "TITLE"]).as_list_fast().result
    assert [int(row["ID"]) for row in fast] == ids

    limited = client.crm.lead.list(filter={"TITLE": title}, select=["ID"]).as_list(limit=120).result
    assert [int(row["ID"]) for row in limited] == ids[:120]


@pytest.mark.compat(client=CLIENT, feature="batch")
def test_batch(tls_server: LiveServer, client: Client) -> None:
    lead = tls_server.insert_lead()
    first, second, third = (tls_server.insert_contact() for _ in range(3))
    contacts = client.crm.lead.contact
    batch = client.call_batch(
        {
            "set": contacts.items.set(lead, [{"CONTACT_ID": first}, {"CONTACT_ID": second}]),
            "add": contacts.add(lead, {"CONTACT_ID": third}),
            "again": contacts.add(lead, {"CONTACT_ID": third}),
            "get": contacts.items.get(lead),
            "bad": contacts.items.get(0),
        }
    )
    result = batch.result
    assert result.result == {
        "set": True,
        "add": True,
        "again": False,
        "get": [binding(first, 10, True), binding(second, 20, False), binding(third, 30, False)],
    }
    assert result.result_error == {"bad": {"error": "", "error_description": OWNER_INVALID}}
    assert result.result_total == []
    assert result.result_next == []
    assert isinstance(result.result_time, dict)
    assert set(result.result_time) == {"set", "add", "again", "get"}
    assert contacts.items.get(lead).result == result.result["get"]


@pytest.mark.compat(client=CLIENT, feature="error surfaced")
def test_error_surfaced(tls_server: LiveServer, client: Client) -> None:
    with pytest.raises(BitrixAPIBadRequest) as caught:
        _ = client.crm.lead.contact.items.get(0).result
    error = caught.value
    assert error.status_code == 400
    assert error.error == ""
    assert error.error_description == OWNER_INVALID
    assert str(error) == OWNER_INVALID
    assert error.json_response == {"error": "", "error_description": OWNER_INVALID}

    # The class follows the error code before the HTTP status: NOT_FOUND on a 400 (bindings E7).
    missing = tls_server.insert_lead()
    assert client.crm.lead.delete(missing).result is True
    with pytest.raises(BitrixAPINotFound) as caught_missing:
        _ = client.crm.lead.contact.items.get(missing).result
    assert caught_missing.value.status_code == 400
    assert caught_missing.value.error == "NOT_FOUND"
    assert caught_missing.value.error_description == "Not found."


# Deals and companies ------------------------------------------------------------------------------
#
# As b24pysdk's users write it: ``client.crm.deal.add(fields)`` builds a lazy request, several of them
# go out together through ``client.call_batches({...})`` (batches of 50), and ``.as_list()`` /
# ``.as_list_fast()`` fetch every page of ``crm.deal.list``.


def deal_row(deal: int, title: str, amount: str) -> dict[str, object]:
    return {"ID": str(deal), "TITLE": title, "OPPORTUNITY": amount, "STAGE_ID": "NEW", "CATEGORY_ID": "0"}


@pytest.mark.compat(client=CLIENT, feature="deals")
def test_deals_add_and_list_all(client: Client) -> None:
    tag = f"b24pysdk-deals-{uuid.uuid4().hex[:8]}"
    adds = {
        f"deal{i:03}": client.crm.deal.add({"TITLE": f"{tag}-{i:03}", "ORIGINATOR_ID": tag, "OPPORTUNITY": i})
        for i in range(120)
    }
    added = client.call_batches(adds, halt=True).result  # three batch requests: 50, 50, 20 commands
    assert added.result_error == {}
    assert sorted(added.result) == sorted(adds)
    ids = [added.result[f"deal{i:03}"] for i in range(120)]
    assert all(isinstance(deal, int) for deal in ids) and ids == sorted(set(ids))

    select = ["ID", "TITLE", "OPPORTUNITY", "STAGE_ID", "CATEGORY_ID"]
    expected = [deal_row(deal, f"{tag}-{i:03}", f"{i}.00") for i, deal in enumerate(ids)]
    listed = client.crm.deal.list(filter={"ORIGINATOR_ID": tag}, select=select)
    assert listed.as_list().result == expected  # first page plain, pages 2-3 in one batch
    listed = client.crm.deal.list(filter={"ORIGINATOR_ID": tag}, select=select)
    assert list(listed.as_list_fast().result) == expected  # by ID windows, as a generator

    deal = client.crm.deal.get(ids[5]).result
    assert (deal["TITLE"], deal["STAGE_SEMANTIC_ID"], deal["IS_NEW"], deal["CONTACT_ID"]) == (
        f"{tag}-005",
        "P",
        "Y",
        None,
    )
    assert client.crm.deal.update(ids[5], {"STAGE_ID": "WON"}).result is True
    deal = client.crm.deal.get(ids[5]).result
    assert (deal["STAGE_ID"], deal["STAGE_SEMANTIC_ID"], deal["CLOSED"]) == ("WON", "S", "Y")


@pytest.mark.compat(client=CLIENT, feature="companies")
def test_companies_add_and_list_all(client: Client) -> None:
    tag = f"b24pysdk-companies-{uuid.uuid4().hex[:8]}"
    adds = [
        client.crm.company.add({"TITLE": f"{tag}-{i:03}", "ORIGINATOR_ID": tag, "REVENUE": 1000 + i})
        for i in range(75)
    ]
    added = client.call_batches(adds, halt=True).result
    assert added.result_error == {}
    ids = list(added.result.values())
    assert len(ids) == 75 and all(isinstance(c, int) for c in ids) and ids == sorted(set(ids))

    select = ["ID", "TITLE", "COMPANY_TYPE", "REVENUE"]
    rows = client.crm.company.list(filter={"ORIGINATOR_ID": tag}, select=select).as_list().result
    assert rows == [
        {
            "ID": str(company),
            "TITLE": f"{tag}-{i:03}",
            "COMPANY_TYPE": "CUSTOMER",
            "REVENUE": f"{1000 + i}.00",
        }
        for i, company in enumerate(ids)
    ]
    assert client.crm.company.get(ids[74]).result["TITLE"] == f"{tag}-074"


@pytest.mark.compat(client=CLIENT, feature="deal bindings")
def test_deal_contact_bindings(tls_server: LiveServer, client: Client) -> None:
    deal = tls_server.insert_deal()
    c1, c2, c3 = (tls_server.insert_contact() for _ in range(3))
    contacts = client.crm.deal.contact
    items = [{"CONTACT_ID": c2, "SORT": 20}, {"CONTACT_ID": c1, "SORT": 10, "IS_PRIMARY": "Y"}]
    assert contacts.items.set(deal, items).result is True
    assert contacts.add(deal, {"CONTACT_ID": c3, "IS_PRIMARY": "Y"}).result is True
    assert contacts.add(deal, {"CONTACT_ID": c3}).result is False  # already bound

    got = contacts.items.get(deal)
    assert got.result == [binding(c1, 10, False), binding(c2, 20, False), binding(c3, 30, True)]
    assert [(v.contact_id, v.sort, v.role_id, v.is_primary) for v in got.values] == [
        (c1, 10, 0, False),
        (c2, 20, 0, False),
        (c3, 30, 0, True),
    ]
    assert client.crm.deal.get(deal).result["CONTACT_ID"] == str(c3)
    assert contacts.delete(deal, {"CONTACT_ID": c3}).result is True
    assert client.crm.deal.get(deal).result["CONTACT_ID"] == str(c1)  # the lowest SORT is primary again
    assert contacts.items.delete(deal).result is True
    assert contacts.items.get(deal).result == []
    assert client.crm.deal.get(deal).result["CONTACT_ID"] is None


@pytest.mark.compat(client=CLIENT, feature="company bindings")
def test_company_contact_bindings_both_sides(tls_server: LiveServer, client: Client) -> None:
    company, other = tls_server.insert_company(), tls_server.insert_company()
    c1, c2 = tls_server.insert_contact(), tls_server.insert_contact()
    items = [{"CONTACT_ID": c1}, {"CONTACT_ID": c2, "IS_PRIMARY": "Y"}]
    assert client.crm.company.contact.items.set(company, items).result is True
    # The same relation from the contact's side: crm.contact.company.*.
    assert client.crm.contact.company.add(c1, {"COMPANY_ID": other, "IS_PRIMARY": "Y"}).result is True

    got = client.crm.company.contact.items.get(company)
    assert got.result == [binding(c1, 10, False), binding(c2, 20, True)]
    assert [(v.contact_id, v.sort, v.is_primary) for v in got.values] == [(c1, 10, False), (c2, 20, True)]
    companies = client.crm.contact.company.items.get(c1)
    assert companies.result == [
        {"COMPANY_ID": company, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "N"},
        {"COMPANY_ID": other, "SORT": 20, "ROLE_ID": 0, "IS_PRIMARY": "Y"},
    ]
    assert [(v.company_id, v.sort, v.is_primary) for v in companies.values] == [
        (company, 10, False),
        (other, 20, True),
    ]
    assert client.crm.contact.get(c1).result["COMPANY_ID"] == str(other)
    assert client.crm.contact.company.delete(c1, {"COMPANY_ID": company}).result is True
    assert client.crm.company.contact.items.get(company).result == [binding(c2, 20, True)]
