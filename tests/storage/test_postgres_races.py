"""Issue 14, item 5: a call that checked a contact (or lead) and then binds it, while another call
deletes that row. Under READ COMMITTED the check passes, the delete commits, and the insert's
foreign-key check fails; the server reruns the call, which then answers as for a missing row.

SQLite cannot reach this: its writers take the write lock at BEGIN IMMEDIATE, so a check and the
insert after it never interleave with another write.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import psycopg.errors
import pytest

from b24local.auth.context import AuthContext
from b24local.crm.entities import LEAD_CONTACT
from b24local.methods.dispatch import Dispatcher
from b24local.methods.registry import Call, Method
from b24local.model.query import Query
from b24local.storage.base import Binding
from b24local.storage.errors import REFERENCE_RERUNS
from b24local.storage.postgres import PostgresStorage
from tests.conftest import LiveServer, Response, start_in_process
from tests.pgcluster import Cluster
from tests.storage.test_postgres import _wait_for_lock_waiter

CONTACT_GONE = "contact"
LEAD_GONE = "lead"

#: (method, params with LEAD / CONTACT placeholders, which row the other call deletes, its error).
CASES = [
    ("crm.lead.contact.items.set", {"id": "LEAD", "items": [{"CONTACT_ID": "CONTACT"}]}, CONTACT_GONE),
    ("crm.lead.contact.add", {"id": "LEAD", "fields": {"CONTACT_ID": "CONTACT"}}, CONTACT_GONE),
    ("crm.lead.add", {"fields": {"TITLE": "New", "CONTACT_IDS": ["CONTACT"]}}, CONTACT_GONE),
    ("crm.lead.update", {"id": "LEAD", "fields": {"CONTACT_ID": "CONTACT"}}, CONTACT_GONE),
    ("crm.lead.contact.items.set", {"id": "LEAD", "items": [{"CONTACT_ID": "CONTACT"}]}, LEAD_GONE),
]


@pytest.fixture(scope="module")
def live(pg_cluster: Cluster) -> Iterator[LiveServer]:
    server = start_in_process(pg_cluster.new_database())
    yield server
    server.stop()


def _fill(value: Any, lead: int, contact: int) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, lead, contact) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, lead, contact) for v in value]
    return {"LEAD": lead, "CONTACT": contact}.get(value, value) if isinstance(value, str) else value


def _count(conn: psycopg.Connection[Any], sql: str) -> int:
    row = conn.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize(("method", "params", "gone"), CASES)
def test_a_row_deleted_between_the_check_and_the_insert_answers_not_found(
    live: LiveServer, method: str, params: dict[str, Any], gone: str
) -> None:
    """The other transaction deletes the row and holds its lock: the call's check still sees the row,
    its insert waits for the lock, and fails once the delete commits (before the fix: a 500)."""
    lead, contact = live.insert_lead(), live.insert_contact()
    with psycopg.connect(live.db_url, autocommit=True) as watch:
        leads_before = _count(watch, "SELECT count(*) FROM crm_lead")
    replies: list[Response] = []
    with psycopg.connect(live.db_url) as other:
        table = "crm_contact" if gone == CONTACT_GONE else "crm_lead"
        other.execute(f"DELETE FROM {table} WHERE id = %s", (contact if gone == CONTACT_GONE else lead,))
        call = threading.Thread(
            target=lambda: replies.append(live.call(method, _fill(params, lead, contact)))
        )
        call.start()
        _wait_for_lock_waiter(other)  # the call's insert (or its lock of the lead) waits for the delete
        other.commit()
        call.join(30)
    (reply,) = replies
    expected = f"Contact #{contact} not found." if gone == CONTACT_GONE else "Not found."
    assert (reply.status, reply.body) == (400, {"error": "NOT_FOUND", "error_description": expected})
    with psycopg.connect(live.db_url, autocommit=True) as check:  # nothing of the call was written
        assert _count(check, f"SELECT count(*) FROM crm_lead_contact WHERE lead_id = {lead}") == 0
        assert _count(check, "SELECT count(*) FROM crm_lead") == leads_before - (gone == LEAD_GONE)


ROUNDS = 300


def test_items_set_racing_contact_delete_never_answers_500(live: LiveServer) -> None:
    """Two threads, a fixed count: one binds a fresh contact to a lead, the other deletes it. Each
    items.set answers true or the contact's NOT_FOUND, each delete true."""
    lead = live.insert_lead()
    contacts = [live.insert_contact() for _ in range(ROUNDS)]
    binds: list[tuple[int, Response]] = []
    deletes: list[Response] = []
    start = threading.Barrier(2)

    def bind() -> None:
        with live.new_client() as client:
            start.wait()
            for contact in contacts:
                params = {"id": lead, "items": [{"CONTACT_ID": contact}]}
                raw = client.post(live.webhook_url + "crm.lead.contact.items.set", json=params)
                binds.append((contact, Response(raw.status_code, raw.json(), raw.headers)))

    def delete() -> None:
        with live.new_client() as client:
            start.wait()
            for contact in contacts:
                raw = client.post(live.webhook_url + "crm.contact.delete", json={"id": contact})
                deletes.append(Response(raw.status_code, raw.json(), raw.headers))

    threads = [threading.Thread(target=bind), threading.Thread(target=delete)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(binds) == ROUNDS and len(deletes) == ROUNDS
    odd = [
        (contact, r.status, r.body)
        for contact, r in binds
        if (r.status, r.body.get("result")) != (200, True)
        and (r.status, r.body)
        != (400, {"error": "NOT_FOUND", "error_description": f"Contact #{contact} not found."})
    ]
    assert odd == []
    assert [(r.status, r.body["result"]) for r in deletes] == [(200, True)] * ROUNDS
    assert live.call("crm.lead.contact.items.get", {"id": lead}).result == []


def test_a_contact_deleted_during_its_update_gets_no_phone(live: LiveServer) -> None:
    """contact.update finds the contact, another transaction's delete commits while the update waits
    for the row: the update is rerun and answers not found (before: true, and a phone row was left
    behind for a contact that no longer exists)."""
    contact = live.insert_contact()
    replies: list[Response] = []
    params = {"id": contact, "fields": {"PHONE": [{"VALUE": "+100", "VALUE_TYPE": "WORK"}]}}
    with psycopg.connect(live.db_url) as other:
        other.execute("DELETE FROM crm_contact WHERE id = %s", (contact,))
        call = threading.Thread(target=lambda: replies.append(live.call("crm.contact.update", params)))
        call.start()
        _wait_for_lock_waiter(other)
        other.commit()
        call.join(30)
    (reply,) = replies
    assert (reply.status, reply.body) == (400, {"error": "", "error_description": "Not found."})
    with psycopg.connect(live.db_url, autocommit=True) as check:
        assert _count(check, f"SELECT count(*) FROM crm_multifield WHERE element_id = {contact}") == 0


def test_a_contact_deleted_while_another_call_binds_it_leaves_a_primary(live: LiveServer) -> None:
    """Another transaction binds contacts 1 (primary) and 2 and commits while contact.delete of
    contact 1 runs: the delete waits for it and re-elects contact 2 primary (before: the binding went
    by cascade alone, and the lead kept a binding without a primary, against I4)."""
    lead, first, second = live.insert_lead(), live.insert_contact(), live.insert_contact()
    replies: list[Response] = []
    with psycopg.connect(live.db_url) as other:
        other.execute(
            "INSERT INTO crm_lead_contact (lead_id, contact_id, sort, is_primary) "
            "VALUES (%s, %s, 10, 'Y'), (%s, %s, 20, 'N')",
            (lead, first, lead, second),
        )
        call = threading.Thread(target=lambda: replies.append(live.call("crm.contact.delete", {"id": first})))
        call.start()
        _wait_for_lock_waiter(other)
        other.commit()
        call.join(30)
    (reply,) = replies
    assert (reply.status, reply.result) == (200, True)
    assert live.call("crm.lead.contact.items.get", {"id": lead}).result == [
        {"CONTACT_ID": second, "SORT": 20, "ROLE_ID": 0, "IS_PRIMARY": "Y"}
    ]
    assert live.call("crm.lead.get", {"id": lead}).result["CONTACT_ID"] == str(second)


def test_a_method_that_never_checks_the_row_is_rerun_a_bounded_number_of_times(pg_cluster: Cluster) -> None:
    """A dangling insert that no rerun can mend (a bug, not a race) surfaces after a few reruns as the
    foreign-key violation it is, instead of being retried until the busy bound."""
    store = PostgresStorage(pg_cluster.new_database())
    attempts: list[int] = []

    def dangling(call: Call) -> bool:
        attempts.append(1)
        lead = call.tx.entity_insert(LEAD_CONTACT.owner, {"title": "L"})
        call.tx.binding_insert(LEAD_CONTACT, lead, Binding(999, 10, True))
        return True

    dispatcher = Dispatcher(store)
    dispatcher.methods = {
        **dispatcher.methods,
        "test.dangling": Method("test.dangling", "crm", dangling, True),
    }
    admin = AuthContext(
        user_id=1, is_admin=True, scopes=frozenset({"crm"}), credential_kind="webhook", credential_id=1
    )
    try:
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            dispatcher.call(admin, "test.dangling", {})
        assert (len(attempts), REFERENCE_RERUNS) == (4, 3)
        with store.read() as tx:  # every attempt rolled back
            assert tx.entity_select(LEAD_CONTACT.owner, Query()) == []
    finally:
        store.close()
