"""Each scenario's answer checked once over HTTP before anything is measured (status 200, expected shape).

The checks run on the pristine data of a freshly started server and leave it as they found it (a
write is undone by the next call).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bench.common import BATCH_SIZE, CONTACTS_PER_LEAD, PAGE_SIZE, expect, post, post_raw, webhook_path
from bench.data import original_contacts
from bench.wrk import deep_start


def call(base: str, method: str, body: dict[str, Any]) -> Any:
    """The ``result`` of a b24local call that must answer 200 with the envelope."""
    status, answer = post(base + webhook_path(method), body)
    expect(status == 200, f"{method} {body} answered {status}: {answer!r}")
    expect(isinstance(answer, dict) and "result" in answer and "time" in answer, f"{method}: {answer!r}")
    return answer


def expected_bindings(contacts: list[int]) -> list[dict[str, Any]]:
    return [
        {"CONTACT_ID": c, "SORT": (k + 1) * 10, "ROLE_ID": 0, "IS_PRIMARY": "Y" if k == 0 else "N"}
        for k, c in enumerate(contacts)
    ]


def bindings_of(base: str, lead: int) -> list[dict[str, Any]]:
    result = call(base, "crm.lead.contact.items.get", {"id": lead})["result"]
    expect(isinstance(result, list), f"items.get {lead}: {result!r}")
    return list(result)


def check_items_get(base: str, n_leads: int) -> None:
    lead = n_leads  # the last lead: also proves that all N were generated
    got = bindings_of(base, lead)
    want = expected_bindings(original_contacts(lead))
    expect(got == want, f"items.get {lead}: expected {want}, got {got!r}")


def _set(base: str, lead: int, contacts: list[int]) -> None:
    items = [
        {"CONTACT_ID": c, "SORT": (k + 1) * 10, "IS_PRIMARY": "Y" if k == 0 else "N"}
        for k, c in enumerate(contacts)
    ]
    answer = call(base, "crm.lead.contact.items.set", {"id": lead, "items": items})
    expect(answer["result"] is True, f"items.set {lead}: {answer!r}")


def check_items_set(base: str, n_leads: int) -> None:
    lead = n_leads
    other = original_contacts(1 if lead != 1 else 2)
    _set(base, lead, other)
    got = bindings_of(base, lead)
    expect(got == expected_bindings(other), f"after items.set {lead}: expected {other}, got {got!r}")
    _set(base, lead, original_contacts(lead))


def check_add_delete(base: str, n_leads: int) -> None:
    lead = n_leads
    contact = original_contacts(1 if lead != 1 else 2)[0]
    fields = {"id": lead, "fields": {"CONTACT_ID": contact}}
    expect(call(base, "crm.lead.contact.add", fields)["result"] is True, f"add {fields}")
    got = [b["CONTACT_ID"] for b in bindings_of(base, lead)]
    expect(got == [*original_contacts(lead), contact], f"after add {fields}: {got}")
    expect(call(base, "crm.lead.contact.delete", fields)["result"] is True, f"delete {fields}")
    check_items_get(base, n_leads)


def check_lead_get(base: str, n_leads: int) -> None:
    lead = call(base, "crm.lead.get", {"id": n_leads})["result"]
    expect(
        isinstance(lead, dict) and lead.get("ID") == str(n_leads) and lead.get("TITLE") == f"Lead #{n_leads}",
        f"crm.lead.get {n_leads}: {lead!r}",
    )


def _ids(answer: dict[str, Any]) -> list[int]:
    rows = answer["result"]
    expect(isinstance(rows, list), f"list: {answer!r}")
    return [int(row["ID"]) for row in rows]


def check_list_deep(base: str, n_leads: int, method: str = "crm.lead.list") -> None:
    start = deep_start(n_leads)
    answer = call(base, method, {"order": {"ID": "ASC"}, "start": start})
    want = list(range(start + 1, min(start + PAGE_SIZE, n_leads) + 1))
    expect(_ids(answer) == want, f"{method} start={start}: ids {_ids(answer)[:3]}...")
    expect(answer.get("total") == n_leads, f"{method} start={start}: total {answer.get('total')}")


def check_list_after(base: str, n_leads: int, method: str = "crm.lead.list") -> None:
    after = max(0, n_leads - PAGE_SIZE - 7)
    body = {"order": {"ID": "ASC"}, "filter": {">ID": after}, "start": -1}
    answer = call(base, method, body)
    want = list(range(after + 1, min(after + PAGE_SIZE, n_leads) + 1))
    expect(_ids(answer) == want, f"{method} {body}: ids {_ids(answer)[:3]}...")
    expect("next" not in answer, f"{method} {body}: start=-1 answered a next page")


def check_batch(base: str, n_leads: int) -> None:
    leads = [n_leads - k % n_leads for k in range(BATCH_SIZE)]
    cmd = {f"c{k}": f"crm.lead.contact.items.get?id={lead}" for k, lead in enumerate(leads)}
    answer = call(base, "batch", {"halt": 0, "cmd": cmd})["result"]
    expect(isinstance(answer, dict) and answer.get("result_error") == [], f"batch: {str(answer)[:300]}")
    results = answer["result"]
    expect(isinstance(results, dict) and len(results) == BATCH_SIZE, f"batch: {str(results)[:300]}")
    for k, lead in enumerate(leads):
        got = results[f"c{k}"]
        want = expected_bindings(original_contacts(lead))
        expect(got == want and len(got) == CONTACTS_PER_LEAD, f"batch c{k} (lead {lead}): {got!r}")


CHECKS: dict[str, Callable[[str, int], None]] = {
    "items.get": check_items_get,
    "items.set": check_items_set,
    "add+delete": check_add_delete,
    "lead.get": check_lead_get,
    "list.deep": check_list_deep,
    "list.after": check_list_after,
    "deal.list.deep": lambda base, n: check_list_deep(base, n, "crm.deal.list"),
    "deal.list.after": lambda base, n: check_list_after(base, n, "crm.deal.list"),
    "batch50": check_batch,
}


def items_get_body(base: str, lead: int) -> bytes:
    """The raw body of an items.get answer: what nginx serves as the static reference."""
    status, raw = post_raw(base + webhook_path("crm.lead.contact.items.get"), {"id": lead})
    expect(status == 200, f"items.get {lead} answered {status}: {raw[:200]!r}")
    return raw


def check_reference(base: str, kind: str, path: str, nginx_body: bytes) -> None:
    status, raw = post_raw(base + path, {"id": 1})
    if kind == "hello":
        expect(status == 200 and raw == b'{"result":"hello"}', f"hello answered {status} {raw!r}")
    elif kind == "read":
        got = json.loads(raw) if status == 200 else None
        want = {"result": expected_bindings(original_contacts(1))}
        expect(got == want, f"the raw read answered {status} {raw[:200]!r}")
    else:
        expect(status == 200 and raw == nginx_body, f"nginx answered {status} {raw[:200]!r}")


def check_items_set_size(base: str, n_leads: int, size: int) -> None:
    """items.set with ``size`` contacts leaves exactly those (the set-size cost curve), then restores."""
    lead = max(1, n_leads - 1)
    contacts = list(range(n_leads * CONTACTS_PER_LEAD, n_leads * CONTACTS_PER_LEAD - size, -1))
    _set(base, lead, contacts)
    got = bindings_of(base, lead)
    expect(got == expected_bindings(contacts), f"after items.set of {size} contacts: {len(got)} bindings")
    _set(base, lead, original_contacts(lead))
