"""``POST /_b24local/seed`` and ``GET /_b24local/export`` (test-portal.md T5) on both backends: every
list, JSON and YAML, the round trip into a new database, refusals whole with the path of the first
error, ids that exist, secrets only as hashes, and the admin token."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from b24local.crm import seed as seeding
from b24local.storage.open import open_storage
from b24local.storage.runner import run
from tests.conftest import InProcessServer, _serving, new_database, start_in_process

TOKEN = "seed-admin-token-42"
AUTH = {"authorization": f"Bearer {TOKEN}"}
JSON = {**AUTH, "content-type": "application/json"}
YAML = {**AUTH, "content-type": "application/yaml"}
WEBHOOK_CODE = "seeded-webhook-code-7"
CLIENT_SECRET = "seeded-client-secret-9"
#: What PostgreSQL's COPY escapes: a backslash, a tab, the line ends (and a \N that is text).
ESCAPED = "tab\there, back\\slash \\N, new\nline, return\r end"

#: A seed with every list, on a server that has user 1 and its webhook 1 already.
FULL: dict[str, list[Any]] = {
    "departments": [{"id": 1, "name": "Head office"}, {"id": 2, "name": "Sales", "parent": 1}],
    "users": [
        {"id": 2, "name": "Anna", "last_name": "Petrova", "departments": [2]},
        {"id": 3, "name": "Boris", "admin": True, "active": False, "crm_access": False},
    ],
    "roles": [
        {
            "id": 1,
            "name": "Sales",
            "permissions": {"lead": {"read": "all", "add": "own"}, "deal_c1": {"read": "department"}},
            "assignments": [{"user": 2}, {"department": 1}],
        }
    ],
    "webhooks": [{"id": 2, "user": 2, "scope": ["crm", "user"], "code": WEBHOOK_CODE}],
    "apps": [
        {
            "id": 1,
            "name": "Shop",
            "client_id": "local.shop.1",
            "client_secret": CLIENT_SECRET,
            "scope": ["crm"],
            "redirect_uri": "https://shop.example.test/callback",
        }
    ],
    "pipelines": [{"id": 1, "entity": "deal", "name": "Wholesale", "sort": 200}],
    "leads": [
        {
            "ID": 10,
            "TITLE": "First lead",
            "STATUS_ID": "IN_PROCESS",
            "OPPORTUNITY": 1500.5,
            "CURRENCY_ID": "EUR",
            "ASSIGNED_BY_ID": 2,
            "COMPANY_ID": 5,
            "PHONE": [{"VALUE": "+49 30 1234", "VALUE_TYPE": "WORK"}, {"VALUE": "+49 170 1"}],
            "DATE_CREATE": "2024-05-23T18:18:25+00:00",
        },
        {"ID": 11, "TITLE": "Junk", "STATUS_ID": "JUNK", "BIRTHDATE": "1990-01-31", "COMMENTS": ESCAPED},
    ],
    "contacts": [
        {"ID": 20, "NAME": "Ann", "LAST_NAME": "Lee", "EMAIL": [{"VALUE": "ann@example.test"}]},
        {"ID": 21, "LAST_NAME": "Kim"},
    ],
    "deals": [
        {"ID": 30, "TITLE": "Big deal", "CATEGORY_ID": 1, "STAGE_ID": "C1:WON", "COMPANY_ID": 5},
        {"ID": 31},
    ],
    "companies": [{"ID": 5, "TITLE": "Acme"}],
    "lead_contact": [
        {"owner": 10, "bound": 20, "SORT": 10, "IS_PRIMARY": "N"},
        {"owner": 10, "bound": 21, "SORT": 20, "IS_PRIMARY": "Y"},
    ],
    "deal_contact": [{"owner": 30, "bound": 21}],
    "contact_company": [{"owner": 20, "bound": 5}, {"owner": 21, "bound": 5, "BOUND_IS_PRIMARY": "Y"}],
}
COUNTS = {name: len(items) for name, items in FULL.items()}


@pytest.fixture
def portal(
    request: pytest.FixtureRequest, backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[InProcessServer]:
    folder = tmp_path_factory.mktemp("seed")
    yield from _serving(start_in_process(new_database(request, backend, folder), "--admin-token", TOKEN))


def seed(portal: InProcessServer, doc: Any, headers: dict[str, str] = JSON) -> tuple[int, Any]:
    body = yaml.safe_dump(doc) if headers is YAML else orjson.dumps(doc)
    answer = portal.raw("POST", "/_b24local/seed", headers=headers, content=body)
    return answer.status_code, answer.json()


def export(portal: InProcessServer, fmt: str = "json") -> dict[str, Any]:
    answer = portal.raw("GET", f"/_b24local/export?format={fmt}", headers=AUTH)
    assert answer.status_code == 200, answer.text
    loaded: dict[str, Any] = orjson.loads(answer.content) if fmt == "json" else yaml.safe_load(answer.content)
    return loaded


@pytest.mark.parametrize("headers", [JSON, YAML], ids=["json", "yaml"])
def test_every_list_is_seeded_and_read_back_through_rest(
    portal: InProcessServer, headers: dict[str, str]
) -> None:
    assert seed(portal, FULL, headers) == (200, {"seeded": COUNTS})
    lead = portal.call("crm.lead.get", {"id": 10}).result
    assert (lead["TITLE"], lead["STATUS_ID"], lead["OPPORTUNITY"], lead["ASSIGNED_BY_ID"]) == (
        "First lead",
        "IN_PROCESS",
        "1500.50",
        "2",
    )
    assert (lead["CONTACT_ID"], lead["COMPANY_ID"], lead["HAS_PHONE"], lead["IS_RETURN_CUSTOMER"]) == (
        "21",
        "5",
        "Y",
        "Y",
    )
    assert [p["VALUE"] for p in lead["PHONE"]] == ["+49 30 1234", "+49 170 1"]
    assert portal.call("crm.lead.get", {"id": 11}).result["COMMENTS"] == ESCAPED
    deal = portal.call("crm.deal.get", {"id": 30}).result
    assert (deal["STAGE_SEMANTIC_ID"], deal["CLOSED"], deal["CONTACT_ID"]) == ("S", "Y", "21")
    assert portal.call("crm.deal.get", {"id": 31}).result["TITLE"] == "Deal #31"
    assert portal.call("crm.company.contact.items.get", {"id": 5}).result == [
        {"CONTACT_ID": 20, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "N"},
        {"CONTACT_ID": 21, "SORT": 20, "ROLE_ID": 0, "IS_PRIMARY": "Y"},
    ]
    # The seeded webhook works with its code; a new lead gets the id after the largest seeded one.
    hook = f"{portal.base_url}/rest/2/{WEBHOOK_CODE}/"
    assert portal.call("crm.lead.add", {"fields": {"TITLE": "after"}}, webhook=hook).result == 12


def test_export_round_trips_into_a_new_database(
    portal: InProcessServer, request: pytest.FixtureRequest, backend: str, tmp_path: Path
) -> None:
    assert seed(portal, FULL)[0] == 200
    portal.call("crm.lead.add", {"fields": {"TITLE": "by REST", "EMAIL": [{"VALUE": "x@example.test"}]}})
    first = export(portal)
    assert list(first) == [
        "departments",
        "users",
        "roles",
        "webhooks",
        "apps",
        "pipelines",
        "leads",
        "contacts",
        "deals",
        "companies",
        "lead_contact",
        "deal_contact",
        "contact_company",
    ]
    assert [w.get("code") for w in first["webhooks"]] == [None, None]
    assert first["contact_company"] == [
        {"owner": 20, "bound": 5, "SORT": 10, "IS_PRIMARY": "Y", "BOUND_SORT": 10, "BOUND_IS_PRIMARY": "N"},
        {"owner": 21, "bound": 5, "SORT": 10, "IS_PRIMARY": "Y", "BOUND_SORT": 20, "BOUND_IS_PRIMARY": "Y"},
    ]
    # A new database (as after a reset of everything): the export seeded, then exported again.
    url = new_database(request, backend, tmp_path)
    store = open_storage(f"sqlite:///{url}" if isinstance(url, Path) else url)
    try:
        counts = run(store, True, lambda tx: seeding.seed(tx, first))
    finally:
        store.close()
    assert counts == {name: len(items) for name, items in first.items()}
    again = start_in_process(url, "--admin-token", TOKEN, webhook_path=f"/rest/2/{WEBHOOK_CODE}/")
    try:
        assert export(again) == first
        assert export(again, "yaml") == first
        assert again.call("crm.lead.list", {}).body["total"] == 3  # the webhook came back by its hash
    finally:
        again.stop()


def test_export_reset_all_seed_gives_the_same_export(portal: InProcessServer) -> None:
    """T5's round trip on one server: export → reset all → seed → export. The seed's users replace
    the user 1 and webhook that the reset made, so the old webhook URL answers again."""
    assert seed(portal, FULL)[0] == 200
    portal.call("crm.lead.add", {"fields": {"TITLE": "by REST"}})
    first = export(portal)
    reset = portal.raw("POST", "/_b24local/reset", headers=JSON, content=b'{"all": true}')
    assert (reset.status_code, reset.json()["reset"]) == (200, "all")
    after_reset = export(portal)
    assert after_reset["users"] == [
        {"id": 1, "name": "Admin", "last_name": "", "admin": True, "active": True, "crm_access": True}
    ]
    code_hash = after_reset["webhooks"][0]["code_hash"]
    assert after_reset == {
        "users": after_reset["users"],
        "webhooks": [{"id": 1, "user": 1, "scope": ["crm"], "active": True, "code_hash": code_hash}],
    }
    assert seed(portal, first) == (200, {"seeded": {name: len(items) for name, items in first.items()}})
    assert export(portal) == first
    assert portal.call("crm.lead.list", {}).body["total"] == 3  # user 1's first webhook, by its hash
    made_by_reset = reset.json()["webhook_url"]
    assert portal.call("crm.lead.list", {}, webhook=made_by_reset).status == 401


def test_a_seed_with_users_is_refused_once_the_database_was_used(portal: InProcessServer) -> None:
    """Only a database as new makes way: with one record more, user 1 is in the way, as the contract
    says (ids in the file must not exist yet)."""
    portal.call("crm.lead.add", {"fields": {"TITLE": "used"}})
    doc = {"users": [{"id": 1, "name": "Other", "admin": True}]}
    assert seed(portal, doc) == (
        400,
        {"error": "INVALID_SEED", "error_description": "users[0].id: user 1 exists already"},
    )


def test_yaml_in_and_out(portal: InProcessServer) -> None:
    doc = {"leads": [{"TITLE": "From YAML", "BIRTHDATE": "1990-01-31"}], "contacts": [{"NAME": "Y"}]}
    text = "leads:\n- TITLE: From YAML\n  BIRTHDATE: 1990-01-31\ncontacts:\n- NAME: Y\n"
    answer = portal.raw("POST", "/_b24local/seed", headers=YAML, content=text)
    assert (answer.status_code, answer.json()) == (200, {"seeded": {"leads": 1, "contacts": 1}})
    assert portal.call("crm.lead.get", {"id": 1}).result["BIRTHDATE"].startswith("1990-01-31T")
    as_yaml = portal.raw("GET", "/_b24local/export?format=yaml", headers=AUTH)
    assert as_yaml.headers["content-type"] == "application/yaml; charset=utf-8"
    assert yaml.safe_load(as_yaml.content) == export(portal)
    assert export(portal)["leads"][0]["BIRTHDATE"] == doc["leads"][0]["BIRTHDATE"]


def test_exports_hold_hashes_never_secrets(portal: InProcessServer) -> None:
    assert seed(portal, FULL)[0] == 200
    for fmt in ("json", "yaml"):
        text = portal.raw("GET", f"/_b24local/export?format={fmt}", headers=AUTH).text
        assert WEBHOOK_CODE not in text
        assert CLIENT_SECRET not in text
        assert portal.webhook_url.split("/")[-2] not in text  # the bootstrap webhook's code
        assert TOKEN not in text
        assert "code_hash" in text and "secret_hash" in text


def _broken(path: list[Any], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(FULL)
    target: Any = doc
    for step in path[:-1]:
        target = target[step]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value", "description"),
    [
        (
            ["deals", 1, "STAGE_ID"],
            "FOO",
            "deals[1].STAGE_ID: Field 'STAGE_ID' is not valid: 'FOO' is not a stage of pipeline 0.",
        ),
        (["leads", 1, "OPENED"], "maybe", "leads[1].OPENED: 'maybe' is neither Y nor N"),
        (["leads", 0, "TITEL"], "typo", "leads[0].TITEL: unknown field"),
        (
            ["leads", 0, "CONTACT_IDS"],
            [20],
            "leads[0].CONTACT_IDS: bindings have lists of their own: lead_contact",
        ),
        (["contacts", 1, "LAST_NAME"], "", "contacts[1]: Required fields are not filled: NAME or LAST_NAME."),
        (["companies", 0, "TITLE"], KeyError, 'companies[0]: The "Company Name" field is required.'),
        (["deals", 0, "CATEGORY_ID"], 7, "deals[0].CATEGORY_ID: pipeline 7 does not exist"),
        (["leads", 0, "COMPANY_ID"], 6, "leads[0].COMPANY_ID: company 6 does not exist"),
        (["lead_contact", 0, "bound"], 9, "lead_contact[0].bound: contact 9 does not exist"),
        (
            ["lead_contact", 0, "IS_PRIMARY"],
            "Y",
            "lead_contact[1].IS_PRIMARY: lead 10 has a primary binding already",
        ),
        (["lead_contact", 1, "bound"], 20, "lead_contact[1]: lead 10 and contact 20 are bound already"),
        (
            ["contact_company", 0, "BOUND_SORT"],
            0,
            "contact_company[0].BOUND_SORT: 0 is not a SORT (a whole number from 1)",
        ),
        (["contacts", 1, "ID"], 20, "contacts[1].ID: contact 20 is given twice"),
        (["users", 0, "departments"], [3], "users[0].departments[0]: department 3 does not exist"),
        (
            ["roles", 0, "permissions", "lead", "read"],
            "most",
            "roles[0].permissions.lead.read: unknown level 'most' "
            "(one of none, own, department, subdepartments, open, all)",
        ),
        (["webhooks", 0, "code_hash"], "00", "webhooks[0]: give either code or code_hash"),
        (["webhooks", 0, "user"], 4, "webhooks[0].user: user 4 does not exist"),
        (
            ["webhooks", 0, "code"],
            "1234",
            "webhooks[0].code: must be letters, digits, '_' and '-', not all digits",
        ),
        (["users", 1, "id"], 1, "users[1].id: user 1 exists already"),
        (
            ["departments", 0, "parent"],
            2,
            "departments[0].parent: department 2 must come before department 1",
        ),
    ],
)
def test_invalid_anywhere_is_refused_whole_with_its_path(
    portal: InProcessServer, path: list[Any], value: Any, description: str
) -> None:
    portal.call("crm.lead.add", {"fields": {"TITLE": "kept"}})
    before = export(portal)
    assert seed(portal, _broken(path, value)) == (
        400,
        {"error": "INVALID_SEED", "error_description": description},
    )
    assert export(portal) == before  # nothing written: the same users, webhooks and rows


@pytest.mark.parametrize(
    ("body", "description"),
    [
        (b"[1, 2]", "the document must be an object of lists (users, leads, ...)"),
        (
            b'{"lead": []}',
            "lead: unknown list (the lists: departments, users, roles, webhooks, apps, pipelines, leads, "
            "contacts, deals, companies, lead_contact, deal_contact, contact_company)",
        ),
        (b'{"leads": {"TITLE": "x"}}', "leads: must be a list"),
        (b'{"leads": ["x"]}', "leads[0]: must be an object"),
        (b"{", "not a JSON document: unexpected end of data: line 1 column 2 (char 1)"),
    ],
)
def test_malformed_documents(portal: InProcessServer, body: bytes, description: str) -> None:
    answer = portal.raw("POST", "/_b24local/seed", headers=JSON, content=body)
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": "INVALID_SEED", "error_description": description},
    )


def test_ids_that_exist_are_refused(portal: InProcessServer) -> None:
    assert portal.call("crm.lead.add", {"fields": {"TITLE": "one"}}).result == 1
    doc = {"contacts": [{"NAME": "new"}], "leads": [{"TITLE": "two"}, {"ID": 1, "TITLE": "again"}]}
    assert seed(portal, doc) == (
        400,
        {"error": "INVALID_SEED", "error_description": "leads[1].ID: lead 1 exists already"},
    )
    assert portal.call("crm.contact.list", {}).body["total"] == 0
    # Without ids the records take the next ones; bindings may name records of the database.
    assert (
        seed(
            portal,
            {
                "leads": [{"TITLE": "two"}],
                "lead_contact": [{"owner": 1, "bound": 1}],
                "contacts": [{"ID": 1, "NAME": "c"}],
            },
        )[0]
        == 200
    )
    assert portal.call("crm.lead.get", {"id": 2}).result["TITLE"] == "two"
    assert portal.call("crm.lead.contact.items.get", {"id": 1}).result == [
        {"CONTACT_ID": 1, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"}
    ]


def test_the_surface_needs_the_admin_token(portal: InProcessServer) -> None:
    code = portal.webhook_url.split("/")[-2]
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": f"Bearer {code}"}):
        answer = portal.raw("POST", "/_b24local/seed", headers=headers, content=orjson.dumps(FULL))
        assert (answer.status_code, answer.json()["error"]) == (401, "INVALID_CREDENTIALS")
        assert portal.raw("GET", "/_b24local/export", headers=headers).status_code == 401
    assert portal.call("crm.lead.list", {}).body["total"] == 0
    wrong = portal.raw("GET", "/_b24local/seed", headers=AUTH)
    assert (wrong.status_code, wrong.headers["allow"]) == (405, "POST")
    assert portal.raw("GET", "/_b24local/export?format=xml", headers=AUTH).json() == {
        "error": "INVALID_REQUEST",
        "error_description": "format must be json or yaml",
    }


def test_the_readme_example(portal: InProcessServer) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    example = re.search(r"#### Seed and export\n.*?```yaml\n(.*?)```", readme, re.S)
    assert example is not None, "README has no seed example"
    answer = portal.raw("POST", "/_b24local/seed", headers=YAML, content=example.group(1))
    assert answer.json() == {
        "seeded": {"pipelines": 1, "contacts": 1, "deals": 1, "companies": 1, "deal_contact": 1}
    }
    deal = portal.call("crm.deal.get", {"id": 3}).result
    assert (deal["STAGE_ID"], deal["COMPANY_ID"], deal["CONTACT_ID"]) == ("C1:NEW", "5", "7")


def test_yaml_aliases_are_read_once(portal: InProcessServer) -> None:
    """Nine levels of ten aliases each: 10^8 phones if each path were walked, refused at the first."""
    levels = ["- TITLE: base\n  PHONE: &a0 [{VALUE: '1'}]"]
    levels += [f"- TITLE: l{i}\n  PHONE: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    text = "leads:\n" + "\n".join(levels) + "\n"
    answer = portal.raw("POST", "/_b24local/seed", headers=YAML, content=text)
    assert answer.json() == {
        "error": "INVALID_SEED",
        "error_description": "leads[1].PHONE: item #0 is not an object",
    }


def test_a_seed_over_the_body_limit_is_refused_with_a_pointer_to_the_cli(portal: InProcessServer) -> None:
    body = b'{"leads": [' + b" " * (8 * 1024 * 1024) + b"]}"
    answer = portal.raw("POST", "/_b24local/seed", headers=JSON, content=body)
    assert (answer.status_code, answer.json()) == (
        413,
        {
            "error": "REQUEST_ENTITY_TOO_LARGE",
            "error_description": "The seed is larger than the body limit: apply it with `b24local seed FILE`",
        },
    )
