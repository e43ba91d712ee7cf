"""The worst request shapes of the CPU budget benchmark (bench/budget.py), each sized to the body limit.

Each builder takes the body limit in bytes and returns one request. Where a decoder bound refuses a
shape whole (10,000 keys, 32 levels), a second shape stays just under the bound, so that what is
accepted is measured too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from b24local.server import MAX_URL_BYTES

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
BOUNDARY = "b24budget0boundary"
#: Just under the decoder's bound on keys per request (protocol/params.py MAX_KEYS).
KEYS_ACCEPTED = 9_990
#: The deepest JSON nesting orjson takes is 1,024 levels; two are the object and the list around it.
JSON_DEPTH = 1_000
#: Lead fields a list may select and order by.
LEAD_FIELDS = (
    "ID",
    "TITLE",
    "NAME",
    "LAST_NAME",
    "STATUS_ID",
    "DATE_CREATE",
    "ASSIGNED_BY_ID",
    "OPPORTUNITY",
)


@dataclass(frozen=True)
class Shape:
    name: str
    description: str
    method: str
    body: bytes
    content_type: str = JSON
    query: bytes = b""
    wrong_code: bool = False  # sent to a webhook code that does not exist

    @property
    def size(self) -> int:
        return len(self.body) + len(self.query)


def repeat_within(unit: bytes, room: int, separator: bytes = b"") -> bytes:
    """``unit`` repeated (joined by ``separator``) as often as fits in ``room`` bytes."""
    count = max(1, (room + len(separator)) // (len(unit) + len(separator)))
    return separator.join([unit] * count)


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def json_list_to_limit(head: bytes, item: bytes, limit: int) -> bytes:
    """``head`` (a JSON object opened up to a list's ``[``), then ``item`` repeated up to ``limit``."""
    return head + repeat_within(item, limit - len(head) - 2, b",") + b"]}"


def _form_pairs(limit: int) -> bytes:
    return repeat_within(b"a[]=1", limit, b"&")


def form_wrong_code(limit: int) -> Shape:
    return Shape(
        "form a[]=1, wrong code",
        "a[]=1 pairs to an unknown webhook",
        "crm.lead.list",
        _form_pairs(limit),
        FORM,
        wrong_code=True,
    )


def form_right_code(limit: int) -> Shape:
    return Shape("form a[]=1", "a[]=1 pairs, to crm.lead.list", "crm.lead.list", _form_pairs(limit), FORM)


def query_pairs(limit: int) -> Shape:
    """Up to the request line's limit: past it the server answers 414 while the client still sends."""
    pairs = _form_pairs(min(limit, MAX_URL_BYTES - 200))
    return Shape("query a[]=1", "a[]=1 pairs in the query string", "crm.lead.list", b"", FORM, pairs)


def multipart_names(limit: int) -> Shape:
    part = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="a[]"\r\n\r\n1\r\n'.encode()
    end = f"--{BOUNDARY}--\r\n".encode()
    body = repeat_within(part, limit - len(end)) + end
    return Shape(
        "multipart a[]", "parts named a[]", "crm.lead.list", body, f"multipart/form-data; boundary={BOUNDARY}"
    )


def brackets_deep(limit: int) -> Shape:
    body = b"a" + repeat_within(b"[x]", limit - 3) + b"=1"
    return Shape("brackets deep", "one name a[x][x]... up to the limit", "crm.lead.list", body, FORM)


def brackets_accepted(limit: int) -> Shape:
    """As many names 32 levels deep (the decoder's bound) as keys are taken: each costs its pair and
    the 31 arrays it makes."""
    names = KEYS_ACCEPTED // 32
    pairs = [f"a[{i}]".encode() + b"[x]" * 31 + b"=1" for i in range(names)]
    body = b"&".join(pairs)
    return Shape(f"brackets 32×{names}", f"{names:,} names 32 levels deep", "crm.lead.list", body, FORM)


def json_deep(limit: int) -> Shape:
    body = json_list_to_limit(b'{"a":[', b"[" * JSON_DEPTH + b"]" * JSON_DEPTH, limit)
    return Shape("json deep", f"lists {JSON_DEPTH:,} levels deep, side by side", "crm.lead.list", body)


def json_ids(limit: int) -> Shape:
    body = _json({"filter": {"ID": list(range(1, 300_001))}})
    return Shape("filter 300,000 IDs", 'crm.lead.list, filter {"ID": [1..300000]}', "crm.lead.list", body)


def greater_than_many(limit: int) -> Shape:
    body = _json({"filter": {">ID": list(range(1, 1_001))}})
    return Shape("filter >ID ×1,000", 'crm.lead.list, filter {">ID": [1..1000]}', "crm.lead.list", body)


def batch_pairs(limit: int) -> Shape:
    """50 commands, each a crm.lead.list whose query holds as many filter pairs as fit (under the
    bound on keys of one command)."""
    room = limit // 50 - 64
    commands = {}
    for c in range(50):
        pairs: list[str] = []
        size = i = 0
        while len(pairs) < KEYS_ACCEPTED:
            pair = f"filter[ID][]={c * KEYS_ACCEPTED + i + 1}"
            if size + len(pair) + 1 > room:
                break
            pairs.append(pair)
            size += len(pair) + 1
            i += 1
        commands[f"c{c}"] = "crm.lead.list?" + "&".join(pairs)
    body = _json({"halt": 0, "cmd": commands})
    return Shape("batch 50 × filter pairs", "batch of 50 crm.lead.list, many ID pairs each", "batch", body)


def percent_escapes(limit: int) -> Shape:
    body = b"filter[%54ITLE]=" + repeat_within(b"%41", limit - 16)
    return Shape("form %41 escapes", "one form value of percent escapes", "crm.lead.list", body, FORM)


def percent_malformed(limit: int) -> Shape:
    """As many malformed escapes as the decoder takes (10,000), the rest of the body valid ones."""
    value = b"%z" * 10_000 + repeat_within(b"%41", limit - 20_016)
    body = b"filter[%54ITLE]=" + value
    return Shape("form malformed %", "10,000 malformed escapes, then valid ones", "crm.lead.list", body, FORM)


def _patterns(count: int) -> list[str]:
    return [f"no such title {n}" for n in range(count)]


def filter_patterns(limit: int) -> Shape:
    """The most OR-ed substring tests a filter takes: each is a scan of every lead's TITLE."""
    body = _json({"filter": {"%TITLE": _patterns(100)}, "select": ["ID"]})
    return Shape("filter %TITLE ×100", "crm.lead.list, 100 substrings OR-ed", "crm.lead.list", body)


def batch_patterns(limit: int) -> Shape:
    query = "&".join(f"filter[%25TITLE][]={p.replace(' ', '+')}" for p in _patterns(100))
    commands = {f"c{c}": f"crm.lead.list?select[]=ID&{query}" for c in range(50)}
    body = _json({"halt": 0, "cmd": commands})
    return Shape("batch 50 × %TITLE ×100", "batch of 50 of the filter above", "batch", body)


def select_order(limit: int) -> Shape:
    order = {name: "DESC" for name in LEAD_FIELDS}
    body = json_list_to_limit(_json({"order": order, "select": []})[:-2], b'"TITLE","NAME","ID"', limit)
    return Shape("select/order huge", "select of lead fields repeated, order by all", "crm.lead.list", body)


def long_string(limit: int) -> Shape:
    body = _json({"fields": {"TITLE": "x" * (limit - 64)}})
    return Shape("long TITLE", "crm.lead.add with a TITLE up to the limit", "crm.lead.add", body)


def items_set_accepted(limit: int) -> Shape:
    items = [{"CONTACT_ID": i} for i in range(1, KEYS_ACCEPTED - 1)]
    body = _json({"id": 1, "items": items})
    return Shape(
        "items.set 9,988 contacts", "as many contacts as keys are taken", "crm.lead.contact.items.set", body
    )


def items_set_limit(limit: int) -> Shape:
    body = json_list_to_limit(b'{"id":2,"items":[', b'{"CONTACT_ID":7}', limit)
    return Shape(
        "items.set to the limit", "contact items up to the limit", "crm.lead.contact.items.set", body
    )


SHAPES: dict[str, Callable[[int], Shape]] = {
    "form-wrong-code": form_wrong_code,
    "form": form_right_code,
    "query": query_pairs,
    "multipart": multipart_names,
    "brackets-deep": brackets_deep,
    "brackets-accepted": brackets_accepted,
    "json-deep": json_deep,
    "filter-ids": json_ids,
    "filter-gt": greater_than_many,
    "batch": batch_pairs,
    "percent": percent_escapes,
    "percent-malformed": percent_malformed,
    "filter-patterns": filter_patterns,
    "batch-patterns": batch_patterns,
    "select-order": select_order,
    "long-string": long_string,
    "items-set": items_set_accepted,
    "items-set-limit": items_set_limit,
}
