"""Parameter decoding (contract protocol.md R1, R2, R4): PHP ``parse_str`` semantics, JSON and multipart.

Expected values follow PHP 8's ``php_register_variable_ex`` / ``parse_str`` (main/php_variables.c):
names are C strings, leading spaces are dropped, ``.`` and `` `` in the base name become ``_``, an
unmatched first ``[`` becomes ``_`` (and ``[``/``.``/`` `` after it too), ``[]`` and ``[ ]`` append at
the largest integer key + 1 (negative keys included since PHP 8.0), canonical decimal integer strings
become integer keys. Where our contract deliberately differs from PHP (invalid UTF-8, nesting and key
limits answer 400 instead of being dropped silently) the tests follow the contract.
"""

from __future__ import annotations

import gc
import math
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from b24local.protocol.errors import ApiError
from b24local.protocol.params import decode_params, media_type, parse_str

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def form(data: str | bytes) -> dict[str, Any]:
    return parse_str(data.encode() if isinstance(data, str) else data)


def rejected(query: bytes, content_type: str = "", body: bytes = b"") -> ApiError:
    with pytest.raises(ApiError) as caught:
        decode_params(query, content_type, body)
    error = caught.value
    assert (error.status, error.code) == (400, "INVALID_REQUEST")
    assert error.description  # R4: the description names the problem
    return error


def multipart(*parts: tuple[str, bytes] | tuple[str, bytes, str], boundary: str = "b24Boundary") -> bytes:
    """A multipart/form-data body; a third element makes the part a file upload with that filename."""
    out: list[bytes] = []  # joined once: adding bytes to bytes copies them every time
    for part in parts:
        name, value = part[0], part[1]
        disposition = f'Content-Disposition: form-data; name="{name}"'
        if len(part) == 3:
            disposition += f'; filename="{part[2]}"\r\nContent-Type: application/octet-stream'
        out.append(f"--{boundary}\r\n{disposition}\r\n\r\n".encode() + value + b"\r\n")
    return b"".join(out) + f"--{boundary}--\r\n".encode()


MULTIPART = "multipart/form-data; boundary=b24Boundary"


# --- R2: PHP bracket syntax ------------------------------------------------------------------------


def test_contract_examples() -> None:
    assert form("items[0][CONTACT_ID]=1010") == {"items": [{"CONTACT_ID": "1010"}]}
    assert form("select[]=ID&select[]=NAME") == {"select": ["ID", "NAME"]}
    assert form("filter[>ID]=5") == {"filter": {">ID": "5"}}
    assert form("filter[%3EID]=5") == {"filter": {">ID": "5"}}


def test_items_set_shape() -> None:
    query = (
        "id=1&items[0][CONTACT_ID]=1010&items[0][SORT]=10&items[0][IS_PRIMARY]=Y"
        "&items[1][CONTACT_ID]=1020&items[1][SORT]=20"
    )
    assert form(query) == {
        "id": "1",
        "items": [
            {"CONTACT_ID": "1010", "SORT": "10", "IS_PRIMARY": "Y"},
            {"CONTACT_ID": "1020", "SORT": "20"},
        ],
    }


def test_values_are_strings() -> None:
    assert form("a=1&b=true&c=&d") == {"a": "1", "b": "true", "c": "", "d": ""}
    assert form("a=b=c") == {"a": "b=c"}
    # Only "&" separates pairs (PHP's default arg_separator.input).
    assert form("a=1;b=2") == {"a": "1;b=2"}


def test_nested_lists_and_maps() -> None:
    assert form("a[x][]=1&a[x][]=2&a[y][z]=3") == {"a": {"x": ["1", "2"], "y": {"z": "3"}}}
    assert form("a[][b]=1&a[][b]=2") == {"a": [{"b": "1"}, {"b": "2"}]}
    assert form("a[0][]=1&a[0][]=2&a[1][]=3") == {"a": [["1", "2"], ["3"]]}


