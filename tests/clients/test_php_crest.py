"""PHP sending requests the way CRest does, against a live b24local over plain http.

``tests/clients/php/crest_like.php`` (written for this project; no CRest code) runs every case once
(``php crest_like.php <webhook> <fixture-json>``) and prints one JSON object; the tests below assert
parts of it.

How CRest talks to a portal, as the script reproduces it:

- every call is an HTTP POST (curl) to ``{webhook}{method}.json`` whose body is
  ``http_build_query($params)``: ``application/x-www-form-urlencoded`` with PHP bracket keys
  (``items[0][CONTACT_ID]=5``, brackets percent-encoded), every value a string (``true`` → ``1``);
- ``callBatch`` sends ``cmd[key] = method?http_build_query(params)`` and ``halt=0`` through the same
  call, so each command's query string is percent-encoded a second time inside the form body;
- the answer is ``json_decode($body, true)`` returned as is, whatever the HTTP status: an error is the
  decoded array ``["error" => …, "error_description" => …]``; callers page lists themselves with
  ``start`` = the previous answer's ``next``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from tests.clients.runtime import LEADS, Seeded, environment_without_proxies, missing_runtime, seed
from tests.conftest import LiveServer
from tests.expected import TIME_KEYS

CLIENT = "PHP (CRest-style)"
SCRIPT = Path(__file__).parent / "php" / "crest_like.php"


@pytest.fixture(scope="session")
def php() -> str:
    """The ``php`` executable, with the curl extension."""
    executable = shutil.which("php")
    if executable is None:
        missing_runtime("php is not installed: the CRest-style tests need php-cli and php-curl")
    assert executable is not None
    probe = subprocess.run(
        [executable, "-r", "exit(function_exists('curl_init') ? 0 : 1);"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if probe.returncode != 0:
        missing_runtime("php has no curl extension: install php-curl")
    return executable


@dataclass(frozen=True)
class PhpRun(Seeded):
    out: dict[str, Any]


@pytest.fixture(scope="module")
def run(php: str, server: LiveServer) -> Iterator[PhpRun]:
    """263 leads of one unique title on the shared server, and the script's output against it."""
    seeded = seed(server, f"crest-{uuid.uuid4().hex[:8]}")
    done = subprocess.run(
        [php, str(SCRIPT), server.webhook_url, json.dumps(seeded.fixture())],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment_without_proxies(),
        check=False,
    )
    assert done.returncode == 0, (
        f"php exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    out = json.loads(done.stdout.strip().splitlines()[-1])
    yield PhpRun(**vars(seeded), out=out)


def binding(contact: int, sort: int, primary: bool) -> dict[str, Any]:
    return {"CONTACT_ID": contact, "SORT": sort, "ROLE_ID": 0, "IS_PRIMARY": "Y" if primary else "N"}


def answer(result: Any) -> dict[str, Any]:
    """A decoded success envelope as the script summarises it (time replaced by its keys)."""
    return {"result": result, "status": 200, "time_keys": sorted(TIME_KEYS)}


def error(code: str, description: str, status: int) -> dict[str, Any]:
    return {"error": code, "error_description": description, "status": status}


@pytest.mark.compat(client=CLIENT, feature="items.set/get")
def test_items_set_and_get(run: PhpRun, server: LiveServer) -> None:
    c1, c2 = run.contacts
    assert run.out["itemsSetGet"] == {
        "set": answer(True),
        "get": answer([binding(c1, 10, True), binding(c2, 20, False)]),
    }
    assert server.call("crm.lead.get", {"id": run.set_lead}).result["CONTACT_ID"] == str(c1)
    sent = run.out["sent"]["itemsSet"]
    assert sent["body"] == (
        f"id={run.set_lead}"
        f"&items%5B0%5D%5BCONTACT_ID%5D={c2}&items%5B0%5D%5BSORT%5D=20"
        f"&items%5B1%5D%5BCONTACT_ID%5D={c1}&items%5B1%5D%5BSORT%5D=10&items%5B1%5D%5BIS_PRIMARY%5D=Y"
    )


@pytest.mark.compat(client=CLIENT, feature="add/delete")
def test_add_and_delete(run: PhpRun, server: LiveServer) -> None:
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
    assert server.call("crm.lead.get", {"id": run.add_lead}).result["CONTACT_ID"] == str(c1)


@pytest.mark.compat(client=CLIENT, feature="list all pages")
def test_list_all_pages(run: PhpRun) -> None:
    listed = run.out["listAll"]
    starts = [0, 50, 100, 150, 200, 250]
    assert listed["pages"] == [
        {
            "start": start,
            "count": 50 if start < 250 else 13,
            "total": LEADS,
            "next": start + 50 if start < 250 else None,
            "error": None,
        }
        for start in starts
    ]
    assert listed["ids"] == [str(lead) for lead in run.lead_ids]
    assert listed["titles"] == [run.title]


@pytest.mark.compat(client=CLIENT, feature="batch")
def test_batch(run: PhpRun, server: LiveServer) -> None:
    c1, c2 = run.contacts
    expected = [binding(c1, 10, True), binding(c2, 20, False)]
    named = run.out["batch"]["named"]
    new_lead = named["result"]["result"]["newLead"]
    assert isinstance(new_lead, int)
    assert new_lead > max(run.lead_ids)
    assert named == answer(
        {
            "result": {
                "newLead": new_lead,
                "bind": True,
                "items": expected,
                "lead": {"ID": str(new_lead), "TITLE": f"{run.title}-batch", "CONTACT_ID": str(c1)},
            },
            "result_error": [],
            "result_total": [],
            "result_next": [],
            "result_time": {"newLead": 8, "bind": 8, "items": 8, "lead": 8},  # full time objects
        }
    )
    assert server.call("crm.lead.contact.items.get", {"id": new_lead}).result == expected
    # cmd[0], cmd[1] come back as lists; a list command's total and next are keyed by its index.
    assert run.out["batch"]["array"] == answer(
        {
            "result": [expected, [str(lead) for lead in run.lead_ids[50:100]]],
            "result_error": [],
            "result_total": {"1": LEADS},
            "result_next": {"1": 100},
        }
    )
    # The form body: cmd[key] holds method?query, the query encoded a second time by the outer form.
    sent = run.out["sent"]["batch"]
    assert parse_qs(sent["body"], keep_blank_values=True) == {
        "cmd[newLead]": [f"crm.lead.add?fields%5BTITLE%5D={run.title}-batch"],
        "cmd[bind]": [
            "crm.lead.contact.items.set?id=%24result%5BnewLead%5D"
            f"&items%5B0%5D%5BCONTACT_ID%5D={c1}&items%5B1%5D%5BCONTACT_ID%5D={c2}"
        ],
        "cmd[items]": ["crm.lead.contact.items.get?id=%24result%5BnewLead%5D"],
        "cmd[lead]": ["crm.lead.get?id=%24result%5BnewLead%5D"],
        "halt": ["0"],
    }


@pytest.mark.compat(client=CLIENT, feature="error surfaced")
def test_errors_surface(run: PhpRun) -> None:
    c1, c2 = run.contacts
    errors = run.out["errors"]
    assert errors["leadNotFound"] == error("NOT_FOUND", "Not found.", 400)
    assert errors["emptyCode"] == error("", "The parameter ownerEntityID is invalid or not defined.", 400)
    assert errors["methodNotFound"] == error("ERROR_METHOD_NOT_FOUND", "Method not found!", 404)
    assert errors["inBatch"] == answer(
        {
            "result": {"good": [binding(c1, 10, True), binding(c2, 20, False)]},
            "result_error": {"bad": {"error": "NOT_FOUND", "error_description": "Not found."}},
            "result_total": [],
            "result_next": [],
        }
    )
