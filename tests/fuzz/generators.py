"""The request generators, and request ``index`` of a run with seed ``seed``.

Each request has its own ``random.Random(f"{seed}:{index}")``, so any one of them can be made again on
its own (``python -m tests.fuzz SEED INDEX``). The first requests of every run follow a fixed plan
(every registered method in every encoding, then every generator once); the rest are drawn by weight.
The shapes in ATTACKS are the ones issue 14 found by hand: they must stay refused quickly.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from b24local.model.query import FILTER_PREFIXES
from tests.fuzz.encode import CALLERS, ENCODINGS, FORM, FuzzRequest, encoded, json_body, rest_path
from tests.fuzz.params import Catalogue, method_params
from tests.fuzz.values import long_string, nested

Generator = Callable[[random.Random, Catalogue], FuzzRequest]

#: Non-equality filter prefixes (a long list of them once became one SQL expression per value).
RANGE_PREFIXES = tuple(p for p, op in FILTER_PREFIXES if op not in ("eq", "in"))


def _list_methods(cat: Catalogue) -> list[str]:
    return [n for n in cat.names if n.endswith(".list")] or cat.names


def _caller(rng: random.Random) -> str:
    return "admin" if rng.random() < 0.75 else rng.choice(CALLERS)


def method_call(
    rng: random.Random, cat: Catalogue, method: str | None = None, encoding: str | None = None
) -> FuzzRequest:
    """A registered method with parameters from its declarations, in any encoding, by any caller."""
    name = method or rng.choice(cat.names)
    params = method_params(rng, cat, name)
    written = name
    roll = rng.random()
    if roll < 0.05:
        written = name.upper()
    elif roll < 0.08:
        written = name.replace(".", "/")
    return encoded("call", written, params, encoding or rng.choice(ENCODINGS), rng, caller=_caller(rng))


def bracket_flood(rng: random.Random, cat: Catalogue) -> FuzzRequest:
    """``a[]=1`` x 10,000 (PHP-bracket decoding was quadratic), often to a wrong webhook code."""
    name = rng.choice(("a[]", "fields[TITLE][]", "filter[ID][]", "a[][]"))
    body = "&".join([f"{name}=1"] * 10_000).encode()
    caller = rng.choice(("wrong", "admin", "nouser"))
    path = rest_path(caller, rng.choice(cat.names))
    where = rng.choice(("form", "query", "multipart", "both"))
    kind, method = "bracket_flood", path.rsplit("/", 1)[1]
    if where == "query":
        return FuzzRequest(kind, "GET", path, method, query=body)
    if where == "both":
        return FuzzRequest(kind, "POST", path, method, body, (("content-type", FORM),), body)
    if where == "multipart":
        parts = [f'--b\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n1\r\n'] * 10_000
        headers = (("content-type", "multipart/form-data; boundary=b"),)
        return FuzzRequest(kind, "POST", path, method, b"", headers, ("".join(parts) + "--b--\r\n").encode())
    return FuzzRequest(kind, "POST", path, method, b"", (("content-type", FORM),), body)


def percent_flood(rng: random.Random, cat: Catalogue) -> FuzzRequest:
    """A form body just under the 8 MiB limit, all percent escapes, to any caller (decoding runs before
    authentication)."""
    escapes = "%F0%9F%98%80" if rng.random() < 0.5 else "%41"
    body = ("big=" + escapes * ((8 * 1024 * 1024 - 100) // len(escapes))).encode()
    method = rng.choice(cat.names)
    path = rest_path(rng.choice(("wrong", "admin")), method)
    return FuzzRequest("percent_flood", "POST", path, method, b"", (("content-type", FORM),), body)


def batch_pairs(rng: random.Random, cat: Catalogue) -> FuzzRequest:
    """A batch whose commands each carry thousands of pairs (each command had its own allowance)."""
    pairs = rng.randint(3_000, 10_000)
    query = "&".join(["filter[ID][]=1"] * pairs)
    commands = {f"c{i}": f"{rng.choice(_list_methods(cat))}?{query}" for i in range(rng.randint(2, 4))}
    return encoded("batch_pairs", "batch", {"cmd": commands}, rng.choice(("json", "form")), rng)


def _list_call(
    kind: str, rng: random.Random, cat: Catalogue, filt: dict[str, Any], encoding: str
) -> FuzzRequest:
    return encoded(kind, rng.choice(_list_methods(cat)), {"filter": filt, "select": ["ID"]}, encoding, rng)


def filter_range_list(rng: random.Random, cat: Catalogue) -> FuzzRequest:
    """``{">ID": [0..999]}``: a long list under an operator that is not equality."""
    filt = {
        rng.choice(RANGE_PREFIXES) + rng.choice(("ID", "TITLE", "NAME", "DATE_CREATE", "PHONE")): list(
            range(rng.randint(100, 1000))
        )
    }
    return _list_call("filter_range_list", rng, cat, filt, rng.choice(("json", "form")))


def filter_deep(rng: random.Random, cat: Catalogue) -> FuzzRequest:
    """A filter value nested 100 or more levels deep (Python's recursion, SQLite's expression depth)."""
    depth = rng.randint(100, 900)
    prefix = rng.choice(("", ">", "!", "%"))
    return _list_call("filter_deep", rng, cat, {prefix + "ID": nested(rng, depth)}, "json")


def filter_huge_in(rng: random.Random, cat: Catalogue) -> FuzzRequest:
    """300,000 values in ``ID`` (SQLite's variable limit; seconds of blocked loop)."""
    return _list_call(
        "filter_huge_in", rng, cat, {rng.choice(("ID", "@ID", "!ID")): list(range(300_000))}, "json"
    )


def deep_json(rng: random.Random, cat: Catalogue) -> FuzzRequest:
    """Any parameter nested deep; past about 1,000 levels the JSON parser itself refuses."""
    name = rng.choice(cat.names)
    params = method_params(rng, cat, name)
    target = rng.choice((*params, "x")) if params else "x"
    params[target] = nested(rng, rng.choice((40, 100, 500, 1_000, 1_100)), rng.choice((1, "a", None)))
    return encoded("deep_json", name, params, "json", rng)


def deep_form(rng: random.Random, cat: Catalogue) -> FuzzRequest:
    """PHP bracket names nested deep or very long (``a[0][0]...`` and ``a[xxxx...]``)."""
    depth = rng.choice((31, 32, 33, 200, 5_000))
    name = "fields" + "[0]" * depth if rng.random() < 0.7 else "fields[" + "k" * 200_000 + "]"
    pair = f"{name}=1".encode()
    method = rng.choice(cat.names)
    path = rest_path("admin", method)
    if rng.random() < 0.5:
        return FuzzRequest("deep_form", "GET", path, method, query=pair)
    return FuzzRequest("deep_form", "POST", path, method, b"", (("content-type", FORM),), pair)


def huge_select_order(rng: random.Random, cat: Catalogue) -> FuzzRequest:
    method = rng.choice(_list_methods(cat))
    names = list(cat.family(method)) or ["ID"]
    count = rng.choice((1_000, 10_000, 50_000))
    params: dict[str, Any] = {}
    if rng.random() < 0.6:
        params["select"] = [rng.choice(names) + ("" if rng.random() < 0.5 else f"_{i}") for i in range(count)]
    if rng.random() < 0.6 or not params:
        params["order"] = {f"{rng.choice(names)}{'' if i % 3 else i}": "DESC" for i in range(count)}
    return encoded("huge_select_order", method, params, rng.choice(("json", "form")), rng)


def odd_body(rng: random.Random, cat: Catalogue) -> FuzzRequest:
    """Bytes no client should send: invalid UTF-8, NUL, broken JSON or multipart, mismatched types."""
    method = rng.choice(cat.names)
    path = rest_path("admin", method, rng.choice(("", ".xml")))
    choices: list[tuple[str, bytes]] = [
        (FORM, b"fields[TITLE]=%FF%FE&id=1"),
        (FORM, b"fields[TITLE%FF]=x"),
        (FORM, b"id=1\x00&fields[\x00]=\x00"),
        (FORM, b"=&&=&" * 100),
        ("application/json", b'{"fields": {"TITLE": "\xff\xfe"}}'),
        ("application/json", b'{"id": 1'),
        ("application/json", b"[1, 2, 3]"),
        ("application/json", b"12"),
        ("application/json", b'"text"'),
        ("application/json", b'{"id": NaN, "x": Infinity}'),
        ("application/json", b'{"id": 1e999999}'),
        ("application/json", b'{"a": 1, "a": 2}'),
        ("application/json", b"\xef\xbb\xbf{}"),
        ("application/json", json_body({"fields": {"TITLE": long_string(rng)}}, rng)),
        ("text/plain", b"{not json"),
        ("", b"id=1&fields[TITLE]=no-type"),
        ("multipart/form-data", b"--x\r\nno boundary given"),
        ("multipart/form-data; boundary=x", b"--x\r\ngarbage\r\n\r\n"),
        (
            "multipart/form-data; boundary=x",
            b'--x\r\nContent-Disposition: form-data; name="a\xff"\r\n\r\n1\r\n--x--',
        ),
        (
            "multipart/form-data; boundary=x",
            b'--x\r\nContent-Disposition: form-data; name="f"; filename="a"\r\n\r\n1\r\n--x--',
        ),
        ("application/octet-stream", bytes(rng.randrange(256) for _ in range(200))),
        ("application/x-www-form-urlencoded; charset=koi8-r", "fields[TITLE]=Привет".encode("koi8-r")),
        ("image/png", b"\x89PNG\r\n"),
    ]
    content_type, body = rng.choice(choices)
    headers = (("content-type", content_type),) if content_type else ()
    return FuzzRequest(
        "odd_body", rng.choice(("POST", "PUT", "PATCH", "DELETE")), path, method, b"", headers, body
    )


def odd_path(rng: random.Random, cat: Catalogue) -> FuzzRequest:
    """Addresses that name no method, no user, or nothing at all; unknown OAuth pages."""
    method = rng.choice(cat.names)
    paths = (
        "/",
        "/rest",
        "/rest/",
        "/rest/1",
        "/rest/<admin>/",
        "/rest/<admin>/no.such.method",
        "/rest/<admin>/.json",
        "/rest/<admin>/" + method + ".xml.json",
        "/rest/0/x/" + method,
        "/rest/99999999999999999999999999/x/" + method,
        "/rest/-1/x/" + method,
        "/rest/1/" + "c" * 5_000 + "/" + method,
        "/rest/<admin>/" + "m" * 10_000,
        "/rest/<admin>/" + method + "/\x00",
        "/rest/<admin>/Ünïcødé",
        "/rest/<admin>/" + method + "?",
        "/favicon.ico",
        "/oauth/",
        "/oauth/x",
        "/oauth/token/",
        "/oauth/token/extra",
        "/" + "a/" * 2_000,
    )
    path = rng.choice(paths)
    query = rng.choice(
        (b"", b"auth=x", b"grant_type=refresh_token&refresh_token=x&client_id=y&client_secret=z")
    )
    return FuzzRequest("odd_path", rng.choice(("GET", "POST")), path, "", query)


ATTACKS: dict[str, Generator] = {
    "bracket_flood": bracket_flood,
    "percent_flood": percent_flood,
    "batch_pairs": batch_pairs,
    "filter_range_list": filter_range_list,
    "filter_deep": filter_deep,
    "filter_huge_in": filter_huge_in,
    "deep_json": deep_json,
    "deep_form": deep_form,
    "huge_select_order": huge_select_order,
    "odd_body": odd_body,
    "odd_path": odd_path,
}

#: Weights of the random part; the heavy shapes are rare, each costs a few megabytes of work.
WEIGHTS: dict[str, float] = {
    "call": 80.0,
    "bracket_flood": 0.5,
    "percent_flood": 0.2,
    "batch_pairs": 0.2,
    "filter_range_list": 1.0,
    "filter_deep": 0.7,
    "filter_huge_in": 0.1,
    "deep_json": 1.5,
    "deep_form": 1.0,
    "huge_select_order": 0.5,
    "odd_body": 7.0,
    "odd_path": 4.0,
}


def plan(cat: Catalogue) -> list[tuple[str, str, str]]:
    """The fixed start of every run: each method in each encoding, then each attack once."""
    calls = [("call", name, encoding) for name in cat.names for encoding in ENCODINGS]
    return calls + [(kind, "", "") for kind in ATTACKS]


def generate(
    seed: str, index: int, cat: Catalogue, fixed: list[tuple[str, str, str]] | None = None
) -> FuzzRequest:
    rng = random.Random(f"{seed}:{index}")
    fixed = plan(cat) if fixed is None else fixed
    if index < len(fixed):
        kind, method, encoding = fixed[index]
    else:
        kind = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
        method = encoding = ""
    if kind == "call":
        return method_call(rng, cat, method or None, encoding or None)
    return ATTACKS[kind](rng, cat)
