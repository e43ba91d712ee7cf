"""V5: an unexpected fault answers 500 with no detail, is logged with a request id, and rolls back."""

from __future__ import annotations

import re

import pytest

from tests.conftest import LiveServer


def _rename(server: LiveServer, old: str, new: str) -> None:
    store = server.storage()
    try:
        store.conn.execute(f"ALTER TABLE {old} RENAME TO {new}")
    finally:
        store.close()


@pytest.mark.sqlite_only  # asserts the id counter rolled back; PostgreSQL sequences never roll back
def test_fault_mid_write_answers_500_and_rolls_back(fresh_live_server: LiveServer) -> None:
    # The lead row is inserted before its phone; with the multifield table gone the second insert fails.
    _rename(fresh_live_server, "crm_multifield", "crm_multifield_away")
    reply = fresh_live_server.call(
        "crm.lead.add", {"fields": {"TITLE": "half-written", "PHONE": [{"VALUE": "+1 555 0100"}]}}
    )
    assert (reply.status, reply.body) == (
        500,
        {"error": "INTERNAL_SERVER_ERROR", "error_description": "Internal server error"},
    )
    assert reply.headers["content-type"] == "application/json; charset=utf-8"
    logged = fresh_live_server.output()
    assert re.search(r"request [0-9a-f]{12}: internal error in crm\.lead\.add", logged), logged
    assert fresh_live_server.webhook_url.split("/")[-2] not in logged  # the webhook code is never logged
    _rename(fresh_live_server, "crm_multifield_away", "crm_multifield")
    # Nothing of the failed call remains, and the server goes on answering.
    listing = fresh_live_server.call("crm.lead.list", {"select": ["ID", "TITLE"]})
    assert (listing.status, listing.body["result"], listing.body["total"]) == (200, [], 0)
    # Even the id counter was rolled back: the next lead is lead 1.
    assert fresh_live_server.call("crm.lead.add", {"fields": {"TITLE": "whole"}}).result == 1


def test_fault_inside_batch_is_one_commands_error(fresh_server: LiveServer) -> None:
    _rename(fresh_server, "crm_multifield", "crm_multifield_away")
    try:
        reply = fresh_server.call(
            "batch",
            {
                "cmd": {
                    "ok": "crm.lead.add?fields[TITLE]=kept",
                    "broken": "crm.lead.add?fields[TITLE]=gone&fields[PHONE][0][VALUE]=1",
                }
            },
        )
    finally:
        _rename(fresh_server, "crm_multifield_away", "crm_multifield")
    assert reply.status == 200
    assert reply.body["result"]["result"] == {"ok": 1}
    assert reply.body["result"]["result_error"] == {
        "broken": {"error": "INTERNAL_SERVER_ERROR", "error_description": "Internal server error"}
    }
    listing = fresh_server.call("crm.lead.list", {"select": ["ID", "TITLE"]})
    assert listing.body["result"] == [{"ID": "1", "TITLE": "kept"}]
