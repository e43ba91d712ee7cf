"""The ``curl`` command line tool against a live b24local: what a shell script or a cron job does.

Every request is a real ``curl`` process. Bodies are sent both ways a script would send them: JSON
(``-H 'Content-Type: application/json' -d '{...}'``) and form-urlencoded with PHP bracket keys
(``-d 'fields[TITLE]=...'``, ``--data-urlencode``); reads also go as a GET with the parameters in the
query string (``-G``). ``-g`` turns off curl's own ``[]``/``{}`` URL globbing, which would otherwise
eat the brackets.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.expected import INVALID_CREDENTIALS, METHOD_NOT_FOUND, TIME_KEYS

CURL = shutil.which("curl")
if CURL is None:
    pytest.skip("the curl binary is not installed", allow_module_level=True)

CLIENT = "curl"
_STATUS_MARK = "\n--http-status:"


@dataclass
class Answer:
    status: int
    body: Any
    exit_code: int


def curl(url: str, *args: str) -> Answer:
    """Run ``curl -sS -g ARGS URL``; the HTTP status comes from ``--write-out``."""
    assert CURL is not None
    done = subprocess.run(
        [CURL, "-sS", "-g", "--max-time", "30", "--write-out", _STATUS_MARK + "%{http_code}", *args, url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    text, _, status = done.stdout.rpartition(_STATUS_MARK)
    assert status.isdigit(), (done.returncode, done.stdout, done.stderr)
    return Answer(int(status), json.loads(text) if text else None, done.returncode)


def post_json(server: LiveServer, method: str, params: dict[str, Any]) -> Answer:
    return curl(
        server.webhook_url + method,
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        json.dumps(params),
    )


def post_form(server: LiveServer, method: str, *fields: str) -> Answer:
    """A form-urlencoded POST; each field is ``name=value`` with the value url-encoded by curl."""
    return curl(
        server.webhook_url + method, *[arg for field in fields for arg in ("--data-urlencode", field)]
    )


def get_query(server: LiveServer, method: str, *fields: str) -> Answer:
    """A GET with the fields in the query string."""
    return curl(
        server.webhook_url + method, "-G", *[arg for field in fields for arg in ("--data-urlencode", field)]
    )


def result(answer: Answer) -> Any:
    assert answer.exit_code == 0, answer
    assert answer.status == 200, answer
    assert set(answer.body) <= {"result", "total", "next", "time"}, answer.body
    assert set(answer.body["time"]) == TIME_KEYS
    return answer.body["result"]


@pytest.mark.compat(client=CLIENT, feature="items.set/get")
def test_items_set_and_get(server: LiveServer) -> None:
    lead = server.insert_lead()
    first, second = server.insert_contact(), server.insert_contact()

    # JSON body; read back as a GET with a query string.
    items = [{"CONTACT_ID": second, "SORT": 20}, {"CONTACT_ID": first, "SORT": 10, "IS_PRIMARY": "Y"}]
    assert result(post_json(server, "crm.lead.contact.items.set", {"id": lead, "items": items})) is True
    answer = get_query(server, "crm.lead.contact.items.get", f"id={lead}")
    assert result(answer) == [
        {"CONTACT_ID": first, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"},
        {"CONTACT_ID": second, "SORT": 20, "ROLE_ID": 0, "IS_PRIMARY": "N"},
    ]
    assert "total" not in answer.body and "next" not in answer.body

    # Form body with PHP bracket keys replaces the whole set; read back with a form POST (.json suffix).
    answer = post_form(
        server,
        "crm.lead.contact.items.set",
        f"id={lead}",
        f"items[0][CONTACT_ID]={first}",
        f"items[1][CONTACT_ID]={second}",
        "items[1][IS_PRIMARY]=Y",
    )
    assert result(answer) is True
    assert result(post_form(server, "crm.lead.contact.items.get.json", f"id={lead}")) == [
        {"CONTACT_ID": first, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "N"},
        {"CONTACT_ID": second, "SORT": 20, "ROLE_ID": 0, "IS_PRIMARY": "Y"},
    ]

    # An empty set (JSON) clears the bindings.
    assert result(post_json(server, "crm.lead.contact.items.set", {"id": lead, "items": []})) is True
    assert result(post_json(server, "crm.lead.contact.items.get", {"id": lead})) == []


@pytest.mark.compat(client=CLIENT, feature="add/delete")
def test_add_and_delete(server: LiveServer) -> None:
    title = f"curl-add-{uuid.uuid4().hex[:8]}"

    # Form body: fields[...] bracket keys, a value with spaces and an ampersand.
    lead = result(post_form(server, "crm.lead.add", f"fields[TITLE]={title}", "fields[NAME]=Ann & Bob"))
    assert isinstance(lead, int) and lead > 0
    got = result(post_json(server, "crm.lead.get", {"id": lead}))
    assert (got["ID"], got["TITLE"], got["NAME"]) == (str(lead), title, "Ann & Bob")

    # JSON body for a contact, bound to the lead, then both deleted.
    contact = result(post_json(server, "crm.contact.add", {"fields": {"NAME": "Cora", "LAST_NAME": "Curl"}}))
    assert isinstance(contact, int) and contact > 0
    assert result(post_form(server, "crm.lead.contact.add", f"id={lead}", f"fields[CONTACT_ID]={contact}"))
    assert result(get_query(server, "crm.lead.contact.items.get", f"id={lead}")) == [
        {"CONTACT_ID": contact, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"}
    ]

    assert result(post_json(server, "crm.contact.delete", {"id": contact})) is True
    assert result(post_form(server, "crm.lead.delete", f"id={lead}")) is True
    for method, entity in (("crm.lead.get", lead), ("crm.contact.get", contact)):
        gone = post_json(server, method, {"id": entity})
        assert (gone.status, gone.body) == (400, {"error": "", "error_description": "Not found."})
    again = post_form(server, "crm.lead.delete", f"id={lead}")
    assert (again.status, again.body) == (400, {"error": "", "error_description": "Not found."})


@pytest.mark.compat(client=CLIENT, feature="list all pages")
def test_list_all_pages(server: LiveServer) -> None:
    title = f"curl-pages-{uuid.uuid4().hex[:8]}"
    ids = [server.insert_lead(title=title) for _ in range(125)]

    # A script's loop: GET with the query string, following "next" until it is absent.
    rows: list[dict[str, Any]] = []
    starts: list[int] = []
    start = 0
    while True:
        starts.append(start)
        answer = get_query(
            server,
            "crm.lead.list",
            f"filter[TITLE]={title}",
            "select[]=ID",
            "select[]=TITLE",
            "order[ID]=ASC",
            f"start={start}",
        )
        page = result(answer)
        assert answer.body["total"] == 125
        rows.extend(page)
        if "next" not in answer.body:
            break
        assert answer.body["next"] == start + 50
        assert len(page) == 50
        start = answer.body["next"]
    assert starts == [0, 50, 100]
    assert rows == [{"ID": str(i), "TITLE": title} for i in sorted(ids)]

    # The same last page through a JSON POST.
    answer = post_json(
        server,
        "crm.lead.list",
        {"filter": {"TITLE": title}, "select": ["ID"], "order": {"ID": "DESC"}, "start": 100},
    )
    assert result(answer) == [{"ID": str(i)} for i in sorted(ids, reverse=True)[100:]]
    assert answer.body["total"] == 125 and "next" not in answer.body


@pytest.mark.compat(client=CLIENT, feature="batch")
def test_batch(server: LiveServer) -> None:
    title = f"curl-batch-{uuid.uuid4().hex[:8]}"
    contact = server.insert_contact()

    # JSON body: named commands, a reference to an earlier result, one failing command.
    cmd = {
        "lead": f"crm.lead.add?fields[TITLE]={title}",
        "bind": f"crm.lead.contact.items.set?id=$result[lead]&items[0][CONTACT_ID]={contact}",
        "bad": "crm.lead.contact.items.get?id=0",
        "get": "crm.lead.contact.items.get?id=$result[lead]",
    }
    body = result(post_json(server, "batch", {"halt": 0, "cmd": cmd}))
    lead = body["result"]["lead"]
    assert isinstance(lead, int)
    assert body["result"] == {
        "lead": lead,
        "bind": True,
        "get": [{"CONTACT_ID": contact, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"}],
    }
    assert body["result_error"] == {
        "bad": {"error": "", "error_description": "The parameter ownerEntityID is invalid or not defined."}
    }
    assert body["result_total"] == [] and body["result_next"] == []
    assert set(body["result_time"]) == {"lead", "bind", "get"}
    assert all(set(timing) == TIME_KEYS for timing in body["result_time"].values())

    # Form body: commands by position (a list comes back), a list command with its total.
    answer = post_form(
        server,
        "batch",
        "halt=1",
        f"cmd[0]=crm.lead.list?filter[TITLE]={title}&select[]=ID",
        "cmd[1]=crm.lead.delete?id=$result[0][0][ID]",
        f"cmd[2]=crm.lead.list?filter[TITLE]={title}&select[]=ID",
    )
    body = result(answer)
    assert body["result"] == [[{"ID": str(lead)}], True, []]
    assert body["result_error"] == []
    assert body["result_total"] == {"0": 1, "2": 0}  # keyed: not every command has a total
    assert body["result_next"] == []


@pytest.mark.compat(client=CLIENT, feature="error surfaced")
def test_errors_surface(server: LiveServer) -> None:
    invalid = {"error": "", "error_description": "The parameter ownerEntityID is invalid or not defined."}

    # The HTTP status and the portal's error object, whichever way the call is made.
    for answer in (
        post_json(server, "crm.lead.contact.items.get", {"id": 0}),
        post_form(server, "crm.lead.contact.items.get", "id=0"),
        get_query(server, "crm.lead.contact.items.get", "id=0"),
    ):
        assert (answer.exit_code, answer.status, answer.body) == (0, 400, invalid)
    answer = post_json(server, "no.such.method", {})
    assert (answer.status, answer.body) == (404, METHOD_NOT_FOUND)

    # With --fail-with-body a script sees the failure in curl's exit status (22) and still gets the body.
    answer = curl(server.webhook_url + "no.such.method", "--fail-with-body", "-d", "")
    assert (answer.exit_code, answer.status, answer.body) == (22, 404, METHOD_NOT_FOUND)
    answer = curl(server.webhook_url + "crm.lead.contact.items.get", "--fail-with-body", "-d", "id=0")
    assert (answer.exit_code, answer.status, answer.body) == (22, 400, invalid)

    # A wrong webhook code.
    bad_hook = server.webhook_url.rsplit("/", 2)[0] + "/wrongcode0000000/"
    answer = curl(bad_hook + "crm.lead.list", "-d", "")
    assert (answer.status, answer.body) == (401, INVALID_CREDENTIALS)
