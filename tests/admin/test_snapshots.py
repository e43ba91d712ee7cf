"""Snapshots (test-portal.md T4) and the rest of reset (T3: ``{"to": NAME}``, ``{"all": true}``) over
the admin surface, in-process on both backends. Their atomicity under concurrent calls, and the command
line, are tested in tests/test_reset.py and tests/test_snapshots_cli.py."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.admin.conftest import ADMIN_TOKEN, AUTH
from tests.admin.test_surface import oauth_access_token
from tests.conftest import InProcessServer, new_database, start_in_process

CODE = "ci-known-code-42"
#: What the surface answers for a name it refuses.
BAD_NAME = {
    "error": "INVALID_REQUEST",
    "error_description": "A snapshot name is 1 to 64 letters, digits, '_', '.' or '-'",
}
MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00")
EMPTY_COUNTS = {
    "users": 0,
    "departments": 0,
    "user_departments": 0,
    "roles": 0,
    "role_permissions": 0,
    "role_holders": 0,
    "webhooks": 0,
    "apps": 0,
    "oauth_codes": 0,
    "oauth_tokens": 0,
    "pipelines": 0,
    "companies": 0,
    "contacts": 0,
    "leads": 0,
    "deals": 0,
    "multifields": 0,
    "lead_contact": 0,
    "deal_contact": 0,
    "contact_company": 0,
}


def snapshot(portal: InProcessServer, method: str, name: str = "") -> httpx.Response:
    return portal.raw(method, f"/_b24local/snapshots/{name}".rstrip("/"), headers=AUTH)


def reset(portal: InProcessServer, body: dict[str, Any]) -> httpx.Response:
    return portal.raw("POST", "/_b24local/reset", headers=AUTH, json=body)


def counts(**given: int) -> dict[str, int]:
    return {**EMPTY_COUNTS, **given}


def without_time(answer: httpx.Response) -> dict[str, Any]:
    body = dict(answer.json())
    assert MOMENT.fullmatch(body.pop("time")), answer.json()
    return body


def test_restore_brings_back_the_state_and_its_next_ids(portal: InProcessServer) -> None:
    contact = portal.call("crm.contact.add", {"fields": {"NAME": "Ann", "PHONE": [{"VALUE": "+100"}]}}).result
    company = portal.call("crm.company.add", {"fields": {"TITLE": "ACME", "CONTACT_ID": [contact]}}).result
    assert portal.call("crm.lead.add", {"fields": {"TITLE": "L1", "CONTACT_IDS": [contact]}}).result == 1
    assert portal.call("crm.lead.add", {"fields": {"TITLE": "L2"}}).result == 2
    deal = portal.call("crm.deal.add", {"fields": {"CONTACT_IDS": [contact], "COMPANY_ID": company}}).result
    assert portal.call("crm.lead.delete", {"id": 2}).status == 200  # the next lead is 3, not max + 1
    second = portal.add_user("Second")
    assert portal.call("crm.lead.list", {}, webhook=second).status == 200

    saved = snapshot(portal, "PUT", "clean")
    assert saved.status_code == 201
    assert without_time(saved) == {
        "name": "clean",
        "counts": counts(
            users=2,
            webhooks=2,
            companies=1,
            contacts=1,
            leads=1,
            deals=1,
            multifields=1,
            lead_contact=1,
            deal_contact=1,
            contact_company=1,
        ),
    }

    # After the snapshot: records added, changed and deleted; a webhook deleted, a user added.
    assert portal.call("crm.lead.add", {"fields": {"TITLE": "L3"}}).result == 3
    portal.call("crm.contact.update", {"id": contact, "fields": {"NAME": "Changed"}})
    portal.call("crm.deal.delete", {"id": deal})
    revoke_webhook(portal, 2)
    assert portal.call("crm.lead.list", {}, webhook=second).status == 401
    rename_user(portal, 1)  # a changed user row: on PostgreSQL it goes and comes back with what names it
    third = portal.add_user("Third")
    assert portal.call("crm.lead.list", {}, webhook=third).status == 200

    restored = reset(portal, {"to": "clean"})
    assert (restored.status_code, restored.json()) == (200, {"reset": "snapshot", "to": "clean"})

    assert [lead["ID"] for lead in portal.call("crm.lead.list", {}).result] == ["1"]
    assert portal.call("crm.contact.get", {"id": contact}).result["NAME"] == "Ann"
    assert portal.call("crm.deal.get", {"id": deal}).result["COMPANY_ID"] == "1"
    assert portal.call("crm.lead.contact.items.get", {"id": 1}).result[0]["CONTACT_ID"] == 1
    assert portal.call("crm.lead.list", {}, webhook=second).status == 200  # the deleted webhook is back
    assert portal.call("user.current", {}).result["NAME"] == "Admin"
    assert portal.call("crm.lead.list", {}, webhook=third).status == 401  # the later one is gone
    # Ids go on as they would have from the snapshot.
    assert portal.call("crm.lead.add", {"fields": {"TITLE": "again"}}).result == 3
    assert portal.call("crm.deal.add", {"fields": {"TITLE": "again"}}).result == 2
    again = portal.call("crm.contact.add", {"fields": {"NAME": "Bob", "EMAIL": [{"VALUE": "b@x.test"}]}})
    assert again.result == 2
    assert portal.call("crm.contact.get", {"id": 2}).result["EMAIL"][0]["ID"] == "2"
    assert portal.add_user("Fourth").split("/rest/")[1].startswith("3/")


def revoke_webhook(portal: InProcessServer, webhook_id: int) -> None:
    store = portal.storage()
    try:
        with store.write() as tx:
            tx.webhook_delete(webhook_id)
    finally:
        store.close()


def rename_user(portal: InProcessServer, user_id: int) -> None:
    store = portal.storage()
    try:
        with store.write() as tx:
            tx.user_update(user_id, {"name": "Renamed"})
    finally:
        store.close()


def test_list_replace_and_delete(portal: InProcessServer) -> None:
    assert (snapshot(portal, "GET").status_code, snapshot(portal, "GET").json()) == (200, {"snapshots": []})
    assert snapshot(portal, "PUT", "b-2.x_y").status_code == 201
    portal.call("crm.lead.add", {"fields": {"TITLE": "one"}})
    assert snapshot(portal, "PUT", "a").status_code == 201
    listed = snapshot(portal, "GET").json()["snapshots"]
    assert [entry["name"] for entry in listed] == ["a", "b-2.x_y"]
    assert [entry["counts"]["leads"] for entry in listed] == [1, 0]
    assert all(MOMENT.fullmatch(entry["time"]) for entry in listed)

    portal.call("crm.lead.add", {"fields": {"TITLE": "two"}})
    replaced = snapshot(portal, "PUT", "a")
    assert (replaced.status_code, without_time(replaced)) == (
        200,
        {"name": "a", "counts": counts(users=1, webhooks=1, leads=2)},
    )
    one = snapshot(portal, "GET", "a")
    assert (one.status_code, without_time(one)) == (
        200,
        {"name": "a", "counts": counts(users=1, webhooks=1, leads=2)},
    )
    assert [entry["name"] for entry in snapshot(portal, "GET").json()["snapshots"]] == ["a", "b-2.x_y"]

    deleted = snapshot(portal, "DELETE", "a")
    assert (deleted.status_code, deleted.json()) == (200, {"deleted": "a"})
    assert [entry["name"] for entry in snapshot(portal, "GET").json()["snapshots"]] == ["b-2.x_y"]
    # The state itself is untouched by saving and deleting; only the kept snapshot's copies are left.
    assert portal.call("crm.lead.list", {}).body["total"] == 2
    assert copies(portal) == (19 if portal.backend == "sqlite" else 1)


def copies(portal: InProcessServer) -> int:
    """The tables (SQLite) or schemas (PostgreSQL) that hold snapshots' copies."""
    store = portal.storage()
    try:
        with store.read() as tx:
            if portal.backend == "sqlite":
                sql = "SELECT count(*) FROM sqlite_master WHERE name GLOB 'snapshot_[0-9]*'"
            else:
                sql = "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'b24local\\_snapshot\\_%'"
            return int(tx.conn.execute(sql).fetchone()[0])
    finally:
        store.close()


