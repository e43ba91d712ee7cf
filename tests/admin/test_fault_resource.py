"""``/_b24local/faults`` itself (contract test-portal.md T9), in-process on both backends: PUT, GET and
DELETE, the admin token, validation with the path of the first error, and reset keeping the rules."""

from __future__ import annotations

from typing import Any

import pytest

from tests.admin.fault_portal import ADMIN, cleared, counts, put, serve, set_rules, statuses
from tests.conftest import InProcessServer

portal_server = pytest.fixture(scope="module")(serve)
portal = pytest.fixture(cleared)


INVALID = [
    ({"method": "x", "error": "QUERY_LIMIT_EXCEEDED"}, "the rules must be a JSON list of objects"),
    ([{"method": "a", "error": "reset"}, 5], "[1]: a rule must be an object"),
    ([{"error": "reset"}], "[0].method: required, a method name or glob such as 'crm.lead.*'"),
    (
        [
            {"method": "a", "error": "reset"},
            {"method": "b", "error": "reset"},
            {"method": "c", "error": "FOO"},
        ],
        "[2].error: unknown error 'FOO'",
    ),
    ([{"method": "a"}], "[0]: give error, delay_ms or both"),
    (
        [{"method": "a", "error": "reset", "color": "red"}],
        "[0].color: unknown key (known: method, user, app, probability, seed, every, times, error, delay_ms)",
    ),
    (
        [{"method": "a", "error": "reset", "every": 2, "times": 1}],
        "[0].times: give one of probability, every, times",
    ),
    ([{"method": "a", "error": "reset", "every": 0}], "[0].every: must be a whole number of at least 1"),
    ([{"method": "a", "error": "reset", "times": True}], "[0].times: must be a whole number of at least 1"),
    (
        [{"method": "a", "error": "reset", "probability": 1.5}],
        "[0].probability: must be a number from 0 to 1",
    ),
    ([{"method": "a", "error": "reset", "seed": 3}], "[0].seed: goes with probability"),
    ([{"method": "a", "error": "reset", "probability": 0.5, "seed": "x"}], "[0].seed: must be an integer"),
    ([{"method": "a", "delay_ms": [5]}], "[0].delay_ms: must be milliseconds, a number or [min, max]"),
    ([{"method": "a", "delay_ms": [50, 10]}], "[0].delay_ms: must be within 0 to 600000 ms, min before max"),
    ([{"method": "a", "delay_ms": -1}], "[0].delay_ms: must be within 0 to 600000 ms, min before max"),
    ([{"method": "a", "error": "reset", "user": 99}], "[0].user: no user 99"),
    (
        [{"method": "a", "error": "reset", "app": "local.none"}],
        "[0].app: no application with client_id 'local.none'",
    ),
    ([{"method": "a", "error": "reset", "app": 5}], "[0].app: must be an application's client_id"),
]


@pytest.mark.parametrize(("rules", "why"), INVALID)
def test_a_wrong_rule_list_is_refused_whole_with_the_path_of_the_first_error(
    portal: InProcessServer, rules: Any, why: str
) -> None:
    set_rules(portal, [{"method": "server.time", "every": 2, "error": "reset"}])
    answer = put(portal, rules)
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": "INVALID_REQUEST", "error_description": why},
    )
    # Nothing changed: the rule before is still the one.
    assert portal.raw("GET", "/_b24local/faults", headers=ADMIN).json()["rules"][0]["rule"] == {
        "method": "server.time",
        "every": 2,
        "error": "reset",
    }


def test_a_body_that_is_not_json_is_refused(portal: InProcessServer) -> None:
    answer = portal.raw("PUT", "/_b24local/faults", content=b"[{", headers=ADMIN)
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": "INVALID_REQUEST", "error_description": "The body must be a JSON list of rules"},
    )


def test_the_resource_needs_the_admin_token(portal: InProcessServer) -> None:
    code = portal.webhook_path.split("/")[3]
    closed = {
        "error": "INVALID_CREDENTIALS",
        "error_description": "The test portal's surface needs Authorization: Bearer <admin token>",
    }
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": f"Bearer {code}"}):
        for http_method in ("GET", "PUT", "DELETE"):
            answer = portal.raw(http_method, "/_b24local/faults", json=[], headers=headers)
            assert (answer.status_code, answer.json()) == (401, closed)
    post = portal.raw("POST", "/_b24local/faults", json=[], headers=ADMIN)
    assert (post.status_code, post.headers["allow"]) == (405, "GET, HEAD, PUT, DELETE")


def test_put_replaces_and_delete_clears(portal: InProcessServer) -> None:
    set_rules(portal, [{"method": "server.time", "error": "reset", "every": 5}])
    statuses(portal, "server.time", 2)
    assert counts(portal) == [(2, 0)]
    answer = put(portal, [{"method": "profile", "delay_ms": [0, 1]}, {"method": "x", "error": "html_502"}])
    assert answer.json() == {
        "rules": [
            {"rule": {"method": "profile", "delay_ms": [0, 1]}, "hits": 0, "faulted": 0},
            {"rule": {"method": "x", "error": "html_502"}, "hits": 0, "faulted": 0},
        ]
    }
    cleared = portal.raw("DELETE", "/_b24local/faults", headers=ADMIN)
    assert (cleared.status_code, cleared.json()) == (200, {"rules": []})
    assert statuses(portal, "server.time", 2) == [200, 200]


def test_a_crm_reset_keeps_the_rules_and_their_counts(portal: InProcessServer) -> None:
    set_rules(portal, [{"method": "server.time", "every": 2, "error": "QUERY_LIMIT_EXCEEDED"}])
    assert statuses(portal, "server.time", 3) == [200, 503, 200]
    assert portal.raw("POST", "/_b24local/reset", headers=ADMIN).status_code == 200
    assert counts(portal) == [(3, 1)]
    assert statuses(portal, "server.time", 1) == [503]