def test_gaps_and_order_keep_a_map() -> None:
    assert form("a[1]=x") == {"a": {"1": "x"}}
    assert form("a[0]=x&a[2]=y") == {"a": {"0": "x", "2": "y"}}
    # Keys 0..n-1 but not in insertion order: a PHP array that json_encode writes as an object.
    assert form("a[1]=x&a[0]=y") == {"a": {"1": "x", "0": "y"}}
    assert form("a[0]=x&a[1]=y") == {"a": ["x", "y"]}


def test_mixed_keys() -> None:
    assert form("a[0]=x&a[k]=y") == {"a": {"0": "x", "k": "y"}}
    assert form("a[k]=y&a[0]=x") == {"a": {"k": "y", "0": "x"}}


def test_append_after_the_largest_integer_key() -> None:
    assert form("a[5]=x&a[]=y") == {"a": {"5": "x", "6": "y"}}
    assert form("a[5]=x&a[2]=y&a[]=z") == {"a": {"5": "x", "2": "y", "6": "z"}}
    assert form("a[k]=x&a[]=y") == {"a": {"k": "x", "0": "y"}}
    assert form("a[]=x&a[7]=y&a[]=z") == {"a": {"0": "x", "7": "y", "8": "z"}}
    # String keys that only look numeric do not count.
    assert form("a[07]=x&a[]=y") == {"a": {"07": "x", "0": "y"}}


def test_append_after_negative_keys_php8() -> None:
    # PHP ≥ 8.0 (negative_array_index RFC): the next key is max + 1 even when max < 0.
    assert form("a[-5]=x&a[]=y") == {"a": {"-5": "x", "-4": "y"}}
    assert form("a[-1]=x&a[]=y") == {"a": {"-1": "x", "0": "y"}}


def test_canonical_integer_keys() -> None:
    # Only canonical decimal strings become integer keys, so only they can make a list.
    assert form("a[0]=x&a[1]=y") == {"a": ["x", "y"]}
    assert form("a[0]=x&a[%2B1]=y") == {"a": {"0": "x", "+1": "y"}}
    assert form("a[0]=x&a[+1]=y") == {"a": {"0": "x", " 1": "y"}}
    assert form("a[0]=x&a[01]=y") == {"a": {"0": "x", "01": "y"}}
    assert form("a[-0]=x") == {"a": {"-0": "x"}}
    assert form("a[00]=x") == {"a": {"00": "x"}}
    assert form("a[--5]=x") == {"a": {"--5": "x"}}
    assert form("a[-]=x") == {"a": {"-": "x"}}
    assert form("a[1.0]=x") == {"a": {"1.0": "x"}}
    # Beyond 64 bits a numeric string stays a string key (and is not counted for "[]").
    assert form("a[9223372036854775808]=x&a[]=y") == {"a": {"9223372036854775808": "x", "0": "y"}}
    assert form("a[9223372036854775806]=x&a[]=y") == {
        "a": {"9223372036854775806": "x", "9223372036854775807": "y"}
    }
    # A very long digit string must not trip Python's int() digit limit.
    long_key = "1" * 5000
    assert form(f"a[{long_key}]=x") == {"a": {long_key: "x"}}
    # Top-level names are parameter names, never list positions.
    assert form("0=a&1=b") == {"0": "a", "1": "b"}


def test_later_values_overwrite() -> None:
    assert form("a=1&a=2") == {"a": "2"}
    assert form("a[]=1&a=2") == {"a": "2"}
    assert form("a=1&a[b]=2") == {"a": {"b": "2"}}
    assert form("a[b]=1&a[b][c]=2") == {"a": {"b": {"c": "2"}}}
    assert form("a[0]=1&a[0]=2") == {"a": ["2"]}


def test_text_after_a_closing_bracket() -> None:
    assert form("a[b]c=1") == {"a": {"b": "1"}}
    assert form("a[b]]=1") == {"a": {"b": "1"}}
    assert form("a[b]c[d]=1") == {"a": {"b": "1"}}
    assert form("a[[b]]=1") == {"a": {"[b": "1"}}


