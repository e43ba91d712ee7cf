"""batch over real HTTP (contract protocol.md B1–B4; b24-docs settings/how-to-call-rest-api/batch.md).

Every test compares the whole ``result`` of the batch with a literal: the five maps, every entry of
every map. Only the volatile ``time`` values are not compared: :func:`answer` checks that the envelope's
``time`` and every ``result_time`` entry have the eight keys with the right types and replaces each
``result_time`` entry by :data:`TIME`.

Form-encoded and query-string batches are built the way PHP's ``http_build_query`` (CRest, the PHP SDK)
builds them: each command's own query is URL-encoded first, then the whole ``cmd`` array is encoded
again (batch.md, "double encoding").
"""

from __future__ import annotations

import math
import re
import time
import uuid
from typing import Any
from urllib.parse import quote_plus

import pytest

from tests.conftest import LiveServer, Response
from tests.expected import INSUFFICIENT_SCOPE, INVALID_CREDENTIALS, ISO_DATETIME, METHOD_NOT_FOUND, TIME_KEYS

TIME = "<time>"  # stands for one checked result_time entry
MAPS = ["result", "result_error", "result_total", "result_next", "result_time"]
EMPTY = {"result": [], "result_error": [], "result_total": [], "result_next": [], "result_time": []}

NO_ID = {"error": "", "error_description": "ID is not defined or invalid."}
NOT_IN_BATCH = {
    "error": "ERROR_BATCH_METHOD_NOT_ALLOWED",
    "error_description": "Method is not allowed for batch usage",
}
TOO_LONG = {"error": "ERROR_BATCH_LENGTH_EXCEEDED", "error_description": "Max batch length exceeded"}
NOT_A_STRING = {"error": "INVALID_REQUEST", "error_description": "A batch command is a string 'method?query'"}
NO_SCOPE = {"error": "insufficient_scope", "error_description": ""}  # batch.md, "Error example"
DENIED = {"error": "", "error_description": "Access denied."}


# Helpers --------------------------------------------------------------------------------------------
def check_time(value: Any) -> None:
    """A ``time`` object: the eight keys of protocol.md V2 with their types."""
    assert isinstance(value, dict) and set(value) == TIME_KEYS, value
    for key in ("start", "finish", "duration", "processing", "operating"):
        assert type(value[key]) is float, (key, value)
    assert type(value["operating_reset_at"]) is int, value
    assert ISO_DATETIME.match(value["date_start"]) and ISO_DATETIME.match(value["date_finish"]), value
    assert value["finish"] >= value["start"] and value["duration"] >= 0, value


def answer(response: Response) -> dict[str, Any]:
    """A batch's 200 answer: checks the envelope and the times, returns ``result`` with TIME markers."""
    assert response.status == 200, response.body
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert list(response.body) == ["result", "time"], response.body
    check_time(response.body["time"])
    result = response.body["result"]
    assert list(result) == MAPS, result
    times = result["result_time"]
    if isinstance(times, list):
        for entry in times:
            check_time(entry)
        result["result_time"] = [TIME] * len(times)
    else:
        for key, entry in times.items():
            check_time(entry)
            times[key] = TIME
    return dict(result)


def error_of(response: Response, status: int, body: dict[str, str]) -> None:
    """An error of the batch itself: exactly ``{"error", "error_description"}``, no ``time``."""
    assert (response.status, response.body) == (status, body)


def batch(server: LiveServer, params: dict[str, Any], webhook: str | None = None) -> Response:
    return server.call("batch", params, webhook=webhook)


