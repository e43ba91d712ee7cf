"""The bitrix24-api-client client (PyPI, module ``bitrix24_client``) against a live b24local, public API only.

How bitrix24-api-client talks to a portal (read from its source, confirmed here):

- ``Bitrix24Client(base_url, access_token, user_id=None)``; the URL is
  ``{base_url}/rest/{user_id}/{access_token}/{method}`` (no ``.json``), or ``{base_url}/rest/{access_token}/
  {method}`` without ``user_id``. Its docstring calls ``user_id`` an OAuth setting, but the path it builds
  is the incoming-webhook address, so a webhook is ``base_url`` = scheme and host, ``user_id`` = the
  webhook's user and ``access_token`` = its code. http and https both work (requests, default CA store);
- the synchronous client needs ``with Bitrix24Client(...)`` (or ``open_session()``) for its
  ``requests.Session``; every call is an HTTP POST of a JSON body; 503 answers are retried;
- ``call_method`` returns only ``result``, and when ``result`` is an object it returns the value of its
  FIRST key (the default response formatter): for ``batch`` that is ``result.result``, so
  ``result_error`` is dropped and a failing command simply has no entry;
- ``call_method(..., fetch_all=True)`` pages sequentially, sending ``start`` = the previous ``next`` until
  an answer has no ``next``;
- there is no batch call of its own; ``chunk_batch_requests(commands)`` splits a command map into maps of
  at most 50, each sent as a raw ``batch`` call; commands are ``method?query`` strings built by the caller;
- a status other than 200 (after the 503 retries) raises ``Bitrix24HTTPError`` with ``status_code`` and
  the raw body in ``response_text``; only an ``error`` key in a 200 answer would give
  ``Bitrix24APIError`` (code, description), which a portal does not send.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from bitrix24_client import Bitrix24Client, Bitrix24HTTPError, chunk_batch_requests

from tests.conftest import LiveServer
from tests.expected import METHOD_NOT_FOUND, OWNER_INVALID

CLIENT = "bitrix24-api-client"


@pytest.fixture
def bx(server: LiveServer) -> Iterator[Bitrix24Client]:
    url = urlsplit(server.webhook_url)
    user_id, code = url.path.split("/")[2:4]
    with Bitrix24Client(
        base_url=f"{url.scheme}://{url.netloc}", access_token=code, user_id=int(user_id)
    ) as client:
        yield client


def binding(contact: int, sort: int, primary: bool) -> dict[str, object]:
    return {"CONTACT_ID": contact, "SORT": sort, "ROLE_ID": 0, "IS_PRIMARY": "Y" if primary else "N"}


def command(method: str, params: dict[str, Any]) -> str:
    return f"{method}?{urlencode(params)}"


@pytest.mark.compat(client=CLIENT, feature="items.set/get")
def test_items_set_and_get(server: LiveServer, bx: Bitrix24Client) -> None:
    lead = server.insert_lead()
    first, second = server.insert_contact(), server.insert_contact()
    items = [{"CONTACT_ID": second, "SORT": 20}, {"CONTACT_ID": first, "SORT": 10, "IS_PRIMARY": "Y"}]
    assert bx.call_method("crm.lead.contact.items.set", {"id": lead, "items": items}) is True
    assert bx.call_method("crm.lead.contact.items.get", {"id": lead}) == [
        binding(first, 10, True),
        binding(second, 20, False),
    ]


@pytest.mark.compat(client=CLIENT, feature="add/delete")
def test_add_and_delete(bx: Bitrix24Client) -> None:
    lead = bx.call_method("crm.lead.add", {"fields": {"TITLE": "bitrix24-api-client"}})
    contact = bx.call_method("crm.contact.add", {"fields": {"NAME": "Ann", "LAST_NAME": "Api"}})
    assert isinstance(lead, int) and isinstance(contact, int)

    params = {"id": lead, "fields": {"CONTACT_ID": contact}}
    assert bx.call_method("crm.lead.contact.add", params) is True
    assert bx.call_method("crm.lead.contact.add", params) is False  # already bound (A2)
    assert bx.call_method("crm.lead.contact.items.get", {"id": lead}) == [binding(contact, 10, True)]
    assert bx.call_method("crm.lead.contact.delete", params) is True
    assert bx.call_method("crm.lead.contact.delete", params) is False  # not bound (D1)
    assert bx.call_method("crm.lead.contact.items.get", {"id": lead}) == []

    assert bx.call_method("crm.contact.delete", {"id": contact}) is True
    assert bx.call_method("crm.lead.delete", {"id": lead}) is True
    for method, gone in (("crm.lead.get", lead), ("crm.contact.get", contact)):
        with pytest.raises(Bitrix24HTTPError) as caught:
            bx.call_method(method, {"id": gone})
        assert caught.value.status_code == 400
        assert json.loads(caught.value.response_text) == {"error": "", "error_description": "Not found."}


@pytest.mark.compat(client=CLIENT, feature="list all pages")
def test_list_all_pages(server: LiveServer, bx: Bitrix24Client) -> None:
    title = f"b24api-{uuid.uuid4().hex[:8]}"
    ids = [server.insert_lead(title=title) for _ in range(260)]  # 6 pages of 50
    params = {"filter": {"TITLE": title}, "select": ["ID", "TITLE"]}
    rows = bx.call_method("crm.lead.list", params, fetch_all=True)
    assert [int(row["ID"]) for row in rows] == ids
    assert {row["TITLE"] for row in rows} == {title}
    assert "start" not in params  # the client pages on a copy

    first_page = bx.call_method("crm.lead.list", params)
    assert [int(row["ID"]) for row in first_page] == ids[:50]


@pytest.mark.compat(client=CLIENT, feature="batch")
def test_batch(server: LiveServer, bx: Bitrix24Client) -> None:
    lead = server.insert_lead()
    first, second, third = (server.insert_contact() for _ in range(3))
    commands: dict[str, str] = {
        "set": command(
            "crm.lead.contact.items.set",
            {"id": lead, "items[0][CONTACT_ID]": first, "items[1][CONTACT_ID]": second},
        ),
        "add": command("crm.lead.contact.add", {"id": lead, "fields[CONTACT_ID]": third}),
        "again": command("crm.lead.contact.add", {"id": lead, "fields[CONTACT_ID]": third}),
        "get": command("crm.lead.contact.items.get", {"id": lead}),
        "bad": "crm.lead.contact.items.get?id=0",
    }
    commands |= {f"get{i}": command("crm.lead.contact.items.get", {"id": lead}) for i in range(50)}
    chunks = chunk_batch_requests(commands)
    assert [len(chunk) for chunk in chunks] == [50, 5]

    results: dict[str, Any] = {}
    for chunk in chunks:
        results |= bx.call_method("batch", {"cmd": chunk, "halt": 0})

    bound = [binding(first, 10, True), binding(second, 20, False), binding(third, 30, False)]
    # "bad" failed: its error was in result_error, which the client's formatter drops.
    assert results == {
        "set": True,
        "add": True,
        "again": False,
        "get": bound,
        **{f"get{i}": bound for i in range(50)},
    }


@pytest.mark.compat(client=CLIENT, feature="error surfaced")
def test_error_surfaced(bx: Bitrix24Client) -> None:
    with pytest.raises(Bitrix24HTTPError) as caught:
        bx.call_method("crm.lead.contact.items.get", {"id": 0})
    assert caught.value.status_code == 400
    assert json.loads(caught.value.response_text) == {"error": "", "error_description": OWNER_INVALID}
    assert str(caught.value) == f"HTTP 400: {caught.value.response_text}"

    with pytest.raises(Bitrix24HTTPError) as caught:
        bx.call_method("no.such.method")
    assert caught.value.status_code == 404
    assert json.loads(caught.value.response_text) == METHOD_NOT_FOUND