def test_name_mangling() -> None:
    assert form("a.b=1") == {"a_b": "1"}
    assert form("a%20b=1") == {"a_b": "1"}
    assert form("a+b=1") == {"a_b": "1"}
    assert form("a..b=1") == {"a__b": "1"}
    # Only the base name is mangled; indices are kept verbatim.
    assert form("a.b[c.d][e f]=1") == {"a_b": {"c.d": {"e f": "1"}}}
    # Leading spaces are dropped (only spaces), then the rest is mangled.
    assert form("++a=1") == {"a": "1"}
    assert form("%20.a=1") == {"_a": "1"}
    assert form("%09a=1") == {"\ta": "1"}
    # Other punctuation stays.
    assert form("a-b=1&c%24=2") == {"a-b": "1", "c$": "2"}


def test_unmatched_bracket() -> None:
    assert form("a[=1") == {"a_": "1"}
    assert form("a[b=1") == {"a_b": "1"}
    # PHP 8 also mangles " ", "." and "[" after the unmatched "[".
    assert form("a[b.c+d=1") == {"a_b_c_d": "1"}
    assert form("a[b[c=1") == {"a_b_c": "1"}
    assert form("a.x[b=1") == {"a_x_b": "1"}
    # An unmatched "[" after a complete index: the rest of the name is dropped.
    assert form("a[b][c=1") == {"a": {"b": "1"}}
    assert form("a[b][c][d=1") == {"a": {"b": {"c": "1"}}}


def test_whitespace_inside_brackets() -> None:
    # PHP skips one isspace() character before testing for "]": "[ ]" appends like "[]".
    assert form("a[%20]=1&a[%20]=2") == {"a": ["1", "2"]}
    assert form("a[%09]=1") == {"a": ["1"]}
    # Otherwise the index is kept with its whitespace.
    assert form("a[%20b]=1") == {"a": {" b": "1"}}
    assert form("a[b%20]=1") == {"a": {"b ": "1"}}
    assert form("a[%20%20]=1") == {"a": {"  ": "1"}}
    assert form("a[%200]=1") == {"a": {" 0": "1"}}


def test_dropped_names() -> None:
    assert form("=1") == {}
    assert form("[a]=1") == {}
    assert form("%20=1") == {}
    assert form("%20[a]=1") == {}
    assert form("&&a=1&&&b=2&") == {"a": "1", "b": "2"}
    assert form("") == {}
    assert form("&") == {}
    # "." alone is not empty: it becomes "_".
    assert form(".=1") == {"_": "1"}


def test_nul_in_names_and_values() -> None:
    # PHP reads the decoded name as a C string: it ends at the first NUL. Values are binary-safe.
    assert form("a%00b=1") == {"a": "1"}
    assert form("a[b%00c]=1") == {"a_b": "1"}
    assert form("%00a=1") == {}
    assert form("a=x%00y") == {"a": "x\x00y"}


def test_percent_decoding_and_plus() -> None:
    assert form("a=%41%42+c") == {"a": "AB c"}
    assert form("a=%2B%2b") == {"a": "++"}
    assert form("a=%26%3D") == {"a": "&="}
    assert form("a=%zz%4%") == {"a": "%zz%4%"}
    assert form("a=%C3%A9%D0%96") == {"a": "éЖ"}
    assert form("a=é".encode()) == {"a": "é"}
    assert form("%61%5Bb%5D=1") == {"a": {"b": "1"}}
    assert form("a%5B%5D=1&a[]=2") == {"a": ["1", "2"]}
    # "%2B" in a name is a literal "+", not a space.
    assert form("a%2Bb=1") == {"a+b": "1"}


#: Bytes that matter to percent-decoding, escapes made of them included ("%0A", "%3d", "%fF").
URL_BYTES = b"%%%=+\\\n\r aAdDfFgG039"