def php_pairs(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """PHP ``http_build_query``'s pairs before encoding (true → "1", false → "0", null dropped)."""
    if isinstance(value, dict | list):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        pairs: list[tuple[str, str]] = []
        for key, item in items:
            pairs += php_pairs(item, f"{prefix}[{key}]" if prefix else str(key))
        return pairs
    if value is None:
        return []
    if isinstance(value, bool):
        return [(prefix, "1" if value else "0")]
    return [(prefix, str(value))]


def http_build_query(params: dict[str, Any]) -> str:
    """PHP ``http_build_query`` (RFC 1738: ``urlencode``, space as ``+``, brackets encoded too)."""
    return "&".join(f"{quote_plus(k, safe='')}={quote_plus(v, safe='')}" for k, v in php_pairs(params))


def command(method: str, params: dict[str, Any]) -> str:
    """A command as CRest writes it: ``method?`` + the params' own ``http_build_query``."""
    return f"{method}?{http_build_query(params)}"


def send(server: LiveServer, encoding: str, query: str, webhook: str | None = None) -> Response:
    """A batch with an already encoded query string, as a form body or in the URL of a GET."""
    url = (webhook or server.webhook_url) + "batch"
    if encoding == "form":
        raw = server.client.post(
            url, content=query.encode(), headers={"content-type": "application/x-www-form-urlencoded"}
        )
    else:
        assert encoding == "get"
        raw = server.client.get(f"{url}?{query}")
    return Response(raw.status_code, raw.json(), raw.headers)


def titled(server: LiveServer, title: str) -> list[dict[str, Any]]:
    """Leads with this exact title, read with a direct call."""
    result = server.call("crm.lead.list", {"filter": {"=TITLE": title}, "select": ["ID", "TITLE"]}).result
    assert isinstance(result, list)
    return result


def direct_get(server: LiveServer, lead_id: int) -> dict[str, Any]:
    result = server.call("crm.lead.get", {"id": lead_id}).result
    assert isinstance(result, dict)
    return result


def user_id(webhook: str) -> int:
    found = re.search(r"/rest/(\d+)/", webhook)
    assert found is not None
    return int(found.group(1))


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def lead(server: LiveServer) -> int:
    """One lead the read-only tests list by ID."""
    return server.insert_lead(title="batch reader")


# B1: cmd as an object or an array ------------------------------------------------------------------
def test_cmd_object_runs_in_order(server: LiveServer) -> None:
    lead_id = server.insert_lead(title="b1 object")
    response = batch(
        server,
        {
            "cmd": {
                "before": f"crm.lead.list?filter[ID]={lead_id}&select[]=TITLE",
                "rename": f"crm.lead.update?id={lead_id}&fields[TITLE]=b1 renamed",
                "after": f"crm.lead.list?filter[ID]={lead_id}&select[]=TITLE",
            }
        },
    )
    assert answer(response) == {
        "result": {
            "before": [{"ID": str(lead_id), "TITLE": "b1 object"}],
            "rename": True,
            "after": [{"ID": str(lead_id), "TITLE": "b1 renamed"}],
        },
        "result_error": [],
        "result_total": {"before": 1, "after": 1},
        "result_next": [],
        "result_time": {"before": TIME, "rename": TIME, "after": TIME},
    }
    assert response.body["result"]["result"]["rename"] is True


def test_cmd_array_all_succeed_gives_lists(server: LiveServer, lead: int) -> None:
    one = f"crm.lead.list?filter[ID]={lead}&select[]=ID"
    response = batch(server, {"cmd": [one, one, f"crm.lead.update?id={lead}&fields[COMMENTS]=array"]})
    assert answer(response) == {
        "result": [[{"ID": str(lead)}], [{"ID": str(lead)}], True],
        "result_error": [],
        "result_total": [1, 1],
        "result_next": [],
        "result_time": [TIME, TIME, TIME],
    }


def test_cmd_array_with_failures_is_keyed_by_position(server: LiveServer, lead: int) -> None:
    one = f"crm.lead.list?filter[ID]={lead}&select[]=ID"
    # positions 0 and 2 fail: the maps are PHP arrays with gaps, serialised as objects
    response = batch(server, {"cmd": ["crm.lead.get?id=0", one, "crm.lead.get"]})
    assert answer(response) == {
        "result": {"1": [{"ID": str(lead)}]},
        "result_error": {"0": NO_ID, "2": NO_ID},
        "result_total": {"1": 1},
        "result_next": [],
        "result_time": {"1": TIME},
    }
    # only position 0 failed: result_error is keyed 0..n-1 and so a list again
    response = batch(server, {"cmd": ["crm.lead.get?id=0", one]})
    assert answer(response) == {
        "result": {"1": [{"ID": str(lead)}]},
        "result_error": [NO_ID],
        "result_total": {"1": 1},
        "result_next": [],
        "result_time": {"1": TIME},
    }


def test_cmd_object_with_numeric_keys_is_a_php_array(server: LiveServer, lead: int) -> None:
    one = f"crm.lead.list?filter[ID]={lead}&select[]=ID"
    response = batch(server, {"cmd": {"0": one, "1": one}})
    assert answer(response) == {
        "result": [[{"ID": str(lead)}], [{"ID": str(lead)}]],
        "result_error": [],
        "result_total": [1, 1],
        "result_next": [],
        "result_time": [TIME, TIME],
    }
    response = batch(server, {"cmd": {"1": one, "0": one}})  # out of order: an object, in cmd order
    assert answer(response) == {
        "result": {"1": [{"ID": str(lead)}], "0": [{"ID": str(lead)}]},
        "result_error": [],
        "result_total": {"1": 1, "0": 1},
        "result_next": [],
        "result_time": {"1": TIME, "0": TIME},
    }
    assert list(response.body["result"]["result"]) == ["1", "0"]


@pytest.mark.parametrize("encoding", ["form", "get"])
def test_form_and_query_string_as_crest_sends_them(server: LiveServer, encoding: str) -> None:
    lead_id = server.insert_lead(title="crest")
    query = http_build_query(
        {
            "halt": 0,
            "cmd": {
                "list": command("crm.lead.list", {"filter": {"ID": lead_id}, "select": ["ID", "TITLE"]}),
                "rename": command(
                    "crm.lead.update", {"id": lead_id, "fields": {"TITLE": "crest & co = 100%"}}
                ),
                "again": command(
                    "crm.lead.list", {"filter": {"ID": "$result[list][0][ID]"}, "select": ["TITLE"]}
                ),
            },
        }
    )
    assert "cmd%5Blist%5D=crm.lead.list%3Ffilter%255BID%255D%3D" in query  # encoded twice
    assert answer(send(server, encoding, query)) == {
        "result": {
            "list": [{"ID": str(lead_id), "TITLE": "crest"}],
            "rename": True,
            "again": [{"ID": str(lead_id), "TITLE": "crest & co = 100%"}],
        },
        "result_error": [],
        "result_total": {"list": 1, "again": 1},
        "result_next": [],
        "result_time": {"list": TIME, "rename": TIME, "again": TIME},
    }


@pytest.mark.parametrize("encoding", ["form", "get"])
def test_form_with_plain_brackets(server: LiveServer, encoding: str) -> None:
    """The short hand of batch.md: ``cmd[a]=crm.lead.get%3Fid%3D5&halt=0``."""
    lead_id = server.insert_lead(title="plain brackets")
    query = (
        f"cmd[a]=crm.lead.get%3Fid%3D{lead_id}"
        f"&cmd[b]=crm.lead.list%3Ffilter%5BID%5D%3D{lead_id}%26select%5B%5D%3DTITLE&halt=0"
    )
    result = answer(send(server, encoding, query))
    expected_get = direct_get(server, lead_id)
    assert (expected_get["ID"], expected_get["TITLE"]) == (str(lead_id), "plain brackets")
    assert result == {
        "result": {"a": expected_get, "b": [{"ID": str(lead_id), "TITLE": "plain brackets"}]},
        "result_error": [],
        "result_total": {"b": 1},
        "result_next": [],
        "result_time": {"a": TIME, "b": TIME},
    }


HALT_ON = {
    "result": [],
    "result_error": {"bad": NO_ID},
    "result_total": [],
    "result_next": [],
    "result_time": [],
}


def halt_off(lead_id: int) -> dict[str, Any]:
    return {
        "result": {"ok": [{"ID": str(lead_id)}]},
        "result_error": {"bad": NO_ID},
        "result_total": {"ok": 1},
        "result_next": [],
        "result_time": {"ok": TIME},
    }


JSON_HALT = [
    (True, True),
    (False, False),
    (1, True),
    (0, False),
    ("Y", True),
    ("N", False),
    ("y", True),
    ("n", False),
    ("true", True),
    ("false", False),
    ("1", True),
    ("0", False),
    ("", False),
]


@pytest.mark.parametrize(("value", "halts"), JSON_HALT, ids=[repr(v) for v, _ in JSON_HALT])
def test_halt_json(server: LiveServer, lead: int, value: Any, halts: bool) -> None:
    cmd = {"bad": "crm.lead.get?id=0", "ok": f"crm.lead.list?filter[ID]={lead}&select[]=ID"}
    result = answer(batch(server, {"halt": value, "cmd": cmd}))
    assert result == (HALT_ON if halts else halt_off(lead))


FORM_HALT = [("1", True), ("0", False), ("Y", True), ("N", False), ("true", True), ("false", False)]


@pytest.mark.parametrize("encoding", ["form", "get"])
@pytest.mark.parametrize(("value", "halts"), FORM_HALT, ids=[v for v, _ in FORM_HALT])
def test_halt_form(server: LiveServer, lead: int, encoding: str, value: str, halts: bool) -> None:
    query = http_build_query(
        {"cmd": {"bad": "crm.lead.get?id=0", "ok": f"crm.lead.list?filter[ID]={lead}&select[]=ID"}}
    )
    result = answer(send(server, encoding, f"{query}&halt={value}"))
    assert result == (HALT_ON if halts else halt_off(lead))


def test_halt_default_false_and_upper_case_names(server: LiveServer, lead: int) -> None:
    cmd = {"bad": "crm.lead.get?id=0", "ok": f"crm.lead.list?filter[ID]={lead}&select[]=ID"}
    assert answer(batch(server, {"cmd": cmd})) == halt_off(lead)
    query = http_build_query({"cmd": cmd})
    assert answer(send(server, "form", query)) == halt_off(lead)
    assert answer(batch(server, {"CMD": cmd, "HALT": 1})) == HALT_ON
    assert answer(batch(server, {"CMD": cmd, "HALT": 0})) == halt_off(lead)


def test_sequential_and_one_transaction_per_command(fresh_server: LiveServer) -> None:
    response = batch(
        fresh_server,
        {
            "cmd": {
                "first": "crm.lead.add?fields[TITLE]=first",
                # fails after its lead row would have been written: rolled back alone
                "broken": "crm.lead.add?fields[TITLE]=broken&fields[CONTACT_ID]=999",
                "second": "crm.lead.add?fields[TITLE]=second",
                "seen": "crm.lead.list?select[]=TITLE&order[ID]=ASC",
            }
        },
    )
    assert answer(response) == {
        "result": {
            "first": 1,
            "second": 2,
            "seen": [{"ID": "1", "TITLE": "first"}, {"ID": "2", "TITLE": "second"}],
        },
        "result_error": {"broken": {"error": "NOT_FOUND", "error_description": "Contact #999 not found."}},
        "result_total": {"seen": 2},
        "result_next": [],
        "result_time": {"first": TIME, "second": TIME, "seen": TIME},
    }
    # halt stops the batch but keeps what the commands before the failure wrote
    response = batch(
        fresh_server,
        {
            "halt": True,
            "cmd": {
                "third": "crm.lead.add?fields[TITLE]=third",
                "broken": "crm.lead.update?id=1&fields[CONTACT_ID]=999",
                "never": "crm.lead.add?fields[TITLE]=never",
            },
        },
    )
    assert answer(response) == {
        "result": {"third": 3},
        "result_error": {"broken": {"error": "NOT_FOUND", "error_description": "Contact #999 not found."}},
        "result_total": [],
        "result_next": [],
        "result_time": {"third": TIME},
    }
    rows = fresh_server.call("crm.lead.list", {"select": ["TITLE", "CONTACT_ID"]}).result
    assert rows == [
        {"ID": "1", "TITLE": "first", "CONTACT_ID": None},
        {"ID": "2", "TITLE": "second", "CONTACT_ID": None},
        {"ID": "3", "TITLE": "third", "CONTACT_ID": None},
    ]


# B2: the 50-command limit and nested batch ---------------------------------------------------------
def test_51_commands_refused_and_nothing_runs(server: LiveServer) -> None:
    title = unique("b2-51")
    add = f"crm.lead.add?fields[TITLE]={title}"
    error_of(batch(server, {"cmd": {f"c{n}": add for n in range(51)}}), 400, TOO_LONG)
    error_of(batch(server, {"cmd": [add] * 51, "halt": 0}), 400, TOO_LONG)
    error_of(send(server, "form", http_build_query({"cmd": [add] * 51})), 400, TOO_LONG)
    assert titled(server, title) == []


def test_50_commands_all_run(fresh_server: LiveServer) -> None:
    response = batch(fresh_server, {"cmd": [f"crm.lead.add?fields[TITLE]=n{n}" for n in range(50)]})
    assert answer(response) == {
        "result": list(range(1, 51)),
        "result_error": [],
        "result_total": [],
        "result_next": [],
        "result_time": [TIME] * 50,
    }
    body = fresh_server.call("crm.lead.list", {"select": ["ID"], "filter": {"=TITLE": "n49"}}).body
    assert (body["result"], body["total"]) == ([{"ID": "50"}], 1)


# Issue 14: one parameter budget for the whole request, commands included ---------------------------
TOO_MANY_KEYS = {"error": "INVALID_REQUEST", "error_description": "Too many parameters: more than 10000 keys"}


def padded_add(title: str, pairs: int) -> str:
    """``crm.lead.add`` with ``pairs`` query pairs: the title, then appends to a parameter no one reads."""
    return f"crm.lead.add?fields[TITLE]={title}&" + "&".join(["pad[]=1"] * (pairs - 1))


def test_parameter_budget_spans_all_commands(server: LiveServer) -> None:
    # Each command alone is within the 10,000 keys; together they are not. Nothing runs, not even the
    # first command, which fits.
    title = unique("i14-budget")
    over = {"cmd": {"a": padded_add(title, 6_000), "b": padded_add(title, 6_000)}}
    error_of(batch(server, over), 400, TOO_MANY_KEYS)
    error_of(send(server, "form", http_build_query(over)), 400, TOO_MANY_KEYS)
    assert titled(server, title) == []
    # 2 x 4,000 pairs and the body's three keys fit: both commands run.
    result = answer(batch(server, {"cmd": {"a": padded_add(title, 4_000), "b": padded_add(title, 4_000)}}))
    first, second = (int(found["ID"]) for found in titled(server, title))
    assert result == {
        "result": {"a": first, "b": second},
        "result_error": [],
        "result_total": [],
        "result_next": [],
        "result_time": {"a": TIME, "b": TIME},
    }


def test_command_appends_take_no_longer_than_explicit_indices(server: LiveServer) -> None:
    # Issue 14: "[]" scanned its whole array, so a command of 9,000 appends took ~40x as long as the
    # same list built with explicit indices (the same bytes but for the digits).
    commands = [
        "crm.lead.contact.fields?" + "&".join(["a[]=1"] * 9_000),
        "crm.lead.contact.fields?" + "&".join(f"a[{i}]=1" for i in range(9_000)),
    ]
    best = [math.inf, math.inf]
    for _ in range(5):  # in turns, so that the drifting load of a shared machine weighs on both alike
        for which, command in enumerate(commands):
            started = time.perf_counter()
            response = batch(server, {"cmd": {"c": command}})
            best[which] = min(best[which], time.perf_counter() - started)
            assert list(answer(response)["result"]) == ["c"]
    assert best[0] < 2 * best[1], best


def test_nested_batch_fails_alone(server: LiveServer, lead: int) -> None:
    one = f"crm.lead.list?filter[ID]={lead}&select[]=ID"
    response = batch(
        server,
        {
            "cmd": {
                "before": one,
                "nested": "batch?cmd[x]=" + quote_plus(one, safe=""),
                "NESTED": "BATCH.json?cmd[0]=crm.lead.fields",
                "empty": "batch",
                "after": one,
            }
        },
    )
    assert answer(response) == {
        "result": {"before": [{"ID": str(lead)}], "after": [{"ID": str(lead)}]},
        "result_error": {"nested": NOT_IN_BATCH, "NESTED": NOT_IN_BATCH, "empty": NOT_IN_BATCH},
        "result_total": {"before": 1, "after": 1},
        "result_next": [],
        "result_time": {"before": TIME, "after": TIME},
    }
    # with halt the nested batch stops the outer one like any failing command
    response = batch(server, {"halt": "Y", "cmd": {"nested": "batch", "after": one}})
    assert answer(response) == {**EMPTY, "result_error": {"nested": NOT_IN_BATCH}}


# B3: references to earlier results -----------------------------------------------------------------
def test_references(fresh_server: LiveServer) -> None:
    response = batch(
        fresh_server,
        {
            "cmd": {
                "a": "crm.lead.add?fields[TITLE]=alpha&fields[PHONE][0][VALUE]=%2B15550001"
                "&fields[PHONE][0][VALUE_TYPE]=HOME",
                "g": "crm.lead.get?id=$result[a]",
                "b": "crm.lead.add?fields[TITLE]=x-$result[a]&fields[COMMENTS]=$result[g][PHONE][0][VALUE]",
                "list": "crm.lead.list?filter[TITLE]=x-$result[a]&select[]=TITLE&select[]=COMMENTS",
                "first": "crm.lead.list?filter[ID]=$result[list][0][ID]&select[]=TITLE",
                # a reference that is the whole value keeps its type: PHONE gets the list of the get
                "c": "crm.lead.add?fields[TITLE]=copy+of+$result[g][TITLE]&fields[PHONE]=$result[g][PHONE]",
                "copy": "crm.lead.list?filter[ID]=$result[c]&select[]=TITLE&select[]=PHONE",
                "same": "crm.lead.list?filter[ID]=$result[g][ID]&filter[HAS_PHONE]=$result[g][HAS_PHONE]"
                "&select[]=ID",
            }
        },
    )
    result = answer(response)
    expected_get = direct_get(fresh_server, 1)
    assert (expected_get["TITLE"], expected_get["PHONE"]) == (
        "alpha",
        [{"ID": "1", "VALUE_TYPE": "HOME", "VALUE": "+15550001", "TYPE_ID": "PHONE"}],
    )
    assert result == {
        "result": {
            "a": 1,
            "g": expected_get,
            "b": 2,
            "list": [{"ID": "2", "TITLE": "x-1", "COMMENTS": "+15550001"}],
            "first": [{"ID": "2", "TITLE": "x-1"}],
            "c": 3,
            "copy": [
                {
                    "ID": "3",
                    "TITLE": "copy of alpha",
                    "PHONE": [{"ID": "2", "VALUE_TYPE": "HOME", "VALUE": "+15550001", "TYPE_ID": "PHONE"}],
                }
            ],
            "same": [{"ID": "1"}],
        },
        "result_error": [],
        "result_total": {"list": 1, "first": 1, "copy": 1, "same": 1},
        "result_next": [],
        "result_time": {k: TIME for k in ("a", "g", "b", "list", "first", "c", "copy", "same")},
    }


def test_references_to_failed_unknown_and_later_commands(server: LiveServer) -> None:
    response = batch(
        server,
        {
            "cmd": {
                "bad": "crm.lead.get?id=0",
                "get_bad": "crm.lead.get?id=$result[bad]",
                "get_unknown": "crm.lead.get?id=$result[nosuch][ID]",
                "get_later": "crm.lead.get?id=$result[t]",
                "t": "crm.lead.add?fields[TITLE]=$result[bad][ID]&fields[COMMENTS]=see+$result[nosuch]"
                "&fields[SOURCE_DESCRIPTION]=$result[t][ID]",
                "wrong_path": "crm.lead.get?id=$result[t][ID]",
                "l": "crm.lead.list?filter[ID]=$result[t]&select[]=TITLE&select[]=COMMENTS"
                "&select[]=SOURCE_DESCRIPTION",
            }
        },
    )
    result = answer(response)
    new_id = result["result"]["t"]
    assert isinstance(new_id, int)
    assert result == {
        "result": {
            "t": new_id,
            "l": [
                {
                    "ID": str(new_id),
                    "TITLE": "$result[bad][ID]",
                    "COMMENTS": "see $result[nosuch]",
                    "SOURCE_DESCRIPTION": "$result[t][ID]",
                }
            ],
        },
        "result_error": {
            "bad": NO_ID,
            "get_bad": NO_ID,
            "get_unknown": NO_ID,
            "get_later": NO_ID,
            "wrong_path": NO_ID,  # t's result is a number: it has no [ID]
        },
        "result_total": {"l": 1},
        "result_next": [],
        "result_time": {"t": TIME, "l": TIME},
    }


def test_references_with_odd_indices_stay_unresolved(server: LiveServer) -> None:
    """B3: an index that is not a plain ASCII number, or is past any list, resolves nothing (no 500)."""
    huge = "9" * 5000
    response = batch(
        server,
        {
            "cmd": {
                "l": "crm.lead.list?filter[ID]=0",
                "sup": "crm.lead.get?id=$result[l][²][ID]",
                "arabic": "crm.lead.get?id=$result[l][٣][ID]",
                "huge": f"crm.lead.get?id=$result[l][{huge}][ID]",
            }
        },
    )
    result = answer(response)
    assert result["result_error"] == {"sup": NO_ID, "arabic": NO_ID, "huge": NO_ID}
    assert result["result"] == {"l": []}


@pytest.mark.parametrize("encoding", ["form", "get"])
def test_references_form_encoded(server: LiveServer, encoding: str) -> None:
    title = unique("form ref")
    query = http_build_query(
        {
            "cmd": {
                "a": command("crm.lead.add", {"fields": {"TITLE": title}}),
                "g": command("crm.lead.get", {"id": "$result[a]"}),
                "u": command(
                    "crm.lead.update", {"id": "$result[g][ID]", "fields": {"COMMENTS": "of $result[a]"}}
                ),
                "l": command(
                    "crm.lead.list", {"filter": {"ID": "$result[a]"}, "select": ["TITLE", "COMMENTS"]}
                ),
            },
            "halt": 1,
        }
    )
    assert "%2524result%255Ba%255D" in query  # "$result[a]" encoded twice
    result = answer(send(server, encoding, query))
    new_id = result["result"]["a"]
    assert isinstance(new_id, int)
    got = result["result"]["g"]
    assert (got["ID"], got["TITLE"], got["COMMENTS"]) == (str(new_id), title, None)
    assert result == {
        "result": {
            "a": new_id,
            "g": got,
            "u": True,
            "l": [{"ID": str(new_id), "TITLE": title, "COMMENTS": f"of {new_id}"}],
        },
        "result_error": [],
        "result_total": {"l": 1},
        "result_next": [],
        "result_time": {"a": TIME, "g": TIME, "u": TIME, "l": TIME},
    }


# B4: the five maps ---------------------------------------------------------------------------------
def test_result_total_and_next_of_list_commands(fresh_server: LiveServer) -> None:
    for n in range(55):
        fresh_server.insert_lead(title=f"row {n}")
    response = batch(
        fresh_server,
        {
            "cmd": {
                "page1": "crm.lead.list?select[]=ID",
                "page2": "crm.lead.list?select[]=ID&start=50",
                "page2_via_ref": "crm.lead.list?select[]=ID&start=$result[page1][49][ID]",
                "uncounted": "crm.lead.list?select[]=ID&start=-1&filter[>ID]=52",
                "filtered": "crm.lead.list?select[]=ID&filter[>ID]=53",
                "none": "crm.lead.list?select[]=ID&filter[ID]=999",
                "scalar": "crm.lead.update?id=1&fields[TITLE]=row 0",
            }
        },
    )
    assert answer(response) == {
        "result": {
            "page1": [{"ID": str(n)} for n in range(1, 51)],
            "page2": [{"ID": "51"}, {"ID": "52"}, {"ID": "53"}, {"ID": "54"}, {"ID": "55"}],
            "page2_via_ref": [{"ID": "51"}, {"ID": "52"}, {"ID": "53"}, {"ID": "54"}, {"ID": "55"}],
            "uncounted": [{"ID": "53"}, {"ID": "54"}, {"ID": "55"}],
            "filtered": [{"ID": "54"}, {"ID": "55"}],
            "none": [],
            "scalar": True,
        },
        "result_error": [],
        "result_total": {
            "page1": 55,
            "page2": 55,
            "page2_via_ref": 55,
            "uncounted": 0,
            "filtered": 2,
            "none": 0,
        },
        "result_next": {"page1": 50},
        "result_time": {
            "page1": TIME,
            "page2": TIME,
            "page2_via_ref": TIME,
            "uncounted": TIME,
            "filtered": TIME,
            "none": TIME,
            "scalar": TIME,
        },
    }


def test_halt_true_stops_at_first_failure(server: LiveServer, lead: int) -> None:
    title = unique("b4-halt")
    cmd = {
        "ok": f"crm.lead.list?filter[ID]={lead}&select[]=ID",
        "bad": "crm.lead.update?id=0&fields[TITLE]=x",
        "later": f"crm.lead.add?fields[TITLE]={title}",
        "later_bad": "crm.lead.get?id=0",
    }
    assert answer(batch(server, {"halt": True, "cmd": cmd})) == {
        "result": {"ok": [{"ID": str(lead)}]},
        "result_error": {"bad": NO_ID},
        "result_total": {"ok": 1},
        "result_next": [],
        "result_time": {"ok": TIME},
    }
    assert titled(server, title) == []  # "later" did not run
    result = answer(batch(server, {"halt": False, "cmd": cmd}))
    [added] = titled(server, title)
    assert result == {
        "result": {"ok": [{"ID": str(lead)}], "later": int(added["ID"])},
        "result_error": {"bad": NO_ID, "later_bad": NO_ID},
        "result_total": {"ok": 1},
        "result_next": [],
        "result_time": {"ok": TIME, "later": TIME},
    }


# Commands: method names, unknown methods, scope, permissions, odd input -----------------------------
def test_method_names_in_commands(server: LiveServer, lead: int) -> None:
    query = f"?filter[ID]={lead}&select[]=ID"
    response = batch(
        server,
        {
            "cmd": {
                "mixed": "CRM.Lead.List" + query,
                "json": "crm.lead.list.json" + query,
                "upper_json": "CRM.LEAD.LIST.JSON" + query,
                "unknown": "no.such.method?id=1",
                "unknown_json": "no.such.method.json",
                "empty": "?id=1",
                "blank": "",
            }
        },
    )
    row = [{"ID": str(lead)}]
    assert answer(response) == {
        "result": {"mixed": row, "json": row, "upper_json": row},
        "result_error": {
            "unknown": METHOD_NOT_FOUND,
            "unknown_json": METHOD_NOT_FOUND,
            "empty": METHOD_NOT_FOUND,
            "blank": METHOD_NOT_FOUND,
        },
        "result_total": {"mixed": 1, "json": 1, "upper_json": 1},
        "result_next": [],
        "result_time": {"mixed": TIME, "json": TIME, "upper_json": TIME},
    }


def test_command_outside_the_webhook_scope(server: LiveServer, lead: int) -> None:
    webhook = server.add_user("Scoped", admin=True, scopes=("user",))
    # the batch itself is scope basic: 200; every crm command fails on its own
    response = batch(
        server,
        {"cmd": {"list": "crm.lead.list", "get": f"crm.lead.get?id={lead}", "nested": "batch"}},
        webhook=webhook,
    )
    assert answer(response) == {
        **EMPTY,
        "result_error": {"list": NO_SCOPE, "get": NO_SCOPE, "nested": NOT_IN_BATCH},
    }
    # a direct call still answers the system error with its description (protocol.md W5)
    error_of(
        server.call("crm.lead.list", {}, webhook=webhook),
        403,
        INSUFFICIENT_SCOPE,
    )
    no_scopes = server.add_user("No scopes", scopes=())
    assert answer(batch(server, {"halt": 1, "cmd": ["crm.lead.fields", "crm.lead.list"]}, no_scopes)) == {
        **EMPTY,
        "result_error": [NO_SCOPE],
    }


def test_commands_run_with_the_callers_permissions(server: LiveServer) -> None:
    webhook = server.add_user("Manager")  # not an administrator: own leads only
    me = user_id(webhook)
    theirs = server.insert_lead(title="colleague's", assigned_by=1)
    response = batch(
        server,
        {
            "cmd": {
                "mine": "crm.lead.add?fields[TITLE]=mine",
                "own": "crm.lead.list?filter[ID]=$result[mine]"
                "&select[]=ASSIGNED_BY_ID&select[]=CREATED_BY_ID",
                "get": f"crm.lead.get?id={theirs}",
                "update": f"crm.lead.update?id={theirs}&fields[TITLE]=taken",
                "delete": f"crm.lead.delete?id={theirs}",
                "bindings": f"crm.lead.contact.items.get?id={theirs}",
                "visible": f"crm.lead.list?filter[ID]={theirs}",
            }
        },
        webhook=webhook,
    )
    result = answer(response)
    mine = result["result"]["mine"]
    assert isinstance(mine, int)
    assert result == {
        "result": {
            "mine": mine,
            "own": [{"ID": str(mine), "ASSIGNED_BY_ID": str(me), "CREATED_BY_ID": str(me)}],
            "visible": [],
        },
        "result_error": {
            "get": DENIED,
            "update": DENIED,
            "delete": DENIED,
            "bindings": {"error": "ACCESS_DENIED", "error_description": "Access denied!"},
        },
        "result_total": {"own": 1, "visible": 0},
        "result_next": [],
        "result_time": {"mine": TIME, "own": TIME, "visible": TIME},
    }
    assert titled(server, "colleague's") == [{"ID": str(theirs), "TITLE": "colleague's"}]


@pytest.mark.parametrize(
    "params",
    [{}, {"halt": 1}, {"cmd": {}}, {"cmd": []}, {"cmd": None}, {"cmd": "crm.lead.list"}, {"cmd": 7}],
    ids=["no-params", "halt-only", "empty-object", "empty-array", "null", "string", "number"],
)
def test_no_commands(server: LiveServer, params: dict[str, Any]) -> None:
    assert answer(batch(server, params)) == EMPTY


def test_no_commands_get_and_form(server: LiveServer) -> None:
    assert answer(server.call("batch", http_method="GET")) == EMPTY
    assert answer(send(server, "form", "halt=1")) == EMPTY
    assert answer(send(server, "get", "cmd=crm.lead.list")) == EMPTY


def test_non_string_commands_fail_alone(server: LiveServer, lead: int) -> None:
    one = f"crm.lead.list?filter[ID]={lead}&select[]=ID"
    response = batch(
        server,
        {
            "cmd": {
                "object": {"method": "crm.lead.list", "params": {}},
                "array": ["crm.lead.list"],
                "number": 5,
                "null": None,
                "bool": True,
                "ok": one,
            }
        },
    )
    assert answer(response) == {
        "result": {"ok": [{"ID": str(lead)}]},
        "result_error": {
            "object": NOT_A_STRING,
            "array": NOT_A_STRING,
            "number": NOT_A_STRING,
            "null": NOT_A_STRING,
            "bool": NOT_A_STRING,
        },
        "result_total": {"ok": 1},
        "result_next": [],
        "result_time": {"ok": TIME},
    }
    # the same from a form: cmd[bad][method]=… decodes to a nested array
    query = "cmd[bad][method]=crm.lead.list&cmd[ok]=" + quote_plus(one, safe="")
    assert answer(send(server, "form", query)) == {
        "result": {"ok": [{"ID": str(lead)}]},
        "result_error": {"bad": NOT_A_STRING},
        "result_total": {"ok": 1},
        "result_next": [],
        "result_time": {"ok": TIME},
    }
    # and with halt it stops the batch
    assert answer(batch(server, {"halt": 1, "cmd": [{"method": "x"}, one]})) == {
        **EMPTY,
        "result_error": [NOT_A_STRING],
    }


# Errors of the batch itself --------------------------------------------------------------------------
def test_errors_of_the_batch_itself_have_no_time(server: LiveServer) -> None:
    error_of(batch(server, {"cmd": ["crm.lead.fields"] * 60}), 400, TOO_LONG)
    wrong = server.base_url + "/rest/1/not-a-webhook-code/"
    error_of(
        batch(server, {"cmd": ["crm.lead.fields"]}, webhook=wrong),
        401,
        INVALID_CREDENTIALS,
    )
    raw = server.client.post(
        server.webhook_url + "batch", content=b'{"cmd": [', headers={"content-type": "application/json"}
    )
    assert raw.status_code == 400
    body = raw.json()
    assert set(body) == {"error", "error_description"} and body["error"] == "INVALID_REQUEST"
    # success: the envelope's time has the eight keys (checked by answer) and result_time entries too
    response = batch(server, {"cmd": {"f": "crm.lead.fields"}})
    result = answer(response)
    assert result["result_time"] == {"f": TIME}
    assert set(response.body["time"]) == TIME_KEYS


def test_portal_short_reference_names(fresh_server: LiveServer) -> None:
    for _ in range(3):
        fresh_server.insert_lead(title="short-refs")
    reply = fresh_server.call(
        "batch",
        {
            "cmd": {
                "page": "crm.lead.list?filter[TITLE]=short-refs&select[]=ID",
                "by_total": "crm.lead.get?id=$total[page]",
                "long_form": "crm.lead.get?id=$result_total[page]",
            }
        },
    )
    # $total[page] and $result_total[page] are 3: both commands read lead 3.
    assert reply.result["result"]["by_total"]["ID"] == "3"
    assert reply.result["result"]["long_form"]["ID"] == "3"
    assert reply.result["result_total"] == {"page": 3}


def test_pattern_filters_are_counted_across_the_batch(server: LiveServer) -> None:
    """Issue 14 (budget benchmark): each `%` comparison scans every lead, and a batch of 50 lists with
    100 of them each kept a process busy for 21 s over 100,000 leads. 100 per request, in all."""
    sixty = "&".join(f"filter[%25TITLE][]=no+such+{n}" for n in range(60))
    two = "filter[%25TITLE]=x&filter[!%25NAME]=y"
    response = batch(server, {"cmd": {"a": f"crm.lead.list?{sixty}", "b": f"crm.lead.list?{sixty}"}})
    result = answer(response)
    assert result["result"] == {"a": []}
    assert result["result_error"] == {
        "b": {
            "error": "INVALID_REQUEST",
            "error_description": "Too many substring and pattern filters: more than 100 in one request "
            "(a batch counts all its commands)",
        }
    }
    fifty = answer(batch(server, {"cmd": [f"crm.lead.list?{two}&filter[ID]=0"] * 50}))
    assert fifty["result"] == [[]] * 50
    assert fifty["result_error"] == []
