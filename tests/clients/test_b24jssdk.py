"""The real @bitrix24/b24jssdk (npm) against a live b24local over HTTPS, through its public API only.

``tests/clients/js/b24jssdk_run.mjs`` runs every case once in one Node process (``node script.mjs
<webhook> <fixture-json>``) and prints one JSON object; the tests below assert parts of it.

How b24jssdk talks to a portal (read from its dist/, confirmed by the ``wire`` part of the output):

- the webhook client is ``B24Hook.fromWebhookUrl(url)``; it refuses anything but ``https://`` and builds
  every URL as ``https://{host[:port]}/rest/{user}/{code}/{method}`` (no ``.json``), so these tests run a
  server started with ``--tls`` and give Node its local CA with ``NODE_EXTRA_CA_CERTS``;
- every call is an axios HTTP POST of a JSON body (``Content-Type: application/json``, ``User-Agent:
  b24-js-sdk/<version>``) with the query string ``bx24_request_id``, ``bx24_sdk_ver``,
  ``bx24_sdk_type`` appended to the URL; a portal ignores those parameters, and so do we;
- ``actions.v2.callList`` fetches every page by ID cursor (``order {ID: ASC}``, filter ``>ID`` = the last
  id seen, ``start = -1``) until a page has fewer than 50 rows; ``AjaxResult#getNext`` pages by offset
  (``start`` = the answer's ``next``) and ``getTotal`` reads ``total``;
- ``actions.v2.batch`` sends ``batch`` with ``halt`` 1/0 and ``cmd`` = ``method?qs.stringify(params)``
  (brackets percent-encoded) in the JSON body;
- a failing call throws an ``AjaxError`` with ``code`` (the answer's ``error``), ``message`` (its
  ``error_description``) and ``status`` (HTTP); an empty ``error`` code, which a portal sends for
  many 400s as well, is not recognised as an error body, so the SDK reports axios' own
  ``ERR_BAD_REQUEST`` / ``Request failed with status code 400`` and the description is lost; inside a
  batch a failing command becomes an error of the batch ``Result`` under the command's key
  (``status`` 200, the batch's own).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.clients.runtime import LEADS, Seeded, node_with_sdk, run_node_script, seed
from tests.conftest import LiveServer, start_server
from tests.expected import TIME_KEYS

CLIENT = "@bitrix24/b24jssdk"
SCRIPT = "b24jssdk_run.mjs"


@pytest.fixture(scope="session")
def node() -> str:
    return node_with_sdk()


@dataclass(frozen=True)
class JsRun(Seeded):
    live: LiveServer
    out: dict[str, Any]


@pytest.fixture(scope="module")
def run(node: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JsRun]:
    """An HTTPS server with 263 leads of one unique title, and the script's output against it."""
    live = start_server(tmp_path_factory.mktemp("b24jssdk") / "b24local.db", "--tls")
    try:
        seeded = seed(live, f"b24jssdk-{uuid.uuid4().hex[:8]}")
        out = run_node_script(node, SCRIPT, live, seeded.fixture())
        yield JsRun(**vars(seeded), live=live, out=out)
    finally:
        live.stop()


def binding(contact: int, sort: int, primary: bool) -> dict[str, Any]:
    return {"CONTACT_ID": contact, "SORT": sort, "ROLE_ID": 0, "IS_PRIMARY": "Y" if primary else "N"}


def answer(result: Any) -> dict[str, Any]:
    """A successful AjaxResult as the script summarises it."""
    return {"isSuccess": True, "status": 200, "result": result, "isMore": False, "total": 0}


@pytest.mark.compat(client=CLIENT, feature="items.set/get")
def test_items_set_and_get(run: JsRun) -> None:
    c1, c2 = run.contacts
    expected = [binding(c1, 10, True), binding(c2, 20, False)]
    assert run.out["itemsSetGet"] == {
        "set": answer(True),
        "get": {**answer(expected), "timeKeys": sorted(TIME_KEYS)},
    }
    assert run.live.call("crm.lead.get", {"id": run.set_lead}).result["CONTACT_ID"] == str(c1)
    # On the wire: a JSON POST to the https webhook URL without .json, with the SDK's query string.
    wire = run.out["wire"]["itemsSet"]
    url = urlsplit(wire["url"])
    assert (wire["httpMethod"], url.scheme, url.netloc) == (
        "post",
        "https",
        urlsplit(run.live.base_url).netloc,
    )
    assert url.path == "/rest/1/{code}/crm.lead.contact.items.set"
    query = parse_qs(url.query)
    assert sorted(query) == ["bx24_request_id", "bx24_sdk_type", "bx24_sdk_ver"]
    assert query["bx24_sdk_type"] == ["b24-js-sdk"]
    assert wire["contentType"] == "application/json"
    assert wire["userAgent"].startswith("b24-js-sdk/")
    assert json.loads(wire["body"]) == {
        "id": run.set_lead,
        "items": [{"CONTACT_ID": c2, "SORT": 20}, {"CONTACT_ID": c1, "SORT": 10, "IS_PRIMARY": "Y"}],
    }


