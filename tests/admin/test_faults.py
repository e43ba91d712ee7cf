"""Fault and latency injection (contract test-portal.md T9), in-process on both backends: the answers,
when rules fire, who calls, batch (the resource itself: test_fault_resource.py). What needs real
connections and several processes (reset, workers, two servers, ``serve --faults``) is in
tests/test_fault_injection.py.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.admin.fault_portal import ADMIN, TOKEN, cleared, counts, serve, set_rules, statuses
from tests.conftest import InProcessServer, new_database, start_in_process
from tests.oauth_apps import new_app, tokens

JSON = "application/json; charset=utf-8"
NGINX_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
#: error → (status, body) of the answer, as protocol.md's table "System errors" has them.
PORTAL_ANSWERS = {
    "QUERY_LIMIT_EXCEEDED": (
        503,
        {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"},
    ),
    "OPERATION_TIME_LIMIT": (
        429,
        {
            "error": "OPERATION_TIME_LIMIT",
            "error_description": "Method is blocked due to operation time limit.",
        },
    ),
    "INTERNAL_SERVER_ERROR": (
        500,
        {"error": "INTERNAL_SERVER_ERROR", "error_description": "Internal server error"},
    ),
    "expired_token": (
        401,
        {"error": "expired_token", "error_description": "The access token provided has expired"},
    ),
    "invalid_token": (
        401,
        {"error": "invalid_token", "error_description": "The access token provided is invalid."},
    ),
}


portal_server = pytest.fixture(scope="module")(serve)
portal = pytest.fixture(cleared)


# --- The answers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("error", sorted(PORTAL_ANSWERS))
def test_each_error_is_answered_as_a_portal_answers_it(portal: InProcessServer, error: str) -> None:
    set_rules(portal, [{"method": "crm.lead.list", "error": error}])
    answer = portal.raw("POST", portal.webhook_path + "crm.lead.list", json={})
    status, body = PORTAL_ANSWERS[error]
    assert (answer.status_code, answer.json()) == (status, body)
    assert sorted(answer.headers) == ["content-length", "content-type", "date"]
    assert answer.headers["content-type"] == JSON
    assert answer.headers["content-length"] == str(len(answer.content))


def test_a_faulted_invalid_token_is_the_same_answer_as_a_real_one(portal: InProcessServer) -> None:
    real = portal.raw("POST", "/rest/crm.lead.list", json={"auth": "no-such-token"})
    set_rules(portal, [{"method": "crm.lead.list", "error": "invalid_token"}])
    faulted = portal.raw("POST", portal.webhook_path + "crm.lead.list", json={})
    assert (
        (faulted.status_code, faulted.content)
        == (real.status_code, real.content)
        == (
            401,
            b'{"error":"invalid_token","error_description":"The access token provided is invalid."}',
        )
    )
    assert [h for h in faulted.headers.items() if h[0] != "date"] == [
        h for h in real.headers.items() if h[0] != "date"
    ]


def test_html_502_is_nginx_s_page(portal: InProcessServer) -> None:
    set_rules(portal, [{"method": "crm.*", "error": "html_502"}])
    answer = portal.raw("POST", portal.webhook_path + "crm.deal.list", json={})
    assert (answer.status_code, answer.content) == (502, NGINX_502)
    assert answer.headers["content-type"] == "text/html"
    assert answer.headers["content-length"] == "150"


def test_an_xml_call_gets_the_error_in_xml(portal: InProcessServer) -> None:
    set_rules(portal, [{"method": "crm.lead.list", "error": "QUERY_LIMIT_EXCEEDED"}])
    answer = portal.raw("GET", portal.webhook_path + "crm.lead.list.xml")
    assert (answer.status_code, answer.headers["content-type"]) == (503, "text/xml; charset=utf-8")
    assert answer.content == (
        b'<?xml version="1.0" encoding="utf-8"?><response><error>QUERY_LIMIT_EXCEEDED</error>'
        b"<error_description>Too many requests</error_description></response>"
    )


def test_a_faulted_add_writes_nothing(portal: InProcessServer) -> None:
    before = portal.call("crm.lead.add", {"fields": {"TITLE": "before"}}).result
    set_rules(portal, [{"method": "crm.lead.add", "error": "INTERNAL_SERVER_ERROR"}])
    for _ in range(3):
        assert portal.call("crm.lead.add", {"fields": {"TITLE": "faulted"}}).status == 500
    portal.raw("DELETE", "/_b24local/faults", headers=ADMIN)
    listing = portal.call("crm.lead.list", {"filter": {"TITLE": "faulted"}}).body
    assert (listing["result"], listing["total"]) == ([], 0)
    # The method never ran: not even an id was taken (a PostgreSQL sequence included).
    assert portal.call("crm.lead.add", {"fields": {"TITLE": "after"}}).result == before + 1


# --- When rules fire -----------------------------------------------------------------------------------


def test_every_nth_matching_call(portal: InProcessServer) -> None:
    set_rules(portal, [{"method": "server.time", "every": 3, "error": "QUERY_LIMIT_EXCEEDED"}])
    assert statuses(portal, "server.time", 7) == [200, 200, 503, 200, 200, 503, 200]
    assert counts(portal) == [(7, 2)]


def test_the_next_times_calls(portal: InProcessServer) -> None:
    set_rules(portal, [{"method": "server.time", "times": 2, "error": "OPERATION_TIME_LIMIT"}])
    assert statuses(portal, "server.time", 4) == [429, 429, 200, 200]
    shown = portal.raw("GET", "/_b24local/faults", headers=ADMIN).json()
    assert shown == {
        "rules": [
            {
                "rule": {"method": "server.time", "times": 2, "error": "OPERATION_TIME_LIMIT"},
                "hits": 4,
                "faulted": 2,
                "remaining": 0,
            }
        ]
    }


def test_no_when_faults_every_matching_call(portal: InProcessServer) -> None:
    set_rules(portal, [{"method": "SERVER.*", "error": "INTERNAL_SERVER_ERROR"}])
    assert statuses(portal, "server.time", 3) == [500, 500, 500]
    assert portal.call("profile").status == 200  # not matched, not counted
    assert counts(portal) == [(3, 3)]


@pytest.mark.parametrize(("seed", "faulted"), [(42, [1, 11, 13, 20]), (7, [3, 4, 7, 8, 12, 16, 18, 20])])
def test_probability_with_a_seed_is_the_same_sequence_every_time(
    portal: InProcessServer, seed: int, faulted: list[int]
) -> None:
    rule = {"method": "server.time", "probability": 0.3, "seed": seed, "error": "QUERY_LIMIT_EXCEEDED"}
    for _ in range(2):  # PUT again: the counts start over, and so does the sequence
        set_rules(portal, [rule])
        got = statuses(portal, "server.time", 20)
        assert [n for n, status in enumerate(got, start=1) if status == 503] == faulted
        assert counts(portal) == [(20, len(faulted))]


def test_rules_are_consulted_in_order_until_one_answers(portal: InProcessServer) -> None:
    set_rules(
        portal,
        [
            {"method": "*", "delay_ms": 1},
            {"method": "server.time", "every": 2, "error": "QUERY_LIMIT_EXCEEDED"},
            {"method": "server.*", "error": "INTERNAL_SERVER_ERROR"},
        ],
    )
    assert statuses(portal, "server.time", 4) == [500, 503, 500, 503]
    # The last rule is not consulted when the second answered.
    assert counts(portal) == [(4, 4), (4, 2), (2, 2)]


def test_delays_last_at_least_their_bounds(portal: InProcessServer) -> None:
    set_rules(
        portal, [{"method": "server.time", "delay_ms": [40, 60]}, {"method": "profile", "delay_ms": 30}]
    )
    for method, least in (("server.time", 0.040), ("profile", 0.030)):
        started = time.monotonic()
        assert portal.call(method).status == 200
        assert time.monotonic() - started >= least
    # Inside batch each command's delay is owed, and served before the batch answers.
    started = time.monotonic()
    answer = portal.call("batch", {"cmd": {"a": "server.time", "b": "profile", "c": "server.time"}})
    assert time.monotonic() - started >= 0.040 + 0.030 + 0.040
    assert answer.result["result_error"] == []
    assert counts(portal) == [(3, 3), (2, 2)]


def test_a_delay_with_an_error_waits_then_answers(portal: InProcessServer) -> None:
    set_rules(portal, [{"method": "server.time", "delay_ms": 30, "error": "INTERNAL_SERVER_ERROR"}])
    started = time.monotonic()
    assert portal.call("server.time").status == 500
    assert time.monotonic() - started >= 0.030


# --- Who calls -----------------------------------------------------------------------------------------


def test_a_user_rule_faults_only_that_users_calls(portal: InProcessServer) -> None:
    second = portal.add_user("Second", admin=True)
    user_id = int(second.split("/rest/")[1].split("/")[0])
    set_rules(portal, [{"method": "server.time", "user": user_id, "error": "QUERY_LIMIT_EXCEEDED"}])
    assert statuses(portal, "server.time", 2) == [200, 200]
    assert statuses(portal, "server.time", 2, webhook=second) == [503, 503]
    assert counts(portal) == [(2, 2)]
    # Credentials that fail answer their own 401, as without the rule, and are not counted.
    wrong = second.replace(second.split("/")[-2], "wrongcode")
    assert portal.call("server.time", webhook=wrong).status == 401
    assert counts(portal) == [(2, 2)]


def test_an_app_rule_faults_only_that_apps_calls(portal: InProcessServer) -> None:
    client_id, secret = new_app(portal, "Faults app")
    token = str(tokens(portal, client_id, secret)["access_token"])
    set_rules(portal, [{"method": "crm.*", "app": client_id, "error": "expired_token"}])
    assert portal.call("crm.lead.list").status == 200  # the webhook is not the app
    answer = portal.raw("POST", "/rest/crm.lead.list", json={"auth": token})
    assert (answer.status_code, answer.json()) == PORTAL_ANSWERS["expired_token"]
    assert counts(portal) == [(1, 1)]
    portal.raw("DELETE", "/_b24local/faults", headers=ADMIN)
    assert portal.raw("POST", "/rest/crm.lead.list", json={"auth": token}).status_code == 200


# --- batch ---------------------------------------------------------------------------------------------


def test_a_rule_on_batch_faults_the_whole_request(portal: InProcessServer) -> None:
    set_rules(portal, [{"method": "batch", "error": "QUERY_LIMIT_EXCEEDED"}])
    answer = portal.call("batch", {"cmd": {"a": "crm.lead.add?fields[TITLE]=in-batch"}})
    assert (answer.status, answer.body) == PORTAL_ANSWERS["QUERY_LIMIT_EXCEEDED"]
    assert portal.call("crm.lead.list", {"filter": {"TITLE": "in-batch"}}).body["total"] == 0


def test_a_rule_on_a_command_fails_that_command_alone(portal: InProcessServer) -> None:
    set_rules(portal, [{"method": "crm.lead.add", "times": 1, "error": "OPERATION_TIME_LIMIT"}])
    cmd = {"a": "crm.lead.add?fields[TITLE]=cmd-a", "b": "crm.lead.add?fields[TITLE]=cmd-b"}
    answer = portal.call("batch", {"cmd": cmd}).result
    assert answer["result_error"] == {"a": PORTAL_ANSWERS["OPERATION_TIME_LIMIT"][1]}
    assert list(answer["result"]) == ["b"]
    titles = portal.call("crm.lead.list", {"filter": {"%TITLE": "cmd-"}, "select": ["TITLE"]}).result
    assert [lead["TITLE"] for lead in titles] == ["cmd-b"]
    # halt stops at the faulted command, as at any failing one.
    set_rules(portal, [{"method": "server.time", "error": "INTERNAL_SERVER_ERROR"}])
    halted = portal.call("batch", {"halt": 1, "cmd": {"t": "server.time", "p": "profile"}}).result
    assert (halted["result"], halted["result_error"]) == (
        [],
        {"t": PORTAL_ANSWERS["INTERNAL_SERVER_ERROR"][1]},
    )


def test_connection_errors_never_hit_a_command_inside_batch(portal: InProcessServer) -> None:
    set_rules(
        portal,
        [{"method": "server.time", "error": "html_502"}, {"method": "server.time", "error": "reset"}],
    )
    answer = portal.call("batch", {"cmd": {"t": "server.time"}}).result
    assert (list(answer["result"]), answer["result_error"]) == (["t"], [])
    assert counts(portal) == [(0, 0), (0, 0)]


def test_faulted_calls_are_not_counted_by_the_request_limit(
    request: pytest.FixtureRequest, backend: str, tmp_path: Any
) -> None:
    """Standard limits admit 50 requests at once: 60 faulted calls, then 45 calls, all admitted."""
    server = start_in_process(
        new_database(request, backend, tmp_path), "--admin-token", TOKEN, "--limits", "standard"
    )
    try:
        set_rules(server, [{"method": "server.time", "error": "INTERNAL_SERVER_ERROR"}])
        assert set(statuses(server, "server.time", 60)) == {500}
        server.raw("DELETE", "/_b24local/faults", headers=ADMIN)
        assert set(statuses(server, "server.time", 45)) == {200}
    finally:
        server.stop()