@given(st.binary(max_size=40).map(lambda raw: bytes(URL_BYTES[c % len(URL_BYTES)] for c in raw)))
@settings(max_examples=500, deadline=None)
def test_percent_decoding_is_urldecode(raw: bytes) -> None:
    # PHP's urldecode: "+" is a space, "%XX" a byte, any other "%" stays as it is.
    expected = unquote_to_bytes(raw.replace(b"+", b" "))
    try:
        text = expected.decode("utf-8")
    except UnicodeDecodeError:
        rejected(b"a=" + raw)
        return
    assert form(b"a=" + raw) == {"a": text}


def test_line_breaks_and_equals_after_percent() -> None:
    assert form(b"a=%\n%\r\n%0A%3d=%=%3") == {"a": "%\n%\r\n\n==%=%3"}


def test_percent_escapes_cost_no_python_step_each() -> None:
    # Issue 14: an 8 MiB form body of escapes took seconds to decode, before authentication.
    few, many = b"a=" + b"%41" * 100, b"a=" + b"%41" * 100_000
    assert form(many) == {"a": "A" * 100_000}
    assert python_steps(lambda: form(many)) < 1.1 * python_steps(lambda: form(few))


def test_malformed_percent_escapes_are_bounded() -> None:
    assert form(b"a=" + b"%" * 10_000) == {"a": "%" * 10_000}
    assert form(b"a=" + b"%z" * 10_000 + b"%41") == {"a": "%z" * 10_000 + "A"}
    error = rejected(b"a=" + b"%" * 10_001)
    assert error.body() == {
        "error": "INVALID_REQUEST",
        "error_description": "Too many malformed percent escapes: more than 10000",
    }


@pytest.mark.parametrize(
    "query",
    [b"a=%FF", b"a=\xff", b"%FF=1", b"a[%C3]=1", b"a=%C3%28", b"a=%ED%A0%80", b"a=%F4%90%80%80"],
)
def test_invalid_utf8_is_rejected(query: bytes) -> None:
    error = rejected(query)
    assert "UTF-8" in error.description
    error = rejected(b"", FORM, query)
    assert "UTF-8" in error.description


def test_nesting_limit() -> None:
    name = "a" + "[x]" * 32
    params = decode_params(name.encode() + b"=1", "", b"")
    node: Any = params["a"]
    for _ in range(31):
        node = node["x"]
    assert node == {"x": "1"}
    error = rejected(("a" + "[x]" * 33).encode() + b"=1")
    assert "32" in error.description
    rejected(("a" + "[]" * 33).encode() + b"=1")
    rejected(b"", FORM, ("a" + "[]" * 40).encode() + b"=1")
    # An unmatched bracket is not a level.
    assert form("a" + "[" * 100 + "=1") == {"a" + "_" * 100: "1"}


def test_key_limit() -> None:
    ok = "&".join(f"k{i}=1" for i in range(10_000)).encode()
    assert len(decode_params(ok, "", b"")) == 10_000
    assert len(decode_params(b"", FORM, ok)) == 10_000
    too_many = ok + b"&k10000=1"
    assert "10000" in rejected(too_many).description.replace(",", "")
    rejected(b"", FORM, too_many)
    parts = [(f"k{i}", b"1") for i in range(10_001)]
    rejected(b"", MULTIPART, multipart(*parts))


def test_key_limit_json() -> None:
    ok = orjson.dumps({f"k{i}": 1 for i in range(10_000)})
    assert len(decode_params(b"", JSON, ok)) == 10_000
    rejected(b"", JSON, orjson.dumps({f"k{i}": 1 for i in range(10_001)}))
    # List elements cost a key each, as a form pair per value would: "a", 4,999 elements and their
    # 4,999 keys are 9,999 keys; one more element brings 10,001.
    assert len(decode_params(b"", JSON, orjson.dumps({"a": [{"": 0}] * 4_999, "b": 1}))["a"]) == 4_999
    rejected(b"", JSON, orjson.dumps({"a": [{"": 0}] * 5_000}))
    assert len(decode_params(b"", JSON, orjson.dumps({"ids": list(range(9_999))}))["ids"]) == 9_999
    assert "10000" in rejected(b"", JSON, orjson.dumps({"ids": list(range(10_000))})).description
    rejected(b"", JSON, orjson.dumps({"ids": list(range(300_000))}))
    # An empty container costs its place in the list only.
    assert decode_params(b"", JSON, orjson.dumps({"a": [[], {}] * 4_999}))["a"][:3] == [[], {}, []]
    rejected(b"", JSON, orjson.dumps({"a": [[], {}] * 4_999 + [[0]]}))