@pytest.mark.compat(client=CLIENT, feature="add/delete")
def test_add_and_delete(run: JsRun) -> None:
    c1, c2 = run.contacts
    assert run.out["addDelete"] == {
        "addFirst": answer(True),
        "addSecond": answer(True),
        "addAgain": answer(False),  # already bound
        "afterAdd": answer([binding(c1, 10, False), binding(c2, 20, True)]),
        "delete": answer(True),
        "deleteAgain": answer(False),  # not bound any more
        "afterDelete": answer([binding(c1, 10, True)]),
    }
    assert run.live.call("crm.lead.get", {"id": run.add_lead}).result["CONTACT_ID"] == str(c1)


@pytest.mark.compat(client=CLIENT, feature="list all pages")
def test_list_all_pages(run: JsRun) -> None:
    ids = [str(lead) for lead in run.lead_ids]
    listed = run.out["listAll"]
    assert listed["callList"] == {
        "isSuccess": True,
        "errors": [],
        "ids": ids,
        "titles": [run.title],
        "keys": ["ID,TITLE"],
        "requests": 6,  # five full pages by ID cursor, then one of 13 rows
    }
    assert listed["getNext"] == {
        "pages": [{"count": 50, "total": LEADS, "isMore": True}] * 5
        + [{"count": 13, "total": LEADS, "isMore": False}],
        "ids": ids,
    }


@pytest.mark.compat(client=CLIENT, feature="batch")
def test_batch(run: JsRun) -> None:
    c1, c2 = run.contacts
    batch = run.out["batch"]
    new_lead = batch["named"]["newLead"]
    assert isinstance(new_lead, int)
    assert new_lead > max(run.lead_ids)
    expected = [binding(c1, 10, True), binding(c2, 20, False)]
    assert batch["named"] == {
        "isSuccess": True,
        "errors": [],
        "newLead": new_lead,
        "bind": True,
        "items": expected,
        "lead": {"TITLE": f"{run.title}-batch", "CONTACT_ID": str(c1), "ID": str(new_lead)},
    }
    assert batch["array"] == {
        "isSuccess": True,
        "items": expected,
        "serverTimeIsString": True,
        "timeKeys": sorted(TIME_KEYS),
    }
    assert run.live.call("crm.lead.contact.items.get", {"id": new_lead}).result == expected
    # On the wire: one JSON POST of {halt, cmd: {name: "method?query"}}, $result[...] references kept.
    wire = run.out["wire"]["batch"]
    assert urlsplit(wire["url"]).path == "/rest/1/{code}/batch"
    assert wire["contentType"] == "application/json"
    assert json.loads(wire["body"]) == {
        "halt": 1,
        "cmd": {
            "newLead": f"crm.lead.add?fields%5BTITLE%5D={run.title}-batch",
            "bind": "crm.lead.contact.items.set?id=%24result%5BnewLead%5D"
            f"&items%5B0%5D%5BCONTACT_ID%5D={c1}&items%5B1%5D%5BCONTACT_ID%5D={c2}",
            "items": "crm.lead.contact.items.get?id=%24result%5BnewLead%5D",
            "lead": "crm.lead.get?id=%24result%5BnewLead%5D",
        },
    }


@pytest.mark.compat(client=CLIENT, feature="error surfaced")
def test_errors_surface(run: JsRun) -> None:
    def thrown(code: str, message: str, status: int) -> dict[str, Any]:
        return {
            "thrown": {
                "name": "AjaxError",
                "isAjaxError": True,
                "code": code,
                "message": message,
                "status": status,
            }
        }

    errors = run.out["errors"]
    assert errors["leadNotFound"] == thrown("NOT_FOUND", "Not found.", 400)
    assert errors["methodNotFound"] == thrown("ERROR_METHOD_NOT_FOUND", "Method not found!", 404)
    # {"error": "", "error_description": "The parameter ownerEntityID is invalid or not defined."} (400,
    # as a portal answers): the SDK does not take an empty code for an error body and reports axios' own.
    assert errors["emptyCode"] == thrown("ERR_BAD_REQUEST", "Request failed with status code 400", 400)
    assert errors["inBatch"] == {
        "returned": {
            "isSuccess": False,
            "errors": {
                "bad": {
                    "name": "AjaxError",
                    "isAjaxError": True,
                    "code": "NOT_FOUND",
                    "message": "Not found.",
                    "status": 200,
                }
            },
            "okKeys": ["good"],
        }
    }