def test_unknown_names_answer_404(portal: InProcessServer) -> None:
    unknown = {"error": "NOT_FOUND", "error_description": "No snapshot named gone"}
    for answer in (
        snapshot(portal, "GET", "gone"),
        snapshot(portal, "DELETE", "gone"),
        reset(portal, {"to": "gone"}),
    ):
        assert (answer.status_code, answer.json()) == (404, unknown)


@pytest.mark.parametrize("name", ["x" * 65, "a b", "a/b", "ü", "a%2Fb"])
def test_bad_names_answer_400(portal: InProcessServer, name: str) -> None:
    for method in ("PUT", "GET", "DELETE"):
        answer = snapshot(portal, method, name)
        assert (answer.status_code, answer.json()) == (400, BAD_NAME), method
    assert snapshot(portal, "GET").json() == {"snapshots": []}


def test_a_name_of_64_characters_is_taken(portal: InProcessServer) -> None:
    assert snapshot(portal, "PUT", "x" * 64).status_code == 201


def test_the_snapshots_need_the_admin_token(portal: InProcessServer) -> None:
    for method, path in (
        ("GET", "/_b24local/snapshots"),
        ("PUT", "/_b24local/snapshots/s"),
        ("GET", "/_b24local/snapshots/s"),
        ("DELETE", "/_b24local/snapshots/s"),
    ):
        for headers in ({}, {"authorization": "Bearer wrong"}):
            answer = portal.raw(method, path, headers=headers)
            assert (answer.status_code, answer.json()["error"]) == (401, "INVALID_CREDENTIALS"), method
    # A webhook code does not open it either.
    code = portal.webhook_path.split("/")[3]
    assert (
        portal.raw("GET", "/_b24local/snapshots", headers={"authorization": f"Bearer {code}"}).status_code
        == 401
    )
    assert snapshot(portal, "GET").json() == {"snapshots": []}