def test_arrays_made_by_names_cost_a_key_each() -> None:
    # Issue 14 (budget benchmark): 9,990 names 32 levels deep made 310,000 arrays for 9,990 keys
    # (a second of CPU). A new array costs a key, as a JSON object or list does: "a" and each "a[i]".
    pairs = [b"a[%d][x]=1" % i for i in range(4_999)]
    assert len(form(b"&".join(pairs))["a"]) == 4_999  # 4,999 pairs + "a" + 4,999 arrays = 9,999
    assert "10000" in rejected(b"&".join([*pairs, b"a[4999][x]=1"])).description
    assert "10000" in rejected(b"&".join(b"a[%d]" % i + b"[x]" * 31 + b"=1" for i in range(400))).description
    # Arrays already made cost nothing more: 9,998 values in one list, 9,999 keys with "a".
    assert len(form(b"&".join([b"a[]=1"] * 9_998))["a"]) == 9_998


def test_json_containers_are_counted_before_parsing() -> None:
    # Issue 14 (budget benchmark): 8 MiB of nested lists took a second to parse before the budget
    # refused them. Brackets are counted first: the invalid tail is never reached.
    body = b'{"a":[' + b"[]," * 10_001 + b"not json"
    assert "10000" in rejected(b"", JSON, body).description
    assert "not valid JSON" in rejected(b"", JSON, b'{"a":[' + b"[]," * 9_998 + b"not json").description
    # Brackets inside strings are text: many of them, in one string or many, escaped quotes too.
    assert decode_params(b"", JSON, orjson.dumps({"TITLE": "[{" * 20_000})) == {"TITLE": "[{" * 20_000}
    strings = orjson.dumps({"a": ['\\"[["'] * 4_000})
    assert decode_params(b"", JSON, strings)["a"][0] == '\\"[["'
    # More strings than keys could hold (two per key) are refused unread.
    many = b'{"a":[' + b'"[",' * 20_002 + b'""]}'
    assert "10000" in rejected(b"", JSON, many).description


def test_key_limit_counts_query_and_body_together() -> None:
    query = "&".join(f"q{i}=1" for i in range(6_000)).encode()
    body = "&".join(f"b{i}=1" for i in range(4_000)).encode()
    assert len(decode_params(query, FORM, body)) == 10_000
    rejected(query, FORM, body + b"&b4000=1")
    rejected(query, JSON, orjson.dumps({f"b{i}": 1 for i in range(4_001)}))
    rejected(query, MULTIPART, multipart(*[(f"b{i}", b"1") for i in range(4_001)]))


