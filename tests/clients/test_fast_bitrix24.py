"""The real fast-bitrix24 client (PyPI) against a live b24local, through its public API only.

How fast-bitrix24 talks to a portal (read from its source, confirmed here):

- every request is an HTTP POST of a JSON body to ``{webhook}{method}`` (method name lower-cased);
  4xx answers raise ``aiohttp.ClientResponseError``, 5xx answers are retried with back-off;
- ``call(method, params)`` always wraps the call in ``batch`` (``cmd`` = ``method?http_build_query``),
  ``call(..., raw=True)`` sends one plain request and returns the whole envelope;
- ``get_all`` sends the first page as a plain request (adding ``order: {ID: ASC}``) and fetches the
  remaining pages in ``batch`` commands with ``start`` = 50, 100, …;
- it throttles itself (leaky bucket: 50 requests, then 2/s; and per-method operating time from
  ``time.operating``); with ``respect_velocity_policy=False`` it fails with a ``KeyError`` on every answer
  that carries ``time.operating`` (a fast-bitrix24 bug: portals send that field too), so the default is
  kept; ``verbose=False`` turns off its tqdm progress bars.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator

import aiohttp
import pytest
from fast_bitrix24 import Bitrix

from tests.conftest import LiveServer
from tests.expected import TIME_KEYS


@pytest.fixture
def bitrix(server: LiveServer) -> Iterator[Bitrix]:
    with warnings.catch_warnings():
        # Bitrix's synchronous wrapper calls asyncio.get_event_loop() outside a running loop.
        warnings.simplefilter("ignore", DeprecationWarning)
        yield Bitrix(server.webhook_url, verbose=False)


@pytest.mark.compat(client="fast-bitrix24", feature="items.set/get")
def test_items_set_and_get_raw(server: LiveServer, bitrix: Bitrix) -> None:
    lead = server.insert_lead()
    first, second = server.insert_contact(), server.insert_contact()
    items = [{"CONTACT_ID": second, "SORT": 20}, {"CONTACT_ID": first, "SORT": 10, "IS_PRIMARY": "Y"}]
    answer = bitrix.call("crm.lead.contact.items.set", {"id": lead, "items": items}, raw=True)
    assert answer["result"] is True
    assert set(answer["time"]) == TIME_KEYS
    answer = bitrix.call("CRM.Lead.Contact.Items.Get", {"id": lead}, raw=True)
    assert answer["result"] == [
        {"CONTACT_ID": first, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"},
        {"CONTACT_ID": second, "SORT": 20, "ROLE_ID": 0, "IS_PRIMARY": "N"},
    ]
    assert "total" not in answer and "next" not in answer


@pytest.mark.compat(client="fast-bitrix24", feature="error surfaced")
def test_errors_surface_as_http_errors(bitrix: Bitrix) -> None:
    with pytest.raises(aiohttp.ClientResponseError) as caught:
        bitrix.call("crm.lead.contact.items.get", {"id": 0}, raw=True)
    assert caught.value.status == 400
    with pytest.raises(aiohttp.ClientResponseError) as caught:
        bitrix.call("no.such.method", {}, raw=True)
    assert caught.value.status == 404


@pytest.mark.compat(client="fast-bitrix24", feature="batch")
def test_call_through_batch(server: LiveServer, bitrix: Bitrix) -> None:
    lead = server.insert_lead()
    contact = server.insert_contact()
    assert bitrix.call("crm.lead.contact.items.set", {"id": lead, "items": [{"CONTACT_ID": contact}]}) is True
    answer = bitrix.call("crm.lead.contact.items.get", {"id": lead}, raw=True)
    assert answer["result"] == [{"CONTACT_ID": contact, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"}]


@pytest.mark.compat(client="fast-bitrix24", feature="list all pages")
def test_get_all_single_page(server: LiveServer, bitrix: Bitrix) -> None:
    title = f"fb24-one-page-{uuid.uuid4().hex[:8]}"
    ids = {server.insert_lead(title=title) for _ in range(30)}
    rows = bitrix.get_all("crm.lead.list", {"filter": {"TITLE": title}, "select": ["ID", "TITLE"]})
    assert isinstance(rows, list)
    assert sorted(int(row["ID"]) for row in rows) == sorted(ids)
    assert {row["TITLE"] for row in rows} == {title}


@pytest.mark.compat(client="fast-bitrix24", feature="list all pages")
def test_get_all_paged(server: LiveServer, bitrix: Bitrix) -> None:
    title = f"fb24-paged-{uuid.uuid4().hex[:8]}"
    ids = {server.insert_lead(title=title) for _ in range(260)}  # six pages: five of 50, one of 10
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # fast-bitrix24 warns when total and rows disagree
        rows = bitrix.get_all("crm.lead.list", {"filter": {"TITLE": title}, "select": ["ID", "TITLE"]})
    assert isinstance(rows, list)
    assert len(rows) == 260
    assert sorted(int(row["ID"]) for row in rows) == sorted(ids)


@pytest.mark.compat(client="fast-bitrix24", feature="add/delete")
def test_add_and_delete(server: LiveServer, bitrix: Bitrix) -> None:
    lead = bitrix.call("crm.lead.add", {"fields": {"TITLE": "fb24-add"}})
    first = bitrix.call("crm.contact.add", {"fields": {"NAME": "First"}})
    second = bitrix.call("crm.contact.add", {"fields": {"NAME": "Second"}})
    assert isinstance(lead, int) and isinstance(first, int) and isinstance(second, int)
    assert bitrix.call("crm.lead.contact.add", {"id": lead, "fields": {"CONTACT_ID": first}}) is True
    assert bitrix.call("crm.lead.contact.add", {"id": lead, "fields": {"CONTACT_ID": first}}) is False
    assert (
        bitrix.call("crm.lead.contact.add", {"id": lead, "fields": {"CONTACT_ID": second, "SORT": 5}}) is True
    )
    assert bitrix.call("crm.lead.contact.items.get", {"id": lead}, raw=True)["result"] == [
        {"CONTACT_ID": second, "SORT": 5, "ROLE_ID": 0, "IS_PRIMARY": "N"},
        {"CONTACT_ID": first, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"},
    ]
    assert bitrix.call("crm.lead.contact.delete", {"id": lead, "fields": {"CONTACT_ID": first}}) is True
    assert bitrix.call("crm.lead.contact.delete", {"id": lead, "fields": {"CONTACT_ID": first}}) is False
    assert bitrix.call("crm.lead.get", {"id": lead}, raw=True)["result"]["CONTACT_ID"] == str(second)
    assert bitrix.call("crm.lead.delete", {"id": lead}) is True