def test_other_methods_and_paths(portal: InProcessServer) -> None:
    collection = snapshot(portal, "POST")
    assert (collection.status_code, collection.headers["allow"]) == (405, "GET, HEAD")
    one = snapshot(portal, "POST", "s")
    assert (one.status_code, one.headers["allow"]) == (405, "GET, HEAD, PUT, DELETE")
    elsewhere = portal.raw("GET", "/_b24local/snapshotsx", headers=AUTH)
    assert (elsewhere.status_code, elsewhere.json()["error"]) == (404, "NOT_FOUND")


def test_reset_all_makes_user_1_and_a_new_webhook(portal: InProcessServer) -> None:
    portal.call("crm.lead.add", {"fields": {"TITLE": "gone"}})
    second = portal.add_user("Second")
    assert snapshot(portal, "PUT", "before").status_code == 201

    answer = reset(portal, {"all": True})
    assert answer.status_code == 200
    body = answer.json()
    assert body["reset"] == "all"
    assert re.fullmatch(r"http://127\.0\.0\.1:8000/rest/1/[a-z0-9]{16}/", body["webhook_url"]), body
    new_hook = portal.base_url + "/rest/" + body["webhook_url"].split("/rest/")[1]

    assert portal.call("crm.lead.list", {}).status == 401  # the first webhook's old code
    assert portal.call("crm.lead.list", {}, webhook=second).status == 401
    assert portal.call("crm.lead.list", {}, webhook=new_hook).body["total"] == 0
    assert portal.call("crm.lead.add", {"fields": {"TITLE": "new"}}, webhook=new_hook).result == 1
    assert portal.call("user.current", {}, webhook=new_hook).result["ID"] == "1"
    assert portal.add_user("Next").split("/rest/")[1].startswith("2/")
    # The admin token and the snapshots stay: the old state comes back with its webhooks.
    assert [entry["name"] for entry in snapshot(portal, "GET").json()["snapshots"]] == ["before"]
    assert reset(portal, {"to": "before"}).status_code == 200
    assert portal.call("crm.lead.list", {}).body["total"] == 1
    assert portal.call("crm.lead.list", {}, webhook=new_hook).status == 401