def python_steps(run: Callable[[], object]) -> int:
    """How many Python calls, lines and returns ``run`` goes through: a measure of work that, unlike
    time, a loaded machine cannot skew."""
    steps = 0

    def count(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal steps
        steps += 1
        return count

    previous = sys.gettrace()
    sys.settrace(count)
    try:
        run()
    finally:
        sys.settrace(previous)
    return steps


def best_seconds(first: Callable[[], object], second: Callable[[], object], runs: int = 5) -> list[float]:
    """The fastest of several runs of each, taken in turns so that the load of a shared machine, which
    drifts, weighs on both alike; without the cyclic garbage collector, whose passes over the whole
    test process's heap would fall on either at random."""
    best = [math.inf, math.inf]
    gc.disable()
    try:
        for _ in range(runs):
            for which, run in enumerate((first, second)):
                started = time.perf_counter()
                run()
                best[which] = min(best[which], time.perf_counter() - started)
    finally:
        gc.enable()
    return best


def decoder(source: str, names: list[str]) -> Callable[[], dict[str, Any]]:
    """Decoding the pairs ``name=1`` from the query string, a form body or multipart field names."""
    form_data = "&".join(f"{name}=1" for name in names).encode()
    if source == "query":
        return lambda: decode_params(form_data, "", b"")
    if source == "form":
        return lambda: decode_params(b"", FORM, form_data)
    body = multipart(*[(name, b"1") for name in names])
    return lambda: decode_params(b"", MULTIPART, body)


SOURCES = ["query", "form", "multipart"]


@pytest.mark.parametrize("source", SOURCES)
def test_decoding_work_is_linear(source: str) -> None:
    # Issue 14: every "[]" scanned the whole array for its next index, so 3N appends took ~9x the
    # work of N. Counted in Python steps, linear work is 3x exactly, but for a constant.
    small = python_steps(decoder(source, ["a[]"] * 500))
    large = python_steps(decoder(source, ["a[]"] * 1_500))
    assert large < 3.2 * small, (small, large)


@pytest.mark.parametrize("source", SOURCES)
def test_appending_takes_no_longer_than_explicit_indices(source: str) -> None:
    # The same in time: 9,000 appends against the same list built with explicit indices (the same
    # bytes but for the digits, the same result). Quadratic appends took ~40x as long.
    appends, indexed = decoder(source, ["a[]"] * 9_000), decoder(source, [f"a[{i}]" for i in range(9_000)])
    assert appends() == indexed() == {"a": ["1"] * 9_000}
    append_seconds, indexed_seconds = best_seconds(appends, indexed)
    assert append_seconds < 2 * indexed_seconds, (append_seconds, indexed_seconds)


def test_refusals_stop_early() -> None:
    # A name nested too deep is refused at its 33rd index, not after collecting all of them; a
    # multipart body at the part past the budget, not after parsing every part. Ten times the input
    # is (nearly) the same Python work.
    def deep_name(levels: int) -> Callable[[], object]:
        return lambda: rejected(b"a" + b"[x]" * levels + b"=1")

    def many_parts(parts: int) -> Callable[[], object]:
        body = multipart(*[("k", b"1")] * parts)
        return lambda: rejected(b"", MULTIPART, body)

    assert python_steps(deep_name(20_000)) < 1.1 * python_steps(deep_name(2_000))
    assert python_steps(many_parts(100_000)) < 1.1 * python_steps(many_parts(10_100))


# --- R1: sources and precedence -----------------------------------------------------------------


def test_query_only() -> None:
    assert decode_params(b"id=5&items[0][CONTACT_ID]=7", "", b"") == {
        "id": "5",
        "items": [{"CONTACT_ID": "7"}],
    }


def test_body_overrides_query_json() -> None:
    body = orjson.dumps({"id": 9, "items": [{"CONTACT_ID": 3}]})
    assert decode_params(b"id=5&auth=t&items[0][CONTACT_ID]=7", JSON, body) == {
        "id": 9,
        "auth": "t",
        "items": [{"CONTACT_ID": 3}],
    }


def test_body_overrides_query_form_and_multipart() -> None:
    assert decode_params(b"a=1&b=2", FORM, b"a=x") == {"a": "x", "b": "2"}
    assert decode_params(b"a=1&b=2", MULTIPART, multipart(("a", b"x"))) == {"a": "x", "b": "2"}
    # The override is per top-level name: a body array replaces the query array (contract R1).
    assert decode_params(b"f[a]=1", FORM, b"f[b]=2") == {"f": {"b": "2"}}


def test_json_values_keep_their_types() -> None:
    body = b'{"id": 1, "f": {"A": true, "B": null, "C": 1.5, "D": [1, "2"]}, "fields": {}}'
    assert decode_params(b"", JSON, body) == {
        "id": 1,
        "f": {"A": True, "B": None, "C": 1.5, "D": [1, "2"]},
        "fields": {},
    }
    assert decode_params(b"", "application/json; charset=utf-8", b'{"a": 1}') == {"a": 1}
    assert decode_params(b"", "Application/JSON", b'{"a": 1}') == {"a": 1}
    # Duplicate JSON keys: the last one wins, as with PHP json_decode.
    assert decode_params(b"", JSON, b'{"a": 1, "a": 2}') == {"a": 2}


@pytest.mark.parametrize("body", [b"[]", b"[1, 2]", b'"text"', b"1", b"true", b"1.5"])
def test_json_non_object_is_rejected(body: bytes) -> None:
    assert "object" in rejected(b"", JSON, body).description


@pytest.mark.parametrize(
    "body", [b"{", b'{"a": 1,}', b"{'a': 1}", b'{"a": NaN}', b'{"a": 1} x', b"\xff", b'{"a": "\xff"}']
)
def test_broken_json_is_rejected(body: bytes) -> None:
    assert "JSON" in rejected(b"", JSON, body).description


def test_json_limits() -> None:
    many = orjson.dumps({f"k{i}": 1 for i in range(10_000)})
    assert len(decode_params(b"", JSON, many)) == 10_000
    rejected(b"", JSON, orjson.dumps({f"k{i}": 1 for i in range(10_001)}))
    # Nested keys count too.
    rejected(
        b"",
        JSON,
        orjson.dumps({"a": {f"k{i}": 1 for i in range(6000)}, "b": {f"k{i}": 1 for i in range(6000)}}),
    )
    # A deep body is refused with 400, never a RecursionError.
    rejected(b"", JSON, b'{"a":' * 1000 + b"1" + b"}" * 1000)
    rejected(b"", JSON, b'{"a":' * 3000 + b"1" + b"}" * 3000)
    rejected(b"", JSON, b'{"a":' + b"[" * 3000 + b"]" * 3000 + b"}")


def test_json_nesting_limit() -> None:
    # As for form input (a[x]…[x]=1 with 32 indices): 32 containers below the top object.
    assert decode_params(b"", JSON, orjson.dumps({"f": _nested(32)})) == {"f": _nested(32)}
    error = rejected(b"", JSON, orjson.dumps({"f": _nested(33)}))
    assert error.description == "Parameter 'f' is nested deeper than 32 levels"
    rejected(b"", JSON, orjson.dumps({"ok": 1, "g": {"x": _nested(32)}}))
    # Brackets inside strings do not count.
    assert decode_params(b"", JSON, orjson.dumps({"s": "[[[[{{{{" * 20})) == {"s": "[[[[{{{{" * 20}


def _nested(levels: int) -> Any:
    """``levels`` containers, alternating lists and objects, around the value 1."""
    value: Any = 1
    for level in range(levels):
        value = [value] if level % 2 else {"x": value}
    return value


def test_empty_bodies() -> None:
    assert decode_params(b"a=1", JSON, b"") == {"a": "1"}
    assert decode_params(b"a=1", JSON, b"  \n") == {"a": "1"}
    assert decode_params(b"a=1", JSON, b"null") == {"a": "1"}
    assert decode_params(b"a=1", JSON, b"{}") == {"a": "1"}
    assert decode_params(b"a=1", FORM, b"") == {"a": "1"}
    assert decode_params(b"a=1", MULTIPART, b"") == {"a": "1"}
    assert decode_params(b"", "", b"") == {}
    assert decode_params(b"", MULTIPART, multipart()) == {}


def test_multipart_fields() -> None:
    body = multipart(
        ("id", b"1"),
        ("items[0][CONTACT_ID]", b"1010"),
        ("items[0][IS_PRIMARY]", b"Y"),
        ("items[1][CONTACT_ID]", b"1020"),
        ("select[]", b"ID"),
        ("select[]", b"NAME"),
        ("a.b c", "é".encode()),
    )
    assert decode_params(b"", MULTIPART, body) == {
        "id": "1",
        "items": [{"CONTACT_ID": "1010", "IS_PRIMARY": "Y"}, {"CONTACT_ID": "1020"}],
        "select": ["ID", "NAME"],
        "a_b_c": "é",
    }
    # Values are taken verbatim: no percent-decoding, no "+" → " ".
    assert decode_params(b"", MULTIPART, multipart(("a", b"x+y%41"))) == {"a": "x+y%41"}
    # A quoted boundary works too.
    quoted = 'multipart/form-data; boundary="b24Boundary"'
    assert decode_params(b"", quoted, multipart(("a", b"1"))) == {"a": "1"}


def test_multipart_file_parts_are_not_parameters() -> None:
    body = multipart(
        ("id", b"7"),
        ("upload", b"\x00\xff binary", "x.bin"),
        ("items[0][CONTACT_ID]", b"5", ""),  # an empty file input is still a file part
        ("fields[TITLE]", b"T"),
    )
    assert decode_params(b"", MULTIPART, body) == {"id": "7", "fields": {"TITLE": "T"}}


def test_multipart_errors() -> None:
    assert "boundary" in rejected(b"", "multipart/form-data", multipart(("a", b"1"))).description
    rejected(b"", MULTIPART, b"this is not multipart")
    assert "UTF-8" in rejected(b"", MULTIPART, multipart(("a", b"\xff"))).description


def test_text_plain_and_missing_content_type() -> None:
    # b24local extension: a text/plain or untyped body is read as JSON when it starts with "{",
    # else as form data (PHP itself fills $_POST only for form and multipart bodies).
    assert decode_params(b"", "text/plain", b"a=1&b[]=2") == {"a": "1", "b": ["2"]}
    assert decode_params(b"", "text/plain; charset=utf-8", b' {"a": [1]}') == {"a": [1]}
    assert decode_params(b"", "", b"a[x]=1") == {"a": {"x": "1"}}
    assert decode_params(b"", "", b'{"a": 1}') == {"a": 1}
    rejected(b"", "text/plain", b'{"a": ')
    rejected(b"", "", b"a=%FF")


def test_other_body_types_carry_no_parameters() -> None:
    assert decode_params(b"a=1", "application/xml", b"<a>2</a>") == {"a": "1"}
    assert decode_params(b"a=1", "application/octet-stream", b"a=2") == {"a": "1"}


def test_media_type() -> None:
    assert media_type("Application/JSON ; charset=UTF-8") == "application/json"
    assert media_type("") == ""


# --- Robustness: anything decodes to a dict or answers 400 --------------------------------------------

PHP_NAME_CHARS = "ab01[]. +%&=-_\t\x00é"


@settings(max_examples=400, deadline=None, database=None, derandomize=True)
@given(
    query=st.one_of(st.binary(max_size=60), st.text(alphabet=PHP_NAME_CHARS, max_size=60).map(str.encode)),
    content_type=st.one_of(
        st.sampled_from(
            [
                "",
                JSON,
                FORM,
                MULTIPART,
                "multipart/form-data",
                'multipart/form-data; boundary="',
                "multipart/form-data; boundary=",
                "multipart/form-data; boundary=a; boundary=b",
                "text/plain",
                "application/xml",
            ]
        ),
        st.text(max_size=40),
    ),
    body=st.one_of(
        st.binary(max_size=120),
        st.text(alphabet=PHP_NAME_CHARS + '{}":,', max_size=120).map(str.encode),
        st.lists(
            st.tuples(st.text(alphabet=PHP_NAME_CHARS, max_size=12), st.binary(max_size=8)), max_size=4
        ).map(lambda parts: multipart(*parts)),
    ),
)
def test_any_input_decodes_or_answers_400(query: bytes, content_type: str, body: bytes) -> None:
    try:
        params = decode_params(query, content_type, body)
    except ApiError as error:
        assert (error.status, error.code) == (400, "INVALID_REQUEST")
        return
    assert isinstance(params, dict)
    assert all(isinstance(key, str) for key in params)