def test_reset_all_keeps_the_configured_webhook_code(
    request: pytest.FixtureRequest, backend: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    db = new_database(request, backend, tmp_path_factory.mktemp("snapcode"))
    portal = start_in_process(db, "--admin-token", ADMIN_TOKEN, "--webhook-code", CODE)
    try:
        portal.call("crm.contact.add", {"fields": {"NAME": "gone"}})
        answer = reset(portal, {"all": True})
        assert (answer.status_code, answer.json()) == (
            200,
            {"reset": "all", "webhook_url": f"http://127.0.0.1:8000/rest/1/{CODE}/"},
        )
        assert portal.webhook_path == f"/rest/1/{CODE}/"
        assert portal.call("crm.contact.list", {}).body["total"] == 0
        assert portal.call("crm.contact.add", {"fields": {"NAME": "new"}}).result == 1
    finally:
        portal.stop()


def test_restore_of_changed_departments_and_roles(portal: InProcessServer) -> None:
    """A department that another one names as its parent, changed since the snapshot: it is put back
    in place (deleting it first would break its child's reference); a role's levels come back too."""
    store = portal.storage()
    try:
        with store.write() as tx:
            parent = tx.department_add("Sales", None)
            child = tx.department_add("Sales East", parent)
            role = tx.role_add("Reader", {("lead", "read"): 5})
            tx.role_assign(role, department_id=child)
        assert snapshot(portal, "PUT", "org").status_code == 201
        with store.write() as tx:
            tx.department_add("Later", child)
            tx.conn.execute("UPDATE b_department SET name = 'Renamed', parent_id = 3 WHERE id = 1")
            tx.conn.execute("UPDATE crm_role_permission SET level = 1")
        assert reset(portal, {"to": "org"}).status_code == 200
        with store.read() as tx:
            rows = tx.conn.execute("SELECT id, name, parent_id FROM b_department ORDER BY id").fetchall()
            assert [tuple(r) for r in rows] == [(1, "Sales", None), (2, "Sales East", 1)]
            assert tx.department_exists(3) is False
            assert tx.role_levels(1) == {}  # user 1 is in no department
            holders = tx.conn.execute("SELECT role_id, department_id FROM crm_role_holder").fetchall()
            assert [tuple(r) for r in holders] == [(1, 2)]
            levels = tx.conn.execute("SELECT entity, action, level FROM crm_role_permission").fetchall()
            assert [tuple(r) for r in levels] == [("lead", "read", 5)]
    finally:
        store.close()


def test_restore_and_reset_all_bring_oauth_tokens_back_or_take_them(portal: InProcessServer) -> None:
    def status(token: str) -> int:
        return portal.raw("POST", "/rest/crm.lead.list", json={"auth": token}).status_code

    oauth_access_token(portal, "token-before")
    assert snapshot(portal, "PUT", "oauth").json()["counts"]["oauth_tokens"] == 1
    oauth_access_token(portal, "token-after")
    assert reset(portal, {"to": "oauth"}).status_code == 200
    assert (status("token-before"), status("token-after")) == (200, 401)
    assert reset(portal, {"all": True}).status_code == 200
    assert (status("token-before"), status("token-after")) == (401, 401)
